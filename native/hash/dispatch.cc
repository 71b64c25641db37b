// Runtime backend selection. On x86-64 the CPU's features come from CPUID, and the OS's
// support for the wider register state from XGETBV (a CPU may have AVX-512 while the OS does not
// save ZMM registers on context switches; using them then corrupts state). On AArch64 the OS
// reports the features (getauxval(AT_HWCAP), sysctlbyname, IsProcessorFeaturePresent). Other
// architectures get the portable backends only.
#include <atomic>

#include "hash/blake3_impl.h"
#include "hash/hash.h"

#if PG_HASH_X64
#if defined(_MSC_VER)
#include <intrin.h>
#else
#include <cpuid.h>
#endif
#endif

#if PG_HASH_ARM64
#if defined(__linux__) || defined(__FreeBSD__)
#include <sys/auxv.h>
#elif defined(__APPLE__)
#include <sys/sysctl.h>
#elif defined(_WIN32)
#include "platform/win32.h"
#endif
#endif

namespace pg {
namespace hash {

namespace {

struct CpuFeatures {
  bool sse41 = false;
  bool sse42 = false;  // the crc32 instruction
  bool pclmul = false;
  bool avx2 = false;
  bool avx512 = false;   // F + VL + BW, with the OS saving opmask and ZMM state
  bool vpclmul = false;  // VPCLMULQDQ (carry-less multiply on YMM/ZMM registers), with avx2
};

#if PG_HASH_X64
void Cpuid(unsigned leaf, unsigned sub, unsigned r[4]) {
#if defined(_MSC_VER)
  int regs[4];
  __cpuidex(regs, static_cast<int>(leaf), static_cast<int>(sub));
  for (int i = 0; i < 4; ++i) r[i] = static_cast<unsigned>(regs[i]);
#else
  __cpuid_count(leaf, sub, r[0], r[1], r[2], r[3]);
#endif
}

uint64_t Xcr0() {
#if defined(_MSC_VER)
  return _xgetbv(0);
#else
  uint32_t lo, hi;
  __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  return lo | (static_cast<uint64_t>(hi) << 32);
#endif
}

CpuFeatures Detect() {
  CpuFeatures f;
  unsigned r[4];
  Cpuid(0, 0, r);
  const unsigned maxLeaf = r[0];
  if (maxLeaf < 1) return f;
  Cpuid(1, 0, r);
  const unsigned ecx1 = r[2];
  const bool ssse3 = ecx1 & (1u << 9);
  f.sse41 = ssse3 && (ecx1 & (1u << 19));
  f.sse42 = ecx1 & (1u << 20);
  f.pclmul = ecx1 & (1u << 1);
  const bool osxsave = ecx1 & (1u << 27);
  const bool avx = ecx1 & (1u << 28);
  uint64_t xcr0 = osxsave ? Xcr0() : 0;
  const bool osAvx = (xcr0 & 0x6) == 0x6;       // XMM and YMM state
  const bool osAvx512 = (xcr0 & 0xE6) == 0xE6;  // plus opmask, ZMM_Hi256, Hi16_ZMM
  if (maxLeaf >= 7) {
    Cpuid(7, 0, r);
    const unsigned ebx7 = r[1];
    f.avx2 = avx && osAvx && (ebx7 & (1u << 5));
    const bool avx512f = ebx7 & (1u << 16), avx512bw = ebx7 & (1u << 30), avx512vl = ebx7 & (1u << 31);
    f.avx512 = f.avx2 && osAvx512 && avx512f && avx512bw && avx512vl;
    f.vpclmul = f.avx2 && (r[2] & (1u << 10));  // CPUID.7.0:ECX bit 10
  }
  return f;
}
#endif

#if PG_HASH_X64
const CpuFeatures& Features() {
  static const CpuFeatures f = Detect();
  return f;
}
#endif

#if PG_HASH_ARM64
// AArch64: what the OS reports, never a probe by executing the instruction (a SIGILL handler in
// a library is not ours to install). ASIMD is architecturally required on AArch64 Linux, macOS
// and Windows, but is still checked so a kernel that hides it is obeyed.
struct ArmFeatures {
  bool neon = false;
  bool crc32 = false;
};
#if defined(__APPLE__)
bool SysctlFlag(const char* name) {
  int v = 0;
  size_t len = sizeof v;
  return sysctlbyname(name, &v, &len, nullptr, 0) == 0 && v != 0;
}
#endif
ArmFeatures DetectArm() {
  ArmFeatures f;
#if defined(__linux__) || defined(__FreeBSD__)
  // Bit values from the kernel's uapi asm/hwcap.h (the same on FreeBSD's elf_aux_info).
  constexpr unsigned long kHwcapAsimd = 1ul << 1, kHwcapCrc32 = 1ul << 7;
#if defined(__linux__)
  const unsigned long hw = getauxval(AT_HWCAP);
#else
  unsigned long hw = 0;
  if (elf_aux_info(AT_HWCAP, &hw, sizeof hw) != 0) hw = 0;
#endif
  f.neon = hw & kHwcapAsimd;
  f.crc32 = hw & kHwcapCrc32;
#elif defined(__APPLE__)
  // FEAT_CRC32 since macOS 12; armv8_crc32 on older releases. Every Apple Silicon has both.
  f.neon = SysctlFlag("hw.optional.neon") || SysctlFlag("hw.optional.AdvSIMD");
  f.crc32 = SysctlFlag("hw.optional.arm.FEAT_CRC32") || SysctlFlag("hw.optional.armv8_crc32");
#elif defined(_WIN32)
  f.neon = IsProcessorFeaturePresent(PF_ARM_NEON_INSTRUCTIONS_AVAILABLE);
  f.crc32 = IsProcessorFeaturePresent(PF_ARM_V8_CRC32_INSTRUCTIONS_AVAILABLE);
#endif
  return f;
}
const ArmFeatures& ArmFeaturesNow() {
  static const ArmFeatures f = DetectArm();
  return f;
}
#endif

// Available backends, worst first (the last is the default).
struct Blake3List {
  const Blake3Kernel* k[4];
  int n = 0;
};
const Blake3List& Blake3Available() {
  static const Blake3List list = [] {
    Blake3List l;
    l.k[l.n++] = &detail::kBlake3Portable;
#if PG_HASH_X64
    const CpuFeatures& f = Features();
    if (f.sse41) l.k[l.n++] = &detail::kBlake3Sse41;
    if (f.avx2) l.k[l.n++] = &detail::kBlake3Avx2;
    if (f.avx512) l.k[l.n++] = &detail::kBlake3Avx512;
#endif
#if PG_HASH_ARM64
    if (ArmFeaturesNow().neon) l.k[l.n++] = &detail::kBlake3Neon;
#endif
    return l;
  }();
  return list;
}

struct Crc32cList {
  const Crc32cKernel* k[4];
  int n = 0;
};
const Crc32cList& Crc32cAvailable() {
  static const Crc32cList list = [] {
    Crc32cList l;
    l.k[l.n++] = &detail::kCrc32cPortable;
#if PG_HASH_X64
    const CpuFeatures& f = Features();
    // Slowest to fastest per page, so the last one the CPU has is the default. The folding kernels
    // beat the three crc32 streams where they exist: on an AVX2 + VPCLMULQDQ CPU without AVX-512 the
    // 256-bit fold hashed 15.4 GB/s against sse42's 10.6 (issue 23); on the Zen 5 of docs/hash.md,
    // 21-24 against 13-16 GB/s from memory and the same speed in cache; avx512 there 31-38.
    if (f.sse42 && f.pclmul) l.k[l.n++] = &detail::kCrc32cSse42;
    if (f.sse42 && f.pclmul && f.vpclmul) l.k[l.n++] = &detail::kCrc32cAvx2;
    if (f.sse42 && f.pclmul && f.vpclmul && f.avx512) l.k[l.n++] = &detail::kCrc32cAvx512;
#endif
#if PG_HASH_ARM64
    if (ArmFeaturesNow().crc32) l.k[l.n++] = &detail::kCrc32cArmv8;
#endif
    return l;
  }();
  return list;
}

std::atomic<const Blake3Kernel*>& Blake3Default() {
  static std::atomic<const Blake3Kernel*> active{Blake3Available().k[Blake3Available().n - 1]};
  return active;
}
std::atomic<const Crc32cKernel*>& Crc32cDefault() {
  static std::atomic<const Crc32cKernel*> active{Crc32cAvailable().k[Crc32cAvailable().n - 1]};
  return active;
}

}  // namespace

std::vector<std::string> Blake3Backends() {
  std::vector<std::string> out;
  for (int i = 0; i < Blake3Available().n; ++i) out.emplace_back(Blake3Available().k[i]->name);
  return out;
}
std::vector<std::string> Crc32cBackends() {
  std::vector<std::string> out;
  for (int i = 0; i < Crc32cAvailable().n; ++i) out.emplace_back(Crc32cAvailable().k[i]->name);
  return out;
}

const Blake3Kernel* ActiveBlake3Kernel() { return Blake3Default().load(std::memory_order_acquire); }
const Crc32cKernel* ActiveCrc32cKernel() { return Crc32cDefault().load(std::memory_order_acquire); }
std::string Blake3Active() { return ActiveBlake3Kernel()->name; }
std::string Crc32cActive() { return ActiveCrc32cKernel()->name; }

const Blake3Kernel* FindBlake3Kernel(const std::string& name) {
  const Blake3List& l = Blake3Available();
  for (int i = 0; i < l.n; ++i)
    if (name == l.k[i]->name) return l.k[i];
  return nullptr;
}
const Crc32cKernel* FindCrc32cKernel(const std::string& name) {
  const Crc32cList& l = Crc32cAvailable();
  for (int i = 0; i < l.n; ++i)
    if (name == l.k[i]->name) return l.k[i];
  return nullptr;
}

bool SetBlake3Backend(const std::string& name) {
  const Blake3Kernel* k = FindBlake3Kernel(name);
  if (!k) return false;
  Blake3Default().store(k, std::memory_order_release);
  return true;
}
bool SetCrc32cBackend(const std::string& name) {
  const Crc32cKernel* k = FindCrc32cKernel(name);
  if (!k) return false;
  Crc32cDefault().store(k, std::memory_order_release);
  return true;
}

}  // namespace hash
}  // namespace pg
