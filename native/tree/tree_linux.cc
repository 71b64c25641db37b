// Linux: code check of a child process through /proc/<pid>/pagemap and process_vm_readv(pid).
// A private file page that pagemap still shows as file-backed IS the page-cache page (the main's
// disk and page-cache checks cover it, keyed by (dev, inode, offset)); only a page that is present
// (or swapped) and anonymous inside a file-backed executable mapping was copied-on-write, i.e.
// written, and needs reading and comparing with the file.
#include <errno.h>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <dirent.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <map>
#include <set>
#include <utility>

#include "memory.h"  // ReadFileAt
#include "pagemap_scan_linux.h"
#include "tree.h"
#include "tree_files.h"

namespace pg {
namespace {

constexpr uint64_t kPage = 4096;
constexpr uint64_t kPresent = 1ull << 63;
constexpr uint64_t kSwapped = 1ull << 62;
constexpr uint64_t kFilePage = 1ull << 61;
constexpr size_t kChunk = 512;  // pagemap entries per pread (4 KiB)

// PAGEMAP_SCAN (Linux 6.7, pagemap_scan_linux.h): the kernel walks the page tables and returns only
// the ranges that match, instead of 8 bytes per page copied out.
// Appends the written pages (present or swapped, not file-backed: in a private file mapping, a page
// copied on write) of [start, end). False with *err when the ioctl is not available.
bool ScanWritten(int fd, uint64_t start, uint64_t end, std::vector<uint64_t>* pages, int* err) {
  return PagemapScanPages(fd, start, end, kPage, kPageIsFile, kPageIsFile, kPageIsPresent | kPageIsSwapped, pages, err);
}

struct Fd {
  int fd = -1;
  explicit Fd(int f) : fd(f) {}
  ~Fd() {
    if (fd >= 0) close(fd);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
};

// File reads of one pass may take this long in all (tree_files.h): a pass must settle.
constexpr uint64_t kFileDeadlineNs = 3000000000ull;

uint64_t MonotonicNow() {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return static_cast<uint64_t>(t.tv_sec) * 1000000000ull + static_cast<uint64_t>(t.tv_nsec);
}

bool ReadRemotePage(int pid, uint64_t addr, uint8_t* buf, int* err) {
  struct iovec local = {buf, kPage};
  struct iovec remote = {reinterpret_cast<void*>(static_cast<uintptr_t>(addr)), kPage};
  ssize_t n = process_vm_readv(pid, &local, 1, &remote, 1, 0);
  if (n == static_cast<ssize_t>(kPage)) return true;
  *err = n < 0 ? errno : EFAULT;
  return false;
}

// Appends the written pages of region `r` (present or swapped, not file-backed) to `written`, or
// counts them only once kTreeMaxHits are kept. False with res->err/detail when pagemap failed.
bool WrittenPages(int pagemapFd, const std::string& pm, const TreeRegion& r, bool* useScan,
                  std::vector<uint64_t>* entries, std::vector<uint64_t>* written, TreeJobResult* res) {
  const uint64_t npages = (r.end - r.start) / kPage;
  std::vector<uint64_t> found;
  int serr = 0;
  if (*useScan && !ScanWritten(pagemapFd, r.start, r.end, &found, &serr)) {
    if (serr == ENOTTY || serr == EINVAL || serr == ENOSYS || serr == EOPNOTSUPP) {
      *useScan = false;  // older kernel (or qemu-user): read pagemap entries from now on
      found.clear();
    } else {
      res->err = serr == 0 ? ESRCH : serr;
      res->detail = "PAGEMAP_SCAN " + pm + ": " + strerror(res->err);
      return false;
    }
  }
  auto keep = [&](uint64_t addr) {
    res->writtenPages++;
    if (written->size() < kTreeMaxHits) written->push_back(addr);
  };
  if (*useScan) {
    for (uint64_t a : found) keep(a);
    return true;
  }
  for (uint64_t first = 0; first < npages; first += kChunk) {
    size_t n = static_cast<size_t>(std::min<uint64_t>(kChunk, npages - first));
    size_t got = 0;
    int err = 0;
    uint64_t off = ((r.start / kPage) + first) * sizeof(uint64_t);
    if (!ReadFileAt(pagemapFd, off, entries->data(), n * sizeof(uint64_t), &got, &err) || got == 0) {
      if (err == 0) err = ESRCH;  // EOF: the process exited (its pagemap reads as empty)
      res->err = err;
      res->detail = "read " + pm + ": " + strerror(err);
      return false;
    }
    res->pagemapBytes += got;
    size_t have = got / sizeof(uint64_t);
    for (size_t i = 0; i < have; ++i) {
      uint64_t e = (*entries)[i];
      if (!(e & (kPresent | kSwapped))) continue;
      if (e & kFilePage) {
        res->filePages++;
        continue;
      }
      keep(r.start + (first + i) * kPage);
    }
    if (have < n) break;  // short read: end of the address space walked
  }
  return true;
}

void Compare(const uint8_t* mem, const uint8_t* disk, TreePageHit* hit) {
  for (size_t b = 0; b < kPage; ++b) {
    if (mem[b] == disk[b]) continue;
    if (hit->firstDiff < 0) {
      hit->firstDiff = static_cast<int64_t>(b);
      hit->fileByte = disk[b];
      hit->memByte = mem[b];
    }
    hit->diffBytes++;
  }
  hit->state = hit->firstDiff >= 0 ? "modified" : "equal";
}

// Field 22 of /proc/<pid>/stat read through the process's directory fd; 0 when unreadable (exited).
uint64_t StartTicks(int dirFd) {
  Fd fd(openat(dirFd, "stat", O_RDONLY | O_CLOEXEC));
  if (fd.fd < 0) return 0;
  char buf[1024];
  size_t got = 0;
  int err = 0;
  if (!ReadFileAt(fd.fd, 0, buf, sizeof buf - 1, &got, &err) || got == 0) return 0;
  buf[got] = 0;
  const char* p = strrchr(buf, ')');  // the command name may hold spaces and parentheses
  if (p == nullptr) return 0;
  for (int field = 2; field < 22; ++field) {
    p = strchr(p + 1, ' ');
    if (p == nullptr) return 0;
  }
  return strtoull(p + 1, nullptr, 10);
}

// The job's process: /proc/<pid> opened once, and (when the job names its start time) checked to be
// that process. Files opened through the directory fd belong to the process it was opened for,
// even if the pid is reused later; process_vm_readv goes by pid, so the start time is checked again
// after the reads.
bool SameProcess(int dirFd, const TreeJob& job) { return job.startTicks == 0 || StartTicks(dirFd) == job.startTicks; }

void ScanJob(const TreeJob& job, uint64_t fileDeadlineNs, TreeJobResult* res) {
  res->pid = job.pid;
  const std::string dir = "/proc/" + std::to_string(job.pid);
  const std::string pm = dir + "/pagemap";
  Fd procDir(open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (procDir.fd < 0) {
    res->err = errno;
    res->detail = "open " + dir + ": " + strerror(errno);
    return;
  }
  auto reused = [&] {
    res->err = ESRCH;
    res->detail = dir + " is no longer the process of start time " + std::to_string(job.startTicks) +
                  " (it exited; the pid may be reused)";
  };
  if (!SameProcess(procDir.fd, job)) return reused();
  Fd pagemap(openat(procDir.fd, "pagemap", O_RDONLY | O_CLOEXEC));
  if (pagemap.fd < 0) {
    res->err = errno;
    res->detail = "open " + pm + ": " + strerror(errno);
    return;
  }
  // 1. The written pages of every region (the first kTreeMaxHits kept), and their memory now.
  std::vector<uint64_t> entries(kChunk);
  bool useScan = true;
  std::vector<uint8_t> mem;
  for (uint32_t ri = 0; ri < job.regions.size(); ++ri) {
    const TreeRegion& r = job.regions[ri];
    if (r.end <= r.start || (r.start % kPage) != 0) continue;
    res->pages += (r.end - r.start) / kPage;
    std::vector<uint64_t> written;
    if (!WrittenPages(pagemap.fd, pm, r, &useScan, &entries, &written, res)) return;
    for (uint64_t addr : written) {
      if (res->hits.size() >= kTreeMaxHits) break;
      TreePageHit hit;
      hit.region = ri;
      hit.address = addr;
      hit.fileOffset = r.fileOffset + (addr - r.start);
      mem.resize(mem.size() + kPage);
      int rerr = 0;
      if (!ReadRemotePage(job.pid, hit.address, mem.data() + mem.size() - kPage, &rerr)) {
        hit.state = "unreadable";
        hit.detail = std::string("process_vm_readv: ") + strerror(rerr);
      }
      res->hits.push_back(std::move(hit));
    }
  }
  if (!SameProcess(procDir.fd, job)) {  // the memory read by pid was another process's
    res->hits.clear();
    return reused();
  }
  // 2. The file's bytes at those pages, per file (bounded in time: tree_files.h), compared.
  std::map<std::pair<std::string, uint64_t>, std::vector<size_t>> byFile;  // (path, ino) -> hits
  for (size_t h = 0; h < res->hits.size(); ++h) {
    if (!res->hits[h].state.empty()) continue;  // memory unreadable
    const TreeRegion& r = job.regions[res->hits[h].region];
    byFile[std::make_pair(r.path, r.ino)].push_back(h);
  }
  for (const auto& f : byFile) {
    const TreeRegion& r = job.regions[res->hits[f.second.front()].region];
    std::vector<uint64_t> offsets;
    for (size_t h : f.second) offsets.push_back(res->hits[h].fileOffset);
    FilePages fp;
    ReadMappedFilePages(r, offsets, fileDeadlineNs, &fp);
    if (fp.stalled && res->fileStalled.empty()) res->fileStalled = fp.why;
    for (size_t i = 0; i < f.second.size(); ++i) {
      TreePageHit& hit = res->hits[f.second[i]];
      if (!fp.opened) {
        hit.state = "unreadable";
        hit.detail = fp.why;
      } else if (fp.errs[i] != 0) {
        hit.state = "unreadable";
        hit.detail = std::string("pread: ") + strerror(fp.errs[i]);
      } else {
        res->readBytes += 2 * kPage;
        Compare(mem.data() + f.second[i] * kPage, fp.data.data() + i * kPage, &hit);
      }
    }
  }
  res->pagemapScan = useScan;
  res->ok = true;
}

}  // namespace

// The JS walk costs ~70 us per thread in readFileSync overhead; here it is three syscalls per thread.
bool TreeDescendants(int root, std::vector<int>* out) {
  out->clear();
  std::set<int> seen{root};
  std::deque<int> queue{root};
  char buf[4096];
  while (!queue.empty()) {
    int pid = queue.front();
    queue.pop_front();
    std::string task = "/proc/" + std::to_string(pid) + "/task";
    DIR* d = opendir(task.c_str());
    if (d == nullptr) continue;  // exited
    while (struct dirent* e = readdir(d)) {
      if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
      std::string path = task + "/" + e->d_name + "/children";
      int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
      if (fd < 0) {
        if (errno == ENOENT && pid == root && std::to_string(pid) == e->d_name) {
          struct stat st;
          if (stat((task + "/" + e->d_name + "/stat").c_str(), &st) == 0) {
            closedir(d);
            return false;  // no CONFIG_PROC_CHILDREN
          }
        }
        continue;  // the thread exited meanwhile
      }
      std::string text;
      for (;;) {
        ssize_t n = read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        text.append(buf, static_cast<size_t>(n));
      }
      close(fd);
      int cur = 0;
      bool in = false;
      for (char c : text) {
        if (c >= '0' && c <= '9') {
          cur = cur * 10 + (c - '0');
          in = true;
        } else if (in) {
          if (seen.insert(cur).second) {
            out->push_back(cur);
            queue.push_back(cur);
          }
          cur = 0;
          in = false;
        }
      }
      if (in && seen.insert(cur).second) {
        out->push_back(cur);
        queue.push_back(cur);
      }
    }
    closedir(d);
  }
  return true;
}

void TreeCodeScan(const std::vector<TreeJob>& jobs, std::vector<TreeJobResult>* out) {
  out->clear();
  out->resize(jobs.size());
  const uint64_t fileDeadline = MonotonicNow() + kFileDeadlineNs;
  for (size_t i = 0; i < jobs.size(); ++i) ScanJob(jobs[i], fileDeadline, &(*out)[i]);
}

}  // namespace pg
