// One page of code that never runs, in the addon's own executable segment: the target of
// `procguard selftest`, which flips a bit in it, shows the finding and restores it.
#include "canary.h"

#if defined(__GNUC__) && defined(__ELF__)
__asm__(
    ".section .text.pg_canary,\"ax\",@progbits\n"
    ".p2align 12\n"
    "pg_canary_page:\n"
    ".fill 4096, 1, 0xcc\n"  // int3: should anything ever jump here, it traps
    ".previous\n");
extern "C" const unsigned char pg_canary_page[];
namespace pg {
bool CanaryPage(uintptr_t* start, size_t* size) {
  *start = reinterpret_cast<uintptr_t>(pg_canary_page);
  *size = 4096;
  return true;
}
}  // namespace pg
#else
namespace pg {
bool CanaryPage(uintptr_t*, size_t*) { return false; }
}  // namespace pg
#endif
