// CRC32C with the ARMv8 CRC32 extension (CRC32CX / __crc32cd). Like the SSE4.2 backend: one
// crc32cx has a latency of 2-3 cycles and a throughput of one per cycle on the cores documented
// (Cortex-A53/A72, Neoverse, Apple), so a page is cut into three streams hashed side by side and
// the three partial CRCs are joined. The join multiplies a CRC by x^(8n) mod P; that map is linear
// in the 32 register bits, so it is four 256-entry table lookups (16 KiB of tables in all), with no
// PMULL needed: two joins per 4 KiB page cost ~10 instructions against ~512 crc32cx, so carry-less
// multiply (or a PMULL folding kernel) could not pay for itself here and is not used.
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

PG_INLINE void Prefetch(const uint8_t* p) {
#if defined(_MSC_VER) && !defined(__clang__)
  __prefetch(p);
#else
  __builtin_prefetch(p, 0, 3);
#endif
}

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

PG_INLINE uint64_t Load64(const uint8_t* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);  // little-endian only (PG_HASH_ARM64): the byte order the CRC reads
  return v;
}

// Three streams of kLen bytes each from register `crc`; returns the register after all 3*kLen.
template <size_t kLen>
PG_INLINE uint32_t ThreeStreams(uint32_t crc, const uint8_t* p, const Shift& shift2, const Shift& shift1,
                                const uint8_t* ahead = nullptr) {
  uint32_t c0 = crc, c1 = 0, c2 = 0;
  const uint8_t* a = p;
  const uint8_t* b = p + kLen;
  const uint8_t* c = p + 2 * kLen;
  for (size_t i = 0; i < kLen; i += 8) {
    if (ahead && (i & 63) == 0) {
      Prefetch(ahead + i);
      Prefetch(ahead + kLen + i);
      Prefetch(ahead + 2 * kLen + i);
    }
    c0 = __crc32cd(c0, Load64(a + i));
    c1 = __crc32cd(c1, Load64(b + i));
    c2 = __crc32cd(c2, Load64(c + i));
  }
  // CRC is linear: reg(A|B|C) = reg(A) * x^(8(|B|+|C|)) ^ reg(B) * x^(8|C|) ^ reg(C).
  return shift2.Apply(c0) ^ shift1.Apply(c1) ^ c2;
}

constexpr size_t kPageStream = 1360;  // 3 * 1360 = 4080; the last 16 bytes of a page follow serially
constexpr size_t kSmallStream = 256;
constexpr size_t kPrefetchPages = 4;  // as the SSE4.2 backend (not tuned on arm64 hardware)

struct Shifts {
  Shift page2{2 * kPageStream}, page1{kPageStream};
  Shift small2{2 * kSmallStream}, small1{kSmallStream};
};
const Shifts& GetShifts() {
  static const Shifts s;
  return s;
}

uint32_t Serial(uint32_t crc, const uint8_t* p, size_t len) {
  for (; len >= 8; len -= 8, p += 8) crc = __crc32cd(crc, Load64(p));
  for (; len; --len) crc = __crc32cb(crc, *p++);
  return crc;
}

uint32_t Crc32cArmv8Update(uint32_t crc, const uint8_t* p, size_t len) {
  const Shifts& s = GetShifts();
  uint32_t c = ~crc;
  for (; len >= 3 * kPageStream; len -= 3 * kPageStream, p += 3 * kPageStream)
    c = ThreeStreams<kPageStream>(c, p, s.page2, s.page1);
  for (; len >= 3 * kSmallStream; len -= 3 * kSmallStream, p += 3 * kSmallStream)
    c = ThreeStreams<kSmallStream>(c, p, s.small2, s.small1);
  return ~Serial(c, p, len);
}

void Crc32cArmv8Pages(const uint8_t* pages, size_t count, uint8_t* out) {
  const Shifts& s = GetShifts();
  for (size_t i = 0; i < count; ++i) {
    const uint8_t* page = pages + i * 4096;
    const uint8_t* ahead = i + kPrefetchPages < count ? page + kPrefetchPages * 4096 : nullptr;
    uint32_t c = ThreeStreams<kPageStream>(0xFFFFFFFFu, page, s.page2, s.page1, ahead);
    c = __crc32cd(c, Load64(page + 4080));
    c = __crc32cd(c, Load64(page + 4088));
    uint8_t* d = out + 16 * i;
    Store32(d, ~c);
    std::memset(d + 4, 0, 12);
  }
}
}  // namespace

const Crc32cKernel kCrc32cArmv8 = {"armv8", Crc32cArmv8Update, Crc32cArmv8Pages};

}  // namespace detail
}  // namespace hash
}  // namespace pg
#endif
