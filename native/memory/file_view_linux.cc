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
#include "memory.h"

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

// Pages of [p, p + len) that the page tables hold (pagemap's present bit). False without pagemap.
bool CountPresent(const uint8_t* p, uint64_t len, uint32_t* present) {
  static thread_local std::vector<uint64_t> entries;
  int err = 0;
  if (!PagemapOpen() || !PagemapEntries(reinterpret_cast<uintptr_t>(p), static_cast<size_t>(len), &entries, &err))
    return false;
  uint32_t n = 0;
  for (uint64_t e : entries) n += (e & kPagemapPresent) != 0;
  *present = n;
  return true;
}

}  // namespace

uint64_t ViewMappedPages() { return g_viewMapped.load(std::memory_order_relaxed); }

std::mutex& ViewCountMutex() {
  static std::mutex* mu = new std::mutex;  // never destroyed: passes may run during exit
  return *mu;
}

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
  // Whole blocks (see kBlock); a block is counted by what its page tables really hold.
  const uint64_t os = OsPage();
  const uint64_t fileEnd = (view_->size_ + os - 1) / os * os;
  std::vector<uint32_t>& counted = view_->counted_;  // pages counted per block, under the lease's lock
  std::vector<uint64_t>& advised = view_->mapped_;   // a bit per block: MADV_POPULATE_READ asked once
  if (counted.empty()) {
    counted.assign(view_->size_ / kBlock + 1, 0);
    advised.assign((view_->size_ / kBlock + 64) / 64, 0);
  }
  uint8_t* const data = const_cast<uint8_t*>(view_->data_);
  for (uint64_t b = offset / kBlock; b * kBlock < offset + len; ++b) {
    const uint64_t lo = b * kBlock, hi = std::min(lo + kBlock, fileEnd);
    const uint32_t full = static_cast<uint32_t>((hi - lo) / os);
    if (counted[b] == full) continue;
    std::lock_guard<std::mutex> countLock(ViewCountMutex());  // mapping and counting as one step
    if (!((advised[b / 64] >> (b % 64)) & 1)) {
      advised[b / 64] |= uint64_t(1) << (b % 64);
      madvise(data + lo, static_cast<size_t>(hi - lo), MADV_POPULATE_READ);
    }
    // The advice may not have been carried out: EINVAL before Linux 5.14, EFAULT past a file that
    // shrank, and qemu-user (7.2) answers 0 and maps nothing. Then the pages this chunk reads would
    // fault in while it hashes, each fault raising statm's file-backed count past what the view
    // discounts, and the sentinel would take every rise for a change. So the count is what pagemap
    // shows; where the block is not all there, the pages of this run (present in the process, so in
    // the page cache: touching them reads nothing from disk) are faulted in now, before the count.
    uint32_t present = 0;
    if (!CountPresent(data + lo, hi - lo, &present)) {
      // No pagemap: the sentinel does not run either (it walks pagemap); count the block as before.
      present = full;
    } else if (present < full) {
      const uint64_t from = std::max(lo, offset / os * os), to = std::min(hi, offset + len);
      for (uint64_t at = from; at < to; at += os) (void)*reinterpret_cast<volatile const uint8_t*>(data + at);
      CountPresent(data + lo, hi - lo, &present);
    }
    if (present > counted[b]) {
      const uint64_t more = present - counted[b];
      view_->mappedCount_ += more;
      g_viewMapped.fetch_add(more, std::memory_order_relaxed);
      counted[b] = present;
    }
  }
}

}  // namespace pg
