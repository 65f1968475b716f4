#!/bin/bash
# bench/imctxcap/run.sh [--quick] [--rates "50000 100000 ..."] [--seconds S]
#                        [--size BYTES] [--cap-workers W] [--ring-size SIZE]
#                        [--vnics "10 100"] [--workers "1 2"] [--memory-only]
#                        [--flood "udp syn frag"] [--quiet "RATE N"] [--vm-pps N]
#
# imctxcap vs rsyslog's imudp on the same traffic, in one run. A VM namespace sends
# with syslog-ng's loggen (UDP, 200-byte messages, sequence-numbered) over a veth to
# the host side; a real listener exists in every case, so no ICMP is generated. The
# pipeline after the input is the same: a fixedArray ruleset queue -> omfile
# (asyncWriting). For each input and rate: messages received, loss, rsyslogd CPU
# seconds per million messages, kernel drops. Then imudp's rate while imctxcap
# captures the same interface. Appends a section to bench/imctxcap/RESULTS.md.
# --size sets loggen's message size (default 200; 4000 makes every message an IP
# fragment train), --cap-workers imctxcap's `workers` (default 1), --ring-size its
# `ringSize` (default: imctxcap's default).
# imctxcap runs with its per-vNIC budget off (vm.maxPacketsPerSecond="0"): the one sending
# VM would otherwise meet the budget (100k frames/s), and this measures capacity.
#
# Memory: rsyslogd's RSS with one imctxcap input capturing N idle vNICs (plain veth
# pairs ctxmN / ctxpN, the input's interface="ctxm*"; --vnics, default "10 100"), for
# each --workers value (default "1 2"), against a bare rsyslogd with the same impstats
# and output: RSS does not depend on load, so this part is stable on a shared machine.
# CTX_BENCH_VM=N: the sending VM's number (default 240). --memory-only skips the
# throughput runs. IMCTXCAP_SO=/path/imctxcap.so measures another build (e.g. main's).
#
# Flood (--flood, instead of the other runs): imctxcap with its defaults (budget on)
# while a second VM floods (tests/lib/floodgen.py udp, syn or frag) and the bench VM
# sends --quiet N messages at RATE/s (default "100 1000"): the quiet VM's loss, the
# flood's counters (its per-VM object) and the capture worker's CPU (bench/imctxcap/flood.sh);
# --vm-pps sets vm.maxPacketsPerSecond (default: imctxcap's, 100000).
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
quick=0 rates="50000 100000 150000 200000" secs=3 vnics="10 100" mworkers="1 2" memonly=0 size=200 cworkers=1 ring=""
floods="" quiet_rate=100 quiet_n=1000 vm_pps=
while [ $# -gt 0 ]; do
    case "$1" in
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
        *) echo "usage: $0 [--quick] [--rates LIST] [--seconds S] [--vnics LIST] [--workers LIST] [--memory-only] [--ring-size SIZE] [--flood MODES] [--quiet \"RATE N\"] [--vm-pps N]" >&2
           exit 2 ;;
    esac
done
[ "$(id -u)" = 0 ] || { echo "run as root" >&2; exit 1; }
RSYSLOGD=${RSYSLOGD:-/usr/sbin/rsyslogd}
SO=${IMCTXCAP_SO:-$top/plugins/imctxcap/imctxcap.so}
[ "$memonly" = 1 ] || loggen=$("$top/bench/lib/get-loggen.sh" | tail -1)
. "$top/tests/lib/vm.sh"
W=$(mktemp -d /tmp/ctxbench-imctxcap.XXXXXX)
IDX=${CTX_BENCH_VM:-240} # the sending VM's number (tests/lib/vm.sh)
MADE=0                   # idle vNICs of the memory part made so far: veth pairs ctxmN / ctxpN
cleanup() {
    [ -f "$W/pid" ] && kill "$(cat "$W/pid")" 2>/dev/null || true
    [ -n "${SINK:-}" ] && kill "$SINK" 2>/dev/null || true
    local i
    for i in $(seq 1 "$MADE"); do ip link del "ctxm$i" 2>/dev/null || true; done
    ctx_vm_cleanup_all
    rm -rf "$W"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
ctx_vm_add bench "$IDX" >/dev/null
HOST=$(ctx_vm_host_ip4 $IDX) VNIC=$(ctx_vm_vnic $IDX)
echo "{\"vms\": [{\"name\": \"bench-vm\", \"tenant\": \"bench\", \"vnic\": \"$VNIC\"}]}" >"$W/profiles.json"

conf() { # $1: inputs block
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
IN_IMUDP="module(load=\"imudp\" batchSize=\"128\")
input(type=\"imudp\" address=\"$HOST\" port=\"514\" rcvbufSize=\"16m\" ruleset=\"out\")"
IN_CAP="module(load=\"$SO\")
input(type=\"imctxcap\" name=\"b\" interface=\"$VNIC\" profiles=\"$W/profiles.json\" ruleset=\"out\" workers=\"$cworkers\"${ring:+ ringSize=\"$ring\"} vm.maxPacketsPerSecond=\"0\" vm.maxBytesPerSecond=\"0\")"
IN_BOTH="$IN_IMUDP
module(load=\"$SO\")
input(type=\"imctxcap\" name=\"b\" interface=\"$VNIC\" profiles=\"$W/profiles.json\" ruleset=\"aside\")"

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
lines() { cat "$1" 2>/dev/null | wc -l; }
stat_of() { { grep -F "\"name\": \"$1\"" "$W/stats.log" 2>/dev/null || true; } | tail -1 | sed 's/^[^{]*//' | jq -r ".\"$2\" // 0"; }

# one case: $1 input block, $2 rate, $3 "sink" to run a UDP listener; prints "recv cpu_s kdrops"
run_case() {
    local inputs=$1 rate=$2 sink=${3:-}
    local n=$((rate * secs))
    rm -f "$W/out" "$W/aside" "$W/stats.log" "$W/pid"
    conf "$inputs"
    SINK=
    if [ -n "$sink" ]; then
        /usr/bin/python3 -c "
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
s.bind(('$HOST', 514))
while True: s.recv(65535)" &
        SINK=$!
    fi
    "$RSYSLOGD" -n -f "$W/rsyslog.conf" -i "$W/pid" >"$W/stderr" 2>&1 &
    local rpid=$!
    for _ in $(seq 1 100); do [ -s "$W/stats.log" ] && break; sleep 0.05; done
    sleep 0.3
    local t0
    t0=$(cpu_ticks $rpid)
    ctx_vm_exec bench "$loggen" -i -D -r "$rate" -n "$n" -s "$size" -I $((secs + 30)) "$HOST" 514 >"$W/loggen.out" 2>&1 || true
    # wait until the output stops growing
    local last=-1 cur
    for _ in $(seq 1 100); do
        cur=$(lines "$W/out")
        [ "$cur" = "$last" ] && [ "$cur" -gt 0 ] && break
        last=$cur
        sleep 0.5
    done
    local t1
    t1=$(cpu_ticks $rpid)
    sleep 1.1
    local kd
    kd=$(stat_of "imctxcap(b)" kernel.drops)
    kill $rpid; wait $rpid 2>/dev/null || true
    [ -n "$SINK" ] && { kill "$SINK" 2>/dev/null; wait "$SINK" 2>/dev/null || true; SINK=; }
    local recv
    recv=$(lines "$W/out")
    local hz
    hz=$(getconf CLK_TCK)
    echo "$n $recv $(echo "scale=3; ($t1 - $t0) / $hz" | bc) $kd"
}

rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }

# rsyslogd with $1 (inputs block), once it has $2 interfaces attached (or, without
# imctxcap, once impstats runs): prints its RSS in KiB
rss_of() {
    local inputs=$1 want=$2
    rm -f "$W/stats.log" "$W/pid"
    conf "$inputs"
    "$RSYSLOGD" -n -f "$W/rsyslog.conf" -i "$W/pid" >"$W/stderr" 2>&1 &
    local rpid=$! i
    for i in $(seq 1 600); do
        [ -s "$W/stats.log" ] && { [ "$want" = - ] || [ "$(stat_of "imctxcap(m)" interfaces.attached)" = "$want" ]; } && break
        sleep 0.05
    done
    [ "$want" = - ] || [ "$(stat_of "imctxcap(m)" interfaces.attached)" = "$want" ] ||
        { echo "only $(stat_of "imctxcap(m)" interfaces.attached) of $want vNICs attached" >&2; cat "$W/stderr" >&2; }
    sleep 1.2 # one more impstats round: the workers are past their set-up
    rss_kib $rpid
    kill $rpid; wait $rpid 2>/dev/null || true
}

# memory: bare rsyslogd, then imctxcap on N idle veth vNICs for each workers value
memory_cases() {
    local n w bare
    bare=$(rss_of "" -)
    echo "| bare rsyslogd (impstats, omfile) | - | - | $((bare / 1024)) | - |"
    for n in $vnics; do
        while [ $MADE -lt "$n" ]; do
            MADE=$((MADE + 1))
            ip link add "ctxm$MADE" type veth peer name "ctxp$MADE" || { echo "veth ctxm$MADE" >&2; exit 1; }
            ip link set "ctxm$MADE" up && ip link set "ctxp$MADE" up
        done
        { printf '{"vms": ['; for i in $(seq 1 "$n"); do printf '%s{"name": "m%d", "tenant": "bench", "vnic": "ctxm%d"}' \
            "$([ "$i" = 1 ] || echo ,)" "$i" "$i"; done; echo ']}'; } >"$W/mprofiles.json"
        for w in $mworkers; do
            local kib
            kib=$(rss_of "module(load=\"$SO\")
input(type=\"imctxcap\" name=\"m\" interface=\"ctxm*\" workers=\"$w\" profiles=\"$W/mprofiles.json\" ruleset=\"out\")" "$n")
            echo "| imctxcap, $w worker(s) | $n | $(stat_of "imctxcap(m)" interfaces.attached) | $((kib / 1024)) | $(((kib - bare) / 1024)) |"
            echo "memory vnics=$n workers=$w rss=${kib}KiB over bare $(((kib - bare) / 1024))MiB" >&2
        done
    done
}

res="$top/bench/imctxcap/RESULTS.md"
rm -f "$res.tmp" # a section an aborted run left behind
if [ -n "$floods" ]; then
    . "$top/bench/imctxcap/flood.sh"
    flood_run "$floods"
    cat "$res.tmp"
    cat "$res.tmp" >>"$res"
    rm -f "$res.tmp"
    exit 0
fi
if [ "$memonly" = 1 ]; then
    {
        echo
        echo "## Memory run of $(date -u +%Y-%m-%dT%H:%MZ)"
        echo
        echo "- command: \`bench/imctxcap/run.sh --memory-only --vnics \"$vnics\" --workers \"$mworkers\"\`$([ -n "${IMCTXCAP_SO:-}" ] && echo " with IMCTXCAP_SO=$IMCTXCAP_SO")"
        echo "- machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -r); load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
        echo
        echo "| rsyslogd | vNICs | attached | RSS MiB | over bare MiB |"
        echo "|---|---|---|---|---|"
        memory_cases
    } >>"$res.tmp"
    cat "$res.tmp"
    [ -f "$res" ] || printf '# imctxcap vs imudp: measured figures\n\nEach run appends a section; figures are as measured, on a noisy shared machine.\n' >"$res"
    cat "$res.tmp" >>"$res"
    rm -f "$res.tmp"
    exit 0
fi
{
    echo
    echo "## Run of $(date -u +%Y-%m-%dT%H:%MZ)"
    echo
    echo "- command: \`bench/imctxcap/run.sh${quick:+ $([ $quick = 1 ] && echo --quick)} --rates \"$rates\" --seconds $secs --size $size --cap-workers $cworkers${ring:+ --ring-size $ring}\`"
    echo "- machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -r), $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1)"
    echo "- rsyslogd $("$RSYSLOGD" -v | head -1 | awk '{print $2}'), loggen from syslog-ng-core ($size-byte messages, UDP; imctxcap workers=$cworkers), sender in a VM namespace on the same 2 cores"
    echo
    echo "| input | offered msg/s | sent | received | lost | rsyslogd CPU s | CPU s / 1M msgs | kernel drops |"
    echo "|---|---|---|---|---|---|---|---|"
} >>"$res.tmp"
declare -A best cpu_pm lossy
for input in imudp imctxcap; do
    best[$input]=0 lossy[$input]=0
    for rate in $rates; do
        if [ $input = imudp ]; then read -r n recv cpu kd < <(run_case "$IN_IMUDP" "$rate"); kd=-
        else read -r n recv cpu kd < <(run_case "$IN_CAP" "$rate" sink); fi
        lost=$((n - recv))
        pm=$(echo "scale=2; $cpu * 1000000 / ($recv + 1)" | bc)
        echo "| $input | $rate | $n | $recv | $lost | $cpu | $pm | $kd |" >>"$res.tmp"
        echo "$input rate=$rate sent=$n received=$recv lost=$lost cpu=${cpu}s cpu/M=$pm kdrops=$kd" >&2
        # the ceiling: the highest rate at which this and every lower rate lost nothing
        if [ "$lost" -le 0 ] && [ "${lossy[$input]}" = 0 ]; then best[$input]=$rate; cpu_pm[$input]=$pm; else lossy[$input]=1; fi
    done
done
# imudp while imctxcap captures the same interface
both_best=0
for rate in $rates; do
    read -r n recv cpu kd < <(run_case "$IN_BOTH" "$rate")
    lost=$((n - recv))
    echo "| imudp + imctxcap on the same vNIC | $rate | $n | $recv (imudp) | $lost | $cpu | - | $kd |" >>"$res.tmp"
    echo "both rate=$rate received(imudp)=$recv lost=$lost" >&2
    if [ "$lost" -le 0 ] && [ "${both_lossy:-0}" = 0 ]; then both_best=$rate; else both_lossy=1; fi
done
{
    echo
    echo "Highest offered rate with zero loss at it and every lower rate: imudp ${best[imudp]}, imctxcap ${best[imctxcap]}, imudp while imctxcap captures ${both_best}."
    echo "CPU seconds per million messages at that rate: imudp ${cpu_pm[imudp]:-n/a}, imctxcap ${cpu_pm[imctxcap]:-n/a}."
} >>"$res.tmp"
cat "$res.tmp"
[ -f "$res" ] || printf '# imctxcap vs imudp: measured figures\n\nEach run appends a section; figures are as measured, on a noisy shared machine.\n' >"$res"
cat "$res.tmp" >>"$res"
rm -f "$res.tmp"
