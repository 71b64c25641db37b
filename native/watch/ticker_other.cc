// The shared ticker's wait where there is no fd to poll (Windows, macOS, FreeBSD): a condition
// variable. Clients there have no fd (the watch loop is Linux-only).
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

#include "ticker.h"

namespace pg {
namespace ticker {

namespace {
struct Impl {
  std::mutex mu;
  std::condition_variable cv;
  bool woken = false;
};
}  // namespace

Waiter::Waiter() { impl = new Impl; }

Waiter::~Waiter() { delete static_cast<Impl*>(impl); }

void Waiter::Wait(uint64_t timeoutNs, const std::vector<int>&, std::vector<char>*) {
  auto* w = static_cast<Impl*>(impl);
  std::unique_lock<std::mutex> lock(w->mu);
  if (timeoutNs == UINT64_MAX) w->cv.wait(lock, [w] { return w->woken; });
  else w->cv.wait_for(lock, std::chrono::nanoseconds(timeoutNs), [w] { return w->woken; });
  w->woken = false;
}

void Waiter::Wake() {
  auto* w = static_cast<Impl*>(impl);
  {
    std::lock_guard<std::mutex> lock(w->mu);
    w->woken = true;
  }
  w->cv.notify_all();
}

void NameThisThread() {}

int ThisTid() { return 0; }

uint64_t CpuNsOf(std::thread&) { return 0; }

}  // namespace ticker
}  // namespace pg
