#include "scanner_pacing.h"

#include <algorithm>
#include <chrono>

#include "scanner_clock.h"

namespace pg {

void CancelToken::Cancel() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    flag_.store(true);
  }
  cv_.notify_all();
}

bool CancelToken::SleepFor(uint64_t ns) {
  std::unique_lock<std::mutex> lock(mu_);
  return !cv_.wait_for(lock, std::chrono::nanoseconds(ns), [this] { return flag_.load(); });
}

// Work goes in bursts and the thread sleeps only once it is well ahead of its share: each wakeup
// costs a cold cache and a scheduler round trip (sleeping after every 64 KiB batch tripled the CPU
// of a sweep at 10 % and multiplied it by ten at 0.2 %).
void Pace(double fraction, uint64_t wall0, uint64_t cpu0, CancelToken& cancel) {
  if (fraction <= 0 || fraction >= 1) return;
  const uint64_t busy = ThreadCpuNs() - cpu0;
  const uint64_t wanted = static_cast<uint64_t>(static_cast<double>(busy) / fraction);
  const uint64_t elapsed = MonotonicNs() - wall0;
  // Bursts of at least ~2 ms of CPU: at 0.2 % that is one wakeup a second.
  const uint64_t ahead = std::max<uint64_t>(100000000ull, static_cast<uint64_t>(2e6 / fraction));
  if (wanted < elapsed + ahead) return;
  cancel.SleepFor(std::min<uint64_t>(wanted - elapsed, 10000000000ull));
}

}  // namespace pg
