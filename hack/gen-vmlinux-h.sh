#!/usr/bin/env bash
# Writes bpf/arch/<arch>/vmlinux.h, the kernel types the probes are compiled
# against (CO-RE relocates them to each node's kernel at load time). Run by
# hand when a probe needs types a header lacks; the headers are committed.
#
#   hack/gen-vmlinux-h.sh x86     from this machine's kernel (/sys/kernel/btf/vmlinux)
#   hack/gen-vmlinux-h.sh arm64   from Debian's arm64 kernel package (trixie,
#                                 6.12), fetched with apt into a private
#                                 directory: its Image carries the BTF
#                                 (.BTF section) that bpftool then dumps.
set -euo pipefail
cd "$(dirname "$0")/.."
arch=${1:?usage: hack/gen-vmlinux-h.sh x86|arm64}
out="bpf/arch/$arch/vmlinux.h"
work=$(mktemp -d -t loupe-vmlinux.XXXXXX)
trap 'rm -rf "$work"' EXIT

case "$arch" in
  x86)
    [ "$(uname -m)" = x86_64 ] || { echo "gen-vmlinux-h: run the x86 dump on an x86_64 machine" >&2; exit 1; }
    btf=/sys/kernel/btf/vmlinux
    ;;
  arm64)
    mkdir -p "$work/lists/partial" "$work/cache/archives/partial"
    echo 'deb [arch=arm64] http://deb.debian.org/debian trixie main' > "$work/sources.list"
    apt_options=(-o "Dir::Etc::sourcelist=$work/sources.list" -o Dir::Etc::sourceparts=- -o "Dir::State::Lists=$work/lists"
      -o "Dir::Cache=$work/cache" -o APT::Architectures::=arm64 -o APT::Architecture=arm64)
    apt-get "${apt_options[@]}" update -qq
    package=$(apt-cache "${apt_options[@]}" depends linux-image-arm64 | awk '/Depends: linux-image-/{print $2; exit}')
    (cd "$work" && apt-get "${apt_options[@]}" download "$package" 2>/dev/null)
    dpkg-deb --fsys-tarfile "$work"/linux-image-*.deb | tar -x -C "$work" --wildcards './boot/vmlinuz-*'
    btf="$work/vmlinux.btf"
    # The BTF blob inside the (uncompressed) arm64 Image: a BTF header
    # (magic 0xeB9F, version 1, 24-byte header) whose type section starts at 0.
    python3 - "$work"/boot/vmlinuz-* "$btf" <<'PY'
import struct, sys
data = open(sys.argv[1], 'rb').read()
magic = b'\x9f\xeb\x01\x00\x18\x00\x00\x00'
at = data.find(magic)
while at != -1:
    _, _, _, hdr, type_off, type_len, str_off, str_len = struct.unpack_from('<HBBIIIII', data, at)
    if type_off == 0 and str_off == type_len and type_len > 1_000_000:
        open(sys.argv[2], 'wb').write(data[at:at + hdr + str_off + str_len])
        sys.exit(0)
    at = data.find(magic, at + 1)
sys.exit('no vmlinux BTF in ' + sys.argv[1])
PY
    echo "gen-vmlinux-h: types of $package"
    ;;
  *) echo "gen-vmlinux-h: unknown arch $arch (x86 or arm64)" >&2; exit 1 ;;
esac
bpftool btf dump file "$btf" format c > "$out.tmp"
mv "$out.tmp" "$out"
echo "gen-vmlinux-h: wrote $out ($(wc -l < "$out") lines)"
