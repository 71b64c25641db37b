// The plain memory sweep (see scanner_sweep.h).
#include "page_math.h"
#include "scanner_sweep.h"

#include <algorithm>

#include "memory.h"
#include "scanner_clock.h"
#include "scanner_digest.h"

namespace pg {

namespace {
// Pages hashed per call (16: the widest SIMD kernel hashes 16 pages side by side).
constexpr size_t kHashSlice = 16;
}  // namespace

SweepResult Sweep(const std::vector<ScanRegion>& regions, const SweepOptions& opts, CancelToken& cancel) {
  SweepResult result;
  result.regions.resize(regions.size());
  const uint64_t wall0 = MonotonicNs();
  const uint64_t cpu0 = ThreadCpuNs();
  const size_t batch = std::max<size_t>(1, opts.batchPages);
  std::vector<uint8_t> buf(batch * kPageSize);
  std::vector<uintptr_t> addrs(batch);
  std::vector<uint8_t> ok(batch);
  std::vector<uint32_t> slot(batch);
  std::vector<uint8_t> resident;
  const size_t osPage = PageSize();

  for (size_t r = 0; r < regions.size(); ++r) {
    const ScanRegion& reg = regions[r];
    RegionDigests& out = result.regions[r];
    const size_t pages = (reg.end - reg.start) / kPageSize;
    out.digests.assign(pages * kDigestSize, 0);
    bool haveResidency = false;
    if (opts.residentOnly) {
      int err = 0;
      haveResidency = Residency(reg.start, reg.end - reg.start, &resident, &err);
      if (!haveResidency && err == ENOMEM) {  // the whole range is no longer mapped
        out.state = RegionState::Gone;
        for (uint32_t p = 0; p < pages; ++p) out.unread.push_back(p);
        continue;
      }
    }
    size_t readPages = 0;
    uint64_t h0 = MonotonicNs();
    for (size_t p = 0; p < pages && !cancel.cancelled();) {
      size_t n = 0;
      for (; p < pages && n < batch; ++p) {
        if (haveResidency) {
          size_t osIndex = pagemath::OsPageOf(p, osPage);
          if (!resident[osIndex]) {
            out.unread.push_back(static_cast<uint32_t>(p));
            continue;
          }
          ++out.residentPages;
        }
        addrs[n] = reg.start + p * kPageSize;
        slot[n] = static_cast<uint32_t>(p);
        ++n;
      }
      if (n == 0) continue;
      SafeReadPages(addrs.data(), n, buf.data(), ok.data());
      // Hash runs of pages that were read; holes (unmapped mid-sweep) stay zero and are listed.
      size_t k = 0;
      while (k < n) {
        if (!ok[k]) {
          out.unread.push_back(slot[k]);
          ++k;
          continue;
        }
        size_t run = k;
        while (run < n && ok[run] && slot[run] == slot[k] + (run - k)) ++run;
        // Hash in slices, prefetching the matching share of the next batch's pages between them.
        for (size_t q = k; q < run; q += kHashSlice) {
          size_t m = std::min(kHashSlice, run - q);
          if (p < pages) PrefetchRange(reg.start + (p + q) * kPageSize, std::min<size_t>(m, pages - p) * kPageSize);
          hash::HashPages(opts.mode, buf.data() + q * kPageSize, m, out.digests.data() + slot[q] * kDigestSize);
        }
        MarkKnown(opts.mode, out.digests.data() + slot[k] * kDigestSize, run - k);
        readPages += run - k;
        k = run;
      }
      Pace(opts.cpuFraction, wall0, cpu0, cancel);
    }
    out.hashNs = MonotonicNs() - h0;
    if (!opts.residentOnly) out.residentPages = static_cast<uint32_t>(readPages);
    std::sort(out.unread.begin(), out.unread.end());
    bool anyUnreadable = readPages + (haveResidency ? pages - out.residentPages : 0) < pages;
    out.state = readPages == 0 && anyUnreadable ? RegionState::Gone
                : anyUnreadable                 ? RegionState::Partial
                                                : RegionState::Ok;
    result.bytesHashed += readPages * kPageSize;
  }
  result.elapsedNs = MonotonicNs() - wall0;
  result.cpuNs = ThreadCpuNs() - cpu0;
  return result;
}

}  // namespace pg
