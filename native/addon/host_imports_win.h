// The mingw build's Node-API binding (scripts/windows/build-addon.mjs defines PROCGUARD_HOST_IMPORTS).
//
// An addon imports napi_* from the process that loads it. Linking against node.exe's import library
// names node.exe in the addon's import table, so the addon would not load into electron.exe or a
// renamed "My App.exe" (MSVC builds avoid this with node-gyp's delay-load hook). This build has no
// import of a host at all: build-addon.mjs generates one jump stub per napi_* / node_api_* / uv_*
// function the objects call, each jumping through a pointer that host_imports_win.cc fills, while the
// DLL loads, from the executable that loaded it (GetModuleHandleW(NULL)) or, when the executable
// exports no Node-API (Node built as a DLL), from the loaded module that does.
#pragma once
#include <string>

namespace pg {
/** UTF-8 path of the module the Node-API calls were bound to; empty when none was found. */
const std::string& NodeApiHostPath();
/** Empty when every function was bound; else what was searched and what is missing. */
const std::string& NodeApiHostError();
}  // namespace pg
