// The fast watch loop (Linux): a tick on the shared ticker thread (ticker.h) that folds the security-relevant
// lines of every thread's /proc/self/task/<tid>/status (TracerPid, seccomp, NoNewPrivs,
// capabilities), the dumpable flag, RLIMIT_CORE, the cgroup, and the scheduling state of
// procguard's own threads into one signature, and that waits on an inotify fd for writes to the
// files that back executable mappings. It reports to JS only when the signature changed or a
// watched file had an event: the JS side then takes its typed snapshot and diffs it (one place
// interprets the fields: src/kernel/). No N-API here: addon_watch.cc is the glue.
#pragma once
#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "status_text.h"  // Fnv

namespace pg {

struct WatchReport {
  bool kernelChanged = false;
  // Watch descriptors with events, and the union of their masks.
  std::vector<int> wds;
  std::vector<uint32_t> masks;
  std::string error;  // set when the loop cannot read something it needs (reported once)
};

struct WatchStats {
  uint64_t ticks = 0;
  uint64_t reports = 0;
  double lastTickAgeMs = -1;  // ms since the last tick on CLOCK_MONOTONIC (the heartbeat's clock); -1 before one
  uint64_t cpuNs = 0;         // CPU of the loop thread so far
  int tid = 0;
  int watches = 0;
  bool inotify = false;
  std::string inotifyError;
};

// Its tick and its inotify fd run on the shared ticker thread (ticker.h), with the tamper
// sentinel's tick: one wakeup stream for both.
class WatchLoop {
 public:
  using Report = std::function<void(WatchReport)>;
  WatchLoop(uint64_t periodNs, Report report);
  ~WatchLoop();
  // inotify watch on `path` (IN_MODIFY|IN_CLOSE_WRITE|IN_ATTRIB|IN_DELETE_SELF|IN_MOVE_SELF).
  // Returns the wd and the watched inode's identity (stat after the add), or -1 with errno.
  int AddWatch(const std::string& path, uint64_t* devMajor, uint64_t* devMinor, uint64_t* ino, int* err);
  bool RemoveWatch(int wd);
  WatchStats Stats();
  void Stop();  // no report is produced after this (waits for a callback in progress); idempotent

 private:
  void OnTick();
  void OnInotify();
  uint64_t KernelSignature(bool slow);
  const uint64_t periodNs_;
  const uint64_t slowEvery_;  // ticks between two reads of the slow fields (about one second)
  const int self_;            // getpid(), once: glibc no longer caches it, and every syscall counts here
  Report report_;
  // Set once, from -1, by the constructor or (after a failed init, e.g. EMFILE at start) by a later
  // AddWatch on the JS thread; the ticker polls it from its next wakeup.
  std::atomic<int> inotifyFd_{-1};
  std::string inotifyError_;
  std::mutex mu_;  // guards watches_, stats_, id_
  std::map<int, std::string> watches_;
  WatchStats stats_;
  uint64_t lastTickNs_ = 0;  // CLOCK_MONOTONIC of the last tick (under mu_)
  uint64_t id_ = 0;          // the ticker client; 0 once stopped
  // Ticker-thread state (the constructor sets it before the first tick can run).
  uint64_t tick_ = 0;
  uint64_t last_ = 0;
  // Per-thread status fds kept open between ticks: one pread is ~4x cheaper than open/read/close.
  std::map<int, int> taskFds_;
  int cgroupFd_ = -1;
  void* taskDir_ = nullptr;  // DIR* on /proc/self/task, rewound when the thread set changed
  bool rescan_ = true;
  Fnv ownAcc_;
  uint64_t slowSig_ = 0;
  std::vector<uint64_t> distinct_;  // per-thread signatures of the tick (kept: no allocation per tick)
};

}  // namespace pg
