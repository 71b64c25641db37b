// N-API glue for process hardening: harden(opts), queryTracer(), processState().
// Arguments are validated here as well as in TypeScript, so a direct call into the
// binding with bad input raises a TypeError instead of crashing.
#include "addon.h"
#include "harden.h"

#include <cmath>

namespace pg {
namespace {

const char* StatusName(StepStatus s) {
  switch (s) {
    case StepStatus::Applied:
      return "applied";
    case StepStatus::Already:
      return "already";
    case StepStatus::Failed:
      return "failed";
    case StepStatus::Skipped:
      return "skipped";
    case StepStatus::Unsupported:
      break;
  }
  return "unsupported";
}

[[noreturn]] void ThrowType(Napi::Env env, const char* msg) { throw Napi::TypeError::New(env, msg); }

HardenOptions ParseOptions(Napi::Env env, const Napi::Value& v) {
  HardenOptions o;
  if (!v.IsObject() || v.IsArray()) ThrowType(env, "harden: options must be an object");
  Napi::Object obj = v.As<Napi::Object>();

  Napi::Value dry = obj.Get("dryRun");
  if (!dry.IsUndefined()) {
    if (!dry.IsBoolean()) ThrowType(env, "harden: options.dryRun must be a boolean");
    o.dryRun = dry.As<Napi::Boolean>().Value();
  }

  Napi::Value skip = obj.Get("skip");
  if (!skip.IsUndefined()) {
    if (!skip.IsArray()) ThrowType(env, "harden: options.skip must be an array of step ids");
    Napi::Array a = skip.As<Napi::Array>();
    for (uint32_t i = 0; i < a.Length(); i++) {
      Napi::Value e = a.Get(i);
      if (!e.IsString()) ThrowType(env, "harden: options.skip must be an array of step ids");
      o.skip.push_back(e.As<Napi::String>().Utf8Value());
    }
  }

  Napi::Value dacl = obj.Get("dacl");
  if (!dacl.IsUndefined()) {
    if (!dacl.IsArray()) ThrowType(env, "harden: options.dacl must be an array");
    Napi::Array a = dacl.As<Napi::Array>();
    for (uint32_t i = 0; i < a.Length(); i++) {
      Napi::Value e = a.Get(i);
      if (!e.IsObject()) ThrowType(env, "harden: options.dacl entries must be objects");
      Napi::Object ace = e.As<Napi::Object>();
      Napi::Value allow = ace.Get("allow"), sid = ace.Get("sid"), mask = ace.Get("mask");
      if (!allow.IsBoolean() || !sid.IsString() || !mask.IsNumber())
        ThrowType(env, "harden: options.dacl entries must be { allow: boolean, sid: string, mask: number }");
      double m = mask.As<Napi::Number>().DoubleValue();
      if (!(m >= 1 && m <= 4294967295.0) || std::floor(m) != m)
        throw Napi::RangeError::New(env, "harden: options.dacl mask must be an integer from 1 to 0xFFFFFFFF");
      AceSpec s;
      s.allow = allow.As<Napi::Boolean>().Value();
      s.sid = sid.As<Napi::String>().Utf8Value();
      s.mask = static_cast<uint32_t>(m);
      o.dacl.push_back(s);
    }
  }
  return o;
}

Napi::Value HardenJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  HardenOptions o;
  if (info.Length() > 0 && !info[0].IsUndefined()) o = ParseOptions(env, info[0]);
  std::vector<StepResult> steps = Harden(o);
  Napi::Array out = Napi::Array::New(env, steps.size());
  for (size_t i = 0; i < steps.size(); i++) {
    const StepResult& s = steps[i];
    Napi::Object js = Napi::Object::New(env);
    js.Set("id", s.id);
    js.Set("status", StatusName(s.status));
    js.Set("detail", s.detail);
    if (s.err != 0) js.Set("errno", Napi::Number::New(env, s.err));
    if (s.verified >= 0) js.Set("verified", Napi::Boolean::New(env, s.verified == 1));
    out.Set(static_cast<uint32_t>(i), js);
  }
  return out;
}

Napi::Value QueryTracerJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  TracerState t = QueryTracer();
  Napi::Object js = Napi::Object::New(env);
  js.Set("state", t.state);
  if (t.tracerPid > 0) js.Set("tracerPid", Napi::Number::New(env, static_cast<double>(t.tracerPid)));
  js.Set("detail", t.detail);
  return js;
}

Napi::Value ProcessStateJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  ProcessState s = QueryProcessState();
  Napi::Object js = Napi::Object::New(env);
  js.Set("dumpable", Napi::Number::New(env, s.dumpable));
  if (s.coreKnown) {
    js.Set("coreSoft", Napi::Number::New(env, static_cast<double>(s.coreSoft)));
    js.Set("coreHard", Napi::Number::New(env, static_cast<double>(s.coreHard)));
  } else {
    js.Set("coreSoft", env.Null());
    js.Set("coreHard", env.Null());
  }
  return js;
}

}  // namespace

void InitHarden(Napi::Env env, Napi::Object exports) {
  ExportFunction(env, exports, "harden", HardenJs);
  ExportFunction(env, exports, "queryTracer", QueryTracerJs);
  ExportFunction(env, exports, "processState", ProcessStateJs);
}

}  // namespace pg
