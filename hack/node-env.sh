# Node 24 first on PATH: the Node major the images ship (Dockerfile.*) is the
# one the tests, benches and builds run on.
#
#   source hack/node-env.sh        exports PATH (installs Node 24 if needed)
#   bash hack/node-env.sh          prints the `export PATH=...` line to eval
#   bash hack/node-env.sh CMD ...  runs CMD with that PATH
#
# If the `node` on PATH is not Node 24, Node $LOUPE_NODE_VERSION is installed
# from the npm registry's node-linux-<arch> package (the official binary,
# headers included, so node-gyp builds the addon without downloading any)
# into ${LOUPE_CACHE:-$HOME/.cache/loupe}/node-24/<version>, outside the repo.
# Safe to source repeatedly and from concurrent processes.

loupe_node_major=24
: "${LOUPE_NODE_VERSION:=24.22.3}"

loupe_node_env() {
  local current
  current=$(node -p 'process.versions.node' 2>/dev/null || true)
  if [ "${current%%.*}" = "$loupe_node_major" ]; then
    return 0
  fi

  local arch
  case "$(uname -m)" in
    x86_64) arch=x64 ;;
    aarch64 | arm64) arch=arm64 ;;
    *) echo "node-env: no node-linux package for $(uname -m); install Node $loupe_node_major yourself" >&2; return 1 ;;
  esac
  local root="${LOUPE_CACHE:-$HOME/.cache/loupe}/node-$loupe_node_major"
  local dir="$root/$LOUPE_NODE_VERSION"

  if [ ! -x "$dir/bin/node" ] || [ ! -f "$dir/include/node/node_api.h" ]; then
    command -v npm >/dev/null || { echo "node-env: npm is needed once, to fetch node-linux-$arch@$LOUPE_NODE_VERSION" >&2; return 1; }
    echo "node-env: installing Node $LOUPE_NODE_VERSION (npm package node-linux-$arch) into $dir" >&2
    mkdir -p "$root" || return 1
    local tmp
    tmp=$(mktemp -d "$root/.install.XXXXXX") || return 1
    # npm pack checks the tarball against the registry's integrity hash.
    if ! (cd "$tmp" && npm pack --silent "node-linux-$arch@$LOUPE_NODE_VERSION" >/dev/null &&
      tar -xzf node-linux-"$arch"-*.tgz && ./package/bin/node -e '' &&
      [ -f package/include/node/node_api.h ]); then
      rm -rf "$tmp"
      echo "node-env: could not install node-linux-$arch@$LOUPE_NODE_VERSION from the npm registry" >&2
      return 1
    fi
    # Atomic: a concurrent install that finished first wins, ours is dropped.
    mv -T "$tmp/package" "$dir" 2>/dev/null || [ -x "$dir/bin/node" ] || { rm -rf "$tmp"; return 1; }
    rm -rf "$tmp"
  fi

  case ":$PATH:" in
    *":$dir/bin:"*) ;;
    *) PATH="$dir/bin:$PATH" ;;
  esac
  export PATH
  if [ "${LOUPE_NODE_ENV:-}" != "$dir" ]; then
    echo "node-env: using Node $("$dir/bin/node" -v) from $dir/bin" >&2
    export LOUPE_NODE_ENV="$dir"
  fi
}

if [ "${BASH_SOURCE[0]}" != "$0" ]; then
  loupe_node_env
else
  set -euo pipefail
  loupe_node_env
  if [ $# -gt 0 ]; then
    exec "$@"
  fi
  printf 'export PATH=%q\n' "$PATH"
fi
