// N-API glue for the sweep engine. A Scanner owns two job threads (full passes; short priority
// jobs such as checkFiles, which must not wait behind a paced pass) and, while started, the
// sentinel thread. Each job's result comes back to the JS thread through a thread-safe function
// (TSFN) and settles a Promise; the TSFN is unref'd whenever no job is pending, so an idle scanner
// never keeps the process alive.
//
// Lifetimes: addon_async.h (the job threads are a JobQueue, the sentinel a LoopHost).
#include <errno.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <map>
#include <memory>

#include "addon.h"
#include "addon_args.h"
#include "addon_async.h"
#include "scanner.h"

namespace pg {
namespace {

hash::Mode ParseMode(const Napi::Value& v) {
  return ChoiceArg(v, "mode", {"blake3", "fast"}) == 0 ? hash::Mode::Blake3 : hash::Mode::Fast;
}

[[noreturn]] void TooLarge(Napi::Env env, const std::string& what, uint64_t bytes) {
  throw Napi::RangeError::New(env, what + " covers " + std::to_string(bytes) + " bytes; at most " +
                                       std::to_string(kMaxJobBytes) + " (16 GiB) per job");
}

// More regions than any process has mappings (the kernel's default vm.max_map_count is 65530).
constexpr uint32_t kMaxRegions = 1u << 20;

std::vector<ScanRegion> ParseRanges(const Napi::Value& v) {
  if (!v.IsArray()) throw Napi::TypeError::New(v.Env(), "regions must be an array");
  Napi::Array arr = v.As<Napi::Array>();
  // The length sizes an allocation: a sparse array can claim 2^32 - 1 elements.
  if (arr.Length() > kMaxRegions)
    throw Napi::RangeError::New(
        v.Env(), "regions has " + std::to_string(arr.Length()) + " entries; at most " + std::to_string(kMaxRegions));
  std::vector<ScanRegion> out(arr.Length());
  uint64_t total = 0;
  for (uint32_t i = 0; i < arr.Length(); ++i) {
    Napi::Object o = ObjectArg(arr.Get(i), "regions[" + std::to_string(i) + "]");
    out[i].start = BigU64Arg(o.Get("start"), "region start");
    out[i].end = BigU64Arg(o.Get("end"), "region end");
    if (out[i].end <= out[i].start || (out[i].start % hash::kPageSize) || (out[i].end % hash::kPageSize))
      throw Napi::RangeError::New(v.Env(),
                                  "regions[" + std::to_string(i) + "] must be a non-empty, 4096-aligned range");
    total += out[i].end - out[i].start;
    if (out[i].end - out[i].start > kMaxJobBytes || total > kMaxJobBytes) TooLarge(v.Env(), "regions", total);
  }
  return out;
}

// Regions of a pass: ranges plus { fileKey, fileOffset, compareDisk }.
std::vector<PassRegion> ParsePassRegions(const Napi::Value& v) {
  std::vector<ScanRegion> ranges = ParseRanges(v);
  Napi::Array arr = v.As<Napi::Array>();
  std::vector<PassRegion> out(ranges.size());
  for (uint32_t i = 0; i < ranges.size(); ++i) {
    Napi::Object o = arr.Get(i).As<Napi::Object>();
    out[i].start = ranges[i].start;
    out[i].end = ranges[i].end;
    out[i].fileKey = StringArg(o.Get("fileKey"), "regions[" + std::to_string(i) + "].fileKey");
    out[i].fileOffset = CountArg(o.Get("fileOffset"), "fileOffset");
    if (out[i].fileOffset % hash::kPageSize) throw Napi::RangeError::New(v.Env(), "fileOffset must be 4096-aligned");
    out[i].compareDisk = o.Get("compareDisk").ToBoolean().Value();
  }
  return out;
}

std::string Hex(const uint8_t* d, size_t n) {
  static const char* k = "0123456789abcdef";
  std::string s(n * 2, '0');
  for (size_t i = 0; i < n; ++i) s[2 * i] = k[d[i] >> 4], s[2 * i + 1] = k[d[i] & 15];
  return s;
}

Napi::Object ChangeToJs(Napi::Env env, const Change& c) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("region", c.region);
  o.Set("page", c.page);
  o.Set("address", Napi::BigInt::New(env, static_cast<uint64_t>(c.address)));
  o.Set("fileKey", c.fileKey);
  o.Set("filePage", static_cast<double>(c.filePage));
  o.Set("expected", Hex(c.expected, kDigestSize));
  o.Set("actual", Hex(c.actual, kDigestSize));
  o.Set("preexisting", c.preexisting);
  o.Set("mapsChecked", c.mapsChecked);
  o.Set("located", c.located);
  if (!c.located) o.Set("locateUnavailable", c.locateUnavailable);
  o.Set("differingBytes", c.differingBytes);
  Napi::Array offs = Napi::Array::New(env, c.pageOffsets.size());
  for (size_t i = 0; i < c.pageOffsets.size(); ++i) offs.Set(static_cast<uint32_t>(i), c.pageOffsets[i]);
  o.Set("pageOffsets", offs);
  o.Set("firstXor", c.firstXor);
  return o;
}

Napi::Array ChangesToJs(Napi::Env env, const std::vector<Change>& changes) {
  Napi::Array a = Napi::Array::New(env, changes.size());
  for (size_t i = 0; i < changes.size(); ++i) a.Set(static_cast<uint32_t>(i), ChangeToJs(env, changes[i]));
  return a;
}

// Everything the threads share with the JS thread.
// The sentinel's report: { changes, matched: [{ fileKey, filePage }] }.
Napi::Value SentinelReportToJs(Napi::Env env, const SentinelReport& r) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("changes", ChangesToJs(env, r.changes));
  Napi::Array matched = Napi::Array::New(env, r.matched.size());
  for (size_t i = 0; i < r.matched.size(); ++i) {
    Napi::Object m = Napi::Object::New(env);
    m.Set("fileKey", r.matched[i].fileKey);
    m.Set("filePage", static_cast<double>(r.matched[i].filePage));
    matched.Set(static_cast<uint32_t>(i), m);
  }
  o.Set("matched", matched);
  return o;
}

// The job threads: full passes on one; short priority jobs (checkFiles) on the other, so they
// never wait behind a paced pass.
constexpr size_t kPassThread = 0, kPriorityThread = 1;

class Scanner : public Napi::ObjectWrap<Scanner>, public SafeMethods<Scanner> {
 public:
  static constexpr const char* kName = "Scanner";
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "Scanner",
                       {InstanceMethod("sweep", &Scanner::Safe<&Scanner::SweepJs>),
                        InstanceMethod("pass", &Scanner::Safe<&Scanner::PassJs>),
                        InstanceMethod("hashFile", &Scanner::Safe<&Scanner::HashFileJs>),
                        InstanceMethod("close", &Scanner::Safe<&Scanner::CloseJs>),
                        InstanceMethod("adoptFile", &Scanner::Safe<&Scanner::AdoptFileJs>),
                        InstanceMethod("dropFile", &Scanner::Safe<&Scanner::DropFileJs>),
                        InstanceMethod("progress", &Scanner::Safe<&Scanner::ProgressJs>),
                        InstanceMethod("baselineBytes", &Scanner::Safe<&Scanner::BaselineBytesJs>),
                        InstanceMethod("hasBaseline", &Scanner::Safe<&Scanner::HasBaselineJs>),
                        InstanceMethod("pageCacheDigests", &Scanner::Safe<&Scanner::PageCacheDigestsJs>),
                        InstanceMethod("startSentinel", &Scanner::Safe<&Scanner::StartSentinelJs>),
                        InstanceMethod("updateSentinel", &Scanner::Safe<&Scanner::UpdateSentinelJs>),
                        InstanceMethod("stopSentinel", &Scanner::Safe<&Scanner::StopSentinelJs>),
                        InstanceMethod("sentinelInfo", &Scanner::Safe<&Scanner::SentinelInfoJs>)});
  }

  explicit Scanner(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Scanner>(info) {
    Napi::Env env = info.Env();
    ConvertExceptions(env, kName, [&] {  // thread creation can throw std::system_error
      jobs_ = std::make_unique<JobQueue>(env, "scanner", std::vector<const char*>{"procguard-scan", "procguard-scan2"});
    });
  }

  ~Scanner() override { Shutdown(); }

 private:
  Napi::Value Submit(Napi::Env env, std::function<Completion()> work, bool priority = false) {
    return jobs_->Submit(env, std::move(work), priority ? kPriorityThread : kPassThread);
  }

  Napi::Value SweepJs(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    std::vector<ScanRegion> regions = ParseRanges(info[0]);
    SweepOptions opts;
    Napi::Object o = ObjectArg(info[1], "options");
    opts.mode = ParseMode(o.Get("mode"));
    opts.residentOnly = o.Get("residentOnly").ToBoolean().Value();
    opts.cpuFraction = ParseFraction(o.Get("cpuFraction"));
    Napi::Value batch = o.Get("batchPages");
    if (!batch.IsUndefined()) {
      opts.batchPages = static_cast<size_t>(IntegerArg(batch, "batchPages", 1, 1024));
    }
    CancelToken* cancel = &jobs_->cancelToken(kPassThread);
    return Submit(env, [regions, opts, cancel]() {
      auto result = std::make_shared<SweepResult>(Sweep(regions, opts, *cancel));
      Completion c;
      c.build = [result](Napi::Env env) -> Napi::Value {
        Napi::Object o = Napi::Object::New(env);
        Napi::Array regs = Napi::Array::New(env, result->regions.size());
        static const char* kStates[] = {"ok", "partial", "gone"};
        for (size_t i = 0; i < result->regions.size(); ++i) {
          RegionDigests& r = result->regions[i];
          Napi::Object ro = Napi::Object::New(env);
          ro.Set("state", kStates[static_cast<int>(r.state)]);
          ro.Set("digests", DigestsToJs(env, std::move(r.digests)));
          Napi::Array unread = Napi::Array::New(env, r.unread.size());
          for (size_t k = 0; k < r.unread.size(); ++k) unread.Set(static_cast<uint32_t>(k), r.unread[k]);
          ro.Set("unread", unread);
          ro.Set("residentPages", r.residentPages);
          ro.Set("hashNs", static_cast<double>(r.hashNs));
          regs.Set(static_cast<uint32_t>(i), ro);
        }
        o.Set("regions", regs);
        o.Set("digestSize", static_cast<double>(hash::kDigestSize));
        o.Set("bytesHashed", static_cast<double>(result->bytesHashed));
        o.Set("elapsedNs", static_cast<double>(result->elapsedNs));
        o.Set("cpuNs", static_cast<double>(result->cpuNs));
        return o;
      };
      return c;
    });
  }

  static double ParseFraction(const Napi::Value& v) {
    if (v.IsUndefined()) return 0;
    return NumberArg(v, "cpuFraction", 0, 1);
  }

  static firstread::Force ParseFirstRead(Napi::Value v) {
    if (v.IsUndefined()) return firstread::Force::kAuto;
    static constexpr firstread::Force kForces[] = {firstread::Force::kAuto, firstread::Force::kView,
                                                   firstread::Force::kCopy};
    return kForces[ChoiceArg(v, "firstRead", {"auto", "view", "copy"})];
  }

  // The digests as a Buffer that owns the worker's memory: a multi-MiB copy on the JS thread costs a
  // page fault per 4 KiB of fresh allocation there (~12 us each on a VM with shadow paging). Where
  // external buffers are not allowed (Electron's V8 sandbox) NewOrCopy copies and frees at once.
  static Napi::Value DigestsToJs(Napi::Env env, std::vector<uint8_t>&& digests) {
    if (digests.empty()) return Napi::Buffer<uint8_t>::New(env, 0);
    auto* owned = new std::vector<uint8_t>(std::move(digests));
    return Napi::Buffer<uint8_t>::NewOrCopy(
        env, owned->data(), owned->size(), [](Napi::Env, uint8_t*, std::vector<uint8_t>* v) { delete v; }, owned);
  }

  // pass(regions, { mode, residentOnly, cpuFraction, priority, zeroCopy, firstRead, watch: [{ fileKey, filePage }] })
  Napi::Value PassJs(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    std::vector<PassRegion> regions = ParsePassRegions(info[0]);
    Napi::Object o = ObjectArg(info[1], "options");
    PassOptions opts;
    opts.mode = ParseMode(o.Get("mode"));
    opts.residentOnly = o.Get("residentOnly").ToBoolean().Value();
    opts.cpuFraction = ParseFraction(o.Get("cpuFraction"));
    const bool priority = o.Get("priority").ToBoolean().Value();
    opts.trackProgress = !priority;
    opts.zeroCopy = o.Get("zeroCopy").IsUndefined() || o.Get("zeroCopy").ToBoolean().Value();
    opts.firstRead = ParseFirstRead(o.Get("firstRead"));
    Napi::Value watch = o.Get("watch");
    if (!watch.IsUndefined()) {
      if (!watch.IsArray()) throw Napi::TypeError::New(env, "watch must be an array");
      Napi::Array w = watch.As<Napi::Array>();
      for (uint32_t i = 0; i < w.Length(); ++i) {
        Napi::Object entry = ObjectArg(w.Get(i), "watch[" + std::to_string(i) + "]");
        opts.watch.push_back({StringArg(entry.Get("fileKey"), "watch[" + std::to_string(i) + "].fileKey"),
                              CountArg(entry.Get("filePage"), "watch[" + std::to_string(i) + "].filePage")});
      }
    }
    std::shared_ptr<Engine> engine = engine_;
    CancelToken* cancel = &jobs_->cancelToken(priority ? kPriorityThread : kPassThread);
    return Submit(
        env,
        [engine, regions, opts, cancel]() {
          auto r = std::make_shared<PassResult>(RunPass(*engine, regions, opts, *cancel));
          Completion c;
          c.build = [r](Napi::Env env) -> Napi::Value {
            Napi::Object o = Napi::Object::New(env);
            o.Set("changes", ChangesToJs(env, r->changes));
            Napi::Array matched = Napi::Array::New(env, r->matched.size());
            for (size_t i = 0; i < r->matched.size(); ++i) matched.Set(static_cast<uint32_t>(i), r->matched[i]);
            o.Set("matched", matched);
            Napi::Array regs = Napi::Array::New(env, r->regions.size());
            for (size_t i = 0; i < r->regions.size(); ++i) {
              const PassRegionStats& s = r->regions[i];
              Napi::Object ro = Napi::Object::New(env);
              ro.Set("pages", s.pages);
              ro.Set("hashed", s.hashed);
              ro.Set("resident", s.resident);
              ro.Set("unread", s.unread);
              ro.Set("fromFile", s.fromFile);
              regs.Set(static_cast<uint32_t>(i), ro);
            }
            o.Set("regions", regs);
            o.Set("bytesHashed", static_cast<double>(r->bytesHashed));
            o.Set("secondReadBytes", static_cast<double>(r->secondReadBytes));
            o.Set("fileReadBytes", static_cast<double>(r->fileReadBytes));
            o.Set("viewBytes", static_cast<double>(r->viewBytes));
            o.Set("elapsedNs", static_cast<double>(r->elapsedNs));
            o.Set("cpuNs", static_cast<double>(r->cpuNs));
            o.Set("cancelled", r->cancelled);
            return o;
          };
          return c;
        },
        priority);
  }

  // adoptFile(fileKey, fd) -> { ok, errno? }: the engine keeps a duplicate; the caller closes fd.
  Napi::Value AdoptFileJs(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    std::string key = StringArg(info[0], "fileKey");
    const int fd = FdArg(info[1]);
    int err = 0;
    Napi::Object o = Napi::Object::New(env);
    bool ok = !jobs_->closed() && engine_->files.Adopt(key, fd, &err);
    o.Set("ok", ok);
    if (!ok) o.Set("errno", jobs_->closed() ? EBADF : err);
    return o;
  }

  Napi::Value DropFileJs(const Napi::CallbackInfo& info) {
    engine_->files.Drop(StringArg(info[0], "fileKey"));
    return info.Env().Undefined();
  }

  // progress() -> { passActive, pagesDone, pagesTotal, lastProgressAgeMs }: four atomic loads. The age
  // is on the health clock (monotonic, see scanner_clock.h); -1 before any progress.
  Napi::Value ProgressJs(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    const Progress& p = engine_->progress;
    Napi::Object o = Napi::Object::New(env);
    o.Set("passActive", p.active.load());
    o.Set("pagesDone", static_cast<double>(p.done.load()));
    o.Set("pagesTotal", static_cast<double>(p.total.load()));
    const double last = p.lastMs.load();
    o.Set("lastProgressAgeMs", last > 0 ? HealthClockMs() - last : -1.0);
    return o;
  }

  Napi::Value BaselineBytesJs(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), static_cast<double>(engine_->store.Bytes()));
  }

  Napi::Value HasBaselineJs(const Napi::CallbackInfo& info) {
    return Napi::Boolean::New(info.Env(), engine_->store.Has(StringArg(info[0], "fileKey")));
  }

  // pageCacheDigests(fileKey, firstPage, pages) -> Buffer of 16 bytes per page, zero = unknown.
  Napi::Value PageCacheDigestsJs(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    std::string key = StringArg(info[0], "fileKey");
    uint64_t first = CountArg(info[1], "firstPage"), pages = CountArg(info[2], "pages");
    // Compared as a page count: pages * 4096 wraps for pages >= 2^52 and would pass.
    if (pages > kMaxJobBytes / kPageSize)
      throw Napi::RangeError::New(env, "pages is " + std::to_string(pages) + "; at most " +
                                           std::to_string(kMaxJobBytes / kPageSize) + " (16 GiB) per job");
    std::vector<uint8_t> out(pages * kDigestSize);
    engine_->store.Get(key, first, pages, out.data());
    return Napi::Buffer<uint8_t>::Copy(env, out.data(), out.size());
  }

  // startSentinel(regions, mode, periodMs, budget, onReport({ changes, matched })): the native
  // sentinel loop; onReport runs on the JS thread only when there is something new.
  Napi::Value StartSentinelJs(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (jobs_->closed()) throw Napi::Error::New(env, "scanner is closed");
    if (sentinel_) throw Napi::Error::New(env, "the sentinel is already running");
    std::vector<PassRegion> regions = ParsePassRegions(info[0]);
    hash::Mode mode = ParseMode(info[1]);
    const double periodMs = PeriodMsArg(info[2]), budget = BudgetArg(info[3]);
    Napi::Function onReport = FunctionArg(info[4], "onReport");
    auto host = std::make_unique<LoopHost<SentinelLoop>>();
    std::shared_ptr<Engine> engine = engine_;
    host->Start(env, onReport, "procguard-sentinel", [&](std::shared_ptr<TsfnBox> tsfn) {
      return std::make_shared<SentinelLoop>(
          engine, mode, static_cast<uint64_t>(periodMs * 1e6), budget,
          [tsfn](SentinelReport report) { PostReport(tsfn, std::move(report), SentinelReportToJs); });
    });
    host->get()->SetRegions(std::move(regions));
    sentinel_ = std::move(host);
    return env.Undefined();
  }

  Napi::Value UpdateSentinelJs(const Napi::CallbackInfo& info) {
    if (!sentinel_) return info.Env().Undefined();
    sentinel_->get()->SetRegions(ParsePassRegions(info[0]));
    return info.Env().Undefined();
  }

  Napi::Value StopSentinelJs(const Napi::CallbackInfo& info) {
    StopSentinel();
    return info.Env().Undefined();
  }

  Napi::Value SentinelInfoJs(const Napi::CallbackInfo& info) {
    Napi::Object o = Napi::Object::New(info.Env());
    o.Set("running", sentinel_ != nullptr);
    if (sentinel_ && sentinel_->get()->lastTickMs() > 0)
      o.Set("lastTickAgeMs", HealthClockMs() - sentinel_->get()->lastTickMs());
    return o;
  }

  void StopSentinel() {
    if (!sentinel_) return;
    sentinel_->Shutdown();
    sentinel_.reset();
  }

  Napi::Value HashFileJs(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    const int fd = FdArg(info[0]);
    const uint64_t offset = CountArg(info[1], "offset"), length = CountArg(info[2], "length");
    if (length > kMaxJobBytes) TooLarge(env, "length", length);
    hash::Mode mode = ParseMode(info[3]);
    return Submit(env, [fd, offset, length, mode]() {
      auto digests = std::make_shared<std::vector<uint8_t>>();
      int err = 0;
      Completion c;
      if (!HashFileRange(fd, offset, length, mode, digests.get(), &err)) {
        c.error =
            std::string("cannot read the mapped file: ") + std::strerror(err) + " (errno " + std::to_string(err) + ")";
        return c;
      }
      c.build = [digests](Napi::Env env) -> Napi::Value { return DigestsToJs(env, std::move(*digests)); };
      return c;
    });
  }

  Napi::Value CloseJs(const Napi::CallbackInfo& info) {
    StopSentinel();
    const bool wasOpen = !jobs_->closed();
    jobs_->Close(info.Env(), "scanner closed");  // joins the job threads, then rejects the pending jobs
    if (wasOpen) engine_->files.Clear();
    return info.Env().Undefined();
  }

  // close(), or the wrapper's finalizer: stop and join every thread, then release the TSFNs.
  void Shutdown() {
    StopSentinel();
    if (jobs_ && !jobs_->closed()) {
      jobs_->Shutdown();
      engine_->files.Clear();
    }
  }

  std::shared_ptr<Engine> engine_ = std::make_shared<Engine>();
  std::unique_ptr<JobQueue> jobs_;
  std::unique_ptr<LoopHost<SentinelLoop>> sentinel_;
};

}  // namespace

// The process's first-read route (first_read.h): { route: 'probing' | 'view' | 'copy', viewNsPerPage,
// copyNsPerPage } (-1: not measured yet).
Napi::Value FirstReadChoiceJs(const Napi::CallbackInfo& info) {
  const firstread::Choice c = firstread::Current();
  Napi::Object o = Napi::Object::New(info.Env());
  o.Set("route", c.route);
  o.Set("viewNsPerPage", c.viewNsPerPage);
  o.Set("copyNsPerPage", c.copyNsPerPage);
  return o;
}

void InitScanner(Napi::Env env, Napi::Object exports) {
  exports.Set("Scanner", Scanner::Define(env));
  ExportFunction(env, exports, "firstReadChoice", FirstReadChoiceJs);
}

}  // namespace pg
