#include "addon.h"

namespace pg {
void InitHash(Napi::Env, Napi::Object) {}
}  // namespace pg
