// Process hardening: one implementation per OS (harden_linux.cc, harden_darwin.cc,
// harden_freebsd.cc, harden_win.cc), selected in binding.gyp. No N-API here.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace pg {

enum class StepStatus { Applied, Already, Failed, Unsupported, Skipped };

struct StepResult {
  std::string id;  // "dumpable" | "core-limit" | "deny-attach" | "trace-ctl" | "process-dacl" | "thread-dacl"
  StepStatus status = StepStatus::Unsupported;
  std::string detail;
  int err = 0;        // errno / GetLastError(), 0 when none
  int verified = -1;  // 1 read back and matched, 0 read back and did not match, -1 no read-back
};

struct AceSpec {
  bool allow = true;
  std::string sid;  // string SID, e.g. "S-1-3-4"; "USER" means the current user
  uint32_t mask = 0;
};

struct HardenOptions {
  bool dryRun = false;
  std::vector<std::string> skip;  // step ids not to run (reported as Skipped)
  std::vector<AceSpec> dacl;      // Windows: custom DACL; empty = the default restricted DACL
};

struct TracerState {
  std::string state;  // "none" | "attached" | "unsupported"
  long tracerPid = 0;
  std::string detail;
};

struct ProcessState {
  int dumpable = -1;  // PR_GET_DUMPABLE, -1 unsupported
  bool coreKnown = false;
  int64_t coreSoft = 0;  // -1 = RLIM_INFINITY
  int64_t coreHard = 0;
};

// Runs every step for this OS, in order, and reads each back. Idempotent.
std::vector<StepResult> Harden(const HardenOptions& opts);
TracerState QueryTracer();
ProcessState QueryProcessState();

}  // namespace pg
