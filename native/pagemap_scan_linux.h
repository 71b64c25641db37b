// PAGEMAP_SCAN (linux/fs.h since Linux 6.7), declared here so the build does not need new uapi
// headers. Shared by the self sentinel (memory_linux.cc) and the process tree (tree_linux.cc).
#pragma once
#include <sys/ioctl.h>

#include <cstdint>

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

}  // namespace pg
