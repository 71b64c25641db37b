#!/usr/bin/env bash
# npm run test:arm64: cross-builds the addon for linux-arm64 and runs the hash, harden, integrity
# and Guard suites under qemu-user with the official arm64 Node on qemu's default CPU (every feature:
# NEON, CRC32, SVE, ...), and at the same time the hash and Guard suites, the bit-flip and reader
# tests as a Cortex-A53 (plain ARMv8.0 + CRC: shows the build uses nothing newer; the other suites
# do not depend on the CPU model and would only double the emulation time).
# Prints the hash backends each CPU ran and the test counts; exits non-zero on any failure.
#
#   scripts/arm64/test.sh [test-path-substring ...]   # the same suites on both CPUs
#   ARM64_A53_SUITES="test/hash/ test/harden/ test/integrity/ test/guard/" scripts/arm64/test.sh   # all on both
#
# Needs root on a fresh machine (apt-get, binfmt_misc); on a prepared one, only the build tools.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
# shellcheck source=scripts/arm64/node.sh
. scripts/arm64/node.sh
t0=$(date +%s)

# 1. Debian packages, installed only when missing; the package lists are refreshed only if the
#    install fails without it.
need=()
command -v qemu-aarch64-static >/dev/null 2>&1 || need+=(qemu-user-static)
command -v aarch64-linux-gnu-g++ >/dev/null 2>&1 || need+=(g++-aarch64-linux-gnu)
if [ ${#need[@]} -gt 0 ]; then
  echo "arm64: installing ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  if ! apt-get install -y -qq "${need[@]}" >/dev/null 2>&1; then
    apt-get update -qq
    apt-get install -y -qq "${need[@]}" >/dev/null
  fi
fi

# 2. The compiled TypeScript (architecture-independent) and the arm64 addon.
[ -f dist/index.js ] || npm run build:ts >/dev/null
scripts/arm64/build.sh 2>&1 | grep -E '^arm64:|error|warning' || true
test -f build/linux-arm64/Release/procguard.node || { echo "arm64: cross-build failed" >&2; exit 1; }

# 3. binfmt_misc, so that arm64 children the tests spawn (process.execPath) run under qemu too.
binfmt=/proc/sys/fs/binfmt_misc
if [ ! -e "$binfmt/qemu-aarch64" ]; then
  [ -e "$binfmt/register" ] || mount -t binfmt_misc binfmt_misc "$binfmt" 2>/dev/null || true
  if [ -e "$binfmt/register" ] && [ ! -e "$binfmt/qemu-aarch64" ]; then
    conf=/usr/lib/binfmt.d/qemu-aarch64.conf
    # Another process may register it at the same moment: EEXIST is fine.
    [ -f "$conf" ] && { cat "$conf" > "$binfmt/register" 2>/dev/null || true; }
  fi
fi
[ -e "$binfmt/qemu-aarch64" ] || { echo "arm64: binfmt_misc has no qemu-aarch64 entry (needs root): the tests' child processes cannot run" >&2; exit 1; }

export QEMU_LD_PREFIX=/usr/aarch64-linux-gnu
# Emulation is 10-50x slower: widen the generous time bounds of the tests (test/time-scale.mjs).
export PROCGUARD_TEST_TIME_SCALE=10
# Lets tests name what only qemu-user cannot do in their skip reasons ("qemu-user: ...").
export PROCGUARD_QEMU_USER=1
# Left out under emulation (each runs natively in npm test): the mingw compile check (a host
# toolchain, not arm64 code), the 100-flip campaign and the 200-round Worker termination soak
# (minutes each at qemu speed; the code paths they drive are the ones the other suites cover).
export PROCGUARD_TEST_EXCLUDE="${ARM64_EXCLUDE:-windows-compile|campaign|worker-terminate}"
suites=("$@")
[ ${#suites[@]} -gt 0 ] || suites=(test/hash/ test/harden/ test/integrity/ test/guard/)
# shellcheck disable=SC2206
a53=(${ARM64_A53_SUITES:-test/hash/ test/integrity/bitflip})
[ $# -eq 0 ] || a53=("$@")
logdir="$root/.cache/arm64/logs"
mkdir -p "$logdir"
status=0
summary=()
cpus=(max cortex-a53)
label() { [ "$1" = max ] && echo "default CPU" || echo "$1"; }
# Both CPUs at once (one node --test each; emulation is CPU-bound, so this halves the wall time on
# two cores). QEMU_CPU (not -cpu) so that the children started through binfmt_misc get the same CPU.
pids=()
for cpu in "${cpus[@]}"; do
  (
    s0=$(date +%s)
    rc=0
    if [ "$cpu" = max ]; then set -- "${suites[@]}"; else set -- "${a53[@]}"; fi
    echo "suites: $*" > "$logdir/test-$cpu.log"
    QEMU_CPU=$cpu qemu-aarch64-static "$ARM64_NODE" scripts/run-tests.js "$@" >> "$logdir/test-$cpu.log" 2>&1 || rc=$?
    echo "$rc $(( $(date +%s) - s0 ))" > "$logdir/test-$cpu.rc"
  ) &
  pids+=($!)
done
wait "${pids[@]}" || true
for cpu in "${cpus[@]}"; do
  log="$logdir/test-$cpu.log"
  read -r rc secs < "$logdir/test-$cpu.rc" || { rc=1; secs=0; }
  backends=$(QEMU_CPU=$cpu qemu-aarch64-static "$ARM64_NODE" -p \
    "const b=require('./build/linux-arm64/Release/procguard.node').hashBackends(); 'blake3 ' + b.blake3.join(',') + ' (active ' + b.blake3Active + '), crc32c ' + b.crc32c.join(',') + ' (active ' + b.crc32cActive + ')'")
  counts=$(grep -E '^ℹ (tests|pass|fail|skipped) ' "$log" | sed 's/^ℹ //' | paste -sd' ' -)
  echo "arm64: [$(label "$cpu")] backends: $backends"
  echo "arm64: [$(label "$cpu")] $(head -1 "$log")"
  echo "arm64: [$(label "$cpu")] $counts (${secs} s) log: ${log#"$root"/}"
  grep -E '^﹣ |# SKIP' "$log" | sed 's/^/arm64:   skip: /' | sort -u || true
  if [ "$rc" -ne 0 ] || [ -z "$counts" ]; then
    status=1
    grep -E '^✖ ' "$log" | sort -u | sed 's/^/arm64:   FAIL: /' || true
  fi
  summary+=("[$(label "$cpu")] $backends; $counts")
done
echo "arm64: summary ($(( $(date +%s) - t0 )) s):"
printf 'arm64:   %s\n' "${summary[@]}"
exit $status
