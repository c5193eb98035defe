#!/usr/bin/env bash
# The README's main command (npm start): installs what is missing, builds,
# then runs the demo until Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."
source hack/node-env.sh
bash hack/setup.sh
bash hack/build.sh
bash hack/build-controlplane.sh
exec node --import tsx hack/demo.ts
