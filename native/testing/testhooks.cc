#include <napi.h>

void InitKernelHooks(Napi::Env env, Napi::Object exports);  // testhooks_kernel.cc

static Napi::Object Init(Napi::Env env, Napi::Object e) {
  InitKernelHooks(env, e);
  return e;
}
NODE_API_MODULE(pg_testhooks, Init)
