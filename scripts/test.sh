#!/usr/bin/env bash
# Sets up, builds and runs the whole test suite: CTest (unit, integration, gui, hygiene), then
# the fuzz targets for a short bounded run when clang is available.
# QMASQUE_SKIP_SETUP=1 skips installing dependencies; QMASQUE_BUILD_DIR picks the build tree.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

qmasque_setup
qmasque_build -DCMAKE_BUILD_TYPE=RelWithDebInfo
ctest --test-dir "$QMASQUE_BUILD_DIR" --output-on-failure -j "$QMASQUE_JOBS" "$@"

if command -v clang++ >/dev/null 2>&1 && [ "${QMASQUE_SKIP_FUZZ:-0}" != 1 ]; then
    "$QMASQUE_ROOT/scripts/fuzz.sh" smoke
fi
