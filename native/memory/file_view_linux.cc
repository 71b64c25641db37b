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

// Views are mapped and populated in aligned blocks of this size: the kernel maps pages around a
// faulting one (fault-around, 64 KiB by default, at most a page table's 2 MiB), so populating an
// arbitrary run also maps neighbours outside it and the count of mapped pages would drift (and the
// sentinel, which discounts it, would walk for nothing). A block aligned to 2 MiB in the address
// space contains every fault-around window of its pages.
constexpr uint64_t kBlock = 2u << 20;

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
  // Reserve size + one block of address space, map the file at the first block boundary in it, give
  // the slack back.
  const size_t span = static_cast<size_t>(size + kBlock);
  void* r = mmap(nullptr, span, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (r == MAP_FAILED) return nullptr;
  const uintptr_t base = reinterpret_cast<uintptr_t>(r);
  const uintptr_t at = (base + kBlock - 1) & ~static_cast<uintptr_t>(kBlock - 1);
  void* p = mmap(reinterpret_cast<void*>(at), static_cast<size_t>(size), PROT_READ, MAP_SHARED | MAP_FIXED, fd, 0);
  if (p == MAP_FAILED) {
    munmap(r, span);
    return nullptr;
  }
  const uintptr_t mappedEnd = at + ((size + OsPage() - 1) / OsPage()) * OsPage();
  if (at > base) munmap(r, at - base);
  if (base + span > mappedEnd) munmap(reinterpret_cast<void*>(mappedEnd), base + span - mappedEnd);
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
  // Whole blocks (see kBlock), once each; counted in OS pages up to the end of the file.
  const uint64_t os = OsPage();
  const uint64_t fileEnd = (view_->size_ + os - 1) / os * os;
  std::vector<uint64_t>& bits = view_->mapped_;  // a bit per block, under the lease's lock
  if (bits.empty()) bits.assign((view_->size_ / kBlock + 64) / 64, 0);
  for (uint64_t b = offset / kBlock; b * kBlock < offset + len; ++b) {
    if ((bits[b / 64] >> (b % 64)) & 1) continue;
    bits[b / 64] |= uint64_t(1) << (b % 64);
    const uint64_t lo = b * kBlock, hi = std::min(lo + kBlock, fileEnd);
    madvise(const_cast<uint8_t*>(view_->data_) + lo, static_cast<size_t>(hi - lo), MADV_POPULATE_READ);
    view_->mappedCount_ += (hi - lo) / os;
    g_viewMapped.fetch_add((hi - lo) / os, std::memory_order_relaxed);
  }
}

}  // namespace pg
