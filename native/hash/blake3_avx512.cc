// BLAKE3 AVX-512 backend: 16 inputs (or 16 pages) per pass in ZMM registers, with native
// rotates (vprold); the 8- and 4-lane leftovers use the same rotates on YMM/XMM (AVX-512VL).
// Compiled with -mavx512f -mavx512vl -mavx512bw.
#include "hash/blake3_impl.h"

#if PG_HASH_X64
#if defined(__GNUC__) && !defined(__clang__)
// GCC 12's avx512fintrin.h trips its own -Wuninitialized (the _mm512_undefined_* idiom).
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <immintrin.h>

namespace pg {
namespace hash {
namespace detail {
namespace {

struct V512 {
  using T = __m512i;
  static constexpr int N = 16;
  static constexpr bool kAsmHalf = false;  // 32 registers: no spills to avoid
  static PG_FORCE_INLINE T Set1(uint32_t x) { return _mm512_set1_epi32(static_cast<int>(x)); }
  static PG_FORCE_INLINE T LoadU(const uint32_t* p) { return _mm512_loadu_si512(p); }
  static PG_FORCE_INLINE void StoreU(uint32_t* p, T x) { _mm512_storeu_si512(p, x); }
  static PG_FORCE_INLINE T Add(T a, T b) { return _mm512_add_epi32(a, b); }
  static PG_FORCE_INLINE T Xor(T a, T b) { return _mm512_xor_si512(a, b); }
  static PG_FORCE_INLINE T Rot16(T x) { return _mm512_ror_epi32(x, 16); }
  static PG_FORCE_INLINE T Rot12(T x) { return _mm512_ror_epi32(x, 12); }
  static PG_FORCE_INLINE T Rot8(T x) { return _mm512_ror_epi32(x, 8); }
  static PG_FORCE_INLINE T Rot7(T x) { return _mm512_ror_epi32(x, 7); }
  template <int r>
  static PG_FORCE_INLINE T Blend(T a, T b) {
    return _mm512_mask_blend_epi32(static_cast<__mmask16>(0x1111 << r), a, b);
  }
  // 16x16 transpose of 32-bit words: 32-bit and 64-bit unpacks inside each 128-bit lane, then two
  // rounds of 128-bit lane shuffles.
  static PG_FORCE_INLINE void LoadTransposed(const uint8_t* const* rows, size_t offset, T m[16]) {
    T a[16], t[16], u[16];
    PG_UNROLL
    for (int i = 0; i < 16; ++i) a[i] = _mm512_loadu_si512(rows[i] + offset);
    PG_UNROLL
    for (int i = 0; i < 16; i += 2) {
      t[i] = _mm512_unpacklo_epi32(a[i], a[i + 1]);      // per 128-bit lane L: words 4L, 4L+1 of rows i, i+1
      t[i + 1] = _mm512_unpackhi_epi32(a[i], a[i + 1]);  // words 4L+2, 4L+3
    }
    // u[4k+j], lane L: word 4L+j of rows 4k..4k+3.
    PG_UNROLL
    for (int k = 0; k < 4; ++k) {
      u[4 * k + 0] = _mm512_unpacklo_epi64(t[4 * k], t[4 * k + 2]);
      u[4 * k + 1] = _mm512_unpackhi_epi64(t[4 * k], t[4 * k + 2]);
      u[4 * k + 2] = _mm512_unpacklo_epi64(t[4 * k + 1], t[4 * k + 3]);
      u[4 * k + 3] = _mm512_unpackhi_epi64(t[4 * k + 1], t[4 * k + 3]);
    }
    // For each j, a 4x4 transpose of 128-bit lanes across u[j], u[4+j], u[8+j], u[12+j].
    PG_UNROLL
    for (int j = 0; j < 4; ++j) {
      const T x0 = _mm512_shuffle_i32x4(u[j], u[4 + j], _MM_SHUFFLE(1, 0, 1, 0));
      const T x1 = _mm512_shuffle_i32x4(u[j], u[4 + j], _MM_SHUFFLE(3, 2, 3, 2));
      const T x2 = _mm512_shuffle_i32x4(u[8 + j], u[12 + j], _MM_SHUFFLE(1, 0, 1, 0));
      const T x3 = _mm512_shuffle_i32x4(u[8 + j], u[12 + j], _MM_SHUFFLE(3, 2, 3, 2));
      m[j] = _mm512_shuffle_i32x4(x0, x2, _MM_SHUFFLE(2, 0, 2, 0));
      m[4 + j] = _mm512_shuffle_i32x4(x0, x2, _MM_SHUFFLE(3, 1, 3, 1));
      m[8 + j] = _mm512_shuffle_i32x4(x1, x3, _MM_SHUFFLE(2, 0, 2, 0));
      m[12 + j] = _mm512_shuffle_i32x4(x1, x3, _MM_SHUFFLE(3, 1, 3, 1));
    }
  }
};

struct V256 {
  using T = __m256i;
  static constexpr int N = 8;
  static constexpr bool kAsmHalf = false;
  static PG_FORCE_INLINE T Set1(uint32_t x) { return _mm256_set1_epi32(static_cast<int>(x)); }
  static PG_FORCE_INLINE T LoadU(const uint32_t* p) { return _mm256_loadu_si256(reinterpret_cast<const T*>(p)); }
  static PG_FORCE_INLINE void StoreU(uint32_t* p, T x) { _mm256_storeu_si256(reinterpret_cast<T*>(p), x); }
  static PG_FORCE_INLINE T Add(T a, T b) { return _mm256_add_epi32(a, b); }
  static PG_FORCE_INLINE T Xor(T a, T b) { return _mm256_xor_si256(a, b); }
  static PG_FORCE_INLINE T Rot16(T x) { return _mm256_ror_epi32(x, 16); }
  static PG_FORCE_INLINE T Rot12(T x) { return _mm256_ror_epi32(x, 12); }
  static PG_FORCE_INLINE T Rot8(T x) { return _mm256_ror_epi32(x, 8); }
  static PG_FORCE_INLINE T Rot7(T x) { return _mm256_ror_epi32(x, 7); }
  template <int r>
  static PG_FORCE_INLINE T Blend(T a, T b) {
    return _mm256_blend_epi32(a, b, 0x11 << r);
  }
  static PG_FORCE_INLINE void LoadTransposed(const uint8_t* const* rows, size_t offset, T m[16]) {
    PG_UNROLL
    for (int h = 0; h < 2; ++h) {
      T a[8], t[8], u[8];
      PG_UNROLL
      for (int i = 0; i < 8; ++i) a[i] = _mm256_loadu_si256(reinterpret_cast<const T*>(rows[i] + offset + 32 * h));
      PG_UNROLL
      for (int i = 0; i < 8; i += 2) {
        t[i] = _mm256_unpacklo_epi32(a[i], a[i + 1]);
        t[i + 1] = _mm256_unpackhi_epi32(a[i], a[i + 1]);
      }
      PG_UNROLL
      for (int i = 0; i < 8; i += 4) {
        u[i] = _mm256_unpacklo_epi64(t[i], t[i + 2]);
        u[i + 1] = _mm256_unpackhi_epi64(t[i], t[i + 2]);
        u[i + 2] = _mm256_unpacklo_epi64(t[i + 1], t[i + 3]);
        u[i + 3] = _mm256_unpackhi_epi64(t[i + 1], t[i + 3]);
      }
      PG_UNROLL
      for (int j = 0; j < 4; ++j) {
        m[8 * h + j] = _mm256_permute2x128_si256(u[j], u[4 + j], 0x20);
        m[8 * h + 4 + j] = _mm256_permute2x128_si256(u[j], u[4 + j], 0x31);
      }
    }
  }
};

struct V128 {
  using T = __m128i;
  static constexpr int N = 4;
  static constexpr bool kAsmHalf = false;
  static PG_FORCE_INLINE T Set1(uint32_t x) { return _mm_set1_epi32(static_cast<int>(x)); }
  static PG_FORCE_INLINE T LoadU(const uint32_t* p) { return _mm_loadu_si128(reinterpret_cast<const T*>(p)); }
  static PG_FORCE_INLINE void StoreU(uint32_t* p, T x) { _mm_storeu_si128(reinterpret_cast<T*>(p), x); }
  static PG_FORCE_INLINE T Add(T a, T b) { return _mm_add_epi32(a, b); }
  static PG_FORCE_INLINE T Xor(T a, T b) { return _mm_xor_si128(a, b); }
  static PG_FORCE_INLINE T Rot16(T x) { return _mm_ror_epi32(x, 16); }
  static PG_FORCE_INLINE T Rot12(T x) { return _mm_ror_epi32(x, 12); }
  static PG_FORCE_INLINE T Rot8(T x) { return _mm_ror_epi32(x, 8); }
  static PG_FORCE_INLINE T Rot7(T x) { return _mm_ror_epi32(x, 7); }
  template <int r>
  static PG_FORCE_INLINE T Blend(T a, T b) {
    return _mm_blend_epi16(a, b, 3 << (2 * r));
  }
  static PG_FORCE_INLINE void LoadTransposed(const uint8_t* const* rows, size_t offset, T m[16]) {
    PG_UNROLL
    for (int q = 0; q < 4; ++q) {
      const T a0 = _mm_loadu_si128(reinterpret_cast<const T*>(rows[0] + offset + 16 * q));
      const T a1 = _mm_loadu_si128(reinterpret_cast<const T*>(rows[1] + offset + 16 * q));
      const T a2 = _mm_loadu_si128(reinterpret_cast<const T*>(rows[2] + offset + 16 * q));
      const T a3 = _mm_loadu_si128(reinterpret_cast<const T*>(rows[3] + offset + 16 * q));
      const T t0 = _mm_unpacklo_epi32(a0, a1), t1 = _mm_unpackhi_epi32(a0, a1);
      const T t2 = _mm_unpacklo_epi32(a2, a3), t3 = _mm_unpackhi_epi32(a2, a3);
      m[4 * q + 0] = _mm_unpacklo_epi64(t0, t2);
      m[4 * q + 1] = _mm_unpackhi_epi64(t0, t2);
      m[4 * q + 2] = _mm_unpacklo_epi64(t1, t3);
      m[4 * q + 3] = _mm_unpackhi_epi64(t1, t3);
    }
  }
};

#include "hash/blake3_simd.inc"

void HashManyAvx512(const uint8_t* const* inputs, size_t numInputs, size_t blocks, const uint32_t key[8],
                    uint64_t counter, bool incrementCounter, uint8_t flags, uint8_t flagsStart, uint8_t flagsEnd,
                    uint8_t* out) {
  for (; numInputs >= 16; numInputs -= 16, inputs += 16, out += 16 * 32) {
    HashManyLanes<V512>(inputs, blocks, key, counter, incrementCounter, flags, flagsStart, flagsEnd, out);
    if (incrementCounter) counter += 16;
  }
  if (numInputs >= 8) {
    HashManyLanes<V256>(inputs, blocks, key, counter, incrementCounter, flags, flagsStart, flagsEnd, out);
    if (incrementCounter) counter += 8;
    numInputs -= 8, inputs += 8, out += 8 * 32;
  }
  if (numInputs >= 4) {
    HashManyLanes<V128>(inputs, blocks, key, counter, incrementCounter, flags, flagsStart, flagsEnd, out);
    if (incrementCounter) counter += 4;
    numInputs -= 4, inputs += 4, out += 4 * 32;
  }
  if (numInputs)
    HashManyPortable(inputs, numInputs, blocks, key, counter, incrementCounter, flags, flagsStart, flagsEnd, out);
}

void PagesAvx512(const uint8_t* pages, size_t count, uint8_t* out) {
  const size_t done = PagesFullGroups<V512>(pages, count, out);
  const size_t rest = count - done;
  if (rest > 8) PagesPadded<V512>(pages + done * 4096, rest, out + done * 16);
  else if (rest > 4) PagesPadded<V256>(pages + done * 4096, rest, out + done * 16);
  else if (rest > 0) PagesPadded<V128>(pages + done * 4096, rest, out + done * 16);
}
}  // namespace

const Blake3Kernel kBlake3Avx512 = {"avx512", 16, HashManyAvx512, PagesAvx512};

}  // namespace detail
}  // namespace hash
}  // namespace pg
#endif
