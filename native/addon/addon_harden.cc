// N-API glue for process hardening: harden(opts), queryTracer(), processState().
// Arguments are validated here as well as in TypeScript, so a direct call into the
// binding with bad input raises a TypeError instead of crashing.
#include "addon.h"
#include "addon_args.h"
#include "harden.h"

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

// The native half of harden()'s options; src/harden validates them first with the user's names,
// so these checks guard the binding itself (a caller of the raw binding).
HardenOptions ParseOptions(const Napi::Value& v) {
  HardenOptions o;
  Napi::Object obj = ObjectArg(v, "harden: options");
  Napi::Value dry = obj.Get("dryRun");
  if (!dry.IsUndefined()) o.dryRun = BooleanArg(dry, "harden: options.dryRun");

  Napi::Value skip = obj.Get("skip");
  if (!skip.IsUndefined()) {
    const char* kSkip = "harden: options.skip must be an array of step ids";
    if (!skip.IsArray()) throw Napi::TypeError::New(v.Env(), kSkip);
    Napi::Array a = skip.As<Napi::Array>();
    for (uint32_t i = 0; i < a.Length(); i++) {
      Napi::Value e = a.Get(i);
      if (!e.IsString()) throw Napi::TypeError::New(v.Env(), kSkip);
      o.skip.push_back(e.As<Napi::String>().Utf8Value());
    }
  }

  Napi::Value dacl = obj.Get("dacl");
  if (!dacl.IsUndefined()) {
    if (!dacl.IsArray()) throw Napi::TypeError::New(v.Env(), "harden: options.dacl must be an array");
    Napi::Array a = dacl.As<Napi::Array>();
    for (uint32_t i = 0; i < a.Length(); i++) {
      const std::string at = "harden: options.dacl[" + std::to_string(i) + "]";
      Napi::Object ace = ObjectArg(a.Get(i), at);
      AceSpec s;
      s.allow = BooleanArg(ace.Get("allow"), at + ".allow");
      s.sid = StringArg(ace.Get("sid"), at + ".sid");
      s.mask = static_cast<uint32_t>(IntegerArg(ace.Get("mask"), at + ".mask", 1, 4294967295.0));
      o.dacl.push_back(s);
    }
  }
  return o;
}

Napi::Value HardenJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  HardenOptions o;
  if (info.Length() > 0 && !info[0].IsUndefined()) o = ParseOptions(info[0]);
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
