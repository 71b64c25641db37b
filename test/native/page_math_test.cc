// Unit test of native/memory/page_math.h, compiled and run by page-math.test.mjs: regions that start and
// end on 4, 16 and 64 KiB OS pages map onto 4 KiB digest pages exactly once each.
#include <cstdio>
#include <cstdlib>

#include "page_math.h"

using namespace pg::pagemath;

static int failures = 0;
#define CHECK(cond, ...)                               \
  do {                                                 \
    if (!(cond)) {                                     \
      std::printf("FAIL %s:%d: ", __FILE__, __LINE__); \
      std::printf(__VA_ARGS__);                        \
      std::printf("\n");                               \
      ++failures;                                      \
    }                                                  \
  } while (0)

int main() {
  const size_t osPages[] = {4096, 16384, 65536};
  for (size_t os : osPages) {
    // Regions of 1..9 OS pages starting on an OS page (as Linux maps them), e.g. a 16 KiB-page
    // library text at 0x...4000 ending at 0x...c000.
    for (size_t n = 1; n <= 9; ++n) {
      const size_t bytes = n * os;
      const size_t digests = DigestPages(bytes);
      CHECK(digests * kDigestPage == bytes, "os %zu n %zu: %zu digest pages do not cover %zu bytes", os, n, digests,
            bytes);
      CHECK(OsPages(bytes, os) == n, "os %zu: %zu bytes are %zu OS pages, want %zu", os, bytes, OsPages(bytes, os), n);
      // Every digest page is covered by exactly one OS page, and that OS page is OsPageOf(p).
      int* seen = static_cast<int*>(std::calloc(digests, sizeof(int)));
      for (size_t o = 0; o < n; ++o) {
        size_t first = 0, last = 0;
        DigestPagesOf(o, os, digests, &first, &last);
        CHECK(last - first == os / kDigestPage, "os %zu page %zu covers %zu digest pages", os, o, last - first);
        for (size_t p = first; p < last; ++p) {
          ++seen[p];
          CHECK(OsPageOf(p, os) == o, "os %zu: digest page %zu is in OS page %zu, not %zu", os, p, OsPageOf(p, os), o);
        }
      }
      for (size_t p = 0; p < digests; ++p)
        CHECK(seen[p] == 1, "os %zu n %zu: digest page %zu covered %d times", os, n, p, seen[p]);
      std::free(seen);
      // The digest page holding the region's last byte lies in the last OS page.
      CHECK(OsPageOf(digests - 1, os) == n - 1, "os %zu: last digest page in OS page %zu", os,
            OsPageOf(digests - 1, os));
      // An OS page index past the region (a stale pagemap answer) yields no digest page.
      size_t first = 0, last = 0;
      DigestPagesOf(n, os, digests, &first, &last);
      CHECK(first == last, "os %zu: OS page %zu past the end gives [%zu, %zu)", os, n, first, last);
    }
    // A range that is not a whole number of OS pages (mincore rounds up).
    CHECK(OsPages(os + kDigestPage, os) == 2u, "os %zu: partial page rounds up", os);
  }
  std::printf("%s\n", failures ? "page_math: FAILED" : "page_math: ok");
  return failures ? 1 : 0;
}
