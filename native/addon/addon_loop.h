// A native loop that reports to JS through a thread-safe function, owned by an ObjectWrap
// (addon_watch.cc's Watcher, addon_tree_sentinel.cc's TreeSentinel). The TSFN never keeps the
// process alive; the loop is stopped (its callbacks joined) before the TSFN is released: by
// Shutdown() (close()), by the owner's destructor, and by an environment cleanup hook
// (worker.terminate() or an exit without close() must never leave it calling into a torn-down
// environment). A LoopHost must not move after Start(): the hook holds its address.
#pragma once
#include <atomic>
#include <memory>
#include <utility>

#include "addon.h"

namespace pg {

template <class Loop>
class LoopHost {
 public:
  LoopHost() = default;
  LoopHost(const LoopHost&) = delete;
  LoopHost& operator=(const LoopHost&) = delete;
  ~LoopHost() { Shutdown(true); }

  // `make(tsfn)` builds the loop; its reports go through PostReport(tsfn, ...).
  template <class Make>
  void Start(Napi::Env env, Napi::Function onReport, const char* name, Make make) {
    gone_ = std::make_shared<std::atomic<bool>>(false);
    std::shared_ptr<std::atomic<bool>> gone = gone_;
    tsfn_ = Napi::ThreadSafeFunction::New(env, onReport, name, 0, 1, [gone](Napi::Env) { gone->store(true); });
    tsfn_.Unref(env);  // never keeps the process alive
    loop_ = make(tsfn_);
    // Registered after the TSFN so it runs before the TSFN's own teardown (hooks run in reverse).
    napi_add_env_cleanup_hook(env, &LoopHost::Cleanup, this);
    hooked_ = true;
    env_ = env;
  }

  Loop* get() const { return loop_.get(); }

  // Stops the loop, then releases the TSFN (once). Idempotent.
  void Shutdown() { Shutdown(true); }

 private:
  static void Cleanup(void* arg) {
    auto* self = static_cast<LoopHost*>(arg);
    self->hooked_ = false;  // the hook is being run: do not remove it
    self->Shutdown(false);
  }

  void Shutdown(bool removeHook) {
    if (loop_) {
      loop_->Stop();
      loop_.reset();
    }
    if (gone_ && !released_) {
      released_ = true;
      if (!gone_->load()) tsfn_.Release();
    }
    if (removeHook && hooked_) {
      hooked_ = false;
      napi_remove_env_cleanup_hook(env_, &LoopHost::Cleanup, this);
    }
  }

  std::unique_ptr<Loop> loop_;
  Napi::ThreadSafeFunction tsfn_;
  std::shared_ptr<std::atomic<bool>> gone_;
  bool released_ = false;
  bool hooked_ = false;
  napi_env env_ = nullptr;
};

// Queues `report` for the JS thread, where `toJs(env, report)` makes the callback's one argument.
// From any thread; dropped when the TSFN is released (the owner is closing).
template <class Report, class ToJs>
void PostReport(Napi::ThreadSafeFunction tsfn, Report report, ToJs toJs) {
  auto* r = new Report(std::move(report));
  napi_status st = tsfn.NonBlockingCall(r, [toJs](Napi::Env env, Napi::Function cb, Report* r) {
    std::unique_ptr<Report> owned(r);
    if (env == nullptr || cb.IsEmpty()) return;  // the environment is being torn down
    // During worker.terminate() the call fails with a pending termination: never let that escape
    // a thread-safe-function callback (std::terminate).
    try {
      cb.Call({toJs(env, *r)});
    } catch (const Napi::Error&) {
    }
  });
  if (st != napi_ok) delete r;
}

}  // namespace pg
