// N-API glue for the fast watch loop (watch_linux.cc): new Watcher(periodMs, onReport),
// addWatch(path), removeWatch(wd), stats(), close(). onReport runs on the JS thread only when the
// kernel signature changed or a watched file had an event. The thread is stopped and joined by
// close(), by the destructor, and by an environment cleanup hook (worker.terminate() or exit
// without close() must never leave it calling into a torn-down environment).
#include "addon.h"
#include "addon_args.h"

#if defined(__linux__)
#include <cstring>
#include <memory>

#include "addon_async.h"
#include "watch.h"

namespace pg {
namespace {

Napi::Value ReportObject(Napi::Env env, const WatchReport& r) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("kernel", r.kernelChanged);
  Napi::Array wds = Napi::Array::New(env, r.wds.size());
  Napi::Array masks = Napi::Array::New(env, r.masks.size());
  for (size_t i = 0; i < r.wds.size(); ++i) {
    wds.Set(static_cast<uint32_t>(i), r.wds[i]);
    masks.Set(static_cast<uint32_t>(i), static_cast<double>(r.masks[i]));
  }
  o.Set("wds", wds);
  o.Set("masks", masks);
  if (!r.error.empty()) o.Set("error", r.error);
  return o;
}

class Watcher : public Napi::ObjectWrap<Watcher>, public SafeMethods<Watcher> {
 public:
  static constexpr const char* kName = "Watcher";
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "Watcher",
                       {InstanceMethod("addWatch", &Watcher::Safe<&Watcher::AddWatchJs>),
                        InstanceMethod("removeWatch", &Watcher::Safe<&Watcher::RemoveWatchJs>),
                        InstanceMethod("stats", &Watcher::Safe<&Watcher::StatsJs>),
                        InstanceMethod("close", &Watcher::Safe<&Watcher::CloseJs>)});
  }

  explicit Watcher(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Watcher>(info) {
    Napi::Env env = info.Env();
    const uint64_t periodNs = static_cast<uint64_t>(PeriodMsArg(info[0]) * 1e6);
    host_.Start(env, FunctionArg(info[1], "onReport"), "procguard-watch", [&](std::shared_ptr<TsfnBox> tsfn) {
      return std::make_unique<WatchLoop>(periodNs,
                                         [tsfn](WatchReport rep) { PostReport(tsfn, std::move(rep), ReportObject); });
    });
  }

  ~Watcher() override { host_.Shutdown(); }

 private:
  Napi::Value AddWatchJs(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    std::string path = StringArg(info[0], "addWatch(path): path");
    if (path.empty() || path.find('\0') != std::string::npos)
      throw Napi::TypeError::New(env, "addWatch(path): bad path");
    Napi::Object o = Napi::Object::New(env);
    WatchLoop* loop = host_.get();
    if (!loop) {
      o.Set("errno", EBADF);
      o.Set("error", "the watcher is closed");
      return o;
    }
    uint64_t maj = 0, min = 0, ino = 0;
    int err = 0;
    int wd = loop->AddWatch(path, &maj, &min, &ino, &err);
    if (wd < 0) {
      o.Set("errno", err);
      o.Set("error", std::string(strerror(err)));
      return o;
    }
    o.Set("wd", wd);
    o.Set("devMajor", static_cast<double>(maj));
    o.Set("devMinor", static_cast<double>(min));
    o.Set("ino", Napi::BigInt::New(env, ino));
    return o;
  }

  Napi::Value RemoveWatchJs(const Napi::CallbackInfo& info) {
    // Exact descriptors only (IntegerArg): Int32Value() would wrap 2^32 + 1 to 1 and remove another file's watch.
    const int64_t wd = IntegerArg(info[0], "removeWatch(wd): wd", 0, 2147483647.0);
    return Napi::Boolean::New(info.Env(), host_.get() && host_.get()->RemoveWatch(static_cast<int>(wd)));
  }

  Napi::Value StatsJs(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Napi::Object o = Napi::Object::New(env);
    o.Set("running", host_.get() != nullptr);
    if (!host_.get()) return o;
    WatchStats s = host_.get()->Stats();
    o.Set("ticks", static_cast<double>(s.ticks));
    o.Set("reports", static_cast<double>(s.reports));
    if (s.lastTickAgeMs >= 0) o.Set("lastTickAgeMs", s.lastTickAgeMs);
    o.Set("cpuMs", static_cast<double>(s.cpuNs) / 1e6);
    o.Set("tid", s.tid);
    o.Set("watches", s.watches);
    o.Set("inotify", s.inotify);
    if (!s.inotifyError.empty()) o.Set("inotifyError", s.inotifyError);
    return o;
  }

  Napi::Value CloseJs(const Napi::CallbackInfo& info) {
    host_.Shutdown();
    return info.Env().Undefined();
  }

  LoopHost<WatchLoop> host_;
};

}  // namespace

void InitWatch(Napi::Env env, Napi::Object exports) { exports.Set("Watcher", Watcher::Define(env)); }

}  // namespace pg
#else
namespace pg {
// No fast watch loop on this OS: the kernel checks run on the Guard's timer (src/guard.ts).
void InitWatch(Napi::Env, Napi::Object) {}
}  // namespace pg
#endif
