// N-API glue is split by concern: each addon_<area>.cc registers its functions on the exports
// object. These files are the only ones that include napi.h; platform code returns plain structs.
#pragma once
#include <napi.h>

namespace pg {
void InitHarden(Napi::Env env, Napi::Object exports);
void InitHash(Napi::Env env, Napi::Object exports);
void InitMemory(Napi::Env env, Napi::Object exports);
void InitScanner(Napi::Env env, Napi::Object exports);
void InitWatch(Napi::Env env, Napi::Object exports);
void InitTree(Napi::Env env, Napi::Object exports);
}  // namespace pg
