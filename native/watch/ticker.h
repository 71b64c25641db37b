// The shared native ticker: one process-wide thread ("procguard-watch") that runs the tick of every
// fast loop (the kernel watch loop, the tamper sentinel) on that loop's own period, and waits on
// their file descriptors (Linux: the watch loop's inotify fd). Why one thread: on a VM a timed
// wakeup costs ~50-100 us of CPU whatever the thread then does, so two loops on two threads paid
// two wakeup streams; clients with the same period now share every wakeup, and a client due within
// a quarter of its period of another one's wakeup runs in it (its phase is kept).
// No N-API here; the clients' owners (addon_watch.cc, addon_scanner.cc) stop their clients from
// their environment cleanup hooks, and Remove() returns only once the client can never run again.
#pragma once
#include <cstdint>
#include <functional>
#include <thread>
#include <vector>

namespace pg {

namespace ticker {

using Fn = std::function<void()>;

// Registers a client: `tick` runs on the ticker thread every `periodNs` (the first time one period
// from now, or with an existing client's next tick if that comes sooner: equal periods share every
// wakeup). `onFd` runs when `fd` (>= 0, Linux only) is readable; the client reads it. Starts the
// thread with the first client. Returns the client's id (never 0).
uint64_t Add(uint64_t periodNs, Fn tick, int fd = -1, Fn onFd = nullptr);

// Replaces the client's fd (e.g. an inotify fd created after a failed first init); wakes the thread.
void SetFd(uint64_t id, int fd);

// Unregisters; when it returns the client's callbacks are not running and never run again (it
// waits for one in progress). Joins the thread when it was the last client. Idempotent (0 is a no-op).
// Never call it from a callback.
void Remove(uint64_t id);

// The ticker thread's kernel tid (Linux; 0 when not running or elsewhere) and its CPU time so far.
int Tid();
uint64_t CpuNs();

// Platform part (ticker_linux.cc: poll + eventfd; ticker_other.cc: a condition variable, no fds).
struct Waiter {
  Waiter();
  ~Waiter();
  // Blocks up to `timeoutNs`, until Wake(), or until one of `fds` is readable (ready[i] set).
  void Wait(uint64_t timeoutNs, const std::vector<int>& fds, std::vector<char>* ready);
  void Wake();
  void* impl = nullptr;
};
void NameThisThread();  // "procguard-watch" where threads have names
int ThisTid();          // 0 where there is no kernel tid to show
// CPU time of a running thread, read from another thread (Linux: its CPU clock; elsewhere 0), so the
// ticker pays no clock syscall per wakeup for a statistic.
uint64_t CpuNsOf(std::thread& t);

}  // namespace ticker

}  // namespace pg
