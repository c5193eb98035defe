#!/usr/bin/env bash
# Writes bpf/arch/<arch>/vmlinux.h, the kernel types the probes are compiled
# against (CO-RE relocates them to each node's kernel at load time). Run by
# hand when a probe needs types a header lacks; the headers are committed.
#
#   hack/gen-vmlinux-h.sh x86     from this machine's kernel (/sys/kernel/btf/vmlinux)
#   hack/gen-vmlinux-h.sh arm64   from Debian's newest arm64 kernel package
#                                 (trixie, 6.12), fetched again by
#                                 hack/kernel-btf.sh, which also caches its BTF
#                                 for the CO-RE relocation check.
set -euo pipefail
cd "$(dirname "$0")/.."
arch=${1:?usage: hack/gen-vmlinux-h.sh x86|arm64}
case "$arch" in
  x86) btf=$(hack/kernel-btf.sh x86) ;;
  arm64) btf=$(hack/kernel-btf.sh --refresh arm64) ;;
  *) echo "gen-vmlinux-h: unknown arch $arch (x86 or arm64)" >&2; exit 1 ;;
esac
out="bpf/arch/$arch/vmlinux.h"
bpftool btf dump file "$btf" format c > "$out.tmp"
mv "$out.tmp" "$out"
echo "gen-vmlinux-h: wrote $out ($(wc -l < "$out") lines)"
