// N-API glue for safe memory access (memory.h).
#include <cstring>

#include "addon.h"
#include "addon_args.h"
#include "canary.h"
#include "memory.h"

namespace pg {
namespace {

uintptr_t AddressArg(const Napi::Value& v) { return static_cast<uintptr_t>(BigU64Arg(v, "address")); }

size_t LengthArg(const Napi::Value& v, size_t max) {
  return static_cast<size_t>(IntegerArg(v, "length", 0, static_cast<double>(max)));
}

Napi::Value ReadMemory(const Napi::CallbackInfo& info) {
  uintptr_t addr = AddressArg(info[0]);
  size_t len = LengthArg(info[1], 64u << 20);
  std::vector<uint8_t> buf(len);
  int err = 0;
  size_t n = SafeRead(addr, buf.data(), len, &err);
  if (n == 0 && len > 0) return info.Env().Null();
  return Napi::Buffer<uint8_t>::Copy(info.Env(), buf.data(), n);
}

Napi::Value ResidencyJs(const Napi::CallbackInfo& info) {
  uintptr_t addr = AddressArg(info[0]);
  size_t len = LengthArg(info[1], size_t(1) << 40);
  std::vector<uint8_t> out;
  int err = 0;
  if (!Residency(addr, len, &out, &err)) return info.Env().Null();
  auto arr = Napi::Uint8Array::New(info.Env(), out.size());
  if (!out.empty()) std::memcpy(arr.Data(), out.data(), out.size());
  return arr;
}

Napi::Value OpenPagemapJs(const Napi::CallbackInfo& info) {
  int err = 0;
  std::string detail;
  bool ok = OpenPagemap(&err, &detail);
  Napi::Object o = Napi::Object::New(info.Env());
  o.Set("ok", ok);
  if (!ok) o.Set("errno", err);
  o.Set("detail", detail);
  return o;
}

Napi::Value PagemapStatesJs(const Napi::CallbackInfo& info) {
  uintptr_t addr = AddressArg(info[0]);
  size_t len = LengthArg(info[1], size_t(1) << 40);
  std::vector<uint8_t> out;
  int err = 0;
  if (!PagemapStates(addr, len, &out, &err)) return info.Env().Null();
  auto arr = Napi::Uint8Array::New(info.Env(), out.size());
  if (!out.empty()) std::memcpy(arr.Data(), out.data(), out.size());
  return arr;
}

Napi::Value ExecutableRegionsJs(const Napi::CallbackInfo& info) {
  std::vector<ExecRegion> regions;
  int err = 0;
  if (!ExecutableRegions(&regions, &err)) return info.Env().Null();
  Napi::Array arr = Napi::Array::New(info.Env(), regions.size());
  for (size_t i = 0; i < regions.size(); ++i) {
    Napi::Object o = Napi::Object::New(info.Env());
    o.Set("start", Napi::BigInt::New(info.Env(), static_cast<uint64_t>(regions[i].start)));
    o.Set("end", Napi::BigInt::New(info.Env(), static_cast<uint64_t>(regions[i].end)));
    o.Set("protect", regions[i].protect);
    o.Set("path", regions[i].path.empty() ? info.Env().Null() : Napi::String::New(info.Env(), regions[i].path));
    o.Set("type", regions[i].type);
    o.Set("allocationBase", Napi::BigInt::New(info.Env(), static_cast<uint64_t>(regions[i].allocationBase)));
    o.Set("allocationEnd", Napi::BigInt::New(info.Env(), static_cast<uint64_t>(regions[i].allocationEnd)));
    o.Set("fileOffset", regions[i].fileOffset >= 0
                            ? Napi::Number::New(info.Env(), static_cast<double>(regions[i].fileOffset))
                            : info.Env().Null());
    if (regions[i].hasFileId) {
      o.Set("dev", Napi::BigInt::New(info.Env(), regions[i].dev));
      o.Set("ino", Napi::BigInt::New(info.Env(), regions[i].ino));
    }
    arr.Set(static_cast<uint32_t>(i), o);
  }
  return arr;
}

// Which safe reader the process uses (memory.h MemoryReader); null where the OS call is the only one.
Napi::Value MemoryReaderJs(const Napi::CallbackInfo& info) {
#if defined(__linux__)
  const MemoryReaderState s = MemoryReaderNow();
  static const char* const kNames[] = {"unknown", "process_vm_readv", "proc-mem", "none"};
  Napi::Object o = Napi::Object::New(info.Env());
  o.Set("reader", kNames[static_cast<int>(s.reader)]);
  if (s.refusedErrno) {
    o.Set("errno", s.refusedErrno);
    o.Set("detail", std::string("process_vm_readv: ") + strerror(s.refusedErrno));
  }
  o.Set("memFdOpen", s.memFdOpen);
  return o;
#else
  return info.Env().Null();
#endif
}

Napi::Value PageSizeJs(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(PageSize()));
}

Napi::Value CanaryJs(const Napi::CallbackInfo& info) {
  uintptr_t start = 0;
  size_t size = 0;
  if (!CanaryPage(&start, &size)) return info.Env().Null();
  Napi::Object o = Napi::Object::New(info.Env());
  o.Set("start", Napi::BigInt::New(info.Env(), static_cast<uint64_t>(start)));
  o.Set("size", static_cast<double>(size));
  return o;
}

}  // namespace

void InitMemory(Napi::Env env, Napi::Object exports) {
  ExportFunction(env, exports, "readMemory", ReadMemory);
  ExportFunction(env, exports, "residency", ResidencyJs);
  ExportFunction(env, exports, "openPagemap", OpenPagemapJs);
  ExportFunction(env, exports, "pagemapStates", PagemapStatesJs);
  ExportFunction(env, exports, "executableRegions", ExecutableRegionsJs);
  ExportFunction(env, exports, "pageSize", PageSizeJs);
  ExportFunction(env, exports, "memoryReader", MemoryReaderJs);
  ExportFunction(env, exports, "selftestCanary", CanaryJs);
}

}  // namespace pg
