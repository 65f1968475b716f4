#!/bin/bash
# Build check: every undefined symbol of each module is defined by /usr/sbin/rsyslogd,
# by a library rsyslogd links, or by a library the module itself links; so a module
# can never fail at load time on an operator's host with "undefined symbol".
. "$top_srcdir/tests/lib/harness.sh"
CTX_TEST=symbols
CTX_WORK="$top_builddir/tests/work/symbols"; mkdir -p "$CTX_WORK"
defs="$CTX_WORK/defined"
libs_of() { ldd "$1" | awk '/=> \// {print $3} /^[ \t]*\/.*\(0x/ {print $1}'; }
{
    nm -D --defined-only "$RSYSLOGD" | awk '{print $NF}'
    for l in $(libs_of "$RSYSLOGD"); do nm -D --defined-only "$l" | awk '{print $NF}'; done
} | sed 's/@.*//' | sort -u >"$defs"
bad=0
n=0
for m in imctxcap mmctxenrich omtenant; do
    so="$top_builddir/plugins/$m/$m.so"
    [ -f "$so" ] || { echo "FAIL: $so not built"; exit 1; }
    own="$CTX_WORK/$m.own"
    for l in $(libs_of "$so"); do nm -D --defined-only "$l" | awk '{print $NF}'; done | sed 's/@.*//' | sort -u >"$own"
    while read -r sym; do
        n=$((n + 1))
        if ! grep -qxF "$sym" "$defs" && ! grep -qxF "$sym" "$own"; then
            echo "FAIL: $m.so needs '$sym', which neither rsyslogd nor any library provides"
            bad=1
        fi
    done < <(nm -D --undefined-only "$so" | awk '{print $NF}' | sed 's/@.*//' | grep -v '^_\(_gmon_start__\|ITM_\)' | sort -u)
    # exported symbols: only rsyslog's module entry point may be visible, and for the two
    # modules that share profile sources, the registry's rendezvous (common/context/profsrc.c)
    shared=modInit
    case $m in imctxcap | mmctxenrich) shared=ctxlog_profreg_v1 ;; esac
    extra=$(nm -D --defined-only "$so" | awk '{print $NF}' | grep -v -x -e modInit -e "$shared" -e _init -e _fini || true)
    if [ -n "$extra" ]; then echo "FAIL: $m.so exports more than modInit (and ctxlog_profreg_v1): $(echo $extra | head -c 300)"; bad=1; fi
done
[ $bad = 0 ] || exit 1
rm -rf "$CTX_WORK"
echo "PASS: symbols: $n undefined symbols of 3 modules all resolve against rsyslogd and its libraries"
