// Safe access to this process's own memory. One implementation per OS (memory_linux.cc,
// memory_win.cc, memory_posix.cc). Reads never dereference a pointer into memory that may be
// unmapped: they go through the kernel (process_vm_readv / ReadProcessMemory) and fail cleanly.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace pg {

size_t PageSize();

// Copies up to `len` bytes at `addr` into `out`. Returns bytes copied (short at the first
// unreadable page), 0 if the first page is unreadable. Sets *err to errno on failure.
size_t SafeRead(uintptr_t addr, void* out, size_t len, int* err);

// Reads `count` page-aligned, page-sized chunks described by `addrs` into consecutive
// page slots of `out` with as few syscalls as possible. `ok[i]` is set to 1 for pages read.
// Returns the number of pages read.
size_t SafeReadPages(const uintptr_t* addrs, size_t count, uint8_t* out, uint8_t* ok);

// mincore(): one byte per page, 1 = resident. False when unsupported or the range is unmapped.
bool Residency(uintptr_t addr, size_t len, std::vector<uint8_t>* out, int* err);

// /proc/self/pagemap, opened once (before hardening: PR_SET_DUMPABLE 0 makes it unopenable).
bool OpenPagemap(int* err, std::string* detail);
bool PagemapOpen();
// Per page: 0 not present, 1 present and file-backed, 2 present and anonymous (a private
// file page that was written is copied-on-write and turns anonymous: a tamper signal).
bool PagemapStates(uintptr_t addr, size_t len, std::vector<uint8_t>* out, int* err);

struct ExecRegion {
  uintptr_t start = 0, end = 0;
  std::string protect;     // e.g. "r-x", "rwx"
  std::string path;        // module or mapped file path, empty when anonymous
  std::string type;        // "image" | "mapped" | "private"
};
// Windows: every committed executable region (VirtualQuery walk + module names).
// Linux uses the /proc/self/maps parser in TypeScript instead; returns false there.
bool ExecutableRegions(std::vector<ExecRegion>* out, int* err);

}  // namespace pg
