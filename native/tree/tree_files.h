// Reads the pages of a child's mapped file that the tree code check compares, bounded in time.
// The path comes from the child's maps, so the child decides what is there when it is opened: a
// FIFO (open blocks until a writer comes), a device, or a file on a FUSE mount whose daemon never
// answers (open or read blocks for good). Each file is opened and read on a helper thread the pass
// waits for until its deadline; one that does not return is left behind (it owns nothing the pass
// needs) and the pass settles with the file reported stalled. At most kMaxStuckReads helpers may
// be stuck at a time: past that, files are not opened at all until one returns.
// Pure platform code, no N-API (tree_files_linux.cc).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "tree.h"

namespace pg {

constexpr int kMaxStuckReads = 2;

struct FilePages {
  // Opened, a regular file, and the mapped one (same device and inode); else `why` says what it was.
  bool opened = false;
  // The helper did not return by the deadline (or too many earlier ones are still stuck).
  bool stalled = false;
  std::string why;
  std::vector<uint8_t> data;  // 4096 bytes per offset; zeros past the end of the file
  std::vector<int> errs;      // per offset: 0, or the errno of its pread
};

// Opens `r.path` without blocking (O_NONBLOCK, so a FIFO opens at once), requires a regular file
// with the mapping's device and inode, and reads a page at each of `offsets`. Waits until
// `deadlineNs` (CLOCK_MONOTONIC) at most.
void ReadMappedFilePages(const TreeRegion& r, const std::vector<uint64_t>& offsets, uint64_t deadlineNs,
                         FilePages* out);

// Helpers still stuck in an open or a read (for tests and the stall detail).
int StuckFileReads();

}  // namespace pg
