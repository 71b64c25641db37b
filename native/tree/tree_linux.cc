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
#include <unistd.h>

#include <dirent.h>

#include <cstring>
#include <deque>
#include <map>
#include <set>
#include <utility>

#include "memory.h"  // ReadFileAt
#include "pagemap_scan_linux.h"
#include "tree.h"

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

// Opens `r.path` and checks it is the mapped file (same device and inode): a path can be replaced
// after mapping, and comparing with another file would report nonsense.
int OpenMatching(const TreeRegion& r, std::string* why) {
  int fd = open(r.path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) {
    *why = "open " + r.path + ": " + strerror(errno);
    return -1;
  }
  struct stat st;
  if (fstat(fd, &st) != 0 || major(st.st_dev) != r.devMajor || minor(st.st_dev) != r.devMinor ||
      static_cast<uint64_t>(st.st_ino) != r.ino) {
    *why = r.path + " is no longer the mapped file (device/inode differ)";
    close(fd);
    return -1;
  }
  return fd;
}

bool ReadRemotePage(int pid, uint64_t addr, uint8_t* buf, int* err) {
  struct iovec local = {buf, kPage};
  struct iovec remote = {reinterpret_cast<void*>(static_cast<uintptr_t>(addr)), kPage};
  ssize_t n = process_vm_readv(pid, &local, 1, &remote, 1, 0);
  if (n == static_cast<ssize_t>(kPage)) return true;
  *err = n < 0 ? errno : EFAULT;
  return false;
}

void ScanJob(const TreeJob& job, TreeJobResult* res) {
  res->pid = job.pid;
  std::string pm = "/proc/" + std::to_string(job.pid) + "/pagemap";
  Fd pagemap(open(pm.c_str(), O_RDONLY | O_CLOEXEC));
  if (pagemap.fd < 0) {
    res->err = errno;
    res->detail = "open " + pm + ": " + strerror(errno);
    return;
  }
  std::map<std::pair<std::string, uint64_t>, int> files;  // (path, ino) -> fd, -1 when unusable
  std::map<std::pair<std::string, uint64_t>, std::string> fileWhy;
  std::vector<uint64_t> entries(kChunk);
  std::vector<uint8_t> mem(kPage), disk(kPage);
  bool useScan = true;
  for (uint32_t ri = 0; ri < job.regions.size(); ++ri) {
    const TreeRegion& r = job.regions[ri];
    if (r.end <= r.start || (r.start % kPage) != 0) continue;
    uint64_t npages = (r.end - r.start) / kPage;
    res->pages += npages;
    std::vector<uint64_t> written;
    int serr = 0;
    if (useScan && !ScanWritten(pagemap.fd, r.start, r.end, &written, &serr)) {
      if (serr == ENOTTY || serr == EINVAL || serr == ENOSYS || serr == EOPNOTSUPP) {
        useScan = false;  // older kernel (or qemu-user): read pagemap entries from now on
        written.clear();
      } else {
        res->err = serr == 0 ? ESRCH : serr;
        res->detail = "PAGEMAP_SCAN " + pm + ": " + strerror(res->err);
        for (auto& f : files)
          if (f.second >= 0) close(f.second);
        return;
      }
    }
    if (!useScan) {
      for (uint64_t first = 0; first < npages; first += kChunk) {
        size_t n = static_cast<size_t>(std::min<uint64_t>(kChunk, npages - first));
        size_t got = 0;
        int err = 0;
        uint64_t off = ((r.start / kPage) + first) * sizeof(uint64_t);
        if (!ReadFileAt(pagemap.fd, off, entries.data(), n * sizeof(uint64_t), &got, &err) || got == 0) {
          if (err == 0) err = ESRCH;  // EOF: the process exited (its pagemap reads as empty)
          res->err = err;
          res->detail = "read " + pm + ": " + strerror(err);
          for (auto& f : files)
            if (f.second >= 0) close(f.second);
          return;
        }
        res->pagemapBytes += got;
        size_t have = got / sizeof(uint64_t);
        for (size_t i = 0; i < have; ++i) {
          uint64_t e = entries[i];
          if (!(e & (kPresent | kSwapped))) continue;
          if (e & kFilePage) {
            res->filePages++;
            continue;
          }
          written.push_back(r.start + (first + i) * kPage);
        }
        if (have < n) break;  // short read: end of the address space walked
      }
    }
    for (uint64_t addr : written) {
      TreePageHit hit;
      hit.region = ri;
      hit.address = addr;
      hit.fileOffset = r.fileOffset + (addr - r.start);
      auto key = std::make_pair(r.path, r.ino);
      auto it = files.find(key);
      if (it == files.end()) {
        std::string why;
        it = files.emplace(key, OpenMatching(r, &why)).first;
        if (it->second < 0) fileWhy[key] = why;
      }
      int rerr = 0;
      if (!ReadRemotePage(job.pid, hit.address, mem.data(), &rerr)) {
        hit.state = "unreadable";
        hit.detail = std::string("process_vm_readv: ") + strerror(rerr);
      } else if (it->second < 0) {
        hit.state = "unreadable";
        hit.detail = fileWhy[key];
      } else {
        size_t fgot = 0;
        int ferr = 0;
        std::memset(disk.data(), 0, kPage);  // past EOF the mapping reads as zeros
        if (!ReadFileAt(it->second, hit.fileOffset, disk.data(), kPage, &fgot, &ferr)) {
          hit.state = "unreadable";
          hit.detail = std::string("pread: ") + strerror(ferr);
        } else {
          res->readBytes += 2 * kPage;
          for (size_t b = 0; b < kPage; ++b) {
            if (mem[b] != disk[b]) {
              if (hit.firstDiff < 0) {
                hit.firstDiff = static_cast<int64_t>(b);
                hit.fileByte = disk[b];
                hit.memByte = mem[b];
              }
              hit.diffBytes++;
            }
          }
          hit.state = hit.firstDiff >= 0 ? "modified" : "equal";
        }
      }
      res->hits.push_back(std::move(hit));
    }
  }
  for (auto& f : files)
    if (f.second >= 0) close(f.second);
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
  for (size_t i = 0; i < jobs.size(); ++i) ScanJob(jobs[i], &(*out)[i]);
}

}  // namespace pg
