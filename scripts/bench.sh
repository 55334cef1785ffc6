#!/usr/bin/env bash
# Builds in Release (its own tree, build-release/) and runs the benchmarks (bench/README.md):
#   scripts/bench.sh [quick|full] [--only B1,B2,...]
# quick (default): smaller files and tunnel counts, a few minutes. full: what bench/RESULTS.md
# records (1 GiB downloads, 10 000 UDP tunnels, callgrind), about half an hour on 2 cores.
# Writes bench/RESULTS.md (between its results markers) and bench/results.json. Every variant
# runs interleaved with its baseline in the same invocation. QMASQUE_SKIP_SETUP=1 skips set-up.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

mode=${1:-quick}
shift || true
case "$mode" in
quick | full) ;;
*)
    echo "usage: scripts/bench.sh [quick|full] [--only B1,B2,B3,B4,B5]" >&2
    exit 2
    ;;
esac

qmasque_setup
QMASQUE_BUILD_DIR=${QMASQUE_BENCH_BUILD_DIR:-$QMASQUE_ROOT/build-release}
cmake -S "$QMASQUE_ROOT" -B "$QMASQUE_BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release \
    -DQMASQUE_BUILD_TESTS=ON >/dev/null
cmake --build "$QMASQUE_BUILD_DIR" -j "$QMASQUE_JOBS" --target qmasque qmasque-proxy udp_echo \
    udp_pace qmasque-bench-scale

# 10 000 tunnels need 10 000 sockets at the proxy.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

exec python3 "$QMASQUE_ROOT/bench/harness/bench.py" "$mode" --build "$QMASQUE_BUILD_DIR" \
    --results "$QMASQUE_ROOT/bench/RESULTS.md" --json "$QMASQUE_ROOT/bench/results.json" \
    --command "scripts/bench.sh $mode${*:+ $*}" "$@"
