#include "page_math.h"
#include "scanner_pass.h"

#include <errno.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <memory>
#include <optional>

#include "file_view.h"
#include "first_read.h"
#include "memory.h"
#include "scanner_clock.h"
#include "scanner_digest.h"
#include "scanner_file.h"
#include "scanner_maps.h"
#include "scanner_store.h"

namespace pg {

namespace {

constexpr size_t kChunkPages = 1024;  // pagemap is read per 4 MiB chunk (twice at most)
constexpr size_t kBatchPages =
    64;  // read per step: one pread or process_vm_readv of 256 KiB (5 % less CPU than 64 KiB)
// kView: a page-cache page the process has present, hashed in place through the file's view.
constexpr uint8_t kSkip = 0, kMemory = 1, kFile = 2, kView = 3;

struct Scratch {
  std::vector<uint8_t> buf = std::vector<uint8_t>(kBatchPages * kPageSize);
  std::vector<uint8_t> memBuf = std::vector<uint8_t>(kBatchPages * kPageSize);
  std::vector<uintptr_t> addrs = std::vector<uintptr_t>(kBatchPages);
  std::vector<uint8_t> ok = std::vector<uint8_t>(kBatchPages);
  std::vector<uint8_t> memOk = std::vector<uint8_t>(kBatchPages);
  std::vector<uint32_t> slots = std::vector<uint32_t>(kBatchPages);
  std::vector<uint8_t> page = std::vector<uint8_t>(kPageSize);
  std::vector<uint64_t> before, after;
  // Digests of the chunk being read: baseline, this pass, first-seen pages to adopt. Per chunk and
  // reused, not per region: a fresh multi-MiB buffer per region costs a page fault per 4 KiB on
  // every pass (~12 us each under shadow paging, measured), more than reading the pages it describes.
  std::vector<uint8_t> base = std::vector<uint8_t>(kChunkPages * kDigestSize);
  std::vector<uint8_t> now = std::vector<uint8_t>(kChunkPages * kDigestSize);
  std::vector<uint8_t> adopt = std::vector<uint8_t>(kChunkPages * kDigestSize);
  std::vector<uint8_t> resident, route, viaFile;
};

// Hashes the runs of read pages of a batch into their slots.
void HashRead(hash::Mode mode, const uint8_t* buf, const uint8_t* ok, size_t n, uint8_t* out) {
  size_t k = 0;
  while (k < n) {
    if (!ok[k]) {
      ++k;
      continue;
    }
    size_t run = k;
    while (run < n && ok[run]) ++run;
    hash::HashPages(mode, buf + k * kPageSize, run - k, out + k * kDigestSize);
    MarkKnown(mode, out + k * kDigestSize, run - k);
    k = run;
  }
}

class RegionPass {
 public:
  RegionPass(Engine& engine, const PassRegion& r, uint32_t index, const PassOptions& opts, Scratch& s, PassResult& res)
      : engine_(engine),
        r_(r),
        index_(index),
        opts_(opts),
        s_(s),
        res_(res),
        pages_((r.end - r.start) / kPageSize),
        firstPage_(r.fileOffset / kPageSize) {}

  // `watch`: pages with open findings in this region's file (by file page), or null.
  void Run(CancelToken& cancel, uint64_t wall0, uint64_t cpu0, const std::multimap<uint64_t, uint32_t>* watch) {
    PassRegionStats& st = res_.regions[index_];
    st.pages = static_cast<uint32_t>(pages_);
    engine_.store.Reserve(r_.fileKey, firstPage_, pages_);
    if (r_.compareDisk && r_.fileKey != "vdso") file_ = engine_.files.Get(r_.fileKey);
    bool haveResidency = false;
    if (opts_.residentOnly) {
      int err = 0;
      haveResidency = Residency(r_.start, r_.end - r_.start, &s_.resident, &err);
      if (!haveResidency && err == ENOMEM) {  // the whole range is no longer mapped
        st.unread = st.pages;
        return;
      }
    }
    const size_t osPage = PageSize();
    for (size_t c = 0; c < pages_ && !cancel.cancelled(); c += kChunkPages) {
      const size_t n = std::min(kChunkPages, pages_ - c);
      const uintptr_t chunkAddr = r_.start + c * kPageSize;
      // Before: which pages are the page-cache page (read from the file) and which were copied on write
      // (read from memory). The file-backed count first: Judge compares it after the reads.
      uint64_t fileBacked = 0;
      const bool counted = FileBackedPages(&fileBacked);
      const bool pm = file_ && PageTableEntries(chunkAddr, n * kPageSize, &s_.before);
      s_.route.assign(n, kMemory);
      s_.viaFile.assign(n, 0);
      std::memset(s_.now.data(), 0, n * kDigestSize);
      std::memset(s_.adopt.data(), 0, n * kDigestSize);
      const bool baselined = engine_.store.Get(r_.fileKey, firstPage_ + c, n, s_.base.data());
      for (size_t p = 0; p < n; ++p) {
        if (haveResidency && !s_.resident[pagemath::OsPageOf(c + p, osPage)]) s_.route[p] = kSkip;
        else if (pm && IsPageCachePage(s_.before[pagemath::OsPageOf(p, osPage)])) s_.route[p] = kFile;
      }
      // The lease covers only the in-place hashing of this chunk's present page-cache pages: it is
      // released before the copies of the other pages (reads of pages not in memory can wait on
      // the disk), Judge and the pacing sleep. A process stopped while holding it (SIGSTOP, a
      // debugger, the cgroup freezer) makes a writer of the file wait for the kernel's
      // lease-break-time (45 s), so the window is kept to the hashing itself.
      std::optional<FileView::Lease> lease;
      // Not in resident-only mode: populating the view's blocks could read pages in from disk. On a
      // file's first pass, only where the view measured cheaper than a copy (first_read.h).
      const bool viewable = pm && opts_.zeroCopy && !opts_.residentOnly;
      bool probing = false;
      const firstread::Route first =
          viewable && !baselined ? firstread::Next(opts_.firstRead, &probing) : firstread::Route::kCopy;
      const uint64_t probeCpu0 = probing ? ThreadCpuNs() : 0;
      if (viewable && (baselined || first == firstread::Route::kView)) RouteToView(c, n, osPage, &lease);
      if (view_ != nullptr) HashInPlace(c, n);
      lease.reset();
      view_ = nullptr;
      for (size_t b = 0; b < n; b += kBatchPages) ReadBatch(c, b, std::min(kBatchPages, n - b));
      if (probing) RecordProbe(first, n, ThreadCpuNs() - probeCpu0);
      Judge(c, n, pm, counted ? &fileBacked : nullptr);
      for (size_t p = 0; p < n; ++p) {
        if (s_.route[p] != kSkip) ++st.resident;
        if (IsKnown(&s_.now[p * kDigestSize])) ++st.hashed;
      }
      if (watch) Matches(c, n, *watch);
      engine_.store.Put(r_.fileKey, firstPage_ + c, n, s_.adopt.data());
      if (opts_.trackProgress) {
        engine_.progress.done.fetch_add(n, std::memory_order_relaxed);
        engine_.progress.lastMs.store(HealthClockMs(), std::memory_order_relaxed);
      }
      Pace(opts_.cpuFraction, wall0, cpu0, cancel);
    }
    if (cancel.cancelled()) res_.cancelled = true;
    st.unread = st.pages - st.hashed;
    st.fromFile = fromFile_;
    res_.bytesHashed += static_cast<uint64_t>(st.hashed) * kPageSize;
  }

  std::vector<Candidate> candidates;

 private:
  // Matches of watched pages in chunk [c, c + n): read this pass and equal to their baseline.
  void Matches(size_t c, size_t n, const std::multimap<uint64_t, uint32_t>& watch) {
    const uint64_t lo = firstPage_ + c;
    for (auto it = watch.lower_bound(lo); it != watch.end() && it->first < lo + n; ++it) {
      const size_t p = it->first - lo;
      const uint8_t* now = &s_.now[p * kDigestSize];
      const uint8_t* base = IsKnown(&s_.base[p * kDigestSize]) ? &s_.base[p * kDigestSize] : &s_.adopt[p * kDigestSize];
      if (IsKnown(now) && SameDigest(now, base)) res_.matched.push_back(it->second);
    }
  }

  // A first-pass probe chunk's cost (first_read.h), over the pages it read by each route.
  void RecordProbe(firstread::Route route, size_t n, uint64_t cpuNs) {
    uint64_t view = 0, file = 0, total = 0;
    for (size_t p = 0; p < n; ++p) {
      if (s_.route[p] == kSkip) continue;
      ++total;
      view += s_.route[p] == kView;
      file += s_.route[p] == kFile;
    }
    firstread::Record(route, cpuNs, route == firstread::Route::kView ? view : file, total);
  }

  // Moves the chunk's present page-cache pages from pread to the view when the lease is granted.
  void RouteToView(size_t c, size_t n, size_t osPage, std::optional<FileView::Lease>* lease) {
    FileView* v = file_->View();
    if (!v) return;
    auto present = [&](size_t p) {
      return s_.route[p] == kFile && (s_.before[pagemath::OsPageOf(p, osPage)] & kPtePresent);
    };
    bool any = false;
    for (size_t p = 0; p < n && !any; ++p) any = present(p);
    if (!any) return;
    lease->emplace(v);
    if (!(*lease)->held()) return;
    const uint64_t readable = (*lease)->readable();  // nothing past the end of the file under the lease
    auto viewable = [&](size_t p) { return present(p) && r_.fileOffset + (c + p + 1) * kPageSize <= readable; };
    for (size_t p = 0; p < n;) {
      if (!viewable(p)) {
        ++p;
        continue;
      }
      size_t run = p;
      while (run < n && viewable(run)) s_.route[run++] = kView;
      (*lease)->Populate(r_.fileOffset + (c + p) * kPageSize, (run - p) * kPageSize);
      p = run;
    }
    view_ = (*lease)->data();
  }

  // Hashes the chunk's kView pages in place through the leased view (the lease must be held).
  void HashInPlace(size_t c, size_t n) {
    for (size_t k = 0; k < n;) {
      if (s_.route[k] != kView) {
        ++k;
        continue;
      }
      size_t run = k;
      while (run < n && s_.route[run] == kView) ++run;
      const uint64_t off = r_.fileOffset + (c + k) * kPageSize;
      uint8_t* out = &s_.now[k * kDigestSize];
      hash::HashPages(opts_.mode, view_ + off, run - k, out);  // ok[] stays 0: HashRead leaves these
      MarkKnown(opts_.mode, out, run - k);
      for (size_t q = k; q < run; ++q) s_.viaFile[q] = 1;
      res_.viewBytes += (run - k) * kPageSize;
      fromFile_ += static_cast<uint32_t>(run - k);
      k = run;
    }
  }

  // Reads pages [c + b, c + b + n) by their route into the batch buffer, hashes them (kView pages
  // were hashed by HashInPlace already).
  void ReadBatch(size_t c, size_t b, size_t n) {
    size_t mem = 0;
    std::fill(s_.ok.begin(), s_.ok.begin() + n, 0);
    for (size_t k = 0; k < n;) {
      const uint8_t route = s_.route[b + k];
      if (route == kMemory) {
        s_.addrs[mem] = r_.start + (c + b + k) * kPageSize;
        s_.slots[mem++] = static_cast<uint32_t>(k);
        ++k;
      } else if (route == kFile) {
        size_t run = k;
        while (run < n && s_.route[b + run] == kFile) ++run;
        const uint64_t off = r_.fileOffset + (c + b + k) * kPageSize;
        const size_t got = ReadFilePages(file_->fd, off, run - k, s_.buf.data() + k * kPageSize);
        // Pages past the end of the file: not mappable, so not read (memory would SIGBUS there).
        for (size_t q = k; q < k + got; ++q) s_.ok[q] = 1, s_.viaFile[b + q] = 1;
        res_.fileReadBytes += got * kPageSize;
        fromFile_ += static_cast<uint32_t>(got);
        k = run;
      } else {
        ++k;
      }
    }
    if (mem > 0) {
      // Pull the next batch toward the cache while this one is copied and hashed.
      const size_t next = c + b + n;
      if (next < pages_) PrefetchRange(r_.start + next * kPageSize, std::min(kBatchPages, pages_ - next) * kPageSize);
      if (mem == n) {
        SafeReadPages(s_.addrs.data(), n, s_.buf.data(), s_.ok.data());  // the usual case: all from memory
      } else {
        // Mixed batch: process_vm_readv fills consecutive slots; move them to their place.
        SafeReadPages(s_.addrs.data(), mem, s_.memBuf.data(), s_.memOk.data());
        for (size_t i = 0; i < mem; ++i) {
          if (!s_.memOk[i]) continue;
          std::memcpy(s_.buf.data() + s_.slots[i] * kPageSize, s_.memBuf.data() + i * kPageSize, kPageSize);
          s_.ok[s_.slots[i]] = 1;
        }
      }
    }
    HashRead(opts_.mode, s_.buf.data(), s_.ok.data(), n, &s_.now[b * kDigestSize]);
  }

  // After reading a chunk: which pages were page-cache pages, first sight, comparison.
  // `fileBacked`: FileBackedPages() before the chunk's first pagemap read, or null.
  void Judge(size_t c, size_t n, bool pm, const uint64_t* fileBacked) {
    // Pagemap again only for pages read from the file that have a baseline: one written between the
    // first pagemap read and the file read must be judged by memory. A first-seen page read from the
    // file takes the file's digest, the truth, as its baseline: a write in that window is a change
    // on the next read (and the sentinel's), so the first pass needs no second page-table walk.
    // Nor does a chunk during which the process's file-backed count did not drop: no private file
    // page was copied on write anywhere in the process meanwhile (a walk is ~20 us per MiB, a statm
    // read ~1 us). Where the count misses one (a page faulted in at the same moment, per-CPU slack
    // before Linux 6.16), the written page is the sentinel's at once and the next pass's.
    bool needAfter = false;
    for (size_t p = 0; p < n && !needAfter; ++p) needAfter = s_.viaFile[p] && IsKnown(&s_.base[p * kDigestSize]);
    uint64_t nowBacked = 0;
    const bool noWrite = needAfter && fileBacked && FileBackedPages(&nowBacked) && nowBacked >= *fileBacked;
    const size_t osPage = PageSize();
    const bool after =
        pm && needAfter && !noWrite && PageTableEntries(r_.start + c * kPageSize, n * kPageSize, &s_.after);
    for (size_t p = 0; p < n; ++p) {
      const size_t page = c + p;
      uint8_t* now = &s_.now[p * kDigestSize];
      const bool cachePage = s_.viaFile[p] && (!IsKnown(&s_.base[p * kDigestSize]) || noWrite ||
                                               (after && IsPageCachePage(s_.after[pagemath::OsPageOf(p, osPage)])));
      if (s_.viaFile[p] && !cachePage) {
        // Written (or the state is unknown) after we read the file: memory is what counts.
        int err = 0;
        std::memset(now, 0, kDigestSize);
        if (SafeRead(r_.start + page * kPageSize, s_.page.data(), kPageSize, &err) == kPageSize)
          HashPage(opts_.mode, s_.page.data(), now);
      }
      if (!IsKnown(now)) continue;
      const uint8_t* base = &s_.base[p * kDigestSize];
      if (IsKnown(base)) {
        if (!SameDigest(base, now)) AddCandidate(page, base, false);
        continue;
      }
      uint8_t* adopt = &s_.adopt[p * kDigestSize];
      std::memcpy(adopt, now, kDigestSize);
      if (!file_ || cachePage) continue;  // no file, or memory *is* the file: one hash serves both
      // First sight of a page that is not the page-cache page: compare with the file.
      if (ReadFilePages(file_->fd, r_.fileOffset + page * kPageSize, 1, s_.page.data()) != 1) continue;
      res_.secondReadBytes += kPageSize;
      uint8_t disk[kDigestSize];
      HashPage(opts_.mode, s_.page.data(), disk);
      if (SameDigest(disk, now)) continue;
      // Changed before the monitor started: the file is the truth, so the page stays reported until
      // memory matches the file again.
      std::memcpy(adopt, disk, kDigestSize);
      AddCandidate(page, disk, true);
    }
  }

  void AddCandidate(size_t page, const uint8_t* expected, bool preexisting) {
    Candidate cand;
    cand.region = index_;
    cand.page = static_cast<uint32_t>(page);
    cand.address = r_.start + page * kPageSize;
    cand.fileKey = r_.fileKey;
    cand.filePage = firstPage_ + page;
    std::memcpy(cand.expected, expected, kDigestSize);
    cand.preexisting = preexisting;
    candidates.push_back(std::move(cand));
  }

  Engine& engine_;
  const PassRegion& r_;
  const uint32_t index_;
  const PassOptions& opts_;
  Scratch& s_;
  PassResult& res_;
  const size_t pages_;
  const uint64_t firstPage_;
  std::shared_ptr<FileRef> file_;
  const uint8_t* view_ = nullptr;  // the leased view while a chunk is read
  uint32_t fromFile_ = 0;
};

}  // namespace

PassResult RunPass(Engine& engine, const std::vector<PassRegion>& regions, const PassOptions& opts,
                   CancelToken& cancel) {
  PassResult res;
  res.regions.resize(regions.size());
  const uint64_t wall0 = MonotonicNs(), cpu0 = ThreadCpuNs();
  std::map<std::string, std::multimap<uint64_t, uint32_t>> watch;
  for (uint32_t i = 0; i < opts.watch.size(); ++i) watch[opts.watch[i].fileKey].emplace(opts.watch[i].filePage, i);
  if (opts.trackProgress) {
    uint64_t total = 0;
    for (const PassRegion& r : regions) total += (r.end - r.start) / kPageSize;
    engine.progress.done.store(0);
    engine.progress.total.store(total);
    engine.progress.lastMs.store(HealthClockMs());
    engine.progress.active.store(true);
  }
  Scratch scratch;
  std::vector<Candidate> candidates;
  for (uint32_t i = 0; i < regions.size() && !cancel.cancelled(); ++i) {
    RegionPass rp(engine, regions[i], i, opts, scratch, res);
    auto w = watch.find(regions[i].fileKey);
    rp.Run(cancel, wall0, cpu0, w == watch.end() ? nullptr : &w->second);
    for (Candidate& c : rp.candidates) candidates.push_back(std::move(c));
  }
  if (cancel.cancelled()) res.cancelled = true;
  else Confirm(engine, opts.mode, candidates, &res.changes);
  std::sort(res.matched.begin(), res.matched.end());
  res.matched.erase(std::unique(res.matched.begin(), res.matched.end()), res.matched.end());
  if (opts.trackProgress) {
    engine.progress.active.store(false);
    engine.progress.lastMs.store(HealthClockMs());
  }
  res.elapsedNs = MonotonicNs() - wall0;
  res.cpuNs = ThreadCpuNs() - cpu0;
  return res;
}

}  // namespace pg
