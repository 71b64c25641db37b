// Test-only hooks for the kernel monitor tests: change this process's isolation state through the
// real syscalls (prctl, seccomp, setrlimit) so the monitor running in the same process sees it.
// Never linked into the procguard addon.
#include <napi.h>

#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace {

Napi::Value Fail(const Napi::Env& env, const char* what) {
  int e = errno;
  Napi::Error err = Napi::Error::New(env, std::string(what) + ": " + strerror(e));
  err.Set("errno", Napi::Number::New(env, e));
  throw err;
}

// prctl(PR_SET_NO_NEW_PRIVS, 1): one-way, inherited by children.
Napi::Value SetNoNewPrivs(const Napi::CallbackInfo& info) {
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return Fail(info.Env(), "PR_SET_NO_NEW_PRIVS");
  return info.Env().Undefined();
}

// A one-instruction BPF program returning SECCOMP_RET_ALLOW: changes Seccomp to 2 and adds one
// filter without restricting anything. Needs NoNewPrivs or CAP_SYS_ADMIN. TSYNC applies it to
// every thread (Node has libuv and V8 threads), as a real sandbox would.
Napi::Value InstallSeccompAllowAll(const Napi::CallbackInfo& info) {
  struct sock_filter filter[] = {BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)};
  struct sock_fprog prog = {1, filter};
  long r = syscall(__NR_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC, &prog);
  if (r != 0) return Fail(info.Env(), "seccomp(SECCOMP_SET_MODE_FILTER)");
  return info.Env().Undefined();
}

// A filter that makes process_vm_readv fail with `errno` (EPERM, ENOSYS: what container and
// sandbox seccomp profiles return) and allows everything else, as the readers' fallback tests need.
Napi::Value RefuseProcessVmReadv(const Napi::CallbackInfo& info) {
  if (info.Length() < 1 || !info[0].IsNumber())
    throw Napi::TypeError::New(info.Env(), "refuseProcessVmReadv(errno): a number");
  const uint32_t e = info[0].As<Napi::Number>().Uint32Value() & SECCOMP_RET_DATA;
#if defined(__x86_64__)
  constexpr uint32_t kArch = AUDIT_ARCH_X86_64;
#elif defined(__aarch64__)
  constexpr uint32_t kArch = AUDIT_ARCH_AARCH64;
#else
  throw Napi::Error::New(info.Env(), "refuseProcessVmReadv: no audit arch for this CPU");
  constexpr uint32_t kArch = 0;
#endif
  struct sock_filter filter[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, kArch, 1, 0),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_process_vm_readv, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | e),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  struct sock_fprog prog = {static_cast<unsigned short>(sizeof filter / sizeof filter[0]), filter};
  long r = syscall(__NR_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC, &prog);
  if (r != 0) return Fail(info.Env(), "seccomp(SECCOMP_SET_MODE_FILTER)");
  return info.Env().Undefined();
}

// prctl(PR_CAPBSET_DROP, n): remove capability n from the bounding set (needs CAP_SETPCAP).
Napi::Value DropBoundingCap(const Napi::CallbackInfo& info) {
  if (info.Length() < 1 || !info[0].IsNumber())
    throw Napi::TypeError::New(info.Env(), "dropBoundingCap(n): n must be a number");
  int n = info[0].As<Napi::Number>().Int32Value();
  if (prctl(PR_CAPBSET_DROP, n, 0, 0, 0) != 0) return Fail(info.Env(), "PR_CAPBSET_DROP");
  return info.Env().Undefined();
}

// prctl(PR_SET_DUMPABLE, v).
Napi::Value SetDumpable(const Napi::CallbackInfo& info) {
  if (info.Length() < 1 || !info[0].IsNumber())
    throw Napi::TypeError::New(info.Env(), "setDumpable(v): v must be a number");
  if (prctl(PR_SET_DUMPABLE, info[0].As<Napi::Number>().Int32Value(), 0, 0, 0) != 0)
    return Fail(info.Env(), "PR_SET_DUMPABLE");
  return info.Env().Undefined();
}

// setrlimit(RLIMIT_CORE, {soft, hard}); -1 means RLIM_INFINITY.
Napi::Value SetCoreLimit(const Napi::CallbackInfo& info) {
  if (info.Length() < 2 || !info[0].IsNumber() || !info[1].IsNumber())
    throw Napi::TypeError::New(info.Env(), "setCoreLimit(soft, hard): numbers");
  auto conv = [](double v) { return v < 0 ? RLIM_INFINITY : static_cast<rlim_t>(v); };
  struct rlimit rl = {conv(info[0].As<Napi::Number>().DoubleValue()), conv(info[1].As<Napi::Number>().DoubleValue())};
  if (setrlimit(RLIMIT_CORE, &rl) != 0) return Fail(info.Env(), "setrlimit(RLIMIT_CORE)");
  return info.Env().Undefined();
}

// Same shape as the procguard addon's processState() (src/native.ts NativeProcessState), so tests
// can feed the monitor real PR_GET_DUMPABLE values before the harden addon lands.
Napi::Value ProcessState(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = Napi::Object::New(env);
  int d = prctl(PR_GET_DUMPABLE, 0, 0, 0, 0);
  o.Set("dumpable", Napi::Number::New(env, d < 0 ? -1 : d));
  struct rlimit rl;
  if (getrlimit(RLIMIT_CORE, &rl) == 0) {
    o.Set("coreSoft", Napi::Number::New(env, rl.rlim_cur == RLIM_INFINITY ? -1.0 : static_cast<double>(rl.rlim_cur)));
    o.Set("coreHard", Napi::Number::New(env, rl.rlim_max == RLIM_INFINITY ? -1.0 : static_cast<double>(rl.rlim_max)));
  } else {
    o.Set("coreSoft", env.Null());
    o.Set("coreHard", env.Null());
  }
  return o;
}

}  // namespace

void InitKernelHooks(Napi::Env env, Napi::Object exports) {
  exports.Set("setNoNewPrivs", Napi::Function::New(env, SetNoNewPrivs));
  exports.Set("installSeccompAllowAll", Napi::Function::New(env, InstallSeccompAllowAll));
  exports.Set("refuseProcessVmReadv", Napi::Function::New(env, RefuseProcessVmReadv));
  exports.Set("dropBoundingCap", Napi::Function::New(env, DropBoundingCap));
  exports.Set("setDumpable", Napi::Function::New(env, SetDumpable));
  exports.Set("setCoreLimit", Napi::Function::New(env, SetCoreLimit));
  exports.Set("processState", Napi::Function::New(env, ProcessState));
}
