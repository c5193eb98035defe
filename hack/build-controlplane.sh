#!/usr/bin/env bash
# Builds the real control plane that cluster tests run against: kube-apiserver,
# etcd and an OpenTelemetry Collector, plus a real node's kube-controller-manager,
# kube-scheduler and kubelet, and a Prometheus, from the Go modules in test/controlplane.
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

# k8s_version_ldflags MODULE_DIR: the k8s.io/kubernetes release MODULE_DIR requires,
# stamped into a binary as the release build does (-trimpath builds have none), so
# /version and a node's kubeletVersion say v1.37.2 rather than v0.0.0-master.
k8s_version_ldflags() {
  local version minor pkg=k8s.io/component-base/version
  version=$(cd "$1" && go list -m -f '{{.Version}}' k8s.io/kubernetes)
  minor=${version#v1.}
  minor=${minor%%.*}
  echo "-X $pkg.gitVersion=$version -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor -X $pkg.gitTreeState=clean"
}

# build NAME MODULE_DIR PACKAGE [LDFLAGS]: builds PACKAGE of MODULE_DIR to $bin_dir/NAME
# unless the binary already exists and was built from the same inputs (LDFLAGS included).
build() {
  local name=$1 module=$2 package=$3 ldflags=${4:-}
  local out="$bin_dir/$name" stamp="$bin_dir/$name.inputs-sha256"
  local hash
  hash=$(inputs_hash "$module")
  [ -z "$ldflags" ] || hash=$(printf '%s\n%s\n' "$hash" "$ldflags" | sha256sum | cut -d' ' -f1)
  if [ -x "$out" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$hash" ]; then
    echo "build-controlplane: $name is up to date ($out)"
    return
  fi
  echo "build-controlplane: building $name from $module (first build takes minutes)"
  local started=$SECONDS
  rm -f "$stamp"
  (cd "$module" && go build -trimpath -ldflags="-s -w $ldflags" -o "$out.tmp" "$package")
  mv "$out.tmp" "$out"
  echo "$hash" > "$stamp"
  echo "build-controlplane: built $name in $((SECONDS - started))s"
}

k8s_version=$(k8s_version_ldflags test/controlplane/apiserver)
build etcd test/controlplane/apiserver ./etcd
build kube-apiserver test/controlplane/apiserver k8s.io/kubernetes/cmd/kube-apiserver "$k8s_version"
build otelcol test/controlplane/otelcol .
# A real Prometheus with its OTLP receiver, for the Grafana dashboards' test
# (test/cluster/grafana-dashboards.test.ts).
build prometheus test/controlplane/prometheus github.com/prometheus/prometheus/cmd/prometheus
# A real node for the cluster tests (test/cluster/real-node.test.ts): same
# k8s.io/kubernetes release as the API server, so most packages come from the
# kube-apiserver build's Go cache.
build kube-controller-manager test/controlplane/apiserver k8s.io/kubernetes/cmd/kube-controller-manager "$k8s_version"
build kube-scheduler test/controlplane/apiserver k8s.io/kubernetes/cmd/kube-scheduler "$k8s_version"
build kubelet test/controlplane/apiserver k8s.io/kubernetes/cmd/kubelet "$k8s_version"
echo "build-controlplane: binaries in $bin_dir"
