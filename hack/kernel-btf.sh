#!/usr/bin/env bash
# Prints the path of a real kernel's BTF for an architecture: what
# gen-vmlinux-h.sh dumps into bpf/arch/<arch>/vmlinux.h, and what the CO-RE
# relocation check (test/unit/bpf-core-relocations.test.ts) resolves the
# probes against.
#
#   hack/kernel-btf.sh x86              this machine's kernel (/sys/kernel/btf/vmlinux)
#   hack/kernel-btf.sh arm64            Debian's arm64 kernel (trixie), cached in
#                                       ${LOUPE_CACHE:-~/.cache/loupe}/btf/arm64
#   hack/kernel-btf.sh --refresh arm64  fetches the newest arm64 kernel again
#
# The arm64 kernel package is fetched with apt into a private directory (no
# change to the machine's apt state); its Image carries the BTF (.BTF section).
set -euo pipefail
refresh=false
if [ "${1:-}" = --refresh ]; then refresh=true; shift; fi
arch=${1:?usage: hack/kernel-btf.sh [--refresh] x86|arm64}

case "$arch" in
  x86)
    [ "$(uname -m)" = x86_64 ] || { echo "kernel-btf: x86 BTF comes from an x86_64 machine's kernel" >&2; exit 1; }
    [ -r /sys/kernel/btf/vmlinux ] || { echo "kernel-btf: this kernel has no BTF (/sys/kernel/btf/vmlinux)" >&2; exit 1; }
    echo /sys/kernel/btf/vmlinux
    exit 0
    ;;
  arm64) ;;
  *) echo "kernel-btf: unknown arch $arch (x86 or arm64)" >&2; exit 1 ;;
esac

cache="${LOUPE_CACHE:-$HOME/.cache/loupe}/btf/arm64"
if [ "$refresh" = false ] && [ -s "$cache/vmlinux" ]; then
  echo "$cache/vmlinux"
  exit 0
fi

mkdir -p "$cache"
work=$(mktemp -d -t loupe-kernel-btf.XXXXXX)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/lists/partial" "$work/cache/archives/partial"
echo 'deb [arch=arm64] http://deb.debian.org/debian trixie main' > "$work/sources.list"
apt_options=(-o "Dir::Etc::sourcelist=$work/sources.list" -o Dir::Etc::sourceparts=- -o "Dir::State::Lists=$work/lists"
  -o "Dir::Cache=$work/cache" -o APT::Architectures::=arm64 -o APT::Architecture=arm64
  -o APT::Sandbox::User=root)
# apt-get update reports a failed fetch as a warning: an empty list says it.
apt-get "${apt_options[@]}" update -qq >&2 || true
package=$(apt-cache "${apt_options[@]}" depends linux-image-arm64 2>/dev/null | awk '/Depends: linux-image-/{print $2; exit}') || true
[ -n "$package" ] || { echo "kernel-btf: no arm64 kernel package list from deb.debian.org (is it reachable with apt?)" >&2; exit 1; }
(cd "$work" && apt-get "${apt_options[@]}" download "$package" >/dev/null 2>&1) \
  || { echo "kernel-btf: could not download $package" >&2; exit 1; }
dpkg-deb --fsys-tarfile "$work"/linux-image-*.deb | tar -x -C "$work" --wildcards './boot/vmlinuz-*'
# The BTF blob inside the (uncompressed) arm64 Image: a BTF header
# (magic 0xeB9F, version 1, 24-byte header) whose type section starts at 0.
python3 - "$work"/boot/vmlinuz-* "$work/vmlinux" <<'PY'
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
# Renamed into place, so a concurrent reader sees the old BTF or the new one.
dpkg-deb --field "$work"/linux-image-*.deb Package Version | awk '{print $2}' | paste -sd' ' > "$cache/package.tmp"
mv "$work/vmlinux" "$cache/vmlinux.tmp"
mv "$cache/package.tmp" "$cache/package"
mv "$cache/vmlinux.tmp" "$cache/vmlinux"
echo "kernel-btf: arm64 BTF of $(cat "$cache/package")" >&2
echo "$cache/vmlinux"
