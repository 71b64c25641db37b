// N-API glue is split by concern: each addon_<area>.cc registers its functions on the exports
// object. These files are the only ones that include napi.h; platform code returns plain structs.
#pragma once
#include <napi.h>

#include <new>
#include <stdexcept>
#include <string>

namespace pg {
void InitHarden(Napi::Env env, Napi::Object exports);
void InitHash(Napi::Env env, Napi::Object exports);
void InitMemory(Napi::Env env, Napi::Object exports);
void InitScanner(Napi::Env env, Napi::Object exports);
void InitWatch(Napi::Env env, Napi::Object exports);
void InitTree(Napi::Env env, Napi::Object exports);
void InitTreeSentinel(Napi::Env env, Napi::Object exports);

// Runs the body of a JS entry point. node-addon-api converts only Napi::Error into a JS exception;
// any other C++ exception unwinding into Node's C frames terminates the process (std::terminate).
// So every entry point runs through this: allocation failures (std::bad_alloc, std::length_error:
// input that asks for too much memory) become a RangeError, anything else an Error naming `name`.
template <typename Body>
auto ConvertExceptions(Napi::Env env, const char* name, Body&& body) -> decltype(body()) {
  try {
    return body();
  } catch (const Napi::Error&) {
    throw;
  } catch (const std::bad_alloc&) {
    throw Napi::RangeError::New(env, std::string(name) + ": the input needs more memory than can be allocated");
  } catch (const std::length_error&) {
    throw Napi::RangeError::New(env, std::string(name) + ": the input needs more memory than can be allocated");
  } catch (const std::exception& e) {
    throw Napi::Error::New(env, std::string(name) + ": " + e.what());
  } catch (...) {
    throw Napi::Error::New(env, std::string(name) + ": native exception");
  }
}

// exports[name] = fn, with its exceptions converted (ConvertExceptions).
inline void ExportFunction(Napi::Env env, Napi::Object exports, const char* name,
                           Napi::Value (*fn)(const Napi::CallbackInfo&)) {
  exports.Set(name, Napi::Function::New(
                        env,
                        [fn, name](const Napi::CallbackInfo& info) {
                          return ConvertExceptions(info.Env(), name, [&] { return fn(info); });
                        },
                        name));
}

// ObjectWrap classes derive from this and register InstanceMethod("x", &Cls::Safe<&Cls::XJs>): the
// method runs with its exceptions converted. `T::kName` names the class in the messages.
template <typename T>
class SafeMethods {
 public:
  template <Napi::Value (T::*M)(const Napi::CallbackInfo&)>
  Napi::Value Safe(const Napi::CallbackInfo& info) {
    return ConvertExceptions(info.Env(), T::kName, [&] { return (static_cast<T*>(this)->*M)(info); });
  }
};
}  // namespace pg
