#include "addon.h"

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  pg::InitHarden(env, exports);
  pg::InitHash(env, exports);
  pg::InitMemory(env, exports);
  pg::InitScanner(env, exports);
  pg::InitWatch(env, exports);
  pg::InitTree(env, exports);
  pg::InitTreeSentinel(env, exports);
  return exports;
}

NODE_API_MODULE(procguard, Init)
