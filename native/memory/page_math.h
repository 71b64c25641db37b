// Digest pages versus OS pages. Digests are kept per 4 KiB page on every platform (hash.h), while
// the OS page is 4 KiB on x86-64 but 16 KiB on macOS arm64 and Asahi Linux and 64 KiB on some arm64
// servers. Mappings start and end on OS pages, which are whole multiples of 4 KiB, so a region is
// always a whole number of digest pages; residency (mincore) and pagemap answer per OS page, and
// these helpers convert between the two. Pure, header-only: test/native/page-math.test.mjs
// compiles them into a unit test.
#pragma once
#include <cstddef>

namespace pg {
namespace pagemath {

constexpr size_t kDigestPage = 4096;

// Digest pages of a region of `bytes` (a multiple of 4 KiB: any OS page is).
inline size_t DigestPages(size_t bytes) { return bytes / kDigestPage; }

// Entries mincore / pagemap return for `bytes` from an OS-page-aligned start.
inline size_t OsPages(size_t bytes, size_t osPage) { return (bytes + osPage - 1) / osPage; }

// The OS page (index from the region start, which is OS-page aligned) holding digest page `p`.
inline size_t OsPageOf(size_t p, size_t osPage) { return p * kDigestPage / osPage; }

// The digest pages [*first, *last) that OS page `osIndex` of a region covers, clipped to the
// region's `digestPages` (the last OS page of a region is never partial on Linux, but clipping
// keeps a bad index from reaching past the digests).
inline void DigestPagesOf(size_t osIndex, size_t osPage, size_t digestPages, size_t* first, size_t* last) {
  const size_t per = osPage >= kDigestPage ? osPage / kDigestPage : 1;
  *first = osIndex * per;
  *last = *first + per;
  if (*first > digestPages) *first = digestPages;
  if (*last > digestPages) *last = digestPages;
}

}  // namespace pagemath
}  // namespace pg
