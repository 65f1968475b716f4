#!/bin/bash
# Fetch Debian's rsyslog source package of the same upstream version as the
# installed /usr/sbin/rsyslogd, and configure it minimally so that its headers
# (and config.h) can be used to build ctxlog's modules out of tree.
#
# Usage: scripts/fetch-rsyslog-src.sh [DESTDIR]
#   DESTDIR defaults to .rsyslog-src/ at the top of the checkout (git-ignored).
# Prints the path of the configured source tree on its last line.
#
# The deb-src entry is derived from the machine's own apt sources (same URIs and
# suites): no archive host name is written anywhere in this repository.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
dest=${1:-$top/.rsyslog-src}
mkdir -p "$dest"
dest=$(cd "$dest" && pwd)

rsyslogd=${RSYSLOGD:-/usr/sbin/rsyslogd}
[ -x "$rsyslogd" ] || { echo "fetch-rsyslog-src: $rsyslogd not found (apt-get install rsyslog)" >&2; exit 1; }
upstream=$("$rsyslogd" -v | sed -n 's/^rsyslogd[[:space:]]*\([0-9.]*\).*/\1/p' | head -1)
[ -n "$upstream" ] || { echo "fetch-rsyslog-src: cannot read the version from '$rsyslogd -v'" >&2; exit 1; }

tree="$dest/rsyslog-$upstream"
if [ -f "$tree/.ctxlog-configured" ]; then
    echo "$tree"
    exit 0
fi

# 1. a deb-src entry mirroring the machine's deb entries
srcfile=/etc/apt/sources.list.d/ctxlog-deb-src.sources
have_src=0
if grep -rqsE '^[[:space:]]*(Types:.*deb-src|deb-src[[:space:]])' /etc/apt/sources.list /etc/apt/sources.list.d/ 2>/dev/null; then
    have_src=1
fi
if [ "$have_src" = 0 ]; then
    tmp=$(mktemp)
    if ls /etc/apt/sources.list.d/*.sources >/dev/null 2>&1; then
        # deb822: copy each stanza whose Types has "deb", as deb-src
        awk 'BEGIN{RS=""; ORS="\n\n"} /(^|\n)Types:[^\n]*deb([ \t\n]|$)/ {
                 sub(/Types:[^\n]*/, "Types: deb-src"); print }' \
            /etc/apt/sources.list.d/*.sources > "$tmp"
    fi
    if [ -f /etc/apt/sources.list ]; then
        sed -n 's/^[[:space:]]*deb[[:space:]]/deb-src /p' /etc/apt/sources.list > "$tmp.list"
        [ -s "$tmp.list" ] && cp "$tmp.list" /etc/apt/sources.list.d/ctxlog-deb-src.list
        rm -f "$tmp.list"
    fi
    [ -s "$tmp" ] && cp "$tmp" "$srcfile"
    rm -f "$tmp"
    apt-get update -q >&2
fi

# 2. the source package: any Debian revision of the installed upstream version
cd "$dest"
if [ ! -d "$tree" ]; then
    # the installed revision may not be downloadable (e.g. the security
    # pocket's): try every revision of the same upstream version, newest first
    versions=$(apt-cache showsrc rsyslog 2>/dev/null | sed -n 's/^Version: //p' | sort -u -r -V)
    got=""
    for v in $versions; do
        case "$v" in
            "$upstream"-*|*:"$upstream"-*) ;;
            *) continue ;;
        esac
        echo "fetch-rsyslog-src: trying rsyslog=$v" >&2
        rm -f rsyslog_*.dsc rsyslog_*.tar.*
        if apt-get source -q --download-only "rsyslog=$v" >&2; then got=$v; break; fi
    done
    [ -n "$got" ] || { echo "fetch-rsyslog-src: could not download any source package of rsyslog $upstream (apt has: $versions)" >&2; exit 1; }
    dpkg-source --no-check -x rsyslog_*"${upstream}"*.dsc "$tree" >&2
fi

# 3. configure once, minimally; layouts match Debian's full build (see docs/BUILD.md)
cd "$tree"
./configure -q --disable-libgcrypt --disable-fmhttp --disable-liblogging-stdlog \
    --disable-libsystemd --disable-generate-man-pages --disable-default-tests \
    --disable-debug >&2
touch .ctxlog-configured
echo "$tree"
