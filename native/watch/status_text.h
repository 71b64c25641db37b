// Reading a /proc/<pid>/status text (or a thread's task/<tid>/status), shared by the kernel watch loop
// (watch_linux.cc: this process's threads) and the tree's fast loop (tree_sentinel_linux.cc: each
// child's threads): one pass over the lines that folds the isolation lines into a signature and picks
// out TracerPid and Threads. Pure text work on a buffer the caller read; the typed parse of the same
// text for the findings is the TS one (src/procfs/status.ts).
#pragma once
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <utility>

namespace pg {

// FNV-1a, for signatures compared only with themselves.
struct Fnv {
  uint64_t h = 1469598103934665603ull;
  void mix(const void* p, size_t n) {
    for (size_t i = 0; i < n; ++i) {
      h ^= static_cast<const uint8_t*>(p)[i];
      h *= 1099511628211ull;
    }
  }
  template <typename T>
  void val(const T& v) {
    mix(&v, sizeof v);
  }
};

// The value of `key` ("TracerPid:") in a status text, up to the end of its line; {nullptr, 0} if absent.
inline std::pair<const char*, size_t> StatusField(const char* text, size_t len, const char* key) {
  const size_t klen = strlen(key);
  const char* p = text;
  const char* end = text + len;
  while (p < end) {
    const char* nl = static_cast<const char*>(memchr(p, '\n', static_cast<size_t>(end - p)));
    const char* le = nl ? nl : end;
    if (static_cast<size_t>(le - p) >= klen && memcmp(p, key, klen) == 0)
      return {p + klen, static_cast<size_t>(le - p - klen)};
    p = le + 1;
  }
  return {nullptr, 0};
}

struct StatusLines {
  uint64_t isolation = Fnv().h;  // FNV-1a of the whole lines whose key is in the caller's list
  int tracerPid = 0;             // TracerPid (0 when absent)
  long threads = -1;             // Threads (-1 when absent: a thread's own status has it too)
};

// One pass over `text`: the lines starting with one of `keys` (e.g. "Seccomp:", each with its colon)
// are hashed whole, in text order; TracerPid and Threads are read whether or not they are in `keys`.
template <size_t N>
StatusLines ScanStatus(const char* text, size_t n, const char* const (&keys)[N]) {
  StatusLines s;
  Fnv f;
  const char* p = text;
  const char* end = text + n;
  while (p < end) {
    const char* nl = static_cast<const char*>(memchr(p, '\n', static_cast<size_t>(end - p)));
    const char* le = nl ? nl : end;
    const size_t len = static_cast<size_t>(le - p);
    if (len > 8 && memcmp(p, "Threads:", 8) == 0) s.threads = strtol(p + 8, nullptr, 10);
    if (len > 10 && memcmp(p, "TracerPid:", 10) == 0) s.tracerPid = static_cast<int>(strtol(p + 10, nullptr, 10));
    for (const char* key : keys) {
      if (*p != *key) continue;
      const size_t kl = strlen(key);
      if (len >= kl && memcmp(p, key, kl) == 0) {
        f.mix(p, len);
        break;
      }
    }
    p = le + 1;
  }
  s.isolation = f.h;
  return s;
}

}  // namespace pg
