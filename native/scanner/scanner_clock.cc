#include "scanner_clock.h"

#include <time.h>

#include <chrono>

#include "platform/win32.h"

namespace pg {

uint64_t MonotonicNs() {
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
          .count());
}

uint64_t ThreadCpuNs() {
#if defined(_WIN32)
  // User + kernel time of this thread, in 100 ns units. (Updated at the scheduler tick, so it is
  // coarse, ~15.6 ms; the pacing only needs an average over many batches.)
  FILETIME created, exited, kernel, user;
  if (GetThreadTimes(GetCurrentThread(), &created, &exited, &kernel, &user)) {
    auto ticks = [](const FILETIME& f) { return (static_cast<uint64_t>(f.dwHighDateTime) << 32) | f.dwLowDateTime; };
    return (ticks(kernel) + ticks(user)) * 100ull;
  }
#elif defined(CLOCK_THREAD_CPUTIME_ID)
  struct timespec ts;
  if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) == 0)
    return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<uint64_t>(ts.tv_nsec);
#endif
  return MonotonicNs();
}

double HealthClockMs() {
#if defined(CLOCK_MONOTONIC) && !defined(_WIN32)
  // Chosen over CLOCK_BOOTTIME on purpose: BOOTTIME keeps counting in suspend, which would make every
  // resume look like a checker that made no progress for the whole sleep.
  struct timespec ts;
  if (clock_gettime(CLOCK_MONOTONIC, &ts) == 0)
    return static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) / 1e6;
#endif
  return static_cast<double>(MonotonicNs()) / 1e6;
}

}  // namespace pg
