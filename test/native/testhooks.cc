// Test- and bench-only addon (test/native/build/Release/pg_testhooks.node, built by `npm test`). The library never
// loads it. It gives tests the primitives an attacker or a buggy loader would use in-process (dlopen cycles, the
// mprotect-write-mprotect hook, anonymous executable mappings) and gives the bench an unsafe direct-pointer sweep and a
// memory read-sum loop to compare the safe reader with.
#include <dlfcn.h>
#include <fcntl.h>
#include <napi.h>
#include <sys/mman.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <string>
#include <vector>

#include "hash/hash.h"

namespace {

uintptr_t Addr(const Napi::Value& v) {
  if (!v.IsBigInt()) throw Napi::TypeError::New(v.Env(), "address must be a bigint");
  bool lossless = false;
  return static_cast<uintptr_t>(v.As<Napi::BigInt>().Uint64Value(&lossless));
}

size_t Num(const Napi::Value& v, const char* what) {
  if (!v.IsNumber()) throw Napi::TypeError::New(v.Env(), std::string(what) + " must be a number");
  return static_cast<size_t>(v.As<Napi::Number>().Int64Value());
}

Napi::Value Big(Napi::Env env, uintptr_t a) { return Napi::BigInt::New(env, static_cast<uint64_t>(a)); }

Napi::Value DlOpen(const Napi::CallbackInfo& info) {
  std::string path = info[0].As<Napi::String>().Utf8Value();
  void* h = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!h) throw Napi::Error::New(info.Env(), std::string("dlopen: ") + dlerror());
  return Big(info.Env(), reinterpret_cast<uintptr_t>(h));
}

Napi::Value DlSym(const Napi::CallbackInfo& info) {
  void* h = reinterpret_cast<void*>(Addr(info[0]));
  std::string name = info[1].As<Napi::String>().Utf8Value();
  void* s = dlsym(h, name.c_str());
  return s ? Big(info.Env(), reinterpret_cast<uintptr_t>(s)) : info.Env().Null();
}

Napi::Value DlClose(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), dlclose(reinterpret_cast<void*>(Addr(info[0]))));
}

// Calls a `uint64_t (*)(void)` function (the test library's accessors).
Napi::Value Call0(const Napi::CallbackInfo& info) {
  auto fn = reinterpret_cast<uint64_t (*)(void)>(Addr(info[0]));
  return Napi::BigInt::New(info.Env(), fn());
}

// dlopen + dlclose `count` times on a pool thread, so sweeps can run concurrently.
class CycleWorker : public Napi::AsyncWorker {
 public:
  CycleWorker(Napi::Env env, std::string path, size_t count)
      : Napi::AsyncWorker(env), path_(std::move(path)), count_(count), deferred_(Napi::Promise::Deferred::New(env)) {}
  void Execute() override {
    for (size_t i = 0; i < count_; ++i) {
      void* h = dlopen(path_.c_str(), RTLD_NOW | RTLD_LOCAL);
      if (!h) {
        SetError(std::string("dlopen: ") + dlerror());
        return;
      }
      if (dlclose(h) != 0) {
        SetError("dlclose failed");
        return;
      }
      ++done_;
    }
  }
  void OnOK() override { deferred_.Resolve(Napi::Number::New(Env(), static_cast<double>(done_))); }
  void OnError(const Napi::Error& e) override { deferred_.Reject(e.Value()); }
  Napi::Promise Promise() { return deferred_.Promise(); }

 private:
  std::string path_;
  size_t count_, done_ = 0;
  Napi::Promise::Deferred deferred_;
};

Napi::Value DlOpenCycles(const Napi::CallbackInfo& info) {
  auto* w = new CycleWorker(info.Env(), info[0].As<Napi::String>().Utf8Value(), Num(info[1], "count"));
  Napi::Promise p = w->Promise();
  w->Queue();
  return p;
}

// The classic in-process hook: make the page writable, patch a byte, make it executable again.
// The kernel splits the mapping into three VMAs and the written page becomes anonymous (COW).
Napi::Value MprotectWrite(const Napi::CallbackInfo& info) {
  uintptr_t addr = Addr(info[0]);
  uint8_t xorMask = static_cast<uint8_t>(Num(info[1], "xor"));
  uintptr_t page = addr & ~(uintptr_t)(sysconf(_SC_PAGESIZE) - 1);
  size_t ps = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  if (mprotect(reinterpret_cast<void*>(page), ps, PROT_READ | PROT_WRITE) != 0)
    throw Napi::Error::New(info.Env(), std::string("mprotect RW: ") + strerror(errno));
  *reinterpret_cast<volatile uint8_t*>(addr) ^= xorMask;
  if (mprotect(reinterpret_cast<void*>(page), ps, PROT_READ | PROT_EXEC) != 0)
    throw Napi::Error::New(info.Env(), std::string("mprotect RX: ") + strerror(errno));
  return info.Env().Undefined();
}

// mmap(hint or fixed) an anonymous RW region, fill it, and flip it to R-X.
Napi::Value MapAnonExec(const Napi::CallbackInfo& info) {
  size_t size = Num(info[0], "size");
  // fill: one byte, or a Buffer repeated (an instruction wider than a byte: arm64's brk #0).
  std::vector<uint8_t> pattern;
  if (info[1].IsBuffer()) {
    auto b = info[1].As<Napi::Buffer<uint8_t>>();
    pattern.assign(b.Data(), b.Data() + b.Length());
  } else {
    pattern.push_back(static_cast<uint8_t>(Num(info[1], "fill")));
  }
  if (pattern.empty() || size % pattern.size() != 0)
    throw Napi::RangeError::New(info.Env(), "mapAnonExec: the fill pattern must divide the size");
  uintptr_t fixed = info.Length() > 2 && info[2].IsBigInt() ? Addr(info[2]) : 0;
  int flags = MAP_PRIVATE | MAP_ANONYMOUS | (fixed ? MAP_FIXED : 0);
  void* p = mmap(reinterpret_cast<void*>(fixed), size, PROT_READ | PROT_WRITE, flags, -1, 0);
  if (p == MAP_FAILED) throw Napi::Error::New(info.Env(), std::string("mmap: ") + strerror(errno));
  for (size_t i = 0; i < size; i += pattern.size())
    memcpy(static_cast<uint8_t*>(p) + i, pattern.data(), pattern.size());
  if (mprotect(p, size, PROT_READ | PROT_EXEC) != 0)
    throw Napi::Error::New(info.Env(), std::string("mprotect: ") + strerror(errno));
  return Big(info.Env(), reinterpret_cast<uintptr_t>(p));
}

// Bench workload: mmap a file PROT_READ|PROT_EXEC MAP_PRIVATE (it shows in /proc/self/maps as
// file-backed r-xp code, like a large library) and, when asked, make every page resident:
// MAP_POPULATE maps the page-cache pages and a read of each page makes sure of it.
Napi::Value MapFileExec(const Napi::CallbackInfo& info) {
  std::string path = info[0].As<Napi::String>().Utf8Value();
  size_t size = Num(info[1], "size");
  bool populate = info.Length() > 2 && info[2].ToBoolean().Value();
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw Napi::Error::New(info.Env(), std::string("open: ") + strerror(errno));
  void* p = mmap(nullptr, size, PROT_READ | PROT_EXEC, MAP_PRIVATE | (populate ? MAP_POPULATE : 0), fd, 0);
  int err = errno;
  close(fd);  // the mapping keeps the file referenced
  if (p == MAP_FAILED) throw Napi::Error::New(info.Env(), std::string("mmap: ") + strerror(err));
  if (populate) {
    madvise(p, size, MADV_WILLNEED);
    uint64_t sum = 0;
    for (size_t off = 0; off < size; off += static_cast<size_t>(sysconf(_SC_PAGESIZE)))
      sum += *(reinterpret_cast<const volatile uint8_t*>(p) + off);
    (void)sum;
  }
  return Big(info.Env(), reinterpret_cast<uintptr_t>(p));
}

Napi::Value Munmap(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), munmap(reinterpret_cast<void*>(Addr(info[0])), Num(info[1], "size")));
}

uint64_t NowNs() {
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
          .count());
}

// Bench reference: hash regions through raw pointers (what an unsafe checker does).
Napi::Value UnsafeSweep(const Napi::CallbackInfo& info) {
  Napi::Array regions = info[0].As<Napi::Array>();
  bool fast = info[1].As<Napi::String>().Utf8Value() == "fast";
  size_t batch = info.Length() > 2 ? Num(info[2], "batch") : 16;
  uint8_t digests[1024 * pg::hash::kDigestSize];
  uint64_t bytes = 0, t0 = NowNs();
  for (uint32_t i = 0; i < regions.Length(); ++i) {
    Napi::Object r = regions.Get(i).As<Napi::Object>();
    uintptr_t start = Addr(r.Get("start")), end = Addr(r.Get("end"));
    for (uintptr_t p = start; p < end; p += batch * pg::hash::kPageSize) {
      size_t n = std::min<size_t>(batch, (end - p) / pg::hash::kPageSize);
      pg::hash::HashPages(fast ? pg::hash::Mode::Fast : pg::hash::Mode::Blake3, reinterpret_cast<const uint8_t*>(p), n,
                          digests);
      bytes += n * pg::hash::kPageSize;
    }
  }
  Napi::Object o = Napi::Object::New(info.Env());
  o.Set("ns", static_cast<double>(NowNs() - t0));
  o.Set("bytes", static_cast<double>(bytes));
  return o;
}

// Bench reference: the physical limit, a plain 64-bit read-sum over the same regions.
Napi::Value MemReadSum(const Napi::CallbackInfo& info) {
  Napi::Array regions = info[0].As<Napi::Array>();
  uint64_t bytes = 0, t0 = NowNs();
  uint64_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  for (uint32_t i = 0; i < regions.Length(); ++i) {
    Napi::Object r = regions.Get(i).As<Napi::Object>();
    const volatile uint64_t* p = reinterpret_cast<const volatile uint64_t*>(Addr(r.Get("start")));
    const volatile uint64_t* e = reinterpret_cast<const volatile uint64_t*>(Addr(r.Get("end")));
    bytes += (e - p) * 8;
    for (; p + 4 <= e; p += 4) {
      s0 += p[0];
      s1 += p[1];
      s2 += p[2];
      s3 += p[3];
    }
  }
  Napi::Object o = Napi::Object::New(info.Env());
  o.Set("ns", static_cast<double>(NowNs() - t0));
  o.Set("bytes", static_cast<double>(bytes));
  o.Set("sum", Napi::BigInt::New(info.Env(), s0 + s1 + s2 + s3));
  return o;
}

}  // namespace

void InitKernelHooks(Napi::Env env, Napi::Object exports);

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("dlopen", Napi::Function::New(env, DlOpen));
  exports.Set("dlsym", Napi::Function::New(env, DlSym));
  exports.Set("dlclose", Napi::Function::New(env, DlClose));
  exports.Set("call0", Napi::Function::New(env, Call0));
  exports.Set("dlopenCycles", Napi::Function::New(env, DlOpenCycles));
  exports.Set("mprotectWrite", Napi::Function::New(env, MprotectWrite));
  exports.Set("mapAnonExec", Napi::Function::New(env, MapAnonExec));
  exports.Set("munmap", Napi::Function::New(env, Munmap));
  exports.Set("mapFileExec", Napi::Function::New(env, MapFileExec));
  exports.Set("unsafeSweep", Napi::Function::New(env, UnsafeSweep));
  exports.Set("memReadSum", Napi::Function::New(env, MemReadSum));
  InitKernelHooks(env, exports);
  return exports;
}

NODE_API_MODULE(pg_testhooks, Init)
