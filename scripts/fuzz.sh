#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (ASan + UBSan) and runs them.
#   scripts/fuzz.sh smoke          every target for a short bounded run (part of scripts/test.sh)
#   scripts/fuzz.sh run TARGET [SECONDS]   one target for longer (default 600 s), growing its corpus
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"
FUZZ_BUILD_DIR=${QMASQUE_FUZZ_BUILD_DIR:-$QMASQUE_ROOT/build-fuzz}

cmake -S "$QMASQUE_ROOT" -B "$FUZZ_BUILD_DIR" -G Ninja -DQMASQUE_FUZZ=ON \
    -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$FUZZ_BUILD_DIR" -j "$QMASQUE_JOBS"

case "${1:-smoke}" in
    smoke)
        ctest --test-dir "$FUZZ_BUILD_DIR" --output-on-failure -j "$QMASQUE_JOBS" ;;
    run)
        target=${2:?usage: fuzz.sh run TARGET [SECONDS]}
        seconds=${3:-600}
        corpus="$FUZZ_BUILD_DIR/corpus/$target"
        mkdir -p "$corpus"
        "$FUZZ_BUILD_DIR/tests/fuzz/$target" -max_total_time="$seconds" \
            "$corpus" "$QMASQUE_ROOT/tests/fuzz/corpus/$target" ;;
    *)
        echo "usage: fuzz.sh smoke | run TARGET [SECONDS]" >&2; exit 2 ;;
esac
