// A fresh view of the mappings, for confirming a change: does an address still show the same page
// of the same file, executable? (A library unloaded and another mapped at the same address mid-pass
// is a mapping change, not a code change.) Linux reads /proc/self/maps (readable after hardening);
// elsewhere Load() returns false and the JS side checks with its own region walk.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace pg {

class MapsSnapshot {
 public:
  bool Load();
  bool loaded() const { return loaded_; }
  // `fileKey` as the JS side keys regions: "<maps dev>:<inode>", or "vdso".
  bool Shows(uintptr_t addr, const std::string& fileKey, uint64_t fileOffset) const;

 private:
  struct Entry {
    uintptr_t start, end;
    bool exec;
    uint64_t offset;
    std::string key;
  };
  std::vector<Entry> entries_;
  bool loaded_ = false;
};

// The page-table state of each OS page of [addr, addr + len) (the bits below), from
// /proc/self/pagemap opened by OpenPagemap(). False where there is none (other OSes, not opened).
bool PageTableEntries(uintptr_t addr, size_t len, std::vector<uint64_t>* out);
constexpr uint64_t kPtePresent = uint64_t(1) << 63;
constexpr uint64_t kPteSwapped = uint64_t(1) << 62;
constexpr uint64_t kPteFile = uint64_t(1) << 61;  // a page-cache page (or shared anonymous memory)

// Whether the page the entry describes is the file's page-cache page: present and file-backed, or
// not present at all (the next access maps the page-cache page). A private file page that was
// written was copied on write: present (or swapped) and anonymous.
inline bool IsPageCachePage(uint64_t e) { return (e & kPtePresent) ? (e & kPteFile) != 0 : (e & kPteSwapped) == 0; }

// The process's file-backed (+ shmem) resident pages (statm's third field, OS pages) minus those of
// the engine's own views (file_view.h). A copy-on-write of a private file page lowers it by one
// (exact on Linux >= 6.16; per-CPU slack before), though a page faulted in at the same moment can
// hide that. False where unavailable (other OSes).
bool FileBackedPages(uint64_t* pages);

}  // namespace pg
