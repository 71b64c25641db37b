// N-API glue for the process tree's fast loop (tree_sentinel_linux.cc):
// new TreeSentinel(periodMs, threadSlices, budget, onReport), add(pid, startTicks),
// setRegions(pid, startTicks, regions), remove(pid, startTicks), stats(), close(). onReport runs
// on the JS thread only when something changed. Stopped by close(), the destructor and an
// environment cleanup hook, as the Watcher (addon_watch.cc).
#include "addon.h"

#if defined(__linux__)
#include <cstring>
#include <memory>

#include "addon_args.h"
#include "addon_async.h"
#include "addon_tree.h"
#include "tree_sentinel.h"

namespace pg {
namespace {

uint64_t StartArg(const Napi::Value& v) { return BigU64Arg(v, "startTicks"); }

int PidArg(const Napi::Value& v) { return static_cast<int>(IntegerArg(v, "pid", 1, 4194304)); }  // PID_MAX_LIMIT

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

Napi::Value EventsObject(Napi::Env env, const std::vector<TreeSentinelEvent>& events) {
  Napi::Array arr = Napi::Array::New(env, events.size());
  for (size_t i = 0; i < events.size(); ++i) arr.Set(static_cast<uint32_t>(i), EventObject(env, events[i]));
  return arr;
}

class TreeSentinelJs : public Napi::ObjectWrap<TreeSentinelJs>, public SafeMethods<TreeSentinelJs> {
 public:
  static constexpr const char* kName = "TreeSentinel";
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "TreeSentinel",
                       {InstanceMethod("add", &TreeSentinelJs::Safe<&TreeSentinelJs::AddJs>),
                        InstanceMethod("setRegions", &TreeSentinelJs::Safe<&TreeSentinelJs::SetRegionsJs>),
                        InstanceMethod("remove", &TreeSentinelJs::Safe<&TreeSentinelJs::RemoveJs>),
                        InstanceMethod("stats", &TreeSentinelJs::Safe<&TreeSentinelJs::StatsJs>),
                        InstanceMethod("close", &TreeSentinelJs::Safe<&TreeSentinelJs::CloseJs>)});
  }

  explicit TreeSentinelJs(const Napi::CallbackInfo& info) : Napi::ObjectWrap<TreeSentinelJs>(info) {
    Napi::Env env = info.Env();
    const uint64_t periodNs = static_cast<uint64_t>(PeriodMsArg(info[0]) * 1e6);
    const int64_t slices = IntegerArg(info[1], "threadSlices", 1, 100);
    const double budget = BudgetArg(info[2]);
    host_.Start(env, FunctionArg(info[3], "onReport"), "procguard-tree", [&](std::shared_ptr<TsfnBox> tsfn) {
      return std::make_unique<TreeSentinel>(
          periodNs, static_cast<uint32_t>(slices), budget,
          [tsfn](std::vector<TreeSentinelEvent> events) { PostReport(tsfn, std::move(events), EventsObject); });
    });
  }

  ~TreeSentinelJs() override { host_.Shutdown(); }

 private:
  // add(pid, startTicks): true, or { errno, error } (exited, or the pid is another process now).
  Napi::Value AddJs(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    const int pid = PidArg(info[0]);
    const uint64_t start = StartArg(info[1]);
    int err = EBADF;
    std::string why = "the tree sentinel is closed";
    if (host_.get() && host_.get()->Add(pid, start, &err, &why)) return Napi::Boolean::New(env, true);
    Napi::Object o = Napi::Object::New(env);
    o.Set("errno", err);
    o.Set("error", why);
    return o;
  }

  Napi::Value SetRegionsJs(const Napi::CallbackInfo& info) {
    const int pid = PidArg(info[0]);
    const uint64_t start = StartArg(info[1]);
    std::vector<TreeRegion> regions = TreeRegionsArg(info[2], "setRegions");
    if (host_.get()) host_.get()->SetRegions(pid, start, std::move(regions));
    return info.Env().Undefined();
  }

  Napi::Value RemoveJs(const Napi::CallbackInfo& info) {
    const int pid = PidArg(info[0]);
    const uint64_t start = StartArg(info[1]);
    if (host_.get()) host_.get()->Remove(pid, start);
    return info.Env().Undefined();
  }

  Napi::Value StatsJs(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Napi::Object o = Napi::Object::New(env);
    o.Set("running", host_.get() != nullptr);
    if (!host_.get()) return o;
    TreeSentinelStats s = host_.get()->Stats();
    o.Set("ticks", static_cast<double>(s.ticks));
    o.Set("walks", static_cast<double>(s.walks));
    o.Set("rechecks", static_cast<double>(s.rechecks));
    o.Set("threadReads", static_cast<double>(s.threadReads));
    o.Set("relists", static_cast<double>(s.relists));
    o.Set("reports", static_cast<double>(s.reports));
    o.Set("processes", static_cast<double>(s.processes));
    o.Set("threads", static_cast<double>(s.threads));
    o.Set("walkCpuMs", static_cast<double>(s.walkCpuNs) / 1e6);
    o.Set("deferred", static_cast<double>(s.deferred));
    o.Set("tokensMs", s.tokensNs / 1e6);
    return o;
  }

  Napi::Value CloseJs(const Napi::CallbackInfo& info) {
    host_.Shutdown();
    return info.Env().Undefined();
  }

  LoopHost<TreeSentinel> host_;
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
