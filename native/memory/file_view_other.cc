// Zero-copy page-cache reads need a read lease (Linux fcntl F_SETLEASE) to be safe: elsewhere the
// pass reads files with pread/ReadFile.
#include "file_view.h"

namespace pg {

uint64_t ViewMappedPages() { return 0; }
std::mutex& ViewCountMutex() {
  static std::mutex* mu = new std::mutex;
  return *mu;
}
std::unique_ptr<FileView> FileView::Open(int) { return nullptr; }
FileView::~FileView() {}
FileView::Lease::Lease(FileView* view) : view_(view) {}
FileView::Lease::~Lease() {}
const uint8_t* FileView::Lease::data() const { return nullptr; }
void FileView::Lease::Populate(uint64_t, uint64_t) const {}

}  // namespace pg
