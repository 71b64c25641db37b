// FreeBSD hardening: procctl(PROC_TRACE_CTL, PROC_TRACE_CTL_DISABLE_EXEC) and RLIMIT_CORE 0/0.
//
// Written to the procctl(2) and setrlimit(2) man pages; not compiled or run here (no FreeBSD
// sysroot on the build machine). Plain POSIX + procctl only.
//
// PROC_TRACE_CTL_DISABLE_EXEC disables tracing of this process (ptrace(2) attach, ktrace(2),
// debugging sysctls) and, unlike PROC_TRACE_CTL_DISABLE, keeps it disabled across execve(2).
// It fails with EBUSY while a tracer is attached. Read back with PROC_TRACE_STATUS: -1 means
// tracing is disabled, 0 enabled and untraced, a positive value is the tracer's pid.
#include <sys/types.h>
#include <sys/procctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "harden.h"
#include "harden_rlimit.h"

namespace pg {
namespace {

// PROC_TRACE_STATUS into *status; false with errno in *err on failure.
bool TraceStatus(int* status, int* err) {
  int s = 0;
  if (procctl(P_PID, getpid(), PROC_TRACE_STATUS, &s) != 0) {
    *err = errno;
    return false;
  }
  *status = s;
  return true;
}

StepResult TraceCtl(const HardenOptions& o) {
  StepResult r;
  r.id = "trace-ctl";
  if (rlimit_step::InSkip(o, "trace-ctl")) {
    r.status = StepStatus::Skipped;
    r.detail = "skipped by options";
    return r;
  }
  int status = 0, err = 0;
  if (!TraceStatus(&status, &err)) {
    r.status = StepStatus::Failed;
    r.err = err;
    r.detail = std::string("procctl(PROC_TRACE_STATUS) failed: ") + std::strerror(err);
    return r;
  }
  if (status == -1) {
    r.status = StepStatus::Already;
    r.verified = 1;
    r.detail = "PROC_TRACE_STATUS is already -1 (tracing disabled)";
    return r;
  }
  if (o.dryRun) {
    r.status = StepStatus::Skipped;
    r.detail = "dry run: would call procctl(PROC_TRACE_CTL, PROC_TRACE_CTL_DISABLE_EXEC) (PROC_TRACE_STATUS is now " +
               std::to_string(status) + ")";
    return r;
  }
  int arg = PROC_TRACE_CTL_DISABLE_EXEC;
  if (procctl(P_PID, getpid(), PROC_TRACE_CTL, &arg) != 0) {
    r.status = StepStatus::Failed;
    r.err = errno;
    r.detail = std::string("procctl(PROC_TRACE_CTL, PROC_TRACE_CTL_DISABLE_EXEC) failed: ") + std::strerror(r.err) +
               (r.err == EBUSY ? " (a tracer is attached)" : "");
    return r;
  }
  r.status = StepStatus::Applied;
  int after = 0;
  if (!TraceStatus(&after, &err)) {
    r.verified = -1;
    r.detail = std::string("tracing disabled; read back failed: ") + std::strerror(err);
    return r;
  }
  r.verified = after == -1 ? 1 : 0;
  r.detail = "PROC_TRACE_CTL_DISABLE_EXEC (was " + std::to_string(status) + "); PROC_TRACE_STATUS read back " +
             std::to_string(after);
  return r;
}

}  // namespace

std::vector<StepResult> Harden(const HardenOptions& opts) {
  std::vector<StepResult> out;
  out.push_back(rlimit_step::Unsupported("dumpable", "FreeBSD has no dumpable flag; trace-ctl blocks tracing"));
  out.push_back(rlimit_step::CoreLimit(opts));
  out.push_back(rlimit_step::Unsupported("deny-attach", "PT_DENY_ATTACH is macOS only; trace-ctl blocks ptrace"));
  out.push_back(TraceCtl(opts));
  out.push_back(rlimit_step::Unsupported("process-dacl", "process DACLs are Windows only"));
  out.push_back(rlimit_step::Unsupported("thread-dacl", "thread DACLs are Windows only"));
  return out;
}

TracerState QueryTracer() {
  TracerState t;
  int status = 0, err = 0;
  if (!TraceStatus(&status, &err)) {
    t.state = "unsupported";
    t.detail = std::string("procctl(PROC_TRACE_STATUS) failed: ") + std::strerror(err);
  } else if (status > 0) {
    t.state = "attached";
    t.tracerPid = status;
    t.detail = "PROC_TRACE_STATUS reports tracer pid " + std::to_string(status);
  } else {
    t.state = "none";
    t.detail = status == -1 ? "tracing is disabled (PROC_TRACE_STATUS -1)" : "PROC_TRACE_STATUS 0 (not traced)";
  }
  return t;
}

ProcessState QueryProcessState() { return rlimit_step::CoreOnlyProcessState(); }

}  // namespace pg
