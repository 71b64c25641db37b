// The plain memory sweep: per-page digests of address ranges, read safely. Used by `procguard scan`
// and the benchmark; the code monitor's pass (scanner_pass.h) builds on the same reads.
#pragma once
#include <cstdint>
#include <vector>

#include "hash/hash.h"
#include "scanner_pacing.h"

namespace pg {

struct ScanRegion {
  uintptr_t start = 0;
  uintptr_t end = 0;
};

struct SweepOptions {
  hash::Mode mode = hash::Mode::Blake3;
  bool residentOnly = false;  // skip pages mincore() says are not resident (no fault-in, no RSS growth)
  double cpuFraction = 0;     // 0 = as fast as possible; else sleep so busy/wall <= this share of a core
  size_t batchPages = 16;     // pages read and hashed per step (64 KiB: stays in L2)
};

enum class RegionState { Ok = 0, Partial = 1, Gone = 2 };

struct RegionDigests {
  RegionState state = RegionState::Ok;
  std::vector<uint8_t> digests;  // kDigestSize per page; zero for pages in `unread`
  std::vector<uint32_t> unread;  // pages not read: unmapped mid-sweep, or skipped as non-resident
  uint32_t residentPages = 0;
  uint64_t hashNs = 0;
};

struct SweepResult {
  std::vector<RegionDigests> regions;
  uint64_t bytesHashed = 0;
  uint64_t elapsedNs = 0;
  uint64_t cpuNs = 0;
};

// Sweeps regions in order. `cancel` is checked between batches and ends a pacing sleep.
SweepResult Sweep(const std::vector<ScanRegion>& regions, const SweepOptions& opts, CancelToken& cancel);

}  // namespace pg
