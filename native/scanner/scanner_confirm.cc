#include "scanner_confirm.h"

#include "memory.h"
#include "scanner_file.h"
#include "scanner_maps.h"
#include "scanner_store.h"

namespace pg {

void Confirm(Engine& engine, hash::Mode mode, const std::vector<Candidate>& candidates, std::vector<Change>* out) {
  if (candidates.empty()) return;
  MapsSnapshot maps;
  const bool haveMaps = maps.Load();
  uint8_t page[kPageSize], ref[kPageSize];
  for (const Candidate& c : candidates) {
    if (haveMaps && !maps.Shows(c.address, c.fileKey, c.filePage * kPageSize)) continue;
    int err = 0;
    if (SafeRead(c.address, page, kPageSize, &err) != kPageSize) continue;  // unmapped meanwhile
    Change ch;
    static_cast<Candidate&>(ch) = c;
    HashPage(mode, page, ch.actual);
    if (SameDigest(ch.actual, c.expected)) continue;  // a transient (or a race with a restore)
    ch.mapsChecked = haveMaps;
    std::shared_ptr<FileRef> file = c.fileKey == "vdso" ? nullptr : engine.files.Get(c.fileKey);
    if (!file) {
      ch.locateUnavailable = c.fileKey == "vdso" ? "vDSO has no file" : "no file to compare";
    } else if (ReadFilePages(file->fd, c.filePage * kPageSize, 1, ref) != 1) {
      ch.locateUnavailable = "the file page cannot be read (truncated?)";
    } else {
      ch.located = true;
      for (size_t i = 0; i < kPageSize; ++i) {
        if (page[i] == ref[i]) continue;
        if (ch.differingBytes == 0) ch.firstXor = page[i] ^ ref[i];
        ++ch.differingBytes;
        if (ch.pageOffsets.size() < 32) ch.pageOffsets.push_back(static_cast<uint16_t>(i));
      }
    }
    out->push_back(std::move(ch));
  }
}

}  // namespace pg
