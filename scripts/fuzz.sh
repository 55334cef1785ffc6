#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (ASan + UBSan) in their own build tree and runs them.
#   scripts/fuzz.sh smoke                  every target for a short bounded run (part of test.sh)
#   scripts/fuzz.sh run TARGET [SECONDS]   one target for longer (default 600 s), growing its
#                                          corpus in $QMASQUE_FUZZ_BUILD_DIR/corpus/TARGET
#   scripts/fuzz.sh list                   the target names
# QMASQUE_FUZZ_BUILD_DIR picks the build tree (default build-fuzz), QMASQUE_FUZZ_SECONDS the
# seconds each target gets in smoke mode (default 10).
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"
FUZZ_BUILD_DIR=${QMASQUE_FUZZ_BUILD_DIR:-$QMASQUE_ROOT/build-fuzz}
FUZZ_SECONDS=${QMASQUE_FUZZ_SECONDS:-10}
TARGETS=$(cd "$QMASQUE_ROOT/tests/fuzz" && ls fuzz_*.cpp | sed 's/\.cpp$//')

usage() {
    echo "usage: fuzz.sh smoke | run TARGET [SECONDS] | list" >&2
    exit 2
}

build() {
    cmake -S "$QMASQUE_ROOT" -B "$FUZZ_BUILD_DIR" -G Ninja -DQMASQUE_FUZZ=ON \
        -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo \
        -DQMASQUE_FUZZ_SECONDS="$FUZZ_SECONDS" >/dev/null
    cmake --build "$FUZZ_BUILD_DIR" -j "$QMASQUE_JOBS"
}

case "${1:-smoke}" in
    smoke)
        build
        ctest --test-dir "$FUZZ_BUILD_DIR" --output-on-failure -j "$QMASQUE_JOBS" -L fuzz ;;
    run)
        target=${2:-}
        [ -n "$target" ] || usage
        if ! grep -qx "$target" <<<"$TARGETS"; then
            echo "fuzz.sh: unknown target '$target'; targets:" $TARGETS >&2
            exit 2
        fi
        seconds=${3:-600}
        build
        corpus="$FUZZ_BUILD_DIR/corpus/$target"
        mkdir -p "$corpus"
        # New inputs go to the first directory; the committed seeds are only read.
        "$FUZZ_BUILD_DIR/tests/fuzz/$target" -max_total_time="$seconds" -timeout=10 \
            -print_final_stats=1 "$corpus" "$QMASQUE_ROOT/tests/fuzz/corpus/$target" ;;
    list)
        echo "$TARGETS" ;;
    *)
        usage ;;
esac
