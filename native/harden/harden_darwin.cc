// macOS hardening: ptrace(PT_DENY_ATTACH) and RLIMIT_CORE 0/0.
//
// Written to the ptrace(2), setrlimit(2) and sysctl(3) man pages; not compiled or run here
// (no macOS SDK on the build machine). Plain POSIX + BSD calls only.
//
// PT_DENY_ATTACH: later PT_ATTACH requests fail, and a process that is already being traced
// is terminated by the call (ptrace(2): "exit with the exit status of ENOTSUP"), so we never
// issue it while P_TRACED is set. There is no public read-back: the kernel keeps the flag in
// p_lflag (P_LNOATTACH), which sysctl's kinfo_proc does not expose. Because it cannot be undone,
// a second call in the same process reports `already` from our own record.
#include <sys/types.h>
#include <sys/ptrace.h>
#include <sys/sysctl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>

#include "harden.h"
#include "harden_rlimit.h"

namespace pg {
namespace {

std::atomic<bool> g_denyAttachApplied{false};

// P_TRACED from kinfo_proc: 1 traced, 0 not, -1 unknown (errno in *err).
int Traced(int* err) {
  struct kinfo_proc info;
  std::memset(&info, 0, sizeof info);
  size_t size = sizeof info;
  int mib[4] = {CTL_KERN, KERN_PROC, KERN_PROC_PID, static_cast<int>(getpid())};
  if (sysctl(mib, 4, &info, &size, nullptr, 0) != 0 || size == 0) {
    *err = errno;
    return -1;
  }
  return (info.kp_proc.p_flag & P_TRACED) != 0 ? 1 : 0;
}

StepResult DenyAttach(const HardenOptions& o) {
  StepResult r;
  r.id = "deny-attach";
  if (rlimit_step::InSkip(o, "deny-attach")) {
    r.status = StepStatus::Skipped;
    r.detail = "skipped by options";
    return r;
  }
  if (g_denyAttachApplied.load()) {
    r.status = StepStatus::Already;
    r.detail = "PT_DENY_ATTACH was applied earlier in this process (it cannot be undone; no kernel read-back exists)";
    return r;
  }
  int err = 0;
  int traced = Traced(&err);
  if (traced == 1) {
    r.status = StepStatus::Failed;
    r.detail = "a tracer is attached: PT_DENY_ATTACH would terminate this process (ptrace(2)), not applied";
    return r;
  }
  if (o.dryRun) {
    r.status = StepStatus::Skipped;
    r.detail = "dry run: would call ptrace(PT_DENY_ATTACH, 0, 0, 0)";
    return r;
  }
  if (traced < 0) {
    // Without knowing, the call could kill a traced process: refuse.
    r.status = StepStatus::Failed;
    r.err = err;
    r.detail = std::string("sysctl(KERN_PROC_PID) failed, cannot rule out a tracer: ") + std::strerror(err);
    return r;
  }
  if (ptrace(PT_DENY_ATTACH, 0, nullptr, 0) != 0) {
    r.status = StepStatus::Failed;
    r.err = errno;
    r.detail = std::string("ptrace(PT_DENY_ATTACH) failed: ") + std::strerror(r.err);
    return r;
  }
  g_denyAttachApplied.store(true);
  r.status = StepStatus::Applied;
  r.detail = "ptrace(PT_DENY_ATTACH) succeeded (no kernel read-back exists for this flag)";
  return r;
}

}  // namespace

std::vector<StepResult> Harden(const HardenOptions& opts) {
  std::vector<StepResult> out;
  out.push_back(rlimit_step::Unsupported("dumpable", "macOS has no dumpable flag; deny-attach blocks ptrace"));
  out.push_back(rlimit_step::CoreLimit(opts));
  out.push_back(DenyAttach(opts));
  out.push_back(rlimit_step::Unsupported("trace-ctl", "procctl(PROC_TRACE_CTL) is FreeBSD only"));
  out.push_back(rlimit_step::Unsupported("process-dacl", "process DACLs are Windows only"));
  out.push_back(rlimit_step::Unsupported("thread-dacl", "thread DACLs are Windows only"));
  return out;
}

TracerState QueryTracer() {
  TracerState t;
  int err = 0;
  int traced = Traced(&err);
  if (traced < 0) {
    t.state = "unsupported";
    t.detail = std::string("sysctl(KERN_PROC_PID) failed: ") + std::strerror(err);
  } else if (traced == 1) {
    t.state = "attached";
    t.detail = "P_TRACED is set (sysctl KERN_PROC_PID)";
  } else {
    t.state = "none";
    t.detail = "P_TRACED is clear (sysctl KERN_PROC_PID)";
  }
  return t;
}

ProcessState QueryProcessState() { return rlimit_step::CoreOnlyProcessState(); }

}  // namespace pg
