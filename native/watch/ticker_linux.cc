// The shared ticker's wait on Linux: ppoll on an eventfd (Wake) and the clients' fds.
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <cstdint>
#include <vector>

#include "ticker.h"

namespace pg {
namespace ticker {

namespace {
int Fd(void* impl) { return static_cast<int>(reinterpret_cast<intptr_t>(impl)); }
}  // namespace

Waiter::Waiter() {
  // Without an eventfd (EMFILE) the wait is capped at 50 ms below, so Wake() is at most that late.
  impl = reinterpret_cast<void*>(static_cast<intptr_t>(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)));
}

Waiter::~Waiter() {
  if (Fd(impl) >= 0) close(Fd(impl));
}

void Waiter::Wait(uint64_t timeoutNs, const std::vector<int>& fds, std::vector<char>* ready) {
  const int efd = Fd(impl);
  if (efd < 0 && timeoutNs > 50000000ull) timeoutNs = 50000000ull;
  struct pollfd pfds[8];
  std::vector<struct pollfd> more;
  const size_t n = fds.size() + 1;
  struct pollfd* p = pfds;
  if (n > 8) {
    more.resize(n);
    p = more.data();
  }
  p[0] = {efd, POLLIN, 0};  // a negative fd is ignored by poll
  for (size_t i = 0; i < fds.size(); ++i) p[i + 1] = {fds[i], POLLIN, 0};
  struct timespec ts;
  ts.tv_sec = static_cast<time_t>(timeoutNs / 1000000000ull);
  ts.tv_nsec = static_cast<long>(timeoutNs % 1000000000ull);
  int r = ppoll(p, static_cast<nfds_t>(n), timeoutNs == UINT64_MAX ? nullptr : &ts, nullptr);
  if (r <= 0) return;
  if (efd >= 0 && (p[0].revents & POLLIN)) {
    uint64_t v;
    ssize_t got = read(efd, &v, sizeof v);
    (void)got;
  }
  for (size_t i = 0; i < fds.size(); ++i) (*ready)[i] = (p[i + 1].revents & POLLIN) != 0;
}

void Waiter::Wake() {
  const int efd = Fd(impl);
  if (efd < 0) return;
  uint64_t one = 1;
  ssize_t n = write(efd, &one, sizeof one);
  (void)n;
}

void NameThisThread() { pthread_setname_np(pthread_self(), "procguard-watch"); }  // top -H, /proc/self/task/*/comm

int ThisTid() { return static_cast<int>(syscall(SYS_gettid)); }

uint64_t CpuNsOf(std::thread& t) {
  clockid_t c;
  struct timespec ts;
  if (pthread_getcpuclockid(t.native_handle(), &c) != 0 || clock_gettime(c, &ts) != 0) return 0;
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<uint64_t>(ts.tv_nsec);
}

}  // namespace ticker
}  // namespace pg
