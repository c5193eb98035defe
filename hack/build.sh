#!/usr/bin/env bash
# Builds in dependency order: BPF objects, the native addon, the TypeScript,
# the report page (loupe report inlines report/build into every report).
set -euo pipefail
cd "$(dirname "$0")/.."
source hack/node-env.sh
make -C bpf --no-print-directory
bash hack/build-native.sh
npx tsc -p tsconfig.json
npm run -s build:report
