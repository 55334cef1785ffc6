#!/usr/bin/env bash
# Builds QMasque in Release and makes the Debian packages (qmasque, qmasque-proxy) and a TGZ of
# the install tree under build-package/packages/.
#   scripts/package.sh            then: sudo apt install ./build-package/packages/*.deb
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"
QMASQUE_BUILD_DIR=${QMASQUE_PACKAGE_BUILD_DIR:-$QMASQUE_ROOT/build-package}

qmasque_setup
qmasque_build -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX=/usr -DQMASQUE_BUILD_TESTS=OFF \
    -DQMASQUE_BUILD_BENCH=OFF
rm -rf "$QMASQUE_BUILD_DIR/packages"
(cd "$QMASQUE_BUILD_DIR" && cpack -B "$QMASQUE_BUILD_DIR/packages" >/dev/null)
rm -rf "$QMASQUE_BUILD_DIR/packages/_CPack_Packages"
ls -1 "$QMASQUE_BUILD_DIR"/packages/*.deb "$QMASQUE_BUILD_DIR"/packages/*.tar.gz
