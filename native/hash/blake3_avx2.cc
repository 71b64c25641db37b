// BLAKE3 AVX2 backend: 8 inputs (or 8 pages) per pass in YMM registers. Compiled with -mavx2.
#include "hash/blake3_impl.h"

#if PG_HASH_X64
#include <immintrin.h>

namespace pg {
namespace hash {
namespace detail {
namespace {
#include "hash/blake3_v128.inc"

// Byte shuffles that rotate each 32-bit word right by 16 and by 8 (vpshufb reads them from memory).
alignas(32) const uint8_t kRot16[32] = {2, 3, 0, 1, 6, 7, 4, 5, 10, 11, 8, 9, 14, 15, 12, 13,
                                        2, 3, 0, 1, 6, 7, 4, 5, 10, 11, 8, 9, 14, 15, 12, 13};
alignas(32) const uint8_t kRot8[32] = {1, 2, 3, 0, 5, 6, 7, 4, 9, 10, 11, 8, 13, 14, 15, 12,
                                       1, 2, 3, 0, 5, 6, 7, 4, 9, 10, 11, 8, 13, 14, 15, 12};

struct V256 {
  using T = __m256i;
  static constexpr int N = 8;
#if defined(__GNUC__) && !defined(PG_HASH_NO_ASM)
  static constexpr bool kAsmHalf = true;
  // Half of G on four columns or diagonals (see Half in blake3_simd.inc). 15 state vectors stay
  // in registers, c0 lives in memory (loaded, updated and stored back once), which frees the one
  // register needed as a temporary for the shift rotations; message words and the shuffle masks
  // are memory operands. AT&T order: "op src2, src1, dst".
  template <int RA>
  static PG_FORCE_INLINE void HalfAsm(T& a0, T& a1, T& a2, T& a3, T& b0, T& b1, T& b2, T& b3, T& c0, T& c1, T& c2,
                                      T& c3, T& d0, T& d1, T& d2, T& d3, const T& m0, const T& m1, const T& m2,
                                      const T& m3) {
    constexpr int RB = RA == 16 ? 12 : 7;
    const uint8_t(&rot)[32] = RA == 16 ? kRot16 : kRot8;
    T t;
    __asm__(
        "vpaddd %[m0], %[a0], %[a0]\n\t"
        "vpaddd %[m1], %[a1], %[a1]\n\t"
        "vpaddd %[m2], %[a2], %[a2]\n\t"
        "vpaddd %[m3], %[a3], %[a3]\n\t"
        "vpaddd %[b0], %[a0], %[a0]\n\t"
        "vpaddd %[b1], %[a1], %[a1]\n\t"
        "vpaddd %[b2], %[a2], %[a2]\n\t"
        "vpaddd %[b3], %[a3], %[a3]\n\t"
        "vpxor %[a0], %[d0], %[d0]\n\t"
        "vpxor %[a1], %[d1], %[d1]\n\t"
        "vpxor %[a2], %[d2], %[d2]\n\t"
        "vpxor %[a3], %[d3], %[d3]\n\t"
        "vpshufb %[rot], %[d0], %[d0]\n\t"
        "vpshufb %[rot], %[d1], %[d1]\n\t"
        "vpshufb %[rot], %[d2], %[d2]\n\t"
        "vpshufb %[rot], %[d3], %[d3]"
        : [a0] "+x"(a0), [a1] "+x"(a1), [a2] "+x"(a2), [a3] "+x"(a3), [d0] "+x"(d0), [d1] "+x"(d1), [d2] "+x"(d2),
          [d3] "+x"(d3)
        : [b0] "x"(b0), [b1] "x"(b1), [b2] "x"(b2), [b3] "x"(b3), [m0] "m"(m0), [m1] "m"(m1), [m2] "m"(m2),
          [m3] "m"(m3), [rot] "m"(rot), "x"(c1), "x"(c2), "x"(c3));
    __asm__(
        "vpaddd %[c0], %[d0], %[t]\n\t"
        "vmovdqu %[t], %[c0]\n\t"
        "vpaddd %[d1], %[c1], %[c1]\n\t"
        "vpaddd %[d2], %[c2], %[c2]\n\t"
        "vpaddd %[d3], %[c3], %[c3]\n\t"
        "vpxor %[t], %[b0], %[b0]\n\t"
        "vpxor %[c1], %[b1], %[b1]\n\t"
        "vpxor %[c2], %[b2], %[b2]\n\t"
        "vpxor %[c3], %[b3], %[b3]\n\t"
        "vpsrld %[sr], %[b0], %[t]\n\t"
        "vpslld %[sl], %[b0], %[b0]\n\t"
        "vpor %[t], %[b0], %[b0]\n\t"
        "vpsrld %[sr], %[b1], %[t]\n\t"
        "vpslld %[sl], %[b1], %[b1]\n\t"
        "vpor %[t], %[b1], %[b1]\n\t"
        "vpsrld %[sr], %[b2], %[t]\n\t"
        "vpslld %[sl], %[b2], %[b2]\n\t"
        "vpor %[t], %[b2], %[b2]\n\t"
        "vpsrld %[sr], %[b3], %[t]\n\t"
        "vpslld %[sl], %[b3], %[b3]\n\t"
        "vpor %[t], %[b3], %[b3]"
        : [b0] "+x"(b0), [b1] "+x"(b1), [b2] "+x"(b2), [b3] "+x"(b3), [c0] "+m"(c0), [c1] "+x"(c1), [c2] "+x"(c2),
          [c3] "+x"(c3), [t] "=&x"(t)
        : [d0] "x"(d0), [d1] "x"(d1), [d2] "x"(d2), [d3] "x"(d3), [sr] "i"(RB), [sl] "i"(32 - RB), "x"(a0), "x"(a1),
          "x"(a2), "x"(a3));
  }
#else
  static constexpr bool kAsmHalf = false;
  template <int RA>
  static void HalfAsm(T&, T&, T&, T&, T&, T&, T&, T&, T&, T&, T&, T&, T&, T&, T&, T&, const T&, const T&, const T&,
                      const T&) {}
#endif
  static PG_FORCE_INLINE T Set1(uint32_t x) { return _mm256_set1_epi32(static_cast<int>(x)); }
  static PG_FORCE_INLINE T LoadU(const uint32_t* p) { return _mm256_loadu_si256(reinterpret_cast<const T*>(p)); }
  static PG_FORCE_INLINE void StoreU(uint32_t* p, T x) { _mm256_storeu_si256(reinterpret_cast<T*>(p), x); }
  static PG_FORCE_INLINE T Add(T a, T b) { return _mm256_add_epi32(a, b); }
  static PG_FORCE_INLINE T Xor(T a, T b) { return _mm256_xor_si256(a, b); }
  static PG_FORCE_INLINE T Rot16(T x) {
    return _mm256_shuffle_epi8(x, _mm256_set_epi8(13, 12, 15, 14, 9, 8, 11, 10, 5, 4, 7, 6, 1, 0, 3, 2, 13, 12, 15, 14,
                                                  9, 8, 11, 10, 5, 4, 7, 6, 1, 0, 3, 2));
  }
  static PG_FORCE_INLINE T Rot12(T x) { return _mm256_or_si256(_mm256_srli_epi32(x, 12), _mm256_slli_epi32(x, 20)); }
  static PG_FORCE_INLINE T Rot8(T x) {
    return _mm256_shuffle_epi8(x, _mm256_set_epi8(12, 15, 14, 13, 8, 11, 10, 9, 4, 7, 6, 5, 0, 3, 2, 1, 12, 15, 14, 13,
                                                  8, 11, 10, 9, 4, 7, 6, 5, 0, 3, 2, 1));
  }
  static PG_FORCE_INLINE T Rot7(T x) { return _mm256_or_si256(_mm256_srli_epi32(x, 7), _mm256_slli_epi32(x, 25)); }
  template <int r>
  static PG_FORCE_INLINE T Blend(T a, T b) {
    return _mm256_blend_epi32(a, b, 0x11 << r);
  }
  // 8x8 transpose of 32-bit words, done as four 4x4 transposes inside 128-bit lanes: for each
  // 16-byte quarter q of the block, register i holds rows i (low lane) and i + 4 (high lane), put
  // together by the loads (vinserti128 from memory), so no lane-crossing shuffle is needed.
  static PG_FORCE_INLINE void LoadTransposed(const uint8_t* const* rows, size_t offset, T m[16]) {
    PG_UNROLL
    for (int q = 0; q < 4; ++q) {
      T a[4];
      PG_UNROLL
      for (int i = 0; i < 4; ++i)
        a[i] = _mm256_inserti128_si256(
            _mm256_castsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(rows[i] + offset + 16 * q))),
            _mm_loadu_si128(reinterpret_cast<const __m128i*>(rows[i + 4] + offset + 16 * q)), 1);
      const T t0 = _mm256_unpacklo_epi32(a[0], a[1]), t1 = _mm256_unpackhi_epi32(a[0], a[1]);
      const T t2 = _mm256_unpacklo_epi32(a[2], a[3]), t3 = _mm256_unpackhi_epi32(a[2], a[3]);
      m[4 * q + 0] = _mm256_unpacklo_epi64(t0, t2);
      m[4 * q + 1] = _mm256_unpackhi_epi64(t0, t2);
      m[4 * q + 2] = _mm256_unpacklo_epi64(t1, t3);
      m[4 * q + 3] = _mm256_unpackhi_epi64(t1, t3);
    }
  }
};

#include "hash/blake3_simd.inc"

void HashManyAvx2(const uint8_t* const* inputs, size_t numInputs, size_t blocks, const uint32_t key[8],
                  uint64_t counter, bool incrementCounter, uint8_t flags, uint8_t flagsStart, uint8_t flagsEnd,
                  uint8_t* out) {
  for (; numInputs >= 8; numInputs -= 8, inputs += 8, out += 8 * 32) {
    HashManyLanes<V256>(inputs, blocks, key, counter, incrementCounter, flags, flagsStart, flagsEnd, out);
    if (incrementCounter) counter += 8;
  }
  if (numInputs >= 4) {
    HashManyLanes<V128>(inputs, blocks, key, counter, incrementCounter, flags, flagsStart, flagsEnd, out);
    if (incrementCounter) counter += 4;
    numInputs -= 4, inputs += 4, out += 4 * 32;
  }
  if (numInputs)
    HashManyPortable(inputs, numInputs, blocks, key, counter, incrementCounter, flags, flagsStart, flagsEnd, out);
}

void PagesAvx2(const uint8_t* pages, size_t count, uint8_t* out) {
  const size_t done = PagesFullGroups<V256>(pages, count, out);
  const size_t rest = count - done;
  if (rest > 4) PagesPadded<V256>(pages + done * 4096, rest, out + done * 16);
  else if (rest > 0) PagesPadded<V128>(pages + done * 4096, rest, out + done * 16);
}
}  // namespace

const Blake3Kernel kBlake3Avx2 = {"avx2", 8, HashManyAvx2, PagesAvx2};

}  // namespace detail
}  // namespace hash
}  // namespace pg
#endif
