// Pacing of background work: a cancellable sleep, and the rule that keeps a paced job's CPU within
// a share of one core.
#pragma once
#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <mutex>

namespace pg {

// A cancellation flag a paced job can sleep on: Cancel() wakes the sleeper at once.
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

// Sleeps as needed so that the CPU this thread used since `cpu0` stays within `fraction` of the
// wall time since `wall0` (0 or >= 1: never sleeps).
void Pace(double fraction, uint64_t wall0, uint64_t cpu0, CancelToken& cancel);

// Asks the CPU to pull [addr, addr + len) into cache ahead of use. Prefetch instructions never
// fault (a line of an unmapped or non-present page is just dropped), so this is safe on memory
// that may be unmapped at any moment and never faults a page in. It overlaps the DRAM fetch of
// the next batch with the hashing of this one: process_vm_readv then copies from cache.
inline void PrefetchRange(uintptr_t addr, size_t len) {
  for (size_t off = 0; off < len; off += 64) __builtin_prefetch(reinterpret_cast<const void*>(addr + off), 0, 2);
}

}  // namespace pg
