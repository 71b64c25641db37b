// The shared native ticker (see ticker.h): the scheduling, portable. The wait is per platform.
#include "ticker.h"

#include <algorithm>
#include <atomic>
#include <climits>
#include <condition_variable>
#include <map>
#include <mutex>
#include <thread>

#include "scanner_clock.h"  // MonotonicNs

namespace pg {
namespace ticker {
namespace {

struct Client {
  uint64_t periodNs = 0;
  uint64_t dueNs = 0;
  Fn tick, onFd;
  int fd = -1;
  bool dead = false;  // removed from its own callback: erased once that callback returns
};

struct Job {
  uint64_t id;
  bool fd;
};

struct State {
  std::mutex ctl;  // serializes Add/Remove: the start and the join of the thread
  std::mutex mu;   // clients, running, stop
  std::condition_variable idle;
  std::map<uint64_t, Client> clients;  // std::map: a running client's entry stays put while others come and go
  uint64_t nextId = 1;
  uint64_t running = 0;
  bool stop = false;
  std::thread thread;
  std::thread::id threadId;
  std::atomic<int> tid{0};
  Waiter waiter;
};

// Never destroyed: a joinable std::thread destroyed by exit()'s static destructors would call
// std::terminate (process.exit() does not run the environment cleanup hooks first).
State& S() {
  static State* s = new State;
  return *s;
}

void Run() {
  State& s = S();
  NameThisThread();
  s.tid.store(ThisTid());
  std::vector<int> fds;
  std::vector<uint64_t> fdIds;
  std::vector<char> ready;
  std::vector<Job> jobs;
  std::unique_lock<std::mutex> lock(s.mu);
  while (!s.stop) {
    uint64_t now = MonotonicNs();
    uint64_t next = UINT64_MAX;
    fds.clear();
    fdIds.clear();
    for (auto& kv : s.clients) {
      next = std::min(next, kv.second.dueNs);
      if (kv.second.fd >= 0) {
        fds.push_back(kv.second.fd);
        fdIds.push_back(kv.first);
      }
    }
    lock.unlock();
    ready.assign(fds.size(), 0);
    s.waiter.Wait(next == UINT64_MAX ? UINT64_MAX : (next > now ? next - now : 0), fds, &ready);
    lock.lock();
    if (s.stop) break;
    now = MonotonicNs();
    jobs.clear();
    for (size_t i = 0; i < fds.size(); ++i)
      if (ready[i]) jobs.push_back({fdIds[i], true});
    bool due = false;
    for (auto& kv : s.clients) due = due || kv.second.dueNs <= now;
    // A wakeup that is paid anyway also runs the ticks due within a quarter of their period.
    if (due)
      for (auto& kv : s.clients)
        if (kv.second.dueNs <= now + kv.second.periodNs / 4) jobs.push_back({kv.first, false});
    for (const Job& j : jobs) {
      auto it = s.clients.find(j.id);
      if (it == s.clients.end() || it->second.dead) continue;  // removed meanwhile
      Client& c = it->second;
      if (!j.fd) {
        c.dueNs += c.periodNs;                           // keeps its phase (a tick run early is not run twice)
        if (c.dueNs <= now) c.dueNs = now + c.periodNs;  // fell behind (starved): no catch-up burst
      }
      Fn* fn = j.fd ? &c.onFd : &c.tick;  // stays valid: Remove() waits while this client runs
      s.running = j.id;
      lock.unlock();
      try {
        if (*fn) (*fn)();
      } catch (...) {
        // (bad_alloc) skip this tick; nothing may unwind out of the thread
      }
      lock.lock();
      s.running = 0;
      if (c.dead) s.clients.erase(j.id);
      s.idle.notify_all();
    }
  }
  s.tid.store(0);
}

}  // namespace

uint64_t Add(uint64_t periodNs, Fn tick, int fd, Fn onFd) {
  State& s = S();
  std::lock_guard<std::mutex> ctl(s.ctl);
  std::lock_guard<std::mutex> lock(s.mu);
  const uint64_t now = MonotonicNs();
  Client c;
  c.periodNs = std::max<uint64_t>(periodNs, 1000000);
  c.dueNs = now + c.periodNs;
  // Join the next wakeup already planned if it comes within one period: same-period clients then
  // share every wakeup from the start.
  for (auto& kv : s.clients)
    if (kv.second.dueNs > now && kv.second.dueNs < c.dueNs) c.dueNs = kv.second.dueNs;
  c.tick = std::move(tick);
  c.onFd = std::move(onFd);
  c.fd = fd;
  const uint64_t id = s.nextId++;
  s.clients.emplace(id, std::move(c));
  if (!s.thread.joinable()) {
    s.stop = false;
    s.thread = std::thread(Run);
    s.threadId = s.thread.get_id();
  } else {
    s.waiter.Wake();  // the running wait may be longer than this client's first period
  }
  return id;
}

void SetFd(uint64_t id, int fd) {
  State& s = S();
  std::lock_guard<std::mutex> lock(s.mu);
  auto it = s.clients.find(id);
  if (it == s.clients.end()) return;
  it->second.fd = fd;
  s.waiter.Wake();
}

void Remove(uint64_t id) {
  if (id == 0) return;
  State& s = S();
  if (std::this_thread::get_id() == s.threadId) {
    // From a callback (not expected): it cannot wait for itself; the loop erases it afterwards.
    std::lock_guard<std::mutex> lock(s.mu);
    auto it = s.clients.find(id);
    if (it != s.clients.end()) it->second.dead = true;
    return;
  }
  std::lock_guard<std::mutex> ctl(s.ctl);
  std::thread done;
  {
    std::unique_lock<std::mutex> lock(s.mu);
    s.idle.wait(lock, [&] { return s.running != id; });
    if (s.clients.erase(id) == 0) return;
    if (!s.clients.empty()) return;
    // The last client: stop and join the thread (nothing of procguard's keeps running).
    s.stop = true;
    s.waiter.Wake();
    done = std::move(s.thread);
    s.threadId = std::thread::id();
  }
  if (done.joinable()) done.join();
}

int Tid() { return S().tid.load(); }

uint64_t CpuNs() {
  State& s = S();
  std::lock_guard<std::mutex> ctl(s.ctl);  // the thread is not joined meanwhile
  return s.thread.joinable() ? CpuNsOf(s.thread) : 0;
}

}  // namespace ticker
}  // namespace pg
