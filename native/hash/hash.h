// Hashing for the code monitor: BLAKE3 (from the specification; portable, SSE4.1, AVX2 and
// AVX-512 kernels chosen at run time) and CRC32C as the fast non-crypto mode.
//
// Thread safety: every function here is safe to call concurrently. A backend is either the
// process-wide default (chosen from CPUID at first use, changeable with Set*Backend, an atomic
// switch) or passed explicitly per call, which never touches shared state.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace pg {
namespace hash {

constexpr size_t kPageSize = 4096;  // digests are kept per 4 KiB page on every platform
constexpr size_t kDigestSize = 16;  // bytes kept per page (BLAKE3 truncated to 128 bits; CRC32C in the first 4)

enum class Mode { Blake3, Fast };

// Opaque backend descriptors (see blake3_impl.h). Obtain them with Find*Kernel / Active*Kernel.
struct Blake3Kernel;
struct Crc32cKernel;

// --- Backends ---
// Names usable on this CPU, slowest first and the default (the fastest) last, for BLAKE3 ("portable",
// "sse41", "avx2", "avx512"; arm64: "neon") and CRC32C ("portable", "sse42", "avx2", "avx512"; arm64: "armv8").
std::vector<std::string> Blake3Backends();
std::vector<std::string> Crc32cBackends();
// The backend used when none is passed explicitly.
std::string Blake3Active();
std::string Crc32cActive();
const Blake3Kernel* ActiveBlake3Kernel();
const Crc32cKernel* ActiveCrc32cKernel();
// A backend by name, or nullptr when unknown or not supported by this CPU/OS.
const Blake3Kernel* FindBlake3Kernel(const std::string& name);
const Crc32cKernel* FindCrc32cKernel(const std::string& name);
// Change the process-wide default; false (and no change) if the name is unknown/unavailable.
bool SetBlake3Backend(const std::string& name);
bool SetCrc32cBackend(const std::string& name);

// --- BLAKE3, whole messages (tests, the on-disk comparison) ---
class Blake3 {
 public:
  explicit Blake3(const Blake3Kernel* kernel = nullptr);                               // hash mode
  static Blake3 Keyed(const uint8_t key[32], const Blake3Kernel* kernel = nullptr);    // keyed_hash
  static Blake3 DeriveKey(const char* context, const Blake3Kernel* kernel = nullptr);  // derive_key
  static Blake3 DeriveKey(const uint8_t* context, size_t contextLen, const Blake3Kernel* kernel = nullptr);
  void Update(const uint8_t* data, size_t len);
  void Finalize(uint8_t* out, size_t outLen) const;  // extendable output, any length
  // Extended output starting at byte `seek` of the output stream.
  void FinalizeSeek(uint64_t seek, uint8_t* out, size_t outLen) const;

 private:
  Blake3(const uint32_t key[8], uint8_t flags, const Blake3Kernel* kernel);
  void ChunkUpdate(const uint8_t* data, size_t len);
  void MergeStack(uint64_t chunksBefore);
  void PushCv(const uint32_t cv[8], uint64_t chunkCounter);
  void ParentCv(const uint32_t left[8], const uint32_t right[8], uint32_t out[8]) const;

  const Blake3Kernel* kernel_;
  uint32_t key_[8];
  uint8_t flags_;
  // Stack of chaining values of complete subtrees, merged lazily (the newest is never merged
  // until more input arrives, since it may turn out to be the root). 54 levels cover 2^64 bytes.
  uint32_t cvStack_[54][8];
  uint8_t stackLen_ = 0;
  // The current chunk.
  uint32_t cv_[8];
  uint64_t chunkCounter_ = 0;
  uint8_t block_[64];
  uint8_t blockLen_ = 0;
  uint8_t blocksCompressed_ = 0;
};

// One-shot helpers.
void Blake3Hash(const uint8_t* data, size_t len, uint8_t* out, size_t outLen, const Blake3Kernel* kernel = nullptr);

// --- Per-page hashing (the sweep's hot loop) ---
// Hashes `count` consecutive 4 KiB pages starting at `pages`; writes kDigestSize bytes per page
// to `out`. Each page is hashed as an independent BLAKE3 message (4 chunks, 3 parents) and the
// first 16 bytes of its 32-byte hash are kept.
void Blake3Pages(const uint8_t* pages, size_t count, uint8_t* out);
void Blake3Pages(const Blake3Kernel* kernel, const uint8_t* pages, size_t count, uint8_t* out);
// CRC32C (Castagnoli) of each page, written little-endian into the first 4 of kDigestSize bytes;
// the other 12 bytes are zero.
void FastPages(const uint8_t* pages, size_t count, uint8_t* out);
void FastPages(const Crc32cKernel* kernel, const uint8_t* pages, size_t count, uint8_t* out);
inline void HashPages(Mode m, const uint8_t* pages, size_t count, uint8_t* out) {
  if (m == Mode::Blake3) Blake3Pages(pages, count, out);
  else FastPages(pages, count, out);
}

// Standard CRC32C (init and final xor 0xFFFFFFFF); pass a previous result as `crc` to continue.
uint32_t Crc32c(const uint8_t* data, size_t len, uint32_t crc = 0);
uint32_t Crc32c(const Crc32cKernel* kernel, const uint8_t* data, size_t len, uint32_t crc = 0);

}  // namespace hash
}  // namespace pg
