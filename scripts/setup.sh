#!/usr/bin/env bash
# Installs everything QMasque needs to build, test, fuzz, benchmark and package, on Debian 12.
# Idempotent and quiet when everything is already present. ngtcp2 >= 1.11 and nghttp3 >= 1.8 come
# from Debian's bookworm-backports suite, which is enabled by reusing the URI of the Debian source
# this machine already uses (no host name is written anywhere by this script).
set -euo pipefail

# Packages from the main suite.
MAIN_PACKAGES=(
    # build
    build-essential cmake ninja-build pkg-config git clang-format
    qt6-base-dev qt6-base-dev-tools qt6-svg-dev libqt6svg6 qt6-qpa-plugins
    libnghttp2-dev libssl-dev libgnutls28-dev
    # tests: peers, clients and tools started by the test suites
    nghttp2-proxy nghttp2-client tinyproxy curl dnsutils dnsmasq-base socat iproute2 python3
    iputils-ping openssl gnutls-bin xvfb xauth imagemagick
    # fuzzing and sanitizers
    clang libclang-rt-14-dev
    # benchmarks and profiling
    nginx-light iperf3 valgrind hyperfine
    # packaging
    dpkg-dev fakeroot file desktop-file-utils appstream help2man lintian
)
# Packages that must come from bookworm-backports (minimum versions in CMake's dependency check).
BACKPORT_PACKAGES=(
    libngtcp2-dev libngtcp2-crypto-gnutls-dev libnghttp3-dev ngtcp2-client ngtcp2-server
)
BACKPORTS_LIST=/etc/apt/sources.list.d/qmasque-bookworm-backports.sources

say() { printf 'setup: %s\n' "$*"; }
die() { printf 'setup: %s\n' "$*" >&2; exit 1; }

not_supported() {
    cat >&2 <<MSG
setup: this script installs dependencies on Debian 12 (bookworm) only.
On other systems install by hand:
  - CMake >= 3.25, Ninja, a C++20 compiler, pkg-config, clang-format
  - Qt >= 6.4: Core, Network, Widgets, Svg, Test (and the offscreen/xcb platform plugins)
  - nghttp2 >= 1.52, ngtcp2 >= 1.11 with ngtcp2_crypto_gnutls, nghttp3 >= 1.8, OpenSSL 3, GnuTLS
  - for the tests: nghttpx, tinyproxy, curl, dig, dnsmasq, socat, iproute2, ping, python3, openssl,
    ngtcp2's gtlsclient/gtlsserver, Xvfb, ImageMagick; clang + libFuzzer for the fuzzers
then configure with: cmake -S . -B build -G Ninja
MSG
    exit 1
}

[ -r /etc/os-release ] || not_supported
. /etc/os-release
[ "${ID:-}" = debian ] && [ "${VERSION_ID:-}" = 12 ] || not_supported

SUDO=()
if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 || die "run as root or install sudo"
    SUDO=(sudo)
fi
export DEBIAN_FRONTEND=noninteractive

installed_version() { dpkg-query -W -f='${Status} ${Version}\n' "$1" 2>/dev/null | awk '$3=="installed"{print $4}'; }

missing_packages() {
    local p
    for p in "$@"; do
        [ -n "$(installed_version "$p")" ] || echo "$p"
    done
}

# Backport packages must be installed AND new enough (Debian 12's own ngtcp2 is 0.12).
stale_backports() {
    local p v
    for p in "${BACKPORT_PACKAGES[@]}"; do
        v=$(installed_version "$p")
        case "$p" in
            libnghttp3-dev) min=1.8 ;;
            *) min=1.11 ;;
        esac
        if [ -z "$v" ] || dpkg --compare-versions "$v" lt "$min"; then
            echo "$p"
        fi
    done
}

main_missing=$(missing_packages "${MAIN_PACKAGES[@]}")
bpo_missing=$(stale_backports)
if [ -z "$main_missing" ] && [ -z "$bpo_missing" ]; then
    exit 0
fi

# Does any configured apt source already carry bookworm-backports?
has_backports() {
    grep -rhsE '^[^#]*bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/ >/dev/null 2>&1
}

# The URI of the Debian archive this machine already uses (deb822 or one-line format).
debian_uri() {
    local f uri
    for f in /etc/apt/sources.list.d/*.sources; do
        [ -r "$f" ] || continue
        uri=$(awk '
            /^[[:space:]]*$/ { if (suites ~ /(^|[[:space:]])bookworm([[:space:]]|$)/ && uris != "") { print uris; exit } uris=""; suites=""; next }
            /^URIs:/ { uris=$2 }
            /^Suites:/ { $1=""; suites=$0 }
            END { if (suites ~ /(^|[[:space:]])bookworm([[:space:]]|$)/ && uris != "") print uris }
        ' "$f" | head -n 1)
        [ -n "$uri" ] && { echo "$uri"; return; }
    done
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
        [ -r "$f" ] || continue
        uri=$(awk '$1=="deb" { for (i=2;i<=NF;i++) if ($i !~ /^\[/) { if ($(i+1)=="bookworm") { print $i; exit } break } }' "$f")
        [ -n "$uri" ] && { echo "$uri"; return; }
    done
}

need_update=0
if [ -n "$bpo_missing" ] && ! has_backports; then
    uri=$(debian_uri)
    [ -n "$uri" ] || die "no Debian 'bookworm' source found in /etc/apt to derive bookworm-backports from"
    say "enabling bookworm-backports from the configured Debian mirror"
    printf 'Types: deb\nURIs: %s\nSuites: bookworm-backports\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' "$uri" \
        | "${SUDO[@]}" tee "$BACKPORTS_LIST" >/dev/null
    need_update=1
fi

# Refresh the package lists only when they are missing or cannot satisfy what we need.
if [ "$need_update" -eq 0 ]; then
    for p in $main_missing; do
        if ! apt-cache show "$p" >/dev/null 2>&1; then need_update=1; break; fi
    done
fi
if [ "$need_update" -eq 0 ] && [ -n "$bpo_missing" ]; then
    apt-cache policy libngtcp2-dev 2>/dev/null | grep -q 'bookworm-backports' || need_update=1
fi
if [ "$need_update" -eq 1 ]; then
    say "apt-get update"
    "${SUDO[@]}" apt-get update -qq
fi

if [ -n "$bpo_missing" ]; then
    say "installing from bookworm-backports: $(echo $bpo_missing)"
    "${SUDO[@]}" apt-get install -y -qq --no-install-recommends -t bookworm-backports $bpo_missing >/dev/null
fi
if [ -n "$main_missing" ]; then
    say "installing: $(echo $main_missing)"
    "${SUDO[@]}" apt-get install -y -qq --no-install-recommends $main_missing >/dev/null
fi

still=$(missing_packages "${MAIN_PACKAGES[@]}"; stale_backports)
[ -z "$still" ] || die "could not install: $(echo $still)"
say "all dependencies present"
