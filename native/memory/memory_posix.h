// What memory_posix.cc (the macOS and FreeBSD implementation of memory.h) needs from the per-OS
// file binding.gyp builds with it: memory_darwin.cc or memory_freebsd.cc.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace pg {
namespace posix {

constexpr size_t kChunk = 4096;  // digest granularity; divides every OS page size (4 or 16 KiB)

// One entry of the address space walk (any protection), before filtering to executable ones.
struct Mapping {
  uintptr_t start = 0, end = 0;
  bool r = false, w = false, x = false;
  bool anonymous = false;  // not backed by a file: candidate part of a JIT reservation
  bool file = false;
  std::string path;
  int64_t offset = -1;
  bool hasFileId = false;
  uint64_t dev = 0, ino = 0;
};

// Copies [addr, addr+len) through the kernel, never dereferencing `addr`: all or nothing, false
// (with *err set) on an unmapped or unreadable byte. Called with `len` <= kChunk inside one page.
bool CopyChunk(uintptr_t addr, void* out, size_t len, int* err);
// The same for a range of any length in one call, where the OS can (macOS); false where it cannot
// (FreeBSD) or on a failure: the caller then copies chunk by chunk.
bool CopyRun(uintptr_t addr, void* out, size_t len, int* err);
// Every mapping of the process (any protection), address-ordered.
bool WalkMappings(std::vector<Mapping>* all, int* err);

}  // namespace posix
}  // namespace pg
