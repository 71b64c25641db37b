// Standalone throughput check for native/hash (not part of the addon build).
// Build: sh native/hash/tools/build_bench.sh /tmp/hash_bench
// Run:   /tmp/hash_bench [MiB, default 256] [only backends whose "mode:name" contains this, e.g. blake3:avx2]
// Prints GB/s (1e9 bytes/s) for each backend on an in-cache buffer and on a large buffer, with a
// plain 64-bit read-sum loop over the same buffer as the memory bandwidth reference. Each number is
// the median thread-CPU time of several runs.
#include <time.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "hash/hash.h"

// Thread CPU time, not wall time: on a shared machine the time this thread is descheduled would
// otherwise count as hashing time.
static double Now() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

// Median of `reps` timed runs.
template <class F>
static double BestGBps(size_t bytes, int reps, F&& f) {
  std::vector<double> t;
  for (int r = 0; r < reps; ++r) {
    const double t0 = Now();
    f();
    t.push_back(Now() - t0);
  }
  std::sort(t.begin(), t.end());
  return bytes / t[t.size() / 2] / 1e9;
}

static volatile uint64_t sink;

int main(int argc, char** argv) {
  const size_t bigBytes = (argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 256) << 20;
  const std::string only = argc > 2 ? argv[2] : "";
  auto wanted = [&](const char* mode, const std::string& name) {
    return (std::string(mode) + ":" + name).find(only) != std::string::npos;
  };
  const size_t smallPages = 64;  // 256 KiB: stays in L2
  const size_t callPages = 64;   // pages per call, like the scanner's batches
  // Page-aligned, like the scanner's batch buffers (a std::vector's 16-byte alignment would make
  // every 64-byte row load of the AVX-512 kernel split two cache lines).
  uint8_t* bigMem = static_cast<uint8_t*>(std::aligned_alloc(4096, bigBytes + 4096));
  struct Span {
    uint8_t* p;
    uint8_t* data() { return p; }
    uint8_t& operator[](size_t i) { return p[i]; }
  } big{bigMem};
  std::mt19937_64 rng(1);
  for (size_t i = 0; i < bigBytes; i += 8) {
    uint64_t v = rng();
    std::memcpy(&big[i], &v, 8);
  }
  std::vector<uint8_t> out(bigBytes / 4096 * 16);

  // Before timing anything: every backend must agree with the portable one, for 1..70 pages from
  // an unaligned start (every tail path of the page kernels). The tests check the same through
  // the addon; this catches a broken kernel before its speed is reported.
  {
    const size_t maxPages = 70;
    std::vector<uint8_t> ref(maxPages * 16), got(maxPages * 16);
    const uint8_t* src = big.data() + 3;
    int bad = 0;
    for (size_t n = 1; n <= maxPages && bigBytes >= (maxPages + 1) * 4096; ++n) {
      pg::hash::Blake3Pages(pg::hash::FindBlake3Kernel("portable"), src, n, ref.data());
      for (const std::string& name : pg::hash::Blake3Backends()) {
        pg::hash::Blake3Pages(pg::hash::FindBlake3Kernel(name), src, n, got.data());
        if (std::memcmp(ref.data(), got.data(), n * 16) != 0)
          std::printf("MISMATCH blake3 %s, %zu pages\n", name.c_str(), n), ++bad;
      }
      pg::hash::FastPages(pg::hash::FindCrc32cKernel("portable"), src, n, ref.data());
      for (const std::string& name : pg::hash::Crc32cBackends()) {
        pg::hash::FastPages(pg::hash::FindCrc32cKernel(name), src, n, got.data());
        if (std::memcmp(ref.data(), got.data(), n * 16) != 0)
          std::printf("MISMATCH crc32c %s, %zu pages\n", name.c_str(), n), ++bad;
      }
    }
    if (bad) return 1;
  }

  double mem = BestGBps(bigBytes, 5, [&] {
    const uint64_t* p = reinterpret_cast<const uint64_t*>(big.data());
    uint64_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    for (size_t i = 0; i < bigBytes / 8; i += 4) s0 += p[i], s1 += p[i + 1], s2 += p[i + 2], s3 += p[i + 3];
    sink = s0 + s1 + s2 + s3;
  });
  std::printf("memory read-sum, %zu MiB: %.2f GB/s\n", bigBytes >> 20, mem);

  auto runBlake = [&](const pg::hash::Blake3Kernel* k, size_t bytes, int reps) {
    return BestGBps(bytes, reps, [&] {
      for (size_t off = 0; off < bytes; off += callPages * 4096)
        pg::hash::Blake3Pages(k, big.data() + off, callPages, out.data() + off / 4096 * 16);
    });
  };
  auto runFast = [&](const pg::hash::Crc32cKernel* k, size_t bytes, int reps) {
    return BestGBps(bytes, reps, [&] {
      for (size_t off = 0; off < bytes; off += callPages * 4096)
        pg::hash::FastPages(k, big.data() + off, callPages, out.data() + off / 4096 * 16);
    });
  };
  for (const std::string& name : pg::hash::Blake3Backends()) {
    if (!wanted("blake3", name)) continue;
    const auto* k = pg::hash::FindBlake3Kernel(name);
    // In cache: the same 256 KiB hashed repeatedly.
    double hot = BestGBps(smallPages * 4096 * 200, 7, [&] {
      for (int i = 0; i < 200; ++i) pg::hash::Blake3Pages(k, big.data(), smallPages, out.data());
    });
    double cold = runBlake(k, bigBytes, name == "portable" ? 1 : 7);
    std::printf("blake3 pages %-9s in-cache %.2f GB/s   %zu MiB %.2f GB/s\n", name.c_str(), hot, bigBytes >> 20, cold);
  }
  if (wanted("blake3", "whole")) {
    const auto* k = pg::hash::ActiveBlake3Kernel();
    double whole = BestGBps(bigBytes, 3, [&] {
      uint8_t h[32];
      pg::hash::Blake3Hash(big.data(), bigBytes, h, 32, k);
    });
    std::printf("blake3 whole message (%s), %zu MiB: %.2f GB/s\n", pg::hash::Blake3Active().c_str(), bigBytes >> 20,
                whole);
  }
  for (const std::string& name : pg::hash::Crc32cBackends()) {
    if (!wanted("crc32c", name)) continue;
    const auto* k = pg::hash::FindCrc32cKernel(name);
    double hot = BestGBps(smallPages * 4096 * 200, 7, [&] {
      for (int i = 0; i < 200; ++i) pg::hash::FastPages(k, big.data(), smallPages, out.data());
    });
    double cold = runFast(k, bigBytes, 5);
    std::printf("crc32c pages %-9s in-cache %.2f GB/s   %zu MiB %.2f GB/s  (%.2fx memread)\n", name.c_str(), hot,
                bigBytes >> 20, cold, cold / mem);
  }
  return 0;
}
