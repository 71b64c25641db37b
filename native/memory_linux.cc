// Linux: safe reads of our own memory through process_vm_readv, residency via mincore, and the
// pagemap tamper sentinel.
#include "memory.h"
#include "pagemap_scan_linux.h"
#include "file_posix.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstring>

namespace pg {

namespace {
// process_vm_readv accepts at most IOV_MAX (1024) iovecs per side and stops at the first page it
// cannot read, returning a short count (or -1/EFAULT when the very first byte fails). It never
// raises SIGSEGV: an unmapped range (a library dlclose'd mid-sweep) is just an error code.
constexpr size_t kMaxIov = 1024;
std::atomic<int> g_pagemapFd{-1};

size_t ReadOnce(uintptr_t addr, void* out, size_t len, int* err) {
  struct iovec local = {out, len};
  struct iovec remote = {reinterpret_cast<void*>(addr), len};
  ssize_t n = process_vm_readv(getpid(), &local, 1, &remote, 1, 0);
  if (n < 0) {
    if (err) *err = errno;
    return 0;
  }
  return static_cast<size_t>(n);
}
}  // namespace

size_t PageSize() {
  static const size_t size = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  return size;
}

size_t SafeRead(uintptr_t addr, void* out, size_t len, int* err) {
  size_t done = 0;
  if (err) *err = 0;
  // A short read means the next page is not readable; report what we have.
  while (done < len) {
    size_t n = ReadOnce(addr + done, static_cast<uint8_t*>(out) + done, len - done, err);
    if (n == 0) break;
    done += n;
  }
  return done;
}

size_t SafeReadPages(const uintptr_t* addrs, size_t count, uint8_t* out, uint8_t* ok) {
  const size_t page = 4096;  // digest granularity, independent of the OS page size
  size_t read = 0;
  std::memset(ok, 0, count);
  size_t i = 0;
  while (i < count) {
    // Coalesce runs of adjacent pages into one remote iovec; one local iovec covers the slots.
    struct iovec remote[kMaxIov];
    size_t nremote = 0, first = i, bytes = 0;
    while (i < count && nremote < kMaxIov) {
      if (nremote > 0 && addrs[i] == reinterpret_cast<uintptr_t>(remote[nremote - 1].iov_base) + remote[nremote - 1].iov_len) {
        remote[nremote - 1].iov_len += page;
      } else {
        remote[nremote].iov_base = reinterpret_cast<void*>(addrs[i]);
        remote[nremote].iov_len = page;
        ++nremote;
      }
      bytes += page;
      ++i;
    }
    struct iovec local = {out + first * page, bytes};
    ssize_t n = process_vm_readv(getpid(), &local, 1, remote, nremote, 0);
    size_t got = n > 0 ? static_cast<size_t>(n) / page : 0;
    for (size_t k = 0; k < got; ++k) ok[first + k] = 1;
    read += got;
    // The call stopped at an unreadable page: retry the rest one page at a time so a single hole
    // (a library unloaded mid-sweep) does not hide the pages after it.
    for (size_t k = first + got; k < i; ++k) {
      int err = 0;
      if (ReadOnce(addrs[k], out + k * page, page, &err) == page) {
        ok[k] = 1;
        ++read;
      }
    }
  }
  return read;
}

bool Residency(uintptr_t addr, size_t len, std::vector<uint8_t>* out, int* err) {
  const size_t ps = PageSize();
  size_t pages = (len + ps - 1) / ps;
  out->assign(pages, 0);
  if (mincore(reinterpret_cast<void*>(addr), len, out->data()) != 0) {
    if (err) *err = errno;
    return false;
  }
  for (auto& b : *out) b &= 1;  // other bits are reserved
  return true;
}

bool OpenPagemap(int* err, std::string* detail) {
  if (g_pagemapFd.load() >= 0) {
    *detail = "already open";
    return true;
  }
  int fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    *err = errno;
    *detail = std::string("open /proc/self/pagemap: ") + strerror(errno) +
              (errno == EACCES ? " (the process is already non-dumpable: open it before harden())" : "");
    return false;
  }
  int expected = -1;
  if (!g_pagemapFd.compare_exchange_strong(expected, fd)) close(fd);
  *detail = "open";
  return true;
}

bool PagemapOpen() { return g_pagemapFd.load() >= 0; }

bool PagemapStates(uintptr_t addr, size_t len, std::vector<uint8_t>* out, int* err) {
  int fd = g_pagemapFd.load();
  if (fd < 0) {
    if (err) *err = EBADF;
    return false;
  }
  const size_t ps = PageSize();
  size_t pages = (len + ps - 1) / ps;
  out->assign(pages, 0);
  // One 64-bit entry per page: bit 63 present, bit 61 "file-page or shared-anon".
  // A present page of a private file mapping without bit 61 was copied-on-write: written to.
  std::vector<uint64_t> entries(std::min<size_t>(pages, 8192));
  size_t done = 0;
  while (done < pages) {
    size_t n = std::min(entries.size(), pages - done);
    off_t pos = static_cast<off_t>((addr / ps + done) * sizeof(uint64_t));
    ssize_t r = pread(fd, entries.data(), n * sizeof(uint64_t), pos);
    if (r <= 0) {
      if (err) *err = r < 0 ? errno : EIO;
      return false;
    }
    size_t got = static_cast<size_t>(r) / sizeof(uint64_t);
    for (size_t k = 0; k < got; ++k) {
      uint64_t e = entries[k];
      bool present = (e >> 63) & 1;
      bool file = (e >> 61) & 1;
      (*out)[done + k] = present ? (file ? 1 : 2) : 0;
    }
    done += got;
  }
  return true;
}

bool PagemapEntries(uintptr_t addr, size_t len, std::vector<uint64_t>* out, int* err) {
  int fd = g_pagemapFd.load();
  if (fd < 0) {
    if (err) *err = EBADF;
    return false;
  }
  const size_t ps = PageSize();
  const size_t pages = (len + ps - 1) / ps;
  out->assign(pages, 0);
  size_t done = 0;
  while (done < pages) {
    off_t pos = static_cast<off_t>((addr / ps + done) * sizeof(uint64_t));
    ssize_t r = pread(fd, out->data() + done, (pages - done) * sizeof(uint64_t), pos);
    if (r <= 0) {
      if (err) *err = r < 0 ? errno : EIO;
      return false;
    }
    done += static_cast<size_t>(r) / sizeof(uint64_t);
  }
  return true;
}

namespace {
// PAGEMAP_SCAN's declarations: pagemap_scan_linux.h (shared with tree_linux.cc).
std::atomic<bool> g_scanUnsupported{false};
}  // namespace

bool WrittenPages(uintptr_t addr, size_t len, std::vector<uint32_t>* pages, int* err) {
  int fd = g_pagemapFd.load();
  if (fd < 0) {
    if (err) *err = EBADF;
    return false;
  }
  const size_t ps = PageSize();
  if (!g_scanUnsupported.load(std::memory_order_relaxed)) {
    // Present and NOT file-backed: in a private file mapping that is a page copied on write.
    std::vector<uint64_t> found;
    int e = 0;
    bool ok = PagemapScanPages(fd, addr, addr + len, ps, kPageIsFile, kPageIsFile | kPageIsPresent, 0, &found, &e);
    if (!ok) {
      if (e == ENOTTY || e == EINVAL || e == EOPNOTSUPP) g_scanUnsupported.store(true);
      else if (err) *err = e;
    }
    for (uint64_t p : found) pages->push_back(static_cast<uint32_t>((p - addr) / ps));
    if (ok) return true;
    pages->clear();
    if (!g_scanUnsupported.load()) return false;
  }
  return WrittenPagesFromStates(addr, len, pages, err);
}

bool ExecutableRegions(std::vector<ExecRegion>* out, int* err) {
  // Linux enumerates mappings from /proc/self/maps in TypeScript (src/procfs/maps.ts).
  if (err) *err = ENOSYS;
  return false;
}

}  // namespace pg
