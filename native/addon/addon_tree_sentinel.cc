// N-API glue for the process tree's fast loop (tree_sentinel_linux.cc):
// new TreeSentinel(periodMs, threadSlices, budget, onReport), add(pid, startTicks),
// setRegions(pid, startTicks, regions), remove(pid, startTicks), stats(), close(). onReport runs
// on the JS thread only when something changed. Stopped by close(), the destructor and an
// environment cleanup hook, as the Watcher (addon_watch.cc).
#include "addon.h"

#if defined(__linux__)
#include <atomic>
#include <cstring>
#include <memory>

#include "addon_tree.h"
#include "tree_sentinel.h"

namespace pg {
namespace {

uint64_t StartArg(const Napi::Value& v) {
  if (!v.IsBigInt()) throw Napi::TypeError::New(v.Env(), "startTicks must be a bigint");
  bool lossless = false;
  uint64_t x = v.As<Napi::BigInt>().Uint64Value(&lossless);
  if (!lossless) throw Napi::RangeError::New(v.Env(), "startTicks out of range");
  return x;
}

int PidArg(const Napi::Value& v) {
  if (!v.IsNumber()) throw Napi::TypeError::New(v.Env(), "pid must be a number");
  double d = v.As<Napi::Number>().DoubleValue();
  if (!(d >= 1 && d <= 4194304) || d != static_cast<double>(static_cast<int>(d)))
    throw Napi::RangeError::New(v.Env(), "pid must be an integer from 1 to 4194304");
  return static_cast<int>(d);
}

Napi::Object EventObject(Napi::Env env, const TreeSentinelEvent& e) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("pid", e.pid);
  o.Set("startTicks", Napi::BigInt::New(env, e.startTicks));
  if (e.kind == TreeSentinelEvent::kExited) {
    o.Set("kind", "exited");
  } else if (e.kind == TreeSentinelEvent::kThreads) {
    o.Set("kind", "threads");
    o.Set("leaderChanged", e.leaderChanged);
    o.Set("tracedTid", e.tracedTid);
    o.Set("tracerPid", e.tracerPid);
  } else {
    o.Set("kind", "code");
    o.Set("result", TreeResultObject(env, e.code));
  }
  return o;
}

class TreeSentinelJs : public Napi::ObjectWrap<TreeSentinelJs> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(
        env, "TreeSentinel",
        {InstanceMethod("add", &TreeSentinelJs::AddJs), InstanceMethod("setRegions", &TreeSentinelJs::SetRegionsJs),
         InstanceMethod("remove", &TreeSentinelJs::RemoveJs), InstanceMethod("stats", &TreeSentinelJs::StatsJs),
         InstanceMethod("close", &TreeSentinelJs::CloseJs)});
  }

  explicit TreeSentinelJs(const Napi::CallbackInfo& info) : Napi::ObjectWrap<TreeSentinelJs>(info) {
    Napi::Env env = info.Env();
    if (!info[0].IsNumber() || !info[1].IsNumber() || !info[2].IsNumber() || !info[3].IsFunction())
      throw Napi::TypeError::New(env, "new TreeSentinel(periodMs, threadSlices, budget, onReport)");
    const double periodMs = info[0].As<Napi::Number>().DoubleValue();
    const double slices = info[1].As<Napi::Number>().DoubleValue();
    const double budget = info[2].As<Napi::Number>().DoubleValue();
    if (!(periodMs >= 10 && periodMs <= 3600000))
      throw Napi::RangeError::New(env, "periodMs must be from 10 to 3600000");
    if (!(slices >= 1 && slices <= 100)) throw Napi::RangeError::New(env, "threadSlices must be from 1 to 100");
    if (!(budget > 0 && budget <= 1)) throw Napi::RangeError::New(env, "budget must be in (0, 1]");
    gone_ = std::make_shared<std::atomic<bool>>(false);
    std::shared_ptr<std::atomic<bool>> gone = gone_;
    tsfn_ = Napi::ThreadSafeFunction::New(env, info[3].As<Napi::Function>(), "procguard-tree", 0, 1,
                                          [gone](Napi::Env) { gone->store(true); });
    tsfn_.Unref(env);  // never keeps the process alive
    Napi::ThreadSafeFunction tsfn = tsfn_;
    loop_ = std::make_unique<TreeSentinel>(
        static_cast<uint64_t>(periodMs * 1e6), static_cast<uint32_t>(slices), budget,
        [tsfn](std::vector<TreeSentinelEvent> events) mutable {
          auto* r = new std::vector<TreeSentinelEvent>(std::move(events));
          napi_status st =
              tsfn.NonBlockingCall(r, [](Napi::Env env, Napi::Function cb, std::vector<TreeSentinelEvent>* r) {
                std::unique_ptr<std::vector<TreeSentinelEvent>> owned(r);
                if (env == nullptr || cb.IsEmpty()) return;  // the environment is being torn down
                Napi::Array arr = Napi::Array::New(env, r->size());
                for (size_t i = 0; i < r->size(); ++i) arr.Set(static_cast<uint32_t>(i), EventObject(env, (*r)[i]));
                try {
                  cb.Call({arr});
                } catch (const Napi::Error&) {
                  // a pending termination (worker.terminate()) must not escape into std::terminate
                }
              });
          if (st != napi_ok) delete r;  // released: closing
        });
    napi_add_env_cleanup_hook(env, &TreeSentinelJs::Cleanup, this);
    hooked_ = true;
    env_ = env;
  }

  ~TreeSentinelJs() override { Shutdown(true); }

 private:
  static void Cleanup(void* arg) {
    auto* self = static_cast<TreeSentinelJs*>(arg);
    self->hooked_ = false;
    self->Shutdown(false);
  }

  void Shutdown(bool removeHook) {
    if (loop_) {
      loop_->Stop();
      loop_.reset();
    }
    if (!released_) {
      released_ = true;
      if (!gone_->load()) tsfn_.Release();
    }
    if (removeHook && hooked_) {
      hooked_ = false;
      napi_remove_env_cleanup_hook(env_, &TreeSentinelJs::Cleanup, this);
    }
  }

  // add(pid, startTicks): true, or { errno, error } (exited, or the pid is another process now).
  Napi::Value AddJs(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    const int pid = PidArg(info[0]);
    const uint64_t start = StartArg(info[1]);
    int err = EBADF;
    std::string why = "the tree sentinel is closed";
    if (loop_ && loop_->Add(pid, start, &err, &why)) return Napi::Boolean::New(env, true);
    Napi::Object o = Napi::Object::New(env);
    o.Set("errno", err);
    o.Set("error", why);
    return o;
  }

  Napi::Value SetRegionsJs(const Napi::CallbackInfo& info) {
    const int pid = PidArg(info[0]);
    const uint64_t start = StartArg(info[1]);
    std::vector<TreeRegion> regions = TreeRegionsArg(info[2], "setRegions");
    if (loop_) loop_->SetRegions(pid, start, std::move(regions));
    return info.Env().Undefined();
  }

  Napi::Value RemoveJs(const Napi::CallbackInfo& info) {
    const int pid = PidArg(info[0]);
    const uint64_t start = StartArg(info[1]);
    if (loop_) loop_->Remove(pid, start);
    return info.Env().Undefined();
  }

  Napi::Value StatsJs(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Napi::Object o = Napi::Object::New(env);
    o.Set("running", loop_ != nullptr);
    if (!loop_) return o;
    TreeSentinelStats s = loop_->Stats();
    o.Set("ticks", static_cast<double>(s.ticks));
    o.Set("walks", static_cast<double>(s.walks));
    o.Set("rechecks", static_cast<double>(s.rechecks));
    o.Set("threadReads", static_cast<double>(s.threadReads));
    o.Set("relists", static_cast<double>(s.relists));
    o.Set("reports", static_cast<double>(s.reports));
    o.Set("processes", static_cast<double>(s.processes));
    o.Set("threads", static_cast<double>(s.threads));
    o.Set("walkCpuMs", static_cast<double>(s.walkCpuNs) / 1e6);
    return o;
  }

  Napi::Value CloseJs(const Napi::CallbackInfo& info) {
    Shutdown(true);
    return info.Env().Undefined();
  }

  std::unique_ptr<TreeSentinel> loop_;
  Napi::ThreadSafeFunction tsfn_;
  std::shared_ptr<std::atomic<bool>> gone_;
  bool released_ = false;
  bool hooked_ = false;
  napi_env env_ = nullptr;
};

}  // namespace

void InitTreeSentinel(Napi::Env env, Napi::Object exports) { exports.Set("TreeSentinel", TreeSentinelJs::Define(env)); }

}  // namespace pg
#else
namespace pg {
// Other OSes: no tree sentinel; the TS layer keeps its JS status poll and code pass.
void InitTreeSentinel(Napi::Env, Napi::Object) {}
}  // namespace pg
#endif
