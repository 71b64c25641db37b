#include <napi.h>

// Kernel-state hooks for tests (seccomp, NoNewPrivs, capabilities): filled in by the kernel monitor work.
void InitKernelHooks(Napi::Env, Napi::Object) {}
