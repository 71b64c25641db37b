#!/bin/sh
# BLAKE3 per-page sweep vs `b3sum --num-threads 1 --no-mmap` on a tmpfs file of the same size
# (DESIGN.md section 5). Prints b3sum's best wall time of 5 runs, then hash_bench's table.
# Usage: sh native/hash/tools/compare_b3sum.sh [MiB, default 256]
set -e
mib=${1:-256}
here=$(dirname "$0")
sh "$here/build_bench.sh" /tmp/hash_bench >/dev/null
f=/dev/shm/pg_hash_bench.bin
head -c "${mib}M" /dev/urandom > "$f"
best=
for i in 1 2 3 4 5; do
  t0=$(date +%s%N); b3sum --num-threads 1 --no-mmap "$f" >/dev/null; t1=$(date +%s%N)
  t=$((t1 - t0)); if [ -z "$best" ] || [ "$t" -lt "$best" ]; then best=$t; fi
done
rm -f "$f"
echo "b3sum --num-threads 1 --no-mmap, ${mib} MiB tmpfs: $(echo "scale=2; $mib * 1048576 / $best" | bc) GB/s (best of 5)"
/tmp/hash_bench "$mib"
