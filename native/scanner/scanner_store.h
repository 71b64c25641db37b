// What the engine remembers between passes, shared by the pass thread, the priority thread and the
// sentinel thread (each access takes the lock; none holds it while reading memory or files):
// - the baseline: 16 bytes per page keyed by (file, page index in the file), never by address, so
//   the mprotect-write-mprotect hook (which splits a mapping) or an unmap/remap cannot re-baseline
//   a page. With the on-disk comparison on, a page's baseline is the file's digest at first sight:
//   the page-cache digest of (dev, inode, offset), which other processes mapping the same file can
//   reuse (PageCacheDigests).
// - the files: one descriptor per mapped file (a dup of the fd the JS side opened and checked to be
//   the mapped inode), used for the reads that do not go through memory.
// - progress of the running full pass, read by a cheap synchronous call from JS.
#pragma once
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "file_view.h"

namespace pg {

class DigestStore {
 public:
  // Copies the digests of pages [first, first + n) of `key` into `out` (zero where unknown). True
  // when any page of the range has a digest.
  bool Get(const std::string& key, uint64_t first, size_t n, uint8_t* out) const;
  // Keeps storage for the whole range (one allocation, so later Puts of parts of it are copies).
  void Reserve(const std::string& key, uint64_t first, size_t n);
  // Keeps storage for the whole range and writes the known slots of `in` (unknown ones are left).
  void Put(const std::string& key, uint64_t first, size_t n, const uint8_t* in);
  bool Has(const std::string& key) const;
  size_t Bytes() const;

 private:
  struct Segment {
    uint64_t first = 0;
    std::vector<uint8_t> digests;
    uint64_t end() const;
  };
  Segment& Cover(const std::string& key, uint64_t first, uint64_t end);
  std::unordered_map<std::string, std::vector<Segment>> files_;
  mutable std::mutex mu_;
};

// An open file the engine reads from; closed when the last user lets go.
struct FileRef {
  explicit FileRef(int f) : fd(f) {}
  ~FileRef();
  FileRef(const FileRef&) = delete;
  FileRef& operator=(const FileRef&) = delete;
  const int fd;
  // The zero-copy view of the file (file_view.h), opened on first use; null when it cannot be.
  FileView* View();

 private:
  std::once_flag viewOnce_;
  std::unique_ptr<FileView> view_;
};

class FileTable {
 public:
  // Takes a duplicate of `fd` for `key` (the caller keeps and closes its own). False with errno
  // when the OS has no fd duplication the engine can use (Windows: CRT fds are per module).
  bool Adopt(const std::string& key, int fd, int* err);
  std::shared_ptr<FileRef> Get(const std::string& key) const;
  void Drop(const std::string& key);
  void Clear();

 private:
  std::unordered_map<std::string, std::shared_ptr<FileRef>> files_;
  mutable std::mutex mu_;
};

struct Progress {
  std::atomic<bool> active{false};
  std::atomic<uint64_t> done{0}, total{0};
  std::atomic<double> lastMs{0};
};

struct Engine {
  DigestStore store;
  FileTable files;
  Progress progress;
};

}  // namespace pg
