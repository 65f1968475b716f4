#!/bin/bash
# Build the Debian package of ctxlog from the already-built tree (docs/package.md).
#
# Usage: scripts/build-deb.sh [OUTDIR]
#   writes OUTDIR/ctxlog_<version>_<arch>.deb (OUTDIR defaults to dist/ at the top of
#   the checkout) and prints its path on the last line of stdout. Build first
#   (./bootstrap build); top_builddir, if set, names the build tree.
#
# The package Depends on the exact rsyslog upstream version the modules were built
# against (any Debian revision of it): rsyslog loads modules built against its own
# headers, so apt must refuse an rsyslog of another upstream version.
set -euo pipefail
umask 022

top=$(cd "$(dirname "$0")/.." && pwd)
build=${top_builddir:-$top}
outdir=${1:-$top/dist}
modules=(imctxcap mmctxenrich omtenant)

die() { echo "build-deb: $*" >&2; exit 1; }
case "${1:-}" in -h | --help) sed -n '4,7s/^# \{0,1\}//p' "$0"; exit 0 ;; -*) die "usage: $0 [OUTDIR]" ;; esac

# the built modules and the rsyslog source tree they were compiled against
check_built() {
    [ -f "$build/Makefile" ] || die "no configured build tree in $build: build first: ./bootstrap build"
    local m
    for m in "${modules[@]}"; do
        [ -f "$build/plugins/$m/.libs/$m.so" ] || die "plugins/$m/.libs/$m.so is missing: build first: ./bootstrap build"
    done
}

read_versions() {
    version=$(sed -n 's/^AC_INIT(\[ctxlog\], *\[\([^]]*\)\].*/\1/p' "$top/configure.ac")
    [ -n "$version" ] || die "cannot read the version from AC_INIT in configure.ac"
    arch=$(dpkg --print-architecture)
    multiarch=$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null)
    [ -n "$multiarch" ] || die "dpkg-architecture -qDEB_HOST_MULTIARCH failed (apt-get install dpkg-dev)"
    src=$(sed -n 's/^RSYSLOG_SRC = //p' "$build/Makefile")
    [ -f "$src/config.h" ] || die "the rsyslog source tree the build used ($src) is gone: run scripts/fetch-rsyslog-src.sh, then ./bootstrap build"
    rsyslog_version=$(sed -n 's/^#define PACKAGE_VERSION "\(.*\)"/\1/p' "$src/config.h")
    [ -n "$rsyslog_version" ] || die "no PACKAGE_VERSION in $src/config.h"
}

# the modules are for this machine's rsyslog, and were compiled after the tree was configured
check_rsyslog() {
    # rsyslog upgraded since the build
    local rsyslogd=${RSYSLOGD:-$(sed -n 's/^RSYSLOGD = //p' "$build/Makefile")} installed
    installed=$("$rsyslogd" -v 2>/dev/null | sed -n 's/^rsyslogd[[:space:]]*\([0-9.]*\).*/\1/p' | head -1)
    [ "$installed" = "$rsyslog_version" ] ||
        die "the modules were built for rsyslog $rsyslog_version but $rsyslogd is ${installed:-of unknown version}: rebuild against it (scripts/fetch-rsyslog-src.sh && ./configure && make clean && make), then package"
    # reconfigured for a new rsyslog tree, but make rebuilt nothing (.deps name the old headers)
    local m
    for m in "${modules[@]}"; do
        [ "$build/plugins/$m/.libs/$m.so" -nt "$src/config.h" ] ||
            die "plugins/$m/.libs/$m.so is older than $src/config.h: rebuild (make clean && make), then package"
    done
}

# package root laid out as dpkg-shlibdeps expects: $work/debian/ctxlog
make_root() {
    work=$(mktemp -d)
    trap 'rm -rf "$work"' EXIT
    root=$work/debian/ctxlog
    install -d -m 0755 "$root" "$root/DEBIAN"
}

stage_modules() {
    local dir=$root/usr/lib/$multiarch/rsyslog m
    install -d -m 0755 "$dir"
    for m in "${modules[@]}"; do
        install -m 0644 "$build/plugins/$m/.libs/$m.so" "$dir/$m.so"
        strip --strip-unneeded "$dir/$m.so"
    done
}

stage_docs() {
    local doc=$root/usr/share/doc/ctxlog f
    install -d -m 0755 "$doc/docs" "$doc/examples"
    install -m 0644 "$top/README.md" "$doc/"
    install -m 0644 "$top"/docs/*.md "$doc/docs/"
    (cd "$top/conf-examples" && find . -type f) | while read -r f; do
        install -D -m 0644 "$top/conf-examples/$f" "$doc/examples/$f"
    done
    cat >"$doc/copyright" <<EOF
Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: ctxlog
Comment: Built from the ctxlog source tree (native rsyslog modules imctxcap,
 mmctxenrich, omtenant).

Files: *
Copyright: the ctxlog authors
License: unstated
 The ctxlog source tree carries no license statement.
EOF
    chmod 0644 "$doc/copyright"
    printf 'ctxlog (%s) unstable; urgency=medium\n\n  * Built from %s against rsyslog %s.\n\n -- %s  %s\n' \
        "$version" "$(git -C "$top" describe --always --dirty 2>/dev/null || echo 'a source tree')" \
        "$rsyslog_version" "$maintainer" "$(date -R -u -d "@$SOURCE_DATE_EPOCH")" |
        gzip -9n >"$doc/changelog.Debian.gz"
    chmod 0644 "$doc/changelog.Debian.gz"
}

# rotation of the local unredacted copy (conf-examples/50-ctxlog.conf's omfile), HUP
# exactly as Debian's /etc/logrotate.d/rsyslog does
stage_logrotate() {
    install -d -m 0755 "$root/etc/logrotate.d"
    cat >"$root/etc/logrotate.d/ctxlog" <<'EOF'
# ctxlog: the local, unredacted copy of the VMs' messages (docs/package.md)
/var/log/ctxlog/*.json
{
	rotate 7
	daily
	missingok
	notifempty
	compress
	delaycompress
	create 0600 root root
	sharedscripts
	postrotate
		/usr/lib/rsyslog/rsyslog-rotate
	endscript
}
EOF
    chmod 0644 "$root/etc/logrotate.d/ctxlog"
    echo /etc/logrotate.d/ctxlog >"$root/DEBIAN/conffiles"
}

write_control() {
    printf 'Source: ctxlog\n\nPackage: ctxlog\nArchitecture: any\n' >"$work/debian/control"
    local shlibs
    # --warnings=6: rsyslog's core symbols (LogError, ...) resolve from rsyslogd, not a library
    shlibs=$(cd "$work" && dpkg-shlibdeps -O --warnings=6 "debian/ctxlog/usr/lib/$multiarch/rsyslog/"*.so |
        sed -n 's/^shlibs:Depends=//p')
    [ -n "$shlibs" ] || die "dpkg-shlibdeps found no library dependencies"
    # Recommends: libvirt and libxml2 are loaded with dlopen, only for profiles.libvirt
    # (common/context/lvdl.c): dpkg-shlibdeps does not see them, and a host without libvirt
    # needs neither
    cat >"$root/DEBIAN/control" <<EOF
Package: ctxlog
Version: $version
Section: admin
Priority: optional
Architecture: $arch
Maintainer: $maintainer
Installed-Size: $(du -sk --exclude=DEBIAN "$root" | cut -f1)
Depends: $shlibs, rsyslog (>= $rsyslog_version), rsyslog (<< $rsyslog_version+~)
Recommends: libvirt0, libxml2
Description: context-enriched logging for the VMs of a hypervisor host (rsyslog modules)
 ctxlog adds three native modules to the host's rsyslog: imctxcap captures
 the syslog traffic of the VMs on their vNICs without agents in the guests and
 tells which VM sent each message; mmctxenrich adds host (cgroup, /proc) and
 compute-manager context by policy; omtenant delivers each tenant's messages,
 redacted, batched, zstd-compressed and over TLS or HTTPS, to the tenant's own
 log server, with a spool on disk.
 .
 Built against rsyslog $rsyslog_version: the package accepts any Debian
 revision of that upstream version only. Example configuration is in
 /usr/share/doc/ctxlog/examples/; nothing is enabled until a file is put in
 /etc/rsyslog.d/.
EOF
    chmod 0644 "$root/DEBIAN/control" "$root/DEBIAN/conffiles"
}

build_deb() {
    install -d "$outdir"
    deb=$(cd "$outdir" && pwd)/ctxlog_${version}_${arch}.deb
    dpkg-deb --root-owner-group --build "$root" "$deb" >/dev/null
}

maintainer="${DEBFULLNAME:-ctxlog maintainers} <${DEBEMAIL:-maintainers@users.noreply.r-seed-3f5560d2.example}>"
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git -C "$top" log -1 --format=%ct 2>/dev/null || date +%s)}
check_built
read_versions
check_rsyslog
make_root
stage_modules
stage_docs
stage_logrotate
write_control
build_deb
echo "$deb"
