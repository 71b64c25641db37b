// CRC32C per 4 KiB page by carry-less multiplication (VPCLMULQDQ on 512-bit registers), for CPUs
// with AVX-512 and VPCLMULQDQ. The sse42 backend runs three `crc32` streams, which is that
// instruction's throughput limit (8 bytes a cycle); folding moves 256 bytes per step with eight
// carry-less multiplies and needs `crc32` only for the last 16 bytes.
// Compiled with -mavx512f -mavx512vl -mavx512bw -mvpclmulqdq -mpclmul -msse4.2.
//
// The math, in the reflected bit order the crc32 instruction uses (bit i of a 64-bit word is the
// coefficient of x^(63-i)): a 16-byte block with n bytes after it adds V(x) * x^(8n) to the message
// polynomial, where V = L * x^64 + H for its low and high 8-byte halves L, H. PCLMULQDQ on reflected
// operands returns x * A * B. So, with K1 = x^(63 + 8F) mod P and K2 = x^(8F - 1) mod P,
// clmul(L, K1) ^ clmul(H, K2) = V * x^(8F) (mod P): the same contribution as a block F bytes later
// ("folding" by F bytes). All blocks are folded onto the page's last 16 bytes, whose CRC the crc32
// instruction then computes; the initial register value 0xFFFFFFFF is the same as XORing it into
// the first four bytes of a message started from 0.
#include "hash/blake3_impl.h"

#if PG_HASH_X64
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <immintrin.h>

namespace pg {
namespace hash {
namespace detail {
namespace {

// (K1, K2) for folding by `bytes`, as a 128-bit lane: K1 in the low quadword, K2 in the high one.
// A 32-bit reflected value shifted left by 32 is the same polynomial in a 64-bit register.
__m128i FoldConstants(uint32_t bytes) {
  const uint64_t k1 = static_cast<uint64_t>(Crc32cXPowMod(63 + 8 * bytes)) << 32;
  const uint64_t k2 = static_cast<uint64_t>(Crc32cXPowMod(8 * bytes - 1)) << 32;
  return _mm_set_epi64x(static_cast<long long>(k2), static_cast<long long>(k1));
}

struct Constants {
  __m512i by256, by192, by128, by64;  // the same (K1, K2) in all four lanes
  __m128i by48, by32, by16;
  Constants()
      : by256(_mm512_broadcast_i32x4(FoldConstants(256))),
        by192(_mm512_broadcast_i32x4(FoldConstants(192))),
        by128(_mm512_broadcast_i32x4(FoldConstants(128))),
        by64(_mm512_broadcast_i32x4(FoldConstants(64))),
        by48(FoldConstants(48)),
        by32(FoldConstants(32)),
        by16(FoldConstants(16)) {}
};
const Constants& GetConstants() {
  static const Constants c;
  return c;
}

PG_INLINE __m512i Fold(__m512i acc, __m512i k) {
  return _mm512_xor_si512(_mm512_clmulepi64_epi128(acc, k, 0x00), _mm512_clmulepi64_epi128(acc, k, 0x11));
}
// Fold(acc) ^ data in one three-way XOR (vpternlogd 0x96).
PG_INLINE __m512i FoldXor(__m512i acc, __m512i k, __m512i data) {
  return _mm512_ternarylogic_epi32(_mm512_clmulepi64_epi128(acc, k, 0x00), _mm512_clmulepi64_epi128(acc, k, 0x11), data,
                                   0x96);
}
PG_INLINE __m128i Fold128(__m128i acc, __m128i k) {
  return _mm_xor_si128(_mm_clmulepi64_si128(acc, k, 0x00), _mm_clmulepi64_si128(acc, k, 0x11));
}

PG_INLINE __m512i Load(const uint8_t* p) { return _mm512_loadu_si512(p); }

uint32_t PageCrc(const uint8_t* page, const uint8_t* ahead, const Constants& k) {
  __m512i a0 = _mm512_xor_si512(Load(page), _mm512_set_epi64(0, 0, 0, 0, 0, 0, 0, 0xFFFFFFFF));
  __m512i a1 = Load(page + 64), a2 = Load(page + 128), a3 = Load(page + 192);
  for (size_t off = 256; off < 4096; off += 256) {
    if (ahead) {
      // The next page's matching 256 bytes (the hardware prefetcher stops at page boundaries).
      _mm_prefetch(reinterpret_cast<const char*>(ahead + off - 256), _MM_HINT_T0);
      _mm_prefetch(reinterpret_cast<const char*>(ahead + off - 192), _MM_HINT_T0);
      _mm_prefetch(reinterpret_cast<const char*>(ahead + off - 128), _MM_HINT_T0);
      _mm_prefetch(reinterpret_cast<const char*>(ahead + off - 64), _MM_HINT_T0);
    }
    a0 = FoldXor(a0, k.by256, Load(page + off));
    a1 = FoldXor(a1, k.by256, Load(page + off + 64));
    a2 = FoldXor(a2, k.by256, Load(page + off + 128));
    a3 = FoldXor(a3, k.by256, Load(page + off + 192));
  }
  // Onto the last 64 bytes (a3), then its four 16-byte lanes onto the last one.
  const __m512i all = _mm512_ternarylogic_epi32(Fold(a0, k.by192), Fold(a1, k.by128), FoldXor(a2, k.by64, a3), 0x96);
  const __m128i v = _mm_xor_si128(
      _mm_xor_si128(Fold128(_mm512_extracti32x4_epi32(all, 0), k.by48),
                    Fold128(_mm512_extracti32x4_epi32(all, 1), k.by32)),
      _mm_xor_si128(Fold128(_mm512_extracti32x4_epi32(all, 2), k.by16), _mm512_extracti32x4_epi32(all, 3)));
  uint64_t c = _mm_crc32_u64(0, static_cast<uint64_t>(_mm_cvtsi128_si64(v)));
  c = _mm_crc32_u64(c, static_cast<uint64_t>(_mm_extract_epi64(v, 1)));
  return ~static_cast<uint32_t>(c);
}

void Crc32cAvx512Pages(const uint8_t* pages, size_t count, uint8_t* out) {
  const Constants& k = GetConstants();
  for (size_t i = 0; i < count; ++i) {
    const uint8_t* page = pages + i * 4096;
    const uint8_t* ahead = i + 1 < count ? page + 4096 : nullptr;
    uint8_t* d = out + 16 * i;
    Store32(d, PageCrc(page, ahead, k));
    std::memset(d + 4, 0, 12);
  }
}

// Whole messages of any length keep the sse42 code (the per-page digests are the hot path).
uint32_t Crc32cAvx512Update(uint32_t crc, const uint8_t* data, size_t len) {
  return kCrc32cSse42.update(crc, data, len);
}
}  // namespace

const Crc32cKernel kCrc32cAvx512 = {"avx512", Crc32cAvx512Update, Crc32cAvx512Pages};

}  // namespace detail
}  // namespace hash
}  // namespace pg
#endif
