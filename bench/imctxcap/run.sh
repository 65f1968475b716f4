#!/bin/bash
# bench/imctxcap/run.sh [--proto udp|tcp] [--quick] [--rates "50000 100000 ..."] [--seconds S]
#                        [--size BYTES] [--cap-workers W] [--ring-size SIZE]
#                        [--vnics "10 100"] [--workers "1 2"] [--memory-only]
#                        [--flood "udp syn frag"] [--quiet "RATE N"] [--vm-pps N]
#
# imctxcap vs rsyslog's own input on the same traffic, in one run. A VM namespace
# sends with syslog-ng's loggen (sequence-numbered, --size bytes a message, default
# 200) over a veth to the host side. The pipeline after the input is the same: a
# fixedArray ruleset queue -> omfile (asyncWriting). For each input and rate:
# messages received, loss, rsyslogd CPU seconds per million messages, kernel drops.
#
# --proto udp (default; udp.sh): imctxcap vs imudp; a real listener exists in every
# case, so no ICMP is generated. Then imudp's rate while imctxcap captures the same
# interface. --size 4000 makes every message an IP fragment train, --cap-workers sets
# imctxcap's `workers` (default 1), --ring-size its `ringSize` (default:
# imctxcap's default). imctxcap runs with its per-vNIC budget off
# (vm.maxPacketsPerSecond="0"): the one sending VM would otherwise meet the budget
# (100k frames/s), and this measures capacity. Appends to bench/imctxcap/RESULTS.md.
#
# --proto tcp (tcp.sh): imctxcap's TCP capture vs imptcp, one loggen connection, LF
# framing and octet counting. With imptcp, imptcp is the TCP peer; with imctxcap, a
# plain sink (the kernel discards what it receives: MSG_TRUNC) stands in for the
# remote server a guest really sends to, and imctxcap captures the vNIC (snapLen
# 262144, so whole GSO segments are captured; ringSize 64m). Also the rate loggen
# achieved (TCP flow control slows it down when the receiver cannot keep up) and TCP
# gaps. Appends to bench/imctxcap/RESULTS-tcp.md (bench/imctxcap-tcp/ before).
#
# Memory: rsyslogd's RSS with one imctxcap input capturing N idle vNICs (plain veth
# pairs ctxmN / ctxpN, the input's interface="ctxm*"; --vnics, default "10 100"), for
# each --workers value (default "1 2"), against a bare rsyslogd with the same impstats
# and output: RSS does not depend on load, so this part is stable on a shared machine.
# CTX_BENCH_VM=N: the sending VM's number (default 240, 219 with tcp). --memory-only skips the
# throughput runs. IMCTXCAP_SO=/path/imctxcap.so measures another build (e.g. main's).
#
# Flood (--flood, instead of the other runs): imctxcap with its defaults (budget on)
# while a second VM floods (tests/lib/floodgen.py udp, syn or frag) and the bench VM
# sends --quiet N messages at RATE/s (default "100 1000"): the quiet VM's loss, the
# flood's counters (its per-VM object) and the capture worker's CPU (bench/imctxcap/flood.sh);
# --vm-pps sets vm.maxPacketsPerSecond (default: imctxcap's, 10000).
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
proto=udp quick=0 rates="50000 100000 150000 200000" secs=3 vnics="10 100" mworkers="1 2" memonly=0 size=200 cworkers=1 ring=""
floods="" quiet_rate=100 quiet_n=1000 vm_pps=
usage() {
    echo "usage: $0 [--proto udp|tcp] [--quick] [--rates LIST] [--seconds S] [--size BYTES] [--cap-workers W]" \
        "[--ring-size SIZE] [--vnics LIST] [--workers LIST] [--memory-only] [--flood MODES] [--quiet \"RATE N\"]" \
        "[--vm-pps N]" >&2
    exit 2
}
while [ $# -gt 0 ]; do
    case "$1" in
        --proto) proto=$2; shift 2 ;;
        --quick) quick=1; rates="20000"; secs=1; shift ;;
        --rates) rates=$2; shift 2 ;;
        --seconds) secs=$2; shift 2 ;;
        --vnics) vnics=$2; shift 2 ;;
        --workers) mworkers=$2; shift 2 ;;
        --memory-only) memonly=1; shift ;;
        --size) size=$2; shift 2 ;;
        --cap-workers) cworkers=$2; shift 2 ;;
        --flood) floods=$2; shift 2 ;;
        --quiet) read -r quiet_rate quiet_n <<<"$2"; shift 2 ;;
        --vm-pps) vm_pps=$2; shift 2 ;;
        --ring-size) ring=$2; shift 2 ;;
        *) usage ;;
    esac
done
case "$proto" in udp | tcp) ;; *) usage ;; esac
[ "$(id -u)" = 0 ] || { echo "run as root" >&2; exit 1; }
RSYSLOGD=${RSYSLOGD:-/usr/sbin/rsyslogd}
SO=${IMCTXCAP_SO:-$top/plugins/imctxcap/imctxcap.so}
[ "$memonly" = 1 ] || loggen=$("$top/bench/lib/get-loggen.sh" | tail -1)
W=$(mktemp -d "/tmp/ctxbench-imctxcap-$proto.XXXXXX")
IDX=${CTX_BENCH_VM:-240}
[ "$proto" = tcp ] && IDX=${CTX_BENCH_VM:-219} # imctxcap's TCP range 210..229
. "$top/bench/imctxcap/setup.sh"
bench_vm bench

conf() { # $1: inputs block; a second ruleset "aside" for a capture beside the input
    cat >"$W/rsyslog.conf" <<EOF
global(workDirectory="$W" processInternalMessages="on")
module(load="impstats" interval="1" format="json" log.syslog="off" log.file="$W/stats.log")
$1
ruleset(name="out" queue.type="fixedArray" queue.size="200000" queue.dequeueBatchSize="1024") {
    action(type="omfile" file="$W/out" asyncWriting="on" ioBufferSize="256k" flushInterval="1")
}
ruleset(name="aside" queue.type="fixedArray" queue.size="200000" queue.dequeueBatchSize="1024") {
    action(type="omfile" file="$W/aside" asyncWriting="on" ioBufferSize="256k" flushInterval="1")
}
EOF
}

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
lines() { { cat "$1" 2>/dev/null || true; } | wc -l; }
stat_of() { { grep -F "\"name\": \"$1\"" "$W/stats.log" 2>/dev/null || true; } | tail -1 | sed 's/^[^{]*//' | jq -r ".\"$2\" // 0"; }

# a peer on HOST:514 for the captured traffic ($1: udp or tcp); sets SINK
start_sink() {
    /usr/bin/python3 -c "
import socket, sys
buf = bytearray(1 << 20)
if sys.argv[1] == 'udp':
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
    s.bind(('$HOST', 514))
    while True: s.recv(65535)
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(('$HOST', 514)); s.listen(8)
while True:
    c, _ = s.accept()
    while c.recv_into(buf, len(buf), socket.MSG_TRUNC) > 0: pass  # discarded in the kernel, not copied
    c.close()" "$1" &
    SINK=$!
}

# rsyslogd on $W/rsyslog.conf, once impstats writes; sets RPID
start_rsyslogd() {
    rm -f "$W/out" "$W/aside" "$W/stats.log" "$W/pid"
    "$RSYSLOGD" -n -f "$W/rsyslog.conf" -i "$W/pid" >"$W/stderr" 2>&1 &
    RPID=$!
    for _ in $(seq 1 100); do [ -s "$W/stats.log" ] && break; sleep 0.05; done
    kill -0 $RPID 2>/dev/null && ! grep -q "error\|failed" "$W/stderr" || { cat "$W/stderr" >&2; exit 1; }
}

wait_output_settles() {
    local last=-1 cur
    for _ in $(seq 1 100); do
        cur=$(lines "$W/out")
        [ "$cur" = "$last" ] && [ "$cur" -gt 0 ] && break
        last=$cur
        sleep 0.5
    done
}

# one case: $1 input block, $2 rate, $3 loggen's transport and framing options, $4 the
# sink's protocol (empty: none); writes "sent received achieved_rate cpu_s kernel_drops
# tcp_gaps" to $W/res. Runs in the main shell, so that cleanup knows RPID and SINK.
run_case() {
    local inputs=$1 rate=$2 lgopts=$3 sink=${4:-} n=$(($2 * secs)) t0 t1 kd gaps achieved
    conf "$inputs"
    SINK=
    [ -z "$sink" ] || start_sink "$sink"
    start_rsyslogd
    sleep 0.3
    t0=$(cpu_ticks $RPID)
    # shellcheck disable=SC2086
    ctx_vm_exec bench "$loggen" -i $lgopts -r "$rate" -n "$n" -s "$size" -I $((secs * lg_slack + 30)) "$HOST" 514 \
        >"$W/loggen.out" 2>&1 || true
    wait_output_settles
    t1=$(cpu_ticks $RPID)
    sleep 1.1
    kd=$(stat_of "imctxcap(b)" kernel.drops) gaps=$(stat_of "imctxcap(b)" tcp.gaps)
    kill $RPID; wait $RPID 2>/dev/null || true
    RPID=
    [ -z "$SINK" ] || { kill "$SINK" 2>/dev/null; wait "$SINK" 2>/dev/null || true; SINK=; }
    achieved=$(sed -n 's/.*average rate = \([0-9.]*\) msg\/sec.*/\1/p' "$W/loggen.out" | tail -1)
    echo "$n $(lines "$W/out") ${achieved%.*} $(echo "scale=3; ($t1 - $t0) / $(getconf CLK_TCK)" | bc) $kd $gaps" >"$W/res"
}

machine() { # the machine line of a section
    echo "- machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -r)," \
        "$(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1), load average at start $(cut -d' ' -f1-3 /proc/loadavg)"
}

# prints $res.tmp and appends it to $res (created with the title $1 if missing)
append_results() {
    cat "$res.tmp"
    [ -f "$res" ] || printf '# %s: measured figures\n\nEach run appends a section; figures are as measured, on a noisy shared machine.\n' "$1" >"$res"
    cat "$res.tmp" >>"$res"
    rm -f "$res.tmp"
}

. "$top/bench/imctxcap/memory.sh"
. "$top/bench/imctxcap/$proto.sh"
rm -f "$res.tmp" # a section an aborted run left behind
if [ "$memonly" = 1 ]; then # RSS does not depend on the protocol: always in RESULTS.md
    res="$top/bench/imctxcap/RESULTS.md" title="imctxcap vs imudp"
    memory_section >>"$res.tmp"
    append_results "$title"
    exit 0
fi
if [ -n "$floods" ]; then # the flood cases instead of the others (quiet VM and flooder: UDP)
    res="$top/bench/imctxcap/RESULTS.md" title="imctxcap vs imudp"
    . "$top/bench/imctxcap/flood.sh"
    flood_run "$floods"
    append_results "$title"
    exit 0
fi
throughput_section
append_results "$title"
