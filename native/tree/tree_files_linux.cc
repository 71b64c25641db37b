// Bounded reads of a child's mapped file (see tree_files.h).
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <memory>
#include <mutex>
#include <thread>

#include "memory.h"  // ReadFileAt
#include "tree_files.h"

namespace pg {
namespace {

constexpr size_t kPage = 4096;

std::atomic<int> g_stuck{0};

struct Task {
  TreeRegion region;
  std::vector<uint64_t> offsets;
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  bool abandoned = false;  // the pass stopped waiting: this helper counts in g_stuck until it returns
  FilePages result;
};

// Runs on the helper thread: no blocking open (a FIFO opens at once with O_NONBLOCK), a regular
// file only, the mapped one only; then O_NONBLOCK is cleared for plain reads.
void OpenAndRead(const TreeRegion& r, const std::vector<uint64_t>& offsets, FilePages* out) {
  int fd = open(r.path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) {
    out->why = "open " + r.path + ": " + strerror(errno);
    return;
  }
  struct stat st;
  if (fstat(fd, &st) != 0) {
    out->why = "fstat " + r.path + ": " + strerror(errno);
  } else if (!S_ISREG(st.st_mode)) {
    out->why = r.path + " is not a regular file now (a FIFO, device or directory was put at the mapped path)";
  } else if (major(st.st_dev) != r.devMajor || minor(st.st_dev) != r.devMinor ||
             static_cast<uint64_t>(st.st_ino) != r.ino) {
    out->why = r.path + " is no longer the mapped file (device/inode differ)";
  } else if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) != 0) {
    out->why = "fcntl " + r.path + ": " + strerror(errno);
  } else {
    out->opened = true;
    out->data.assign(offsets.size() * kPage, 0);  // past EOF the mapping reads as zeros
    out->errs.assign(offsets.size(), 0);
    for (size_t i = 0; i < offsets.size(); ++i) {
      size_t got = 0;
      int err = 0;
      if (!ReadFileAt(fd, offsets[i], out->data.data() + i * kPage, kPage, &got, &err)) out->errs[i] = err ? err : EIO;
    }
  }
  close(fd);
}

}  // namespace

int StuckFileReads() { return g_stuck.load(); }

void ReadMappedFilePages(const TreeRegion& r, const std::vector<uint64_t>& offsets, uint64_t deadlineNs,
                         FilePages* out) {
  const int stuck = g_stuck.load();
  if (stuck >= kMaxStuckReads) {
    out->stalled = true;
    out->why = "not opened: " + std::to_string(stuck) + " earlier reads of a child's mapped file have not returned";
    return;
  }
  auto task = std::make_shared<Task>();
  task->region = r;
  task->offsets = offsets;
  try {
    std::thread([task] {
      FilePages res;
      OpenAndRead(task->region, task->offsets, &res);
      std::lock_guard<std::mutex> lock(task->mu);
      task->result = std::move(res);
      task->done = true;
      if (task->abandoned) g_stuck.fetch_sub(1);
      task->cv.notify_all();
    }).detach();
  } catch (const std::system_error& e) {
    out->why = std::string("no thread to read ") + r.path + ": " + e.what();
    return;
  }
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  const uint64_t nowNs = static_cast<uint64_t>(now.tv_sec) * 1000000000ull + static_cast<uint64_t>(now.tv_nsec);
  const uint64_t waitNs = deadlineNs > nowNs ? deadlineNs - nowNs : 0;
  std::unique_lock<std::mutex> lock(task->mu);
  if (!task->cv.wait_for(lock, std::chrono::nanoseconds(waitNs), [&] { return task->done; })) {
    task->abandoned = true;
    g_stuck.fetch_add(1);
    out->stalled = true;
    out->why = "open or read of " + r.path + " did not return in time (a FIFO or a FUSE file that does not answer?)";
    return;
  }
  *out = std::move(task->result);
}

}  // namespace pg
