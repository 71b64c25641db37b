#!/usr/bin/env bash
# Shows that a fresh clone passes `npm install` + `npm run lint` + `npm test` on a machine WITHOUT chromium,
# b3sum, mingw-w64, clang-format, xdg-desktop-portal and dbus-daemon, without touching this machine: a throwaway copy-on-write root
# (overlayfs over /, writes in a tmpfs, private mount namespace) where those packages are apt-get removed,
# then the README's commands run in a clone of BRANCH. Needs root, overlayfs and network to the Debian and npm registries.
#   scripts/fresh-machine-check.sh [branch]     (logs in $OUT, default /var/tmp/pg-fresh-logs)
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
branch="${1:-$(git -C "$repo" rev-parse --abbrev-ref HEAD)}"
OUT="${OUT:-/var/tmp/pg-fresh-logs}"
mkdir -p "$OUT"
[ "${PG_FRESH_INNER:-}" = 1 ] || exec unshare -m --propagation private env PG_FRESH_INNER=1 OUT="$OUT" bash "$0" "$branch"

R="$(mktemp -d /tmp/pg-fresh-XXXX)"
mount -t tmpfs -o size=12g tmpfs "$R"
mkdir -p "$R/u" "$R/w" "$R/m"
mount -t overlay overlay -o "lowerdir=/,upperdir=$R/u,workdir=$R/w" "$R/m"
for d in proc sys dev; do mount --rbind "/$d" "$R/m/$d"; done
# The clone and /tmp on the real disk: the integrity tests compare mapped files' identities with stat()
# and drop the page cache, which overlayfs and tmpfs do not model like a disk.
disk="$(mktemp -d /var/tmp/pg-fresh-disk-XXXX)"; mkdir -p "$disk/src" "$disk/tmp"; chmod 1777 "$disk/tmp"
mkdir -p "$R/m/root/fresh"; mount --bind "$disk/src" "$R/m/root/fresh"; mount --bind "$disk/tmp" "$R/m/tmp"
mount --bind "$OUT" "$R/m/mnt"
chroot "$R/m" env -i HOME=/root PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
  DEBIAN_FRONTEND=noninteractive ELECTRON_SKIP_BINARY_DOWNLOAD=1 bash -c "
  set -x
  apt-get remove -y -qq chromium chromium-common b3sum g++-mingw-w64-x86-64-posix gcc-mingw-w64-x86-64-posix \
    binutils-mingw-w64-x86-64 mingw-w64-x86-64-dev clang-format xdg-desktop-portal dbus-daemon >/dev/null
  for t in chromium b3sum x86_64-w64-mingw32-g++ clang-format dbus-daemon /usr/libexec/xdg-desktop-portal; do echo \"before: \$t -> \$(command -v \$t || echo missing)\"; done
  git clone -q --no-local -b '$branch' '$repo' /root/fresh/repo && cd /root/fresh/repo || exit 1
  npm install --no-audit --no-fund > /mnt/npm-install.log 2>&1; echo \"npm install rc=\$?\"
  npm run lint > /mnt/npm-lint.log 2>&1; echo \"npm run lint rc=\$?\"
  npm test > /mnt/npm-test.log 2>&1; echo \"npm test rc=\$?\"
  for t in chromium b3sum x86_64-w64-mingw32-g++ clang-format dbus-daemon /usr/libexec/xdg-desktop-portal; do echo \"after: \$t -> \$(command -v \$t || echo missing)\"; done
  grep -E '^ℹ (tests|pass|fail|skipped)' /mnt/npm-test.log"
rm -rf "$disk"
