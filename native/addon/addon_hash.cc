// N-API glue for native/hash: blake3(), hashPages(), crc32c(), hashBackends(), setHashBackends().
// They hash synchronously on the calling thread, so they suit small inputs (the selftest, tests,
// the benchmark's hash-only rows); the code monitor never calls them: it hashes on the engine's
// own threads through hash.h. A `backend` argument selects a
// kernel for that call only (passed down explicitly, no shared state is changed).
#include <string>

#include "addon.h"
#include "addon_args.h"
#include "hash/hash.h"

namespace pg {
namespace {

constexpr size_t kMaxOutLen = size_t(1) << 24;  // 16 MiB of extended output is plenty for tests

struct Bytes {
  const uint8_t* data;
  size_t len;
};

Bytes GetBytes(const Napi::Env& env, const Napi::Value& v, const char* fn, const char* what) {
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array)
    throw Napi::TypeError::New(env, std::string(fn) + ": " + what + " must be a Uint8Array");
  Napi::Uint8Array a = v.As<Napi::Uint8Array>();
  return {a.Data(), a.ElementLength()};
}

std::string Join(const std::vector<std::string>& names) {
  std::string s;
  for (const auto& n : names) s += (s.empty() ? "" : ", ") + n;
  return s;
}

// Resolves an optional backend name; nullptr means the process default.
const hash::Blake3Kernel* Blake3Backend(const Napi::Env& env, const Napi::Value& v, const char* fn) {
  if (v.IsUndefined()) return nullptr;
  std::string name = StringArg(v, std::string(fn) + ": backend");
  const hash::Blake3Kernel* k = hash::FindBlake3Kernel(name);
  if (!k)
    throw Napi::RangeError::New(env, std::string(fn) + ": unknown blake3 backend \"" + name +
                                         "\" (available: " + Join(hash::Blake3Backends()) + ")");
  return k;
}

const hash::Crc32cKernel* Crc32cBackend(const Napi::Env& env, const Napi::Value& v, const char* fn) {
  if (v.IsUndefined()) return nullptr;
  std::string name = StringArg(v, std::string(fn) + ": backend");
  const hash::Crc32cKernel* k = hash::FindCrc32cKernel(name);
  if (!k)
    throw Napi::RangeError::New(env, std::string(fn) + ": unknown crc32c backend \"" + name +
                                         "\" (available: " + Join(hash::Crc32cBackends()) + ")");
  return k;
}

// blake3(data, { key?, context?, outLen?, backend? }) -> Buffer
Napi::Value Blake3Js(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Bytes data = GetBytes(env, info[0], "blake3", "data");
  Napi::Value optsV = info[1];
  Napi::Object opts;
  if (!optsV.IsUndefined()) opts = ObjectArg(optsV, "blake3: options");
  auto field = [&](const char* name) -> Napi::Value { return opts.IsEmpty() ? env.Undefined() : opts.Get(name); };
  const hash::Blake3Kernel* kernel = Blake3Backend(env, field("backend"), "blake3");

  size_t outLen = 32;
  Napi::Value outLenV = field("outLen");
  if (!outLenV.IsUndefined())
    outLen = static_cast<size_t>(IntegerArg(outLenV, "blake3: options.outLen", 0, static_cast<double>(kMaxOutLen)));

  Napi::Value keyV = field("key");
  Napi::Value contextV = field("context");
  if (!keyV.IsUndefined() && !contextV.IsUndefined())
    throw Napi::TypeError::New(env, "blake3: options.key and options.context cannot be used together");

  hash::Blake3 hasher(kernel);
  if (!keyV.IsUndefined()) {
    Bytes key = GetBytes(env, keyV, "blake3", "options.key");
    if (key.len != 32) throw Napi::RangeError::New(env, "blake3: options.key must be 32 bytes long");
    hasher = hash::Blake3::Keyed(key.data, kernel);
  } else if (!contextV.IsUndefined()) {
    std::string context = StringArg(contextV, "blake3: options.context");  // UTF-8, as the spec says
    hasher = hash::Blake3::DeriveKey(reinterpret_cast<const uint8_t*>(context.data()), context.size(), kernel);
  }
  // Re-read the data pointer: option getters can run user code, but cannot detach a Uint8Array
  // without the length becoming 0, which GetBytes would then report consistently.
  data = GetBytes(env, info[0], "blake3", "data");
  hasher.Update(data.data, data.len);
  Napi::Buffer<uint8_t> out = Napi::Buffer<uint8_t>::New(env, outLen);
  hasher.Finalize(out.Data(), outLen);
  return out;
}

// blake3Parts(parts: Uint8Array[]) -> Buffer of 32 bytes: BLAKE3 of the parts' concatenation, without
// concatenating them (the manifest's file digest over a few MiB of page digests: a Buffer.concat of
// that size costs a page fault per 4 KiB of fresh memory on the JS thread).
Napi::Value Blake3PartsJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsArray()) throw Napi::TypeError::New(env, "blake3Parts: parts must be an array of Uint8Array");
  Napi::Array parts = info[0].As<Napi::Array>();
  hash::Blake3 hasher(nullptr);
  for (uint32_t i = 0; i < parts.Length(); ++i) {
    // Each part's pointer is taken right before it is hashed: a getter cannot detach it in between.
    Bytes b = GetBytes(env, parts.Get(i), "blake3Parts", "each part");
    hasher.Update(b.data, b.len);
  }
  Napi::Buffer<uint8_t> out = Napi::Buffer<uint8_t>::New(env, 32);
  hasher.Finalize(out.Data(), 32);
  return out;
}

// hashPages(data, mode, backend?) -> Buffer of 16 bytes per 4 KiB page
Napi::Value HashPagesJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Bytes data = GetBytes(env, info[0], "hashPages", "data");
  const bool blake3 = ChoiceArg(info[1], "hashPages: mode", {"blake3", "fast"}) == 0;
  if (data.len % hash::kPageSize != 0)
    throw Napi::RangeError::New(env,
                                "hashPages: data length " + std::to_string(data.len) + " is not a multiple of 4096");
  const size_t pages = data.len / hash::kPageSize;
  Napi::Buffer<uint8_t> out;
  if (blake3) {
    const hash::Blake3Kernel* k = Blake3Backend(env, info[2], "hashPages");
    out = Napi::Buffer<uint8_t>::New(env, pages * hash::kDigestSize);
    hash::Blake3Pages(k, data.data, pages, out.Data());
  } else {
    const hash::Crc32cKernel* k = Crc32cBackend(env, info[2], "hashPages");
    out = Napi::Buffer<uint8_t>::New(env, pages * hash::kDigestSize);
    hash::FastPages(k, data.data, pages, out.Data());
  }
  return out;
}

// crc32c(data, backend?) -> uint32
Napi::Value Crc32cJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Bytes data = GetBytes(env, info[0], "crc32c", "data");
  const hash::Crc32cKernel* k = Crc32cBackend(env, info[1], "crc32c");
  return Napi::Number::New(env, hash::Crc32c(k, data.data, data.len));
}

Napi::Array Strings(const Napi::Env& env, const std::vector<std::string>& v) {
  Napi::Array a = Napi::Array::New(env, v.size());
  for (uint32_t i = 0; i < v.size(); ++i) a.Set(i, Napi::String::New(env, v[i]));
  return a;
}

// hashBackends() -> { blake3, blake3Active, crc32c, crc32cActive }
Napi::Value HashBackendsJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = Napi::Object::New(env);
  o.Set("blake3", Strings(env, hash::Blake3Backends()));
  o.Set("blake3Active", hash::Blake3Active());
  o.Set("crc32c", Strings(env, hash::Crc32cBackends()));
  o.Set("crc32cActive", hash::Crc32cActive());
  return o;
}

// setHashBackends({ blake3?, crc32c? }): the process-wide kernels every later hash uses (the engine's
// passes, the sentinel). For the benchmark's per-route rows and tests: every kernel computes the same
// digests, so this changes speed only. An unknown name is a RangeError listing the available ones.
Napi::Value SetHashBackendsJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = ObjectArg(info[0], "setHashBackends: options");
  // Both names are checked before either is set: a bad call changes nothing.
  Napi::Value b = o.Get("blake3"), c = o.Get("crc32c");
  const bool setB = Blake3Backend(env, b, "setHashBackends") != nullptr;
  const bool setC = Crc32cBackend(env, c, "setHashBackends") != nullptr;
  if (setB) hash::SetBlake3Backend(b.As<Napi::String>().Utf8Value());
  if (setC) hash::SetCrc32cBackend(c.As<Napi::String>().Utf8Value());
  return HashBackendsJs(info);
}

}  // namespace

void InitHash(Napi::Env env, Napi::Object exports) {
  ExportFunction(env, exports, "blake3", Blake3Js);
  ExportFunction(env, exports, "blake3Parts", Blake3PartsJs);
  ExportFunction(env, exports, "hashPages", HashPagesJs);
  ExportFunction(env, exports, "crc32c", Crc32cJs);
  ExportFunction(env, exports, "hashBackends", HashBackendsJs);
  ExportFunction(env, exports, "setHashBackends", SetHashBackendsJs);
}

}  // namespace pg
