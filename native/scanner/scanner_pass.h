// One pass of the code monitor, as one native job: read every page of the regions once, compare
// with the baseline, adopt pages seen for the first time, confirm and locate what changed.
//
// The read path ("hash each page once"). A private file page the process has not written is the
// page-cache page, so its digest is the file's digest: the on-disk comparison and the memory check
// share one read and one hash. Per chunk of a file-backed region (with a file and pagemap):
// - pagemap before: page-cache pages (present and file-backed, or not present) are read from the
//   file with pread, which copies from the page cache at memcpy speed (~15 % less CPU than
//   process_vm_readv's per-page pinning, measured), never faults a page into the process (no RSS
//   growth) and, past a truncated end of file, returns short instead of raising SIGBUS; pages
//   copied on write (present or swapped, anonymous) are read from memory with process_vm_readv
//   (never a pointer dereference: an unmapped page is EFAULT, not SIGSEGV);
// - pagemap after: a page that is still the page-cache page at that point was the page-cache page
//   when it was read (a written page stays anonymous until it is unmapped), so what pread returned
//   is what the mapping showed; a page written meanwhile is read again from memory.
// Only pages seen for the first time that are not page-cache pages (copied on write: changed before
// the monitor started, or written since) get a second read, from the file, for the on-disk
// comparison. Without pagemap (not opened before hardening, other OSes) every page is read from
// memory and first-seen pages also from the file, as before.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "first_read.h"
#include "hash/hash.h"
#include "scanner_confirm.h"
#include "scanner_pacing.h"

namespace pg {

struct Engine;

struct PassRegion {
  uintptr_t start = 0, end = 0;
  std::string fileKey;       // the baseline key ("dev:inode", or "vdso")
  uint64_t fileOffset = 0;   // byte offset of `start` in the file
  bool compareDisk = false;  // first-seen pages take the file's digest (needs a file in the table)
};

struct PageRef {
  std::string fileKey;
  uint64_t filePage = 0;
};

struct PassOptions {
  hash::Mode mode = hash::Mode::Blake3;
  bool residentOnly = false;   // skip pages mincore() says are not resident
  double cpuFraction = 0;      // 0: unpaced
  bool trackProgress = false;  // publish pages done in Engine::progress (the full pass does)
  std::vector<PageRef> watch;  // pages with open findings: reported in `matched` when read and equal
  bool zeroCopy = true;        // hash present page-cache pages in place (file_view.h) where a lease is granted
  firstread::Force firstRead = firstread::Force::kAuto;  // a file's first pass: view or copy (first_read.h)
};

struct PassRegionStats {
  uint32_t pages = 0, hashed = 0, resident = 0, unread = 0, fromFile = 0;
};

struct PassResult {
  std::vector<Change> changes;
  std::vector<uint32_t> matched;  // indices into PassOptions::watch
  std::vector<PassRegionStats> regions;
  uint64_t bytesHashed = 0;      // pages read and hashed once
  uint64_t secondReadBytes = 0;  // extra file reads for the on-disk comparison
  uint64_t fileReadBytes = 0;    // pages read from the file instead of memory
  uint64_t viewBytes = 0;        // pages hashed in place in the page cache (no copy)
  uint64_t elapsedNs = 0, cpuNs = 0;
  bool cancelled = false;
};

PassResult RunPass(Engine& engine, const std::vector<PassRegion>& regions, const PassOptions& opts,
                   CancelToken& cancel);

}  // namespace pg
