// PAGEMAP_SCAN (linux/fs.h since Linux 6.7), declared here so the build does not need new uapi
// headers. Shared by the self sentinel (memory_linux.cc) and the process tree (tree_linux.cc).
#pragma once
#include <errno.h>
#include <sys/ioctl.h>

#include <cstdint>
#include <vector>

namespace pg {

struct PgPageRegion {
  uint64_t start, end, categories;
};
struct PgScanArg {
  uint64_t size, flags, start, end, walk_end, vec, vec_len, max_pages, category_inverted, category_mask,
      category_anyof_mask, return_mask;
};
constexpr unsigned long kPagemapScan = _IOWR('f', 16, PgScanArg);
constexpr uint64_t kPageIsFile = 1 << 2;
constexpr uint64_t kPageIsPresent = 1 << 3;
constexpr uint64_t kPageIsSwapped = 1 << 4;

// Appends the address of every page of [start, end) whose categories match (the kernel's rule:
// ((categories ^ inverted) & mask) == mask, and any of `anyof` when non-zero). False with *err on a
// failure (ENOTTY / EINVAL / EOPNOTSUPP: the kernel has no PAGEMAP_SCAN; the caller reads pagemap).
inline bool PagemapScanPages(int fd, uint64_t start, uint64_t end, uint64_t pageSize, uint64_t inverted, uint64_t mask,
                             uint64_t anyof, std::vector<uint64_t>* pages, int* err) {
  PgPageRegion vec[64];
  uint64_t pos = start;
  while (pos < end) {
    PgScanArg a = {};
    a.size = sizeof a;
    a.start = pos;
    a.end = end;
    a.vec = reinterpret_cast<uintptr_t>(vec);
    a.vec_len = 64;
    a.category_inverted = inverted;
    a.category_mask = mask;
    a.category_anyof_mask = anyof;
    a.return_mask = mask | anyof;
    long n = ioctl(fd, kPagemapScan, &a);
    if (n < 0) {
      if (errno == EINTR) continue;
      *err = errno;
      return false;
    }
    for (long i = 0; i < n; ++i)
      for (uint64_t p = vec[i].start; p < vec[i].end; p += pageSize) pages->push_back(p);
    if (a.walk_end <= pos) break;  // no progress: stop rather than spin
    pos = a.walk_end;              // the vector filled up: continue where the walk stopped
  }
  return true;
}

}  // namespace pg
