#include "scanner_worker.h"

#if defined(__linux__)
#include <pthread.h>
#endif

namespace pg {

Worker::Worker(const char* name) : name_(name), thread_([this] { Run(); }) {}

Worker::~Worker() { Stop(); }

void Worker::Post(std::function<void()> job) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return;
    jobs_.push_back(std::move(job));
  }
  cv_.notify_one();
}

void Worker::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
    jobs_.clear();
  }
  cancel_.Cancel();
  cv_.notify_one();
  if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id()) thread_.join();
}

void Worker::Run() {
#if defined(__linux__)
  pthread_setname_np(pthread_self(), name_);  // visible in top -H, /proc/self/task/*/comm
#endif
  for (;;) {
    std::function<void()> job;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
      if (stopping_) return;
      job = std::move(jobs_.front());
      jobs_.pop_front();
    }
    try {
      job();
    } catch (...) {
      // A job reports its own failures; nothing may unwind out of this thread.
    }
  }
}

}  // namespace pg
