#include "addon.h"

namespace pg {
void InitMemory(Napi::Env, Napi::Object) {}
}  // namespace pg
