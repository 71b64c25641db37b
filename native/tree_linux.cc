// Linux: code check of a child process through /proc/<pid>/pagemap and process_vm_readv(pid).
// A private file page that pagemap still shows as file-backed IS the page-cache page (the main's
// disk and page-cache checks cover it, keyed by (dev, inode, offset)); only a page that is present
// (or swapped) and anonymous inside a file-backed executable mapping was copied-on-write, i.e.
// written, and needs reading and comparing with the file.
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cstring>
#include <map>
#include <utility>

#include "memory.h"  // ReadFileAt
#include "tree.h"

namespace pg {
namespace {

constexpr uint64_t kPage = 4096;
constexpr uint64_t kPresent = 1ull << 63;
constexpr uint64_t kSwapped = 1ull << 62;
constexpr uint64_t kFilePage = 1ull << 61;
constexpr size_t kChunk = 512;  // pagemap entries per pread (4 KiB)

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
  for (uint32_t ri = 0; ri < job.regions.size(); ++ri) {
    const TreeRegion& r = job.regions[ri];
    if (r.end <= r.start || (r.start % kPage) != 0) continue;
    uint64_t npages = (r.end - r.start) / kPage;
    res->pages += npages;
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
        TreePageHit hit;
        hit.region = ri;
        hit.address = r.start + (first + i) * kPage;
        hit.fileOffset = r.fileOffset + (first + i) * kPage;
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
      if (have < n) break;  // short read: end of the address space walked
    }
  }
  for (auto& f : files)
    if (f.second >= 0) close(f.second);
  res->ok = true;
}

}  // namespace

void TreeCodeScan(const std::vector<TreeJob>& jobs, std::vector<TreeJobResult>* out) {
  out->clear();
  out->resize(jobs.size());
  for (size_t i = 0; i < jobs.size(); ++i) ScanJob(jobs[i], &(*out)[i]);
}

}  // namespace pg
