// CRC32C with the SSE4.2 crc32 instruction in three interleaved streams (crc32c_streams.inc), the
// partial CRCs joined with carry-less multiplications (PCLMULQDQ). Compiled with -msse4.2 -mpclmul.
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

struct Hw {
  static PG_FORCE_INLINE uint32_t Crc64(uint32_t crc, uint64_t data) {
    return static_cast<uint32_t>(_mm_crc32_u64(crc, data));
  }
  static PG_FORCE_INLINE uint32_t Crc8(uint32_t crc, uint8_t data) { return _mm_crc32_u8(crc, data); }
  static PG_FORCE_INLINE void Prefetch(const uint8_t* p) {
    _mm_prefetch(reinterpret_cast<const char*>(p), _MM_HINT_T0);
  }
};

#include "hash/crc32c_streams.inc"
}  // namespace

const Crc32cKernel kCrc32cSse42 = {"sse42", StreamsUpdate, StreamsPages};

}  // namespace detail
}  // namespace hash
}  // namespace pg
#endif
