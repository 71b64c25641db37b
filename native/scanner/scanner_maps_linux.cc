// MapsSnapshot on Linux: /proc/self/maps, parsed only as far as the probe needs.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <mutex>

#include "file_view.h"
#include "memory.h"
#include "scanner_maps.h"

namespace pg {

bool MapsSnapshot::Load() {
  entries_.clear();
  loaded_ = false;
  int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  std::string text;
  char buf[65536];
  for (;;) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0) {
      close(fd);
      return false;
    }
    if (n == 0) break;
    text.append(buf, static_cast<size_t>(n));
  }
  close(fd);
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string::npos) nl = text.size();
    std::string line = text.substr(pos, nl - pos);
    pos = nl + 1;
    unsigned long long start = 0, end = 0, offset = 0, inode = 0;
    char perms[8] = {0}, dev[32] = {0};
    int consumed = 0;
    if (sscanf(line.c_str(), "%llx-%llx %7s %llx %31s %llu%n", &start, &end, perms, &offset, dev, &inode, &consumed) <
        6)
      continue;
    Entry e{static_cast<uintptr_t>(start), static_cast<uintptr_t>(end), perms[2] == 'x', offset, ""};
    const char* rest = line.c_str() + consumed;
    while (*rest == ' ') ++rest;
    if (inode != 0) e.key = std::string(dev) + ":" + std::to_string(inode);
    else if (std::strcmp(rest, "[vdso]") == 0) e.key = "vdso", e.offset = 0;
    entries_.push_back(std::move(e));
  }
  loaded_ = true;
  return true;
}

bool MapsSnapshot::Shows(uintptr_t addr, const std::string& fileKey, uint64_t fileOffset) const {
  for (const Entry& e : entries_) {
    if (addr < e.start || addr >= e.end) continue;
    return e.exec && e.key == fileKey && e.offset + (addr - e.start) == fileOffset;
  }
  return false;
}

bool FileBackedPages(uint64_t* pages) {
  // The fd is kept: one pread is ~1 us, an open/read/close ~6 us, ten times a second.
  static const int fd = open("/proc/self/statm", O_RDONLY | O_CLOEXEC);  // 0444: readable after hardening too
  if (fd < 0) return false;
  char buf[128];
  // With no view being populated meanwhile: its pages are in statm and in ViewMappedPages, or in neither.
  std::unique_lock<std::mutex> lock(ViewCountMutex());
  ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
  const uint64_t views = ViewMappedPages();
  lock.unlock();
  if (n <= 0) return false;
  // "size resident shared ...": three decimal fields (by hand: sscanf is a visible share of a tick).
  uint64_t v[3] = {0, 0, 0};
  const char* p = buf;
  const char* end = buf + n;
  for (uint64_t& f : v) {
    while (p < end && *p == ' ') ++p;
    if (p == end || *p < '0' || *p > '9') return false;
    while (p < end && *p >= '0' && *p <= '9') f = f * 10 + static_cast<uint64_t>(*p++ - '0');
  }
  *pages = v[2] - std::min<uint64_t>(v[2], views);  // the engine's own views are not the app's
  return true;
}

bool PageTableEntries(uintptr_t addr, size_t len, std::vector<uint64_t>* out) {
  int err = 0;
  return PagemapEntries(addr, len, out, &err);
}

}  // namespace pg
