// A zero-copy window on a code file's page cache, for the pass's reads of page-cache pages.
//
// Why: copying a page out of the kernel (pread, process_vm_readv) costs about as much as hashing it
// (measured here: ~80 us per MiB copied against ~150 us per MiB of BLAKE3 with AVX-512, and far more
// than CRC32C); a page the process maps and has not written *is* the page-cache page, so the pass
// can hash it in place through a read-only shared mapping of the file, at memory speed.
//
// Why it cannot fault. A shared file mapping raises SIGBUS only when the file no longer has the page
// (it shrank: truncate, hole punch) or the page must come from disk and the read fails. So the view
// is read only
//  - under a read lease (fcntl F_SETLEASE F_RDLCK), taken per chunk only around the in-place hashing
//    of its present pages (never across copies of other pages, so a process stopped mid-pass almost
//    never holds one): the kernel grants it only while no one has the file open for writing (shared
//    writable mappings included), and while it is held an open for writing, truncate(2) or O_TRUNC
//    waits until it is released (a writer is delayed by one chunk's in-place hashing, < 1 ms); the
//    file's size is read again under the lease and nothing past it is touched;
//  - for pages the process itself has present as page-cache pages (pagemap, just before): they are
//    in the page cache, so no disk read can fail. (A page reclaimed in the microseconds between and
//    then unreadable from disk would also crash the app that executes it; it is the one residual case.)
// Pages not present in the process, files the lease is refused on (not owned by this user without
// CAP_LEASE, open for writing somewhere, leases disabled, a file system without leases) and other
// OSes are read with pread, as before.
//
// The lease-break notice is a signal (SIGIO, whose default action terminates the process) to the
// file's owner, which taking a lease sets to this process unless an owner is set already. Measured:
// F_SETSIG to another signal is not honoured for it, and clearing the owner after the lease leaves a
// window in which SIGIO still arrives. So each engine thread that takes a lease blocks SIGIO for
// itself and first makes itself the owner (F_SETOWN_EX F_OWNER_TID): a break's SIGIO stays pending
// on that thread, never delivered, and no thread of the app sees it. The engine's threads run only
// engine code; the app's SIGIO handling (if any) is untouched. Only engine threads call Lease.
//
// Cost: no physical memory (the view maps the same page-cache pages), but the pages it maps count a
// second time in the process's RssFile (RSS, not PSS or USS) once they have been read. The tamper
// sentinel watches statm's file-backed count for the drop a copy-on-write causes, so the views count
// every page they map (ViewMappedPages) and the sentinel discounts them: a view being populated
// during a pass must not look like, or hide, a written code page.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

namespace pg {

// OS pages currently mapped by every view of the process (statm units), for the sentinel.
uint64_t ViewMappedPages();

// Held while a view's pages are being mapped and counted (Populate), and by whoever reads statm
// to subtract ViewMappedPages() from it: between mapping pages and counting them the two disagree,
// and a statm read in that window would look like a change to the sentinel.
std::mutex& ViewCountMutex();

class FileView {
 public:
  // Maps the whole file (read-only, shared); null where the OS, the file or the lease cannot serve
  // zero-copy reads (the caller preads). `fd` must be open read-only and outlive the view.
  static std::unique_ptr<FileView> Open(int fd);
  ~FileView();
  FileView(const FileView&) = delete;
  FileView& operator=(const FileView&) = delete;

  // Holds the file's read lease while alive; one holder at a time (a concurrent pass reads with
  // pread instead of waiting). held() false: use pread.
  class Lease {
   public:
    explicit Lease(FileView* view);
    ~Lease();
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    bool held() const { return held_; }
    // Bytes of the file that may be read through the view now: min(size under the lease, view).
    uint64_t readable() const { return readable_; }
    const uint8_t* data() const;
    // Maps the 2 MiB blocks of the view holding [offset, offset + len) into its page tables, each
    // block once (one page fault per page costs ~2 us on a VM; populating a range ~0.05 us per
    // page), and counts in ViewMappedPages the pages pagemap shows mapped. Where the population
    // was not carried out, the pages of [offset, offset + len) (which the caller knows to be in the
    // page cache) are faulted in first, so the hashing that follows maps nothing uncounted.
    void Populate(uint64_t offset, uint64_t len) const;

   private:
    FileView* view_;
    std::unique_lock<std::mutex> lock_;
    bool held_ = false;
    uint64_t readable_ = 0;
  };

 private:
  FileView(int fd, const uint8_t* data, uint64_t size) : fd_(fd), data_(data), size_(size) {}
  const int fd_;
  const uint8_t* const data_;
  const uint64_t size_;
  std::mutex mu_;                  // the lease holder's
  std::vector<uint64_t> mapped_;   // bit per 2 MiB block: population asked for (under mu_)
  std::vector<uint32_t> counted_;  // per 2 MiB block: its pages counted in ViewMappedPages (under mu_)
  uint64_t mappedCount_ = 0;
};

}  // namespace pg
