#pragma once
#include <cstddef>
#include <cstdint>

namespace pg {
// The never-executed canary code page of this addon (ELF builds); false elsewhere.
bool CanaryPage(uintptr_t* start, size_t* size);
}  // namespace pg
