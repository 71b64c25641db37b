// The process tree's fast loop (see tree_sentinel.h).
#include "tree_sentinel.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>

#include "scanner_clock.h"  // MonotonicNs, ThreadCpuNs
#include "status_text.h"    // Fnv, ScanStatus
#include "ticker.h"

namespace pg {

namespace {

constexpr uint64_t kPage = 4096;

// Leading decimal fields of a statm text ("size resident shared ...").
bool ParseStatm(const char* p, const char* end, uint64_t* resident, uint64_t* shared) {
  uint64_t v[3] = {0, 0, 0};
  for (uint64_t& f : v) {
    while (p < end && *p == ' ') ++p;
    if (p == end || *p < '0' || *p > '9') return false;
    while (p < end && *p >= '0' && *p <= '9') f = f * 10 + static_cast<uint64_t>(*p++ - '0');
  }
  *resident = v[1];
  *shared = v[2];
  return true;
}

// Start time (field 22) of a /proc/<pid>/stat text: after the last ')' (comm may hold anything).
bool StartTicks(const char* text, size_t n, uint64_t* out) {
  const char* end = text + n;
  const char* p = static_cast<const char*>(memrchr(text, ')', n));
  if (p == nullptr) return false;
  ++p;
  for (int field = 3; field < 22; ++field) {  // skip fields 3..21
    while (p < end && *p == ' ') ++p;
    while (p < end && *p != ' ') ++p;
  }
  while (p < end && *p == ' ') ++p;
  if (p == end || *p < '0' || *p > '9') return false;
  uint64_t v = 0;
  while (p < end && *p >= '0' && *p <= '9') v = v * 10 + static_cast<uint64_t>(*p++ - '0');
  *out = v;
  return true;
}

const char* const kIsolationKeys[] = {
    "TracerPid:", "Seccomp:", "Seccomp_filters:", "NoNewPrivs:", "CapPrm:", "CapEff:"};

}  // namespace

struct TreeSentinel::Child {
  int pid = 0;
  uint64_t start = 0;
  int dir = -1, statm = -1;
  DIR* task = nullptr;
  struct Thread {
    int fd = -1;
    StatusLines facts;
  };
  std::map<int, Thread> threads;  // tid -> kept status fd
  bool relist = true;
  uint64_t lastListNs = 0;
  uint64_t leaderHash = 0;
  int tracedTid = 0, tracerPid = 0;
  bool threadsKnown = false;
  uint64_t resident = 0, shared = 0;
  bool counted = false;
  bool dirty = true;    // a first walk as soon as the regions are known
  bool urgent = false;  // the counters moved the way a copy-on-write of a resident page moves them
  std::vector<TreeRegion> regions;
  std::vector<TreeRegion> pending;  // set by SetRegions (under mu_), taken by the next tick
  bool hasPending = false;
  bool reportNext = false;  // new regions: report the next walk's result even when nothing changed
  std::vector<std::pair<uint32_t, uint64_t>> written;  // (region, page address) from the last walk
  uint64_t codeSig = Fnv().h;                          // of the last reported hits (none)
  uint64_t walkCostNs = 0;
  uint64_t lastWalkNs = 0;
  bool gone = false;

  ~Child() {
    for (auto& kv : threads) close(kv.second.fd);
    if (task) closedir(task);
    if (statm >= 0) close(statm);
    if (dir >= 0) close(dir);
  }
};

namespace {

using Child = TreeSentinel::Child;

// Re-reads the task list: new threads get a status fd (opened through this process's task
// directory), gone ones are closed.
void Relist(Child* c) {
  c->relist = false;
  rewinddir(c->task);
  std::map<int, Child::Thread> next;
  while (struct dirent* e = readdir(c->task)) {
    if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
    const int tid = atoi(e->d_name);
    auto it = c->threads.find(tid);
    if (it != c->threads.end()) {
      next[tid] = it->second;
      c->threads.erase(it);
      continue;
    }
    if (next.size() >= kTreeMaxThreadsPerProcess && tid != c->pid) continue;
    char path[48];
    snprintf(path, sizeof path, "%d/status", tid);
    int fd = openat(dirfd(c->task), path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) continue;  // exited meanwhile
    Child::Thread t;
    t.fd = fd;
    next[tid] = t;
  }
  for (auto& kv : c->threads) close(kv.second.fd);
  c->threads = std::move(next);
}

// Reads the leader and this tick's slice of the other threads. True when the leader's isolation
// lines or the traced thread changed since the last report.
bool ReadThreads(Child* c, uint64_t tick, uint32_t slices, uint64_t now, uint64_t* reads, uint64_t* relists) {
  if (c->relist && now - c->lastListNs >= kTreeRelistNs) {
    c->lastListNs = now;
    Relist(c);
    ++*relists;
  }
  char buf[8192];
  long threads = -1;
  size_t i = 0;
  const uint32_t slice = static_cast<uint32_t>(tick % slices);
  for (auto it = c->threads.begin(); it != c->threads.end();) {
    const bool leader = it->first == c->pid;
    // The first tick reads every thread (the baseline); then a slice per tick (the leader too: its
    // sandbox lines and tracer are seen as fast as any thread's).
    if (c->threadsKnown && (i++ % slices) != slice) {
      ++it;
      continue;
    }
    ssize_t n = pread(it->second.fd, buf, sizeof buf, 0);
    ++*reads;
    if (n <= 0) {  // the thread exited
      close(it->second.fd);
      it = c->threads.erase(it);
      c->relist = true;
      continue;
    }
    it->second.facts = ScanStatus(buf, static_cast<size_t>(n), kIsolationKeys);
    if (leader) threads = it->second.facts.threads;
    ++it;
  }
  if (threads >= 0 && static_cast<size_t>(threads) != c->threads.size() &&
      c->threads.size() < kTreeMaxThreadsPerProcess)
    c->relist = true;
  auto lead = c->threads.find(c->pid);
  const uint64_t leaderHash = lead == c->threads.end() ? 0 : lead->second.facts.isolation;
  int tracedTid = 0, tracerPid = 0;
  for (auto& kv : c->threads) {
    if (kv.second.facts.tracerPid == 0) continue;
    tracedTid = kv.first;
    tracerPid = kv.second.facts.tracerPid;
    break;
  }
  const bool first = !c->threadsKnown;
  c->threadsKnown = true;
  const bool changed =
      (!first && leaderHash != c->leaderHash) || tracedTid != c->tracedTid || tracerPid != c->tracerPid;
  c->leaderHash = leaderHash;
  c->tracedTid = tracedTid;
  c->tracerPid = tracerPid;
  return changed;
}

bool ReadCounters(Child* c, uint64_t* resident, uint64_t* shared) {
  char buf[128];
  ssize_t n = pread(c->statm, buf, sizeof buf - 1, 0);
  // A reaped process fails (ESRCH); a zombie reads as all zeros (no mm).
  return n > 0 && ParseStatm(buf, buf + n, resident, shared) && *resident > 0;
}

uint64_t HitsSignature(const TreeJobResult& r) {
  Fnv h;
  for (const TreePageHit& p : r.hits) {
    h.val(p.address);
    h.mix(p.state.data(), p.state.size());
    h.val(p.firstDiff);
    h.val(p.memByte);
    h.val(p.diffBytes);
  }
  return h.h;
}

// The pages the last walk found written, as a job of one-page regions (a restore keeps the page
// anonymous: only a compare sees it). Hit regions are mapped back to the child's regions.
void Recheck(const Child& c, TreeJobResult* res) {
  TreeJob job;
  job.pid = c.pid;
  job.startTicks = c.start;
  for (const auto& w : c.written) {
    TreeRegion r = c.regions[w.first];
    r.fileOffset += w.second - r.start;
    r.start = w.second;
    r.end = w.second + kPage;
    job.regions.push_back(std::move(r));
  }
  std::vector<TreeJobResult> out;
  TreeCodeScan({job}, &out);
  *res = std::move(out[0]);
  for (TreePageHit& h : res->hits) h.region = c.written[h.region].first;
}

}  // namespace

TreeSentinel::TreeSentinel(uint64_t periodNs, uint32_t threadSlices, double budget, Report report)
    : periodNs_(periodNs), slices_(std::max<uint32_t>(1, threadSlices)), budget_(budget), report_(std::move(report)) {
  std::lock_guard<std::mutex> lock(mu_);
  id_ = ticker::Add(periodNs_, [this] { OnTick(); });
}

TreeSentinel::~TreeSentinel() { Stop(); }

void TreeSentinel::Stop() {
  uint64_t id;
  {
    std::lock_guard<std::mutex> lock(mu_);
    id = id_;
    id_ = 0;
  }
  ticker::Remove(id);  // waits for a tick in progress
  std::lock_guard<std::mutex> lock(mu_);
  children_.clear();
}

bool TreeSentinel::Add(int pid, uint64_t startTicks, int* err, std::string* why) {
  auto c = std::make_shared<Child>();
  c->pid = pid;
  c->start = startTicks;
  char path[32];
  snprintf(path, sizeof path, "/proc/%d", pid);
  c->dir = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (c->dir < 0) {
    *err = errno == ENOENT ? ESRCH : errno;
    *why = std::string("open ") + path + ": " + strerror(errno);
    return false;
  }
  c->statm = openat(c->dir, "statm", O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  int tfd = openat(c->dir, "task", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (tfd >= 0) c->task = fdopendir(tfd);
  if (c->statm < 0 || c->task == nullptr) {
    *err = errno == ENOENT ? ESRCH : errno;
    *why = std::string(path) + "/statm or /task: " + strerror(errno);
    if (tfd >= 0 && c->task == nullptr) close(tfd);
    return false;
  }
  // The identity check comes after the opens: the directory (and everything opened through it)
  // is bound to one process, and this confirms that process is the one the caller means.
  char buf[1024];
  int sfd = openat(c->dir, "stat", O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  ssize_t n = sfd >= 0 ? pread(sfd, buf, sizeof buf, 0) : -1;
  if (sfd >= 0) close(sfd);
  uint64_t start = 0;
  if (n <= 0 || !StartTicks(buf, static_cast<size_t>(n), &start) || start != startTicks) {
    *err = ESRCH;
    *why =
        std::string(path) + " is not the process started at " + std::to_string(startTicks) + " (exited or pid reused)";
    return false;
  }
  std::lock_guard<std::mutex> lock(mu_);
  children_[{pid, startTicks}] = std::move(c);
  return true;
}

void TreeSentinel::SetRegions(int pid, uint64_t startTicks, std::vector<TreeRegion> regions) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = children_.find({pid, startTicks});
  if (it == children_.end()) return;
  it->second->pending = std::move(regions);
  it->second->hasPending = true;
}

void TreeSentinel::Remove(int pid, uint64_t startTicks) {
  std::lock_guard<std::mutex> lock(mu_);
  children_.erase({pid, startTicks});  // a tick in progress holds its own reference
}

TreeSentinelStats TreeSentinel::Stats() {
  std::lock_guard<std::mutex> lock(mu_);
  TreeSentinelStats s = stats_;
  s.processes = children_.size();
  return s;
}

void TreeSentinel::OnTick() {
  std::vector<std::shared_ptr<Child>> kids;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (id_ == 0) return;
    for (auto& kv : children_) {
      Child& c = *kv.second;
      if (c.hasPending) {
        c.regions = std::move(c.pending);
        c.hasPending = false;
        c.written.clear();
        c.dirty = true;
        c.reportNext = true;
      }
      if (!c.gone) kids.push_back(kv.second);
    }
  }
  const uint64_t now = MonotonicNs();
  const double cap = std::max(4.0 * static_cast<double>(maxWalkNs_), 10e6);  // four walks
  if (lastTickNs_ != 0) {
    tokensNs_ = std::min(cap, tokensNs_ + static_cast<double>(now - lastTickNs_) * budget_);
  }
  lastTickNs_ = now;
  ++tick_;
  TreeSentinelStats add;
  std::vector<TreeSentinelEvent> events;
  // Start the walks at a different child each tick: a busy child cannot keep the tokens from the others.
  const size_t n = kids.size();
  for (size_t k = 0; k < n; ++k) {
    Child& c = *kids[(k + tick_) % n];
    uint64_t resident = 0, shared = 0;
    TreeSentinelEvent ev;
    ev.pid = c.pid;
    ev.startTicks = c.start;
    if (!ReadCounters(&c, &resident, &shared)) {
      c.gone = true;
      ev.kind = TreeSentinelEvent::kExited;
      events.push_back(std::move(ev));
      continue;
    }
    if (c.counted && (resident != c.resident || shared != c.shared)) c.dirty = true;
    // A resident private file page written turns anonymous: "shared" drops while "resident" stays.
    // That is the copy-on-write itself (or a reclaim), not heap churn: it may borrow from the bucket.
    if (c.counted && shared < c.shared && resident >= c.resident) c.urgent = true;
    c.counted = true;
    c.resident = resident;
    c.shared = shared;

    const bool wasKnown = c.threadsKnown;
    const uint64_t leaderBefore = c.leaderHash;
    if (ReadThreads(&c, tick_, slices_, now, &add.threadReads, &add.relists) || (!wasKnown && c.tracedTid != 0)) {
      TreeSentinelEvent te = ev;
      te.kind = TreeSentinelEvent::kThreads;
      te.leaderChanged = !wasKnown || c.leaderHash != leaderBefore;  // first read: JS compares
      te.tracedTid = c.tracedTid;
      te.tracerPid = c.tracerPid;
      events.push_back(std::move(te));
    }
    add.threads += c.threads.size();

    if (c.regions.empty()) continue;
    TreeJobResult res;
    bool full = false;
    // Priority, not extra CPU: a child's first walk, a copy-on-write-shaped change, and the first
    // change of a child that was quiet for kTreeQuietNs (an idle renderer written to) may go into
    // debt down to -cap; a child whose counters keep moving (a busy process) waits for tokens. The
    // bucket still refills at the budget only, so the long-run rate stays within it.
    const bool priority = c.urgent || c.walkCostNs == 0 || now - c.lastWalkNs >= kTreeQuietNs;
    const bool afford = tokensNs_ >= static_cast<double>(c.walkCostNs) || (priority && tokensNs_ > -cap);
    if (c.dirty && afford) {
      c.urgent = false;
      // Counters from before the walk are the baseline: a write during it shows on the next tick.
      c.dirty = false;
      const uint64_t cpu0 = ThreadCpuNs();
      std::vector<TreeJobResult> out;
      TreeJob job;
      job.pid = c.pid;
      job.startTicks = c.start;  // TreeCodeScan reads only that process (a reused pid is ESRCH)
      job.regions = c.regions;
      TreeCodeScan({job}, &out);
      res = std::move(out[0]);
      c.walkCostNs = ThreadCpuNs() - cpu0;
      c.lastWalkNs = now;
      tokensNs_ -= static_cast<double>(c.walkCostNs);
      maxWalkNs_ = std::max(maxWalkNs_, c.walkCostNs);
      add.walkCpuNs += c.walkCostNs;
      ++add.walks;
      full = true;
    } else if (c.dirty) {
      ++add.deferred;
      if (c.written.empty()) continue;
      Recheck(c, &res);
      ++add.rechecks;
    } else if (!c.written.empty()) {
      Recheck(c, &res);
      ++add.rechecks;
    } else {
      continue;
    }
    // The walk read /proc/<pid>/pagemap by pid: it was this process only if it is still alive.
    if (!ReadCounters(&c, &resident, &shared) || (!res.ok && (res.err == ESRCH || res.err == ENOENT))) {
      c.gone = true;
      ev.kind = TreeSentinelEvent::kExited;
      events.push_back(std::move(ev));
      continue;
    }
    if (!res.ok) {
      if (full) {
        // A real error (not an exit): reported once; the child is not walked again until the
        // caller hands its regions over anew (its next plan), so an error cannot repeat every tick.
        ev.kind = TreeSentinelEvent::kCode;
        ev.code = std::move(res);
        events.push_back(std::move(ev));
        c.regions.clear();
        c.written.clear();
      }
      continue;
    }
    if (full) {
      c.written.clear();
      for (const TreePageHit& h : res.hits) c.written.emplace_back(h.region, h.address);
    }
    const uint64_t sig = HitsSignature(res);
    // The first walk of new regions is reported even when clean: the caller's coverage comes from it.
    if (sig == c.codeSig && !(full && c.reportNext)) continue;
    if (full) c.reportNext = false;
    c.codeSig = sig;
    ev.kind = TreeSentinelEvent::kCode;
    ev.code = std::move(res);
    events.push_back(std::move(ev));
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    ++stats_.ticks;
    stats_.walks += add.walks;
    stats_.rechecks += add.rechecks;
    stats_.threadReads += add.threadReads;
    stats_.relists += add.relists;
    stats_.threads = add.threads;
    stats_.walkCpuNs += add.walkCpuNs;
    stats_.deferred += add.deferred;
    stats_.tokensNs = tokensNs_;
    if (!events.empty()) ++stats_.reports;
  }
  if (!events.empty()) report_(std::move(events));
}

}  // namespace pg
