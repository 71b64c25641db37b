// The first-read route chooser (see first_read.h). Process-wide: the cost it measures belongs to the
// machine, and every engine (scanner) in the process shares the answer.
#include "first_read.h"

#include <mutex>

namespace pg {
namespace firstread {
namespace {

// Probe samples add up until kMinProbePages pages went by the route (small files contribute too).
struct Sample {
  uint64_t cpuNs = 0, byRoute = 0, total = 0;
};

struct State {
  std::mutex mu;
  double viewNs = -1, copyNs = -1;
  Sample view, copy;
};

State& S() {
  static State* s = new State;  // never destroyed: passes may run during exit
  return *s;
}

}  // namespace

Route Next(Force force, bool* probing) {
  *probing = false;
  if (force == Force::kView) return Route::kView;
  if (force == Force::kCopy) return Route::kCopy;
  State& s = S();
  std::lock_guard<std::mutex> lock(s.mu);
  if (s.viewNs < 0) {
    *probing = true;
    return Route::kView;
  }
  if (s.copyNs < 0) {
    *probing = true;
    return Route::kCopy;
  }
  return s.viewNs < s.copyNs ? Route::kView : Route::kCopy;
}

void Record(Route r, uint64_t cpuNs, uint64_t byRoute, uint64_t total) {
  if (byRoute == 0 || byRoute * 4 < total * 3) return;
  State& s = S();
  std::lock_guard<std::mutex> lock(s.mu);
  double& slot = r == Route::kView ? s.viewNs : s.copyNs;
  if (slot >= 0) return;
  Sample& sum = r == Route::kView ? s.view : s.copy;
  sum.cpuNs += cpuNs;
  sum.byRoute += byRoute;
  sum.total += total;
  if (sum.byRoute >= kMinProbePages) slot = static_cast<double>(sum.cpuNs) / static_cast<double>(sum.total);
}

Choice Current() {
  State& s = S();
  std::lock_guard<std::mutex> lock(s.mu);
  Choice c;
  c.viewNsPerPage = s.viewNs;
  c.copyNsPerPage = s.copyNs;
  c.route = (s.viewNs < 0 || s.copyNs < 0) ? "probing" : (s.viewNs < s.copyNs ? "view" : "copy");
  return c;
}

}  // namespace firstread
}  // namespace pg
