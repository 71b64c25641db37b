// The tamper sentinel: a native loop on its own thread that finds code pages written since they
// were mapped (pagemap: a private file page turns anonymous when written), re-hashes them, compares
// them with the baseline and confirms what differs, exactly as a pass does. It reports only when
// the set of changes or restored pages is different from its last report: waking the JS event loop
// costs far more than a tick (~0.25 ms of CPU per wakeup on a VM, against ~0.03 ms here).
#pragma once
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

#include "hash/hash.h"
#include "scanner_pass.h"
#include "scanner_sweep.h"

namespace pg {

struct Engine;

// Pages of the given regions that pagemap reports present-and-anonymous (a private file page
// that was written), hashed. Requires OpenPagemap() earlier.
struct SentinelHit {
  uint32_t region = 0;
  uint32_t page = 0;
  bool read = false;
  uint8_t digest[hash::kDigestSize] = {0};
};

// What the sentinel remembers between ticks, so a tick can skip the pagemap walk (the kernel spends
// ~40 ns per resident page on it) when no resident code page can have been written: such a write
// moves a page from file-backed to anonymous, and statm's "shared" count drops by one (exact on
// Linux >= 6.16; per-CPU slack before). Writes to non-resident pages, and anything the counter
// missed, are caught by a periodic full walk: every kSentinelFullWalkNs, or less often when walks
// are expensive (at most a quarter of the budget goes to them).
struct SentinelState {
  bool valid = false;
  uint64_t shared = 0;  // statm's file-backed count at the last walk
  uint64_t regionsKey = 0;
  uint64_t lastWalkNs = 0, lastTickNs = 0;
  uint64_t lastWalkCostNs = 0;          // CPU the last walk took
  double tokensNs = 0;                  // CPU the sentinel may still spend (token bucket)
  std::vector<uintptr_t> writtenPages;  // found by the last walk; re-hashed on every tick
  uint64_t walks = 0, skipped = 0;
};
constexpr uint64_t kSentinelFullWalkNs = 2000000000ull;

// One tick. Walks are paid from a token bucket that fills at `budget` (share of one core) and holds
// four walks: a walk the counter asks for runs as soon as one walk's worth is there; the periodic
// full walk only when three are (two stay in reserve).
bool Sentinel(const std::vector<ScanRegion>& regions, hash::Mode mode, std::vector<SentinelHit>* hits, int* err,
              SentinelState* state, double budget);

struct SentinelReport {
  std::vector<Change> changes;   // confirmed, located
  std::vector<PageRef> matched;  // written pages equal to their baseline (restored)
};

// The sentinel's tick runs on the shared ticker thread (ticker.h), with the kernel watch loop's:
// one wakeup stream for both.
class SentinelLoop {
 public:
  using Report = std::function<void(SentinelReport)>;
  SentinelLoop(std::shared_ptr<Engine> engine, hash::Mode mode, uint64_t periodNs, double budget, Report report);
  ~SentinelLoop();
  // The regions the last pass found; the next tick reports even if nothing changed.
  void SetRegions(std::vector<PassRegion> regions);
  void Stop();  // no report is produced after this (waits for a tick in progress); idempotent
  double lastTickMs() const { return lastTickMs_.load(std::memory_order_relaxed); }

 private:
  // What a tick reads: shared, so a tick takes a pointer, not a copy, under the lock.
  struct Targets {
    std::vector<PassRegion> regions;
    std::vector<ScanRegion> ranges;
  };
  void OnTick();
  void Tick(const Targets& targets, bool fresh);
  std::shared_ptr<Engine> engine_;
  const hash::Mode mode_;
  const uint64_t periodNs_;
  const double budget_;
  Report report_;
  std::mutex mu_;  // targets_, fresh_, id_
  std::shared_ptr<const Targets> targets_;
  bool fresh_ = false;
  uint64_t id_ = 0;  // the ticker client; 0 once stopped
  SentinelState state_;
  uint64_t lastSignature_ = 0;
  std::atomic<double> lastTickMs_{0};
};

}  // namespace pg
