// Hashing for the code monitor: BLAKE3 (from the specification; portable, SSE4.1, AVX2 and
// AVX-512 kernels chosen at run time) and CRC32C as the fast non-crypto mode.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace pg {
namespace hash {

constexpr size_t kPageSize = 4096;   // digests are kept per 4 KiB page on every platform
constexpr size_t kDigestSize = 16;   // bytes kept per page (BLAKE3 truncated to 128 bits; CRC32C in the first 4)

enum class Mode { Blake3, Fast };

// --- BLAKE3, whole messages (tests, the on-disk comparison) ---
class Blake3 {
 public:
  Blake3();                                        // hash mode
  static Blake3 Keyed(const uint8_t key[32]);      // keyed_hash mode
  static Blake3 DeriveKey(const char* context);    // derive_key mode
  void Update(const uint8_t* data, size_t len);
  void Finalize(uint8_t* out, size_t outLen) const;  // extendable output
 private:
  struct State;
  uint32_t key_[8];
  uint32_t flags_;
  // chunk state + stack of chaining values (up to 54 levels)
  uint32_t cvStack_[54][8];
  uint8_t stackLen_ = 0;
  uint32_t cv_[8];
  uint64_t chunkCounter_ = 0;
  uint8_t block_[64];
  uint8_t blockLen_ = 0;
  uint8_t blocksCompressed_ = 0;
};

// --- Per-page hashing (the sweep's hot loop) ---
// Hashes `count` consecutive 4 KiB pages starting at `pages`; writes kDigestSize bytes per page
// to `out`. Each page is hashed as an independent BLAKE3 message (4 chunks, 3 parents).
void Blake3Pages(const uint8_t* pages, size_t count, uint8_t* out);
// CRC32C (Castagnoli) of each page, written little-endian into the first 4 of kDigestSize bytes.
void FastPages(const uint8_t* pages, size_t count, uint8_t* out);
inline void HashPages(Mode m, const uint8_t* pages, size_t count, uint8_t* out) {
  if (m == Mode::Blake3) Blake3Pages(pages, count, out); else FastPages(pages, count, out);
}

uint32_t Crc32c(const uint8_t* data, size_t len, uint32_t crc = 0);

// Backends: names available on this CPU, the active one, and a way to force one (tests, bench).
std::vector<std::string> Blake3Backends();
std::string Blake3Active();
bool SetBlake3Backend(const std::string& name);   // false if unknown/unavailable
std::vector<std::string> Crc32cBackends();
std::string Crc32cActive();
bool SetCrc32cBackend(const std::string& name);

}  // namespace hash
}  // namespace pg
