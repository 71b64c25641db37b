// RLIMIT_CORE 0/0 with read-back, shared by the POSIX harden_<os>.cc files (header-only so
// binding.gyp needs no extra source). Lowering the hard limit cannot be undone without privilege.
#pragma once
#include <sys/resource.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "harden.h"

namespace pg {
namespace rlimit_step {

inline std::string LimitText(rlim_t v) {
  if (v == RLIM_INFINITY) return "unlimited";
  return std::to_string(static_cast<unsigned long long>(v));
}

inline bool InSkip(const HardenOptions& o, const char* id) {
  for (const auto& s : o.skip)
    if (s == id) return true;
  return false;
}

inline StepResult CoreLimit(const HardenOptions& o) {
  StepResult r;
  r.id = "core-limit";
  if (InSkip(o, "core-limit")) {
    r.status = StepStatus::Skipped;
    r.detail = "skipped by options";
    return r;
  }
  struct rlimit cur {};
  if (getrlimit(RLIMIT_CORE, &cur) != 0) {
    r.status = StepStatus::Failed;
    r.err = errno;
    r.detail = std::string("getrlimit(RLIMIT_CORE) failed: ") + strerror(r.err);
    return r;
  }
  const std::string was = LimitText(cur.rlim_cur) + "/" + LimitText(cur.rlim_max);
  if (cur.rlim_cur == 0 && cur.rlim_max == 0) {
    r.status = StepStatus::Already;
    r.verified = 1;
    r.detail = "RLIMIT_CORE is already 0/0";
    return r;
  }
  if (o.dryRun) {
    r.status = StepStatus::Skipped;
    r.detail = "dry run: would set RLIMIT_CORE to 0/0 (now " + was + ")";
    return r;
  }
  struct rlimit zero {};
  zero.rlim_cur = 0;
  zero.rlim_max = 0;
  if (setrlimit(RLIMIT_CORE, &zero) != 0) {
    r.status = StepStatus::Failed;
    r.err = errno;
    r.detail = std::string("setrlimit(RLIMIT_CORE, 0/0) failed: ") + strerror(r.err);
    return r;
  }
  r.status = StepStatus::Applied;
  struct rlimit back {};
  if (getrlimit(RLIMIT_CORE, &back) != 0) {
    r.verified = -1;
    r.detail = "RLIMIT_CORE set to 0/0 (was " + was + "); read back failed: " + strerror(errno);
    return r;
  }
  r.verified = (back.rlim_cur == 0 && back.rlim_max == 0) ? 1 : 0;
  r.detail = "RLIMIT_CORE set to 0/0 (was " + was + "); read back " + LimitText(back.rlim_cur) + "/" +
             LimitText(back.rlim_max);
  return r;
}

// Fills the core-limit part of ProcessState (-1 = RLIM_INFINITY).
inline void QueryCore(ProcessState* s) {
  struct rlimit cur {};
  if (getrlimit(RLIMIT_CORE, &cur) == 0) {
    s->coreKnown = true;
    s->coreSoft = cur.rlim_cur == RLIM_INFINITY ? -1 : static_cast<int64_t>(cur.rlim_cur);
    s->coreHard = cur.rlim_max == RLIM_INFINITY ? -1 : static_cast<int64_t>(cur.rlim_max);
  }
}

inline StepResult Unsupported(const char* id, const char* why) {
  StepResult r;
  r.id = id;
  r.status = StepStatus::Unsupported;
  r.detail = why;
  return r;
}

// Process state where the OS has no "dumpable" flag to read (macOS, FreeBSD): the core limit only.
inline ProcessState CoreOnlyProcessState() {
  ProcessState s;
  s.dumpable = -1;
  QueryCore(&s);
  return s;
}

}  // namespace rlimit_step
}  // namespace pg
