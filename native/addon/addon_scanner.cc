// N-API glue for the sweep engine. A Scanner owns two job threads (full passes; short priority
// jobs such as checkFiles, which must not wait behind a paced pass) and, while started, the
// sentinel thread. Each job's result comes back to the JS thread through a thread-safe function
// (TSFN) and settles a Promise; the TSFN is unref'd whenever no job is pending, so an idle scanner
// never keeps the process alive.
//
// Lifetimes. Every TSFN has its own state (TsfnBox): its finalizer marks that box only, and it is
// released at most once. Threads that call a TSFN are stopped and joined by an environment cleanup
// hook registered *after* that TSFN was created: hooks run in reverse order of registration, so the
// threads are gone before Node finalizes the TSFN at environment teardown (worker.terminate(), an
// embedder destroying its environment), and no thread can call into a freed TSFN. close() and the
// destructor stop them the same way and remove the hooks. Callbacks into JS run only with a live
// environment and catch every exception: nothing unwinds into Node's C frames (std::terminate).
#include <errno.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <map>
#include <memory>

#include "addon.h"
#include "addon_args.h"
#include "scanner.h"

namespace pg {
namespace {

struct Completion {
  uint64_t id = 0;
  std::string error;                            // non-empty: reject with this message
  std::function<Napi::Value(Napi::Env)> build;  // resolve with build(env)
};

// One thread-safe function and whether Node has finalized it (then it must not be touched).
struct TsfnBox {
  Napi::ThreadSafeFunction fn;
  std::atomic<bool> finalized{false};
  bool released = false;  // JS thread only
  void Release() {
    if (released || finalized.load()) return;
    released = true;
    fn.Release();
  }
};

std::shared_ptr<TsfnBox> MakeTsfn(Napi::Env env, Napi::Function fn, const char* name) {
  auto box = std::make_shared<TsfnBox>();
  std::weak_ptr<TsfnBox> weak = box;
  box->fn = Napi::ThreadSafeFunction::New(env, fn, name, 0, 1, [weak](Napi::Env) {
    if (auto b = weak.lock()) b->finalized = true;
  });
  box->fn.Unref(env);
  return box;
}

// An environment cleanup hook that runs `stop` once, unless removed first (JS thread only).
class EnvHook {
 public:
  EnvHook(napi_env env, std::function<void()> stop) : env_(env), state_(new State{std::move(stop), false}) {
    if (napi_add_env_cleanup_hook(env, &EnvHook::Run, state_) != napi_ok) {
      delete state_;
      state_ = nullptr;
    }
  }
  ~EnvHook() { Remove(); }
  EnvHook(const EnvHook&) = delete;
  EnvHook& operator=(const EnvHook&) = delete;
  void Remove() {
    if (!state_) return;
    if (!state_->ran) napi_remove_env_cleanup_hook(env_, &EnvHook::Run, state_);
    delete state_;
    state_ = nullptr;
  }

 private:
  struct State {
    std::function<void()> stop;
    bool ran;
  };
  static void Run(void* arg) {
    auto* s = static_cast<State*>(arg);
    s->ran = true;
    s->stop();
  }
  napi_env env_;
  State* state_;
};

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
struct Shared {
  std::shared_ptr<Engine> engine = std::make_shared<Engine>();
  std::shared_ptr<TsfnBox> jobs;
  std::map<uint64_t, Napi::Promise::Deferred> pending;  // JS thread only
  uint64_t nextId = 1;
  bool closed = false;
};

// The job threads; stopped by close(), the destructor or the environment cleanup hook.
struct Threads {
  Worker pass{"procguard-scan"};
  Worker priority{"procguard-scan2"};
  void Stop() {
    pass.Stop();
    priority.Stop();
  }
};

// The sentinel of one start: its loop, its own TSFN and its own cleanup hook.
struct SentinelRun {
  std::shared_ptr<TsfnBox> tsfn;
  std::shared_ptr<SentinelLoop> loop;
  std::unique_ptr<EnvHook> hook;
  void Stop() {
    if (hook) hook->Remove();
    if (loop) loop->Stop();  // joins: no report is produced after this
    if (tsfn) tsfn->Release();
  }
};

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
      shared_ = std::make_shared<Shared>();
      shared_->jobs = MakeTsfn(env, Napi::Function::New(env, [](const Napi::CallbackInfo&) {}), "procguard-scanner");
      threads_ = std::make_shared<Threads>();
      std::shared_ptr<Threads> threads = threads_;
      hook_ =
          std::make_unique<EnvHook>(env, [threads] { threads->Stop(); });  // after the TSFN: runs before its teardown
    });
  }

  ~Scanner() override { Shutdown(); }

 private:
  // Queues `work` on the pass or priority thread; its Completion settles the returned promise.
  Napi::Value Submit(Napi::Env env, std::function<Completion()> work, bool priority = false) {
    auto deferred = Napi::Promise::Deferred::New(env);
    if (shared_->closed) {
      deferred.Reject(Napi::Error::New(env, "scanner is closed").Value());
      return deferred.Promise();
    }
    uint64_t id = shared_->nextId++;
    if (shared_->pending.empty()) shared_->jobs->fn.Ref(env);
    shared_->pending.emplace(id, deferred);
    std::shared_ptr<Shared> shared = shared_;
    (priority ? threads_->priority : threads_->pass).Post([shared, id, work]() {
      auto* done = new Completion();
      try {
        *done = work();
      } catch (const std::exception& e) {
        *done = Completion();
        done->error = std::string("scanner job failed: ") + e.what();
      } catch (...) {
        *done = Completion();
        done->error = "scanner job failed";
      }
      done->id = id;
      napi_status st = shared->jobs->fn.BlockingCall(done, [shared](Napi::Env env, Napi::Function, Completion* c) {
        std::unique_ptr<Completion> owned(c);
        if (env == nullptr) return;  // the environment is being torn down (worker.terminate())
        try {
          Settle(env, *shared, *c);
        } catch (...) {
          // The environment is going away (terminated worker): nothing left to settle.
        }
      });
      if (st != napi_ok) delete done;  // the function is closing (scanner closed, environment torn down)
    });
    return deferred.Promise();
  }

  static void Settle(Napi::Env env, Shared& shared, const Completion& c) {
    auto it = shared.pending.find(c.id);
    if (it == shared.pending.end()) return;  // rejected by close()
    Napi::Promise::Deferred d = it->second;
    shared.pending.erase(it);
    if (shared.pending.empty() && !shared.closed) shared.jobs->fn.Unref(env);
    if (!c.error.empty()) {
      d.Reject(Napi::Error::New(env, c.error).Value());
      return;
    }
    try {
      d.Resolve(c.build(env));
    } catch (const Napi::Error& e) {
      d.Reject(e.Value());
    } catch (const std::exception& e) {  // bad_alloc building the result: reject, never leave it pending
      d.Reject(Napi::Error::New(env, std::string("scanner result failed: ") + e.what()).Value());
    }
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
    CancelToken* cancel = &threads_->pass.cancelToken();
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
    std::shared_ptr<Engine> engine = shared_->engine;
    CancelToken* cancel = priority ? &threads_->priority.cancelToken() : &threads_->pass.cancelToken();
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
    bool ok = !shared_->closed && shared_->engine->files.Adopt(key, fd, &err);
    o.Set("ok", ok);
    if (!ok) o.Set("errno", shared_->closed ? EBADF : err);
    return o;
  }

  Napi::Value DropFileJs(const Napi::CallbackInfo& info) {
    shared_->engine->files.Drop(StringArg(info[0], "fileKey"));
    return info.Env().Undefined();
  }

  // progress() -> { passActive, pagesDone, pagesTotal, lastProgressAgeMs }: four atomic loads. The age
  // is on the health clock (monotonic, see scanner_clock.h); -1 before any progress.
  Napi::Value ProgressJs(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    const Progress& p = shared_->engine->progress;
    Napi::Object o = Napi::Object::New(env);
    o.Set("passActive", p.active.load());
    o.Set("pagesDone", static_cast<double>(p.done.load()));
    o.Set("pagesTotal", static_cast<double>(p.total.load()));
    const double last = p.lastMs.load();
    o.Set("lastProgressAgeMs", last > 0 ? HealthClockMs() - last : -1.0);
    return o;
  }

  Napi::Value BaselineBytesJs(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), static_cast<double>(shared_->engine->store.Bytes()));
  }

  Napi::Value HasBaselineJs(const Napi::CallbackInfo& info) {
    return Napi::Boolean::New(info.Env(), shared_->engine->store.Has(StringArg(info[0], "fileKey")));
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
    shared_->engine->store.Get(key, first, pages, out.data());
    return Napi::Buffer<uint8_t>::Copy(env, out.data(), out.size());
  }

  // startSentinel(regions, mode, periodMs, budget, onReport({ changes, matched })): the native
  // sentinel loop; onReport runs on the JS thread only when there is something new.
  Napi::Value StartSentinelJs(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (shared_->closed) throw Napi::Error::New(env, "scanner is closed");
    if (sentinel_) throw Napi::Error::New(env, "the sentinel is already running");
    std::vector<PassRegion> regions = ParsePassRegions(info[0]);
    hash::Mode mode = ParseMode(info[1]);
    const double periodMs = PeriodMsArg(info[2]), budget = BudgetArg(info[3]);
    Napi::Function onReport = FunctionArg(info[4], "onReport");
    auto run = std::make_unique<SentinelRun>();
    run->tsfn = MakeTsfn(env, onReport, "procguard-sentinel");  // never keeps the process alive
    std::shared_ptr<TsfnBox> tsfn = run->tsfn;
    run->loop = std::make_shared<SentinelLoop>(
        shared_->engine, mode, static_cast<uint64_t>(periodMs * 1e6), budget, [tsfn](SentinelReport report) {
          auto* r = new SentinelReport(std::move(report));
          napi_status st = tsfn->fn.NonBlockingCall(r, [](Napi::Env env, Napi::Function cb, SentinelReport* r) {
            std::unique_ptr<SentinelReport> owned(r);
            if (env == nullptr || cb.IsEmpty()) return;  // the environment is being torn down
            try {
              Napi::Object o = Napi::Object::New(env);
              o.Set("changes", ChangesToJs(env, r->changes));
              Napi::Array matched = Napi::Array::New(env, r->matched.size());
              for (size_t i = 0; i < r->matched.size(); ++i) {
                Napi::Object m = Napi::Object::New(env);
                m.Set("fileKey", r->matched[i].fileKey);
                m.Set("filePage", static_cast<double>(r->matched[i].filePage));
                matched.Set(static_cast<uint32_t>(i), m);
              }
              o.Set("matched", matched);
              cb.Call({o});
            } catch (...) {
              // The callback threw, or the environment is going away: the next report carries on.
            }
          });
          if (st != napi_ok) delete r;
        });
    // The hook comes after this start's TSFN, so at teardown it joins the loop before Node
    // finalizes that TSFN.
    std::shared_ptr<SentinelLoop> loop = run->loop;
    run->hook = std::make_unique<EnvHook>(env, [loop] { loop->Stop(); });
    run->loop->SetRegions(std::move(regions));
    sentinel_ = std::move(run);
    return env.Undefined();
  }

  Napi::Value UpdateSentinelJs(const Napi::CallbackInfo& info) {
    if (!sentinel_) return info.Env().Undefined();
    sentinel_->loop->SetRegions(ParsePassRegions(info[0]));
    return info.Env().Undefined();
  }

  Napi::Value StopSentinelJs(const Napi::CallbackInfo& info) {
    StopSentinel();
    return info.Env().Undefined();
  }

  Napi::Value SentinelInfoJs(const Napi::CallbackInfo& info) {
    Napi::Object o = Napi::Object::New(info.Env());
    o.Set("running", sentinel_ != nullptr);
    if (sentinel_ && sentinel_->loop->lastTickMs() > 0)
      o.Set("lastTickAgeMs", HealthClockMs() - sentinel_->loop->lastTickMs());
    return o;
  }

  void StopSentinel() {
    if (!sentinel_) return;
    sentinel_->Stop();
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
      c.build = [digests](Napi::Env env) -> Napi::Value {
        return Napi::Buffer<uint8_t>::Copy(env, digests->data(), digests->size());
      };
      return c;
    });
  }

  Napi::Value CloseJs(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!shared_->closed) {
      Shutdown();
      auto pending = std::move(shared_->pending);
      shared_->pending.clear();
      for (auto& kv : pending) kv.second.Reject(Napi::Error::New(env, "scanner closed").Value());
    }
    return env.Undefined();
  }

  // close(), or the wrapper's finalizer: stop and join every thread, then release the TSFNs.
  void Shutdown() {
    StopSentinel();
    if (hook_) hook_->Remove();
    if (threads_) threads_->Stop();
    if (shared_ && !shared_->closed) {
      shared_->closed = true;
      shared_->jobs->Release();
      shared_->engine->files.Clear();
    }
  }

  std::shared_ptr<Shared> shared_;
  std::shared_ptr<Threads> threads_;
  std::unique_ptr<EnvHook> hook_;
  std::unique_ptr<SentinelRun> sentinel_;
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
