// Clocks of the engine: monotonic wall time, this thread's CPU time, and the health clock (progress
// and sentinel tick times, handed to JS as ages, never as dates).
#pragma once
#include <cstdint>

namespace pg {
uint64_t MonotonicNs();
uint64_t ThreadCpuNs();
// Milliseconds on the health clock: CLOCK_MONOTONIC on Linux and the other POSIX systems (a
// wall-clock step, NTP slew or `date -s` does not move it; it stops while the machine is suspended, so
// "no progress for N s" counts only time the machine ran, and a resume is not a stall). Elsewhere
// std::chrono::steady_clock. Only differences (ages) of it mean anything.
double HealthClockMs();
}  // namespace pg
