// N-API glue for the fast watch loop (watch_linux.cc): new Watcher(periodMs, onReport),
// addWatch(path), removeWatch(wd), stats(), close(). onReport runs on the JS thread only when the
// kernel signature changed or a watched file had an event. The thread is stopped and joined by
// close(), by the destructor, and by an environment cleanup hook (worker.terminate() or exit
// without close() must never leave it calling into a torn-down environment).
#include "addon.h"

#if defined(__linux__)
#include <cstring>
#include <memory>

#include "watch.h"

namespace pg {
namespace {

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
    if (!info[0].IsNumber() || !info[1].IsFunction())
      throw Napi::TypeError::New(env, "new Watcher(periodMs, onReport)");
    double periodMs = info[0].As<Napi::Number>().DoubleValue();
    if (!(periodMs >= 10 && periodMs <= 3600000))
      throw Napi::RangeError::New(env, "periodMs must be from 10 to 3600000");
    gone_ = std::make_shared<std::atomic<bool>>(false);
    std::shared_ptr<std::atomic<bool>> gone = gone_;
    tsfn_ = Napi::ThreadSafeFunction::New(env, info[1].As<Napi::Function>(), "procguard-watch", 0, 1,
                                          [gone](Napi::Env) { gone->store(true); });
    tsfn_.Unref(env);  // never keeps the process alive
    Napi::ThreadSafeFunction tsfn = tsfn_;
    loop_ = std::make_unique<WatchLoop>(static_cast<uint64_t>(periodMs * 1e6), [tsfn](WatchReport rep) mutable {
      auto* r = new WatchReport(std::move(rep));
      napi_status st = tsfn.NonBlockingCall(r, [](Napi::Env env, Napi::Function cb, WatchReport* r) {
        std::unique_ptr<WatchReport> owned(r);
        if (env == nullptr || cb.IsEmpty()) return;  // the environment is being torn down
        Napi::Object o = Napi::Object::New(env);
        o.Set("kernel", r->kernelChanged);
        Napi::Array wds = Napi::Array::New(env, r->wds.size());
        Napi::Array masks = Napi::Array::New(env, r->masks.size());
        for (size_t i = 0; i < r->wds.size(); ++i) {
          wds.Set(static_cast<uint32_t>(i), r->wds[i]);
          masks.Set(static_cast<uint32_t>(i), static_cast<double>(r->masks[i]));
        }
        o.Set("wds", wds);
        o.Set("masks", masks);
        if (!r->error.empty()) o.Set("error", r->error);
        // During worker.terminate() the call fails with a pending termination: never let that
        // escape a thread-safe-function callback (std::terminate).
        try {
          cb.Call({o});
        } catch (const Napi::Error&) {
        }
      });
      if (st != napi_ok) delete r;  // released: the Watcher is closing
    });
    // Registered after the TSFN so it runs before the TSFN's own teardown (hooks run in reverse).
    napi_add_env_cleanup_hook(env, &Watcher::Cleanup, this);
    hooked_ = true;
    env_ = env;
  }

  ~Watcher() override { Shutdown(true); }

 private:
  static void Cleanup(void* arg) {
    auto* self = static_cast<Watcher*>(arg);
    self->hooked_ = false;  // the hook is being run: do not remove it
    self->Shutdown(false);
  }

  // Stops and joins the loop thread, then releases the TSFN (once).
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
      napi_remove_env_cleanup_hook(env_, &Watcher::Cleanup, this);
    }
  }

  Napi::Value AddWatchJs(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!info[0].IsString()) throw Napi::TypeError::New(env, "addWatch(path): path must be a string");
    std::string path = info[0].As<Napi::String>().Utf8Value();
    if (path.empty() || path.find('\0') != std::string::npos)
      throw Napi::TypeError::New(env, "addWatch(path): bad path");
    Napi::Object o = Napi::Object::New(env);
    if (!loop_) {
      o.Set("errno", EBADF);
      o.Set("error", "the watcher is closed");
      return o;
    }
    uint64_t maj = 0, min = 0, ino = 0;
    int err = 0;
    int wd = loop_->AddWatch(path, &maj, &min, &ino, &err);
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
    if (!info[0].IsNumber()) throw Napi::TypeError::New(info.Env(), "removeWatch(wd): wd must be a number");
    const double wd = info[0].As<Napi::Number>().DoubleValue();
    if (!(wd >= 0 && wd <= 2147483647.0) || wd != static_cast<double>(static_cast<int>(wd)))
      throw Napi::RangeError::New(info.Env(), "removeWatch(wd): wd must be an integer from 0 to 2^31 - 1");
    return Napi::Boolean::New(info.Env(), loop_ && loop_->RemoveWatch(static_cast<int>(wd)));
  }

  Napi::Value StatsJs(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Napi::Object o = Napi::Object::New(env);
    o.Set("running", loop_ != nullptr);
    if (!loop_) return o;
    WatchStats s = loop_->Stats();
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
    Shutdown(true);
    return info.Env().Undefined();
  }

  std::unique_ptr<WatchLoop> loop_;
  Napi::ThreadSafeFunction tsfn_;
  std::shared_ptr<std::atomic<bool>> gone_;
  bool released_ = false;
  bool hooked_ = false;
  napi_env env_ = nullptr;
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
