#include "watch.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <sys/inotify.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <set>

#include "ticker.h"

namespace pg {
namespace {

constexpr uint32_t kFileMask = IN_MODIFY | IN_CLOSE_WRITE | IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF;

uint64_t NowNs(clockid_t c) {
  struct timespec ts;
  clock_gettime(c, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<uint64_t>(ts.tv_nsec);
}

// The status lines that matter for isolation. Every thread has its own copy: a tracer may seize a
// single thread, and seccomp/capabilities are per thread.
const char* const kIsolationKeys[] = {
    "TracerPid:", "Seccomp:", "Seccomp_filters:", "NoNewPrivs:", "CapPrm:", "CapEff:", "CapBnd:", "CapAmb:"};

}  // namespace

WatchLoop::WatchLoop(uint64_t periodNs, Report report)
    : periodNs_(periodNs),
      slowEvery_(std::max<uint64_t>(1, 1000000000ull / std::max<uint64_t>(periodNs, 1))),
      self_(static_cast<int>(getpid())),
      report_(std::move(report)) {
  inotifyFd_ = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (inotifyFd_ < 0) inotifyError_ = std::string("inotify_init1: ") + strerror(errno);
  stats_.inotify = inotifyFd_ >= 0;
  stats_.inotifyError = inotifyError_;
  last_ = KernelSignature(true);  // the reference: a tick reports only a change from it
  std::lock_guard<std::mutex> lock(mu_);
  id_ = ticker::Add(
      periodNs_, [this] { OnTick(); }, inotifyFd_.load(), [this] { OnInotify(); });
}

WatchLoop::~WatchLoop() {
  Stop();
  if (inotifyFd_.load() >= 0) close(inotifyFd_.load());
}

void WatchLoop::Stop() {
  uint64_t id;
  {
    std::lock_guard<std::mutex> lock(mu_);
    id = id_;
    id_ = 0;
  }
  if (id == 0) return;
  ticker::Remove(id);  // waits for a callback in progress: the fds below are no longer used
  for (auto& kv : taskFds_) close(kv.second);
  taskFds_.clear();
  if (cgroupFd_ >= 0) close(cgroupFd_);
  cgroupFd_ = -1;
  if (taskDir_) closedir(static_cast<DIR*>(taskDir_));
  taskDir_ = nullptr;
}

int WatchLoop::AddWatch(const std::string& path, uint64_t* devMajor, uint64_t* devMinor, uint64_t* ino, int* err) {
  if (inotifyFd_.load() < 0) {
    // The first init failed (EMFILE at start, inotify instances exhausted): try again now.
    int fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (fd < 0) {
      *err = errno;
      return -1;
    }
    inotifyFd_.store(fd);
    uint64_t id;
    {
      std::lock_guard<std::mutex> lock(mu_);
      stats_.inotify = true;
      stats_.inotifyError.clear();
      id = id_;
    }
    ticker::SetFd(id, fd);  // polled from the ticker's next wakeup
  }
  int wd = inotify_add_watch(inotifyFd_.load(), path.c_str(), kFileMask);
  if (wd < 0) {
    *err = errno;
    return -1;
  }
  // The identity of what is watched now (the caller checks it is the mapped inode, not a file
  // that replaced it at the same path).
  struct stat st;
  if (stat(path.c_str(), &st) != 0) {
    *err = errno;
    inotify_rm_watch(inotifyFd_.load(), wd);
    return -1;
  }
  *devMajor = major(st.st_dev);
  *devMinor = minor(st.st_dev);
  *ino = st.st_ino;
  std::lock_guard<std::mutex> lock(mu_);
  watches_[wd] = path;
  stats_.watches = static_cast<int>(watches_.size());
  return wd;
}

bool WatchLoop::RemoveWatch(int wd) {
  if (inotifyFd_.load() < 0) return false;
  std::lock_guard<std::mutex> lock(mu_);
  if (watches_.erase(wd) == 0) return false;
  stats_.watches = static_cast<int>(watches_.size());
  return inotify_rm_watch(inotifyFd_.load(), wd) == 0;
}

WatchStats WatchLoop::Stats() {
  WatchStats s;
  {
    std::lock_guard<std::mutex> lock(mu_);
    s = stats_;
  }
  if (lastTickNs_ != 0) s.lastTickAgeMs = static_cast<double>(NowNs(CLOCK_MONOTONIC) - lastTickNs_) / 1e6;
  s.tid = ticker::Tid();
  s.cpuNs = ticker::CpuNs();  // the shared thread's: the sentinel's ticks are in it too
  return s;
}

// Every tick reads only what a tracer changes: one pread of each thread's status (kept-open fds).
// The thread list is re-read only when the leader's "Threads:" count differs from the fds held or
// a read failed (a thread exited); the slower-moving fields (dumpable, RLIMIT_CORE, cgroup, the
// scheduling state of procguard's own threads) are folded in about once a second. On a VM every
// syscall after a sleep is cold (~10-20 us), so the syscall count per tick is the cost.
uint64_t WatchLoop::KernelSignature(bool slow) {
  const int self = self_;
  char buf[8192];
  if (rescan_) {
    rescan_ = false;
    if (!taskDir_) taskDir_ = opendir("/proc/self/task");
    DIR* dir = static_cast<DIR*>(taskDir_);
    std::set<int> listed;
    if (dir) {
      rewinddir(dir);
      while (struct dirent* e = readdir(dir)) {
        if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
        const int tid = atoi(e->d_name);
        listed.insert(tid);
        if (taskFds_.count(tid)) continue;
        char path[64];
        snprintf(path, sizeof path, "/proc/self/task/%d/status", tid);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd >= 0) taskFds_[tid] = fd;  // else: exited meanwhile
      }
    }
    for (auto it = taskFds_.begin(); it != taskFds_.end();) {
      if (listed.count(it->first)) {
        ++it;
        continue;
      }
      close(it->second);
      it = taskFds_.erase(it);
    }
  }
  Fnv sig;
  distinct_.clear();  // per-thread isolation state; a new thread like the others changes nothing
  long threads = -1;
  for (auto& kv : taskFds_) {
    ssize_t n = pread(kv.second, buf, sizeof buf, 0);
    if (n <= 0) {
      rescan_ = true;  // the thread exited: re-list on the next tick
      continue;
    }
    const StatusLines lines = ScanStatus(buf, static_cast<size_t>(n), kIsolationKeys);
    if (kv.first == self) threads = lines.threads;
    distinct_.push_back(lines.isolation);
    if (slow) {
      auto name = StatusField(buf, static_cast<size_t>(n), "Name:");
      if (name.first && name.second >= 10 && memmem(name.first, name.second, "procguard-", 10)) {
        Fnv o;
        o.val(kv.first);
        o.mix(name.first, name.second);
        auto cpus = StatusField(buf, static_cast<size_t>(n), "Cpus_allowed:");
        o.mix(cpus.first ? cpus.first : "", cpus.second);
        o.val(sched_getscheduler(kv.first));
        o.val(getpriority(PRIO_PROCESS, static_cast<id_t>(kv.first)));
        ownAcc_.val(o.h);
      }
    }
  }
  if (threads < 0 || static_cast<size_t>(threads) != taskFds_.size()) rescan_ = true;
  if (slow) {
    ownAcc_.val(prctl(PR_GET_DUMPABLE, 0, 0, 0, 0));
    struct rlimit core;
    if (getrlimit(RLIMIT_CORE, &core) == 0) {
      ownAcc_.val(core.rlim_cur);
      ownAcc_.val(core.rlim_max);
    }
    if (cgroupFd_ < 0) cgroupFd_ = open("/proc/self/cgroup", O_RDONLY | O_CLOEXEC);
    if (cgroupFd_ >= 0) {
      ssize_t n = pread(cgroupFd_, buf, sizeof buf, 0);
      if (n > 0) ownAcc_.mix(buf, static_cast<size_t>(n));
    }
    slowSig_ = ownAcc_.h;
    ownAcc_ = Fnv();
  }
  std::sort(distinct_.begin(), distinct_.end());
  distinct_.erase(std::unique(distinct_.begin(), distinct_.end()), distinct_.end());
  for (uint64_t v : distinct_) sig.val(v);
  sig.val(slowSig_);
  return sig.h;
}

// The kernel signature every tick, the slow fields about once a second; a report only on a change.
void WatchLoop::OnTick() {
  const uint64_t sig = KernelSignature(++tick_ % slowEvery_ == 0);
  const bool changed = sig != last_;
  last_ = sig;
  {
    std::lock_guard<std::mutex> lock(mu_);
    ++stats_.ticks;
    // The monotonic clock, like every health time: a wall-clock step is not a stalled loop.
    lastTickNs_ = NowNs(CLOCK_MONOTONIC);
    if (changed) ++stats_.reports;
  }
  if (changed) {
    WatchReport rep;
    rep.kernelChanged = true;
    report_(std::move(rep));
  }
}

// Every queued inotify event; one report per burst, one entry per watch with the OR of its masks.
void WatchLoop::OnInotify() {
  const int ifd = inotifyFd_.load();
  if (ifd < 0) return;
  alignas(struct inotify_event) char ibuf[16384];
  WatchReport rep;
  std::map<int, uint32_t> by;
  for (;;) {
    ssize_t n = read(ifd, ibuf, sizeof ibuf);
    if (n <= 0) break;
    for (char* p = ibuf; p < ibuf + n;) {
      auto* ev = reinterpret_cast<struct inotify_event*>(p);
      if (ev->wd >= 0) by[ev->wd] |= ev->mask;
      else rep.error = "inotify queue overflow: some file events were lost";
      p += sizeof(struct inotify_event) + ev->len;
    }
  }
  for (auto& kv : by) {
    rep.wds.push_back(kv.first);
    rep.masks.push_back(kv.second);
  }
  if (rep.wds.empty() && rep.error.empty()) return;
  {
    std::lock_guard<std::mutex> lock(mu_);
    ++stats_.reports;
  }
  report_(std::move(rep));
}

}  // namespace pg
