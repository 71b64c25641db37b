// Clocks of the engine: monotonic wall time, this thread's CPU time, and wall-clock milliseconds
// (what JS's Date.now() reads, for progress and sentinel timestamps).
#pragma once
#include <cstdint>

namespace pg {
uint64_t MonotonicNs();
uint64_t ThreadCpuNs();
double WallClockMs();
}  // namespace pg
