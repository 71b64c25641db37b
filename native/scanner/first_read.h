// How a file's FIRST pass reads the page-cache pages the process has present: in place, through the
// engine's view of the file (file_view.h: no copy, but every page needs a new page-table entry in
// the view), or with pread (one copy into a cache-sized buffer). From a file's second pass on the
// view is always used: its entries exist by then.
//
// Which is cheaper on a first pass is a property of the machine, not of the code: a new page-table
// entry costs ~0.1 us on bare metal or under nested paging, but ~5 us under shadow paging (measured
// on a PVM guest), against ~0.5 us for copying 4 KiB. So the process measures it once: the first
// eligible chunk of a first pass goes through the view, the next one through pread, each timed in
// thread CPU per page (hashing included: it is the same work both ways), and every later first pass
// takes the cheaper route. A probe chunk costs at most one 4 MiB chunk read the slower way.
#pragma once
#include <cstdint>

namespace pg {
namespace firstread {

enum class Route : uint8_t { kView, kCopy };
// The pass option: measure (kAuto) or take one route (tests, benchmarks).
enum class Force : uint8_t { kAuto, kView, kCopy };

// A route's probe needs this many pages read that way (a smaller sample is noise).
constexpr uint64_t kMinProbePages = 256;

// The route for the next first-pass chunk; `probing` is set when that chunk is a measurement.
Route Next(Force force, bool* probing);

// A probe chunk's cost: thread CPU for the `total` pages it read and hashed, `byRoute` of them by
// route `r`. Chunks add up until kMinProbePages pages went by the route; a chunk where fewer than
// three quarters did is ignored (the lease was refused, so pread was used; most pages were copied
// on write and read from memory).
void Record(Route r, uint64_t cpuNs, uint64_t byRoute, uint64_t total);

struct Choice {
  const char* route;                              // "probing", "view" or "copy"
  double viewNsPerPage = -1, copyNsPerPage = -1;  // -1: not measured yet
};
Choice Current();

}  // namespace firstread
}  // namespace pg
