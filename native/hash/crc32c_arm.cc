// CRC32C with the ARMv8 CRC32 extension (CRC32CX / __crc32cd) in three interleaved streams, like the
// SSE4.2 backend (crc32c_streams.inc): one crc32cx has a latency of 2-3 cycles and a throughput of
// one per cycle on the cores documented (Cortex-A53/A72, Neoverse, Apple). The join multiplies a CRC
// by x^(8n) mod P; that map is linear in the 32 register bits, so it is four 256-entry table lookups
// (16 KiB of tables in all), with no PMULL needed: two joins per 4 KiB page cost ~10 instructions
// against ~512 crc32cx, so carry-less multiply (or a PMULL folding kernel) could not pay for itself
// here and is not used.
// Compiled with -march=armv8-a+crc (binding.gyp, arm64 only); dispatch.cc checks HWCAP_CRC32.
#include "hash/blake3_impl.h"

#if PG_HASH_ARM64
#if defined(_MSC_VER) && !defined(__clang__)
#include <intrin.h>
#else
#include <arm_acle.h>
#endif

namespace pg {
namespace hash {
namespace detail {
namespace {

constexpr uint32_t kPoly = 0x82F63B78u;  // reflected Castagnoli polynomial; bit (31 - i) <-> x^i

// a * b mod P in the reflected representation (bit 31 is x^0).
uint32_t MulMod(uint32_t a, uint32_t b) {
  uint32_t r = 0;
  for (int i = 0; i < 32; ++i) {
    if (a & (0x80000000u >> i)) r ^= b;
    b = (b >> 1) ^ ((b & 1) ? kPoly : 0);  // b *= x
  }
  return r;
}

uint32_t XPowMod(uint64_t m) {
  uint32_t v = 0x80000000u;  // x^0
  while (m--) v = (v >> 1) ^ ((v & 1) ? kPoly : 0);
  return v;
}

// Moves a CRC register over `bytes` zero bytes: crc * x^(8*bytes) mod P, one table per input byte.
struct Shift {
  uint32_t t[4][256];
  explicit Shift(uint32_t bytes) {
    const uint32_t k = XPowMod(8ull * bytes);
    for (int j = 0; j < 4; ++j)
      for (uint32_t b = 0; b < 256; ++b) t[j][b] = MulMod(b << (8 * j), k);
  }
  PG_FORCE_INLINE uint32_t Apply(uint32_t crc) const {
    return t[0][crc & 0xFF] ^ t[1][(crc >> 8) & 0xFF] ^ t[2][(crc >> 16) & 0xFF] ^ t[3][crc >> 24];
  }
};

struct Hw {
  static PG_FORCE_INLINE uint32_t Crc64(uint32_t crc, uint64_t data) { return __crc32cd(crc, data); }
  static PG_FORCE_INLINE uint32_t Crc8(uint32_t crc, uint8_t data) { return __crc32cb(crc, data); }
  static PG_FORCE_INLINE void Prefetch(const uint8_t* p) {
#if defined(_MSC_VER) && !defined(__clang__)
    __prefetch(p);
#else
    __builtin_prefetch(p, 0, 3);
#endif
  }
};

#include "hash/crc32c_streams.inc"
}  // namespace

const Crc32cKernel kCrc32cArmv8 = {"armv8", StreamsUpdate, StreamsPages};

}  // namespace detail
}  // namespace hash
}  // namespace pg
#endif
