// File reads of the engine: per-page digests of a file range (the `hashFile` job), and one page of
// a mapped file as the mapping shows it.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

#include "hash/hash.h"

namespace pg {

// Per-page digests of a file range. `length` is rounded up to whole pages; bytes past EOF hash as
// zeros, as the kernel maps them. Returns false with errno. Reads through an fd the caller opened
// (and checked against the mapping's device and inode), so it works for deleted files and after
// hardening, when /proc/self/fd is no longer traversable.
bool HashFileRange(int fd, uint64_t offset, uint64_t length, hash::Mode mode, std::vector<uint8_t>* digests, int* err);

// Reads 4 KiB pages [offset, offset + pages * 4096) of the file into `out`. Returns how many whole
// pages a mapping of the file would show: a page that starts at or past EOF is not mappable (an
// access raises SIGBUS), so it ends the count; the tail of the last page past EOF is zero-filled,
// as the kernel maps it. 0 also on a read error.
size_t ReadFilePages(int fd, uint64_t offset, size_t pages, uint8_t* out);

}  // namespace pg
