// N-API glue for the process tree's code check (tree.h): one job per tree pass on its own thread
// (addon_async.h), so the pagemap walks (Windows: the executable sections of the main module and
// DLLs), remote reads and comparisons run off the JS thread.
#include "addon.h"

#if defined(__linux__) || defined(_WIN32)
#include <cstdlib>

#include "addon_args.h"
#include "addon_async.h"
#include "addon_tree.h"
#include "tree.h"

namespace pg {
namespace {

#ifdef _WIN32
constexpr double kMaxPid = 2147483647.0;  // a DWORD, multiples of 4 in practice; kept within int
#else
constexpr double kMaxPid = 4194304.0;  // PID_MAX_LIMIT
#endif

int PidArg(const Napi::Value& v, const std::string& what) { return static_cast<int>(IntegerArg(v, what, 1, kMaxPid)); }

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
    Napi::Object ro = ObjectArg(ra.Get(k), w + ": regions[" + std::to_string(k) + "]");
    TreeRegion& r = out[k];
    r.start = BigU64Arg(ro.Get("start"), "region.start");
    r.end = BigU64Arg(ro.Get("end"), "region.end");
    if (r.end <= r.start || (r.start & 4095) != 0 || (r.end & 4095) != 0)
      throw Napi::RangeError::New(env, w + ": region must be a non-empty page-aligned range");
    bytes += r.end - r.start;
    if (r.end - r.start > kTreeMaxJobBytes || bytes > kTreeMaxJobBytes)
      throw Napi::RangeError::New(
          env, w + ": a job's regions cover more than " + std::to_string(kTreeMaxJobBytes) + " bytes");
    r.fileOffset = CountArg(ro.Get("fileOffset"), "region.fileOffset");
    r.path = StringArg(ro.Get("path"), w + ": region.path");
    r.devMajor = static_cast<uint32_t>(IntegerArg(ro.Get("devMajor"), "region.devMajor", 0, 4294967295.0));
    r.devMinor = static_cast<uint32_t>(IntegerArg(ro.Get("devMinor"), "region.devMinor", 0, 4294967295.0));
    r.ino = BigU64Arg(ro.Get("ino"), "region.ino");
  }
  return out;
}

namespace {

// The answer of one tree pass, built on the JS thread.
Napi::Value TreeResultsArray(Napi::Env env, const std::vector<TreeJobResult>& results) {
  Napi::Array arr = Napi::Array::New(env, results.size());
  for (size_t i = 0; i < results.size(); ++i) arr.Set(static_cast<uint32_t>(i), TreeResultObject(env, results[i]));
  return arr;
}

// treeCodeScan's job thread (addon_async.h), made on the first call: most apps never watch a tree.
struct TreeJobs {
  std::unique_ptr<JobQueue> queue;
};

// treeCodeScan(jobs: { pid, regions: { start, end, fileOffset, path, devMajor, devMinor, ino }[] }[]): Promise<...>
Napi::Value TreeCodeScanJs(const Napi::CallbackInfo& info, TreeJobs& treeJobs) {
  Napi::Env env = info.Env();
  if (!info[0].IsArray()) throw Napi::TypeError::New(env, "treeCodeScan: jobs must be an array");
  Napi::Array ja = info[0].As<Napi::Array>();
  // Lengths size allocations (a sparse array can claim 2^32 - 1 elements): bounded first.
  if (ja.Length() > kTreeMaxJobs)
    throw Napi::RangeError::New(env, "treeCodeScan: at most " + std::to_string(kTreeMaxJobs) + " jobs");
  std::vector<TreeJob> jobs(ja.Length());
  for (uint32_t i = 0; i < ja.Length(); ++i) {
    Napi::Object jo = ObjectArg(ja.Get(i), "treeCodeScan: jobs[" + std::to_string(i) + "]");
    jobs[i].pid = PidArg(jo.Get("pid"), "treeCodeScan: pid");
    Napi::Value st = jo.Get("startTicks");
    if (!st.IsUndefined()) jobs[i].startTicks = BigU64Arg(st, "startTicks");
#ifdef _WIN32
    // Windows: the process's creation time (checked after opening it); the modules are found natively,
    // the DLLs from moduleCursor on within moduleBudget bytes (tree.h).
    jobs[i].startTime = BigU64Arg(jo.Get("startTime"), "job.startTime");
    Napi::Value cursor = jo.Get("moduleCursor");
    if (!cursor.IsUndefined()) jobs[i].moduleCursor = BigU64Arg(cursor, "job.moduleCursor");
    Napi::Value budget = jo.Get("moduleBudget");
    if (!budget.IsUndefined())
      jobs[i].moduleBudget = static_cast<uint64_t>(
          IntegerArg(budget, "treeCodeScan: job.moduleBudget", 1, static_cast<double>(kTreeMaxJobBytes)));
    continue;
#endif
    jobs[i].regions = TreeRegionsArg(jo.Get("regions"), "treeCodeScan");
  }
  if (!treeJobs.queue)
    treeJobs.queue = std::make_unique<JobQueue>(env, "treeCodeScan", std::vector<const char*>{"procguard-tree-scan"});
  auto shared = std::make_shared<std::vector<TreeJob>>(std::move(jobs));
  return treeJobs.queue->Submit(env, [shared]() {
    auto results = std::make_shared<std::vector<TreeJobResult>>();
    TreeCodeScan(*shared, results.get());
    Completion c;
    c.build = [results](Napi::Env env) { return TreeResultsArray(env, *results); };
    return c;
  });
}

#ifdef _WIN32
// treeProcesses(root: number): the descendants with command line and sandbox facts (tree_win.cc).
Napi::Value TreeProcessesJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const uint32_t root = static_cast<uint32_t>(PidArg(info[0], "treeProcesses: root"));
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
  const int root = PidArg(info[0], "treeDescendants: root");
  std::vector<int> out;
  if (!TreeDescendants(root, &out)) return env.Null();
  Napi::Array arr = Napi::Array::New(env, out.size());
  for (size_t i = 0; i < out.size(); ++i) arr.Set(static_cast<uint32_t>(i), out[i]);
  return arr;
}

}  // namespace

void InitTree(Napi::Env env, Napi::Object exports) {
  auto treeJobs = std::make_shared<TreeJobs>();
  exports.Set("treeCodeScan", Napi::Function::New(
                                  env,
                                  [treeJobs](const Napi::CallbackInfo& info) {
                                    return ConvertExceptions(info.Env(), "treeCodeScan",
                                                             [&] { return TreeCodeScanJs(info, *treeJobs); });
                                  },
                                  "treeCodeScan"));
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
