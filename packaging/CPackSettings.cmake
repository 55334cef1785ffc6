# CPack: Debian packages (one per component: qmasque, qmasque-proxy) and a TGZ of the whole install
# tree. Built by scripts/package.sh. Windows (NSIS) and macOS (DragNDrop) settings are prepared at
# the end but not tested here.

set(CPACK_PACKAGE_NAME "qmasque")
set(CPACK_PACKAGE_VENDOR "The QMasque developers")
set(CPACK_PACKAGE_CONTACT "The QMasque developers <qmasque@users.noreply.github.com>")
set(CPACK_PACKAGE_VERSION "${PROJECT_VERSION}")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "${PROJECT_DESCRIPTION}")
set(CPACK_PACKAGE_HOMEPAGE_URL "${PROJECT_HOMEPAGE_URL}")
set(CPACK_RESOURCE_FILE_LICENSE "${PROJECT_SOURCE_DIR}/LICENSE")
set(CPACK_PACKAGE_INSTALL_DIRECTORY "QMasque")
set(CPACK_STRIP_FILES ON)
set(CPACK_GENERATOR "DEB;TGZ")
set(CPACK_COMPONENTS_ALL client proxy)
set(CPACK_COMPONENT_CLIENT_DISPLAY_NAME "QMasque client")
set(CPACK_COMPONENT_PROXY_DISPLAY_NAME "QMasque proxy")

# TGZ: the same install tree, all components in one archive.
set(CPACK_ARCHIVE_COMPONENT_INSTALL OFF)

# DEB: one package per component; dependencies from dpkg-shlibdeps (ngtcp2/nghttp3 from
# bookworm-backports come with their versions).
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# dpkg-shlibdeps only knows the oldest version that has the symbols we link (ngtcp2 1.1,
# nghttp3 0.15); the code needs the versions configure requires (QMasqueDependencies.cmake), so
# those minimums are added on top. The package names follow the sonames we link.
set(CPACK_DEBIAN_PACKAGE_DEPENDS
    "libngtcp2-16 (>= 1.11), libngtcp2-crypto-gnutls8 (>= 1.11), libnghttp3-9 (>= 1.8)")
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "${CPACK_PACKAGE_CONTACT}")
set(CPACK_DEBIAN_PACKAGE_HOMEPAGE "${PROJECT_HOMEPAGE_URL}")
set(CPACK_DEBIAN_PACKAGE_PRIORITY "optional")
set(CPACK_DEBIAN_PACKAGE_SECTION "net")
set(CPACK_DEBIAN_CLIENT_PACKAGE_NAME "qmasque")
set(CPACK_DEBIAN_CLIENT_PACKAGE_RECOMMENDS "qt6-qpa-plugins, libqt6svg6")
set(CPACK_DEBIAN_CLIENT_DESCRIPTION
"MASQUE tunnel client with a live connection pool dashboard
 QMasque carries the TCP streams, UDP flows and IP packets of local
 applications through an HTTPS proxy as CONNECT, CONNECT-UDP (RFC 9298) and
 CONNECT-IP (RFC 9484) tunnels over HTTP/3, HTTP/2 and HTTP/1.1. Applications
 reach it over SOCKS5, an HTTP proxy port, port forwards or a TUN device; many
 tunnels share a small pool of upstream connections, and a dashboard shows
 every pooled connection and every stream in it.")
set(CPACK_DEBIAN_PROXY_PACKAGE_NAME "qmasque-proxy")
set(CPACK_DEBIAN_PROXY_DESCRIPTION
"MASQUE proxy for CONNECT, CONNECT-UDP and CONNECT-IP
 qmasque-proxy serves MASQUE tunnels (classic CONNECT and connect-tcp,
 CONNECT-UDP, CONNECT-IP) over HTTP/3, HTTP/2 and HTTP/1.1 on one port, with a
 target allow-list, proxy authentication and a systemd unit (not enabled on
 install).")
set(CPACK_DEBIAN_PROXY_PACKAGE_CONTROL_EXTRA
    "${PROJECT_SOURCE_DIR}/packaging/debian/qmasque-proxy/conffiles"
    "${PROJECT_SOURCE_DIR}/packaging/debian/qmasque-proxy/postinst"
    "${PROJECT_SOURCE_DIR}/packaging/debian/qmasque-proxy/postrm")
set(CPACK_DEBIAN_PROXY_PACKAGE_CONTROL_STRICT_PERMISSION ON)

# Prepared for other platforms, not tested here (no Windows or macOS machine in CI).
set(CPACK_NSIS_DISPLAY_NAME "QMasque")
set(CPACK_NSIS_PACKAGE_NAME "QMasque ${PROJECT_VERSION}")
set(CPACK_NSIS_CREATE_ICONS_EXTRA
    "CreateShortCut '$SMPROGRAMS\\\\$STARTMENU_FOLDER\\\\QMasque.lnk' '$INSTDIR\\\\bin\\\\qmasque.exe'")
set(CPACK_NSIS_ENABLE_UNINSTALL_BEFORE_INSTALL ON)
set(CPACK_DMG_VOLUME_NAME "QMasque")
set(CPACK_DMG_FORMAT "UDZO")
