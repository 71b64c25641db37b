// The tamper sentinel (see scanner_sentinel.h).
#include "page_math.h"
#include "scanner_sentinel.h"

#include <errno.h>
#include <time.h>

#if defined(__linux__)
#include <fcntl.h>
#include <unistd.h>
#endif

#include <algorithm>
#include <climits>
#include <cstring>

#include "memory.h"
#include "scanner_clock.h"
#include "scanner_confirm.h"
#include "scanner_digest.h"
#include "scanner_maps.h"
#include "scanner_store.h"
#include "ticker.h"

namespace pg {

namespace {

uint64_t RegionsKey(const std::vector<ScanRegion>& regions) {
  uint64_t h = 1469598103934665603ull;  // FNV-1a over the bounds
  for (const ScanRegion& r : regions) {
    for (uint64_t v : {static_cast<uint64_t>(r.start), static_cast<uint64_t>(r.end)}) {
      h ^= v;
      h *= 1099511628211ull;
    }
  }
  return h ^ regions.size();
}

void HashHit(const ScanRegion& reg, uint32_t region, uint32_t page, hash::Mode mode, std::vector<SentinelHit>* hits) {
  uint8_t buf[kPageSize];
  SentinelHit hit;
  hit.region = region;
  hit.page = page;
  int rerr = 0;
  hit.read = SafeRead(reg.start + static_cast<uintptr_t>(page) * kPageSize, buf, kPageSize, &rerr) == kPageSize;
  if (hit.read) HashPage(mode, buf, hit.digest);
  hits->push_back(hit);
}

}  // namespace

bool Sentinel(const std::vector<ScanRegion>& regions, hash::Mode mode, std::vector<SentinelHit>* hits, int* err,
              SentinelState* state, double budget) {
  if (!PagemapOpen()) {
    if (err) *err = EBADF;
    return false;
  }
  uint64_t shared = 0;
  const bool counters = FileBackedPages(&shared);
  const uint64_t key = RegionsKey(regions);
  const uint64_t now = MonotonicNs();
  if (state) {
    const double cap = std::max(4.0 * static_cast<double>(state->lastWalkCostNs), 10e6);
    state->tokensNs = std::min(cap, state->tokensNs + static_cast<double>(now - state->lastTickNs) * budget);
    state->lastTickNs = now;
    // Only the file-backed count is a trigger: the resident count moves with every heap page the
    // app touches. A write to a non-resident code page (resident +1, shared unchanged) waits for
    // the periodic full walk.
    const bool changed = !counters || shared != state->shared || key != state->regionsKey;
    const double cost = static_cast<double>(state->lastWalkCostNs);
    // The periodic full walk (for writes to non-resident pages, which the counter cannot see) may
    // use a quarter of the budget at most: every 2 s for small processes, every ~20 s at 250 MiB.
    const double periodicNs = std::max(static_cast<double>(kSentinelFullWalkNs), cost / (budget * 0.25));
    const bool due = static_cast<double>(now - state->lastWalkNs) >= periodicNs;
    // Walk costs vary by tens of percent: periodic walks keep two walks in reserve, so a write
    // (the counter's trigger) rarely has to wait for the bucket.
    const bool walk = !state->valid || (changed && state->tokensNs >= cost) || (due && state->tokensNs >= 3 * cost);
    if (!walk) {
      // Re-check only the pages the last walk found written (restores and rewrites of them).
      ++state->skipped;
      for (uintptr_t a : state->writtenPages) {
        for (size_t r = 0; r < regions.size(); ++r) {
          if (a < regions[r].start || a >= regions[r].end) continue;
          HashHit(regions[r], static_cast<uint32_t>(r), static_cast<uint32_t>((a - regions[r].start) / kPageSize), mode,
                  hits);
          break;
        }
      }
      return true;
    }
  }
  const uint64_t cpu0 = ThreadCpuNs();
  std::vector<uint32_t> written;
  std::vector<uintptr_t> found;
  const size_t osPage = PageSize();
  for (size_t r = 0; r < regions.size(); ++r) {
    const ScanRegion& reg = regions[r];
    written.clear();
    if (!WrittenPages(reg.start, reg.end - reg.start, &written, err)) {
      if (err && *err == EBADF) return false;  // pagemap was never opened
      continue;                                // region vanished: the sweep will report it
    }
    const size_t pages = (reg.end - reg.start) / kPageSize;
    for (uint32_t osIndex : written) {
      // An OS page may hold several 4 KiB digest pages (16 KiB pages on arm64).
      size_t first = 0, last = 0;
      pagemath::DigestPagesOf(osIndex, osPage, pages, &first, &last);
      for (size_t p = first; p < last; ++p) {
        found.push_back(reg.start + static_cast<uintptr_t>(p) * kPageSize);
        HashHit(reg, static_cast<uint32_t>(r), static_cast<uint32_t>(p), mode, hits);
      }
    }
  }
  if (state) {
    const uint64_t cost = ThreadCpuNs() - cpu0;
    state->tokensNs -= static_cast<double>(cost);
    state->lastWalkCostNs = cost;
    // Counters from before the walk: a write during the walk shows as a change on the next tick.
    state->valid = true;
    state->shared = shared;
    state->regionsKey = key;
    state->lastWalkNs = now;
    state->writtenPages = std::move(found);
    ++state->walks;
  }
  return true;
}

SentinelLoop::SentinelLoop(std::shared_ptr<Engine> engine, hash::Mode mode, uint64_t periodNs, double budget,
                           Report report)
    : engine_(std::move(engine)), mode_(mode), periodNs_(periodNs), budget_(budget), report_(std::move(report)) {
  std::lock_guard<std::mutex> lock(mu_);
  id_ = ticker::Add(periodNs_, [this] { OnTick(); });
}

SentinelLoop::~SentinelLoop() { Stop(); }

void SentinelLoop::SetRegions(std::vector<PassRegion> regions) {
  auto t = std::make_shared<Targets>();
  t->ranges.resize(regions.size());
  for (size_t i = 0; i < regions.size(); ++i) t->ranges[i] = {regions[i].start, regions[i].end};
  t->regions = std::move(regions);
  std::lock_guard<std::mutex> lock(mu_);
  targets_ = std::move(t);
  fresh_ = true;
}

void SentinelLoop::Stop() {
  uint64_t id;
  {
    std::lock_guard<std::mutex> lock(mu_);
    id = id_;
    id_ = 0;
  }
  ticker::Remove(id);  // waits for a tick in progress
}

void SentinelLoop::OnTick() {
  std::shared_ptr<const Targets> targets;
  bool fresh;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (id_ == 0) return;
    targets = targets_;
    fresh = fresh_;
    fresh_ = false;
  }
  if (targets) Tick(*targets, fresh);
  lastTickMs_.store(HealthClockMs(), std::memory_order_relaxed);
}

void SentinelLoop::Tick(const Targets& targets, bool fresh) {
  const std::vector<PassRegion>& regions = targets.regions;
  if (regions.empty()) return;
  std::vector<SentinelHit> hits;
  int err = 0;
  if (!Sentinel(targets.ranges, mode_, &hits, &err, &state_, budget_)) return;
  SentinelReport report;
  std::vector<Candidate> candidates;
  for (const SentinelHit& h : hits) {
    if (!h.read) continue;
    const PassRegion& r = regions[h.region];
    const uint64_t filePage = r.fileOffset / kPageSize + h.page;
    uint8_t expected[kDigestSize];
    engine_->store.Get(r.fileKey, filePage, 1, expected);
    if (!IsKnown(expected)) continue;  // not baselined yet: the next pass takes it
    // A written page stays anonymous after it is restored, so the sentinel also sees restores.
    if (SameDigest(h.digest, expected)) {
      report.matched.push_back({r.fileKey, filePage});
      continue;
    }
    Candidate c;
    c.region = h.region;
    c.page = h.page;
    c.address = r.start + static_cast<uintptr_t>(h.page) * kPageSize;
    c.fileKey = r.fileKey;
    c.filePage = filePage;
    std::memcpy(c.expected, expected, kDigestSize);
    candidates.push_back(std::move(c));
  }
  Confirm(*engine_, mode_, candidates, &report.changes);
  uint64_t sig = 1469598103934665603ull;  // FNV-1a over what JS would act on
  auto mix = [&sig](const void* p, size_t n) {
    for (size_t i = 0; i < n; ++i) {
      sig ^= static_cast<const uint8_t*>(p)[i];
      sig *= 1099511628211ull;
    }
  };
  for (const Change& c : report.changes) {
    mix(c.fileKey.data(), c.fileKey.size());
    mix(&c.filePage, sizeof c.filePage);
    mix(c.actual, sizeof c.actual);
  }
  mix("|", 1);
  for (const PageRef& m : report.matched) {
    mix(m.fileKey.data(), m.fileKey.size());
    mix(&m.filePage, sizeof m.filePage);
  }
  if (!fresh && sig == lastSignature_) return;
  lastSignature_ = sig;
  // Nothing written differs or was restored: JS has nothing to act on (a page that went away with
  // its mapping is closed by the next pass's mapping-removed).
  if (report.changes.empty() && report.matched.empty()) return;
  report_(std::move(report));
}

}  // namespace pg
