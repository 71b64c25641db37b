#include "scanner.h"
#include "page_math.h"

#include <errno.h>
#include <time.h>

#if defined(__linux__)
#include <fcntl.h>
#include <pthread.h>
#include <unistd.h>
#endif

#ifdef _WIN32
#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#ifndef NOMINMAX
#define NOMINMAX
#endif
#include <windows.h>
#endif

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <climits>
#include <cstring>

#include "memory.h"

namespace pg {

using hash::kDigestSize;
using hash::kPageSize;

uint64_t MonotonicNs() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                   std::chrono::steady_clock::now().time_since_epoch())
                                   .count());
}

uint64_t ThreadCpuNs() {
#if defined(_WIN32)
  // User + kernel time of this thread, in 100 ns units. (Updated at the scheduler tick, so it is
  // coarse, ~15.6 ms; the pacing only needs an average over many batches.)
  FILETIME created, exited, kernel, user;
  if (GetThreadTimes(GetCurrentThread(), &created, &exited, &kernel, &user)) {
    auto ticks = [](const FILETIME& f) { return (static_cast<uint64_t>(f.dwHighDateTime) << 32) | f.dwLowDateTime; };
    return (ticks(kernel) + ticks(user)) * 100ull;
  }
#elif defined(CLOCK_THREAD_CPUTIME_ID)
  struct timespec ts;
  if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) == 0)
    return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<uint64_t>(ts.tv_nsec);
#endif
  return MonotonicNs();
}

namespace {

// Pages hashed per call in the sweep (16: the widest SIMD kernel hashes 16 pages side by side).
constexpr size_t kHashSlice = 16;

// Sleeps as needed so that the CPU used since `cpu0` stays within `fraction` of the wall time
// since `wall0`. Work goes in bursts and the thread sleeps only once it is well ahead of its
// share: each wakeup costs a cold cache and a scheduler round trip (sleeping after every 64 KiB
// batch tripled the CPU of a sweep at 10 % and multiplied it by ten at 0.2 %).
void Pace(double fraction, uint64_t wall0, uint64_t cpu0, CancelToken& cancel) {
  if (fraction <= 0 || fraction >= 1) return;
  const uint64_t busy = ThreadCpuNs() - cpu0;
  const uint64_t wanted = static_cast<uint64_t>(static_cast<double>(busy) / fraction);
  const uint64_t elapsed = MonotonicNs() - wall0;
  // Bursts of at least ~2 ms of CPU: at 0.2 % that is one wakeup a second.
  const uint64_t ahead = std::max<uint64_t>(100000000ull, static_cast<uint64_t>(2e6 / fraction));
  if (wanted < elapsed + ahead) return;
  cancel.SleepFor(std::min<uint64_t>(wanted - elapsed, 10000000000ull));
}

// Asks the CPU to pull [addr, addr + len) into L2 ahead of use. Prefetch instructions never
// fault (a line of an unmapped or non-present page is just dropped), so this is safe on memory
// that may be unmapped at any moment and never faults a page in. It overlaps the DRAM fetch of
// the next batch with the hashing of this one: process_vm_readv then copies from cache; on its
// own the kernel copy is latency-bound (one page at a time) and costs more than the hash.
inline void PrefetchRange(uintptr_t addr, size_t len) {
  for (size_t off = 0; off < len; off += 64) __builtin_prefetch(reinterpret_cast<const void*>(addr + off), 0, 2);
}

}  // namespace

void CancelToken::Cancel() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    flag_.store(true);
  }
  cv_.notify_all();
}

bool CancelToken::SleepFor(uint64_t ns) {
  std::unique_lock<std::mutex> lock(mu_);
  return !cv_.wait_for(lock, std::chrono::nanoseconds(ns), [this] { return flag_.load(); });
}

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
    out.state = readPages == 0 && anyUnreadable ? RegionState::Gone : anyUnreadable ? RegionState::Partial : RegionState::Ok;
    result.bytesHashed += readPages * kPageSize;
  }
  result.elapsedNs = MonotonicNs() - wall0;
  result.cpuNs = ThreadCpuNs() - cpu0;
  return result;
}

namespace {

// Resident and file-backed (+ shmem) page counts from /proc/self/statm; false where unavailable.
// The fd is kept: one pread is ~1 us, an open/read/close ~6 us, ten times a second.
bool StatmCounters(uint64_t* resident, uint64_t* shared) {
#if defined(__linux__)
  static const int fd = open("/proc/self/statm", O_RDONLY | O_CLOEXEC);  // 0444: readable after hardening too
  if (fd < 0) return false;
  char buf[128];
  ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
  if (n <= 0) return false;
  buf[n] = 0;
  unsigned long long size = 0, res = 0, sh = 0;
  if (sscanf(buf, "%llu %llu %llu", &size, &res, &sh) != 3) return false;
  *resident = res;
  *shared = sh;
  return true;
#else
  (void)resident;
  (void)shared;
  return false;
#endif
}

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
  if (hit.read) {
    hash::HashPages(mode, buf, 1, hit.digest);
    MarkKnown(mode, hit.digest, 1);
  }
  hits->push_back(hit);
}

}  // namespace

bool Sentinel(const std::vector<ScanRegion>& regions, hash::Mode mode, std::vector<SentinelHit>* hits, int* err,
              SentinelState* state, double budget) {
  if (!PagemapOpen()) {
    if (err) *err = EBADF;
    return false;
  }
  uint64_t resident = 0, shared = 0;
  const bool counters = StatmCounters(&resident, &shared);
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
          HashHit(regions[r], static_cast<uint32_t>(r), static_cast<uint32_t>((a - regions[r].start) / kPageSize), mode, hits);
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

bool HashFileRange(int fd, uint64_t offset, uint64_t length, hash::Mode mode, std::vector<uint8_t>* digests, int* err) {
  const size_t pages = (length + kPageSize - 1) / kPageSize;
  digests->assign(pages * kDigestSize, 0);
  const size_t batch = 64;
  std::vector<uint8_t> buf(batch * kPageSize);
  for (size_t p = 0; p < pages; p += batch) {
    size_t n = std::min(batch, pages - p);
    size_t want = n * kPageSize, got = 0;
    // Short only at EOF: the kernel maps zeros past the end of the file.
    if (!ReadFileAt(fd, offset + p * kPageSize, buf.data(), want, &got, err)) return false;
    std::memset(buf.data() + got, 0, want - got);
    hash::HashPages(mode, buf.data(), n, digests->data() + p * kDigestSize);
  }
  MarkKnown(mode, digests->data(), pages);
  return true;
}

void MarkKnown(hash::Mode mode, uint8_t* digests, size_t pages) {
  if (mode != hash::Mode::Fast) return;
  for (size_t p = 0; p < pages; ++p) digests[p * kDigestSize + kDigestSize - 1] = 1;
}

void CompareDigests(const uint8_t* expected, const uint8_t* actual, size_t pages, const std::vector<uint32_t>& skip,
                    std::vector<uint32_t>* mismatch, std::vector<uint32_t>* unknown, std::vector<uint32_t>* missing) {
  static const uint8_t kZero[kDigestSize] = {0};
  size_t s = 0;
  for (size_t p = 0; p < pages; ++p) {
    const uint8_t* e = expected + p * kDigestSize;
    const bool expectedKnown = std::memcmp(e, kZero, kDigestSize) != 0;
    if (!expectedKnown) missing->push_back(static_cast<uint32_t>(p));
    while (s < skip.size() && skip[s] < p) ++s;
    if (s < skip.size() && skip[s] == p) continue;
    const uint8_t* a = actual + p * kDigestSize;
    if (std::memcmp(a, kZero, kDigestSize) == 0) continue;
    if (!expectedKnown) unknown->push_back(static_cast<uint32_t>(p));
    else if (std::memcmp(e, a, kDigestSize) != 0) mismatch->push_back(static_cast<uint32_t>(p));
  }
}

SentinelLoop::SentinelLoop(hash::Mode mode, uint64_t periodNs, double budget, Report report)
    : mode_(mode), periodNs_(periodNs), budget_(budget), report_(std::move(report)), thread_([this] { Run(); }) {}

SentinelLoop::~SentinelLoop() { Stop(); }

void SentinelLoop::SetRegions(std::vector<ScanRegion> regions, uint64_t generation) {
  std::lock_guard<std::mutex> lock(mu_);
  regions_ = std::move(regions);
  generation_ = generation;
  fresh_ = true;
}

void SentinelLoop::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void SentinelLoop::Run() {
#if defined(__linux__)
  pthread_setname_np(pthread_self(), "procguard-sent");
#endif
  std::unique_lock<std::mutex> lock(mu_);
  while (!stop_) {
    cv_.wait_for(lock, std::chrono::nanoseconds(periodNs_), [this] { return stop_; });
    if (stop_) break;
    std::vector<ScanRegion> regions = regions_;
    const uint64_t generation = generation_;
    const bool fresh = fresh_;
    fresh_ = false;
    lock.unlock();
    std::vector<SentinelHit> hits;
    int err = 0;
    if (!regions.empty() && Sentinel(regions, mode_, &hits, &err, &state_, budget_)) {
      uint64_t sig = 1469598103934665603ull;  // FNV-1a over what JS would act on
      auto mix = [&sig](const void* p, size_t n) {
        for (size_t i = 0; i < n; ++i) {
          sig ^= static_cast<const uint8_t*>(p)[i];
          sig *= 1099511628211ull;
        }
      };
      for (const SentinelHit& h : hits) {
        mix(&h.region, sizeof h.region);
        mix(&h.page, sizeof h.page);
        mix(&h.read, sizeof h.read);
        mix(h.digest, sizeof h.digest);
      }
      if (fresh || sig != lastSignature_) {
        lastSignature_ = sig;
        report_(generation, std::move(hits));
      }
    }
    lock.lock();
  }
}

Worker::Worker() : thread_([this] { Run(); }) {}

Worker::~Worker() { Stop(); }

void Worker::Post(std::function<void()> job) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return;
    jobs_.push_back(std::move(job));
  }
  cv_.notify_one();
}

void Worker::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_ && !thread_.joinable()) return;
    stopping_ = true;
    jobs_.clear();
  }
  cancel_.Cancel();
  cv_.notify_one();
  if (thread_.joinable()) thread_.join();
}

void Worker::Run() {
#if defined(__linux__)
  pthread_setname_np(pthread_self(), "procguard-scan");  // visible in top -H, /proc/self/task/*/comm
#endif
  for (;;) {
    std::function<void()> job;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
      if (stopping_) return;
      job = std::move(jobs_.front());
      jobs_.pop_front();
    }
    job();
  }
}

}  // namespace pg
