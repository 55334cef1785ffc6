# Finds every external dependency and fails early, naming scripts/setup.sh, when one is missing or
# too old. Minimum versions: Qt 6.4, nghttp2 1.52, ngtcp2 1.11, nghttp3 1.8 (the last two come from
# Debian's bookworm-backports suite).

set(QMASQUE_SETUP_HINT "Run scripts/setup.sh (Debian 12) to install every build dependency.")

function(qmasque_require_pkg prefix module minimum)
    pkg_check_modules(${prefix} QUIET IMPORTED_TARGET GLOBAL "${module}>=${minimum}")
    if(NOT ${prefix}_FOUND)
        execute_process(COMMAND ${PKG_CONFIG_EXECUTABLE} --modversion ${module}
            OUTPUT_VARIABLE _found OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
        if(_found)
            message(FATAL_ERROR
                "${module} ${_found} is too old: QMasque needs ${module} >= ${minimum}. "
                "${QMASQUE_SETUP_HINT}")
        else()
            message(FATAL_ERROR
                "${module} >= ${minimum} not found (pkg-config module '${module}'). "
                "${QMASQUE_SETUP_HINT}")
        endif()
    endif()
    message(STATUS "Found ${module} ${${prefix}_VERSION}")
endfunction()

find_package(PkgConfig QUIET)
if(NOT PKG_CONFIG_FOUND)
    message(FATAL_ERROR "pkg-config not found. ${QMASQUE_SETUP_HINT}")
endif()

# The pure codecs (and the fuzz build) need only QtCore.
set(_qt_components Core)
if(NOT QMASQUE_FUZZ)
    list(APPEND _qt_components Gui Network Widgets Svg Test)
endif()
find_package(Qt6 6.4 QUIET COMPONENTS ${_qt_components})
if(NOT Qt6_FOUND)
    message(FATAL_ERROR
        "Qt 6 >= 6.4 with the components ${_qt_components} not found. ${QMASQUE_SETUP_HINT}")
endif()
message(STATUS "Found Qt ${Qt6_VERSION}")

if(NOT QMASQUE_FUZZ)
    qmasque_require_pkg(NGHTTP2 libnghttp2 1.52)
    qmasque_require_pkg(NGTCP2 libngtcp2 1.11)
    qmasque_require_pkg(NGTCP2_CRYPTO libngtcp2_crypto_gnutls 1.11)
    qmasque_require_pkg(NGHTTP3 libnghttp3 1.8)
    qmasque_require_pkg(GNUTLS gnutls 3.7)
    qmasque_require_pkg(OPENSSL openssl 3.0)
endif()
