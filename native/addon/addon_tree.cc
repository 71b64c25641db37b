// N-API glue for the process tree's code check (tree.h): one AsyncWorker per tree pass, so the
// pagemap walks (Windows: the executable sections of the main module and DLLs), remote reads and
// comparisons run off the JS thread.
#include "addon.h"

#if defined(__linux__) || defined(_WIN32)
#include <cstdlib>

#include "addon_tree.h"
#include "tree.h"

namespace pg {
namespace {

#ifdef _WIN32
constexpr double kMaxPid = 2147483647.0;  // a DWORD, multiples of 4 in practice; kept within int
#else
constexpr double kMaxPid = 4194304.0;  // PID_MAX_LIMIT
#endif

uint64_t BigU64(const Napi::Value& v, const char* what) {
  if (!v.IsBigInt()) throw Napi::TypeError::New(v.Env(), std::string(what) + " must be a bigint");
  bool lossless = false;
  uint64_t x = v.As<Napi::BigInt>().Uint64Value(&lossless);
  if (!lossless) throw Napi::RangeError::New(v.Env(), std::string(what) + " out of range");
  return x;
}

uint64_t NumU64(const Napi::Value& v, const char* what, double max) {
  if (!v.IsNumber()) throw Napi::TypeError::New(v.Env(), std::string(what) + " must be a number");
  double d = v.As<Napi::Number>().DoubleValue();
  if (!(d >= 0) || d > max || d != static_cast<double>(static_cast<uint64_t>(d)))
    throw Napi::RangeError::New(v.Env(), std::string(what) + " must be an integer from 0 to " + std::to_string(max));
  return static_cast<uint64_t>(d);
}

}  // namespace

Napi::Object TreeResultObject(Napi::Env env, const TreeJobResult& r) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("pid", r.pid);
  o.Set("ok", r.ok);
  if (!r.ok) {
    o.Set("errno", r.err);
    o.Set("detail", r.detail);
  }
  o.Set("pages", static_cast<double>(r.pages));
  o.Set("filePages", static_cast<double>(r.filePages));
  o.Set("pagemapBytes", static_cast<double>(r.pagemapBytes));
  o.Set("readBytes", static_cast<double>(r.readBytes));
  o.Set("pagemapScan", r.pagemapScan);
  o.Set("writtenPages", static_cast<double>(r.writtenPages));
  if (!r.fileStalled.empty()) o.Set("fileStalled", r.fileStalled);
  if (r.unsupported) o.Set("unsupported", true);
  if (!r.module.empty()) {
    o.Set("module", r.module);
    o.Set("imageBase", Napi::BigInt::New(env, r.imageBase));
    o.Set("relocationDelta", Napi::BigInt::New(env, r.relocationDelta));
  }
#ifdef _WIN32
  Napi::Array mods = Napi::Array::New(env, r.modules.size());
  for (size_t i = 0; i < r.modules.size(); ++i) {
    const TreeModuleResult& m = r.modules[i];
    Napi::Object mo = Napi::Object::New(env);
    mo.Set("path", m.path);
    mo.Set("base", Napi::BigInt::New(env, m.base));
    mo.Set("relocationDelta", Napi::BigInt::New(env, m.relocationDelta));
    mo.Set("ok", m.ok);
    if (!m.ok) {
      mo.Set("errno", m.err);
      mo.Set("detail", m.detail);
    }
    if (m.unsupported) mo.Set("unsupported", true);
    mo.Set("pages", static_cast<double>(m.pages));
    mo.Set("filePages", static_cast<double>(m.filePages));
    mods.Set(static_cast<uint32_t>(i), mo);
  }
  o.Set("modules", mods);
  Napi::Array bases = Napi::Array::New(env, r.loadedBases.size());
  for (size_t i = 0; i < r.loadedBases.size(); ++i)
    bases.Set(static_cast<uint32_t>(i), Napi::BigInt::New(env, r.loadedBases[i]));
  o.Set("loadedBases", bases);
  o.Set("nextModuleCursor", Napi::BigInt::New(env, r.nextModuleCursor));
#endif
  Napi::Array hits = Napi::Array::New(env, r.hits.size());
  for (size_t h = 0; h < r.hits.size(); ++h) {
    const TreePageHit& p = r.hits[h];
    Napi::Object ho = Napi::Object::New(env);
    ho.Set("region", p.region);
    ho.Set("address", Napi::BigInt::New(env, p.address));
    ho.Set("fileOffset", static_cast<double>(p.fileOffset));
    ho.Set("state", p.state);
    if (p.firstDiff >= 0) {
      ho.Set("firstDiff", static_cast<double>(p.firstDiff));
      ho.Set("diffBytes", p.diffBytes);
      ho.Set("fileByte", p.fileByte);
      ho.Set("memByte", p.memByte);
    }
    if (!p.detail.empty()) ho.Set("detail", p.detail);
    hits.Set(static_cast<uint32_t>(h), ho);
  }
  o.Set("hits", hits);
  return o;
}

std::vector<TreeRegion> TreeRegionsArg(const Napi::Value& v, const char* what) {
  Napi::Env env = v.Env();
  const std::string w(what);
  if (!v.IsArray()) throw Napi::TypeError::New(env, w + ": job.regions must be an array");
  Napi::Array ra = v.As<Napi::Array>();
  // Lengths size allocations (a sparse array can claim 2^32 - 1 elements): bounded first.
  if (ra.Length() > kTreeMaxRegions)
    throw Napi::RangeError::New(env, w + ": at most " + std::to_string(kTreeMaxRegions) + " regions per job");
  std::vector<TreeRegion> out(ra.Length());
  uint64_t bytes = 0;
  for (uint32_t k = 0; k < ra.Length(); ++k) {
    Napi::Value rv = ra.Get(k);
    if (!rv.IsObject()) throw Napi::TypeError::New(env, w + ": each region must be an object");
    Napi::Object ro = rv.As<Napi::Object>();
    TreeRegion& r = out[k];
    r.start = BigU64(ro.Get("start"), "region.start");
    r.end = BigU64(ro.Get("end"), "region.end");
    if (r.end <= r.start || (r.start & 4095) != 0 || (r.end & 4095) != 0)
      throw Napi::RangeError::New(env, w + ": region must be a non-empty page-aligned range");
    bytes += r.end - r.start;
    if (r.end - r.start > kTreeMaxJobBytes || bytes > kTreeMaxJobBytes)
      throw Napi::RangeError::New(
          env, w + ": a job's regions cover more than " + std::to_string(kTreeMaxJobBytes) + " bytes");
    r.fileOffset = NumU64(ro.Get("fileOffset"), "region.fileOffset", 9007199254740991.0);
    if (!ro.Get("path").IsString()) throw Napi::TypeError::New(env, w + ": region.path must be a string");
    r.path = ro.Get("path").As<Napi::String>().Utf8Value();
    r.devMajor = static_cast<uint32_t>(NumU64(ro.Get("devMajor"), "region.devMajor", 4294967295.0));
    r.devMinor = static_cast<uint32_t>(NumU64(ro.Get("devMinor"), "region.devMinor", 4294967295.0));
    r.ino = BigU64(ro.Get("ino"), "region.ino");
  }
  return out;
}

namespace {

class TreeScanWorker : public Napi::AsyncWorker {
 public:
  TreeScanWorker(Napi::Env env, std::vector<TreeJob> jobs)
      : Napi::AsyncWorker(env, "procguard:treeCodeScan"),
        deferred_(Napi::Promise::Deferred::New(env)),
        jobs_(std::move(jobs)) {}
  Napi::Promise Promise() { return deferred_.Promise(); }

  void Execute() override { TreeCodeScan(jobs_, &results_); }

  // Building the answer can fail too (std::bad_alloc): reject rather than let it reach Node.
  void OnOK() override {
    try {
      deferred_.Resolve(ConvertExceptions(Env(), "treeCodeScan", [this] { return Results(); }));
    } catch (const Napi::Error& e) {
      deferred_.Reject(e.Value());
    }
  }
  void OnError(const Napi::Error& e) override { deferred_.Reject(e.Value()); }

 private:
  Napi::Value Results() {
    Napi::Env env = Env();
    Napi::Array arr = Napi::Array::New(env, results_.size());
    for (size_t i = 0; i < results_.size(); ++i) arr.Set(static_cast<uint32_t>(i), TreeResultObject(env, results_[i]));
    return arr;
  }

  Napi::Promise::Deferred deferred_;
  std::vector<TreeJob> jobs_;
  std::vector<TreeJobResult> results_;
};

// treeCodeScan(jobs: { pid, regions: { start, end, fileOffset, path, devMajor, devMinor, ino }[] }[]): Promise<...>
Napi::Value TreeCodeScanJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsArray()) throw Napi::TypeError::New(env, "treeCodeScan: jobs must be an array");
  Napi::Array ja = info[0].As<Napi::Array>();
  // Lengths size allocations (a sparse array can claim 2^32 - 1 elements): bounded first.
  if (ja.Length() > kTreeMaxJobs)
    throw Napi::RangeError::New(env, "treeCodeScan: at most " + std::to_string(kTreeMaxJobs) + " jobs");
  std::vector<TreeJob> jobs(ja.Length());
  for (uint32_t i = 0; i < ja.Length(); ++i) {
    Napi::Value jv = ja.Get(i);
    if (!jv.IsObject()) throw Napi::TypeError::New(env, "treeCodeScan: each job must be an object");
    Napi::Object jo = jv.As<Napi::Object>();
    jobs[i].pid = static_cast<int>(NumU64(jo.Get("pid"), "pid", kMaxPid));
    if (jobs[i].pid <= 0) throw Napi::RangeError::New(env, "treeCodeScan: pid must be positive");
    Napi::Value st = jo.Get("startTicks");
    if (!st.IsUndefined()) jobs[i].startTicks = BigU64(st, "startTicks");
#ifdef _WIN32
    // Windows: the process's creation time (checked after opening it); the modules are found natively,
    // the DLLs from moduleCursor on within moduleBudget bytes (tree.h).
    jobs[i].startTime = BigU64(jo.Get("startTime"), "job.startTime");
    Napi::Value cursor = jo.Get("moduleCursor");
    if (!cursor.IsUndefined()) jobs[i].moduleCursor = BigU64(cursor, "job.moduleCursor");
    Napi::Value budget = jo.Get("moduleBudget");
    if (!budget.IsUndefined()) {
      jobs[i].moduleBudget = NumU64(budget, "job.moduleBudget", static_cast<double>(kTreeMaxJobBytes));
      if (jobs[i].moduleBudget == 0)
        throw Napi::RangeError::New(env, "treeCodeScan: job.moduleBudget must be positive");
    }
    continue;
#endif
    jobs[i].regions = TreeRegionsArg(jo.Get("regions"), "treeCodeScan");
  }
  auto* w = new TreeScanWorker(env, std::move(jobs));
  Napi::Promise p = w->Promise();
  w->Queue();
  return p;
}

#ifdef _WIN32
// treeProcesses(root: number): the descendants with command line and sandbox facts (tree_win.cc).
Napi::Value TreeProcessesJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  uint32_t root = static_cast<uint32_t>(NumU64(info[0], "root", kMaxPid));
  if (root == 0) throw Napi::RangeError::New(env, "treeProcesses: root must be a positive pid");
  std::vector<TreeProcessInfo> out;
  int err = 0;
  std::string detail;
  if (!TreeProcessesWin(root, &out, &err, &detail)) throw Napi::Error::New(env, "treeProcesses: " + detail);
  Napi::Array arr = Napi::Array::New(env, out.size());
  for (size_t i = 0; i < out.size(); ++i) {
    const TreeProcessInfo& p = out[i];
    Napi::Object o = Napi::Object::New(env);
    o.Set("pid", p.pid);
    o.Set("ppid", p.ppid);
    o.Set("startTime", Napi::BigInt::New(env, p.startTime));
    o.Set("exe", p.exe.empty() ? env.Null() : Napi::String::New(env, p.exe));
    o.Set("commandLine", p.commandLineRead ? Napi::Value(Napi::String::New(env, p.commandLine)) : env.Null());
    auto fact = [&](const char* k, int v) {
      o.Set(k, v < 0 ? env.Null() : Napi::Value(Napi::Boolean::New(env, v != 0)));
    };
    o.Set("integrityRid", p.integrityRid < 0 ? env.Null() : Napi::Value(Napi::Number::New(env, p.integrityRid)));
    fact("appContainer", p.appContainer);
    fact("restrictedToken", p.restrictedToken);
    fact("inJob", p.inJob);
    fact("dynamicCodeProhibited", p.dynamicCodeProhibited);
    fact("microsoftSignedOnly", p.microsoftSignedOnly);
    fact("noRemoteImages", p.noRemoteImages);
    fact("strictHandleChecks", p.strictHandleChecks);
    fact("debugPort", p.debugPort);
    if (!p.detail.empty()) o.Set("detail", p.detail);
    arr.Set(static_cast<uint32_t>(i), o);
  }
  return arr;
}
#endif

// treeDescendants(root: number): number[] | null (null: no children files on this kernel).
Napi::Value TreeDescendantsJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int root = static_cast<int>(NumU64(info[0], "root", kMaxPid));
  if (root <= 0) throw Napi::RangeError::New(env, "treeDescendants: root must be a positive pid");
  std::vector<int> out;
  if (!TreeDescendants(root, &out)) return env.Null();
  Napi::Array arr = Napi::Array::New(env, out.size());
  for (size_t i = 0; i < out.size(); ++i) arr.Set(static_cast<uint32_t>(i), out[i]);
  return arr;
}

}  // namespace

void InitTree(Napi::Env env, Napi::Object exports) {
  ExportFunction(env, exports, "treeCodeScan", TreeCodeScanJs);
  ExportFunction(env, exports, "treeDescendants", TreeDescendantsJs);
#ifdef _WIN32
  ExportFunction(env, exports, "treeProcesses", TreeProcessesJs);
#endif
}

}  // namespace pg
#else
namespace pg {
// Other OSes: no tree code check; the TS layer reports the child code check as unsupported.
void InitTree(Napi::Env env, Napi::Object exports) {}
}  // namespace pg
#endif
