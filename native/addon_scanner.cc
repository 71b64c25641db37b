#include "addon.h"

namespace pg {
void InitScanner(Napi::Env, Napi::Object) {}
}  // namespace pg
