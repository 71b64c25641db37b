// Shared by the process tree's N-API glue (addon_tree.cc, addon_tree_sentinel.cc): the JS shape of
// a child's code result, and the parsing of a job's regions.
#pragma once
#if defined(__linux__) || defined(_WIN32)
#include <vector>

#include "addon.h"
#include "tree.h"

namespace pg {
// { pid, ok, errno?, detail?, pages, filePages, pagemapBytes, readBytes, pagemapScan, hits[] }
Napi::Object TreeResultObject(Napi::Env env, const TreeJobResult& r);
// Throws a TypeError / RangeError naming `what` on a bad region.
std::vector<TreeRegion> TreeRegionsArg(const Napi::Value& v, const char* what);
}  // namespace pg
#endif
