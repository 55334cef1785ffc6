#!/usr/bin/env bash
# Sets up, builds and starts the QMasque demo: the embedded MASQUE proxy, a file server and a UDP
# echo on loopback, and the SOCKS5 listener on 127.0.0.1:1080 (README, "Demo"). With a display
# the dashboard opens; without one it runs headless. Ctrl-C stops it. Extra arguments go to
# qmasque (e.g. `scripts/run.sh --transports h2`); QMASQUE_SKIP_SETUP=1 skips installing.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

qmasque_setup
cmake -S "$QMASQUE_ROOT" -B "$QMASQUE_BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$QMASQUE_BUILD_DIR" -j "$QMASQUE_JOBS" --target qmasque

mode=()
if [ -z "${DISPLAY:-}" ] && [ -z "${WAYLAND_DISPLAY:-}" ] && [ -z "${QT_QPA_PLATFORM:-}" ]; then
    mode=(--headless)
fi
cat <<'TEXT'
Starting the QMasque demo. Once it prints "ready", try in another terminal:
  curl --socks5-hostname 127.0.0.1:1080 http://127.0.0.1:8080/1M -o /dev/null
(the exact commands, with the ports actually used, follow as "try:" lines). Ctrl-C stops it.
TEXT
exec "$QMASQUE_BUILD_DIR/app/qmasque" --demo "${mode[@]}" "$@"
