// Standalone throughput check for native/hash (not part of the addon build).
// Build: sh native/hash/tools/build_bench.sh /tmp/hash_bench; run: /tmp/hash_bench [MiB, default 256].
// Prints GB/s (1e9 bytes/s) for each backend on an in-cache buffer and on a 256 MiB buffer, with
// a plain 64-bit read-sum loop over the same 256 MiB as the memory bandwidth reference. Each number
// is the best wall-clock time of several runs (on a shared machine the best run is the least disturbed).
#include <time.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "hash/hash.h"

static double Now() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

template <class F>
static double BestGBps(size_t bytes, int reps, F&& f) {
  double best = 1e30;
  for (int r = 0; r < reps; ++r) {
    const double t0 = Now();
    f();
    best = std::min(best, Now() - t0);
  }
  return bytes / best / 1e9;
}

static volatile uint64_t sink;

int main(int argc, char** argv) {
  const size_t bigBytes = (argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 256) << 20;
  const size_t smallPages = 64;   // 256 KiB: stays in L2
  const size_t callPages = 64;    // pages per call, like the scanner's batches
  std::vector<uint8_t> big(bigBytes);
  std::mt19937_64 rng(1);
  for (size_t i = 0; i < bigBytes; i += 8) {
    uint64_t v = rng();
    std::memcpy(&big[i], &v, 8);
  }
  std::vector<uint8_t> out(bigBytes / 4096 * 16);

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
    const auto* k = pg::hash::FindBlake3Kernel(name);
    // In cache: the same 256 KiB hashed repeatedly.
    double hot = BestGBps(smallPages * 4096 * 200, 5, [&] {
      for (int i = 0; i < 200; ++i) pg::hash::Blake3Pages(k, big.data(), smallPages, out.data());
    });
    double cold = runBlake(k, bigBytes, name == "portable" ? 1 : 5);
    std::printf("blake3 pages %-9s in-cache %.2f GB/s   %zu MiB %.2f GB/s\n", name.c_str(), hot, bigBytes >> 20, cold);
  }
  {
    const auto* k = pg::hash::ActiveBlake3Kernel();
    double whole = BestGBps(bigBytes, 3, [&] {
      uint8_t h[32];
      pg::hash::Blake3Hash(big.data(), bigBytes, h, 32, k);
    });
    std::printf("blake3 whole message (%s), %zu MiB: %.2f GB/s\n", pg::hash::Blake3Active().c_str(), bigBytes >> 20, whole);
  }
  for (const std::string& name : pg::hash::Crc32cBackends()) {
    const auto* k = pg::hash::FindCrc32cKernel(name);
    double hot = BestGBps(smallPages * 4096 * 200, 5, [&] {
      for (int i = 0; i < 200; ++i) pg::hash::FastPages(k, big.data(), smallPages, out.data());
    });
    double cold = runFast(k, bigBytes, 5);
    std::printf("crc32c pages %-9s in-cache %.2f GB/s   %zu MiB %.2f GB/s  (%.2fx memread)\n", name.c_str(), hot,
                bigBytes >> 20, cold, cold / mem);
  }
  return 0;
}
