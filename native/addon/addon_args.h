// Reading JS arguments in the addon_*.cc glue: one helper per shape, so the same mistake gets the
// same TypeError (wrong type) or RangeError (right type, bad value) everywhere, and each message
// names the argument (`what`, e.g. "region.start" or "blake3: options.outLen").
#pragma once
#include <napi.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <initializer_list>
#include <string>

namespace pg {

// The largest integer a JS number holds exactly (Number.MAX_SAFE_INTEGER).
constexpr double kMaxSafeInteger = 9007199254740991.0;

// A bound as a message shows it: integers without a fraction, others shortest.
inline std::string BoundText(double x) {
  if (x == std::floor(x) && std::fabs(x) <= kMaxSafeInteger) return std::to_string(static_cast<int64_t>(x));
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", x);
  return buf;
}

// A bigint that fits in 64 bits unsigned (addresses, inode numbers, start times).
inline uint64_t BigU64Arg(const Napi::Value& v, const std::string& what) {
  if (!v.IsBigInt()) throw Napi::TypeError::New(v.Env(), what + " must be a bigint");
  bool lossless = false;
  uint64_t x = v.As<Napi::BigInt>().Uint64Value(&lossless);
  if (!lossless) throw Napi::RangeError::New(v.Env(), what + " must be a bigint from 0 to 2^64 - 1");
  return x;
}

// A number that is an integer from `min` to `max` (both within +-2^53, where doubles are exact).
// Checked as a double first: Int64Value() would wrap or truncate 2^64, 1.5 and NaN silently.
inline int64_t IntegerArg(const Napi::Value& v, const std::string& what, double min, double max) {
  if (!v.IsNumber()) throw Napi::TypeError::New(v.Env(), what + " must be a number");
  const double d = v.As<Napi::Number>().DoubleValue();
  if (!(d >= min && d <= max) || d != std::floor(d))
    throw Napi::RangeError::New(v.Env(), what + " must be an integer from " + BoundText(min) + " to " + BoundText(max));
  return static_cast<int64_t>(d);
}

// A count, offset or size: an integer from 0 to 2^53 - 1.
inline uint64_t CountArg(const Napi::Value& v, const std::string& what) {
  return static_cast<uint64_t>(IntegerArg(v, what, 0, kMaxSafeInteger));
}

// A file descriptor (a non-negative int).
inline int FdArg(const Napi::Value& v) { return static_cast<int>(IntegerArg(v, "fd", 0, 2147483647.0)); }

// A number from `min` to `max`; with `minExclusive`, greater than `min` (a CPU budget of 0 is no budget).
inline double NumberArg(const Napi::Value& v, const std::string& what, double min, double max,
                        bool minExclusive = false) {
  if (!v.IsNumber()) throw Napi::TypeError::New(v.Env(), what + " must be a number");
  const double d = v.As<Napi::Number>().DoubleValue();
  if (minExclusive ? !(d > min && d <= max) : !(d >= min && d <= max)) {
    const std::string range = minExclusive ? "in (" + BoundText(min) + ", " + BoundText(max) + "]"
                                           : "from " + BoundText(min) + " to " + BoundText(max);
    throw Napi::RangeError::New(v.Env(), what + " must be " + range);
  }
  return d;
}

inline std::string StringArg(const Napi::Value& v, const std::string& what) {
  if (!v.IsString()) throw Napi::TypeError::New(v.Env(), what + " must be a string");
  return v.As<Napi::String>().Utf8Value();
}

// One of a few names: returns its index in `choices`. A non-string is a TypeError, an unknown name
// a RangeError; both messages list the choices ("mode must be 'blake3' or 'fast'").
inline size_t ChoiceArg(const Napi::Value& v, const std::string& what, std::initializer_list<const char*> choices) {
  std::string list;
  size_t k = 0;
  for (const char* c : choices) {
    list += (k == 0 ? "'" : k + 1 == choices.size() ? " or '" : ", '") + std::string(c) + "'";
    ++k;
  }
  if (!v.IsString()) throw Napi::TypeError::New(v.Env(), what + " must be " + list);
  const std::string s = v.As<Napi::String>().Utf8Value();
  k = 0;
  for (const char* c : choices) {
    if (s == c) return k;
    ++k;
  }
  throw Napi::RangeError::New(v.Env(), what + " must be " + list);
}

inline bool BooleanArg(const Napi::Value& v, const std::string& what) {
  if (!v.IsBoolean()) throw Napi::TypeError::New(v.Env(), what + " must be a boolean");
  return v.As<Napi::Boolean>().Value();
}

inline Napi::Function FunctionArg(const Napi::Value& v, const std::string& what) {
  if (!v.IsFunction()) throw Napi::TypeError::New(v.Env(), what + " must be a function");
  return v.As<Napi::Function>();
}

// A plain object (not an array, not a typed array).
inline Napi::Object ObjectArg(const Napi::Value& v, const std::string& what) {
  if (!v.IsObject() || v.IsArray() || v.IsTypedArray())
    throw Napi::TypeError::New(v.Env(), what + " must be an object");
  return v.As<Napi::Object>();
}

// Periods of the native loops (watch, sentinel, tree sentinel), in milliseconds.
inline double PeriodMsArg(const Napi::Value& v) { return NumberArg(v, "periodMs", 10, 3600000); }

// A loop's CPU budget: a fraction of one core, above 0.
inline double BudgetArg(const Napi::Value& v) { return NumberArg(v, "budget", 0, 1, true); }

}  // namespace pg
