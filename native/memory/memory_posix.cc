// macOS and FreeBSD: safe reads of our own memory, residency via mincore, executable regions.
// This file is the part both share; the OS calls (the safe copy, the address space walk) are in
// memory_darwin.cc and memory_freebsd.cc behind memory_posix.h, one of them built per OS by binding.gyp.
//
// Written to the man pages and the system headers (mach_vm_read_overwrite and
// mach_vm_region_recurse from <mach/mach_vm.h>, proc_pidinfo(PROC_PIDREGIONPATHINFO) from
// <libproc.h>, sysctl(3) KERN_PROC_VMMAP and struct kinfo_vmentry from <sys/user.h>, mincore(2),
// write(2), pipe(2)); not compiled or run here (no macOS SDK or FreeBSD sysroot on the build
// machine). test/harden/posix-sources.test.mjs syntax-checks them with g++ against
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

#include <algorithm>
#include <cstring>

#include "memory.h"
#include "file_posix.h"
#include "memory_posix.h"

namespace pg {

namespace {

using posix::CopyChunk;
using posix::CopyRun;
using posix::kChunk;
using posix::Mapping;

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
  // One kernel copy for the whole range when it is all readable (macOS); per chunk otherwise.
  if (CopyRun(addr, out, len, err)) return len;
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
    // A run of adjacent pages in one call (macOS); on a hole or elsewhere, page by page.
    if (CopyRun(addrs[first], out + first * kChunk, (i - first) * kChunk, &err)) {
      std::memset(ok + first, 1, i - first);
      read += i - first;
      continue;
    }
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
  if (!posix::WalkMappings(&all, err)) return false;
  ToRegions(all, out);
  return true;
}

bool WrittenPages(uintptr_t addr, size_t len, std::vector<uint32_t>* pages, int* err) {
  return WrittenPagesFromStates(addr, len, pages, err);
}

}  // namespace pg
