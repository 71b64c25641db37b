// A single background thread running queued jobs in order. A job must not throw (the N-API glue
// catches inside every job); Run() still catches anything that escapes, so an exception can never
// reach std::terminate on this thread.
#pragma once
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

#include "scanner_pacing.h"

namespace pg {

class Worker {
 public:
  explicit Worker(const char* name);
  ~Worker();
  void Post(std::function<void()> job);
  void Stop();  // cancels the running job's pacing, drops queued jobs, joins; idempotent
  CancelToken& cancelToken() { return cancel_; }

 private:
  void Run();
  const char* name_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> jobs_;
  CancelToken cancel_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace pg
