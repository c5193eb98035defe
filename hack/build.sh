#!/usr/bin/env bash
# Builds in dependency order: BPF objects, the native addon, the TypeScript.
set -euo pipefail
cd "$(dirname "$0")/.."
source hack/node-env.sh
make -C bpf --no-print-directory
bash hack/build-native.sh
npx tsc -p tsconfig.json
