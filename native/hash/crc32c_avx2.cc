// CRC32C per 4 KiB page by carry-less multiplication on 256-bit registers (VEX VPCLMULQDQ), for
// CPUs with AVX2 and VPCLMULQDQ but without AVX-512: AMD Zen 3, Intel Alder Lake and later client
// cores. The same folding as crc32c_avx512.cc (whose header comment has the math), with eight
// 32-byte accumulators: 256 bytes a step.
// Compiled with -mavx2 -mvpclmulqdq -mpclmul -msse4.2.
#include "hash/blake3_impl.h"

#if PG_HASH_X64
#include <immintrin.h>

namespace pg {
namespace hash {
namespace detail {
namespace {

// (K1, K2) for folding by `bytes` in each 128-bit lane: clmul(L, K1) ^ clmul(H, K2) = V * x^(8 bytes).
__m256i FoldConstants(uint32_t bytes) {
  const uint64_t k1 = static_cast<uint64_t>(Crc32cXPowMod(63 + 8 * bytes)) << 32;
  const uint64_t k2 = static_cast<uint64_t>(Crc32cXPowMod(8 * bytes - 1)) << 32;
  return _mm256_broadcastsi128_si256(_mm_set_epi64x(static_cast<long long>(k2), static_cast<long long>(k1)));
}

struct Constants {
  __m256i step;     // 256 bytes
  __m256i tail[7];  // tail[i]: accumulator i onto the last one, (7 - i) * 32 bytes
  __m128i by16;
  Constants() : step(FoldConstants(256)), by16(_mm256_castsi256_si128(FoldConstants(16))) {
    for (int i = 0; i < 7; ++i) tail[i] = FoldConstants(static_cast<uint32_t>(7 - i) * 32);
  }
};
const Constants& GetConstants() {
  static const Constants c;
  return c;
}

PG_INLINE __m256i Fold(__m256i acc, __m256i k) {
  return _mm256_xor_si256(_mm256_clmulepi64_epi128(acc, k, 0x00), _mm256_clmulepi64_epi128(acc, k, 0x11));
}
PG_INLINE __m256i Load(const uint8_t* p) { return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)); }

uint32_t PageCrc(const uint8_t* page, const uint8_t* ahead, const Constants& k) {
  __m256i a[8];
  PG_UNROLL
  for (int i = 0; i < 8; ++i) a[i] = Load(page + 32 * i);
  a[0] = _mm256_xor_si256(a[0], _mm256_set_epi64x(0, 0, 0, 0xFFFFFFFF));  // the initial register value
  for (size_t off = 256; off < 4096; off += 256) {
    if (ahead) PG_UNROLL
    for (int j = 0; j < 4; ++j) _mm_prefetch(reinterpret_cast<const char*>(ahead + off - 256 + 64 * j), _MM_HINT_T0);
    PG_UNROLL
    for (int i = 0; i < 8; ++i) a[i] = _mm256_xor_si256(Fold(a[i], k.step), Load(page + off + 32 * i));
  }
  __m256i all = a[7];
  PG_UNROLL
  for (int i = 0; i < 7; ++i) all = _mm256_xor_si256(all, Fold(a[i], k.tail[i]));
  const __m128i lo = _mm256_castsi256_si128(all), hi = _mm256_extracti128_si256(all, 1);
  const __m128i v =
      _mm_xor_si128(_mm_xor_si128(_mm_clmulepi64_si128(lo, k.by16, 0x00), _mm_clmulepi64_si128(lo, k.by16, 0x11)), hi);
  uint64_t c = _mm_crc32_u64(0, static_cast<uint64_t>(_mm_cvtsi128_si64(v)));
  c = _mm_crc32_u64(c, static_cast<uint64_t>(_mm_extract_epi64(v, 1)));
  return ~static_cast<uint32_t>(c);
}

void Crc32cAvx2Pages(const uint8_t* pages, size_t count, uint8_t* out) {
  const Constants& k = GetConstants();
  for (size_t i = 0; i < count; ++i) {
    const uint8_t* page = pages + i * 4096;
    uint8_t* d = out + 16 * i;
    Store32(d, PageCrc(page, i + 1 < count ? page + 4096 : nullptr, k));
    std::memset(d + 4, 0, 12);
  }
}

// Whole messages of any length keep the sse42 code (the per-page digests are the hot path).
uint32_t Crc32cAvx2Update(uint32_t crc, const uint8_t* data, size_t len) { return kCrc32cSse42.update(crc, data, len); }
}  // namespace

const Crc32cKernel kCrc32cAvx2 = {"avx2", Crc32cAvx2Update, Crc32cAvx2Pages};

}  // namespace detail
}  // namespace hash
}  // namespace pg
#endif
