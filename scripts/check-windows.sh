#!/bin/sh
# Windows compile check (not a run): syntax-checks the Windows sources with the mingw-w64 cross
# compiler against node-addon-api and Node's Node-API headers.
# usage: scripts/check-windows.sh [file.cc ...]   (default: every source binding.gyp builds on Windows)
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
cxx=${MINGW_CXX:-x86_64-w64-mingw32-g++}
if ! command -v "$cxx" >/dev/null 2>&1; then
  echo "check-windows: $cxx not found (Debian: apt-get install g++-mingw-w64-x86-64)" >&2
  exit 2
fi
napi_inc=$(cd "$root" && node -p "require('node-addon-api').include_dir")
case "$napi_inc" in /*) ;; *) napi_inc="$root/$napi_inc" ;; esac
node_inc=${NODE_INCLUDE_DIR:-}
if [ -z "$node_inc" ]; then
  for d in /usr/include/node "$(dirname "$(dirname "$(command -v node)")")/include/node"; do
    if [ -f "$d/node_api.h" ]; then node_inc=$d; break; fi
  done
fi
if [ -z "$node_inc" ] || [ ! -f "$node_inc/node_api.h" ]; then
  echo "check-windows: node_api.h not found (set NODE_INCLUDE_DIR)" >&2
  exit 2
fi
# binding.gyp's include dirs (each folder of native/: headers are included by bare name).
incs=""
for d in $(cd "$root" && node scripts/windows/build-addon.mjs --include-dirs); do incs="$incs -I$d"; done
if [ $# -eq 0 ]; then
  # Everything binding.gyp compiles on Windows, as the mingw build reads it (one source list:
  # scripts/windows/build-addon.mjs --list). The SIMD files are syntax-checked without their -m
  # flags: the intrinsics are declared regardless, only code generation needs the ISA.
  list=$(cd "$root" && node scripts/windows/build-addon.mjs --list | node -e \
    'let s="";process.stdin.on("data",(d)=>s+=d).on("end",()=>console.log(JSON.parse(s).map((u)=>u.src).join("\n")))')
  set --
  for f in $list; do set -- "$@" "$root/$f"; done
fi
status=0
for f in "$@"; do
  if "$cxx" -fsyntax-only -std=c++17 -Wall -Wextra -Wno-unused-parameter \
      -DNAPI_VERSION=8 -DNAPI_CPP_EXCEPTIONS -D_WIN32_WINNT=0x0A00 \
      -I"$napi_inc" -I"$node_inc" $incs "$f"; then
    echo "check-windows: ok   $f"
  else
    echo "check-windows: FAIL $f" >&2
    status=1
  fi
done
exit $status
