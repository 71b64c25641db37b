// The one way the addon runs work off the JS thread and comes back to it. Two shapes, one idiom:
//  - LoopHost<Loop>: a periodic native loop (the watcher, the code sentinel, the tree sentinel) that
//    posts reports to a JS callback (PostReport);
//  - JobQueue: one-shot jobs (a pass, a file hash, a tree code scan) on the queue's own threads, each
//    settling a Promise.
// Both report through a thread-safe function (TSFN) that never keeps the process alive (a JobQueue
// refs it only while a promise is pending). Lifetimes: every TSFN has its own state (TsfnBox): its
// finalizer marks that box only, and it is released at most once. The threads that call a TSFN are
// stopped and joined before it is released: by close(), by the owner's destructor, and by an
// environment cleanup hook registered *after* the TSFN was created. Hooks run in reverse order of
// registration, so at environment teardown (worker.terminate(), an embedder destroying its
// environment) the threads are gone before Node finalizes the TSFN, and no thread can call into a
// freed one. Callbacks into JS run only with a live environment and catch every exception: nothing
// unwinds into Node's C frames (std::terminate).
#pragma once
#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "addon.h"
#include "scanner_worker.h"

namespace pg {

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

// A TSFN calling `fn`, unref'd: it never keeps the process alive by itself.
inline std::shared_ptr<TsfnBox> MakeTsfn(Napi::Env env, Napi::Function fn, const char* name) {
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

// Queues `report` for the JS thread, where `toJs(env, report)` makes the callback's one argument.
// From any thread; dropped when the TSFN is closing (its owner is stopping).
template <class Report, class ToJs>
void PostReport(const std::shared_ptr<TsfnBox>& tsfn, Report report, ToJs toJs) {
  auto* r = new Report(std::move(report));
  napi_status st = tsfn->fn.NonBlockingCall(r, [toJs](Napi::Env env, Napi::Function cb, Report* r) {
    std::unique_ptr<Report> owned(r);
    if (env == nullptr || cb.IsEmpty()) return;  // the environment is being torn down
    // The callback may throw, and during worker.terminate() the call fails with a pending
    // termination: neither may escape a TSFN callback. The next report carries on.
    try {
      cb.Call({toJs(env, *r)});
    } catch (...) {
    }
  });
  if (st != napi_ok) delete r;
}

// A native loop owned by a JS object: Start() builds it with `make(tsfn)`, its reports go through
// PostReport(tsfn, ...). Shutdown() (close(), the destructor, the environment hook) stops the loop
// (Loop::Stop() joins: no report after it), then releases the TSFN. Idempotent.
template <class Loop>
class LoopHost {
 public:
  LoopHost() = default;
  LoopHost(const LoopHost&) = delete;
  LoopHost& operator=(const LoopHost&) = delete;
  ~LoopHost() { Shutdown(); }

  template <class Make>
  void Start(Napi::Env env, Napi::Function onReport, const char* name, Make make) {
    tsfn_ = MakeTsfn(env, onReport, name);
    loop_ = make(tsfn_);
    std::shared_ptr<Loop> loop = loop_;
    hook_ = std::make_unique<EnvHook>(env, [loop] { loop->Stop(); });  // after the TSFN: runs before its teardown
  }

  Loop* get() const { return loop_.get(); }

  void Shutdown() {
    if (hook_) hook_->Remove();
    if (loop_) loop_->Stop();
    loop_.reset();
    if (tsfn_) tsfn_->Release();
  }

 private:
  std::shared_ptr<Loop> loop_;
  std::shared_ptr<TsfnBox> tsfn_;
  std::unique_ptr<EnvHook> hook_;
};

// What a job hands back to the JS thread.
struct Completion {
  std::string error;                            // non-empty: reject with this message
  std::function<Napi::Value(Napi::Env)> build;  // resolve with build(env)
};

// One-shot jobs on `threads` job threads (each runs its jobs in order; e.g. a paced pass on one and
// short priority jobs on another, so they never wait behind a pass). `owner` names the owner in
// messages ("scanner", "treeCodeScan").
class JobQueue {
 public:
  JobQueue(Napi::Env env, std::string owner, const std::vector<const char*>& threadNames)
      : state_(std::make_shared<State>()) {
    state_->owner = std::move(owner);
    state_->tsfn = MakeTsfn(env, Napi::Function::New(env, [](const Napi::CallbackInfo&) {}), "procguard-jobs");
    for (const char* name : threadNames) threads_.push_back(std::make_shared<Worker>(name));
    std::vector<std::shared_ptr<Worker>> threads = threads_;
    hook_ = std::make_unique<EnvHook>(env, [threads] {  // after the TSFN: runs before its teardown
      for (auto& t : threads) t->Stop();
    });
  }
  ~JobQueue() { Shutdown(); }
  JobQueue(const JobQueue&) = delete;
  JobQueue& operator=(const JobQueue&) = delete;

  CancelToken& cancelToken(size_t thread) { return threads_.at(thread)->cancelToken(); }
  bool closed() const { return state_->closed; }

  // Queues `work` on thread `thread`; its Completion settles the returned promise. A job that throws
  // rejects it.
  Napi::Value Submit(Napi::Env env, std::function<Completion()> work, size_t thread = 0) {
    auto deferred = Napi::Promise::Deferred::New(env);
    if (state_->closed) {
      deferred.Reject(Napi::Error::New(env, state_->owner + " is closed").Value());
      return deferred.Promise();
    }
    const uint64_t id = state_->nextId++;
    if (state_->pending.empty()) state_->tsfn->fn.Ref(env);  // a pending promise keeps the process alive
    state_->pending.emplace(id, deferred);
    std::shared_ptr<State> state = state_;
    threads_.at(thread)->Post([state, id, work]() {
      auto* done = new Done{id, Completion()};
      try {
        done->completion = work();
      } catch (const std::exception& e) {
        done->completion = Completion();
        done->completion.error = state->owner + " job failed: " + e.what();
      } catch (...) {
        done->completion = Completion();
        done->completion.error = state->owner + " job failed";
      }
      napi_status st = state->tsfn->fn.BlockingCall(done, [state](Napi::Env env, Napi::Function, Done* d) {
        std::unique_ptr<Done> owned(d);
        if (env == nullptr) return;  // the environment is being torn down (worker.terminate())
        try {
          Settle(env, *state, *d);
        } catch (...) {
          // The environment is going away (terminated worker): nothing left to settle.
        }
      });
      if (st != napi_ok) delete done;  // the function is closing (queue closed, environment torn down)
    });
    return deferred.Promise();
  }

  // Stops and joins the threads, then releases the TSFN; pending promises are rejected with
  // `reason` when called from JS (close()), left alone from a destructor. Idempotent.
  void Close(Napi::Env env, const std::string& reason) {
    const bool wasOpen = !state_->closed;
    Shutdown();
    if (!wasOpen) return;
    auto pending = std::move(state_->pending);
    state_->pending.clear();
    for (auto& kv : pending) kv.second.Reject(Napi::Error::New(env, reason).Value());
  }

  void Shutdown() {
    if (hook_) hook_->Remove();
    for (auto& t : threads_) t->Stop();
    if (!state_->closed) {
      state_->closed = true;
      state_->tsfn->Release();
    }
  }

 private:
  struct State {
    std::string owner;
    std::shared_ptr<TsfnBox> tsfn;
    std::map<uint64_t, Napi::Promise::Deferred> pending;  // JS thread only
    uint64_t nextId = 1;
    bool closed = false;
  };
  struct Done {
    uint64_t id;
    Completion completion;
  };

  static void Settle(Napi::Env env, State& state, const Done& d) {
    auto it = state.pending.find(d.id);
    if (it == state.pending.end()) return;  // rejected by Close()
    Napi::Promise::Deferred deferred = it->second;
    state.pending.erase(it);
    if (state.pending.empty() && !state.closed) state.tsfn->fn.Unref(env);
    const Completion& c = d.completion;
    if (!c.error.empty()) {
      deferred.Reject(Napi::Error::New(env, c.error).Value());
      return;
    }
    try {
      deferred.Resolve(c.build(env));
    } catch (const Napi::Error& e) {
      deferred.Reject(e.Value());
    } catch (const std::exception& e) {  // bad_alloc building the result: reject, never leave it pending
      deferred.Reject(Napi::Error::New(env, state.owner + " result failed: " + e.what()).Value());
    }
  }

  std::shared_ptr<State> state_;
  std::vector<std::shared_ptr<Worker>> threads_;
  std::unique_ptr<EnvHook> hook_;
};

}  // namespace pg
