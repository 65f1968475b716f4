#!/bin/bash
# bench/mmctxenrich/run.sh [--messages N] [--rounds R] [--vms V] [--callgrind M] [--cm-seconds S] [--cm-rate R]
#                          [--callgrind-only]
#
# The cost of mmctxenrich in a whole rsyslog pipeline, in one run:
#  1. throughput: the same N messages (TCP, imptcp, 200-byte lines of V VMs, 85% info,
#     10% warning, 5% err) through the same ruleset and output (omfile, one line per
#     message with %msg% and %$!ctx% as JSON), three ways, R rounds interleaved:
#       base    no mmctxenrich ($!ctx!vm is set by the ruleset in every variant)
#       enrich  mmctxenrich with the default policy, host sampling, and a compute
#               manager (tests/lib/cmserver.py, Nova-shaped) answering, cache warm
#       hang    the same while the compute manager accepts requests and never answers
#       lean    enrich with a policy that gives info/warning messages `minimal` (identity
#               only) and err `verbose`: the cost follows the fields a message carries
#       full    enrich with a policy that gives every message `verbose` (all of $!ctx!vm,
#               $!ctx!cm with every part, $!ctx!host): the issue's "full context" case
#     msg/s = N / (time from the first byte sent to the last line written);
#     rsyslogd CPU seconds per million messages from /proc/PID/stat.
#  2. instructions per message (valgrind --tool=callgrind, M messages): rsyslogd's
#     total per variant, and the inclusive cost of mmctxenrich's doAction in it (the rest
#     of the difference is rsyslog serializing and freeing the added JSON, and the
#     `if $!ctx!drop == 1 then stop` statement). Also per stage: rsyslog rendering the
#     output template (tplToString, which serializes $!ctx), and destroying the message
#     (msgDestruct, which frees its JSON tree).
#     --callgrind-only runs section 2 alone (no throughput rounds, no request count):
#     load-independent figures on a busy machine.
#  3. compute-manager requests per VM per hour: V VMs log at R msg/s for S seconds with
#     short TTLs (static 30 s, dynamic 10 s, host 10 s); requests counted by the server
#     and scaled to the default TTLs.
# Appends a section to bench/mmctxenrich/RESULTS.md.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
N=1000000 ROUNDS=3 VMS=100 CG=20000 CMSECS=60 CMRATE=2000 CGONLY=0
VARIANTS="base enrich hang lean full"
while [ $# -gt 0 ]; do
    case "$1" in
        --messages) N=$2; shift 2 ;;
        --rounds) ROUNDS=$2; shift 2 ;;
        --vms) VMS=$2; shift 2 ;;
        --callgrind) CG=$2; shift 2 ;;
        --cm-seconds) CMSECS=$2; shift 2 ;;
        --cm-rate) CMRATE=$2; shift 2 ;;
        --callgrind-only) CGONLY=1; shift ;;
        *) echo "usage: $0 [--messages N] [--rounds R] [--vms V] [--callgrind M] [--cm-seconds S] [--cm-rate R]" >&2
           exit 2 ;;
    esac
done
RSYSLOGD=${RSYSLOGD:-/usr/sbin/rsyslogd}
MOD=${MOD:-$top/plugins/mmctxenrich/mmctxenrich.so}
[ -f "$MOD" ] || { echo "build first: $MOD missing" >&2; exit 1; }
W=$(mktemp -d /tmp/ctxbench-mmx.XXXXXX)
PY=/usr/bin/python3
CMPID= RSPID=
cleanup() {
    [ -n "$RSPID" ] && kill "$RSPID" 2>/dev/null || true
    [ -n "$CMPID" ] && kill "$CMPID" 2>/dev/null || true
    [ -n "${KEEPW:-}" ] || rm -rf "$W" # KEEPW=1 keeps the work directory (callgrind files)
}
trap cleanup EXIT
trap 'exit 130' INT TERM
log() { echo "[$(date +%T)] $*" >&2; }
port() { $PY -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# ---- inputs: messages, uuids lookup table, compute-manager routes ----------------------
$PY "$top/bench/mmctxenrich/gen.py" "$W" "$N" "$VMS" "$CG"
cm_start() {
    rm -f "$W/cm.port"
    $PY "$top/tests/lib/cmserver.py" serve --port-file "$W/cm.port" --routes "$W/routes.json" &
    CMPID=$!
    while [ ! -s "$W/cm.port" ]; do sleep 0.05; done
    CM="http://127.0.0.1:$(cat "$W/cm.port")"
}
cm_ctl() { $PY "$top/tests/lib/cmserver.py" ctl "$CM" "$@"; }
cm_count() { $PY "$top/tests/lib/cmserver.py" counts "$CM" | jq -r "$1"; }
cm_start
printf 'rule errors when severity <= err then verbose\nrule rest then minimal\n' >"$W/lean.rules"
printf 'rule all then verbose\n' >"$W/full.rules"

conf() { # variant port [extra mmctxenrich parameters]
    local v=$1 p=$2 extra=${3:-}
    local enrich=""
    if [ "$v" != base ]; then
        local pol=""
        [ "$v" = lean ] && pol="policy=\"$W/lean.rules\""
        [ "$v" = full ] && pol="policy=\"$W/full.rules\""
        enrich="action(type=\"mmctxenrich\" name=\"bench\" sample.interval=\"5\" host.diskPaths=\"/\" $pol
            cm.url=\"$CM/servers/{uuid}\" cm.statsUrl=\"$CM/servers/{uuid}/diagnostics\"
            cm.hostUrl=\"$CM/os-hypervisors/{name}\" cm.hostName=\"hv-1\"
            cm.mapping=\"$top/conf-examples/cm-nova.json\" cm.timeout=\"30000\" cm.ratePerSec=\"200\" cm.burst=\"200\" cm.allowInsecure=\"on\" $extra)
        if \$!ctx!drop == 1 then stop"
    fi
    cat >"$W/rsyslog.conf" <<CONF
global(workDirectory="$W" maxMessageSize="8k")
main_queue(queue.type="FixedArray" queue.size="200000" queue.dequeueBatchSize="1024" queue.workerThreads="1")
module(load="imptcp")
module(load="$MOD")
${STATS:-}
input(type="imptcp" address="127.0.0.1" port="$p" ruleset="r")
lookup_table(name="uuids" file="$W/uuids.json")
template(name="out" type="string" string="%timegenerated:::date-rfc3339% %programname% %msg%|%\$!ctx%\n")
ruleset(name="r") {
    set \$!ctx!vm!name = \$programname;
    set \$!ctx!vm!uuid = lookup("uuids", \$programname);
    set \$!ctx!vm!tenant = "acme";
    $enrich
    action(type="omfile" file="$W/out" template="out" ioBufferSize="256k" flushOnTXEnd="on")
}
CONF
}

rs_start() { # [command prefix...]
    rm -f "$W/out" "$W/rs.pid"
    "$@" "$RSYSLOGD" -n -f "$W/rsyslog.conf" -i "$W/rs.pid" >"$W/rs.log" 2>&1 &
    RSPID=$!
    local i=0
    while [ ! -s "$W/rs.pid" ]; do sleep 0.05; i=$((i + 1)); [ $i -lt 600 ] || { cat "$W/rs.log"; exit 1; }; done
    sleep 0.5
}
rs_stop() { kill "$RSPID"; wait "$RSPID" 2>/dev/null || true; RSPID=; }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$(cat "$W/rs.pid")/stat"; }
send() { # port file: one TCP connection (retried while rsyslogd starts listening)
    $PY - "$1" "$2" <<'PY'
import socket, sys, time
for _ in range(600):
    try:
        s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
        break
    except ConnectionRefusedError:
        time.sleep(0.1)
s.sendfile(open(sys.argv[2], "rb"))
s.close()
PY
}
wait_end() { # marker
    until tail -c 4096 "$W/out" 2>/dev/null | grep -q "seq=$1 "; do sleep 0.01; done
}

# ---- 1. throughput -------------------------------------------------------------------------
declare -A RATE CPU
run_variant() { # variant round
    local v=$1 r=$2 p
    p=$(port)
    conf "$v" "$p"
    if [ "$v" = hang ]; then cm_ctl mode=hang; else cm_ctl mode=ok; fi
    rs_start
    send "$p" "$W/warm.txt" # every VM once (fills the cache), then 2 s for the fetches
    wait_end WARMEND
    sleep 2
    local c0 t0 t1 c1
    c0=$(cpu_ticks)
    t0=$(date +%s%N)
    send "$p" "$W/msgs.txt"
    wait_end END
    t1=$(date +%s%N)
    c1=$(cpu_ticks)
    rs_stop
    local tck
    tck=$(getconf CLK_TCK)
    RATE[$v,$r]=$(awk "BEGIN {printf \"%d\", $N / (($t1 - $t0) / 1e9)}")
    CPU[$v,$r]=$(awk "BEGIN {printf \"%.2f\", ($c1 - $c0) / $tck / ($N / 1e6)}")
    log "round $r $v: ${RATE[$v,$r]} msg/s, ${CPU[$v,$r]} CPU-s per 1M msgs, output $(wc -l <"$W/out") lines"
    rm -f "$W/out"
}
[ "$CGONLY" = 1 ] && ROUNDS=0
for r in $(seq 1 "$ROUNDS"); do
    for v in $VARIANTS; do run_variant "$v" "$r"; done
done
cm_ctl mode=ok
median() { tr ' ' '\n' | sort -n | awk '{a[NR] = $1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }
declare -A MED MEDCPU
for v in $VARIANTS; do
    [ "$ROUNDS" -gt 0 ] || break
    MED[$v]=$(for r in $(seq 1 "$ROUNDS"); do echo -n "${RATE[$v,$r]} "; done | median)
    MEDCPU[$v]=$(for r in $(seq 1 "$ROUNDS"); do echo -n "${CPU[$v,$r]} "; done | median)
done

# ---- 2. instructions per message ---------------------------------------------------------
declare -A IR DA TPL DES FJ MAL
jget() { python3 -c "import json,sys; d=json.load(sys.stdin); print(d$1)"; }
callgrind_variant() { # variant: counters zeroed after the warm-up, dumped after the last message
    local v=$1 p st
    p=$(port)
    conf "$v" "$p"
    if [ "$v" = hang ]; then cm_ctl mode=hang; else cm_ctl mode=ok; fi
    rs_start valgrind --tool=callgrind --callgrind-out-file="$W/cg.$v" --dump-instr=no
    send "$p" "$W/warm.txt"
    wait_end WARMEND
    sleep 3
    callgrind_control -z "$RSPID" >/dev/null
    send "$p" "$W/cg.txt"
    wait_end CGEND
    callgrind_control -d "$RSPID" >/dev/null
    rs_stop
    st=$("$top/bench/lib/cg_stages.py" "$(ls "$W/cg.$v".* | head -1)" "$CG" mmx_process tplToString msgDestruct)
    IR[$v]=$(echo "$st" | jget "['total']")
    DA[$v]=$(echo "$st" | jget "['incl']['mmx_process']")
    TPL[$v]=$(echo "$st" | jget "['incl']['tplToString']")
    DES[$v]=$(echo "$st" | jget "['incl']['msgDestruct']")
    FJ[$v]=$(echo "$st" | jget "['self'].get('libfastjson', 0)")
    MAL[$v]=$(echo "$st" | jget "['self'].get('malloc/free', 0)")
    log "callgrind $v: $st"
}
if [ "$CG" -gt 0 ]; then
    for v in $VARIANTS; do callgrind_variant "$v"; done
    cm_ctl mode=ok
fi

# ---- 3. compute-manager requests per VM per hour ---------------------------------------------
if [ "$CGONLY" = 0 ]; then
p=$(port)
conf enrich "$p" 'cache.staticTTL="30000" cache.dynamicTTL="10000" cache.hostTTL="10000"'
rs_start
before=$(cm_count .total)
$PY "$top/bench/mmctxenrich/gen.py" --paced "$W/msgs.txt" "$CMRATE" "$CMSECS" "$p"
sleep 1
after=$(cm_count .total)
rs_stop
reqs=$((after - before))
per_vm_h=$(awk "BEGIN {printf \"%.1f\", $reqs / $VMS * 3600 / $CMSECS}")
bound_short=$(awk "BEGIN {printf \"%.1f\", 3600 / 30 + 3600 / 10 + 3600 / 10 / $VMS}")
log "compute manager: $reqs requests for $VMS VMs in $CMSECS s at $CMRATE msg/s"
fi

# ---- results ---------------------------------------------------------------------------------
ratio() { awk "BEGIN {printf \"%.2f\", $1 / $2}"; }
{
    echo
    echo "## Run of $(date -u +%Y-%m-%dT%H:%MZ)"
    echo
    if [ "$CGONLY" = 1 ]; then
        echo "- command: \`bench/mmctxenrich/run.sh --vms $VMS --callgrind $CG --callgrind-only\`"
    else
        echo "- command: \`bench/mmctxenrich/run.sh --messages $N --rounds $ROUNDS --vms $VMS --callgrind $CG --cm-seconds $CMSECS --cm-rate $CMRATE\`"
    fi
    echo "- ctxlog at $(cd "$top" && git rev-parse --short HEAD 2>/dev/null || echo '(no git)')$(cd "$top" && git diff --quiet HEAD -- plugins common 2>/dev/null || echo ' + working tree changes')"
    echo "- machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB, $(uname -r), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'); load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "- rsyslogd $($RSYSLOGD -v | head -1 | awk '{print $2}' | tr -d ,), imptcp input (one TCP connection, python sendfile), one main-queue worker, omfile"
    echo
    if [ "$ROUNDS" -gt 0 ]; then
    echo "### 1. Throughput ($N messages per run, $VMS VMs)"
    echo
    echo "| variant | msg/s per round | median msg/s | vs base | CPU-s per 1M msgs (median) |"
    echo "|---|---|---|---|---|"
    for v in $VARIANTS; do
        rates=$(for r in $(seq 1 "$ROUNDS"); do echo -n "${RATE[$v,$r]} "; done)
        echo "| $v | $rates | ${MED[$v]} | $(ratio "${MED[$v]}" "${MED[base]}")x | ${MEDCPU[$v]} |"
    done
    echo
    fi
    if [ "$CG" -gt 0 ]; then
        echo "### 2. Instructions per message (callgrind, $CG messages after a warm-up, whole rsyslogd, counters zeroed after the warm-up)"
        echo
        echo "| variant | instructions per message | vs base (base / variant) | mmctxenrich's doAction (incl.) | rsyslog rendering the output template (tplToString, incl.) | destroying the message (msgDestruct, incl.) | libfastjson (self) | malloc/free (self) |"
        echo "|---|---|---|---|---|---|---|---|"
        for v in $VARIANTS; do
            echo "| $v | ${IR[$v]} | $(ratio "${IR[base]}" "${IR[$v]}")x | ${DA[$v]} | ${TPL[$v]} | ${DES[$v]} | ${FJ[$v]} | ${MAL[$v]} |"
        done
        echo
    fi
    if [ "$CGONLY" = 0 ]; then
    echo "### 3. Compute-manager requests"
    echo
    echo "$VMS VMs logging $CMRATE msg/s in all for $CMSECS s, TTLs static 30 s, dynamic 10 s, host 10 s:"
    echo "$reqs requests = $per_vm_h per VM per hour (bound at these TTLs: $bound_short per VM per hour, whatever the log rate)."
    echo "At the default TTLs (static 1 h, dynamic 5 min, host = dynamic) the bound is 1 + 12 per VM per hour plus 12 per host."
    fi
} | tee -a "$top/bench/mmctxenrich/RESULTS.md"
