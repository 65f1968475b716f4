# tests/lib/harness.sh: system-test harness (source it from a test script).
#
# Runs Debian's real rsyslogd in the foreground on a generated config with a
# private work directory and pid file (never the system instance, never
# /dev/log), waits on conditions (never fixed sleeps), keeps the daemon's log
# when a test fails, and cleans up namespaces, veths and cgroups on any exit.
#
#   . "$top_srcdir/tests/lib/harness.sh"
#   ctx_init mytest                  # work dir, traps
#   ctx_conf <<'EOF' ... EOF         # config body; @WORK@ @MODDIR@ @TOP@ are substituted
#   ctx_start                        # rsyslogd -n, waits until it runs
#   ...; ctx_wait_lines FILE N       # condition wait
#   ctx_stats_round NAME             # impstats trails by up to a second: before reading counters
#                                    # that must show what just happened, wait for a later record
#   ctx_stop                         # SIGTERM, waits for exit (queues drained)
#   ctx_pass / ctx_fail "why"
#
# Environment: CTXLOG_VALGRIND=1 runs rsyslogd under valgrind (memcheck; any error
# fails the test). CTXLOG_KEEP=1 keeps the work directory even on success.
set -u

: "${top_srcdir:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
: "${RSYSLOGD:=/usr/sbin/rsyslogd}"
export top_srcdir top_builddir RSYSLOGD
CTX_MODDIR="${CTX_MODDIR:-$top_builddir/plugins}"
CTX_SKIP=77
CTX_HARD_ERROR=99

. "$top_srcdir/tests/lib/vm.sh"

ctx_log() { echo "[$(date +%H:%M:%S.%N | cut -c1-12)] $*" >&2; }

ctx_init() {
    CTX_TEST=$1
    CTX_WORK="$top_builddir/tests/work/$CTX_TEST"
    rm -rf "$CTX_WORK"
    mkdir -p "$CTX_WORK"
    CTX_PIDFILE="$CTX_WORK/rsyslogd.pid"
    CTX_CONF="$CTX_WORK/rsyslog.conf"
    CTX_DLOG="$CTX_WORK/rsyslogd.log"
    CTX_VGLOG="$CTX_WORK/valgrind.log"
    CTX_ILOG="$CTX_WORK/internal.log"
    CTX_RESULT=fail
    CTX_CLEANUPS=()
    trap ctx_exit EXIT
    trap 'ctx_log "interrupted"; exit 130' INT TERM HUP
}

# ctx_need_root WHY: nothing as root. Otherwise the test stops here, reported as needing
# root (never a pass): SKIP with the reason in its log, or a failure with
# CTXLOG_ROOT_TESTS=fail. The harness asks for it where root is needed (simulated VMs,
# imctxcap's capture); everything else runs as any user (docs/BUILD.md).
ctx_need_root() {
    [ "$(id -u)" = 0 ] && return 0
    CTX_RESULT=pass # nothing ran that needs keeping
    if [ "${CTXLOG_ROOT_TESTS:-skip}" = fail ]; then
        echo "FAIL: $CTX_TEST needs root: $*" >&2
        exit 1
    fi
    echo "SKIP: $CTX_TEST needs root: $*"
    exit $CTX_SKIP
}

# register a cleanup command (run in reverse order on exit)
ctx_on_exit() { CTX_CLEANUPS+=("$*"); }

ctx_exit() {
    local rc=$?
    ctx_stop_quiet
    local i
    for ((i = ${#CTX_CLEANUPS[@]} - 1; i >= 0; i--)); do eval "${CTX_CLEANUPS[$i]}" >/dev/null 2>&1 || true; done
    ctx_vm_cleanup_all
    if [ "$CTX_RESULT" != pass ] || { [ "$rc" != 0 ] && [ "$rc" != "$CTX_SKIP" ]; }; then
        echo "---- $CTX_TEST failed (rc=$rc); work dir kept: $CTX_WORK"
        for f in "$CTX_DLOG" "$CTX_ILOG" "$CTX_VGLOG"; do
            [ -s "$f" ] && { echo "---- $f (last 60 lines)"; tail -n 60 "$f"; }
        done
    elif [ "${CTXLOG_KEEP:-0}" != 1 ]; then
        rm -rf "$CTX_WORK"
    fi
    exit "$rc"
}

ctx_pass() { CTX_RESULT=pass; echo "PASS: $CTX_TEST${1:+: $1}"; exit 0; }
ctx_fail() { echo "FAIL: $CTX_TEST: $*" >&2; exit 1; }
ctx_skip() { CTX_RESULT=pass; echo "SKIP: $CTX_TEST: $*"; exit $CTX_SKIP; }

# ctx_conf: read a config body on stdin; prepend the private globals
ctx_conf() {
    {
        cat <<EOF
global(workDirectory="$CTX_WORK" maxMessageSize="${CTX_MAXMSG:-8k}" processInternalMessages="on"
       defaultNetstreamDriverCAFile="${CTX_CAFILE:-/etc/ssl/certs/ca-certificates.crt}")
main_queue(queue.timeoutShutdown="20000" queue.timeoutEnqueue="20000")
module(load="impstats" interval="1" format="json" log.syslog="off" log.file="$CTX_WORK/stats.log" resetCounters="${CTX_STATS_RESET:-off}")
# rsyslogd's own messages (errors, module notices) go to their own file
if \$inputname == "rsyslogd" then {
    action(type="omfile" file="$CTX_ILOG" template="RSYSLOG_FileFormat")
    stop
}
EOF
        sed -e "s|@WORK@|$CTX_WORK|g" -e "s|@MODDIR@|$CTX_MODDIR|g" -e "s|@TOP@|$top_srcdir|g"
    } >"$CTX_CONF"
}

ctx_rsyslogd_cmd() {
    if [ "${CTXLOG_VALGRIND:-0}" = 1 ]; then
        echo "valgrind --quiet --error-exitcode=$CTX_HARD_ERROR --leak-check=full --errors-for-leak-kinds=definite \
--log-file=$CTX_VGLOG --suppressions=$top_srcdir/tests/lib/valgrind.supp $RSYSLOGD"
    else
        echo "$RSYSLOGD"
    fi
}

# rsyslogd -N1 on the current config; stdout+stderr into $CTX_WORK/n1.out; returns its exit code
ctx_validate() {
    local rc=0
    $RSYSLOGD -N1 -f "$CTX_CONF" -i "$CTX_WORK/n1.pid" >"$CTX_WORK/n1.out" 2>&1 || rc=$?
    return $rc
}

# ctx_validate_ok WHAT: ctx_validate, failing the test with its output if rsyslogd -N1
# rejects the config ("rsyslogd -N1 rejected WHAT")
ctx_validate_ok() {
    ctx_validate || { cat "$CTX_WORK/n1.out"; ctx_fail "rsyslogd -N1 rejected $1"; }
}

ctx_start() {
    if grep -q 'imctxcap\.so' "$CTX_CONF"; then ctx_need_root "imctxcap captures with AF_PACKET"; fi
    # shellcheck disable=SC2046
    $(ctx_rsyslogd_cmd) -n -f "$CTX_CONF" -i "$CTX_PIDFILE" >"$CTX_DLOG" 2>&1 &
    CTX_RSYSLOG_PID=$!
    local tmo=${CTX_START_TIMEOUT:-30}
    ctx_wait_for "rsyslogd to start" "$tmo" "[ -s '$CTX_PIDFILE' ] || ! kill -0 $CTX_RSYSLOG_PID 2>/dev/null"
    kill -0 "$CTX_RSYSLOG_PID" 2>/dev/null || ctx_fail "rsyslogd exited at start-up"
    # impstats' first round proves the main loop runs
    ctx_wait_for "impstats" "$tmo" "[ -s '$CTX_WORK/stats.log' ]"
}

ctx_hup() { kill -HUP "$CTX_RSYSLOG_PID"; }

ctx_stop() {
    [ -n "${CTX_RSYSLOG_PID:-}" ] || return 0
    kill -TERM "$CTX_RSYSLOG_PID" 2>/dev/null || true
    local rc=0
    wait "$CTX_RSYSLOG_PID" || rc=$?
    CTX_RSYSLOG_PID=
    if [ "$rc" = "$CTX_HARD_ERROR" ]; then ctx_fail "valgrind reported errors (see $CTX_VGLOG)"; fi
    [ "$rc" = 0 ] || ctx_fail "rsyslogd exited with $rc"
    if grep -qE "AddressSanitizer|runtime error:" "$CTX_DLOG" "$CTX_ILOG" 2>/dev/null; then ctx_fail "sanitizer report in $CTX_DLOG"; fi
}

ctx_stop_quiet() {
    [ -n "${CTX_RSYSLOG_PID:-}" ] || return 0
    kill -TERM "$CTX_RSYSLOG_PID" 2>/dev/null || true
    wait "$CTX_RSYSLOG_PID" 2>/dev/null || true
    CTX_RSYSLOG_PID=
}

# ctx_wait_for WHAT TIMEOUT_S CONDITION (a shell expression); polls every 50 ms
ctx_wait_for() {
    local what=$1 tmo=$2 cond=$3
    local deadline=$((SECONDS + tmo))
    while ! eval "$cond"; do
        [ $SECONDS -lt $deadline ] || ctx_fail "timeout ($tmo s) waiting for $what"
        sleep 0.05
    done
}

# ctx_wait_lines FILE N [TIMEOUT]: until FILE has at least N lines
ctx_wait_lines() {
    ctx_wait_for "$2 lines in $1" "${3:-30}" "[ \$(cat '$1' 2>/dev/null | wc -l) -ge $2 ]"
}

# ctx_stat NAME COUNTER: the counter's value in the latest impstats record of NAME (or empty)
ctx_stat() {
    grep -F "\"name\": \"$1\"" "$CTX_WORK/stats.log" 2>/dev/null | tail -n 1 | sed 's/^[^{]*//' |
        jq -r ".\"$2\" // empty"
}

# ctx_stats_round NAME [TIMEOUT]: until impstats has written two more records of NAME, so
# that what ctx_stat reads next was counted after this call (a record may have been taken
# just before it, and written just after)
ctx_stats_round() {
    local n
    n=$(grep -cF "\"name\": \"$1\"" "$CTX_WORK/stats.log" 2>/dev/null)
    ctx_wait_for "a new impstats record of $1" "${2:-30}" \
        "[ \$(grep -cF '\"name\": \"$1\"' '$CTX_WORK/stats.log' 2>/dev/null) -ge $((${n:-0} + 2)) ]"
}

# ctx_wait_stat NAME COUNTER MIN [TIMEOUT]: until the counter is >= MIN
ctx_wait_stat() {
    ctx_wait_for "$1 $2 >= $3" "${4:-30}" "[ \"\$(ctx_stat '$1' '$2')\" != '' ] && [ \$(ctx_stat '$1' '$2') -ge $3 ]"
}

# ctx_assert_stats NAME COUNTER=EXPECTED...: each counter of NAME's latest impstats record
# equals what it should (ctx_assert_eq, the counter's name as WHAT)
ctx_assert_stats() {
    local name=$1 kv
    shift
    for kv; do ctx_assert_eq "${kv%%=*}" "${kv#*=}" "$(ctx_stat "$name" "${kv%%=*}")"; done
}

# ctx_assert_eq WHAT EXPECTED ACTUAL
ctx_assert_eq() {
    [ "$2" = "$3" ] || ctx_fail "$1: expected '$2', got '$3'"
}

# ctx_assert_grep FILE PATTERN (fixed string)
ctx_assert_grep() {
    grep -qF -- "$2" "$1" || { echo "---- $1:"; cat "$1"; ctx_fail "expected '$2' in $1"; }
}

# ctx_check_seq FILE PREFIX FIRST LAST: every sequence number PREFIX<n> in FILE appears
# exactly once for n in FIRST..LAST, and no other; reports gaps and duplicates
ctx_check_seq() {
    local file=$1 prefix=$2 first=$3 last=$4
    /usr/bin/python3 - "$file" "$prefix" "$first" "$last" <<'PY' || ctx_fail "sequence check of $1 failed"
import re, sys
path, prefix, first, last = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
seen = {}
pat = re.compile(re.escape(prefix) + r"(\d+)")
for line in open(path, errors="replace"):
    for m in pat.finditer(line):
        n = int(m.group(1))
        seen[n] = seen.get(n, 0) + 1
want = set(range(first, last + 1))
missing = sorted(want - set(seen))
extra = sorted(set(seen) - want)
dups = sorted(n for n, c in seen.items() if c > 1)
if missing or extra or dups:
    print(f"{path}: {prefix}: missing {len(missing)} {missing[:10]}, duplicates {len(dups)} {dups[:10]}, "
          f"unexpected {len(extra)} {extra[:10]}", file=sys.stderr)
    sys.exit(1)
PY
}

# the output template of system tests, parsed by tests/lib/ctxcheck.py
CTX_CHECK_TEMPLATE='template(name="ctxcheck" type="string" string="%inputname%|%fromhost-ip%|%hostname%|%programname%|%syslogseverity-text%|%msg:::drop-last-lf%|%$!ctx%\n")'

# ctx_cap_conf NAME KEY=VALUE...: the config of most imctxcap tests: one imctxcap input
# NAME with these parameters (interface, profiles, ...); every message to @WORK@/out
# with the ctxcheck template
ctx_cap_conf() {
    local name=$1 kv params=""
    shift
    for kv; do params="$params ${kv%%=*}=\"${kv#*=}\""; done
    ctx_conf <<CONF
module(load="@MODDIR@/imctxcap/imctxcap.so")
input(type="imctxcap" name="$name"$params)
$CTX_CHECK_TEMPLATE
action(type="omfile" file="@WORK@/out" template="ctxcheck")
CONF
}

# ctx_cap_start NAME N: rsyslogd started, and imctxcap(NAME) has N interfaces attached
ctx_cap_start() {
    ctx_start
    ctx_wait_stat "imctxcap($1)" interfaces.attached "$2"
}

# ctx_check OUTFILE EXPECTFILE: every expected message arrived as often as expected,
# with the expected fields, and nothing else arrived
ctx_check() {
    /usr/bin/python3 "$top_srcdir/tests/lib/ctxcheck.py" "$1" "$2" || ctx_fail "output check of $1 failed"
}
