// CRC32C with the SSE4.2 crc32 instruction. One crc32 has a latency of 3 cycles but a throughput
// of 1 per cycle, so a buffer is cut into three streams hashed side by side, and the three
// partial CRCs are joined with carry-less multiplications (PCLMULQDQ). Compiled with -msse4.2 -mpclmul.
#include "hash/blake3_impl.h"

#if PG_HASH_X64
#include <immintrin.h>

namespace pg {
namespace hash {
namespace detail {
namespace {

// Shifting a CRC register over n zero bytes multiplies it by x^(8n). With K = x^(8n-33) mod P,
// clmul(crc, K) is the 64-bit product, which (read in the instruction's bit order) is crc*K*x;
// crc32 of those 8 bytes from a zero register multiplies by x^32 and reduces mod P.
struct Shift {
  uint64_t k;
  explicit Shift(uint32_t bytes) : k(Crc32cXPowMod(8 * bytes - 33)) {}
  PG_FORCE_INLINE uint32_t Apply(uint32_t crc) const {
    const __m128i p = _mm_clmulepi64_si128(_mm_cvtsi32_si128(static_cast<int>(crc)),
                                           _mm_cvtsi64_si128(static_cast<long long>(k)), 0x00);
    return static_cast<uint32_t>(_mm_crc32_u64(0, static_cast<uint64_t>(_mm_cvtsi128_si64(p))));
  }
};

PG_INLINE uint64_t Load64(const uint8_t* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}

// Three streams of kLen bytes each starting from register `crc`; returns the register after all
// 3*kLen bytes. kLen is a multiple of 8.
// `ahead`, when set, is a later block of the same layout: its lines are prefetched as these are
// read, so the hardware prefetcher (which stops at page boundaries) is not relied on.
template <size_t kLen>
PG_INLINE uint32_t ThreeStreams(uint32_t crc, const uint8_t* p, const Shift& shift2, const Shift& shift1,
                                const uint8_t* ahead = nullptr) {
  uint64_t c0 = crc, c1 = 0, c2 = 0;
  const uint8_t* a = p;
  const uint8_t* b = p + kLen;
  const uint8_t* c = p + 2 * kLen;
  for (size_t i = 0; i < kLen; i += 8) {
    if (ahead && (i & 63) == 0) {
      _mm_prefetch(reinterpret_cast<const char*>(ahead + i), _MM_HINT_T0);
      _mm_prefetch(reinterpret_cast<const char*>(ahead + kLen + i), _MM_HINT_T0);
      _mm_prefetch(reinterpret_cast<const char*>(ahead + 2 * kLen + i), _MM_HINT_T0);
    }
    c0 = _mm_crc32_u64(c0, Load64(a + i));
    c1 = _mm_crc32_u64(c1, Load64(b + i));
    c2 = _mm_crc32_u64(c2, Load64(c + i));
  }
  // CRC is linear: reg(A|B|C) = reg(A) * x^(8(|B|+|C|)) ^ reg(B) * x^(8|C|) ^ reg(C).
  return shift2.Apply(static_cast<uint32_t>(c0)) ^ shift1.Apply(static_cast<uint32_t>(c1)) ^ static_cast<uint32_t>(c2);
}

constexpr size_t kPageStream = 1360;  // 3 * 1360 = 4080; the last 16 bytes of a page follow serially
constexpr size_t kSmallStream = 256;
constexpr size_t kPrefetchPages = 4;  // 16 KiB ahead: measured best here (2 and 8 were slower from DRAM)

struct Shifts {
  Shift page2{2 * kPageStream}, page1{kPageStream};
  Shift small2{2 * kSmallStream}, small1{kSmallStream};
};
const Shifts& GetShifts() {
  static const Shifts s;
  return s;
}

uint32_t Serial(uint32_t crc, const uint8_t* p, size_t len) {
  uint64_t c = crc;
  for (; len >= 8; len -= 8, p += 8) c = _mm_crc32_u64(c, Load64(p));
  uint32_t c32 = static_cast<uint32_t>(c);
  for (; len; --len) c32 = _mm_crc32_u8(c32, *p++);
  return c32;
}

uint32_t Crc32cSse42Update(uint32_t crc, const uint8_t* p, size_t len) {
  const Shifts& s = GetShifts();
  uint32_t c = ~crc;
  for (; len >= 3 * kPageStream; len -= 3 * kPageStream, p += 3 * kPageStream)
    c = ThreeStreams<kPageStream>(c, p, s.page2, s.page1);
  for (; len >= 3 * kSmallStream; len -= 3 * kSmallStream, p += 3 * kSmallStream)
    c = ThreeStreams<kSmallStream>(c, p, s.small2, s.small1);
  return ~Serial(c, p, len);
}

void Crc32cSse42Pages(const uint8_t* pages, size_t count, uint8_t* out) {
  const Shifts& s = GetShifts();
  for (size_t i = 0; i < count; ++i) {
    const uint8_t* page = pages + i * 4096;
    const uint8_t* ahead = i + kPrefetchPages < count ? page + kPrefetchPages * 4096 : nullptr;
    uint32_t c = ThreeStreams<kPageStream>(0xFFFFFFFFu, page, s.page2, s.page1, ahead);
    uint64_t c64 = _mm_crc32_u64(c, Load64(page + 4080));
    c64 = _mm_crc32_u64(c64, Load64(page + 4088));
    uint8_t* d = out + 16 * i;
    Store32(d, ~static_cast<uint32_t>(c64));
    std::memset(d + 4, 0, 12);
  }
}
}  // namespace

const Crc32cKernel kCrc32cSse42 = {"sse42", Crc32cSse42Update, Crc32cSse42Pages};

}  // namespace detail
}  // namespace hash
}  // namespace pg
#endif
