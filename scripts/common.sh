# Shared by the scripts: paths and the configure/build steps. Sourced, not run.
QMASQUE_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
QMASQUE_BUILD_DIR=${QMASQUE_BUILD_DIR:-$QMASQUE_ROOT/build}
QMASQUE_JOBS=${QMASQUE_JOBS:-2}

qmasque_setup() {
    if [ "${QMASQUE_SKIP_SETUP:-0}" != 1 ]; then
        "$QMASQUE_ROOT/scripts/setup.sh"
    fi
}

# qmasque_build [extra cmake args...]: configure (once) and build into $QMASQUE_BUILD_DIR.
qmasque_build() {
    cmake -S "$QMASQUE_ROOT" -B "$QMASQUE_BUILD_DIR" -G Ninja "$@" >/dev/null
    cmake --build "$QMASQUE_BUILD_DIR" -j "$QMASQUE_JOBS"
}
