// Confirmation of a digest mismatch, shared by the pass and the sentinel: a change is reported only
// if it survives a re-check (the mapping at that address still shows the same file page, and a
// fresh read still differs from the baseline), and it is then located to the byte against the file.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "hash/hash.h"
#include "scanner_digest.h"

namespace pg {

struct Engine;

struct Candidate {
  uint32_t region = 0;
  uint32_t page = 0;      // page index in the region
  uintptr_t address = 0;  // of the page
  std::string fileKey;
  uint64_t filePage = 0;  // page index in the file
  uint8_t expected[kDigestSize] = {0};
  bool preexisting = false;  // memory differed from the file when the page was first seen
};

struct Change : Candidate {
  uint8_t actual[kDigestSize] = {0};
  bool mapsChecked = false;       // false: this OS has no maps file, the caller re-checks the mapping
  bool located = false;           // the file was read and compared
  std::string locateUnavailable;  // why not, when !located
  uint32_t differingBytes = 0;
  std::vector<uint16_t> pageOffsets;  // offsets in the page of the first differing bytes (<= 32)
  uint8_t firstXor = 0;
};

// Confirms `candidates` (maps read once for all of them); appends the changes that hold.
void Confirm(Engine& engine, hash::Mode mode, const std::vector<Candidate>& candidates, std::vector<Change>* out);

}  // namespace pg
