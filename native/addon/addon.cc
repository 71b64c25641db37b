#include "addon.h"

#ifdef PROCGUARD_HOST_IMPORTS
#include "host_imports_win.h"
#endif

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
#ifdef PROCGUARD_HOST_IMPORTS
  // The mingw build bound its Node-API calls while loading: refuse to run on a partial binding.
  if (!pg::NodeApiHostError().empty()) throw Napi::Error::New(env, "procguard.node: " + pg::NodeApiHostError());
  exports.Set("nodeApiHost", Napi::Function::New(env, [](const Napi::CallbackInfo& info) -> Napi::Value {
                return Napi::String::New(info.Env(), pg::NodeApiHostPath());
              }));
#endif
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
