// Binds the mingw build's Node-API calls to the process that loaded the addon (see host_imports_win.h).
// The table comes from build-addon.mjs's generated assembly: one name and one pointer per function, the
// pointers on pages of their own (section .pgimp) that are made read-only once filled, as a loader
// makes an import address table.
#include "platform/win32.h"
#include <psapi.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "host_imports_win.h"

extern "C" {
extern void* pg_host_import_slots[];
extern char pg_host_import_slots_end[];
extern const char* const pg_host_import_names[];
extern const uint64_t pg_host_import_count;

// Stands in for a function the host lacks: napi_generic_failure (9), a status every napi_* call may
// return. addon.cc's Init throws before calling any of them when something is missing.
int pg_host_import_missing() { return 9; }
}

namespace {

// Each ends with the same advice: what a host must be.
constexpr const char kNeed[] = " (procguard.node needs a Node.js >= 18 or Electron process)";
// Exported by every Node-API host since Node 8: marks the module that carries Node-API.
constexpr const char kAnchor[] = "napi_module_register";

std::string g_path;
std::string g_error;

std::string ModulePath(HMODULE m) {
  std::wstring w(32768, L'\0');
  DWORD n = GetModuleFileNameW(m, w.data(), static_cast<DWORD>(w.size()));
  if (n == 0 || n >= w.size()) return "(module path unavailable, error " + std::to_string(GetLastError()) + ")";
  int len = WideCharToMultiByte(CP_UTF8, 0, w.data(), static_cast<int>(n), nullptr, 0, nullptr, nullptr);
  std::string s(len > 0 ? len : 0, '\0');
  if (len > 0) WideCharToMultiByte(CP_UTF8, 0, w.data(), static_cast<int>(n), s.data(), len, nullptr, nullptr);
  return s;
}

// The executable when it exports Node-API (node.exe, electron.exe, "My App.exe"), else the first other
// loaded module that does (Node built as a DLL). `others` counts the modules looked at besides it.
HMODULE FindHost(size_t* others) {
  *others = 0;
  HMODULE exe = GetModuleHandleW(nullptr);
  if (exe != nullptr && GetProcAddress(exe, kAnchor) != nullptr) return exe;
  HMODULE self = nullptr;
  GetModuleHandleExW(GET_MODULE_HANDLE_EX_FLAG_FROM_ADDRESS | GET_MODULE_HANDLE_EX_FLAG_UNCHANGED_REFCOUNT,
                     reinterpret_cast<LPCWSTR>(&pg_host_import_missing), &self);
  std::vector<HMODULE> mods(1024);
  DWORD bytes = 0;
  if (!K32EnumProcessModules(GetCurrentProcess(), mods.data(), static_cast<DWORD>(mods.size() * sizeof(HMODULE)),
                             &bytes)) {
    return nullptr;
  }
  size_t n = std::min<size_t>(bytes / sizeof(HMODULE), mods.size());
  for (size_t i = 0; i < n; i++) {
    if (mods[i] == exe || mods[i] == self) continue;
    ++*others;
    if (GetProcAddress(mods[i], kAnchor) != nullptr) return mods[i];
  }
  return nullptr;
}

void Bind() {
  size_t others = 0;
  HMODULE host = FindHost(&others);
  std::string missing;
  if (host == nullptr) {
    g_error = "no Node-API host in this process: the executable " + ModulePath(GetModuleHandleW(nullptr)) +
              " does not export " + kAnchor + ", nor do the " + std::to_string(others) + " other loaded modules" +
              kNeed;
  } else {
    g_path = ModulePath(host);
  }
  for (uint64_t i = 0; i < pg_host_import_count; i++) {
    FARPROC f = host != nullptr ? GetProcAddress(host, pg_host_import_names[i]) : nullptr;
    if (f == nullptr && host != nullptr)
      missing += (missing.empty() ? "" : ", ") + std::string(pg_host_import_names[i]);
    pg_host_import_slots[i] =
        f != nullptr ? reinterpret_cast<void*>(f) : reinterpret_cast<void*>(&pg_host_import_missing);
  }
  if (!missing.empty()) g_error = "the Node-API host " + g_path + " does not export " + missing + kNeed;
  DWORD old = 0;
  VirtualProtect(pg_host_import_slots, pg_host_import_slots_end - reinterpret_cast<char*>(pg_host_import_slots),
                 PAGE_READONLY, &old);
}

// While the DLL loads (the CRT runs this before DllMain and before Node calls napi_register_module_v1).
const bool g_bound = (Bind(), true);

}  // namespace

namespace pg {
const std::string& NodeApiHostPath() { return g_path; }
const std::string& NodeApiHostError() { return g_error; }
}  // namespace pg

// For a host that is not Node at all (nothing there calls the addon's Init): 1 and the host's path when
// bound, 0 and the reason otherwise. test/windows/hosts.test.mjs loads the addon into such a program.
extern "C" __declspec(dllexport) int procguard_node_api_binding(const char** text) {
  (void)g_bound;
  *text = g_error.empty() ? g_path.c_str() : g_error.c_str();
  return g_error.empty() ? 1 : 0;
}
