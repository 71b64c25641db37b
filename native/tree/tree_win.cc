// The process tree on Windows (see tree.h): descendants from a Toolhelp32 snapshot keyed by pid and
// creation time, each one's command line and sandbox facts, and the code of the main module and the
// loaded DLLs compared with their files. ntdll's NtQueryInformationProcess and the newer kernel32 calls
// are looked up at run time, so the addon's import table stays KERNEL32/ADVAPI32/msvcrt
// (test/package/pack.test.mjs).
#include "platform/win32.h"
#include <psapi.h>
#include <tlhelp32.h>
#include <winternl.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "tree.h"

namespace pg {
namespace {

constexpr size_t kPage = 4096;
constexpr size_t kMaxHits = 64;              // per process and pass: enough to show an attack
constexpr uint64_t kMaxSection = 512 << 20;  // a larger executable section is refused

using NtQueryFn = LONG(NTAPI*)(HANDLE, ULONG, PVOID, ULONG, PULONG);
using MitigationFn = BOOL(WINAPI*)(HANDLE, PROCESS_MITIGATION_POLICY, PVOID, SIZE_T);

NtQueryFn NtQuery() {
  static NtQueryFn fn = reinterpret_cast<NtQueryFn>(
      reinterpret_cast<void*>(GetProcAddress(GetModuleHandleW(L"ntdll.dll"), "NtQueryInformationProcess")));
  return fn;
}

struct Handle {
  HANDLE h = nullptr;
  explicit Handle(HANDLE x) : h(x == INVALID_HANDLE_VALUE ? nullptr : x) {}
  ~Handle() {
    if (h) CloseHandle(h);
  }
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
};

std::string Utf8(const wchar_t* w, size_t n) {
  if (n == 0) return std::string();
  int len = WideCharToMultiByte(CP_UTF8, 0, w, static_cast<int>(n), nullptr, 0, nullptr, nullptr);
  std::string s(len > 0 ? len : 0, '\0');
  if (len > 0) WideCharToMultiByte(CP_UTF8, 0, w, static_cast<int>(n), s.data(), len, nullptr, nullptr);
  return s;
}

std::wstring Wide(const std::string& s) {
  int len = MultiByteToWideChar(CP_UTF8, 0, s.data(), static_cast<int>(s.size()), nullptr, 0);
  std::wstring w(len > 0 ? len : 0, L'\0');
  if (len > 0) MultiByteToWideChar(CP_UTF8, 0, s.data(), static_cast<int>(s.size()), w.data(), len);
  return w;
}

uint64_t CreationTime(HANDLE h) {
  FILETIME c, e, k, u;
  if (!GetProcessTimes(h, &c, &e, &k, &u)) return 0;
  return (static_cast<uint64_t>(c.dwHighDateTime) << 32) | c.dwLowDateTime;
}

std::string ImagePath(HANDLE h) {
  std::wstring w(32768, L'\0');
  DWORD n = static_cast<DWORD>(w.size());
  if (!QueryFullProcessImageNameW(h, 0, w.data(), &n)) return std::string();
  return Utf8(w.data(), n);
}

// Exact-size remote read; false on any failure (the process exited, or the range is not readable).
bool ReadRemote(HANDLE h, uint64_t addr, void* buf, size_t len) {
  SIZE_T got = 0;
  return ReadProcessMemory(h, reinterpret_cast<LPCVOID>(addr), buf, len, &got) && got == len;
}

// The PEB's address (ProcessBasicInformation).
uint64_t PebAddress(HANDLE h) {
  PROCESS_BASIC_INFORMATION pbi{};
  ULONG ret = 0;
  NtQueryFn q = NtQuery();
  if (!q || q(h, ProcessBasicInformation, &pbi, sizeof pbi, &ret) != 0) return 0;
  return reinterpret_cast<uint64_t>(pbi.PebBaseAddress);
}

// The command line: ProcessCommandLineInformation (60, Windows 8.1+) with query-limited rights, else
// from the PEB (ProcessParameters->CommandLine) with PROCESS_VM_READ.
bool CommandLine(HANDLE h, std::string* out, std::string* why) {
  NtQueryFn q = NtQuery();
  if (q) {
    std::vector<uint8_t> buf(65536 + sizeof(UNICODE_STRING));
    ULONG ret = 0;
    if (q(h, 60, buf.data(), static_cast<ULONG>(buf.size()), &ret) == 0) {
      auto* us = reinterpret_cast<UNICODE_STRING*>(buf.data());
      *out = Utf8(us->Buffer, us->Length / sizeof(wchar_t));
      return true;
    }
  }
  uint64_t peb = PebAddress(h);
  uint64_t params = 0;
  // x64 layouts: PEB.ProcessParameters at 0x20; RTL_USER_PROCESS_PARAMETERS.CommandLine at 0x70.
  struct {
    USHORT length, maximum;
    ULONG pad;
    uint64_t buffer;
  } cl{};
  if (peb == 0 || !ReadRemote(h, peb + 0x20, &params, sizeof params) || params == 0 ||
      !ReadRemote(h, params + 0x70, &cl, sizeof cl)) {
    *why = "command line unreadable (error " + std::to_string(GetLastError()) + ")";
    return false;
  }
  std::wstring w(cl.length / sizeof(wchar_t), L'\0');
  if (!w.empty() && !ReadRemote(h, cl.buffer, w.data(), w.size() * sizeof(wchar_t))) {
    *why = "command line unreadable (error " + std::to_string(GetLastError()) + ")";
    return false;
  }
  *out = Utf8(w.data(), w.size());
  return true;
}

void TokenFacts(HANDLE process, TreeProcessInfo* p) {
  HANDLE raw = nullptr;
  if (!OpenProcessToken(process, TOKEN_QUERY, &raw)) {
    p->detail += (p->detail.empty() ? "" : "; ") + std::string("token unreadable (error ") +
                 std::to_string(GetLastError()) + ")";
    return;
  }
  Handle token(raw);
  alignas(8) uint8_t buf[256];
  DWORD len = 0;
  if (GetTokenInformation(token.h, TokenIntegrityLevel, buf, sizeof buf, &len)) {
    PSID sid = reinterpret_cast<TOKEN_MANDATORY_LABEL*>(buf)->Label.Sid;
    UCHAR n = *GetSidSubAuthorityCount(sid);
    if (n > 0) p->integrityRid = static_cast<int>(*GetSidSubAuthority(sid, n - 1));
  }
  DWORD isApp = 0;
  if (GetTokenInformation(token.h, TokenIsAppContainer, &isApp, sizeof isApp, &len)) p->appContainer = isApp ? 1 : 0;
  p->restrictedToken = IsTokenRestricted(token.h) ? 1 : 0;
}

void MitigationFacts(HANDLE h, TreeProcessInfo* p) {
  static MitigationFn get = reinterpret_cast<MitigationFn>(
      reinterpret_cast<void*>(GetProcAddress(GetModuleHandleW(L"kernel32.dll"), "GetProcessMitigationPolicy")));
  if (!get) return;
  PROCESS_MITIGATION_DYNAMIC_CODE_POLICY dyn{};
  if (get(h, ProcessDynamicCodePolicy, &dyn, sizeof dyn)) p->dynamicCodeProhibited = dyn.ProhibitDynamicCode ? 1 : 0;
  PROCESS_MITIGATION_BINARY_SIGNATURE_POLICY sig{};
  if (get(h, ProcessSignaturePolicy, &sig, sizeof sig)) p->microsoftSignedOnly = sig.MicrosoftSignedOnly ? 1 : 0;
  PROCESS_MITIGATION_IMAGE_LOAD_POLICY img{};
  if (get(h, ProcessImageLoadPolicy, &img, sizeof img)) p->noRemoteImages = img.NoRemoteImages ? 1 : 0;
  PROCESS_MITIGATION_STRICT_HANDLE_CHECK_POLICY sh{};
  if (get(h, ProcessStrictHandleCheckPolicy, &sh, sizeof sh))
    p->strictHandleChecks = sh.HandleExceptionsPermanentlyEnabled ? 1 : 0;
}

void DebugFacts(HANDLE h, TreeProcessInfo* p) {
  NtQueryFn q = NtQuery();
  ULONG_PTR port = 0;
  ULONG ret = 0;
  if (q && q(h, ProcessDebugPort, &port, sizeof port, &ret) == 0) p->debugPort = port != 0 ? 1 : 0;
}

// Everything the process lets a same-user reader see; what it refuses is named in detail.
void Describe(HANDLE h, TreeProcessInfo* p) {
  p->exe = ImagePath(h);
  std::string why;
  p->commandLineRead = CommandLine(h, &p->commandLine, &why);
  if (!p->commandLineRead) p->detail = why;
  TokenFacts(h, p);
  BOOL job = FALSE;
  if (IsProcessInJob(h, nullptr, &job)) p->inJob = job ? 1 : 0;
  MitigationFacts(h, p);
  DebugFacts(h, p);
}

// ---- Loaded images compared with their files (pe-sieve's way) ----

struct Section {
  uint32_t rva = 0;
  uint32_t size = 0;  // bytes compared: VirtualSize
  uint32_t rawOffset = 0;
  uint32_t rawSize = 0;
};

struct PeFile {
  uint64_t preferredBase = 0;
  uint32_t sizeOfImage = 0;
  std::vector<Section> exec;
  std::vector<Section> all;
  uint32_t relocRva = 0, relocSize = 0;
};

bool ReadFileAt(HANDLE f, uint64_t off, void* buf, uint32_t len) {
  OVERLAPPED ov{};
  ov.Offset = static_cast<DWORD>(off);
  ov.OffsetHigh = static_cast<DWORD>(off >> 32);
  DWORD got = 0;
  return ReadFile(f, buf, len, &got, &ov) && got == len;
}

// The PE32+ headers: executable sections, every section (to map the relocation RVAs), the relocations.
bool ParsePe(HANDLE f, PeFile* pe, std::string* why, bool* unsupported) {
  IMAGE_DOS_HEADER dos{};
  IMAGE_NT_HEADERS64 nt{};
  if (!ReadFileAt(f, 0, &dos, sizeof dos) || dos.e_magic != IMAGE_DOS_SIGNATURE || dos.e_lfanew <= 0 ||
      !ReadFileAt(f, static_cast<uint64_t>(dos.e_lfanew), &nt, sizeof nt) || nt.Signature != IMAGE_NT_SIGNATURE) {
    *why = "not a PE file";
    return false;
  }
  if (nt.OptionalHeader.Magic != IMAGE_NT_OPTIONAL_HDR64_MAGIC) {
    *unsupported = true;
    *why = "not a PE32+ image (only 64-bit images are compared)";
    return false;
  }
  pe->preferredBase = nt.OptionalHeader.ImageBase;
  pe->sizeOfImage = nt.OptionalHeader.SizeOfImage;
  if (nt.OptionalHeader.NumberOfRvaAndSizes > IMAGE_DIRECTORY_ENTRY_BASERELOC) {
    pe->relocRva = nt.OptionalHeader.DataDirectory[IMAGE_DIRECTORY_ENTRY_BASERELOC].VirtualAddress;
    pe->relocSize = nt.OptionalHeader.DataDirectory[IMAGE_DIRECTORY_ENTRY_BASERELOC].Size;
  }
  uint16_t n = nt.FileHeader.NumberOfSections;
  uint64_t at = static_cast<uint64_t>(dos.e_lfanew) + offsetof(IMAGE_NT_HEADERS64, OptionalHeader) +
                nt.FileHeader.SizeOfOptionalHeader;
  std::vector<IMAGE_SECTION_HEADER> sh(n);
  if (n == 0 || n > 96 || !ReadFileAt(f, at, sh.data(), static_cast<uint32_t>(n * sizeof sh[0]))) {
    *why = "section table unreadable";
    return false;
  }
  for (const auto& s : sh) {
    Section x{s.VirtualAddress, s.Misc.VirtualSize ? s.Misc.VirtualSize : s.SizeOfRawData, s.PointerToRawData,
              s.SizeOfRawData};
    if (x.size > kMaxSection || static_cast<uint64_t>(x.rva) + x.size > pe->sizeOfImage) {
      *why = "a section lies outside the image";
      return false;
    }
    pe->all.push_back(x);
    if (s.Characteristics & IMAGE_SCN_MEM_EXECUTE) pe->exec.push_back(x);
  }
  return true;
}

// One DIR64 or HIGHLOW base relocation: the loader adds the load delta to `width` bytes at `rva`.
struct Fixup {
  uint32_t rva;
  uint8_t width;
};

// The image's fixups, sorted by RVA.
bool ReadFixups(HANDLE f, const PeFile& pe, std::vector<Fixup>* out, std::string* why) {
  out->clear();
  if (pe.relocSize == 0) return true;
  const Section* home = nullptr;
  for (const auto& s : pe.all) {
    if (pe.relocRva >= s.rva && pe.relocRva + pe.relocSize <= s.rva + std::max(s.size, s.rawSize)) home = &s;
  }
  std::vector<uint8_t> rel(pe.relocSize);
  if (!home || pe.relocSize > (64u << 20) ||
      !ReadFileAt(f, home->rawOffset + (pe.relocRva - home->rva), rel.data(), pe.relocSize)) {
    *why = "relocation table unreadable";
    return false;
  }
  for (size_t off = 0; off + 8 <= rel.size();) {
    uint32_t page, blockSize;
    std::memcpy(&page, &rel[off], 4);
    std::memcpy(&blockSize, &rel[off + 4], 4);
    if (blockSize < 8 || off + blockSize > rel.size()) break;
    for (size_t e = off + 8; e + 2 <= off + blockSize; e += 2) {
      uint16_t entry;
      std::memcpy(&entry, &rel[e], 2);
      int type = entry >> 12;
      uint8_t width = type == IMAGE_REL_BASED_DIR64 ? 8 : type == IMAGE_REL_BASED_HIGHLOW ? 4 : 0;
      if (width != 0) out->push_back({page + (entry & 0xfffu), width});
    }
    off += blockSize;
  }
  std::sort(out->begin(), out->end(), [](const Fixup& x, const Fixup& y) { return x.rva < y.rva; });
  return true;
}

// Adds `delta` to every fixup touching [lo, lo + len) of `bytes` (which holds that RVA window); the
// bytes of a fixup straddling an edge that lie outside are taken as zero and left alone.
void Relocate(const std::vector<Fixup>& fixups, uint64_t lo, size_t len, int64_t delta, uint8_t* bytes) {
  if (delta == 0) return;
  const uint64_t hi = lo + len;
  auto it = std::lower_bound(fixups.begin(), fixups.end(), lo >= 7 ? lo - 7 : 0,
                             [](const Fixup& x, uint64_t v) { return x.rva < v; });
  for (; it != fixups.end() && it->rva < hi; ++it) {
    if (it->rva + it->width <= lo) continue;
    uint8_t v[8] = {};
    for (int i = 0; i < it->width; i++)
      if (it->rva + i >= lo && it->rva + i < hi) v[i] = bytes[it->rva + i - lo];
    if (it->width == 8) {
      uint64_t x;
      std::memcpy(&x, v, 8);
      x += static_cast<uint64_t>(delta);
      std::memcpy(v, &x, 8);
    } else {
      uint32_t x;
      std::memcpy(&x, v, 4);
      x += static_cast<uint32_t>(delta);
      std::memcpy(v, &x, 4);
    }
    for (int i = 0; i < it->width; i++)
      if (it->rva + i >= lo && it->rva + i < hi) bytes[it->rva + i - lo] = v[i];
  }
}

// Which pages of [addr, addr + pages * 4 KiB) in the child may differ from the image file: those not
// marked shareable by QueryWorkingSetEx (a written image page is copied on write into a private page;
// the bit is reported for pages out of the working set too, Windows 8.1+). Pages still shared are the
// section's one copy and are not read. False when the query fails: the caller compares every page.
// Under Wine every page reads as private (it copies image sections into private memory).
bool PrivatePages(HANDLE h, uint64_t addr, size_t pages, std::vector<uint8_t>* priv) {
  priv->assign(pages, 1);
  std::vector<PSAPI_WORKING_SET_EX_INFORMATION> info(std::min<size_t>(pages, 4096));
  for (size_t done = 0; done < pages;) {
    size_t n = std::min(info.size(), pages - done);
    for (size_t i = 0; i < n; i++) info[i].VirtualAddress = reinterpret_cast<void*>(addr + (done + i) * kPage);
    if (!K32QueryWorkingSetEx(h, info.data(), static_cast<DWORD>(n * sizeof info[0]))) return false;
    for (size_t i = 0; i < n; i++) (*priv)[done + i] = info[i].VirtualAttributes.Shared ? 0 : 1;
    done += n;
  }
  return true;
}

// Compares one run of pages [rva, rva + len) of a section: memory against the file after relocation.
void CompareRun(HANDLE process, HANDLE file, const Section& s, uint64_t base, uint32_t rva, size_t len,
                const std::vector<Fixup>& fixups, int64_t delta, TreeJobResult* r) {
  std::vector<uint8_t> mem(len), img(len, 0);
  // The file's bytes for the run as the loader lays them out: raw data, zero past it.
  uint64_t inSec = rva - s.rva;
  uint64_t raw = std::min<uint64_t>(s.rawSize, s.size);
  bool fileOk = true;
  if (inSec < raw) {
    uint32_t n = static_cast<uint32_t>(std::min<uint64_t>(len, raw - inSec));
    fileOk = ReadFileAt(file, s.rawOffset + inSec, img.data(), n);
  }
  Relocate(fixups, rva, len, delta, img.data());
  r->readBytes += 2ull * len;
  for (size_t off = 0; off < len; off += kPage) {
    size_t n = std::min<size_t>(kPage, len - off);
    TreePageHit hit;
    hit.address = base + rva + off;
    hit.fileOffset = rva + off;
    if (!fileOk) {
      hit.state = "unreadable";
      hit.detail = "the file's section is unreadable (error " + std::to_string(GetLastError()) + ")";
    } else if (!ReadRemote(process, hit.address, &mem[off], n)) {
      hit.state = "unreadable";
      hit.detail = "ReadProcessMemory failed: error " + std::to_string(GetLastError());
    } else if (std::memcmp(&mem[off], &img[off], n) == 0) {
      continue;
    } else {
      hit.state = "modified";
      for (size_t i = 0; i < n; i++) {
        if (mem[off + i] == img[off + i]) continue;
        if (hit.firstDiff < 0) {
          hit.firstDiff = static_cast<int64_t>(i);
          hit.fileByte = img[off + i];
          hit.memByte = mem[off + i];
        }
        hit.diffBytes++;
      }
    }
    // Every modified page is counted, the first kMaxHits kept: the caller must not read a page past
    // the cap as equal again (windows.ts keeps its open finding).
    if (hit.state == "modified") r->writtenPages++;
    if (r->hits.size() < kMaxHits) r->hits.push_back(hit);
  }
}

// Compares one loaded image's executable sections with its file at `path`, relocated for `base`:
// hits get region = `index` (the module's place in r->modules). False (m->detail says why) when the
// file cannot be opened or parsed.
bool ScanImage(HANDLE process, uint32_t index, TreeJobResult* r, TreeModuleResult* m) {
  Handle f(CreateFileW(Wide(m->path).c_str(), GENERIC_READ, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE,
                       nullptr, OPEN_EXISTING, FILE_ATTRIBUTE_NORMAL, nullptr));
  if (!f.h) {
    m->err = ENOENT;
    m->detail = m->path + ": cannot open the file (error " + std::to_string(GetLastError()) + ")";
    return false;
  }
  PeFile pe;
  std::string why;
  if (!ParsePe(f.h, &pe, &why, &m->unsupported)) {
    m->err = EINVAL;
    m->detail = m->path + ": " + why;
    return false;
  }
  m->relocationDelta = static_cast<int64_t>(m->base - pe.preferredBase);
  std::vector<Fixup> fixups;
  if (m->relocationDelta != 0 && !ReadFixups(f.h, pe, &fixups, &why)) {
    m->err = EIO;
    m->detail = m->path + ": " + why;
    return false;
  }
  constexpr size_t kRun = 256;  // pages read and compared at once (1 MiB)
  std::vector<uint8_t> priv;
  const size_t firstHit = r->hits.size();
  for (const Section& s : pe.exec) {
    size_t pages = (s.size + kPage - 1) / kPage;
    m->pages += pages;
    if (!PrivatePages(process, m->base + s.rva, pages, &priv)) priv.assign(pages, 1);
    for (size_t p = 0; p < pages;) {
      if (!priv[p]) {
        m->filePages++;  // still the image's shared copy: equal to the file
        p++;
        continue;
      }
      size_t q = p;
      while (q < pages && priv[q] && q - p < kRun) q++;
      uint32_t rva = s.rva + static_cast<uint32_t>(p * kPage);
      size_t len = std::min<size_t>((q - p) * kPage, s.size - p * kPage);
      CompareRun(process, f.h, s, m->base, rva, len, fixups, m->relocationDelta, r);
      p = q;
    }
  }
  for (size_t i = firstHit; i < r->hits.size(); i++) r->hits[i].region = index;
  r->pages += m->pages;
  r->filePages += m->filePages;
  return true;
}

// The process's loaded images other than the main one at `mainBase` (EnumProcessModulesEx), by base.
std::vector<uint64_t> DllBases(HANDLE h, uint64_t mainBase) {
  std::vector<HMODULE> mods(256);
  for (int tries = 0; tries < 4; tries++) {
    DWORD needed = 0;
    if (!K32EnumProcessModulesEx(h, mods.data(), static_cast<DWORD>(mods.size() * sizeof(HMODULE)), &needed,
                                 LIST_MODULES_ALL))
      return {};
    size_t n = needed / sizeof(HMODULE);
    if (n <= mods.size()) {
      mods.resize(n);
      break;
    }
    mods.resize(n + 16);  // more were loaded since: ask again
  }
  std::vector<uint64_t> out;
  for (HMODULE m : mods) {
    uint64_t b = reinterpret_cast<uint64_t>(m);
    if (b != mainBase) out.push_back(b);
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

std::string ModulePath(HANDLE h, uint64_t base) {
  std::wstring w(32768, L'\0');
  DWORD n = K32GetModuleFileNameExW(h, reinterpret_cast<HMODULE>(base), w.data(), static_cast<DWORD>(w.size()));
  return Utf8(w.data(), n);
}

void ScanOne(const TreeJob& job, TreeJobResult* r) {
  r->pid = job.pid;
  // PROCESS_QUERY_INFORMATION for QueryWorkingSetEx (which pages were written) and EnumProcessModulesEx;
  // without it every page of the main module is read and the DLLs are not compared.
  Handle h(OpenProcess(PROCESS_QUERY_INFORMATION | PROCESS_VM_READ, FALSE, static_cast<DWORD>(job.pid)));
  if (!h.h) h.h = OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION | PROCESS_VM_READ, FALSE, static_cast<DWORD>(job.pid));
  if (!h.h) {
    r->err = GetLastError() == ERROR_ACCESS_DENIED ? EACCES : ESRCH;
    r->detail = "OpenProcess(PROCESS_VM_READ) failed: error " + std::to_string(GetLastError());
    return;
  }
  if (job.startTime != 0 && CreationTime(h.h) != job.startTime) {
    r->err = ESRCH;
    r->detail = "the pid now names another process (creation time differs)";
    return;
  }
  uint64_t peb = PebAddress(h.h);
  uint64_t base = 0;
  if (peb == 0 || !ReadRemote(h.h, peb + 0x10, &base, sizeof base) || base == 0) {  // PEB.ImageBaseAddress
    r->err = EIO;
    r->detail = "the image base is unreadable (error " + std::to_string(GetLastError()) + ")";
    return;
  }
  // The main module, in full, every pass: a failure there fails the job.
  r->modules.push_back(TreeModuleResult{});
  TreeModuleResult& main = r->modules.back();
  main.path = ImagePath(h.h);
  main.base = base;
  r->module = main.path;
  r->imageBase = base;
  if (!ScanImage(h.h, 0, r, &main)) {
    r->err = main.err;
    r->detail = main.detail;
    r->unsupported = main.unsupported;
    return;
  }
  main.ok = true;
  r->relocationDelta = main.relocationDelta;
  // The DLLs, from the first at or above the cursor on, wrapping, until the budget of executable
  // section bytes is spent (at least one per pass); the next pass goes on from where this one stopped.
  r->loadedBases = DllBases(h.h, base);
  const std::vector<uint64_t>& dlls = r->loadedBases;
  size_t at = std::lower_bound(dlls.begin(), dlls.end(), job.moduleCursor) - dlls.begin();
  uint64_t spent = 0;
  size_t done = 0;
  for (; done < dlls.size() && (done == 0 || spent < job.moduleBudget); done++) {
    TreeModuleResult m;
    m.base = dlls[(at + done) % dlls.size()];
    m.path = ModulePath(h.h, m.base);
    if (m.path.empty()) {
      m.err = ESRCH;
      m.detail = "unloaded during the pass (no file name)";
    } else {
      m.ok = ScanImage(h.h, static_cast<uint32_t>(r->modules.size()), r, &m);
    }
    spent += m.pages * kPage;
    r->modules.push_back(std::move(m));
  }
  r->nextModuleCursor = done < dlls.size() ? dlls[(at + done) % dlls.size()] : 0;
  r->ok = true;
}

}  // namespace

bool TreeProcessesWin(uint32_t root, std::vector<TreeProcessInfo>* out, int* err, std::string* detail) {
  out->clear();
  Handle snap(CreateToolhelp32Snapshot(TH32CS_SNAPPROCESS, 0));
  if (!snap.h) {
    *err = EIO;
    *detail = "CreateToolhelp32Snapshot failed: error " + std::to_string(GetLastError());
    return false;
  }
  std::multimap<DWORD, DWORD> kids;  // ppid -> pid
  PROCESSENTRY32W e{};
  e.dwSize = sizeof e;
  for (BOOL ok = Process32FirstW(snap.h, &e); ok; ok = Process32NextW(snap.h, &e)) {
    if (e.th32ProcessID != e.th32ParentProcessID) kids.emplace(e.th32ParentProcessID, e.th32ProcessID);
  }
  Handle rootH(OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION, FALSE, root));
  uint64_t rootTime = rootH.h ? CreationTime(rootH.h) : 0;
  if (rootTime == 0) {
    *err = ESRCH;
    *detail =
        "the root process " + std::to_string(root) + " cannot be opened (error " + std::to_string(GetLastError()) + ")";
    return false;
  }
  // Breadth-first from the root; each member's creation time bounds its children's from below.
  std::vector<std::pair<DWORD, uint64_t>> queue{{root, rootTime}};
  for (size_t q = 0; q < queue.size(); q++) {
    auto [parent, parentTime] = queue[q];
    auto range = kids.equal_range(parent);
    for (auto it = range.first; it != range.second; ++it) {
      // The most a same-user reader may get: full query rights (IsProcessInJob wants them under Wine),
      // VM read (the PEB's command line on Windows before 8.1), else the limited query alone.
      HANDLE opened = nullptr;
      const DWORD tries[] = {PROCESS_QUERY_INFORMATION | PROCESS_VM_READ,
                             PROCESS_QUERY_LIMITED_INFORMATION | PROCESS_VM_READ, PROCESS_QUERY_LIMITED_INFORMATION};
      for (DWORD access : tries) {
        if ((opened = OpenProcess(access, FALSE, it->second)) != nullptr) break;
      }
      Handle h(opened);
      if (!h.h) continue;  // exited, or not ours to read: not part of the answer
      TreeProcessInfo p;
      p.pid = it->second;
      p.ppid = parent;
      p.startTime = CreationTime(h.h);
      if (p.startTime == 0 || p.startTime < parentTime) continue;  // the parent pid was reused: not a child
      if (std::any_of(queue.begin(), queue.end(), [&](const auto& m) { return m.first == p.pid; })) continue;
      Describe(h.h, &p);
      queue.emplace_back(p.pid, p.startTime);
      out->push_back(std::move(p));
    }
  }
  return true;
}

bool TreeDescendants(int root, std::vector<int>* out) {
  std::vector<TreeProcessInfo> all;
  int err = 0;
  std::string detail;
  out->clear();
  if (!TreeProcessesWin(static_cast<uint32_t>(root), &all, &err, &detail)) return false;
  for (const auto& p : all) out->push_back(static_cast<int>(p.pid));
  return true;
}

void TreeCodeScan(const std::vector<TreeJob>& jobs, std::vector<TreeJobResult>* out) {
  out->assign(jobs.size(), TreeJobResult{});
  for (size_t i = 0; i < jobs.size(); i++) ScanOne(jobs[i], &(*out)[i]);
}

}  // namespace pg
