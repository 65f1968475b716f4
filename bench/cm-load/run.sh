#!/bin/bash
# bench/cm-load/run.sh [--hosts N] [--vms V] [--seconds S] [--rate R] [--verbose-vms K]
#                      [--static-ttl MS] [--dynamic-ttl MS] [--host-ttl MS] [--jitter MS]
#                      [--cm-rate R] [--cm-burst B] [--no-results]
#
# The load a fleet of hosts puts on ONE compute manager. N hosts x V VMs (default 10 x 50)
# are N mmctxenrich actions in one Debian rsyslogd: each action is a host (its own
# cm.hostName, cache, fetchers, Keystone login), all started at the same instant (the
# "every host restarted at once" case), with the shipped conf-examples/cm-nova.json and
# the per-host Nova URLs (bulk listing of its host, per-VM server and diagnostics, hostid
# lookup, hypervisor). The compute manager is tests/lib/cmserver.py (Keystone + Nova
# shaped, HTTP on loopback) and logs every request with its time.
#
# Messages: R msg/s in all (UDP, imudp) spread over every VM of every host; the first K
# VMs of each host send err (which asks for their per-VM stats), the others info (static
# part only). Two phases of S seconds each: R, then 2R (the log rate doubles: the
# requests must not).
#
# Reported (and appended to bench/cm-load/RESULTS.md unless --no-results):
#  - cold start: requests per second at the compute manager in the first seconds (peak
#    1-s bin), logins, the spread of the first bulk listings (cm.startJitter), against the
#    bound the rate limits allow (N hosts x 2 fetchers x (cm.burst + cm.ratePerSec/s));
#  - steady state (each phase after its first dynamic TTL): requests per second by kind;
#    bulk listings per host against one per cache.staticTTL/2; stats requests against
#    K VMs x N hosts per cache.dynamicTTL; per-VM static requests (0 expected: the
#    listing fills them).
# The machine's load average is recorded with the figures.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
HOSTS=10 VMS=50 SECS=60 RATE=500 VERBOSE=5 STTL=20000 DTTL=5000 HTTL=10000 JITTER=10000 CMRATE=10 CMBURST=10
RESULTS=1
while [ $# -gt 0 ]; do
    case "$1" in
        --hosts) HOSTS=$2; shift 2 ;;
        --vms) VMS=$2; shift 2 ;;
        --seconds) SECS=$2; shift 2 ;;
        --rate) RATE=$2; shift 2 ;;
        --verbose-vms) VERBOSE=$2; shift 2 ;;
        --static-ttl) STTL=$2; shift 2 ;;
        --dynamic-ttl) DTTL=$2; shift 2 ;;
        --host-ttl) HTTL=$2; shift 2 ;;
        --jitter) JITTER=$2; shift 2 ;;
        --cm-rate) CMRATE=$2; shift 2 ;;
        --cm-burst) CMBURST=$2; shift 2 ;;
        --no-results) RESULTS=0; shift ;;
        *) sed -n '2,4p' "$0" >&2; exit 2 ;;
    esac
done
RSYSLOGD=${RSYSLOGD:-/usr/sbin/rsyslogd}
MOD=${MOD:-$top/plugins/mmctxenrich/mmctxenrich.so}
[ -f "$MOD" ] || { echo "build first: $MOD missing" >&2; exit 1; }
W=$(mktemp -d /tmp/ctxbench-cmload.XXXXXX)
PY=/usr/bin/python3
CMPID= RSPID= SENDPID=
cleanup() {
    for p in $SENDPID $RSPID $CMPID; do kill "$p" 2>/dev/null || true; done
    [ -n "${KEEPW:-}" ] || rm -rf "$W"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
log() { echo "[$(date +%T)] $*" >&2; }

# ---- the compute manager ----------------------------------------------------------------
$PY "$top/bench/cm-load/gen.py" routes "$W" "$HOSTS" "$VMS"
umask 077
echo "bench-pw" >"$W/pw"
umask 022
$PY "$top/tests/lib/cmserver.py" serve --port-file "$W/cm.port" --routes "$W/routes.json" --log "$W/cm.log" \
    --keystone "ctxlog:bench-pw:admin" --token-ttl 3600 &
CMPID=$!
while [ ! -s "$W/cm.port" ]; do sleep 0.05; done
CM="http://127.0.0.1:$(cat "$W/cm.port")"

# ---- rsyslogd: one mmctxenrich action per host ------------------------------------------
PORT=$($PY -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
{
    cat <<CONF
global(workDirectory="$W")
module(load="imudp")
module(load="$MOD")
input(type="imudp" address="127.0.0.1" port="$PORT" rcvbufSize="16m" ruleset="r")
template(name="out" type="string" string="%msg%|%\$!ctx!cm!status%\n")
ruleset(name="r") {
    set \$!ctx!vm!name = re_extract(\$msg, "vm=([^ ]+)", 0, 1, "");
    set \$!ctx!vm!uuid = re_extract(\$msg, "uuid=([^ ]+)", 0, 1, "");
    set \$!ctx!vm!tenant = "acme";
    set \$.h = re_extract(\$msg, "host=([^ ]+)", 0, 1, "");
CONF
    for i in $(seq 0 $((HOSTS - 1))); do
        cat <<CONF
    if \$.h == "h$i" then {
        action(type="mmctxenrich" name="h$i" cm.mapping="$top/conf-examples/cm-nova.json" cm.hostName="h$i"
               cm.auth="keystone" cm.authUrl="$CM/v3/auth/tokens" cm.user="ctxlog" cm.passwordFile="$W/pw"
               cm.project="admin" cm.allowInsecure="on"
               cm.url="$CM/servers/{uuid}" cm.statsUrl="$CM/servers/{uuid}/diagnostics"
               cm.bulkUrl="$CM/servers/detail?all_tenants=1&host={host}"
               cm.hostIdUrl="$CM/os-hypervisors?hypervisor_hostname_pattern={host}"
               cm.hostUrl="$CM/os-hypervisors/{hostid.hypervisor_id}"
               cache.staticTTL="$STTL" cache.dynamicTTL="$DTTL" cache.hostTTL="$HTTL" cm.startJitter="$JITTER"
               cm.ratePerSec="$CMRATE" cm.burst="$CMBURST")
    }
CONF
    done
    cat <<CONF
    action(type="omfile" file="$W/out" template="out")
}
CONF
} >"$W/rsyslog.conf"
"$RSYSLOGD" -N1 -f "$W/rsyslog.conf" >"$W/n1.log" 2>&1 || { cat "$W/n1.log" >&2; exit 1; }

load0=$(cut -d' ' -f1-3 /proc/loadavg)
t0=$($PY -c 'import time; print(time.time())')
"$RSYSLOGD" -n -f "$W/rsyslog.conf" -i "$W/rs.pid" >"$W/rs.log" 2>&1 &
RSPID=$!
log "rsyslogd with $HOSTS hosts x $VMS VMs started; $SECS s at $RATE msg/s, then $SECS s at $((RATE * 2)) msg/s"
$PY "$top/bench/cm-load/gen.py" send "$PORT" "$HOSTS" "$VMS" "$VERBOSE" "$RATE" "$SECS" "$t0" &
SENDPID=$!
wait "$SENDPID"
SENDPID=
load1=$(cut -d' ' -f1-3 /proc/loadavg)
kill "$RSPID"
wait "$RSPID" 2>/dev/null || true
RSPID=
grep -q "mmctxenrich" "$W/rs.log" && grep "mmctxenrich" "$W/rs.log" | head -5 >&2 || true
$PY "$top/bench/cm-load/gen.py" analyze "$W/cm.log" "$t0" "$HOSTS" "$VMS" "$VERBOSE" "$RATE" "$SECS" "$STTL" "$DTTL" \
    "$HTTL" "$JITTER" "$CMRATE" "$CMBURST" "$load0" "$load1" "$(git -C "$top" rev-parse --short HEAD)" >"$W/report.md"
cat "$W/report.md"
[ "$RESULTS" = 1 ] && cat "$W/report.md" >>"$top/bench/cm-load/RESULTS.md"
exit 0
