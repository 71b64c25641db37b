// The process tree's fast loop (Linux): a client of the shared ticker (ticker.h) that watches every
// tracked child at the main process's speed, with no JS wakeup unless something changed.
// Per child, every tick: one pread of a kept /proc/<pid>/statm (a write into a resident private
// file page turns it anonymous: "shared" drops by one; a write into a non-resident one adds a
// resident page), and one pread of the kept status of a slice of its threads, the leader among
// them (TracerPid of every thread, the leader's isolation lines). A counter change marks the child
// dirty; a dirty child's code regions are walked for written pages (PAGEMAP_SCAN or pagemap,
// TreeCodeScan in tree_linux.cc) from a token bucket, and the pages found are re-compared every
// tick (restores).
// Every fd is opened through the /proc/<pid> directory whose start time matched the caller's:
// it belongs to that process, and fails once it exits, so a reused pid is never read.
// No N-API here (addon_tree_sentinel.cc is the glue).
#pragma once
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "tree.h"

namespace pg {

struct TreeSentinelEvent {
  enum Kind { kCode, kThreads, kExited };
  Kind kind = kCode;
  int pid = 0;
  uint64_t startTicks = 0;
  // kCode: every written page of the child's code regions now (hit.region indexes the regions
  // given to SetRegions).
  TreeJobResult code;
  // kThreads: the leader's isolation lines changed (the caller re-reads its status), and the
  // first thread with a tracer (0 when none).
  bool leaderChanged = false;
  int tracedTid = 0;
  int tracerPid = 0;
};

struct TreeSentinelStats {
  uint64_t ticks = 0, walks = 0, rechecks = 0, threadReads = 0, relists = 0, reports = 0;
  uint64_t processes = 0, threads = 0;
  uint64_t walkCpuNs = 0;
  uint64_t deferred = 0;  // ticks on which a child due for a walk waited for the bucket
  double tokensNs = 0;    // the bucket now (negative: in debt)
};

// Bounds: threads watched per process (the rest wait for the code pass's thread scan), and how
// often a process's task list may be re-read.
constexpr size_t kTreeMaxThreadsPerProcess = 512;
constexpr uint64_t kTreeRelistNs = 250000000ull;
// A child whose counters did not move for this long gets its next walk first (see OnTick).
constexpr uint64_t kTreeQuietNs = 2000000000ull;

class TreeSentinel {
 public:
  using Report = std::function<void(std::vector<TreeSentinelEvent>)>;
  // `threadSlices`: the non-leader threads are read over this many ticks (1: every tick).
  // `budget`: share of one core the page-table walks may use (token bucket).
  TreeSentinel(uint64_t periodNs, uint32_t threadSlices, double budget, Report report);
  ~TreeSentinel();
  // Starts watching the process `pid` whose start time (stat field 22) is `startTicks`. False with
  // *err (ESRCH: exited or another process has the pid now) and *why.
  bool Add(int pid, uint64_t startTicks, int* err, std::string* why);
  // The child's file-backed code mappings (from its maps); the next tick walks them.
  void SetRegions(int pid, uint64_t startTicks, std::vector<TreeRegion> regions);
  void Remove(int pid, uint64_t startTicks);
  void Stop();  // no report after this (waits for a tick in progress); idempotent
  TreeSentinelStats Stats();

  struct Child;

 private:
  using Key = std::pair<int, uint64_t>;
  void OnTick();
  const uint64_t periodNs_;
  const uint32_t slices_;
  const double budget_;
  Report report_;
  std::mutex mu_;  // children_, id_, stats_
  std::map<Key, std::shared_ptr<Child>> children_;
  uint64_t id_ = 0;
  TreeSentinelStats stats_;
  // Ticker thread only:
  uint64_t tick_ = 0;
  uint64_t lastTickNs_ = 0;
  double tokensNs_ = 10e6;
  uint64_t maxWalkNs_ = 0;
};

}  // namespace pg
