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

// Which kernel path SafeRead/SafeReadPages use (Linux). Decided by the first read: process_vm_readv,
// or /proc/self/mem when that syscall is refused (ENOSYS, EPERM) and the fd was opened in time
// (OpenPagemap opens it); kNone when neither works: every read then fails.
enum class MemoryReader { kUnknown = 0, kProcessVmReadv, kProcMem, kNone };
struct MemoryReaderState {
  MemoryReader reader = MemoryReader::kUnknown;
  int refusedErrno = 0;    // process_vm_readv's errno when it was given up, else 0
  bool memFdOpen = false;  // /proc/self/mem is held open
};
#if defined(__linux__)
MemoryReaderState MemoryReaderNow();  // Linux only (elsewhere the OS call is the only reader)
#endif

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
// Only the OS pages of the range that are present and anonymous (state 2 above), as page indices
// from `addr`. Linux uses the PAGEMAP_SCAN ioctl (6.7+), which filters in the kernel instead of
// copying 8 bytes per page out, and falls back to PagemapStates.
bool WrittenPages(uintptr_t addr, size_t len, std::vector<uint32_t>* pages, int* err);

// WrittenPages from PagemapStates: the portable path (and Linux's fallback before PAGEMAP_SCAN).
inline bool WrittenPagesFromStates(uintptr_t addr, size_t len, std::vector<uint32_t>* pages, int* err) {
  std::vector<uint8_t> states;
  if (!PagemapStates(addr, len, &states, err)) return false;
  for (size_t i = 0; i < states.size(); ++i)
    if (states[i] == 2) pages->push_back(static_cast<uint32_t>(i));
  return true;
}

#if defined(__linux__)
// Raw /proc/self/pagemap entries, one per OS page of [addr, addr + len): bit 63 present, 62
// swapped, 61 file page (or shared anonymous). Requires OpenPagemap() earlier. Linux only.
bool PagemapEntries(uintptr_t addr, size_t len, std::vector<uint64_t>* out, int* err);
constexpr uint64_t kPagemapPresent = uint64_t(1) << 63;
constexpr uint64_t kPagemapSwapped = uint64_t(1) << 62;
constexpr uint64_t kPagemapFile = uint64_t(1) << 61;
#endif

struct ExecRegion {
  uintptr_t start = 0, end = 0;
  std::string protect;  // e.g. "r-x", "rwx"
  std::string path;     // module or mapped file path (UTF-8), empty when anonymous or unknown
  std::string type;     // "image" | "mapped" | "private"
  // The reservation the region belongs to. Windows: the VirtualAlloc/section allocation
  // (AllocationBase and the extent of all regions sharing it; for an image, the whole module).
  // macOS/FreeBSD: for anonymous memory, the run of adjacent anonymous mappings of any
  // protection around it (V8 reserves its code range as one PROT_NONE block); else start/end.
  uintptr_t allocationBase = 0, allocationEnd = 0;
  // Byte offset of `start` in the mapped file, -1 when the OS does not give one (Windows: an
  // image is laid out by section RVA, so start - allocationBase is an RVA, not a file offset).
  int64_t fileOffset = -1;
  // File identity when the OS reports it with the mapping (FreeBSD kve_vn_fsid/fileid, macOS
  // vnode stat); hasFileId false otherwise (Windows: the TS side stats the module path).
  bool hasFileId = false;
  uint64_t dev = 0, ino = 0;
};
// Windows, macOS, FreeBSD: every executable region (VirtualQuery / mach_vm_region /
// KERN_PROC_VMMAP walk). Linux uses the /proc/self/maps parser in TypeScript instead; returns
// false with ENOSYS there.
bool ExecutableRegions(std::vector<ExecRegion>* out, int* err);

// Positional read of a file the JS side opened with fs.openSync (a libuv/CRT fd: on Windows it
// is mapped to its HANDLE with uv_get_osfhandle, since the addon has its own CRT fd table).
// Reads until `len` bytes or EOF; *got is the byte count (short only at EOF). Does not move a
// shared file position on POSIX (pread). False with an errno value in *err.
bool ReadFileAt(int fd, uint64_t offset, void* buf, size_t len, size_t* got, int* err);

}  // namespace pg
