#!/bin/sh
# Our per-page kernels vs the official b3sum, one thread, on a tmpfs file of the same size
# (the `blake3_vs_b3sum` goal, docs/bench.md). For b3sum: median of 5 runs of user time (its hashing), user + system
# (mmap mode adds a page fault per 4 KiB page; --no-mmap adds the read() copy), and wall time.
# Then hash_bench's table (median thread-CPU time per backend).
# Usage: sh native/hash/tools/compare_b3sum.sh [MiB, default 256]   (needs b3sum and GNU time)
set -e
mib=${1:-256}
here=$(dirname "$0")
sh "$here/build_bench.sh" /tmp/hash_bench >/dev/null
f=/dev/shm/pg_hash_bench.$$.bin
trap 'rm -f "$f"' EXIT
head -c "${mib}M" /dev/urandom > "$f"
for mode in "" --no-mmap; do
  for i in 1 2 3 4 5; do /usr/bin/time -f "%U %S %e" b3sum --num-threads 1 $mode "$f" 2>&1 >/dev/null | tail -1; done |
    awk -v mib="$mib" -v mode="${mode:-(mmap)}" '
      { u[NR] = $1; c[NR] = $1 + $2; w[NR] = $3 }
      function med(a, n,   i, j, t) { for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t } return a[int((n + 1) / 2)] }
      END { b = mib * 1048576 / 1e9; printf "b3sum --num-threads 1 %s, %d MiB tmpfs: user %.2f GB/s, user+sys %.2f GB/s, wall %.2f GB/s (medians of 5)\n", mode, mib, b / med(u, NR), b / med(c, NR), b / med(w, NR) }'
done
/tmp/hash_bench "$mib"
