#!/usr/bin/env bash
# The test command: installs what is missing, builds, then runs every suite.
# Kernel and cluster suites need root; with CI=true they fail rather than skip.
set -euo pipefail
cd "$(dirname "$0")/.."
source hack/node-env.sh

# The suites run in a private mount namespace with no tracefs, debugfs or
# bpffs mounted, as on a fresh machine: whatever earlier work mounted here
# cannot make them pass, and what the tests mount goes away with them.
if [ "$(id -u)" -eq 0 ] && [ -z "${LOUPE_TEST_MOUNT_NAMESPACE:-}" ]; then
  exec env LOUPE_TEST_MOUNT_NAMESPACE=1 unshare --mount --propagation private bash "$0" "$@"
fi
if [ -n "${LOUPE_TEST_MOUNT_NAMESPACE:-}" ]; then
  for m in /sys/kernel/debug/tracing /sys/kernel/tracing /sys/kernel/debug /sys/fs/bpf; do
    while mountpoint -q "$m"; do umount -l "$m"; done
  done
  echo "== suites run without tracefs, debugfs or bpffs (private mount namespace)"
fi
bash hack/setup.sh
bash hack/build.sh

run() {
  local suite=$1; shift
  local files=()
  for f in "$@"; do [ -e "$f" ] && files+=("$f"); done
  [ ${#files[@]} -gt 0 ] || return 0
  echo "== $suite (${#files[@]} files)"
  node --import tsx --test --test-concurrency=1 --test-reporter=spec "${files[@]}"
}

run unit test/unit/*.test.ts
run kernel test/kernel/*.test.ts
# Cached outside the repo; the first build takes minutes.
bash hack/build-controlplane.sh
run cluster test/cluster/*.test.ts
# The two images from the repo's Dockerfiles, on a Debian + Node 24 base made
# here (cached like the binaries; about 8 minutes the first time).
bash hack/build-images.sh
run images test/images/*.test.ts
