// Internal to native/hash: BLAKE3 constants from the specification, the portable compression
// function, and the kernel table each backend fills in. Not part of the public interface.
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstring>

// PG_HASH_NO_SIMD builds the portable backends only (also what every non-x86-64 target gets).
#if (defined(__x86_64__) || defined(_M_X64)) && !defined(PG_HASH_NO_SIMD)
#define PG_HASH_X64 1
#else
#define PG_HASH_X64 0
#endif
// AArch64 little-endian: the NEON BLAKE3 and ARMv8 CRC32C backends (blake3_neon.cc, crc32c_arm.cc).
#if (defined(__aarch64__) || defined(_M_ARM64)) && !defined(__AARCH64EB__) && !defined(PG_HASH_NO_SIMD)
#define PG_HASH_ARM64 1
#else
#define PG_HASH_ARM64 0
#endif

// Internal linkage on purpose: these helpers are also compiled into the SIMD translation units
// with wider ISA flags, and a shared (COMDAT) copy could let the linker hand AVX-512 code to the
// portable path.
#if defined(_MSC_VER)
#define PG_FORCE_INLINE __forceinline
#else
#define PG_FORCE_INLINE inline __attribute__((always_inline))
#endif
#define PG_INLINE static PG_FORCE_INLINE

// Full unrolling of the small fixed loops in the SIMD kernels, so their arrays stay in registers.
#if defined(__clang__)
#define PG_UNROLL _Pragma("unroll")
#elif defined(__GNUC__)
#define PG_UNROLL _Pragma("GCC unroll 16")
#else
#define PG_UNROLL
#endif

namespace pg {
namespace hash {
namespace detail {

constexpr size_t kBlockLen = 64;
constexpr size_t kChunkLen = 1024;
constexpr size_t kOutLen = 32;
constexpr size_t kChunksPerPage = 4096 / kChunkLen;

// Domain separation flags (spec section 2.1).
enum : uint8_t {
  kChunkStart = 1 << 0,
  kChunkEnd = 1 << 1,
  kParent = 1 << 2,
  kRoot = 1 << 3,
  kKeyedHash = 1 << 4,
  kDeriveKeyContext = 1 << 5,
  kDeriveKeyMaterial = 1 << 6,
};

// The IV is SHA-256's (spec section 2.2).
constexpr uint32_t kIV[8] = {0x6A09E667, 0xBB67AE85, 0x3C6EF372, 0xA54FF53A,
                             0x510E527F, 0x9B05688C, 0x1F83D9AB, 0x5BE0CD19};

// The message permutation applied between rounds (spec section 2.2). Instead of moving words
// every round, every backend indexes the original block through kSchedule[round].
constexpr uint8_t kPermutation[16] = {2, 6, 3, 10, 7, 0, 4, 13, 1, 11, 12, 5, 9, 14, 15, 8};

struct Schedule {
  uint8_t s[7][16];
};
constexpr Schedule MakeSchedule() {
  Schedule out{};
  for (int i = 0; i < 16; ++i) out.s[0][i] = static_cast<uint8_t>(i);
  for (int r = 1; r < 7; ++r)
    for (int i = 0; i < 16; ++i) out.s[r][i] = out.s[r - 1][kPermutation[i]];
  return out;
}
constexpr Schedule kSchedule = MakeSchedule();

PG_INLINE uint32_t Load32(const uint8_t* p) {
  return static_cast<uint32_t>(p[0]) | (static_cast<uint32_t>(p[1]) << 8) | (static_cast<uint32_t>(p[2]) << 16) |
         (static_cast<uint32_t>(p[3]) << 24);
}
PG_INLINE void Store32(uint8_t* p, uint32_t v) {
  p[0] = static_cast<uint8_t>(v);
  p[1] = static_cast<uint8_t>(v >> 8);
  p[2] = static_cast<uint8_t>(v >> 16);
  p[3] = static_cast<uint8_t>(v >> 24);
}
PG_INLINE uint32_t Rotr32(uint32_t x, int n) { return (x >> n) | (x << (32 - n)); }

PG_INLINE void G(uint32_t* v, int a, int b, int c, int d, uint32_t mx, uint32_t my) {
  v[a] = v[a] + v[b] + mx;
  v[d] = Rotr32(v[d] ^ v[a], 16);
  v[c] = v[c] + v[d];
  v[b] = Rotr32(v[b] ^ v[c], 12);
  v[a] = v[a] + v[b] + my;
  v[d] = Rotr32(v[d] ^ v[a], 8);
  v[c] = v[c] + v[d];
  v[b] = Rotr32(v[b] ^ v[c], 7);
}

// The compression function (spec section 2.2): seven rounds over the 16-word state. Leaves the
// full state in v; callers take v[0..7]^v[8..15] as the chaining value and, for extended output,
// v[8..15]^cv as the second half.
PG_INLINE void CompressState(uint32_t v[16], const uint32_t cv[8], const uint8_t block[64], uint8_t blockLen,
                             uint64_t counter, uint8_t flags) {
  uint32_t m[16];
  for (int i = 0; i < 16; ++i) m[i] = Load32(block + 4 * i);
  for (int i = 0; i < 8; ++i) v[i] = cv[i];
  v[8] = kIV[0];
  v[9] = kIV[1];
  v[10] = kIV[2];
  v[11] = kIV[3];
  v[12] = static_cast<uint32_t>(counter);
  v[13] = static_cast<uint32_t>(counter >> 32);
  v[14] = blockLen;
  v[15] = flags;
  PG_UNROLL
  for (int r = 0; r < 7; ++r) {
    const uint8_t* s = kSchedule.s[r];
    G(v, 0, 4, 8, 12, m[s[0]], m[s[1]]);
    G(v, 1, 5, 9, 13, m[s[2]], m[s[3]]);
    G(v, 2, 6, 10, 14, m[s[4]], m[s[5]]);
    G(v, 3, 7, 11, 15, m[s[6]], m[s[7]]);
    G(v, 0, 5, 10, 15, m[s[8]], m[s[9]]);
    G(v, 1, 6, 11, 12, m[s[10]], m[s[11]]);
    G(v, 2, 7, 8, 13, m[s[12]], m[s[13]]);
    G(v, 3, 4, 9, 14, m[s[14]], m[s[15]]);
  }
}

// Compress in place: cv becomes the new chaining value.
PG_INLINE void CompressInPlace(uint32_t cv[8], const uint8_t block[64], uint8_t blockLen, uint64_t counter,
                               uint8_t flags) {
  uint32_t v[16];
  CompressState(v, cv, block, blockLen, counter, flags);
  for (int i = 0; i < 8; ++i) cv[i] = v[i] ^ v[i + 8];
}

// Compress to the full 64-byte extended output (root blocks of the XOF).
PG_INLINE void CompressXof(const uint32_t cv[8], const uint8_t block[64], uint8_t blockLen, uint64_t counter,
                           uint8_t flags, uint8_t out[64]) {
  uint32_t v[16];
  CompressState(v, cv, block, blockLen, counter, flags);
  for (int i = 0; i < 8; ++i) {
    Store32(out + 4 * i, v[i] ^ v[i + 8]);
    Store32(out + 32 + 4 * i, v[i + 8] ^ cv[i]);
  }
}

PG_INLINE void StoreCv(uint8_t out[32], const uint32_t cv[8]) {
  for (int i = 0; i < 8; ++i) Store32(out + 4 * i, cv[i]);
}
PG_INLINE void LoadCv(uint32_t cv[8], const uint8_t in[32]) {
  for (int i = 0; i < 8; ++i) cv[i] = Load32(in + 4 * i);
}

// CRC32C: x^m mod P in the reflected bit order of the crc32 instruction (bit i <-> x^(31-i));
// multiplying by x is one step of the bitwise CRC. The constants of the PCLMULQDQ kernels.
PG_INLINE uint32_t Crc32cXPowMod(uint32_t m) {
  uint32_t v = 0x80000000u;  // x^0
  while (m--) v = (v >> 1) ^ ((v & 1) ? 0x82F63B78u : 0);
  return v;
}

// Hashes `numInputs` equal-length inputs of `blocks` full 64-byte blocks each, all with the same
// key; input i uses counter `counter + i` when incrementCounter is set, else `counter`. The first
// block gets flags|flagsStart, the last flags|flagsEnd. Writes a 32-byte chaining value per input.
// Used for runs of whole chunks (blocks = 16) and for parent nodes (blocks = 1, flags = kParent).
using HashManyFn = void (*)(const uint8_t* const* inputs, size_t numInputs, size_t blocks, const uint32_t key[8],
                            uint64_t counter, bool incrementCounter, uint8_t flags, uint8_t flagsStart,
                            uint8_t flagsEnd, uint8_t* out);
// Hashes `count` consecutive 4 KiB pages, each as a separate unkeyed BLAKE3 message, and writes the
// first 16 bytes of each page's hash to out (16 bytes per page).
using PagesFn = void (*)(const uint8_t* pages, size_t count, uint8_t* out);

}  // namespace detail

struct Blake3Kernel {
  const char* name;
  size_t degree;  // inputs hashed in parallel by hashMany
  detail::HashManyFn hashMany;
  detail::PagesFn pages;
};

using Crc32cUpdateFn = uint32_t (*)(uint32_t crc, const uint8_t* data, size_t len);
using Crc32cPagesFn = void (*)(const uint8_t* pages, size_t count, uint8_t* out);
struct Crc32cKernel {
  const char* name;
  Crc32cUpdateFn update;  // standard CRC32C: crc in and out are the finalised (inverted) values
  Crc32cPagesFn pages;
};

namespace detail {
// Backends, each defined in its own translation unit (the SIMD ones compiled with their ISA flags).
extern const Blake3Kernel kBlake3Portable;
extern const Crc32cKernel kCrc32cPortable;
#if PG_HASH_X64
extern const Blake3Kernel kBlake3Sse41;
extern const Blake3Kernel kBlake3Avx2;
extern const Blake3Kernel kBlake3Avx512;
extern const Crc32cKernel kCrc32cSse42;
extern const Crc32cKernel kCrc32cAvx2;    // VPCLMULQDQ folding per page, 256-bit
extern const Crc32cKernel kCrc32cAvx512;  // VPCLMULQDQ folding per page, 512-bit
#endif
#if PG_HASH_ARM64
extern const Blake3Kernel kBlake3Neon;
extern const Crc32cKernel kCrc32cArmv8;
#endif

// Portable pieces the SIMD backends reuse for leftovers.
void HashManyPortable(const uint8_t* const* inputs, size_t numInputs, size_t blocks, const uint32_t key[8],
                      uint64_t counter, bool incrementCounter, uint8_t flags, uint8_t flagsStart, uint8_t flagsEnd,
                      uint8_t* out);
void PagesPortable(const uint8_t* pages, size_t count, uint8_t* out);
uint32_t Crc32cPortableUpdate(uint32_t crc, const uint8_t* data, size_t len);
}  // namespace detail
}  // namespace hash
}  // namespace pg
