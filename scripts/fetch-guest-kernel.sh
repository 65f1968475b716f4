#!/bin/bash
# Fetch Debian's own kernel (the package linux-image-amd64 points at) and keep only
# what the qemu guest of tests/system/profiles_libvirt_qemu.sh boots: vmlinuz and the
# e1000 NIC driver. The package is downloaded with apt-get and unpacked, never
# installed (no initramfs-tools, nothing in /boot).
#
# Usage: scripts/fetch-guest-kernel.sh [DESTDIR]
#   DESTDIR defaults to .guest-kernel/ at the top of the checkout (git-ignored).
# Prints the directory holding vmlinuz and e1000.ko on its last line.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
dest=${1:-$top/.guest-kernel}
mkdir -p "$dest"
dest=$(cd "$dest" && pwd)

pkg=$(apt-cache depends linux-image-amd64 2>/dev/null | sed -n 's/^ *Depends: \(linux-image-[0-9][^ ]*\)$/\1/p' | head -1)
[ -n "$pkg" ] || { echo "fetch-guest-kernel: apt-cache knows no linux-image-amd64 (run apt-get update)" >&2; exit 1; }
dir="$dest/$pkg"
if [ -s "$dir/vmlinuz" ] && [ -s "$dir/e1000.ko" ]; then
    echo "$dir"
    exit 0
fi

tmp=$(mktemp -d "$dest/.fetch.XXXXXX")
chmod 755 "$tmp" # apt-get download as _apt
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && apt-get download -q "$pkg" >&2) || { echo "fetch-guest-kernel: apt-get download $pkg failed" >&2; exit 1; }
deb=$(ls "$tmp"/*.deb)
dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$tmp" --wildcards './boot/vmlinuz-*' './lib/modules/*/e1000.ko' ||
    { echo "fetch-guest-kernel: $deb has no vmlinuz or e1000.ko" >&2; exit 1; }
mkdir -p "$tmp/out"
cp "$tmp"/boot/vmlinuz-* "$tmp/out/vmlinuz"
cp "$(find "$tmp/lib/modules" -name e1000.ko | head -1)" "$tmp/out/e1000.ko"
rm -rf "$dir"
mv "$tmp/out" "$dir"
# kernels of earlier ABIs fetched before
find "$dest" -mindepth 1 -maxdepth 1 -type d -name 'linux-image-*' ! -name "$pkg" -exec rm -rf {} +
echo "$dir"
