#!/usr/bin/env bash
# Installs what Loupe needs to build and test on a fresh Debian machine, and
# nothing that is already there. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

apt_packages=(clang llvm libbpf-dev libelf-dev zlib1g-dev bpftool pkg-config make g++ python3 bpftrace lua5.4)
# A real node in the cluster tests (test/cluster/real-node.test.ts): the container
# runtime and CNI plugins, umoci to build its images, gcc and libc6-dev for the
# static pause binary, a static busybox as the workload, ip for the pod bridge,
# iptables to route the `kubernetes` Service to the loopback API server.
real_node_packages=(containerd runc containernetworking-plugins umoci gcc libc6-dev busybox-static iproute2 iptables)
# Reports and terminal pictures: a real headless Chromium opens loupe report's
# HTML (test/kernel/report-browser.test.ts, test/cluster/report.test.ts), tmux
# runs loupe trace --heatmap in a real terminal (test/kernel/trace-heatmap.test.ts).
report_packages=(chromium tmux)
missing=()
for p in "${apt_packages[@]}" "${real_node_packages[@]}" "${report_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing system packages: ${missing[*]}"
  as_root=()
  [ "$(id -u)" -eq 0 ] || as_root=(sudo)
  "${as_root[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${as_root[@]}" apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# Node 24, the images' Node, from the npm registry when the machine's is another major.
source hack/node-env.sh

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "setup: installing npm packages"
  npm ci --no-audit --no-fund
fi
