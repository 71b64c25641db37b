// macOS and FreeBSD: safe reads of our own memory, residency via mincore, executable regions.
//
// Written to the man pages and the system headers (mach_vm_read_overwrite and
// mach_vm_region_recurse from <mach/mach_vm.h>, proc_pidinfo(PROC_PIDREGIONPATHINFO) from
// <libproc.h>, sysctl(3) KERN_PROC_VMMAP and struct kinfo_vmentry from <sys/user.h>, mincore(2),
// write(2), pipe(2)); not compiled or run here (no macOS SDK or FreeBSD sysroot on the build
// machine). test/harden/posix-sources.test.mjs syntax-checks it with g++ against
// declaration shims transcribed from those headers: it catches C++ mistakes, not API mistakes.
//
// Safe reads, which never dereference a pointer into memory that may be unmapped:
// - macOS: mach_vm_read_overwrite(mach_task_self(), ...) copies through the kernel and returns
//   KERN_INVALID_ADDRESS / KERN_PROTECTION_FAILURE for a bad range instead of faulting. A range
//   with a hole fails as a whole, so after a failure we retry 4 KiB at a time.
// - FreeBSD has no process_vm_readv, and ptrace(PT_IO) needs a tracer. We use the kernel's copyin
//   through a pipe: write(2) from the address into a non-blocking pipe either copies the bytes or
//   fails with EFAULT (the kernel probes user memory and never raises SIGSEGV), then read(2)
//   takes them back out. Each write stays inside one 4 KiB chunk of one page, so it copies all
//   or nothing; after an error the pipe is drained. Rejected alternatives: a mincore() check
//   followed by a plain load is racy (the page can be unmapped in between: SIGSEGV), and a
//   SIGSEGV handler with siglongjmp would fight Node's own signal handlers. The pipe costs two
//   syscalls per 4 KiB page; each thread gets its own pipe (thread_local), so the scanner thread
//   and the JS thread never share one.
//
// Residency: mincore(2) (MINCORE_INCORE bit). Tamper sentinel: not available (no pagemap
// equivalent is exposed to the process on either OS): OpenPagemap/PagemapStates return false.
#include <sys/types.h>
#include <sys/mman.h>
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#if defined(__APPLE__)
#include <libproc.h>
#include <mach/mach.h>
#include <mach/mach_vm.h>
#elif defined(__FreeBSD__)
#include <sys/sysctl.h>
#include <sys/user.h>
#endif

#include <algorithm>
#include <cstring>

#include "memory.h"
#include "file_posix.h"

namespace pg {

namespace {

constexpr size_t kChunk = 4096;  // digest granularity; divides every OS page size (4 or 16 KiB)

// One entry of the address space walk (any protection), before filtering to executable ones.
struct Mapping {
  uintptr_t start = 0, end = 0;
  bool r = false, w = false, x = false;
  bool anonymous = false;  // not backed by a file: candidate part of a JIT reservation
  bool file = false;
  std::string path;
  int64_t offset = -1;
  bool hasFileId = false;
  uint64_t dev = 0, ino = 0;
};

std::string Protect(const Mapping& m) {
  std::string s = "---";
  if (m.r) s[0] = 'r';
  if (m.w) s[1] = 'w';
  if (m.x) s[2] = 'x';
  return s;
}

// Executable mappings of `all` (address-ordered) as ExecRegions. For anonymous ones the
// reservation is the run of adjacent anonymous mappings of any protection around them: V8
// reserves its code range as one PROT_NONE block and commits rwx pieces inside it.
void ToRegions(const std::vector<Mapping>& all, std::vector<ExecRegion>* out) {
  out->clear();
  for (size_t i = 0; i < all.size(); ++i) {
    const Mapping& m = all[i];
    if (!m.x) continue;
    ExecRegion r;
    r.start = m.start;
    r.end = m.end;
    r.protect = Protect(m);
    r.path = m.path;
    r.fileOffset = m.file ? m.offset : -1;
    r.hasFileId = m.hasFileId;
    r.dev = m.dev;
    r.ino = m.ino;
    if (m.file) {
      r.type = "image";  // a file mapped executable: a loaded binary or library
      r.allocationBase = m.start;
      r.allocationEnd = m.end;
    } else {
      r.type = "private";
      size_t lo = i, hi = i;
      while (lo > 0 && all[lo - 1].anonymous && all[lo - 1].end == all[lo].start) --lo;
      while (hi + 1 < all.size() && all[hi + 1].anonymous && all[hi + 1].start == all[hi].end) ++hi;
      r.allocationBase = all[lo].start;
      r.allocationEnd = all[hi].end;
    }
    out->push_back(std::move(r));
  }
}

#if defined(__APPLE__)

bool CopyChunk(uintptr_t addr, void* out, size_t len, int* err) {
  mach_vm_size_t got = 0;
  kern_return_t kr =
      mach_vm_read_overwrite(mach_task_self(), static_cast<mach_vm_address_t>(addr), static_cast<mach_vm_size_t>(len),
                             static_cast<mach_vm_address_t>(reinterpret_cast<uintptr_t>(out)), &got);
  if (kr != KERN_SUCCESS || got != len) {
    if (err) *err = kr == KERN_PROTECTION_FAILURE ? EACCES : EFAULT;
    return false;
  }
  return true;
}

#elif defined(__FreeBSD__)

// A per-thread non-blocking pipe: the kernel copies user memory into it with copyin, which fails
// with EFAULT on an unmapped or unreadable address instead of faulting.
struct ProbePipe {
  int rd = -1, wr = -1;
  ~ProbePipe() {
    if (rd >= 0) close(rd);
    if (wr >= 0) close(wr);
  }
  bool Ready(int* err) {
    if (rd >= 0) return true;
    int fds[2];
    if (pipe2(fds, O_CLOEXEC | O_NONBLOCK) != 0) {
      if (err) *err = errno;
      return false;
    }
    rd = fds[0];
    wr = fds[1];
    return true;
  }
  void Drain() {
    uint8_t sink[kChunk];
    while (read(rd, sink, sizeof sink) > 0) {
    }
  }
};
thread_local ProbePipe t_pipe;

// `len` <= kChunk and [addr, addr+len) inside one page (the pipe holds 16 KiB at least).
bool CopyChunk(uintptr_t addr, void* out, size_t len, int* err) {
  if (!t_pipe.Ready(err)) return false;
  ssize_t w;
  do w = write(t_pipe.wr, reinterpret_cast<const void*>(addr), len);
  while (w < 0 && errno == EINTR);
  if (w != static_cast<ssize_t>(len)) {
    if (err) *err = w < 0 ? errno : EIO;
    t_pipe.Drain();
    return false;
  }
  size_t got = 0;
  while (got < len) {
    ssize_t r = read(t_pipe.rd, static_cast<uint8_t*>(out) + got, len - got);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) {
      if (err) *err = r < 0 ? errno : EIO;
      t_pipe.Drain();
      return false;
    }
    got += static_cast<size_t>(r);
  }
  return true;
}

#else
#error "memory_posix.cc is for macOS and FreeBSD (Linux uses memory_linux.cc)"
#endif

// Copies [addr, addr+len) in chunks that never cross a 4 KiB boundary; stops at the first failure.
size_t CopyChunked(uintptr_t addr, void* out, size_t len, int* err) {
  size_t done = 0;
  while (done < len) {
    size_t n = std::min(len - done, kChunk - ((addr + done) % kChunk));
    if (!CopyChunk(addr + done, static_cast<uint8_t*>(out) + done, n, err)) break;
    done += n;
  }
  return done;
}

}  // namespace

size_t PageSize() {
  static const size_t size = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  return size;
}

size_t SafeRead(uintptr_t addr, void* out, size_t len, int* err) {
  if (err) *err = 0;
#if defined(__APPLE__)
  // One kernel copy for the whole range when it is all readable; per chunk after a failure.
  if (len > 0 && CopyChunk(addr, out, len, err)) return len;
#endif
  return CopyChunked(addr, out, len, err);
}

size_t SafeReadPages(const uintptr_t* addrs, size_t count, uint8_t* out, uint8_t* ok) {
  size_t read = 0;
  std::memset(ok, 0, count);
  size_t i = 0;
  while (i < count) {
    size_t first = i++;
    while (i < count && addrs[i] == addrs[i - 1] + kChunk) ++i;
    int err = 0;
#if defined(__APPLE__)
    // A run of adjacent pages in one call; on a hole, fall through to page by page.
    if (CopyChunk(addrs[first], out + first * kChunk, (i - first) * kChunk, &err)) {
      std::memset(ok + first, 1, i - first);
      read += i - first;
      continue;
    }
#endif
    for (size_t k = first; k < i; ++k) {
      if (CopyChunk(addrs[k], out + k * kChunk, kChunk, &err)) {
        ok[k] = 1;
        ++read;
      }
    }
  }
  return read;
}

bool Residency(uintptr_t addr, size_t len, std::vector<uint8_t>* out, int* err) {
  const size_t ps = PageSize();
  out->assign((len + ps - 1) / ps, 0);
  // macOS declares the vector as char*, FreeBSD as char*: one byte per page, MINCORE_INCORE in
  // bit 0. ENOMEM when part of the range is not mapped, as on Linux.
  if (mincore(reinterpret_cast<char*>(addr), len, reinterpret_cast<char*>(out->data())) != 0) {
    if (err) *err = errno;
    return false;
  }
  for (auto& b : *out) b = (b & MINCORE_INCORE) ? 1 : 0;
  return true;
}

bool OpenPagemap(int* err, std::string* detail) {
  *err = ENOSYS;
  *detail = "the page-state tamper sentinel is not available on this OS (no pagemap equivalent)";
  return false;
}

bool PagemapOpen() { return false; }

bool PagemapStates(uintptr_t addr, size_t len, std::vector<uint8_t>* out, int* err) {
  if (err) *err = EBADF;  // the scanner's "never opened" signal
  return false;
}

bool ExecutableRegions(std::vector<ExecRegion>* out, int* err) {
  std::vector<Mapping> all;
#if defined(__APPLE__)
  // mach_vm_region_recurse descends into submaps (the dyld shared cache is one), so each leaf
  // entry comes with its own protection; mach_vm_region would report the submap as one block.
  mach_vm_address_t addr = 0;
  natural_t depth = 0;
  for (;;) {
    mach_vm_size_t size = 0;
    vm_region_submap_info_data_64_t info;
    mach_msg_type_number_t count = VM_REGION_SUBMAP_INFO_COUNT_64;
    kern_return_t kr = mach_vm_region_recurse(mach_task_self(), &addr, &size, &depth,
                                              reinterpret_cast<vm_region_recurse_info_t>(&info), &count);
    if (kr == KERN_INVALID_ADDRESS) break;  // past the last region
    if (kr != KERN_SUCCESS) {
      if (err) *err = EIO;
      return false;
    }
    if (info.is_submap) {
      ++depth;
      continue;
    }
    Mapping m;
    m.start = static_cast<uintptr_t>(addr);
    m.end = static_cast<uintptr_t>(addr + size);
    m.r = (info.protection & VM_PROT_READ) != 0;
    m.w = (info.protection & VM_PROT_WRITE) != 0;
    m.x = (info.protection & VM_PROT_EXECUTE) != 0;
    m.file = info.external_pager != 0;
    if (m.x) {
      // Path, file offset and vnode identity (what proc_regionfilename(3) reads, plus the stat).
      struct proc_regionwithpathinfo rp;
      std::memset(&rp, 0, sizeof rp);
      int n =
          proc_pidinfo(getpid(), PROC_PIDREGIONPATHINFO, static_cast<uint64_t>(addr), &rp, static_cast<int>(sizeof rp));
      if (n == static_cast<int>(sizeof rp) && rp.prp_prinfo.pri_address <= addr &&
          addr < rp.prp_prinfo.pri_address + rp.prp_prinfo.pri_size && rp.prp_vip.vip_path[0] != '\0') {
        m.file = true;
        m.path.assign(rp.prp_vip.vip_path, strnlen(rp.prp_vip.vip_path, sizeof rp.prp_vip.vip_path));
        m.offset = static_cast<int64_t>(rp.prp_prinfo.pri_offset + (addr - rp.prp_prinfo.pri_address));
        m.hasFileId = true;
        m.dev = static_cast<uint64_t>(rp.prp_vip.vip_vi.vi_stat.vst_dev);
        m.ino = static_cast<uint64_t>(rp.prp_vip.vip_vi.vi_stat.vst_ino);
      } else if (m.file) {
        m.offset = static_cast<int64_t>(info.offset);
      }
    }
    m.anonymous = !m.file;
    all.push_back(std::move(m));
    addr += size;
  }
#elif defined(__FreeBSD__)
  // sysctl KERN_PROC_VMMAP (what kinfo_getvmmap(3) wraps; used directly to avoid linking libutil):
  // packed struct kinfo_vmentry records of kve_structsize bytes each (the path is truncated).
  int mib[4] = {CTL_KERN, KERN_PROC, KERN_PROC_VMMAP, static_cast<int>(getpid())};
  std::vector<char> buf;
  size_t len = 0;
  for (int attempt = 0;; ++attempt) {
    if (sysctl(mib, 4, nullptr, &len, nullptr, 0) != 0) {
      if (err) *err = errno;
      return false;
    }
    len = len * 4 / 3;  // the map can grow between the two calls
    buf.assign(len, 0);
    if (sysctl(mib, 4, buf.data(), &len, nullptr, 0) == 0) break;
    if (errno != ENOMEM || attempt >= 4) {
      if (err) *err = errno;
      return false;
    }
  }
  for (size_t pos = 0; pos + sizeof(int) <= len;) {
    const struct kinfo_vmentry* kve = reinterpret_cast<const struct kinfo_vmentry*>(buf.data() + pos);
    if (kve->kve_structsize <= 0 || pos + static_cast<size_t>(kve->kve_structsize) > len) break;
    Mapping m;
    m.start = static_cast<uintptr_t>(kve->kve_start);
    m.end = static_cast<uintptr_t>(kve->kve_end);
    m.r = (kve->kve_protection & KVME_PROT_READ) != 0;
    m.w = (kve->kve_protection & KVME_PROT_WRITE) != 0;
    m.x = (kve->kve_protection & KVME_PROT_EXEC) != 0;
    m.file = kve->kve_type == KVME_TYPE_VNODE;
    m.anonymous =
        kve->kve_type == KVME_TYPE_DEFAULT || kve->kve_type == KVME_TYPE_SWAP || kve->kve_type == KVME_TYPE_NONE;
    if (m.file) {
      const size_t at = offsetof(struct kinfo_vmentry, kve_path), size = static_cast<size_t>(kve->kve_structsize);
      size_t max = size > at ? size - at : 0;  // the record is cut after the path's NUL
      m.path.assign(kve->kve_path, strnlen(kve->kve_path, std::min(max, sizeof kve->kve_path)));
      m.offset = static_cast<int64_t>(kve->kve_offset);
      m.hasFileId = true;
      m.dev = static_cast<uint64_t>(kve->kve_vn_fsid);
      m.ino = static_cast<uint64_t>(kve->kve_vn_fileid);
    }
    all.push_back(std::move(m));
    pos += static_cast<size_t>(kve->kve_structsize);
  }
#endif
  ToRegions(all, out);
  return true;
}

bool WrittenPages(uintptr_t addr, size_t len, std::vector<uint32_t>* pages, int* err) {
  return WrittenPagesFromStates(addr, len, pages, err);
}

}  // namespace pg
