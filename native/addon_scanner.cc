// N-API glue for the sweep engine: a Scanner object owns one background Worker thread; each
// job's result comes back to the JS thread through a thread-safe function and settles a Promise.
// The TSFN is unref'd whenever no job is pending, so an idle scanner never keeps the process alive.
#include <algorithm>
#include <atomic>
#include <cstring>
#include <map>
#include <memory>

#include "addon.h"
#include "scanner.h"

namespace pg {
namespace {

struct Completion {
  uint64_t id = 0;
  std::string error;                                  // non-empty: reject with this message
  std::function<Napi::Value(Napi::Env)> build;        // resolve with build(env)
};

hash::Mode ParseMode(const Napi::Value& v) {
  if (!v.IsString()) throw Napi::TypeError::New(v.Env(), "mode must be 'blake3' or 'fast'");
  std::string s = v.As<Napi::String>().Utf8Value();
  if (s == "blake3") return hash::Mode::Blake3;
  if (s == "fast") return hash::Mode::Fast;
  throw Napi::RangeError::New(v.Env(), "mode must be 'blake3' or 'fast', got '" + s + "'");
}

uintptr_t BigAddr(const Napi::Value& v, const char* what) {
  if (!v.IsBigInt()) throw Napi::TypeError::New(v.Env(), std::string(what) + " must be a bigint");
  bool lossless = false;
  uint64_t a = v.As<Napi::BigInt>().Uint64Value(&lossless);
  if (!lossless) throw Napi::RangeError::New(v.Env(), std::string(what) + " is out of range");
  return static_cast<uintptr_t>(a);
}

std::vector<ScanRegion> ParseRegions(const Napi::Value& v) {
  if (!v.IsArray()) throw Napi::TypeError::New(v.Env(), "regions must be an array");
  Napi::Array arr = v.As<Napi::Array>();
  std::vector<ScanRegion> out(arr.Length());
  for (uint32_t i = 0; i < arr.Length(); ++i) {
    Napi::Value e = arr.Get(i);
    if (!e.IsObject()) throw Napi::TypeError::New(v.Env(), "regions[" + std::to_string(i) + "] must be an object");
    Napi::Object o = e.As<Napi::Object>();
    out[i].start = BigAddr(o.Get("start"), "region start");
    out[i].end = BigAddr(o.Get("end"), "region end");
    if (out[i].end <= out[i].start || (out[i].start % hash::kPageSize) || (out[i].end % hash::kPageSize))
      throw Napi::RangeError::New(v.Env(), "regions[" + std::to_string(i) + "] must be a non-empty, 4096-aligned range");
  }
  return out;
}

Napi::Array HitsToArray(Napi::Env env, const std::vector<SentinelHit>& hits) {
  Napi::Array arr = Napi::Array::New(env, hits.size());
  for (size_t i = 0; i < hits.size(); ++i) {
    const SentinelHit& h = hits[i];
    Napi::Object ho = Napi::Object::New(env);
    ho.Set("region", h.region);
    ho.Set("page", h.page);
    ho.Set("read", h.read);
    ho.Set("digest", Napi::Buffer<uint8_t>::Copy(env, h.digest, hash::kDigestSize));
    arr.Set(static_cast<uint32_t>(i), ho);
  }
  return arr;
}

class Scanner : public Napi::ObjectWrap<Scanner> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "Scanner",
                       {InstanceMethod("sweep", &Scanner::SweepJs), InstanceMethod("sentinel", &Scanner::SentinelJs),
                        InstanceMethod("hashFile", &Scanner::HashFileJs), InstanceMethod("close", &Scanner::CloseJs),
                        InstanceMethod("startSentinel", &Scanner::StartSentinelJs),
                        InstanceMethod("updateSentinel", &Scanner::UpdateSentinelJs),
                        InstanceMethod("stopSentinel", &Scanner::StopSentinelJs)});
  }

  explicit Scanner(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Scanner>(info) {
    state_ = std::make_shared<Shared>();
    auto noop = Napi::Function::New(info.Env(), [](const Napi::CallbackInfo&) {});
    // The finalizer runs when Node destroys the function: on Release, or at environment teardown
    // (process exit without close()). After that it must not be touched again.
    std::shared_ptr<Shared> shared = state_;
    state_->tsfn = Napi::ThreadSafeFunction::New(info.Env(), noop, "procguard-scanner", 0, 1,
                                                 [shared](Napi::Env) { shared->tsfnGone = true; });
    state_->tsfn.Unref(info.Env());
    worker_ = std::make_unique<Worker>();
    sentinelWorker_ = std::make_unique<Worker>();
  }

  ~Scanner() override { Shutdown(); }

 private:
  struct Shared {
    std::atomic<bool> tsfnGone{false};
    std::atomic<bool> sentinelTsfnGone{true};
    Napi::ThreadSafeFunction tsfn;
    std::map<uint64_t, Napi::Promise::Deferred> pending;
    uint64_t nextId = 1;
    bool closed = false;
  };

  // Queues `work` on `worker` (default: the sweep worker); its Completion settles the returned
  // promise on the JS thread.
  Napi::Value Submit(Napi::Env env, std::function<Completion()> work, Worker* worker = nullptr) {
    auto deferred = Napi::Promise::Deferred::New(env);
    if (state_->closed) {
      deferred.Reject(Napi::Error::New(env, "scanner is closed").Value());
      return deferred.Promise();
    }
    uint64_t id = state_->nextId++;
    if (state_->pending.empty()) state_->tsfn.Ref(env);
    state_->pending.emplace(id, deferred);
    std::shared_ptr<Shared> shared = state_;
    (worker ? worker : worker_.get())->Post([shared, id, work]() {
      auto* done = new Completion(work());
      done->id = id;
      napi_status st = shared->tsfn.BlockingCall(done, [shared](Napi::Env env, Napi::Function, Completion* c) {
        std::unique_ptr<Completion> owned(c);
        if (env == nullptr) return;  // fastloops: environment torn down (worker.terminate())
        auto it = shared->pending.find(c->id);
        if (it == shared->pending.end()) return;  // rejected by close()
        Napi::Promise::Deferred d = it->second;
        shared->pending.erase(it);
        if (shared->pending.empty() && !shared->closed) shared->tsfn.Unref(env);
        try {
          if (!c->error.empty()) {
            d.Reject(Napi::Error::New(env, c->error).Value());
            return;
          }
          try {
            d.Resolve(c->build(env));
          } catch (const Napi::Error& e) {
            d.Reject(e.Value());
          }
        } catch (const Napi::Error&) {  // fastloops: settling fails while a worker terminates
        }
      });
      if (st != napi_ok) delete done;  // the function was released (scanner closed)
    });
    return deferred.Promise();
  }

  Napi::Value SweepJs(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    std::vector<ScanRegion> regions = ParseRegions(info[0]);
    SweepOptions opts;
    if (!info[1].IsObject()) throw Napi::TypeError::New(env, "options must be an object");
    Napi::Object o = info[1].As<Napi::Object>();
    opts.mode = ParseMode(o.Get("mode"));
    opts.residentOnly = o.Get("residentOnly").ToBoolean().Value();
    Napi::Value cpu = o.Get("cpuFraction");
    if (!cpu.IsUndefined()) {
      if (!cpu.IsNumber()) throw Napi::TypeError::New(env, "cpuFraction must be a number");
      opts.cpuFraction = cpu.As<Napi::Number>().DoubleValue();
      if (!(opts.cpuFraction >= 0 && opts.cpuFraction <= 1))
        throw Napi::RangeError::New(env, "cpuFraction must be between 0 and 1");
    }
    Napi::Value batch = o.Get("batchPages");
    if (!batch.IsUndefined()) {
      if (!batch.IsNumber()) throw Napi::TypeError::New(env, "batchPages must be a number");
      int64_t b = batch.As<Napi::Number>().Int64Value();
      if (b < 1 || b > 1024) throw Napi::RangeError::New(env, "batchPages must be from 1 to 1024");
      opts.batchPages = static_cast<size_t>(b);
    }
    CancelToken* cancel = &worker_->cancelToken();
    return Submit(env, [regions, opts, cancel]() {
      auto result = std::make_shared<SweepResult>(Sweep(regions, opts, *cancel));
      Completion c;
      c.build = [result](Napi::Env env) -> Napi::Value {
        Napi::Object o = Napi::Object::New(env);
        Napi::Array regs = Napi::Array::New(env, result->regions.size());
        static const char* kStates[] = {"ok", "partial", "gone"};
        for (size_t i = 0; i < result->regions.size(); ++i) {
          const RegionDigests& r = result->regions[i];
          Napi::Object ro = Napi::Object::New(env);
          ro.Set("state", kStates[static_cast<int>(r.state)]);
          ro.Set("digests", Napi::Buffer<uint8_t>::Copy(env, r.digests.data(), r.digests.size()));
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

  Napi::Value SentinelJs(const Napi::CallbackInfo& info) {
    std::vector<ScanRegion> regions = ParseRegions(info[0]);
    hash::Mode mode = ParseMode(info[1]);
    double budget = 0.001;
    if (info.Length() > 2 && !info[2].IsUndefined()) {
      if (!info[2].IsNumber()) throw Napi::TypeError::New(info.Env(), "budget must be a number");
      budget = info[2].As<Napi::Number>().DoubleValue();
      if (!(budget > 0 && budget <= 1)) throw Napi::RangeError::New(info.Env(), "budget must be in (0, 1]");
    }
    std::shared_ptr<SentinelState> sstate = sentinelState_;  // only the sentinel thread touches it
    return Submit(info.Env(), [regions, mode, sstate, budget]() {
      auto hits = std::make_shared<std::vector<SentinelHit>>();
      int err = 0;
      uint64_t cpu0 = ThreadCpuNs();
      bool ok = Sentinel(regions, mode, hits.get(), &err, sstate.get(), budget);
      double cpuNs = static_cast<double>(ThreadCpuNs() - cpu0);
      double walks = static_cast<double>(sstate->walks), skipped = static_cast<double>(sstate->skipped);
      Completion c;
      c.build = [hits, ok, err, cpuNs, walks, skipped](Napi::Env env) -> Napi::Value {
        Napi::Object o = Napi::Object::New(env);
        o.Set("ok", ok);
        o.Set("cpuNs", cpuNs);
        o.Set("walks", walks);      // pagemap walks so far (this scanner)
        o.Set("skipped", skipped);  // ticks that skipped the walk (counters unchanged)
        if (!ok) o.Set("errno", err);
        o.Set("hits", HitsToArray(env, *hits));
        return o;
      };
      return c;
    }, sentinelWorker_.get());
  }

  // startSentinel(regions, mode, periodMs, budget, onHits(generation, hits)): the native sentinel
  // loop. onHits runs on the JS thread only when the written pages or their digests changed.
  Napi::Value StartSentinelJs(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (sentinelLoop_) throw Napi::Error::New(env, "the sentinel is already running");
    std::vector<ScanRegion> regions = ParseRegions(info[0]);
    hash::Mode mode = ParseMode(info[1]);
    if (!info[2].IsNumber() || !info[3].IsNumber() || !info[4].IsFunction())
      throw Napi::TypeError::New(env, "startSentinel(regions, mode, periodMs, budget, onHits)");
    double periodMs = info[2].As<Napi::Number>().DoubleValue(), budget = info[3].As<Napi::Number>().DoubleValue();
    if (!(periodMs >= 10 && periodMs <= 3600000)) throw Napi::RangeError::New(env, "periodMs must be from 10 to 3600000");
    if (!(budget > 0 && budget <= 1)) throw Napi::RangeError::New(env, "budget must be in (0, 1]");
    std::shared_ptr<Shared> shared = state_;
    shared->sentinelTsfnGone = false;
    sentinelTsfn_ = Napi::ThreadSafeFunction::New(env, info[4].As<Napi::Function>(), "procguard-sentinel", 0, 1,
                                                  [shared](Napi::Env) { shared->sentinelTsfnGone = true; });
    sentinelTsfn_.Unref(env);  // never keeps the process alive
    Napi::ThreadSafeFunction tsfn = sentinelTsfn_;
    struct Report {
      uint64_t generation;
      std::vector<SentinelHit> hits;
    };
    sentinelLoop_ = std::make_unique<SentinelLoop>(
        mode, static_cast<uint64_t>(periodMs * 1e6), budget, [tsfn](uint64_t generation, std::vector<SentinelHit> hits) mutable {
          auto* r = new Report{generation, std::move(hits)};
          napi_status st = tsfn.NonBlockingCall(r, [](Napi::Env env, Napi::Function cb, Report* r) {
            std::unique_ptr<Report> owned(r);
            if (env == nullptr || cb.IsEmpty()) return;  // fastloops: environment torn down (worker.terminate())
            try {
              cb.Call({Napi::Number::New(env, static_cast<double>(r->generation)), HitsToArray(env, r->hits)});
            } catch (const Napi::Error&) {  // fastloops: a terminating worker must not std::terminate
            }
          });
          if (st != napi_ok) delete r;
        });
    sentinelLoop_->SetRegions(std::move(regions), 0);
    return env.Undefined();
  }

  Napi::Value UpdateSentinelJs(const Napi::CallbackInfo& info) {
    if (!sentinelLoop_) return info.Env().Undefined();
    std::vector<ScanRegion> regions = ParseRegions(info[0]);
    if (!info[1].IsNumber()) throw Napi::TypeError::New(info.Env(), "generation must be a number");
    sentinelLoop_->SetRegions(std::move(regions), static_cast<uint64_t>(info[1].As<Napi::Number>().Int64Value()));
    return info.Env().Undefined();
  }

  Napi::Value StopSentinelJs(const Napi::CallbackInfo& info) {
    StopSentinel();
    return info.Env().Undefined();
  }

  void StopSentinel() {
    if (!sentinelLoop_) return;
    sentinelLoop_->Stop();  // joins: no report is produced after this
    sentinelLoop_.reset();
    if (!state_->sentinelTsfnGone) sentinelTsfn_.Release();
  }

  Napi::Value HashFileJs(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!info[0].IsNumber() || !info[1].IsNumber() || !info[2].IsNumber())
      throw Napi::TypeError::New(env, "fd, offset and length must be numbers");
    int fd = info[0].As<Napi::Number>().Int32Value();
    double off = info[1].As<Napi::Number>().DoubleValue(), len = info[2].As<Napi::Number>().DoubleValue();
    if (fd < 0 || !(off >= 0) || !(len >= 0) || off > 9007199254740991.0 || len > 9007199254740991.0)
      throw Napi::RangeError::New(env, "fd, offset and length must be non-negative integers");
    hash::Mode mode = ParseMode(info[3]);
    uint64_t offset = static_cast<uint64_t>(off), length = static_cast<uint64_t>(len);
    return Submit(env, [fd, offset, length, mode]() {
      auto digests = std::make_shared<std::vector<uint8_t>>();
      int err = 0;
      Completion c;
      if (!HashFileRange(fd, offset, length, mode, digests.get(), &err)) {
        c.error = std::string("cannot read the mapped file: ") + std::strerror(err) + " (errno " + std::to_string(err) + ")";
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
    if (!state_->closed) {
      state_->closed = true;
      StopSentinel();
      worker_->Stop();
      sentinelWorker_->Stop();
      auto pending = std::move(state_->pending);
      state_->pending.clear();
      for (auto& kv : pending) kv.second.Reject(Napi::Error::New(env, "scanner closed").Value());
      if (!state_->tsfnGone) {
        state_->tsfn.Unref(env);
        state_->tsfn.Release();
      }
    }
    return env.Undefined();
  }

  void Shutdown() {
    StopSentinel();
    if (worker_) worker_->Stop();
    if (sentinelWorker_) sentinelWorker_->Stop();
    if (state_ && !state_->closed) {
      state_->closed = true;
      if (!state_->tsfnGone) state_->tsfn.Release();
    }
  }

  std::shared_ptr<Shared> state_;
  std::unique_ptr<Worker> worker_;
  // The pagemap sentinel runs on its own thread: queued behind a paced sweep (which sleeps to
  // stay within its CPU budget and can take longer than a period) it would wait seconds, and
  // software tamper must be reported within a sentinel period or two.
  // The tamper sentinel has its own thread: a paced sweep sleeps between batches and must not
  // delay it.
  std::unique_ptr<Worker> sentinelWorker_;
  std::shared_ptr<SentinelState> sentinelState_ = std::make_shared<SentinelState>();
  std::unique_ptr<SentinelLoop> sentinelLoop_;
  Napi::ThreadSafeFunction sentinelTsfn_;
};

Napi::Array ToArray(Napi::Env env, const std::vector<uint32_t>& v) {
  Napi::Array a = Napi::Array::New(env, v.size());
  for (size_t i = 0; i < v.size(); ++i) a.Set(static_cast<uint32_t>(i), v[i]);
  return a;
}

// compareDigests(expected, actual, skip?) -> { mismatch, unknown, missing: number[] }
// Synchronous: a memcmp per page, microseconds for a whole process.
Napi::Value CompareDigestsJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsTypedArray() || !info[1].IsTypedArray())
    throw Napi::TypeError::New(env, "expected and actual must be Uint8Arrays");
  auto e = info[0].As<Napi::Uint8Array>(), a = info[1].As<Napi::Uint8Array>();
  if (e.ByteLength() != a.ByteLength() || e.ByteLength() % hash::kDigestSize)
    throw Napi::RangeError::New(env, "expected and actual must have the same length, a multiple of 16");
  std::vector<uint32_t> skip;
  if (info.Length() > 2 && info[2].IsArray()) {
    Napi::Array s = info[2].As<Napi::Array>();
    for (uint32_t i = 0; i < s.Length(); ++i) skip.push_back(s.Get(i).As<Napi::Number>().Uint32Value());
    std::sort(skip.begin(), skip.end());
  }
  std::vector<uint32_t> mismatch, unknown, missing;
  CompareDigests(e.Data(), a.Data(), e.ByteLength() / hash::kDigestSize, skip, &mismatch, &unknown, &missing);
  Napi::Object o = Napi::Object::New(env);
  o.Set("mismatch", ToArray(env, mismatch));
  o.Set("unknown", ToArray(env, unknown));
  o.Set("missing", ToArray(env, missing));
  return o;
}

}  // namespace

void InitScanner(Napi::Env env, Napi::Object exports) {
  exports.Set("Scanner", Scanner::Define(env));
  exports.Set("compareDigests", Napi::Function::New(env, CompareDigestsJs, "compareDigests"));
}

}  // namespace pg
