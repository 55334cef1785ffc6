#!/usr/bin/env bash
# Sets up, builds and starts QMasque.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

qmasque_setup
qmasque_build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
exec "$QMASQUE_BUILD_DIR/app/qmasque" --version "$@"
