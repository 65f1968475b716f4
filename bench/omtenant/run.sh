#!/bin/bash
# bench/omtenant/run.sh [--messages N] [--rounds R] [--quick] [--no-append] [--only SENDER,...]
#                       [--rate MSGS_PER_S] [--ctx standard|small]
#
# --ctx: the `$!ctx` the sending rsyslogd sets on each message. `standard` (the default) has
# the shape imctxcap and mmctxenrich give a message at the default policy's level standard
# (as the demo's log/vms.json shows it): vm {name, uuid, tenant, user, ip, mac, vnic, match},
# cm {guest_os, compute_host, flavor, vcpus, ram_mb, status, fetched_at}, tags {team,
# cost_center}; ~420 bytes of JSON. `small` is the shape of runs before 2026-12-03 (vm
# {tenant, name, uuid, user}, capture {src}; ~150 bytes), for comparing with their figures.
# --only: these senders (names as below); --rate: the stream is sent at this many messages
# a second (the same traffic for every sender: at a rate every receiver keeps up with, the
# CPU column compares the formats without one receiver's slowness making its sender spool)
# instead of as fast as the input takes it.
#
# omtenant vs rsyslog's omfwd with the ossl TLS driver, in one run, on the same
# message stream and the same local receivers:
#   omfwd-ossl        omfwd, TCP + TLS (ossl, server certificate verified), a template
#                     producing omtenant's record (RFC 5424 header + the same JSON object,
#                     unredacted), LF-framed, action queue with 1024-message batches
#   omtenant-tls      omtenant, tenant transport syslog-tls (no compression: RFC 5425)
#   omtenant-https    omtenant, tenant transport https, zstd -3, NDJSON
#   omtenant-json-array  the same, format json-array (one JSON array per batch)
#   omtenant-otlp     omtenant, https, zstd -3, format otlp (OTLP/HTTP protobuf, one
#                     ResourceLogs per VM per batch; issue 17)
#   omtenant-otlp-json  the same, format otlp-json
#   omtenant-elasticsearch, omtenant-loki, omtenant-splunk-hec  https, gzip -3 (what these
#                     servers take), formats elasticsearch (bulk into an index), loki
#                     (labels: vm.name) and splunk-hec (source ctxlog)
#                     (the format cases left out, and said so, when this build's omtenant
#                     has no "format" key yet)
# The stream: N RFC 5424 messages from bench/redact/gen_logmix.py's realistic mix
# (1% with a planted secret), sent over plain TCP to the sending rsyslogd's imtcp, which
# sets $!ctx (tenant, VM name, uuid, ...) on each. Receivers: a second rsyslogd (imtcp +
# ossl -> omfile) for the two syslog-tls senders, tests/lib/https_receiver.py
# (--count-only) for https, tests/system/otlp_receiver.py (--count-only: decoded with the
# official protos, records counted) for otlp, tests/lib/https_receiver.py --api (the
# product's checks, api_emul.py; --count-only) for elasticsearch, loki and splunk-hec.
# The three run in turn, ROUNDS times (default 3: the machine may be shared); the table
# has every run and the median per sender.
# Per mode: msg/s (first byte sent -> last message at the receiver), sender CPU seconds
# per million messages, TCP payload bytes to the receiver per message (ss bytes_acked:
# TLS records and HTTP headers included). Then the compression ratio of omtenant's zstd
# batches vs the zstd CLI (-3) on the same batch bytes. Appends to bench/omtenant/RESULTS.md.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
N=300000 ROUNDS=3 append=1 ONLY= RATE=0 CTX=standard
while [ $# -gt 0 ]; do
    case "$1" in
        --messages) N=$2; shift 2 ;;
        --rounds) ROUNDS=$2; shift 2 ;;
        --quick) N=30000; ROUNDS=1; shift ;;
        --no-append) append=0; shift ;;
        --only) ONLY=$2; shift 2 ;;
        --rate) RATE=$2; shift 2 ;;
        --ctx) CTX=$2; shift 2 ;;
        *) echo "usage: $0 [--messages N] [--rounds R] [--quick] [--no-append] [--only SENDER,...] [--rate MSGS_PER_S] [--ctx standard|small]" >&2; exit 2 ;;
    esac
done
case "$CTX" in standard | small) ;; *) echo "--ctx: standard or small, not '$CTX'" >&2; exit 2 ;; esac
[ "$(id -u)" = 0 ] || { echo "run as root" >&2; exit 1; }
RSYSLOGD=${RSYSLOGD:-/usr/sbin/rsyslogd}
PY=/usr/bin/python3
MOD="$top/plugins/omtenant/omtenant.so"
[ -f "$MOD" ] || { echo "build first: make (no $MOD)" >&2; exit 1; }
W=$(mktemp -d /tmp/ctxbench-omtenant.XXXXXX)
PIDS=()
cleanup() {
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    [ "${KEEP:-0}" = 1 ] && echo "kept $W" >&2 || rm -rf "$W"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
wait_for() { # timeout_s condition
    local deadline=$((SECONDS + $1))
    until eval "$2"; do
        [ $SECONDS -lt $deadline ] || { echo "timeout: $2" >&2; cat "$W/send/internal.log" >&2 2>/dev/null; exit 1; }
        sleep 0.02
    done
}
. "$top/bench/lib/sinks.sh"

# ---------------------------------------------------------------- certificates, stream
bench_certs
$PY "$top/bench/redact/gen_logmix.py" "$W/mix.txt" 64 >/dev/null
$PY - "$W/mix.txt" "$W/stream" "$N" <<'PY'
import sys
lines = [l.rstrip("\n") for l in open(sys.argv[1], encoding="utf-8", errors="replace") if l.strip()]
n = int(sys.argv[3])
with open(sys.argv[2], "w") as f:
    for i in range(n):
        f.write("<14>1 2026-11-27T10:00:%02d.%06dZ web-%d app%d %d - - %s\n"
                % (i // 1000000 % 60, i % 1000000, i % 7, i % 5, 1000 + i % 97, lines[i % len(lines)]))
    f.write("<14>1 2026-11-27T10:00:00.000000Z web-0 app0 1 - - BENCH-END-MARKER\n")
PY
stream_bytes=$(stat -c %s "$W/stream")

# ---------------------------------------------------------------- receivers
PR=$(port)
bench_recv_conf "$PR" raw
RECV=
recv_start() { # a fresh receiving rsyslogd (and output file) for each run
    rm -f "$W/recv/out" "$W/recv/pid"
    $RSYSLOGD -n -f "$W/recv/rsyslog.conf" -i "$W/recv/pid" >"$W/recv/log" 2>&1 &
    RECV=$!
    PIDS+=($RECV)
    wait_for 30 "listening $PR"
}
recv_stop() { kill "$RECV" 2>/dev/null || true; wait "$RECV" 2>/dev/null || true; }
bench_sink https tests/lib/https_receiver.py 30
PH=$SINK_PORT
bench_sink otlp tests/system/otlp_receiver.py 60
PO=$SINK_PORT
API_FORMATS_ALL="elasticsearch loki splunk-hec"
for api in $API_FORMATS_ALL; do bench_sink "$api" tests/lib/https_receiver.py 30 --api "$api" --token bench-token; done
echo bench-token >"$W/hec.token"
chmod 600 "$W/hec.token"

# ---------------------------------------------------------------- the sending rsyslogd
PS=$(port)
ctx_statements() { # the `set $!ctx` statements of --ctx (the VMs are web-0 .. web-6)
    case "$CTX" in
    small) cat <<'EOF'
    set $!ctx!vm!tenant = "bench";
    set $!ctx!vm!name = $hostname;
    set $!ctx!vm!uuid = "8f14e45f-ceea-467e-a9f1-62ad0c3a9b21";
    set $!ctx!vm!user = "alice";
    set $!ctx!capture!src = "10.1.2.3";
EOF
    ;;
    standard) cat <<'EOF'
    set $.n = field($hostname, 45, 2);
    set $!ctx!vm!name = $hostname;
    set $!ctx!vm!uuid = "5eb1c0de-0000-4000-8000-00000000001" & $.n;
    set $!ctx!vm!tenant = "bench";
    set $!ctx!vm!user = "owner-bench";
    set $!ctx!vm!ip = "10.231.1" & $.n & ".2";
    set $!ctx!vm!mac = "52:54:00:c7:00:1" & $.n;
    set $!ctx!vm!vnic = "vnet1" & $.n;
    set $!ctx!vm!match = "vnic";
    set $!ctx!cm!guest_os = "debian-12";
    set $!ctx!cm!compute_host = "compute-7";
    set $!ctx!cm!flavor = "m1.small";
    set $!ctx!cm!vcpus = 2;
    set $!ctx!cm!ram_mb = 2048;
    set $!ctx!cm!status = "ok";
    set $!ctx!cm!fetched_at = "2026-12-03T08:17:14.391Z";
    set $!ctx!tags!team = "payments";
    set $!ctx!tags!cost_center = "CC 4711";
EOF
    ;;
    esac
}
sender_conf() { # action
    cat <<EOF
global(workDirectory="$W/send" maxMessageSize="64k" defaultNetstreamDriverCAFile="$W/ca.pem")
module(load="impstats" interval="1" format="json" log.syslog="off" log.file="$W/send/stats.log")
module(load="imtcp")
input(type="imtcp" port="$PS" ruleset="in")
ruleset(name="in") {
$(ctx_statements)
    call out
}
if \$inputname == "rsyslogd" then action(type="omfile" file="$W/send/internal.log")
template(name="fwd" type="string"
         string="<%pri%>1 %timereported:::date-rfc3339% %hostname% %app-name% %procid% %msgid% - {\"time\":\"%timereported:::date-rfc3339%\",\"host\":\"%hostname:::json%\",\"facility\":\"%syslogfacility-text%\",\"severity\":\"%syslogseverity-text%\",\"app\":\"%app-name:::json%\",\"procid\":\"%procid:::json%\",\"msg\":\"%msg:::json%\",\"ctx\":%\$!ctx%}\n")
ruleset(name="out") {
$1
}
EOF
}
Q='queue.type="LinkedList" queue.size="500000" queue.dequeueBatchSize="1024"'
A_OMFWD="action(type=\"omfwd\" target=\"127.0.0.1\" port=\"$PR\" protocol=\"tcp\" template=\"fwd\" StreamDriver=\"ossl\"
       StreamDriverMode=\"1\" StreamDriverAuthMode=\"x509/name\" StreamDriverPermittedPeers=\"localhost\" $Q)"
tenants() { # transport json
    echo "{\"tenants\": {\"bench\": $1}}" >"$W/tenants.json"
}
# batches of up to 1000 messages / 1 MiB; a quiet tenant's batch waits at most 100 ms
BATCH='"batch": {"max_messages": 1000, "max_bytes": 1048576, "max_delay_ms": 100}'
A_OMT="action(type=\"omtenant\" tenants=\"$W/tenants.json\" $Q action.resumeRetryCount=\"-1\")"

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
wire_bytes() { # dport: sum of bytes_acked of established connections to it
    ss -tinH state established "( dport = :$1 )" | grep -o 'bytes_acked:[0-9]*' | cut -d: -f2 | awk '{s += $1} END {print s + 0}'
}
# the receiving rsyslogd does not keep the order of the stream: count the lines it wrote,
# reading each byte once (a python tail), until all N + 1 (the end marker) are there
recv_count_tls() {
    $PY - "$W/recv/out" $((N + 1)) $((120 + N / 2000)) <<'PY'
import os, sys, time
path, want, deadline = sys.argv[1], int(sys.argv[2]), time.time() + int(sys.argv[3])
n, pos = 0, 0
while n < want:
    if time.time() > deadline:
        sys.exit(1)
    try:
        with open(path, "rb") as f:
            f.seek(pos)
            b = f.read()
    except FileNotFoundError:
        b = b""
    pos += len(b)
    n += b.count(b"\n")
    if n < want:
        time.sleep(0.01)
PY
}
TOTAL=$W/https/total TBASE=0 # the running total of the current run's https or otlp receiver, and it before the run
recv_count_https() { [ -s "$TOTAL" ] && [ "$(cat "$TOTAL")" -ge $((TBASE + N + 1)) ]; }

RESULTS=()
run() { # name action done-condition dport
    local name=$1 action=$2 cond=$3 dport=$4
    rm -rf "$W/send"
    mkdir -p "$W/send"
    [ "$dport" = "$PR" ] && recv_start
    { echo "module(load=\"$MOD\")"; sender_conf "$action"; } >"$W/send/rsyslog.conf"
    BENCH_SENDER=$name $RSYSLOGD -n -f "$W/send/rsyslog.conf" -i "$W/send/pid" >"$W/send/log" 2>&1 &
    local pid=$!
    PIDS+=($pid)
    wait_for 30 "listening $PS"
    sleep 1 # let it settle (the first TLS connect happens with the first batch)
    local c0 t0 t1 c1 bytes
    local perf=
    if [ "${PERF_MODE:-}" = "$name" ]; then perf record -F 999 -a -o "$W/perf.data" >/dev/null 2>&1 & perf=$!; fi
    c0=$(cpu_ticks "$pid")
    t0=$(date +%s.%N)
    $PY -c "
import socket, sys, time
s = socket.create_connection(('127.0.0.1', $PS))
rate = $RATE
if rate == 0: # as fast as the input takes it
    with open('$W/stream', 'rb') as f:
        while True:
            b = f.read(1 << 20)
            if not b: break
            s.sendall(b)
else: # rate messages a second, in 100 steps a second
    lines = open('$W/stream', 'rb').read().splitlines(keepends=True)
    t0, i, k = time.monotonic(), 0, 0
    while i < len(lines):
        k += 1
        j = min(len(lines), k * rate // 100)
        s.sendall(b''.join(lines[i:j]))
        i = j
        d = t0 + k / 100 - time.monotonic()
        if d > 0: time.sleep(d)
s.close()"
    wait_for $((120 + N / 2000)) "$cond"
    t1=$(date +%s.%N)
    c1=$(cpu_ticks "$pid")
    if [ -n "$perf" ]; then
        kill -INT "$perf"; wait "$perf" 2>/dev/null || true
        { perf report -i "$W/perf.data" --no-children --sort comm,dso 2>/dev/null | grep -v '^#' | grep -v '^$' | head -15
          perf report -i "$W/perf.data" --no-children --comms "$(perf report -i "$W/perf.data" --sort comm 2>/dev/null | grep -o "rs:action[^ ]*" | head -1)" --sort dso,symbol 2>/dev/null | grep -v "^#" | grep -v "^$" | head -60
        } >"${PERF_OUT:-/tmp/omtenant-perf.txt}" || true
    fi
    bytes=$(wire_bytes "$dport")
    sleep 1.2 # one more impstats round
    local spooled
    spooled=$(grep -h '"omtenant(bench)"' "$W/send/stats.log" 2>/dev/null | tail -1 | sed 's/^[^{]*//' | $PY -c 'import json,sys; d=sys.stdin.read().strip(); print(json.loads(d)["spooled.batches"] if d else "-")' || true)
    kill "$pid"
    wait "$pid" 2>/dev/null || true
    local got
    if [ "$dport" = "$PR" ]; then got=$(($(wc -l <"$W/recv/out") - 1)); else got=$(($(cat "$TOTAL") - TBASE - 1)); fi
    [ "$got" = "$N" ] || { echo "$name: receiver got $got messages, expected $N" >&2; cat "$W/send/internal.log" >&2; exit 1; }
    [ "$dport" = "$PR" ] && recv_stop
    local hz secs
    hz=$(getconf CLK_TCK)
    secs=$(echo "$t1 - $t0" | bc -l)
    RESULTS+=("$(printf '| %s | %.0f | %.2f | %.1f | %s |' "$name" "$(echo "$N / $secs" | bc -l)" \
        "$(echo "($c1 - $c0) / $hz / $N * 1000000" | bc -l)" "$(echo "$bytes / $N" | bc -l)" "$spooled")")
    echo "${RESULTS[-1]}" >&2
}

T_TLS="{\"transport\": \"syslog-tls\", \"host\": \"127.0.0.1\", \"port\": $PR, \"tls\": {\"ca_file\": \"$W/ca.pem\", \"server_name\": \"localhost\"}, $BATCH}"
T_HTTPS="{\"transport\": \"https\", \"url\": \"https://127.0.0.1:$PH/bulk\", \"tls\": {\"ca_file\": \"$W/ca.pem\", \"server_name\": \"localhost\"}, $BATCH}"
t_otlp() { # format
    echo "{\"transport\": \"https\", \"format\": \"$1\", \"url\": \"https://127.0.0.1:$PO/v1/logs\", \"tls\": {\"ca_file\": \"$W/ca.pem\", \"server_name\": \"localhost\"}, $BATCH}"
}
t_api() { # format: elasticsearch, loki, splunk-hec (gzip: what these servers take)
    local extra
    case "$1" in
        elasticsearch) extra='"elasticsearch": {"index": "ctxlog-bench"}' ;;
        loki) extra='"loki": {"labels": ["vm.name"]}' ;;
        splunk-hec) extra="\"splunk_hec\": {\"token_file\": \"$W/hec.token\", \"source\": \"ctxlog\"}" ;;
    esac
    echo "{\"transport\": \"https\", \"format\": \"$1\", \"url\": \"https://127.0.0.1:$(cat "$W/$1/port")\", $extra, \"tls\": {\"ca_file\": \"$W/ca.pem\", \"server_name\": \"localhost\"}, $BATCH}"
}
# the OTLP formats, if this omtenant knows the "format" key (rsyslogd -N1 says)
OTLP_FORMATS= OTLP_NOTE= API_FORMATS=
tenants "$(t_otlp otlp)"
mkdir -p "$W/send"
{ echo "module(load=\"$MOD\")"; sender_conf "$A_OMT"; } >"$W/send/check.conf"
if $RSYSLOGD -N1 -f "$W/send/check.conf" >"$W/send/check.log" 2>&1; then
    OTLP_FORMATS="otlp otlp-json"
    API_FORMATS=$API_FORMATS_ALL
else
    OTLP_NOTE="omtenant-otlp, omtenant-otlp-json: not run, this omtenant has no \"format\" key: $(grep -m1 -i format "$W/send/check.log" || true)"
    echo "$OTLP_NOTE" >&2
fi
want() { [ -z "$ONLY" ] || [[ ",$ONLY," == *",$1,"* ]]; } # --only
for round in $(seq 1 "$ROUNDS"); do
    if want omfwd-ossl; then run omfwd-ossl "$A_OMFWD" recv_count_tls "$PR"; fi
    if want omtenant-tls; then
        tenants "$T_TLS"
        run omtenant-tls "$A_OMT" recv_count_tls "$PR"
    fi
    if want omtenant-https; then
        tenants "$T_HTTPS"
        TOTAL=$W/https/total TBASE=$(cat "$W/https/total" 2>/dev/null || echo 0)
        run omtenant-https "$A_OMT" recv_count_https "$PH"
    fi
    if want omtenant-json-array; then
        tenants "${T_HTTPS%\}}, \"format\": \"json-array\"}"
        TOTAL=$W/https/total TBASE=$(cat "$W/https/total" 2>/dev/null || echo 0)
        run omtenant-json-array "$A_OMT" recv_count_https "$PH"
    fi
    for f in $OTLP_FORMATS; do
        want "omtenant-$f" || continue
        tenants "$(t_otlp "$f")"
        TOTAL=$W/otlp/total TBASE=$(cat "$W/otlp/total" 2>/dev/null || echo 0)
        run "omtenant-$f" "$A_OMT" recv_count_https "$PO"
    done
    for f in $API_FORMATS; do
        want "omtenant-$f" || continue
        tenants "$(t_api "$f")"
        TOTAL=$W/$f/total TBASE=$(cat "$W/$f/total" 2>/dev/null || echo 0)
        run "omtenant-$f" "$A_OMT" recv_count_https "$(cat "$W/$f/port")"
    done
done
# the median of each column per sender
MEDIANS=$(printf '%s\n' "${RESULTS[@]}" | $PY -c '
import statistics, sys
rows = {}
for line in sys.stdin:
    c = [x.strip() for x in line.strip().strip("|").split("|")]
    rows.setdefault(c[0], []).append(c[1:])
for name, rs in rows.items():
    med = [statistics.median(float(r[i]) for r in rs) for i in range(3)]
    print("| %s, median of %d | %.0f | %.2f | %.1f | %s |" % (name, len(rs), med[0], med[1], med[2], "/".join(r[3] for r in rs)))
')

# ---------------------------------------------------------------- compression vs the zstd CLI
# (with --only: when omtenant-https is one of them)
compression() {
# the https run's batches once more, with the receiver keeping every decoded body
rm -rf "$W/z"
bench_sink z tests/lib/https_receiver.py 30 --save-bodies
PZ=$SINK_PORT
tenants "{\"transport\": \"https\", \"url\": \"https://127.0.0.1:$PZ/bulk\", \"tls\": {\"ca_file\": \"$W/ca.pem\", \"server_name\": \"localhost\"}, $BATCH}"
run_z() {
    rm -rf "$W/send"; mkdir -p "$W/send"
    { echo "module(load=\"$MOD\")"; sender_conf "$A_OMT"; } >"$W/send/rsyslog.conf"
    $RSYSLOGD -n -f "$W/send/rsyslog.conf" -i "$W/send/pid" >"$W/send/log" 2>&1 &
    local pid=$!
    PIDS+=($pid)
    wait_for 30 "listening $PS"
    $PY -c "
import socket
s = socket.create_connection(('127.0.0.1', $PS))
s.sendall(open('$W/stream', 'rb').read())
s.close()"
    wait_for 600 "[ -s '$W/z/total' ] && [ \$(cat '$W/z/total') -ge $((N + 1)) ]"
    kill "$pid"; wait "$pid" 2>/dev/null || true
}
run_z
read -r raw ours nb < <($PY - "$W/z/batches.jsonl" <<'PY'
import json, sys
raw = ours = n = 0
for b in map(json.loads, open(sys.argv[1])):
    if b["status"] == 200:
        raw += b["bytes"]; ours += b["wire_bytes"]; n += 1
print(raw, ours, n)
PY
)
cli=0
for f in "$W"/z/bodies/*; do cli=$((cli + $(zstd -3 -q -c "$f" | wc -c))); done
}
raw=0 ours=0 nb=0 cli=0
if want omtenant-https; then compression; fi

# ---------------------------------------------------------------- report
machine="$(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(free -g | awk '/Mem:/ {print $2}') GB, kernel $(uname -r), load $(cut -d' ' -f1-3 /proc/loadavg) at the end"
report=$(
    echo
    echo "## $(date -u +%Y-%m-%dT%H:%MZ): $N messages ($((stream_bytes / N)) bytes each on average at the input), \`--ctx $CTX\`"
    echo
    echo "Command: \`bench/omtenant/run.sh --messages $N --rounds $ROUNDS${ONLY:+ --only $ONLY}$([ "$RATE" = 0 ] || echo " --rate $RATE") --ctx $CTX\`  "
    echo "Machine: $machine  "
    echo "rsyslogd $($RSYSLOGD -v | head -1 | awk '{print $2}') (Debian), omtenant at $(cd "$top" && git rev-parse --short HEAD 2>/dev/null || echo '?')"
    echo
    echo "| sender | msg/s | sender CPU s per 1M msgs | TCP payload bytes to the receiver per msg | batches spooled |"
    echo "|---|---|---|---|---|"
    printf '%s\n' "${RESULTS[@]}"
    echo "$MEDIANS"
    [ -n "$OTLP_NOTE" ] && { echo; echo "$OTLP_NOTE"; }
    echo
    if [ "$nb" -gt 0 ]; then printf 'Compression, the same %d batches (%d raw bytes, %d messages / batch on average): omtenant zstd %d bytes (ratio %.2f), `zstd -3` CLI on each batch %d bytes (ratio %.2f): omtenant / CLI = %.3f\n' \
        "$nb" "$raw" "$((N / (nb > 0 ? nb : 1)))" "$ours" "$(echo "$raw / $ours" | bc -l)" "$cli" "$(echo "$raw / $cli" | bc -l)" \
        "$(echo "($raw / $ours) / ($raw / $cli)" | bc -l)"; fi
)
echo "$report"
[ "$append" = 1 ] && echo "$report" >>"$top/bench/omtenant/RESULTS.md"
exit 0
