#!/bin/bash
# bench/imctxcap/callgrind.sh [--messages "1000 5000"] [--budget off]
#
# CPU per message of imctxcap in instructions (callgrind), which unlike seconds do
# not depend on what else the machine runs. rsyslogd runs under callgrind with
# imctxcap (one worker) on one veth vNIC and an omfile action; a VM namespace sends
# N syslog datagrams of ~200 bytes (tests/lib/rawsend.py) to the host. Two runs with
# different N: the difference of their totals divided by the difference of N is the
# whole daemon's cost per message (start-up and shutdown cancel out); the inclusive
# cost of the capture loop's read function (ctx_ring_drain, or pcap_dispatch in
# builds before the one-ring capture) and of imctxcap_on_packet per message is the
# capture path. imctxcap runs with its defaults (the per-vNIC budget on); --budget off
# turns the budget off, to see what it costs. IMCTXCAP_SO=/path/imctxcap.so measures another build. Prints a
# Markdown table; run it as root (namespaces), e.g. inside scripts/in-private-net.sh.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
counts="1000 5000" budget=""
while [ $# -gt 0 ]; do
    case "$1" in
        --messages) counts=$2; shift 2 ;;
        --budget) [ "$2" = off ] && budget=' vm.maxPacketsPerSecond="0" vm.maxBytesPerSecond="0"'; shift 2 ;;
        *) echo "usage: $0 [--messages \"N1 N2\"] [--budget off]" >&2; exit 2 ;;
    esac
done
[ "$(id -u)" = 0 ] || { echo "run as root" >&2; exit 1; }
command -v valgrind >/dev/null || { echo "valgrind is not installed" >&2; exit 1; }
RSYSLOGD=${RSYSLOGD:-/usr/sbin/rsyslogd}
SO=${IMCTXCAP_SO:-$top/plugins/imctxcap/imctxcap.so}
W=$(mktemp -d /tmp/ctxbench-cg.XXXXXX)
IDX=241
. "$top/bench/imctxcap/setup.sh"
bench_vm cg
HMAC=$(cat "/sys/class/net/$VNIC/address")
cat >"$W/rsyslog.conf" <<EOF
global(workDirectory="$W")
module(load="impstats" interval="1" format="json" log.syslog="off" log.file="$W/stats.log")
module(load="$SO")
input(type="imctxcap" name="cg" interface="$VNIC" profiles="$W/profiles.json"$budget)
action(type="omfile" file="$W/out")
EOF
attached() { { grep -F '"name": "imctxcap(cg)"' "$W/stats.log" 2>/dev/null || true; } | tail -1 | sed 's/^[^{]*//' |
    jq -r '."interfaces.attached" // 0'; }
lines() { cat "$W/out" 2>/dev/null | wc -l; }

# one run with $1 messages; leaves $W/cg.$1
run() {
    local n=$1 i
    rm -f "$W/out" "$W/stats.log"
    valgrind --tool=callgrind --callgrind-out-file="$W/cg.$n" "$RSYSLOGD" -n -f "$W/rsyslog.conf" -i "$W/pid" \
        >"$W/valgrind.$n" 2>&1 &
    RPID=$!
    for i in $(seq 1 1200); do [ "$(attached)" = 1 ] && break; sleep 0.05; done
    ctx_vm_exec cg /usr/bin/python3 "$top/tests/lib/rawsend.py" --dst-mac "$HMAC" --src "$(ctx_vm_ip4 $IDX)" \
        --dst "$HOST" --repeat "$n" --payload "<13>Dec  2 06:00:00 guest bench: $(head -c 160 /dev/zero | tr '\0' 'b')"
    for i in $(seq 1 1200); do [ "$(lines)" -ge "$n" ] && break; sleep 0.05; done
    [ "$(lines)" = "$n" ] || echo "run $n: $(lines) messages written" >&2
    kill -TERM $RPID
    wait $RPID 2>/dev/null || true
    RPID=
}

# inclusive instructions of function $2 in profile $1 (0 if absent)
incl() {
    local v
    v=$(callgrind_annotate --inclusive=yes --threshold=100 "$1" 2>/dev/null |
        awk -v f="$2" '!done && ($0 ~ ("[ :*]" f " ") || $0 ~ ("[ :*]" f "$")) {gsub(",", "", $1); print $1; done = 1}') || true
    echo "${v:-0}"
}
total() {
    callgrind_annotate "$1" 2>/dev/null | awk '!done && /PROGRAM TOTALS/ {gsub(",", "", $1); print $1; done = 1}' || true
}

read -r N1 N2 <<<"$counts"
run "$N1"
run "$N2"
d=$((N2 - N1))
per() { echo $(( ($(incl "$W/cg.$N2" "$1") - $(incl "$W/cg.$N1" "$1")) / d )); }
echo "| build | Ir / message, whole rsyslogd | capture read loop (ctx_ring_drain or pcap_dispatch) | imctxcap_on_packet | decode (ctx_pkt_decode) | submit (multiSubmitMsg2 + multiSubmitFlush) |"
echo "|---|---|---|---|---|---|"
echo "| $SO${budget:+ (budget off)} | $(( ($(total "$W/cg.$N2") - $(total "$W/cg.$N1")) / d )) | $(( $(per ctx_ring_drain) + $(per pcap_dispatch) )) | $(per imctxcap_on_packet) | $(per ctx_pkt_decode) | $(( $(per multiSubmitMsg2) + $(per multiSubmitFlush) )) |"
