#!/bin/sh
# Builds the standalone hash benchmark with the same per-file ISA flags as binding.gyp.
# Usage: sh native/hash/tools/build_bench.sh [out]   then: ./hash_bench [MiB] [backend filter]
# EXTRA adds compiler flags, e.g. EXTRA=-DPG_HASH_NO_ASM builds the intrinsics-only kernels (what
# MSVC compiles); the benchmark checks every backend against the portable one before timing.
set -e
cd "$(dirname "$0")/../.."
out=${1:-/tmp/hash_bench}
tmp=$(mktemp -d)
CXX=${CXX:-g++}
F="-O2 -std=c++17 -I. -fno-exceptions ${EXTRA:-}"
$CXX $F -msse4.1 -msse4.2 -mpclmul -c hash/blake3_sse41.cc -o $tmp/sse41.o
$CXX $F -msse4.1 -msse4.2 -mpclmul -c hash/crc32c_sse42.cc -o $tmp/crc.o
$CXX $F -mavx2 -c hash/blake3_avx2.cc -o $tmp/avx2.o
$CXX $F -mavx512f -mavx512vl -mavx512bw -c hash/blake3_avx512.cc -o $tmp/avx512.o
$CXX $F -mavx512f -mavx512vl -mavx512bw -mvpclmulqdq -mpclmul -msse4.2 -c hash/crc32c_avx512.cc -o $tmp/crc512.o
$CXX $F -mavx2 -mvpclmulqdq -mpclmul -msse4.2 -c hash/crc32c_avx2.cc -o $tmp/crc256.o
$CXX $F -o "$out" hash/tools/hash_bench.cc hash/blake3.cc hash/blake3_portable.cc hash/crc32c.cc hash/dispatch.cc \
  $tmp/sse41.o $tmp/crc.o $tmp/avx2.o $tmp/avx512.o $tmp/crc512.o $tmp/crc256.o
rm -rf "$tmp"
echo "built $out"
