// Code check of another process (the process tree): find the pages of its file-backed executable
// mappings that were copied-on-write (written), read them safely and compare them with the file.
// Pure platform code, no N-API: tree_linux.cc and tree_win.cc implement it; addon_tree.cc is the glue.
// Windows (tree_win.cc) compares the executable sections of the main module (every pass) and of the
// loaded DLLs (within a byte budget per pass, rotating): the pages QueryWorkingSetEx
// does not report as the image's shared copy (written pages are copied on write; under Wine every
// page) are read with ReadProcessMemory and compared with the file's bytes after the image's base
// relocations are applied for the address it was loaded at, as pe-sieve does.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace pg {

// Bounds of one treeCodeScan call (the glue rejects more with a RangeError; src/tree/code.ts plans
// within them). A child's maps are its own to shape: a hostile one can map terabytes of a sparse
// file executable, or write every page of its code.
constexpr uint32_t kTreeMaxJobs = 4096;             // processes per call
constexpr uint32_t kTreeMaxRegions = 65536;         // regions per process (vm.max_map_count is 65530)
constexpr uint64_t kTreeMaxJobBytes = 64ull << 30;  // bytes of regions per process
constexpr uint32_t kTreeMaxHits = 4096;             // written pages compared per process; the rest counted
// Windows: executable section bytes of DLLs compared per process and pass (the main module is
// compared in full besides); a pass compares at least one DLL, the next one goes on from there.
constexpr uint64_t kTreeDllBudget = 32ull << 20;

struct TreeRegion {
  uint64_t start = 0;
  uint64_t end = 0;
  uint64_t fileOffset = 0;
  std::string path;
  // Identity the mapping had in /proc/<pid>/maps: the file opened by path must match it.
  uint32_t devMajor = 0;
  uint32_t devMinor = 0;
  uint64_t ino = 0;
};

struct TreeJob {
  int pid = 0;
  // Linux: the process's start time (/proc/<pid>/stat field 22, clock ticks after boot); 0: not checked.
  // When set, the job reads only that process: a pid reused by another is reported ESRCH.
  uint64_t startTicks = 0;
  // Windows: the process's creation time (FILETIME), checked after opening it (a reused pid is refused).
  uint64_t startTime = 0;
  std::vector<TreeRegion> regions;  // Linux; Windows finds the main module and the DLLs itself
  // Windows: the DLLs are compared from the first loaded at or above this address on (the previous
  // pass's nextModuleCursor; 0: from the lowest), until moduleBudget bytes of their sections are.
  uint64_t moduleCursor = 0;
  uint64_t moduleBudget = kTreeDllBudget;
};

// Windows: one loaded image compared in a pass (TreeJobResult::modules; a hit's region indexes it).
struct TreeModuleResult {
  std::string path;  // GetModuleFileNameEx (the main module: the process's image path)
  uint64_t base = 0;
  int64_t relocationDelta = 0;
  bool ok = false;  // compared; else err and detail say why not
  int err = 0;
  std::string detail;
  bool unsupported = false;  // not a PE32+ image
  uint64_t pages = 0;        // pages of its executable sections
  uint64_t filePages = 0;    // of those, still the image's shared copy (not read)
};

// One page that pagemap showed present (or swapped) but not file-backed: it was written.
struct TreePageHit {
  uint32_t region = 0;  // Linux: the job's region; Windows: the module (TreeJobResult::modules)
  uint64_t address = 0;
  uint64_t fileOffset = 0;  // Windows: the page's RVA (images are laid out by RVA)
  // 'modified': differs from the file; 'equal': written but equal to the file (restored, or the
  // same bytes rewritten); 'unreadable': the page or the file could not be read (detail says why).
  std::string state;
  int64_t firstDiff = -1;  // byte index in the page of the first difference
  uint32_t diffBytes = 0;
  uint8_t fileByte = 0;
  uint8_t memByte = 0;
  std::string detail;
};

struct TreeJobResult {
  int pid = 0;
  bool ok = false;  // pagemap opened and walked
  int err = 0;
  std::string detail;
  uint64_t pages = 0;         // pages of the regions walked
  uint64_t filePages = 0;     // present and file-backed: the page-cache page itself (Windows: still the
                              // image's shared copy per QueryWorkingSetEx, so not read)
  uint64_t pagemapBytes = 0;  // bytes of pagemap read
  uint64_t readBytes = 0;     // bytes of process memory + file read to compare written pages
  bool pagemapScan = false;   // the PAGEMAP_SCAN ioctl found the written pages (else pagemap was read)
  uint64_t writtenPages = 0;  // written pages found; hits holds the first kTreeMaxHits of them
  std::string fileStalled;    // non-empty: a read of a mapped file did not return in time (tree_files.h)
  std::vector<TreePageHit> hits;
  // Windows: the main module is of a kind not compared (a 32-bit image): not an error of the checker.
  bool unsupported = false;
  // Windows: the main module compared, where it is loaded, and how far it was relocated.
  std::string module;
  uint64_t imageBase = 0;
  int64_t relocationDelta = 0;
  // Windows: the images compared in this pass (the main module first), every DLL loaded (by base), and
  // where the next pass goes on with the DLLs (0: from the lowest; this pass compared them all).
  std::vector<TreeModuleResult> modules;
  std::vector<uint64_t> loadedBases;
  uint64_t nextModuleCursor = 0;
};

// Descendants of `root` (not including it), parents first, from /proc/<pid>/task/<tid>/children of
// every thread of every member. False when the children files do not exist (kernel without
// CONFIG_PROC_CHILDREN): the caller scans /proc/*/stat instead. A member that exits mid-walk is skipped.
bool TreeDescendants(int root, std::vector<int>* out);

// Runs on a worker thread; never touches memory of this process unsafely (process_vm_readv).
void TreeCodeScan(const std::vector<TreeJob>& jobs, std::vector<TreeJobResult>* out);

#ifdef _WIN32
// One descendant as Toolhelp32 and the process itself report it (tree_win.cc).
struct TreeProcessInfo {
  uint32_t pid = 0;
  uint32_t ppid = 0;
  uint64_t startTime = 0;   // creation time (FILETIME: 100 ns since 1601); with the pid, the identity
  std::string exe;          // full image path; empty when not readable
  std::string commandLine;  // valid when commandLineRead
  bool commandLineRead = false;
  std::string detail;  // what could not be read, and why
  // Sandbox facts; -1 = could not be read.
  int integrityRid = -1;  // SECURITY_MANDATORY_*_RID: 0 untrusted, 0x1000 low, 0x2000 medium, 0x3000 high
  int appContainer = -1;
  int restrictedToken = -1;
  int inJob = -1;
  int dynamicCodeProhibited = -1;  // ProcessDynamicCodePolicy
  int microsoftSignedOnly = -1;    // ProcessSignaturePolicy
  int noRemoteImages = -1;         // ProcessImageLoadPolicy
  int strictHandleChecks = -1;     // ProcessStrictHandleCheckPolicy
  int debugPort = -1;              // a debugger holds the process's debug port
};

// The live descendants of `root` (not including it), parents first. A process is a child of its
// parent pid only if it was created after that parent: a parent pid reused by a later process is
// never taken for the parent. False (and *err) when the snapshot or the root cannot be read.
bool TreeProcessesWin(uint32_t root, std::vector<TreeProcessInfo>* out, int* err, std::string* detail);
#endif

}  // namespace pg
