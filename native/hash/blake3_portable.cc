// Portable BLAKE3 backend: one compression at a time, plain C++. Runs everywhere and is the
// reference the SIMD backends are tested against (besides the official vectors).
#include "hash/blake3_impl.h"

namespace pg {
namespace hash {
namespace detail {

namespace {
void HashOne(const uint8_t* input, size_t blocks, const uint32_t key[8], uint64_t counter, uint8_t flags,
             uint8_t flagsStart, uint8_t flagsEnd, uint8_t out[32]) {
  uint32_t cv[8];
  for (int i = 0; i < 8; ++i) cv[i] = key[i];
  uint8_t blockFlags = flags | flagsStart;
  for (size_t b = 0; b < blocks; ++b) {
    if (b + 1 == blocks) blockFlags |= flagsEnd;
    CompressInPlace(cv, input + b * kBlockLen, kBlockLen, counter, blockFlags);
    blockFlags = flags;
  }
  StoreCv(out, cv);
}
}  // namespace

void HashManyPortable(const uint8_t* const* inputs, size_t numInputs, size_t blocks, const uint32_t key[8],
                      uint64_t counter, bool incrementCounter, uint8_t flags, uint8_t flagsStart, uint8_t flagsEnd,
                      uint8_t* out) {
  for (size_t i = 0; i < numInputs; ++i) {
    HashOne(inputs[i], blocks, key, counter, flags, flagsStart, flagsEnd, out + 32 * i);
    if (incrementCounter) ++counter;
  }
}

// A 4 KiB page as one BLAKE3 message: chunks 0..3, parents (0,1) and (2,3), then the root parent.
void PagesPortable(const uint8_t* pages, size_t count, uint8_t* out) {
  for (size_t p = 0; p < count; ++p) {
    const uint8_t* page = pages + p * 4096;
    uint8_t cvs[4 * 32];
    for (size_t c = 0; c < kChunksPerPage; ++c)
      HashOne(page + c * kChunkLen, kChunkLen / kBlockLen, kIV, c, 0, kChunkStart, kChunkEnd, cvs + 32 * c);
    uint32_t left[8], right[8];
    for (int i = 0; i < 8; ++i) left[i] = kIV[i], right[i] = kIV[i];
    CompressInPlace(left, cvs, kBlockLen, 0, kParent);
    CompressInPlace(right, cvs + 64, kBlockLen, 0, kParent);
    uint8_t block[64];
    StoreCv(block, left);
    StoreCv(block + 32, right);
    uint32_t root[8];
    for (int i = 0; i < 8; ++i) root[i] = kIV[i];
    CompressInPlace(root, block, kBlockLen, 0, kParent | kRoot);
    for (int i = 0; i < 4; ++i) Store32(out + 16 * p + 4 * i, root[i]);
  }
}

const Blake3Kernel kBlake3Portable = {"portable", 1, HashManyPortable, PagesPortable};

}  // namespace detail
}  // namespace hash
}  // namespace pg
