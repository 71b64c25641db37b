#include "watch.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <set>

namespace pg {
namespace {

constexpr uint32_t kFileMask = IN_MODIFY | IN_CLOSE_WRITE | IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF;

uint64_t NowNs(clockid_t c) {
  struct timespec ts;
  clock_gettime(c, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<uint64_t>(ts.tv_nsec);
}

// The value of `key` ("TracerPid:") in a status text, up to the end of its line; empty if absent.
std::pair<const char*, size_t> Field(const char* text, size_t len, const char* key) {
  const size_t klen = strlen(key);
  const char* p = text;
  const char* end = text + len;
  while (p < end) {
    const char* nl = static_cast<const char*>(memchr(p, '\n', static_cast<size_t>(end - p)));
    const char* le = nl ? nl : end;
    if (static_cast<size_t>(le - p) >= klen && memcmp(p, key, klen) == 0)
      return {p + klen, static_cast<size_t>(le - p - klen)};
    p = le + 1;
  }
  return {nullptr, 0};
}

// The status lines that matter for isolation. Every thread has its own copy: a tracer may seize a
// single thread, and seccomp/capabilities are per thread.
const char* const kIsolationKeys[] = {
    "TracerPid:", "Seccomp:", "Seccomp_filters:", "NoNewPrivs:", "CapPrm:", "CapEff:", "CapBnd:", "CapAmb:"};

}  // namespace

WatchLoop::WatchLoop(uint64_t periodNs, Report report) : periodNs_(periodNs), report_(std::move(report)) {
  inotifyFd_ = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (inotifyFd_ < 0) inotifyError_ = std::string("inotify_init1: ") + strerror(errno);
  wakeFd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  stats_.inotify = inotifyFd_ >= 0;
  stats_.inotifyError = inotifyError_;
  thread_ = std::thread([this] { Run(); });
}

WatchLoop::~WatchLoop() {
  Stop();
  if (inotifyFd_.load() >= 0) close(inotifyFd_.load());
  if (wakeFd_ >= 0) close(wakeFd_);
}

void WatchLoop::Stop() {
  stop_.store(true);
  if (wakeFd_ >= 0) {
    uint64_t one = 1;
    ssize_t n = write(wakeFd_, &one, sizeof one);
    (void)n;
  }
  if (thread_.joinable()) thread_.join();
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
    {
      std::lock_guard<std::mutex> lock(mu_);
      stats_.inotify = true;
      stats_.inotifyError.clear();
    }
    if (wakeFd_ >= 0) {  // the loop polls the new fd from its next iteration
      uint64_t one = 1;
      ssize_t n = write(wakeFd_, &one, sizeof one);
      (void)n;
    }
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
  std::lock_guard<std::mutex> lock(mu_);
  return stats_;
}

// Every tick reads only what a tracer changes: one pread of each thread's status (kept-open fds).
// The thread list is re-read only when the leader's "Threads:" count differs from the fds held or
// a read failed (a thread exited); the slower-moving fields (dumpable, RLIMIT_CORE, cgroup, the
// scheduling state of procguard's own threads) are folded in about once a second. On a VM every
// syscall after a sleep is cold (~10-20 us), so the syscall count per tick is the cost.
uint64_t WatchLoop::KernelSignature(bool slow) {
  const int self = static_cast<int>(getpid());
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
  std::set<uint64_t> distinct;  // per-thread isolation state; a new thread like the others changes nothing
  long threads = -1;
  for (auto& kv : taskFds_) {
    ssize_t n = pread(kv.second, buf, sizeof buf, 0);
    if (n <= 0) {
      rescan_ = true;  // the thread exited: re-list on the next tick
      continue;
    }
    // One pass over the lines: hash the isolation lines, note the thread count.
    Fnv t;
    const char* p = buf;
    const char* end = buf + n;
    while (p < end) {
      const char* nl = static_cast<const char*>(memchr(p, '\n', static_cast<size_t>(end - p)));
      const char* le = nl ? nl : end;
      const size_t len = static_cast<size_t>(le - p);
      for (const char* key : kIsolationKeys) {
        if (*p != *key) continue;
        const size_t kl = strlen(key);
        if (len >= kl && memcmp(p, key, kl) == 0) {
          t.mix(p, len);
          break;
        }
      }
      if (kv.first == self && len > 8 && memcmp(p, "Threads:", 8) == 0) threads = strtol(p + 8, nullptr, 10);
      p = le + 1;
    }
    distinct.insert(t.h);
    if (slow) {
      auto name = Field(buf, static_cast<size_t>(n), "Name:");
      if (name.first && name.second >= 10 && memmem(name.first, name.second, "procguard-", 10)) {
        Fnv o;
        o.val(kv.first);
        o.mix(name.first, name.second);
        auto cpus = Field(buf, static_cast<size_t>(n), "Cpus_allowed:");
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
  for (uint64_t v : distinct) sig.val(v);
  sig.val(slowSig_);
  return sig.h;
}

void WatchLoop::Run() {
  pthread_setname_np(pthread_self(), "procguard-watch");
  {
    std::lock_guard<std::mutex> lock(mu_);
    stats_.tid = static_cast<int>(syscall(SYS_gettid));
  }
  // The slow fields about once a second, whatever the tick.
  const uint64_t slowEvery = std::max<uint64_t>(1, 1000000000ull / periodNs_);
  uint64_t tick = 0;
  uint64_t last = KernelSignature(true);
  uint64_t deadline = NowNs(CLOCK_MONOTONIC) + periodNs_;
  alignas(struct inotify_event) char ibuf[16384];
  while (!stop_.load()) {
    const uint64_t now = NowNs(CLOCK_MONOTONIC);
    const int timeoutMs = now >= deadline ? 0 : static_cast<int>((deadline - now + 999999) / 1000000);
    const int ifd = inotifyFd_.load();
    struct pollfd fds[2] = {{wakeFd_, POLLIN, 0}, {ifd, POLLIN, 0}};
    int nfds = ifd >= 0 ? 2 : 1;
    int r = poll(fds, static_cast<nfds_t>(nfds), timeoutMs);
    if (stop_.load()) break;
    if (r > 0 && (fds[0].revents & POLLIN)) {  // a wake that is not a stop (new inotify fd): drain it
      uint64_t v;
      ssize_t n = read(wakeFd_, &v, sizeof v);
      (void)n;
    }
    WatchReport rep;
    if (r > 0 && nfds == 2 && (fds[1].revents & POLLIN)) {
      // Read every queued event; one report per burst, one entry per watch with the OR of masks.
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
    }
    const uint64_t t = NowNs(CLOCK_MONOTONIC);
    if (t >= deadline) {
      const uint64_t s = KernelSignature(++tick % slowEvery == 0);
      if (s != last) {
        last = s;
        rep.kernelChanged = true;
      }
      deadline += periodNs_;
      if (deadline <= t) deadline = t + periodNs_;  // fell behind (stopped or starved): no catch-up burst
      std::lock_guard<std::mutex> lock(mu_);
      ++stats_.ticks;
      stats_.lastTickAtMs = static_cast<double>(NowNs(CLOCK_REALTIME)) / 1e6;
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      stats_.cpuNs = NowNs(CLOCK_THREAD_CPUTIME_ID);
      if (rep.kernelChanged || !rep.wds.empty() || !rep.error.empty()) ++stats_.reports;
    }
    if (rep.kernelChanged || !rep.wds.empty() || !rep.error.empty()) report_(std::move(rep));
  }
  for (auto& kv : taskFds_) close(kv.second);
  taskFds_.clear();
  if (cgroupFd_ >= 0) close(cgroupFd_);
  cgroupFd_ = -1;
  if (taskDir_) closedir(static_cast<DIR*>(taskDir_));
  taskDir_ = nullptr;
}

}  // namespace pg
