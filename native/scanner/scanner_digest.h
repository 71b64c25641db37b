// Digest slots of the engine, defined once: 16 bytes per 4 KiB page, all-zero = "unknown" (never
// hashed). BLAKE3 never yields 128 zero bits in practice; CRC32C fills only the first 4 bytes, so
// fast-mode slots carry a marker in the last byte to be non-zero. Nothing outside native/ writes
// digests, so the marker lives only here.
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "hash/hash.h"

namespace pg {

using hash::kDigestSize;
using hash::kPageSize;

constexpr uint8_t kFastMarker = 1;  // last byte of a fast-mode (CRC32C) slot

inline void MarkKnown(hash::Mode mode, uint8_t* digests, size_t pages) {
  if (mode != hash::Mode::Fast) return;
  for (size_t p = 0; p < pages; ++p) digests[p * kDigestSize + kDigestSize - 1] = kFastMarker;
}

inline bool IsKnown(const uint8_t* slot) {
  static const uint8_t kZero[kDigestSize] = {0};
  return std::memcmp(slot, kZero, kDigestSize) != 0;
}

inline bool SameDigest(const uint8_t* a, const uint8_t* b) { return std::memcmp(a, b, kDigestSize) == 0; }

// Hashes one 4 KiB page into a known slot.
inline void HashPage(hash::Mode mode, const uint8_t* page, uint8_t* slot) {
  hash::HashPages(mode, page, 1, slot);
  MarkKnown(mode, slot, 1);
}

// Limits on sizes that come from JS: digest buffers are 16 bytes per page, so a region of 2^47
// bytes would ask for 512 GiB. 16 GiB of code (4 Mi pages, 64 MiB of digests) is ~60 times a large
// Electron process; larger requests get a RangeError before anything is allocated.
constexpr uint64_t kMaxJobBytes = uint64_t(16) << 30;

}  // namespace pg
