// FreeBSD part of the macOS/FreeBSD memory implementation (memory_posix.cc has the shared part and
// the header comment): safe reads through a pipe (the kernel's copyin fails with EFAULT instead of
// faulting), and the address space walk with sysctl KERN_PROC_VMMAP.
#if !defined(__FreeBSD__)
#error "memory_freebsd.cc is for FreeBSD (binding.gyp selects it for OS=='freebsd')"
#endif
#include <sys/types.h>
#include <sys/sysctl.h>
#include <sys/user.h>
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstddef>
#include <cstring>

#include "memory_posix.h"

namespace pg {
namespace posix {

namespace {

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

}  // namespace

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

// One copy per 4 KiB chunk: a pipe write of a longer range could copy part of it.
bool CopyRun(uintptr_t, void*, size_t, int*) { return false; }

bool WalkMappings(std::vector<Mapping>* all, int* err) {
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
    all->push_back(std::move(m));
    pos += static_cast<size_t>(kve->kve_structsize);
  }
  return true;
}

}  // namespace posix
}  // namespace pg
