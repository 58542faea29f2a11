#!/bin/sh
# Build the sstar sandbox image without a container registry: debootstrap a minimal
# Debian bookworm with python3 and g++ (from the Debian mirror), add the runner, `docker import`.
#
#   build-offline.sh IMAGE_TAG RUNNER_PY
#
# Needs root, debootstrap and a running Docker engine. Downloaded .debs are kept in
# $SSTAR_DEBOOTSTRAP_CACHE (default ~/.cache/sstar/debootstrap), so rebuilds after a
# runner change take about a minute and download nothing.
set -eu

if [ $# -ne 2 ]; then
    echo "usage: $0 IMAGE_TAG RUNNER_PY" >&2
    exit 2
fi
tag=$1
runner=$2
mirror=${SSTAR_DEBIAN_MIRROR:-http://deb.debian.org/debian}
cache=${SSTAR_DEBOOTSTRAP_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/sstar/debootstrap}

[ "$(id -u)" = 0 ] || { echo "error: run as root (debootstrap needs it)" >&2; exit 2; }
command -v debootstrap >/dev/null || { echo "error: debootstrap is missing: apt-get install debootstrap" >&2; exit 2; }
command -v docker >/dev/null || { echo "error: the docker client is missing: apt-get install docker.io" >&2; exit 2; }
[ -f "$runner" ] || { echo "error: no runner at $runner" >&2; exit 2; }

rootfs=$(mktemp -d "${TMPDIR:-/var/tmp}/sstar-rootfs.XXXXXX")
trap 'rm -rf "$rootfs"' EXIT INT TERM
mkdir -p "$cache"

echo "debootstrap bookworm (minbase + python3, g++) into $rootfs"
debootstrap --variant=minbase --include=python3,g++ --cache-dir="$cache" bookworm "$rootfs" "$mirror"

# What a container never needs: docs, manuals, apt's package lists and caches.
rm -rf "$rootfs"/usr/share/doc/* "$rootfs"/usr/share/man/* "$rootfs"/usr/share/info/* \
       "$rootfs"/var/cache/apt/* "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/log/*
install -d -m 0755 "$rootfs/opt/sstar"
install -m 0644 "$runner" "$rootfs/opt/sstar/runner.py"

echo "docker import as $tag"
tar --numeric-owner -C "$rootfs" -c . | docker import \
    -c 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    -c 'ENV LANG=C.UTF-8' \
    -c 'LABEL sstar.sandbox="1"' \
    -c 'CMD ["cat"]' \
    -m "sstar sandbox (offline build)" - "$tag"
echo "built $tag"
