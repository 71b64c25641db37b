#include "addon.h"

namespace pg {
void InitHarden(Napi::Env, Napi::Object) {}
}  // namespace pg
