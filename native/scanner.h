// The sweep engine: reads executable pages safely and hashes them, per 4 KiB page, on a
// dedicated background thread (never the JS event loop, never the shared libuv pool, since a
// paced sweep may sleep). Plain C++: the N-API glue is in addon_scanner.cc.
#pragma once
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "hash/hash.h"

namespace pg {

struct ScanRegion {
  uintptr_t start = 0;
  uintptr_t end = 0;
};

struct SweepOptions {
  hash::Mode mode = hash::Mode::Blake3;
  bool residentOnly = false;   // skip pages mincore() says are not resident (no fault-in, no RSS growth)
  double cpuFraction = 0;      // 0 = as fast as possible; else sleep so busy/wall <= this share of a core
  size_t batchPages = 16;      // pages read and hashed per step (64 KiB: stays in L2)
};

enum class RegionState { Ok = 0, Partial = 1, Gone = 2 };

struct RegionDigests {
  RegionState state = RegionState::Ok;
  std::vector<uint8_t> digests;       // kDigestSize per page; zero for pages in `unread`
  std::vector<uint32_t> unread;       // pages not read: unmapped mid-sweep, or skipped as non-resident
  uint32_t residentPages = 0;
  uint64_t hashNs = 0;
};

struct SweepResult {
  std::vector<RegionDigests> regions;
  uint64_t bytesHashed = 0;
  uint64_t elapsedNs = 0;
  uint64_t cpuNs = 0;
};

// A cancellation flag a paced sweep can sleep on: Cancel() wakes the sleeper at once.
class CancelToken {
 public:
  bool cancelled() const { return flag_.load(std::memory_order_relaxed); }
  void Cancel();
  // Sleeps up to `ns`; returns false if cancelled.
  bool SleepFor(uint64_t ns);

 private:
  std::atomic<bool> flag_{false};
  std::mutex mu_;
  std::condition_variable cv_;
};

// Sweeps regions in order. `cancel` is checked between batches and ends a pacing sleep.
SweepResult Sweep(const std::vector<ScanRegion>& regions, const SweepOptions& opts, CancelToken& cancel);

// Pages of the given regions that pagemap reports present-and-anonymous (a private file page
// that was written), hashed. Requires OpenPagemap() earlier.
struct SentinelHit {
  uint32_t region = 0;
  uint32_t page = 0;
  bool read = false;
  uint8_t digest[hash::kDigestSize] = {0};
};
// What one scanner's sentinel remembers between ticks, so a tick can skip the pagemap walk (the
// kernel spends ~40 ns per resident page on it) when no resident code page can have been written:
// such a write moves a page from file-backed to anonymous, and statm's "shared" count drops by one
// (exact on Linux >= 6.16; per-CPU slack before). Writes to non-resident pages, and anything the
// counter missed, are caught by a periodic full walk: every kSentinelFullWalkNs, or less often when
// walks are expensive (at most a quarter of the budget goes to them).
struct SentinelState {
  bool valid = false;
  uint64_t shared = 0;                // statm's file-backed count at the last walk
  uint64_t regionsKey = 0;
  uint64_t lastWalkNs = 0, lastTickNs = 0;
  uint64_t lastWalkCostNs = 0;        // CPU the last walk took
  double tokensNs = 0;                // CPU the sentinel may still spend (token bucket)
  std::vector<uintptr_t> writtenPages;  // found by the last walk; re-hashed on every tick
  uint64_t walks = 0, skipped = 0;
};
constexpr uint64_t kSentinelFullWalkNs = 2000000000ull;

// `state` null: always walk. With a state, walks are paid from a token bucket that fills at
// `budget` (share of one core) and holds four walks: a walk the counter asks for runs as soon as
// one walk's worth is there; the periodic full walk only when three are (two stay in reserve).
bool Sentinel(const std::vector<ScanRegion>& regions, hash::Mode mode, std::vector<SentinelHit>* hits, int* err,
              SentinelState* state = nullptr, double budget = 0.001);

// Per-page digests of a file range (the on-disk comparison). `length` is rounded up to whole
// pages; bytes past EOF hash as zeros, as the kernel maps them. Returns false with errno.
// Reads through an fd the caller opened (and checked against the mapping's device and inode), so
// it works for deleted files and after hardening, when /proc/self/fd is no longer traversable.
bool HashFileRange(int fd, uint64_t offset, uint64_t length, hash::Mode mode, std::vector<uint8_t>* digests, int* err);

// Digest slots that are all zero mean "unknown" (never hashed). BLAKE3 never yields 128 zero bits
// in practice; CRC32C uses 4 bytes of the slot, so its slots get a marker byte to be non-zero.
void MarkKnown(hash::Mode mode, uint8_t* digests, size_t pages);

// Compares per-page digests: `mismatch` gets pages known in both and different; `unknown` gets
// pages known in `actual` only; `missing` gets every page not known in `expected` (whatever
// `actual` holds). Pages listed in `skip` (unread) are ignored for the first two.
void CompareDigests(const uint8_t* expected, const uint8_t* actual, size_t pages, const std::vector<uint32_t>& skip,
                    std::vector<uint32_t>* mismatch, std::vector<uint32_t>* unknown, std::vector<uint32_t>* missing);

// The sentinel as a native loop on its own thread: a tick every period, and a report only when the
// set of written pages or their digests changed. Waking the JS event loop costs far more than a
// tick (about 0.25 ms of CPU per wakeup on a VM, against ~0.03 ms here), so JS hears nothing while
// nothing happens.
class SentinelLoop {
 public:
  using Report = std::function<void(uint64_t generation, std::vector<SentinelHit> hits)>;
  SentinelLoop(hash::Mode mode, uint64_t periodNs, double budget, Report report);
  ~SentinelLoop();
  // New regions (after a pass found a change); the next tick reports even if nothing changed.
  void SetRegions(std::vector<ScanRegion> regions, uint64_t generation);
  void Stop();

 private:
  void Run();
  const hash::Mode mode_;
  const uint64_t periodNs_;
  const double budget_;
  Report report_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<ScanRegion> regions_;
  uint64_t generation_ = 0;
  bool fresh_ = false;
  bool stop_ = false;
  SentinelState state_;
  uint64_t lastSignature_ = 0;
  std::thread thread_;
};

uint64_t MonotonicNs();
uint64_t ThreadCpuNs();

// A single background thread running queued jobs in order.
class Worker {
 public:
  Worker();
  ~Worker();
  void Post(std::function<void()> job);
  void Stop();                              // cancels the running sweep, drops queued jobs, joins
  CancelToken& cancelToken() { return cancel_; }

 private:
  void Run();
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> jobs_;
  CancelToken cancel_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace pg
