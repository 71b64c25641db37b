// The sweep engine: reads executable pages safely and hashes them per 4 KiB page on dedicated
// background threads (never the JS event loop, never the shared libuv pool, since a paced pass
// sleeps). Plain C++; the N-API glue is addon_scanner.cc. One job per file:
//   scanner_digest.h   digest slots, the fast-mode marker, size limits (defined once)
//   scanner_clock      clocks
//   scanner_pacing     cancellable sleep, CPU-share pacing, prefetch
//   scanner_sweep      the plain memory sweep (`procguard scan`, benchmark)
//   scanner_store      baseline digests by (file, page), the file table, pass progress
//   scanner_pass       one code-monitor pass: hash each page once, compare, adopt
//   scanner_confirm    re-read, maps re-read, locate to the byte
//   scanner_maps_*     the maps probe and page-table state per OS
//   scanner_sentinel   the pagemap sentinel: walk, statm counters, token bucket, loop
//   scanner_file       file reads (hashFile, pages past EOF)
//   scanner_worker     the job thread
#pragma once
#include "scanner_clock.h"
#include "scanner_confirm.h"
#include "scanner_digest.h"
#include "scanner_file.h"
#include "scanner_pacing.h"
#include "scanner_pass.h"
#include "scanner_sentinel.h"
#include "scanner_store.h"
#include "scanner_sweep.h"
#include "scanner_worker.h"
