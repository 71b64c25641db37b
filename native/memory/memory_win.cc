// Windows: safe reads of our own memory through ReadProcessMemory, residency and the tamper
// sentinel through QueryWorkingSetEx, and executable regions from a VirtualQuery walk.
//
// Run under Wine with the official node.exe (npm run test:windows); the QueryWorkingSetEx
// sentinel cannot run there (see OpenPagemap) and has not run on real Windows.
//
// - ReadProcessMemory(GetCurrentProcess()) copies through the kernel, which probes the source:
//   an address that is unmapped (a module unloaded mid-sweep) or not readable fails with
//   ERROR_NOACCESS / ERROR_PARTIAL_COPY instead of raising an access violation. A copy that
//   crosses into a bad page fails as a whole (the reported count is not reliable on every
//   Windows version), so after a failure we retry one page at a time, like the Linux version.
// - QueryWorkingSetEx: per page, Valid = in this process's working set (the mincore analogue;
//   a page on the standby list is not Valid although touching it costs only a soft fault), and
//   Shared = the page is still the shared (prototype) copy of its section. Writing to an image
//   page copies it on write into a private page, which clears Shared: the same signal as
//   Linux's pagemap bit 61, with no handle to open. A page trimmed from the working set after
//   the write is not Valid and escapes the sentinel (the full sweep still hashes it).
// - VirtualQuery walk: every committed region with an execute protection, including private
//   (non-image) executable memory such as JIT code or injected shellcode, which a module list
//   alone would miss.
#include <uv.h>  // first: it includes winsock2.h, which must precede windows.h

#include "platform/win32.h"
#include <psapi.h>

#include <errno.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <map>
#include <utility>

#include "memory.h"

namespace pg {

namespace {

constexpr size_t kPage = 4096;     // digest granularity; also the x64/arm64 Windows page size
constexpr size_t kWsBatch = 4096;  // QueryWorkingSetEx entries per call (64 KiB of entries)
std::atomic<bool> g_sentinelOpen{false};

// Win32 error -> errno value (the interface reports errno values on every OS).
int ToErrno(DWORD e) {
  switch (e) {
    case ERROR_PARTIAL_COPY:
    case ERROR_NOACCESS:
    case ERROR_INVALID_ADDRESS:
      return EFAULT;
    case ERROR_INVALID_HANDLE:
      return EBADF;
    case ERROR_ACCESS_DENIED:
      return EACCES;
    case ERROR_NOT_ENOUGH_MEMORY:
    case ERROR_OUTOFMEMORY:
      return ENOMEM;
    case ERROR_INVALID_PARAMETER:
      return EINVAL;
    default:
      return EIO;
  }
}

bool ReadOnce(uintptr_t addr, void* out, size_t len) {
  SIZE_T n = 0;
  return ReadProcessMemory(GetCurrentProcess(), reinterpret_cast<LPCVOID>(addr), out, len, &n) && n == len;
}

// True when every byte of [addr, addr+len) is committed memory. mincore's ENOMEM analogue: the
// sweep treats a range that is no longer (fully) mapped as gone.
bool Committed(uintptr_t addr, size_t len) {
  uintptr_t end = addr + len, p = addr;
  while (p < end) {
    MEMORY_BASIC_INFORMATION mbi;
    if (VirtualQuery(reinterpret_cast<LPCVOID>(p), &mbi, sizeof mbi) == 0) return false;
    if (mbi.State != MEM_COMMIT) return false;
    uintptr_t next = reinterpret_cast<uintptr_t>(mbi.BaseAddress) + mbi.RegionSize;
    if (next <= p) return false;
    p = next;
  }
  return true;
}

// QueryWorkingSetEx over the pages of [addr, addr+len); calls f(index, block) per page.
template <typename F>
bool WorkingSet(uintptr_t addr, size_t len, int* err, F f) {
  const size_t pages = (len + kPage - 1) / kPage;
  std::vector<PSAPI_WORKING_SET_EX_INFORMATION> info(std::min(pages, kWsBatch));
  for (size_t done = 0; done < pages;) {
    size_t n = std::min(info.size(), pages - done);
    for (size_t k = 0; k < n; ++k) {
      std::memset(&info[k], 0, sizeof info[k]);
      info[k].VirtualAddress = reinterpret_cast<PVOID>(addr + (done + k) * kPage);
    }
    if (!QueryWorkingSetEx(GetCurrentProcess(), info.data(), static_cast<DWORD>(n * sizeof info[0]))) {
      if (err) *err = ToErrno(GetLastError());
      return false;
    }
    for (size_t k = 0; k < n; ++k) f(done + k, info[k].VirtualAttributes);
    done += n;
  }
  return true;
}

std::string Utf8(const wchar_t* w, size_t len) {
  if (len == 0) return std::string();
  int n = WideCharToMultiByte(CP_UTF8, 0, w, static_cast<int>(len), nullptr, 0, nullptr, nullptr);
  if (n <= 0) return std::string();
  std::string s(static_cast<size_t>(n), '\0');
  WideCharToMultiByte(CP_UTF8, 0, w, static_cast<int>(len), &s[0], n, nullptr, nullptr);
  return s;
}

// NT device prefixes ("\Device\HarddiskVolume3") -> drive letters ("C:"), for GetMappedFileNameW.
std::vector<std::pair<std::wstring, std::wstring>> DeviceMap() {
  std::vector<std::pair<std::wstring, std::wstring>> out;
  wchar_t drives[512];
  DWORD n = GetLogicalDriveStringsW(static_cast<DWORD>(sizeof drives / sizeof drives[0]) - 1, drives);
  if (n == 0 || n >= sizeof drives / sizeof drives[0]) return out;
  for (const wchar_t* d = drives; *d; d += wcslen(d) + 1) {
    wchar_t letter[3] = {d[0], L':', 0};
    wchar_t target[MAX_PATH];
    if (QueryDosDeviceW(letter, target, MAX_PATH)) out.emplace_back(target, letter);
  }
  return out;
}

// Path of the file mapped at `base`: the loader's name for a module (a Win32 path), else the
// section's file name, with the NT device prefix turned back into a drive letter when known.
std::string MappedPath(uintptr_t base, bool image, const std::vector<std::pair<std::wstring, std::wstring>>& devices) {
  std::vector<wchar_t> buf(MAX_PATH);
  if (image) {
    for (;;) {
      DWORD n = GetModuleFileNameW(reinterpret_cast<HMODULE>(base), buf.data(), static_cast<DWORD>(buf.size()));
      if (n == 0) break;  // not in the loader's list (mapped as an image by hand): use the section name
      if (n < buf.size()) return Utf8(buf.data(), n);
      if (buf.size() >= 32768) break;
      buf.resize(buf.size() * 2);
    }
  }
  buf.assign(32768, 0);
  DWORD n = GetMappedFileNameW(GetCurrentProcess(), reinterpret_cast<LPVOID>(base), buf.data(),
                               static_cast<DWORD>(buf.size()));
  if (n == 0) return std::string();
  std::wstring p(buf.data(), n);
  for (const auto& d : devices) {
    if (p.size() > d.first.size() && p.compare(0, d.first.size(), d.first) == 0 && p[d.first.size()] == L'\\')
      return Utf8((d.second + p.substr(d.first.size())).c_str(), d.second.size() + p.size() - d.first.size());
  }
  return Utf8(p.c_str(), p.size());
}

const char* ExecProtect(DWORD protect) {
  switch (protect & 0xff) {  // the high bits are modifiers (PAGE_GUARD, PAGE_NOCACHE, ...)
    case PAGE_EXECUTE:
      return "--x";
    case PAGE_EXECUTE_READ:
      return "r-x";
    case PAGE_EXECUTE_READWRITE:
      return "rwx";
    case PAGE_EXECUTE_WRITECOPY:
      return "rwx";  // writable, copy-on-write: a write makes the page private
    default:
      return nullptr;
  }
}

}  // namespace

size_t PageSize() {
  static const size_t size = [] {
    SYSTEM_INFO si;
    GetSystemInfo(&si);
    return static_cast<size_t>(si.dwPageSize);
  }();
  return size;
}

size_t SafeRead(uintptr_t addr, void* out, size_t len, int* err) {
  if (err) *err = 0;
  if (len == 0) return 0;
  if (ReadOnce(addr, out, len)) return len;
  // Failed somewhere: copy page by page up to the first unreadable page.
  size_t done = 0;
  while (done < len) {
    size_t chunk = std::min(len - done, kPage - ((addr + done) % kPage));
    if (!ReadOnce(addr + done, static_cast<uint8_t*>(out) + done, chunk)) {
      if (err) *err = ToErrno(GetLastError());
      break;
    }
    done += chunk;
  }
  return done;
}

size_t SafeReadPages(const uintptr_t* addrs, size_t count, uint8_t* out, uint8_t* ok) {
  size_t read = 0;
  std::memset(ok, 0, count);
  size_t i = 0;
  while (i < count) {
    // One ReadProcessMemory per run of adjacent pages.
    size_t first = i;
    ++i;
    while (i < count && addrs[i] == addrs[i - 1] + kPage) ++i;
    if (ReadOnce(addrs[first], out + first * kPage, (i - first) * kPage)) {
      std::memset(ok + first, 1, i - first);
      read += i - first;
      continue;
    }
    // A hole (a module unloaded mid-sweep): retry the run page by page so it hides nothing after it.
    for (size_t k = first; k < i; ++k) {
      if (ReadOnce(addrs[k], out + k * kPage, kPage)) {
        ok[k] = 1;
        ++read;
      }
    }
  }
  return read;
}

bool Residency(uintptr_t addr, size_t len, std::vector<uint8_t>* out, int* err) {
  out->assign((len + kPage - 1) / kPage, 0);
  if (!Committed(addr, len)) {
    if (err) *err = ENOMEM;
    return false;
  }
  return WorkingSet(addr, len, err,
                    [out](size_t i, const PSAPI_WORKING_SET_EX_BLOCK& b) { (*out)[i] = b.Valid ? 1 : 0; });
}

// Wine's version string when running under Wine (ntdll exports wine_get_version), else null.
const char* WineVersion() {
  HMODULE ntdll = GetModuleHandleW(L"ntdll.dll");
  if (!ntdll) return nullptr;
  using Fn = const char*(__cdecl*)();
  auto fn = reinterpret_cast<Fn>(reinterpret_cast<void*>(GetProcAddress(ntdll, "wine_get_version")));
  return fn ? fn() : nullptr;
}

bool OpenPagemap(int* err, std::string* detail) {
  // Nothing to open: QueryWorkingSetEx on our own process needs no handle beyond the
  // GetCurrentProcess() pseudo-handle (PROCESS_QUERY_INFORMATION is implied), and a restrictive
  // process DACL (harden()) does not affect it.
  //
  // Under Wine the signal does not exist: Wine copies image sections into private memory, so
  // every resident code page reports Shared = 0, as if written (measured: Wine 8.0). Running the
  // sentinel there would re-hash every resident page on every tick and prove nothing, so it stays
  // off; the paced full sweep still covers the code.
  if (const char* wine = WineVersion()) {
    *err = ENOTSUP;
    *detail = std::string("wine ") + wine +
              ": QueryWorkingSetEx reports every image page as private (Wine copies image sections), so the "
              "working-set sentinel cannot see a write; off (unverified), the full sweep still runs";
    return false;
  }
  bool was = g_sentinelOpen.exchange(true);
  *detail =
      was ? "already open" : "open (QueryWorkingSetEx: the Shared bit clears when an image page is copied on write)";
  return true;
}

bool PagemapOpen() { return g_sentinelOpen.load(); }

bool PagemapStates(uintptr_t addr, size_t len, std::vector<uint8_t>* out, int* err) {
  if (!g_sentinelOpen.load()) {
    if (err) *err = EBADF;  // the scanner's "never opened" signal, as on Linux
    return false;
  }
  out->assign((len + kPage - 1) / kPage, 0);
  if (!Committed(addr, len)) {
    if (err) *err = ENOMEM;
    return false;
  }
  // 1 = valid and shared (the section's page), 2 = valid and private (written: copied on write),
  // 0 = not in the working set (unknown).
  return WorkingSet(addr, len, err, [out](size_t i, const PSAPI_WORKING_SET_EX_BLOCK& b) {
    (*out)[i] = !b.Valid ? 0 : b.Shared ? 1 : 2;
  });
}

bool ExecutableRegions(std::vector<ExecRegion>* out, int* err) {
  SYSTEM_INFO si;
  GetSystemInfo(&si);
  const uintptr_t lo = reinterpret_cast<uintptr_t>(si.lpMinimumApplicationAddress);
  const uintptr_t hi = reinterpret_cast<uintptr_t>(si.lpMaximumApplicationAddress);

  // Pass 1: every region of the address space (free ones too), in address order.
  std::vector<MEMORY_BASIC_INFORMATION> all;
  for (uintptr_t p = lo; p < hi;) {
    MEMORY_BASIC_INFORMATION mbi;
    if (VirtualQuery(reinterpret_cast<LPCVOID>(p), &mbi, sizeof mbi) == 0) {
      if (err) *err = ToErrno(GetLastError());
      return false;
    }
    all.push_back(mbi);
    uintptr_t next = reinterpret_cast<uintptr_t>(mbi.BaseAddress) + mbi.RegionSize;
    if (next <= p) break;  // cannot happen; never loop forever
    p = next;
  }

  // Pass 2: the extent of each allocation (all regions sharing an AllocationBase are adjacent).
  std::map<uintptr_t, uintptr_t> allocEnd;
  for (const auto& m : all) {
    if (m.State == MEM_FREE) continue;
    uintptr_t base = reinterpret_cast<uintptr_t>(m.AllocationBase);
    uintptr_t end = reinterpret_cast<uintptr_t>(m.BaseAddress) + m.RegionSize;
    auto it = allocEnd.find(base);
    if (it == allocEnd.end()) allocEnd.emplace(base, end);
    else it->second = std::max(it->second, end);
  }

  // Pass 3: committed executable regions. PAGE_GUARD regions are skipped: touching one, even
  // through ReadProcessMemory, would consume the guard.
  const auto devices = DeviceMap();
  std::map<uintptr_t, std::string> paths;
  out->clear();
  for (const auto& m : all) {
    if (m.State != MEM_COMMIT || (m.Protect & PAGE_GUARD)) continue;
    const char* prot = ExecProtect(m.Protect);
    if (!prot) continue;
    ExecRegion r;
    r.start = reinterpret_cast<uintptr_t>(m.BaseAddress);
    r.end = r.start + m.RegionSize;
    r.protect = prot;
    r.allocationBase = reinterpret_cast<uintptr_t>(m.AllocationBase);
    r.allocationEnd = allocEnd[r.allocationBase];
    if (m.Type == MEM_IMAGE || m.Type == MEM_MAPPED) {
      r.type = m.Type == MEM_IMAGE ? "image" : "mapped";
      auto it = paths.find(r.allocationBase);
      if (it == paths.end())
        it = paths.emplace(r.allocationBase, MappedPath(r.allocationBase, m.Type == MEM_IMAGE, devices)).first;
      r.path = it->second;
    } else {
      r.type = "private";  // VirtualAlloc'd executable memory: a JIT, a trampoline, or injected code
    }
    out->push_back(std::move(r));
  }
  return true;
}

bool ReadFileAt(int fd, uint64_t offset, void* buf, size_t len, size_t* got, int* err) {
  // The fd comes from Node's CRT (fs.openSync); the addon links its own CRT with its own fd table,
  // so _get_osfhandle here would not know it. libuv exports the lookup in Node's CRT.
  HANDLE h = reinterpret_cast<HANDLE>(uv_get_osfhandle(fd));
  *got = 0;
  if (h == INVALID_HANDLE_VALUE || h == nullptr) {
    *err = EBADF;
    return false;
  }
  size_t done = 0;
  while (done < len) {
    // A positioned read. On a synchronous handle this also moves the handle's file pointer;
    // procguard only ever reads these fds at explicit positions, so that is harmless.
    OVERLAPPED ov;
    std::memset(&ov, 0, sizeof ov);
    uint64_t pos = offset + done;
    ov.Offset = static_cast<DWORD>(pos & 0xffffffffu);
    ov.OffsetHigh = static_cast<DWORD>(pos >> 32);
    DWORD want = static_cast<DWORD>(std::min<size_t>(len - done, 1u << 30));
    DWORD n = 0;
    if (!ReadFile(h, static_cast<uint8_t*>(buf) + done, want, &n, &ov)) {
      DWORD e = GetLastError();
      if (e == ERROR_HANDLE_EOF) break;
      *err = ToErrno(e);
      *got = done;
      return false;
    }
    if (n == 0) break;  // EOF
    done += n;
  }
  *got = done;
  return true;
}

bool WrittenPages(uintptr_t addr, size_t len, std::vector<uint32_t>* pages, int* err) {
  return WrittenPagesFromStates(addr, len, pages, err);
}

}  // namespace pg
