// MapsSnapshot where the OS has no maps file: unavailable, the JS side re-walks the regions.
#include "scanner_maps.h"

namespace pg {

bool MapsSnapshot::Load() {
  loaded_ = false;
  return false;
}

bool MapsSnapshot::Shows(uintptr_t, const std::string&, uint64_t) const { return false; }

bool PageTableEntries(uintptr_t, size_t, std::vector<uint64_t>*) { return false; }

bool FileBackedPages(uint64_t*) { return false; }

}  // namespace pg
