#!/usr/bin/env bash
# The packaging test (CTest "packaging"): builds the DEBs and the TGZ from this build tree, checks
# their metadata and file lists, validates the desktop file and AppStream metadata, then (as root)
# installs both packages, runs the installed programs and removes the packages again.
#   check_packages.sh BUILD_DIR
set -euo pipefail
build=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "packaging: $*" >&2; exit 1; }

(cd "$build" && cpack -B "$work" -D CPACK_INSTALL_PREFIX=/usr -D CPACK_PACKAGING_INSTALL_PREFIX=/usr >/dev/null) \
    || fail "cpack failed"
client=$(ls "$work"/qmasque_*.deb 2>/dev/null | head -n1)
proxy=$(ls "$work"/qmasque-proxy_*.deb 2>/dev/null | head -n1)
tgz=$(ls "$work"/*.tar.gz 2>/dev/null | head -n1)
[ -f "$client" ] && [ -f "$proxy" ] && [ -f "$tgz" ] || fail "expected two .deb files and a .tar.gz, got: $(ls "$work")"

field() { dpkg-deb -f "$1" "$2"; }
for deb in "$client" "$proxy"; do
    [ "$(field "$deb" Section)" = net ] || fail "$deb: Section is not net"
    [ "$(field "$deb" Priority)" = optional ] || fail "$deb: Priority is not optional"
    [ -n "$(field "$deb" Maintainer)" ] || fail "$deb: no Maintainer"
    field "$deb" Depends | grep -qE 'libngtcp2-[0-9a-z-]* \(>= 1\.11' || fail "$deb: Depends lacks libngtcp2 >= 1.11: $(field "$deb" Depends)"
    field "$deb" Depends | grep -q 'libnghttp3' || fail "$deb: Depends lacks libnghttp3"
    field "$deb" Depends | grep -q 'libqt6core6' || fail "$deb: Depends lacks Qt"
done
[ "$(field "$client" Package)" = qmasque ] || fail "client package name"
[ "$(field "$proxy" Package)" = qmasque-proxy ] || fail "proxy package name"
field "$client" Depends | grep -q 'libqt6widgets6' || fail "client Depends lacks Qt Widgets"

list() { dpkg-deb -c "$1" | awk '{print $6}' | sed 's|^\./|/|'; }
list "$client" > "$work/client.files"
list "$proxy" > "$work/proxy.files"
for f in /usr/bin/qmasque /usr/share/applications/io.github.qmasque.QMasque.desktop \
         /usr/share/metainfo/io.github.qmasque.QMasque.metainfo.xml \
         /usr/share/icons/hicolor/scalable/apps/qmasque.svg \
         /usr/share/icons/hicolor/48x48/apps/qmasque.png \
         /usr/share/icons/hicolor/256x256/apps/qmasque.png \
         /usr/share/man/man1/qmasque.1.gz /usr/lib/systemd/user/qmasque.service \
         /usr/share/bash-completion/completions/qmasque /usr/share/doc/qmasque/copyright; do
    grep -qx "$f" "$work/client.files" || fail "qmasque package lacks $f"
done
for f in /usr/bin/qmasque-proxy /usr/lib/systemd/system/qmasque-proxy.service \
         /etc/default/qmasque-proxy /usr/share/man/man1/qmasque-proxy.1.gz \
         /usr/share/doc/qmasque-proxy/copyright; do
    grep -qx "$f" "$work/proxy.files" || fail "qmasque-proxy package lacks $f"
done
if grep -q '/usr/bin/qmasque-proxy' "$work/client.files" || grep -q '/usr/bin/qmasque$' "$work/proxy.files"; then
    fail "a program is in the wrong package"
fi
# (Listings go to files first: grep -q would close the pipe early and fail it under pipefail.)
dpkg-deb --ctrl-tarfile "$proxy" | tar -t > "$work/proxy.control"
grep -q conffiles "$work/proxy.control" || fail "qmasque-proxy has no conffiles"
tar -tzf "$tgz" > "$work/tgz.files"
for f in bin/qmasque bin/qmasque-proxy share/applications/io.github.qmasque.QMasque.desktop \
         share/doc/qmasque-proxy/examples/qmasque-proxy.default; do
    grep -q "/$f\$" "$work/tgz.files" || fail "the TGZ lacks $f"
done

mkdir -p "$work/x"
dpkg-deb -x "$client" "$work/x"
desktop-file-validate "$work/x/usr/share/applications/io.github.qmasque.QMasque.desktop" \
    || fail "desktop-file-validate"
if command -v appstreamcli >/dev/null; then
    appstreamcli validate --no-net "$work/x/usr/share/metainfo/io.github.qmasque.QMasque.metainfo.xml" >/dev/null \
        || fail "appstreamcli validate"
fi
zcat "$work/x/usr/share/man/man1/qmasque.1.gz" | grep -q 'EXIT STATUS' || fail "man page lacks EXIT STATUS"

if [ "$(id -u)" -ne 0 ]; then
    echo "packaging: not root, so the install/remove round trip is skipped (metadata checked)"
    exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get install -y -qq "$client" "$proxy" >/dev/null 2>&1 || fail "apt-get install of the packages failed"
cleanup_install() { apt-get purge -y -qq qmasque qmasque-proxy >/dev/null 2>&1 || true; }
trap 'cleanup_install; rm -rf "$work"' EXIT
/usr/bin/qmasque --version | grep -q "qmasque $(field "$client" Version)" || fail "installed qmasque --version"
/usr/bin/qmasque-proxy --version | grep -q "qmasque-proxy" || fail "installed qmasque-proxy --version"
[ -f /etc/default/qmasque-proxy ] || fail "conffile not installed"

# The installed programs for real: qmasque-proxy serves, and a headless qmasque --demo carries
# 1 MiB through its SOCKS5 port, then exits 0 on SIGTERM. The user's own profile is not read.
export XDG_CONFIG_HOME="$work/config"
wait_ready() { for _ in $(seq 200); do grep -qx ready "$1" && return 0; sleep 0.1; done; return 1; }
/usr/bin/qmasque-proxy --self-signed --listen 127.0.0.1:0 >"$work/proxy.out" 2>"$work/proxy.err" &
proxy_pid=$!
wait_ready "$work/proxy.out" || fail "installed qmasque-proxy did not get ready: $(tail -3 "$work/proxy.err")"
grep -q '^pin-sha256=' "$work/proxy.out" || fail "installed qmasque-proxy printed no pin"
kill -TERM "$proxy_pid"
wait "$proxy_pid" || fail "installed qmasque-proxy did not exit 0 on SIGTERM"
/usr/bin/qmasque --headless --demo --socks 127.0.0.1:0 >"$work/demo.out" 2>"$work/demo.err" &
demo_pid=$!
wait_ready "$work/demo.out" || fail "installed qmasque --demo did not get ready: $(tail -3 "$work/demo.err")"
socks=$(awk '$1 == "listening" && $2 == "socks5" { print $3 }' "$work/demo.out")
http=$(awk '$1 == "listening" && $2 == "demo-http" { print $3 }' "$work/demo.out")
curl -sS --fail --max-time 30 --socks5-hostname "$socks" "http://$http/1M" -o "$work/1M" \
    || fail "curl through the installed qmasque --demo failed"
kill -TERM "$demo_pid"
wait "$demo_pid" || fail "installed qmasque --demo did not exit 0 on SIGTERM"
[ "$(stat -c %s "$work/1M")" = 1048576 ] || fail "the demo download is not 1 MiB"
cleanup_install
[ ! -e /usr/bin/qmasque ] && [ ! -e /usr/bin/qmasque-proxy ] || fail "programs left behind after purge"
echo "packaging: OK ($(basename "$client"), $(basename "$proxy"), $(basename "$tgz"))"
