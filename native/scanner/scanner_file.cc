#include "scanner_file.h"

#include <algorithm>
#include <cstring>

#include "memory.h"
#include "scanner_digest.h"

namespace pg {

bool HashFileRange(int fd, uint64_t offset, uint64_t length, hash::Mode mode, std::vector<uint8_t>* digests, int* err) {
  const size_t pages = static_cast<size_t>((length + kPageSize - 1) / kPageSize);
  digests->assign(pages * kDigestSize, 0);
  const size_t batch = 64;
  std::vector<uint8_t> buf(batch * kPageSize);
  for (size_t p = 0; p < pages; p += batch) {
    size_t n = std::min(batch, pages - p);
    size_t want = n * kPageSize, got = 0;
    // Short only at EOF: the kernel maps zeros past the end of the file.
    if (!ReadFileAt(fd, offset + p * kPageSize, buf.data(), want, &got, err)) return false;
    std::memset(buf.data() + got, 0, want - got);
    hash::HashPages(mode, buf.data(), n, digests->data() + p * kDigestSize);
  }
  MarkKnown(mode, digests->data(), pages);
  return true;
}

size_t ReadFilePages(int fd, uint64_t offset, size_t pages, uint8_t* out) {
  size_t got = 0;
  int err = 0;
  if (!ReadFileAt(fd, offset, out, pages * kPageSize, &got, &err)) return 0;
  const size_t whole = (got + kPageSize - 1) / kPageSize;
  if (whole > 0) std::memset(out + got, 0, whole * kPageSize - got);
  return whole;
}

}  // namespace pg
