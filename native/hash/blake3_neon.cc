// BLAKE3 NEON backend for AArch64: 4 inputs (or 4 pages) per pass, the layout of the reference's
// blake3_neon.c. The round and page code is the shared SIMD template (blake3_simd.inc); this file
// only supplies the 4-lane vector type. NEON (ASIMD) is part of the AArch64 base ISA, so no
// -march flag is needed; dispatch.cc still checks HWCAP_ASIMD / hw.optional.neon before use.
#include "hash/blake3_impl.h"

#if PG_HASH_ARM64
#include <arm_neon.h>

namespace pg {
namespace hash {
namespace detail {
namespace {

// blake3_simd.inc prefetches with the x86 intrinsic's name; map it to the AArch64 PRFM (PLDL1KEEP).
#define _MM_HINT_T0 0
PG_INLINE void _mm_prefetch(const char* p, int) {
#if defined(_MSC_VER) && !defined(__clang__)
  __prefetch(p);
#else
  __builtin_prefetch(p, 0, 3);
#endif
}

struct VNeon {
  using T = uint32x4_t;
  static constexpr int N = 4;
  static constexpr bool kAsmHalf = false;  // the shared intrinsics G step (blake3_simd.inc)
  static PG_FORCE_INLINE T Set1(uint32_t x) { return vdupq_n_u32(x); }
  static PG_FORCE_INLINE T LoadU(const uint32_t* p) { return vld1q_u32(p); }
  static PG_FORCE_INLINE void StoreU(uint32_t* p, T x) { vst1q_u32(p, x); }
  static PG_FORCE_INLINE T Add(T a, T b) { return vaddq_u32(a, b); }
  static PG_FORCE_INLINE T Xor(T a, T b) { return veorq_u32(a, b); }
  // Rotate right by 16: swap the 16-bit halves of each word (REV32).
  static PG_FORCE_INLINE T Rot16(T x) { return vreinterpretq_u32_u16(vrev32q_u16(vreinterpretq_u16_u32(x))); }
  // The others: shift left, then shift-right-and-insert (SHL + SRI, two instructions).
  static PG_FORCE_INLINE T Rot12(T x) { return vsriq_n_u32(vshlq_n_u32(x, 20), x, 12); }
  static PG_FORCE_INLINE T Rot8(T x) { return vsriq_n_u32(vshlq_n_u32(x, 24), x, 8); }
  static PG_FORCE_INLINE T Rot7(T x) { return vsriq_n_u32(vshlq_n_u32(x, 25), x, 7); }
  // b on lane r (the lanes i with i % 4 == r), a elsewhere.
  template <int r>
  static PG_FORCE_INLINE T Blend(T a, T b) {
    return vcopyq_laneq_u32(a, r, b, r);
  }
  // 4x4 transposes of 32-bit words, one per 16-byte quarter of the 64-byte blocks.
  static PG_FORCE_INLINE void LoadTransposed(const uint8_t* const* rows, size_t offset, T m[16]) {
    PG_UNROLL
    for (int q = 0; q < 4; ++q) {
      const T a0 = vreinterpretq_u32_u8(vld1q_u8(rows[0] + offset + 16 * q));
      const T a1 = vreinterpretq_u32_u8(vld1q_u8(rows[1] + offset + 16 * q));
      const T a2 = vreinterpretq_u32_u8(vld1q_u8(rows[2] + offset + 16 * q));
      const T a3 = vreinterpretq_u32_u8(vld1q_u8(rows[3] + offset + 16 * q));
      // [a0.0 a1.0 a0.2 a1.2], [a0.1 a1.1 a0.3 a1.3], and the same for a2/a3.
      const uint64x2_t t0 = vreinterpretq_u64_u32(vtrn1q_u32(a0, a1)), t1 = vreinterpretq_u64_u32(vtrn2q_u32(a0, a1));
      const uint64x2_t t2 = vreinterpretq_u64_u32(vtrn1q_u32(a2, a3)), t3 = vreinterpretq_u64_u32(vtrn2q_u32(a2, a3));
      m[4 * q + 0] = vreinterpretq_u32_u64(vtrn1q_u64(t0, t2));
      m[4 * q + 1] = vreinterpretq_u32_u64(vtrn1q_u64(t1, t3));
      m[4 * q + 2] = vreinterpretq_u32_u64(vtrn2q_u64(t0, t2));
      m[4 * q + 3] = vreinterpretq_u32_u64(vtrn2q_u64(t1, t3));
    }
  }
};

#include "hash/blake3_simd.inc"
#undef _MM_HINT_T0

void HashManyNeon(const uint8_t* const* inputs, size_t numInputs, size_t blocks, const uint32_t key[8],
                  uint64_t counter, bool incrementCounter, uint8_t flags, uint8_t flagsStart, uint8_t flagsEnd,
                  uint8_t* out) {
  for (; numInputs >= 4; numInputs -= 4, inputs += 4, out += 4 * 32) {
    HashManyLanes<VNeon>(inputs, blocks, key, counter, incrementCounter, flags, flagsStart, flagsEnd, out);
    if (incrementCounter) counter += 4;
  }
  if (numInputs)
    HashManyPortable(inputs, numInputs, blocks, key, counter, incrementCounter, flags, flagsStart, flagsEnd, out);
}

void PagesNeon(const uint8_t* pages, size_t count, uint8_t* out) {
  const size_t done = PagesFullGroups<VNeon>(pages, count, out);
  if (count > done) PagesPadded<VNeon>(pages + done * 4096, count - done, out + done * 16);
}
}  // namespace

const Blake3Kernel kBlake3Neon = {"neon", 4, HashManyNeon, PagesNeon};

}  // namespace detail
}  // namespace hash
}  // namespace pg
#endif
