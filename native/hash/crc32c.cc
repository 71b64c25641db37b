// CRC32C (Castagnoli, reflected polynomial 0x82F63B78): the portable slicing-by-8 backend and
// the public entry points. The hardware backend lives in crc32c_sse42.cc.
#include "hash/blake3_impl.h"
#include "hash/hash.h"

namespace pg {
namespace hash {
namespace detail {

namespace {
constexpr uint32_t kCastagnoli = 0x82F63B78;  // x^32 + ... bit-reversed, as the crc32 instruction uses

struct SliceTables {
  uint32_t t[8][256];
  SliceTables() {
    for (uint32_t i = 0; i < 256; ++i) {
      uint32_t c = i;
      for (int b = 0; b < 8; ++b) c = (c >> 1) ^ ((c & 1) ? kCastagnoli : 0);
      t[0][i] = c;
    }
    // t[k][i]: the CRC contribution of byte i followed by k zero bytes.
    for (int k = 1; k < 8; ++k)
      for (int i = 0; i < 256; ++i) t[k][i] = (t[k - 1][i] >> 8) ^ t[0][t[k - 1][i] & 0xFF];
  }
};

const SliceTables& Tables() {
  static const SliceTables tables;
  return tables;
}

void PagesPortableCrc(const uint8_t* pages, size_t count, uint8_t* out) {
  for (size_t p = 0; p < count; ++p) {
    uint8_t* d = out + p * 16;
    Store32(d, Crc32cPortableUpdate(0, pages + p * 4096, 4096));
    std::memset(d + 4, 0, 12);
  }
}
}  // namespace

uint32_t Crc32cPortableUpdate(uint32_t crc, const uint8_t* p, size_t len) {
  const auto& T = Tables().t;
  crc = ~crc;
  while (len >= 8) {
    const uint32_t lo = Load32(p) ^ crc, hi = Load32(p + 4);
    crc = T[7][lo & 0xFF] ^ T[6][(lo >> 8) & 0xFF] ^ T[5][(lo >> 16) & 0xFF] ^ T[4][lo >> 24] ^ T[3][hi & 0xFF] ^
          T[2][(hi >> 8) & 0xFF] ^ T[1][(hi >> 16) & 0xFF] ^ T[0][hi >> 24];
    p += 8;
    len -= 8;
  }
  while (len--) crc = T[0][(crc ^ *p++) & 0xFF] ^ (crc >> 8);
  return ~crc;
}

const Crc32cKernel kCrc32cPortable = {"portable", Crc32cPortableUpdate, PagesPortableCrc};

}  // namespace detail

uint32_t Crc32c(const uint8_t* data, size_t len, uint32_t crc) { return ActiveCrc32cKernel()->update(crc, data, len); }
uint32_t Crc32c(const Crc32cKernel* kernel, const uint8_t* data, size_t len, uint32_t crc) {
  return (kernel ? kernel : ActiveCrc32cKernel())->update(crc, data, len);
}
void FastPages(const uint8_t* pages, size_t count, uint8_t* out) { ActiveCrc32cKernel()->pages(pages, count, out); }
void FastPages(const Crc32cKernel* kernel, const uint8_t* pages, size_t count, uint8_t* out) {
  (kernel ? kernel : ActiveCrc32cKernel())->pages(pages, count, out);
}

}  // namespace hash
}  // namespace pg
