// Linux: safe reads of our own memory through process_vm_readv (or, where that syscall is refused,
// an fd on /proc/self/mem), residency via mincore, and the pagemap tamper sentinel.
#include "memory.h"
#include "pagemap_scan_linux.h"
#include "file_posix.h"
#include "page_math.h"

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

// The second reader: pread on /proc/self/mem. Like process_vm_readv it goes through the kernel
// (access_remote_vm) and fails with EIO on an unmapped address instead of faulting. It is needed
// where process_vm_readv is refused: ENOSYS under qemu-user, EPERM (or ENOSYS) from a container's
// or sandbox's seccomp profile. The fd must be opened before PR_SET_DUMPABLE 0 (OpenPagemap, at
// prepare() time); a non-dumpable process cannot open it any more.
std::atomic<int> g_memFd{-1};
std::atomic<int> g_reader{static_cast<int>(MemoryReader::kUnknown)};
std::atomic<int> g_readerErrno{0};  // what process_vm_readv said when it was given up

void OpenMemFd() {
  if (g_memFd.load() >= 0) return;
  int fd = open("/proc/self/mem", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return;
  int expected = -1;
  if (!g_memFd.compare_exchange_strong(expected, fd)) close(fd);
}

// process_vm_readv answered with something other than "this address is bad": the syscall itself
// is unavailable to us, for every address.
bool SyscallRefused(int e) { return e == ENOSYS || e == EPERM; }

size_t ReadVm(uintptr_t addr, void* out, size_t len, int* err) {
  struct iovec local = {out, len};
  struct iovec remote = {reinterpret_cast<void*>(addr), len};
  ssize_t n = process_vm_readv(getpid(), &local, 1, &remote, 1, 0);
  if (n < 0) {
    if (err) *err = errno;
    return 0;
  }
  return static_cast<size_t>(n);
}

size_t ReadMem(uintptr_t addr, void* out, size_t len, int* err) {
  const int fd = g_memFd.load();
  size_t done = 0;
  while (done < len) {
    ssize_t n = pread(fd, static_cast<uint8_t*>(out) + done, len - done, static_cast<off_t>(addr + done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      if (err) *err = n < 0 ? errno : EIO;
      break;
    }
    done += static_cast<size_t>(n);
  }
  return done;
}

// Switches to /proc/self/mem after process_vm_readv was refused with `e`; false when that fd
// cannot be had either (the reader becomes kNone and every read fails with `e`).
bool FallBack(int e) {
  g_readerErrno.store(e);
  OpenMemFd();  // works only while the process is still dumpable
  const MemoryReader r = g_memFd.load() >= 0 ? MemoryReader::kProcMem : MemoryReader::kNone;
  g_reader.store(static_cast<int>(r));
  return r == MemoryReader::kProcMem;
}

size_t ReadOnce(uintptr_t addr, void* out, size_t len, int* err) {
  switch (static_cast<MemoryReader>(g_reader.load(std::memory_order_relaxed))) {
    case MemoryReader::kProcMem:
      return ReadMem(addr, out, len, err);
    case MemoryReader::kNone:
      if (err) *err = g_readerErrno.load();
      return 0;
    default:
      break;
  }
  int e = 0;
  size_t n = ReadVm(addr, out, len, &e);
  if (n > 0) {
    int expected = static_cast<int>(MemoryReader::kUnknown);
    g_reader.compare_exchange_strong(expected, static_cast<int>(MemoryReader::kProcessVmReadv));
    return n;
  }
  if (SyscallRefused(e) && FallBack(e)) return ReadMem(addr, out, len, err);
  if (SyscallRefused(e)) e = g_readerErrno.load();
  if (err) *err = e;
  return 0;
}
}  // namespace

MemoryReaderState MemoryReaderNow() {
  MemoryReaderState s;
  s.reader = static_cast<MemoryReader>(g_reader.load());
  s.refusedErrno = g_readerErrno.load();
  s.memFdOpen = g_memFd.load() >= 0;
  return s;
}

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

namespace {
// SafeReadPages through /proc/self/mem: one pread per run of adjacent pages, then page by page
// after a failure so one hole does not hide the pages after it.
size_t ReadPagesMem(const uintptr_t* addrs, size_t count, uint8_t* out, uint8_t* ok) {
  const size_t page = 4096;
  size_t read = 0;
  for (size_t i = 0; i < count;) {
    size_t j = i + 1;
    while (j < count && addrs[j] == addrs[j - 1] + page) ++j;
    int err = 0;
    const size_t got = ReadMem(addrs[i], out + i * page, (j - i) * page, &err) / page;
    for (size_t k = i; k < i + got; ++k) ok[k] = 1;
    read += got;
    for (size_t k = i + got; k < j; ++k)
      if (ReadMem(addrs[k], out + k * page, page, &err) == page) {
        ok[k] = 1;
        ++read;
      }
    i = j;
  }
  return read;
}
}  // namespace

size_t SafeReadPages(const uintptr_t* addrs, size_t count, uint8_t* out, uint8_t* ok) {
  const size_t page = 4096;  // digest granularity, independent of the OS page size
  size_t read = 0;
  std::memset(ok, 0, count);
  if (count == 0) return 0;
  size_t i = 0;
  // Until a read succeeds or process_vm_readv is refused, pages go one at a time: the first
  // answer decides which reader the rest use.
  for (; i < count && g_reader.load(std::memory_order_relaxed) == static_cast<int>(MemoryReader::kUnknown); ++i) {
    int err = 0;
    if (ReadOnce(addrs[i], out + i * page, page, &err) == page) {
      ok[i] = 1;
      ++read;
    }
  }
  switch (static_cast<MemoryReader>(g_reader.load(std::memory_order_relaxed))) {
    case MemoryReader::kProcMem:
      return read + ReadPagesMem(addrs + i, count - i, out + i * page, ok + i);
    case MemoryReader::kNone:
      return read;
    default:
      break;
  }
  while (i < count) {
    // Coalesce runs of adjacent pages into one remote iovec; one local iovec covers the slots.
    struct iovec remote[kMaxIov];
    size_t nremote = 0, first = i, bytes = 0;
    while (i < count && nremote < kMaxIov) {
      if (nremote > 0 &&
          addrs[i] == reinterpret_cast<uintptr_t>(remote[nremote - 1].iov_base) + remote[nremote - 1].iov_len) {
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
  size_t pages = pagemath::OsPages(len, ps);
  out->assign(pages, 0);
  if (mincore(reinterpret_cast<void*>(addr), len, out->data()) != 0) {
    if (err) *err = errno;
    return false;
  }
  for (auto& b : *out) b &= 1;  // other bits are reserved
  return true;
}

bool OpenPagemap(int* err, std::string* detail) {
  // The /proc/self/mem fallback reader is opened at the same moment, for the same reason.
  OpenMemFd();
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
      // ENOSYS: the ioctl is refused as a syscall (qemu-user does not pass it through).
      if (e == ENOTTY || e == EINVAL || e == EOPNOTSUPP || e == ENOSYS) g_scanUnsupported.store(true);
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
