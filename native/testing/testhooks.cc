#include <napi.h>
static Napi::Object Init(Napi::Env env, Napi::Object e) { return e; }
NODE_API_MODULE(pg_testhooks, Init)
