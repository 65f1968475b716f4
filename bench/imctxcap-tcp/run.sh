#!/bin/bash
# bench/imctxcap-tcp/run.sh [--quick] [--rates "50000 100000 ..."] [--seconds S]
#
# imctxcap's TCP capture vs rsyslog's imptcp on the same traffic, in one run. A VM
# namespace sends with syslog-ng's loggen over TCP (one connection, 200-byte
# messages; LF framing, and octet counting with -P) over a veth to the host side.
# With imptcp, imptcp is the TCP peer; with imctxcap, a plain sink (python, the
# kernel discards what it receives: MSG_TRUNC) is the peer, standing in for the remote
# server a guest really sends to, and imctxcap captures the vNIC (snapLen 262144, so
# whole GSO segments are captured; ringSize 64m). The pipeline after the input is the same: a
# fixedArray ruleset queue -> omfile (asyncWriting). For each input, framing and
# offered rate: messages sent / received, the rate loggen achieved (TCP flow
# control slows it down when the receiver cannot keep up), rsyslogd CPU seconds
# per million messages, kernel drops and TCP gaps. Appends a section to RESULTS.md.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
quick=0 rates="50000 100000 150000 200000" secs=3
while [ $# -gt 0 ]; do
    case "$1" in
        --quick) quick=1; rates="20000"; secs=1; shift ;;
        --rates) rates=$2; shift 2 ;;
        --seconds) secs=$2; shift 2 ;;
        *) echo "usage: $0 [--quick] [--rates LIST] [--seconds S]" >&2; exit 2 ;;
    esac
done
[ "$(id -u)" = 0 ] || { echo "run as root" >&2; exit 1; }
RSYSLOGD=${RSYSLOGD:-/usr/sbin/rsyslogd}
loggen=$("$top/bench/lib/get-loggen.sh" | tail -1)
. "$top/tests/lib/vm.sh"
W=$(mktemp -d /tmp/ctxbench-imctxcap-tcp.XXXXXX)
IDX=219 # this benchmark's VM number (imctxcap TCP range 210..229)
cleanup() {
    [ -n "${RPID:-}" ] && kill "$RPID" 2>/dev/null || true
    [ -n "${SINK:-}" ] && kill "$SINK" 2>/dev/null || true
    ctx_vm_cleanup_all
    rm -rf "$W"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
ctx_vm_add tcpbench "$IDX" >/dev/null
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
EOF
}
IN_IMPTCP="module(load=\"imptcp\")
input(type=\"imptcp\" address=\"$HOST\" port=\"514\" ruleset=\"out\")"
IN_CAP="module(load=\"$top/plugins/imctxcap/imctxcap.so\")
input(type=\"imctxcap\" name=\"b\" interface=\"$VNIC\" profiles=\"$W/profiles.json\" ruleset=\"out\" snapLen=\"262144\" ringSize=\"64m\")"

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
lines() { { cat "$1" 2>/dev/null || true; } | wc -l; }
stat_of() { { grep -F "\"name\": \"$1\"" "$W/stats.log" 2>/dev/null || true; } | tail -1 | sed 's/^[^{]*//' | jq -r ".\"$2\" // 0"; }

# one case: $1 input block, $2 rate, $3 loggen framing option ("" or -P), $4 "sink" for a TCP peer;
# writes "sent received achieved_rate cpu_s kernel_drops tcp_gaps" to $W/res. Runs in the main shell (not in
# a subshell), so that cleanup() knows RPID and SINK if anything fails midway.
run_case() {
    local inputs=$1 rate=$2 framing=$3 sink=${4:-}
    local n=$((rate * secs))
    rm -f "$W/out" "$W/stats.log" "$W/pid"
    conf "$inputs"
    SINK=
    if [ -n "$sink" ]; then
        /usr/bin/python3 -c "
import socket
buf = bytearray(1 << 20)
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(('$HOST', 514)); s.listen(8)
while True:
    c, _ = s.accept()
    while c.recv_into(buf, len(buf), socket.MSG_TRUNC) > 0: pass  # discarded in the kernel, not copied
    c.close()" &
        SINK=$!
    fi
    "$RSYSLOGD" -n -f "$W/rsyslog.conf" -i "$W/pid" >"$W/stderr" 2>&1 &
    RPID=$!
    local rpid=$RPID
    for _ in $(seq 1 100); do [ -s "$W/stats.log" ] && break; sleep 0.05; done
    kill -0 $rpid 2>/dev/null && ! grep -q "error\|failed" "$W/stderr" || { cat "$W/stderr" >&2; exit 1; }
    sleep 0.3
    local t0 t1 kd gaps recv hz achieved
    t0=$(cpu_ticks $rpid)
    # shellcheck disable=SC2086
    ctx_vm_exec tcpbench "$loggen" -i -S $framing -r "$rate" -n "$n" -s 200 -I $((secs * 4 + 30)) "$HOST" 514 \
        >"$W/loggen.out" 2>&1 || true
    local last=-1 cur
    for _ in $(seq 1 100); do # until the output stops growing
        cur=$(lines "$W/out")
        [ "$cur" = "$last" ] && [ "$cur" -gt 0 ] && break
        last=$cur
        sleep 0.5
    done
    t1=$(cpu_ticks $rpid)
    sleep 1.1
    kd=$(stat_of "imctxcap(b)" kernel.drops)
    gaps=$(stat_of "imctxcap(b)" tcp.gaps)
    kill $rpid; wait $rpid 2>/dev/null || true
    RPID=
    [ -n "$SINK" ] && { kill "$SINK" 2>/dev/null; wait "$SINK" 2>/dev/null || true; SINK=; }
    recv=$(lines "$W/out")
    hz=$(getconf CLK_TCK)
    achieved=$(sed -n 's/.*average rate = \([0-9.]*\) msg\/sec.*/\1/p' "$W/loggen.out" | tail -1)
    echo "$n $recv ${achieved%.*} $(echo "scale=3; ($t1 - $t0) / $hz" | bc) $kd $gaps" >"$W/res"
}

res="$top/bench/imctxcap-tcp/RESULTS.md"
{
    echo
    echo "## Run of $(date -u +%Y-%m-%dT%H:%MZ)"
    echo
    echo "- command: \`bench/imctxcap-tcp/run.sh$([ $quick = 1 ] && echo " --quick") --rates \"$rates\" --seconds $secs\`"
    echo "- machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -r), $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1), load average at start $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "- rsyslogd $("$RSYSLOGD" -v | head -1 | awk '{print $2}'), loggen from syslog-ng-core (one TCP connection, 200-byte messages), sender in a VM namespace on the same cores"
    echo
    echo "| input | framing | offered msg/s | sent | received | lost | achieved msg/s | rsyslogd CPU s | CPU s / 1M msgs | kernel drops | TCP gaps |"
    echo "|---|---|---|---|---|---|---|---|---|---|---|"
} >"$res.tmp"
declare -A best cpu_pm lossy
for framing in lf octet; do
    opt=""
    [ $framing = octet ] && opt="-P"
    for input in imptcp imctxcap; do
        k="$input/$framing"
        best[$k]=0 lossy[$k]=0
        for rate in $rates; do
            if [ $input = imptcp ]; then run_case "$IN_IMPTCP" "$rate" "$opt"; else run_case "$IN_CAP" "$rate" "$opt" sink; fi
            read -r n recv ach cpu kd gaps <"$W/res"
            [ $input = imptcp ] && kd=- gaps=-
            lost=$((n - recv))
            pm=$(echo "scale=2; $cpu * 1000000 / ($recv + 1)" | bc)
            echo "| $input | $framing | $rate | $n | $recv | $lost | ${ach:-?} | $cpu | $pm | $kd | $gaps |" >>"$res.tmp"
            echo "$input $framing rate=$rate sent=$n received=$recv lost=$lost achieved=${ach:-?} cpu=${cpu}s cpu/M=$pm kdrops=$kd gaps=$gaps" >&2
            # lossless throughput: the highest rate loggen achieved in a row without loss, before any lossy row
            # (over TCP the sender slows down to what the receiver takes, so the offered rate is only a ceiling)
            if [ "$lost" -le 0 ] && [ "${lossy[$k]}" = 0 ]; then
                if [ "${ach:-0}" -gt "${best[$k]}" ]; then best[$k]=${ach:-0} cpu_pm[$k]=$pm; fi
            else
                lossy[$k]=1
            fi
        done
    done
done
{
    echo
    for f in lf octet; do
        ratio=$(echo "scale=2; ${best[imctxcap/$f]} / (${best[imptcp/$f]} + 1)" | bc)
        echo "- $f: lossless throughput (highest achieved msg/s without loss, at it and every lower offered rate): imptcp ${best[imptcp/$f]}, imctxcap ${best[imctxcap/$f]} (${ratio}x); CPU s per million messages in that row: imptcp ${cpu_pm[imptcp/$f]:-n/a}, imctxcap ${cpu_pm[imctxcap/$f]:-n/a}."
    done
} >>"$res.tmp"
cat "$res.tmp"
[ -f "$res" ] || printf '# imctxcap (TCP) vs imptcp: measured figures\n\nEach run appends a section; figures are as measured, on a noisy shared machine.\n' >"$res"
cat "$res.tmp" >>"$res"
rm -f "$res.tmp"
