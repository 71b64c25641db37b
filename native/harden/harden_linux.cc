// Linux hardening: PR_SET_DUMPABLE 0 and RLIMIT_CORE 0/0, each read back.
//
// Why these two: with dumpable 0 the kernel's ptrace_may_access() refuses same-uid callers
// that lack CAP_SYS_PTRACE, which covers PTRACE_ATTACH, process_vm_readv/writev and
// /proc/<pid>/mem (and the /proc/<pid> files become owned by root). RLIMIT_CORE 0/0 stops
// kernel core files; lowering the hard limit cannot be undone by an unprivileged process.
#include "harden.h"
#include "harden_rlimit.h"

#include <dirent.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace pg {
namespace {

std::string ErrText(int e) { return std::string(strerror(e)); }

StepResult Dumpable(const HardenOptions& o) {
  StepResult r;
  r.id = "dumpable";
  if (rlimit_step::InSkip(o, "dumpable")) {
    r.status = StepStatus::Skipped;
    r.detail = "skipped by options";
    return r;
  }
  int before = prctl(PR_GET_DUMPABLE, 0, 0, 0, 0);
  if (before < 0) {
    r.status = StepStatus::Failed;
    r.err = errno;
    r.detail = "prctl(PR_GET_DUMPABLE) failed: " + ErrText(r.err);
    return r;
  }
  if (before == 0) {
    r.status = StepStatus::Already;
    r.verified = 1;
    r.detail = "PR_GET_DUMPABLE is already 0";
    return r;
  }
  if (o.dryRun) {
    r.status = StepStatus::Skipped;
    r.detail = "dry run: would call prctl(PR_SET_DUMPABLE, 0) (PR_GET_DUMPABLE is now " + std::to_string(before) + ")";
    return r;
  }
  if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0) {
    r.status = StepStatus::Failed;
    r.err = errno;
    r.detail = "prctl(PR_SET_DUMPABLE, 0) failed: " + ErrText(r.err);
    return r;
  }
  int after = prctl(PR_GET_DUMPABLE, 0, 0, 0, 0);
  r.status = StepStatus::Applied;
  r.verified = after == 0 ? 1 : 0;
  r.detail = "PR_SET_DUMPABLE 0 (was " + std::to_string(before) + "); read back " + std::to_string(after);
  return r;
}

}  // namespace

std::vector<StepResult> Harden(const HardenOptions& opts) {
  std::vector<StepResult> out;
  out.push_back(Dumpable(opts));
  out.push_back(rlimit_step::CoreLimit(opts));
  out.push_back(rlimit_step::Unsupported("deny-attach",
                                         "PT_DENY_ATTACH is macOS only; on Linux the dumpable step blocks ptrace"));
  out.push_back(rlimit_step::Unsupported(
      "trace-ctl", "procctl(PROC_TRACE_CTL) is FreeBSD only; on Linux the dumpable step blocks ptrace"));
  out.push_back(rlimit_step::Unsupported("process-dacl", "process DACLs are Windows only"));
  out.push_back(rlimit_step::Unsupported("thread-dacl", "thread DACLs are Windows only"));
  return out;
}

namespace {

// TracerPid of one status file: >= 0, or -1 when the file or the line cannot be read.
long TracerPidOf(const char* path) {
  FILE* f = fopen(path, "re");
  if (!f) return -1;
  char line[256];
  long pid = -1;
  while (fgets(line, sizeof line, f)) {
    if (strncmp(line, "TracerPid:", 10) == 0) {
      pid = strtol(line + 10, nullptr, 10);
      break;
    }
  }
  fclose(f);
  return pid;
}

}  // namespace

// Every thread's TracerPid: a tracer may PTRACE_SEIZE one thread only, and the leader's (the
// process's /proc/self/status) then stays 0.
TracerState QueryTracer() {
  TracerState t;
  const long leader = TracerPidOf("/proc/self/status");
  if (leader < 0) {
    t.state = "unsupported";
    t.detail = "cannot read TracerPid from /proc/self/status: " + ErrText(errno);
    return t;
  }
  long pid = leader, tid = leader > 0 ? static_cast<long>(getpid()) : 0;
  if (pid == 0) {
    if (DIR* d = opendir("/proc/self/task")) {
      while (struct dirent* e = readdir(d)) {
        if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
        std::string p = std::string("/proc/self/task/") + e->d_name + "/status";
        long tp = TracerPidOf(p.c_str());  // -1: the thread exited meanwhile
        if (tp > 0) {
          pid = tp;
          tid = strtol(e->d_name, nullptr, 10);
          break;
        }
      }
      closedir(d);
    }
  }
  if (pid > 0) {
    t.tracerPid = pid;
    t.state = "attached";
    t.detail = "TracerPid " + std::to_string(pid) + " on thread " + std::to_string(tid) + " (/proc/self/task/*/status)";
  } else {
    t.state = "none";
    t.detail = "TracerPid 0 on every thread (/proc/self/task/*/status)";
  }
  return t;
}

ProcessState QueryProcessState() {
  ProcessState s;
  s.dumpable = prctl(PR_GET_DUMPABLE, 0, 0, 0, 0);
  rlimit_step::QueryCore(&s);
  return s;
}

}  // namespace pg
