#include "scanner_store.h"

#include <errno.h>

#include <algorithm>
#include <cstring>

#ifndef _WIN32
#include <fcntl.h>
#include <unistd.h>
#endif

#include "scanner_digest.h"

namespace pg {

uint64_t DigestStore::Segment::end() const { return first + digests.size() / kDigestSize; }

DigestStore::Segment& DigestStore::Cover(const std::string& key, uint64_t first, uint64_t end) {
  std::vector<Segment>& segs = files_[key];
  for (Segment& s : segs)
    if (s.first <= first && s.end() >= end) return s;
  // Merge every segment that overlaps or touches the range into one.
  uint64_t lo = first, hi = end;
  for (const Segment& s : segs)
    if (s.first <= end && s.end() >= first) lo = std::min(lo, s.first), hi = std::max(hi, s.end());
  Segment merged;
  merged.first = lo;
  merged.digests.assign((hi - lo) * kDigestSize, 0);
  std::vector<Segment> keep;
  for (Segment& s : segs) {
    if (s.first <= end && s.end() >= first)
      std::memcpy(merged.digests.data() + (s.first - lo) * kDigestSize, s.digests.data(), s.digests.size());
    else keep.push_back(std::move(s));
  }
  keep.push_back(std::move(merged));
  segs = std::move(keep);
  return segs.back();
}

bool DigestStore::Get(const std::string& key, uint64_t first, size_t n, uint8_t* out) const {
  std::memset(out, 0, n * kDigestSize);
  std::lock_guard<std::mutex> lock(mu_);
  auto it = files_.find(key);
  if (it == files_.end()) return false;
  const uint64_t end = first + n;
  bool any = false;
  for (const Segment& s : it->second) {
    uint64_t lo = std::max(first, s.first), hi = std::min(end, s.end());
    if (lo >= hi) continue;
    uint8_t* o = out + (lo - first) * kDigestSize;
    std::memcpy(o, s.digests.data() + (lo - s.first) * kDigestSize, (hi - lo) * kDigestSize);
    for (uint64_t p = 0; p < hi - lo && !any; ++p) any = IsKnown(o + p * kDigestSize);
  }
  return any;
}

void DigestStore::Reserve(const std::string& key, uint64_t first, size_t n) {
  std::lock_guard<std::mutex> lock(mu_);
  Cover(key, first, first + n);
}

void DigestStore::Put(const std::string& key, uint64_t first, size_t n, const uint8_t* in) {
  std::lock_guard<std::mutex> lock(mu_);
  Segment& s = Cover(key, first, first + n);
  uint8_t* base = s.digests.data() + (first - s.first) * kDigestSize;
  for (size_t p = 0; p < n; ++p)
    if (IsKnown(in + p * kDigestSize)) std::memcpy(base + p * kDigestSize, in + p * kDigestSize, kDigestSize);
}

bool DigestStore::Has(const std::string& key) const {
  std::lock_guard<std::mutex> lock(mu_);
  return files_.count(key) != 0;
}

size_t DigestStore::Bytes() const {
  std::lock_guard<std::mutex> lock(mu_);
  size_t n = 0;
  for (const auto& kv : files_)
    for (const Segment& s : kv.second) n += s.digests.size();
  return n;
}

FileRef::~FileRef() {
  view_.reset();
#ifndef _WIN32
  if (fd >= 0) close(fd);
#endif
}

FileView* FileRef::View() {
  std::call_once(viewOnce_, [this] { view_ = FileView::Open(fd); });
  return view_.get();
}

bool FileTable::Adopt(const std::string& key, int fd, int* err) {
#ifdef _WIN32
  // A libuv fd on Windows belongs to node's C runtime, not the addon's (memory_win.cc reads it
  // through uv_get_osfhandle); there is no portable duplicate to own here.
  (void)key;
  (void)fd;
  *err = ENOSYS;
  return false;
#else
  int dup = fcntl(fd, F_DUPFD_CLOEXEC, 3);
  if (dup < 0) {
    *err = errno;
    return false;
  }
  auto ref = std::make_shared<FileRef>(dup);
  std::lock_guard<std::mutex> lock(mu_);
  files_[key] = std::move(ref);  // a job still holding the previous one keeps it open until done
  return true;
#endif
}

std::shared_ptr<FileRef> FileTable::Get(const std::string& key) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = files_.find(key);
  return it == files_.end() ? nullptr : it->second;
}

void FileTable::Drop(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  files_.erase(key);
}

void FileTable::Clear() {
  std::lock_guard<std::mutex> lock(mu_);
  files_.clear();
}

}  // namespace pg
