#!/usr/bin/env bash
# Builds the real control plane that cluster tests run against: kube-apiserver,
# etcd and an OpenTelemetry Collector, from the Go modules in test/controlplane.
# The first build takes many minutes on 2 cores, so binaries live outside the
# repo and a binary is rebuilt only when its module's go.mod/go.sum (or its own
# sources) change: the hash of those inputs is stored beside it.
set -euo pipefail
cd "$(dirname "$0")/.."

export GOFLAGS="${GOFLAGS:--buildvcs=false}"
bin_dir="${LOUPE_CACHE:-$HOME/.cache/loupe}/bin"
mkdir -p "$bin_dir"

command -v go >/dev/null || { echo "build-controlplane: go is not installed" >&2; exit 1; }

# inputs_hash MODULE_DIR: one hash over the Go version and the module's go.mod,
# go.sum and Go sources.
inputs_hash() {
  { go env GOVERSION; cd "$1" && find . -name go.mod -o -name go.sum -o -name '*.go' | LC_ALL=C sort | xargs sha256sum; } \
    | sha256sum | cut -d' ' -f1
}

# build NAME MODULE_DIR PACKAGE: builds PACKAGE of MODULE_DIR to $bin_dir/NAME unless
# the binary already exists and was built from the same inputs.
build() {
  local name=$1 module=$2 package=$3
  local out="$bin_dir/$name" stamp="$bin_dir/$name.inputs-sha256"
  local hash
  hash=$(inputs_hash "$module")
  if [ -x "$out" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$hash" ]; then
    echo "build-controlplane: $name is up to date ($out)"
    return
  fi
  echo "build-controlplane: building $name from $module (first build takes minutes)"
  local started=$SECONDS
  rm -f "$stamp"
  (cd "$module" && go build -trimpath -ldflags='-s -w' -o "$out.tmp" "$package")
  mv "$out.tmp" "$out"
  echo "$hash" > "$stamp"
  echo "build-controlplane: built $name in $((SECONDS - started))s"
}

build etcd test/controlplane/apiserver ./etcd
build kube-apiserver test/controlplane/apiserver k8s.io/kubernetes/cmd/kube-apiserver
build otelcol test/controlplane/otelcol .
echo "build-controlplane: binaries in $bin_dir"
