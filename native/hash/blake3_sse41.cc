// BLAKE3 SSE4.1 backend: 4 inputs (or 4 pages) per pass. Compiled with -msse4.1.
#include "hash/blake3_impl.h"

#if PG_HASH_X64
#include <immintrin.h>

namespace pg {
namespace hash {
namespace detail {
namespace {
#define PG_V128_SSE_ASM 1  // this translation unit is legacy SSE only: V128 may use SSE assembly
#include "hash/blake3_v128.inc"
#include "hash/blake3_simd.inc"

void HashManySse41(const uint8_t* const* inputs, size_t numInputs, size_t blocks, const uint32_t key[8],
                   uint64_t counter, bool incrementCounter, uint8_t flags, uint8_t flagsStart, uint8_t flagsEnd,
                   uint8_t* out) {
  for (; numInputs >= 4; numInputs -= 4, inputs += 4, out += 4 * 32) {
    HashManyLanes<V128>(inputs, blocks, key, counter, incrementCounter, flags, flagsStart, flagsEnd, out);
    if (incrementCounter) counter += 4;
  }
  if (numInputs)
    HashManyPortable(inputs, numInputs, blocks, key, counter, incrementCounter, flags, flagsStart, flagsEnd, out);
}

void PagesSse41(const uint8_t* pages, size_t count, uint8_t* out) {
  const size_t done = PagesFullGroups<V128>(pages, count, out);
  if (count > done) PagesPadded<V128>(pages + done * 4096, count - done, out + done * 16);
}
}  // namespace

const Blake3Kernel kBlake3Sse41 = {"sse41", 4, HashManySse41, PagesSse41};

}  // namespace detail
}  // namespace hash
}  // namespace pg
#endif
