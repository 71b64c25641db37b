#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>

#include "file_view.h"

#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ 22  // Linux 5.14; older kernels answer EINVAL and pages fault in on use
#endif

namespace pg {

namespace {

std::atomic<uint64_t> g_viewMapped{0};

uint64_t OsPage() {
  static const uint64_t os = static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
  return os;
}

// Takes the read lease with its break notice routed where it can do no harm (see file_view.h):
// the file's owner is set first to the calling engine thread, which blocks SIGIO, and taking the
// lease keeps an owner already set. A break's SIGIO then stays pending on that thread forever; no
// thread of the app receives it. Checked after the fact: any other owner, and the lease is dropped.
// False when refused.
bool TakeLease(int fd) {
  static thread_local const bool blocked = [] {
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, SIGIO);
    return pthread_sigmask(SIG_BLOCK, &s, nullptr) == 0;
  }();
  if (!blocked) return false;
  struct f_owner_ex me = {F_OWNER_TID, static_cast<pid_t>(syscall(SYS_gettid))};
  if (fcntl(fd, F_SETOWN_EX, &me) != 0) return false;
  if (fcntl(fd, F_SETLEASE, F_RDLCK) != 0) return false;
  struct f_owner_ex owner;
  if (fcntl(fd, F_GETOWN_EX, &owner) != 0 || owner.type != F_OWNER_TID || owner.pid != me.pid) {
    fcntl(fd, F_SETLEASE, F_UNLCK);
    errno = EPERM;  // not EAGAIN: never retried on this file
    return false;
  }
  return true;
}

void DropLease(int fd) { fcntl(fd, F_SETLEASE, F_UNLCK); }

}  // namespace

uint64_t ViewMappedPages() { return g_viewMapped.load(std::memory_order_relaxed); }

std::unique_ptr<FileView> FileView::Open(int fd) {
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size <= 0) return nullptr;
  // Probe once: a file this user may never lease (EACCES: not the owner and no CAP_LEASE; EINVAL:
  // leases disabled or unsupported here) is read with pread for good. EAGAIN (open for writing now)
  // is transient: each chunk asks for the lease again.
  if (TakeLease(fd)) DropLease(fd);
  else if (errno != EAGAIN) return nullptr;
  const uint64_t size = static_cast<uint64_t>(st.st_size);
  void* p = mmap(nullptr, static_cast<size_t>(size), PROT_READ, MAP_SHARED, fd, 0);
  if (p == MAP_FAILED) return nullptr;
  return std::unique_ptr<FileView>(new FileView(fd, static_cast<const uint8_t*>(p), size));
}

FileView::~FileView() {
  munmap(const_cast<uint8_t*>(data_), static_cast<size_t>(size_));
  g_viewMapped.fetch_sub(mappedCount_, std::memory_order_relaxed);
}

FileView::Lease::Lease(FileView* view) : view_(view), lock_(view->mu_, std::try_to_lock) {
  if (!lock_.owns_lock() || !TakeLease(view->fd_)) return;
  struct stat st;
  if (fstat(view->fd_, &st) != 0) {
    DropLease(view->fd_);
    return;
  }
  held_ = true;
  readable_ = std::min<uint64_t>(view->size_, static_cast<uint64_t>(std::max<off_t>(st.st_size, 0)));
}

FileView::Lease::~Lease() {
  if (held_) DropLease(view_->fd_);
}

const uint8_t* FileView::Lease::data() const { return held_ ? view_->data_ : nullptr; }

void FileView::Lease::Populate(uint64_t offset, uint64_t len) const {
  if (!held_ || offset >= readable_) return;
  len = std::min(len, readable_ - offset);
  // Per OS page (madvise wants an aligned start; 16/64 KiB pages on some arm64 kernels).
  const uint64_t os = OsPage();
  const uint64_t first = offset / os, end = (offset + len + os - 1) / os;
  std::vector<uint64_t>& bits = view_->mapped_;  // under the lease's lock
  if (bits.empty()) bits.assign((view_->size_ / os + 64) / 64, 0);
  auto isMapped = [&](uint64_t p) { return (bits[p / 64] >> (p % 64)) & 1; };
  for (uint64_t p = first; p < end;) {
    if (isMapped(p)) {
      ++p;
      continue;
    }
    uint64_t run = p;
    while (run < end && !isMapped(run)) bits[run / 64] |= uint64_t(1) << (run % 64), ++run;
    madvise(const_cast<uint8_t*>(view_->data_) + p * os, static_cast<size_t>((run - p) * os), MADV_POPULATE_READ);
    view_->mappedCount_ += run - p;
    g_viewMapped.fetch_add(run - p, std::memory_order_relaxed);
    p = run;
  }
}

}  // namespace pg
