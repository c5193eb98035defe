#!/usr/bin/env bash
# Builds the native addon over the system libbpf
# (native/build/Release/loupe_native.node) and the BPF fixture its kernel
# tests load (test/kernel/fixtures/build/). Incremental: reconfigures only
# when native/binding.gyp, or the Node whose headers it builds against, changed.
set -euo pipefail
cd "$(dirname "$0")/.."

fail() { echo "build-native: $*" >&2; exit 1; }

command -v pkg-config >/dev/null || fail "pkg-config is missing: apt-get install pkg-config (or npm run setup)"
pkg-config --exists libbpf || fail "libbpf is missing: apt-get install libbpf-dev (or npm run setup)"
pkg-config --atleast-version=1.1 libbpf || fail "libbpf $(pkg-config --modversion libbpf) is too old: the addon needs >= 1.1"
command -v clang >/dev/null || fail "clang is missing (it compiles the BPF fixture): apt-get install clang (or npm run setup)"

# No downloads of Node headers: build against the installed Node's own.
node_dir=$(dirname "$(dirname "$(readlink -f "$(command -v node)")")")
[ -f "$node_dir/include/node/node_api.h" ] ||
  fail "Node headers not found under $node_dir/include/node: install a Node that ships them (e.g. nodejs from NodeSource, or the official tarball)"

gyp=(node_modules/.bin/node-gyp --directory native --nodedir="$node_dir" --loglevel=warn)
[ -x node_modules/.bin/node-gyp ] || fail "node-gyp is missing: run npm ci"
if [ ! -f native/build/Makefile ] || [ native/binding.gyp -nt native/build/Makefile ] ||
  ! grep -qF "\"nodedir\": \"$node_dir\"" native/build/config.gypi 2>/dev/null; then
  "${gyp[@]}" configure
fi
"${gyp[@]}" build --jobs=max

make -C test/kernel/fixtures --no-print-directory
