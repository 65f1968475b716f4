#!/bin/bash
# scripts/demo.sh [--keep] [--vms N] [--messages N] [--isolate] | --stop
#
# A small datacenter on this machine, end to end:
#   - VMs of two tenants as network namespaces with libvirt-like vNICs (vnet11..),
#     each in its own cgroup with a process using some CPU;
#   - guests sending syslog (util-linux logger, RFC 5424): VM 1 through its own
#     rsyslogd, which forwards over TCP (`*.* @@host`: its traditional format, LF
#     framing), VM 2 through its own syslog-ng (when Debian's syslog-ng-core can be
#     unpacked: syslog() source, syslog() destination over TCP, i.e. RFC 5424 with
#     octet counting), the others straight to the host over UDP, the last one (of
#     three or more) "misconfigured" (it sends to an address where nothing listens);
#     messages of all severities, some carrying secrets;
#   - a compute manager (tests/lib/cmserver.py, Keystone- and Nova-shaped, HTTPS);
#   - tenant acme's central server: a real rsyslogd (imtcp + the ossl TLS driver);
#     tenant globex's: an HTTPS receiver decoding zstd (tests/lib/https_receiver.py);
#   - the host's rsyslogd (Debian's) running conf-examples/50-ctxlog.conf with paths
#     substituted: imctxcap -> mmctxenrich -> omtenant.
# It prints what each tenant received, a message of each kind of guest as its tenant
# got it (host, app name and text parsed), two messages with the three context sets,
# redactions by rule, bytes before and after compression and the compute-manager
# requests made; then tears everything down (also on Ctrl-C or error), unless --keep.
# Run as root after a build (./bootstrap demo does both).
#
# Everything the demo writes (configs, logs, what each tenant received, stop.sh) is in
# one directory: $CTXLOG_DEMO_DIR, /tmp/ctxlog-demo by default. A run starts by
# stopping the demo kept there and emptying it; `--stop` stops the demo kept there,
# so give --stop the same CTXLOG_DEMO_DIR as the run. Only one demo at a time: the
# VMs' names, vNICs (vnet11..) and addresses are fixed.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
DEMO=${CTXLOG_DEMO_DIR:-/tmp/ctxlog-demo}
case "$DEMO" in /*) ;; *) DEMO="$PWD/$DEMO" ;; esac
DEMO=${DEMO%/}
keep=0 nvms=4 nmsg=25 isolate=0
while [ $# -gt 0 ]; do
    case "$1" in
        --keep) keep=1; shift ;;
        --vms) nvms=$2; shift 2 ;;
        --messages) nmsg=$2; shift 2 ;;
        --isolate) isolate=1; shift ;; # capture only the demo's vNICs (when tests run beside it)
        --stop) [ -f "$DEMO/stop.sh" ] && exec bash "$DEMO/stop.sh"; echo "no demo running (no $DEMO/stop.sh)"; exit 0 ;;
        *) echo "usage: [CTXLOG_DEMO_DIR=DIR] $0 [--keep] [--vms N (2..18)] [--messages N] [--isolate] | --stop" >&2; exit 2 ;;
    esac
done
case "$nvms" in *[!0-9]* | "") nvms=0 ;; esac
case "$nmsg" in *[!0-9]* | "") nmsg=0 ;; esac
[ "$nvms" -ge 2 ] && [ "$nvms" -le 18 ] || { echo "--vms: 2..18" >&2; exit 2; }
[ "$nmsg" -ge 1 ] || { echo "--messages: a number >= 1" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "demo: run as root (namespaces, packet capture, cgroups)" >&2; exit 1; }
for m in imctxcap mmctxenrich omtenant; do
    [ -f "$top/plugins/$m/$m.so" ] || { echo "demo: build first (./bootstrap build)" >&2; exit 1; }
done

. "$top/tests/lib/vm.sh"
RSYSLOGD=${RSYSLOGD:-/usr/sbin/rsyslogd}
PY=/usr/bin/python3
if [ -t 1 ]; then JQC=-C; bold() { printf '\033[1m%s\033[0m\n' "$*"; }; else JQC=-M; bold() { printf '%s\n' "$*"; }; fi
say() { printf '%s\n' "$*"; }
PIDS=()
cleanup() {
    [ -f "$DEMO/rsyslogd.pid" ] && kill "$(cat "$DEMO/rsyslogd.pid")" 2>/dev/null || true
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    ctx_vm_cleanup_all
}
# the directory is emptied: refuse one that holds anything but an earlier demo's files
# (marked by .ctxlog-demo; older demos left tenants/ and work/)
if [ -n "$(ls -A "$DEMO" 2>/dev/null)" ] && [ ! -f "$DEMO/.ctxlog-demo" ] &&
    ! { [ -d "$DEMO/tenants" ] && [ -d "$DEMO/work" ]; }; then
    echo "demo: $DEMO is not empty and not a demo directory (CTXLOG_DEMO_DIR): not touching it" >&2
    exit 1
fi
[ -f "$DEMO/stop.sh" ] && { bash "$DEMO/stop.sh" >/dev/null 2>&1 || true; }
rm -rf "$DEMO"
mkdir -p "$DEMO/etc" "$DEMO/log" "$DEMO/work" "$DEMO/pki" "$DEMO/tenants/acme" "$DEMO/tenants/globex"
echo "ctxlog demo directory (scripts/demo.sh empties it at every run)" >"$DEMO/.ctxlog-demo"
trap cleanup EXIT
trap 'echo; echo "interrupted: tearing down"; exit 130' INT TERM

free_port() { $PY -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
wait_file() { for _ in $(seq 1 200); do [ -s "$1" ] && return 0; sleep 0.05; done; echo "demo: $2 did not start" >&2; exit 1; }
tenant_of() { if [ $(($1 % 2)) = 1 ]; then echo acme; else echo globex; fi; }
vm_name() { printf '%s-vm%02d' "$(tenant_of "$1")" "$1"; }
vm_uuid() { printf '5eb1c0de-0000-4000-8000-%012d' "$((10 + $1))"; }
# how VM I's syslog leaves it: rsyslogd, syslog-ng (its own daemon forwards over TCP),
# udp (logger straight to the host), dead (logger to an address where nothing listens)
vm_kind() {
    if [ "$1" = 1 ] && [ -n "$GUEST_PORT_1" ]; then echo rsyslogd
    elif [ "$1" = 2 ] && [ -n "$GUEST_PORT_2" ]; then echo syslog-ng
    elif [ "$1" = "$nvms" ]; then echo dead
    else echo udp; fi
}
kind_text() {
    case "$1" in
        rsyslogd) echo "logger -> guest rsyslogd -> TCP, LF framing" ;;
        syslog-ng) echo "logger -> guest syslog-ng -> TCP, RFC 5424, octet counting" ;;
        udp) echo "logger -> UDP" ;;
        dead) echo "logger -> UDP to $(ctx_vm_dead_ip4 $((10 + nvms))), where nothing listens" ;;
    esac
}

make_vms() {
    bold "== $nvms VMs: network namespaces with vNICs vnet11.., each in its own cgroup with a busy process"
    local i idx cg
    for i in $(seq 1 "$nvms"); do
        idx=$((10 + i))
        ctx_vm_add "demo$i" "$idx" --cgroup
        cg=$(eval echo "\${CTX_VM_CG_demo$i}")
        # some CPU: a loop that works a fifth of the time, started inside the VM's cgroup
        # (v1: its cpuacct and memory twins) and network namespace
        local join="echo \$\$ >$cg/cgroup.procs"
        case "$cg" in /sys/fs/cgroup/cpuacct/*)
            join="$join; echo \$\$ >/sys/fs/cgroup/memory/${cg#/sys/fs/cgroup/cpuacct/}/cgroup.procs" ;; esac
        # (join first: `ip netns exec` mounts its own /sys, without the cgroup file systems)
        sh -c "$join; exec ip netns exec $(ctx_vm_ns "demo$i") $PY -c 'import time
b = bytearray(16 << 20); b[::4096] = b\"x\" * len(b[::4096])
while True:
    t = time.time()
    while time.time() - t < 0.02: pass
    time.sleep(0.08)'" &
        PIDS+=($!)
        echo "$cg" >"$DEMO/work/cg.$i"
        printf '   %-11s  tenant=%-6s  vNIC=%s  ip=%s  cgroup=%s\n' "$(vm_name "$i")" "$(tenant_of "$i")" \
            "$(ctx_vm_vnic "$idx")" "$(ctx_vm_ip4 "$idx")" "$cg"
    done
}

# a TCP listener on the host for the guests that forward over TCP (the capture is a
# copy: the connection itself needs somebody to talk to)
start_tcp_sink() {
    cat >"$DEMO/work/sink.py" <<'PY'
import selectors, socket, sys
sel = selectors.DefaultSelector()
for spec in sys.argv[2:]:
    host, port = spec.rsplit(":", 1)
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((host, int(port))); s.listen(64); s.setblocking(False)
    sel.register(s, selectors.EVENT_READ, None)
open(sys.argv[1], "w").write("ready")
while True:
    for key, _ in sel.select():
        if key.data is None:
            c, _ = key.fileobj.accept(); c.setblocking(False); sel.register(c, selectors.EVENT_READ, "c"); continue
        try: d = key.fileobj.recv(65536)
        except OSError: d = b""
        if not d: sel.unregister(key.fileobj); key.fileobj.close()
PY
    $PY "$DEMO/work/sink.py" "$DEMO/work/sink.ready" "$(ctx_vm_host_ip4 11):514" "$(ctx_vm_host_ip4 12):514" &
    PIDS+=($!)
    wait_file "$DEMO/work/sink.ready" "the TCP listener"
}

# VM 1: a guest rsyslogd (Debian's) forwarding over TCP; VM 2: a guest syslog-ng
GUEST_PORT_1="" GUEST_PORT_2=""
start_guest_daemons() {
    local g="$DEMO/guest1"
    mkdir -p "$g"
    # imudp parses logger's RFC 5424; @@ forwards in rsyslog's traditional format
    # (RSYSLOG_ForwardFormat: RFC 3164 with an RFC 3339 timestamp), LF-framed
    cat >"$g/rsyslog.conf" <<GCONF
global(workDirectory="$g")
module(load="imudp")
input(type="imudp" address="127.0.0.1" port="5140")
*.* @@$(ctx_vm_host_ip4 11):514
GCONF
    ctx_vm_exec demo1 "$RSYSLOGD" -n -f "$g/rsyslog.conf" -i "$g/pid" >"$g/log" 2>&1 &
    PIDS+=($!)
    wait_file "$g/pid" "the guest rsyslogd"
    GUEST_PORT_1=5140
    say "   $(vm_name 1): its own rsyslogd forwards over TCP (*.* @@$(ctx_vm_host_ip4 11):514)"
    local loggen sroot sng=""
    if loggen=$("$top/bench/lib/get-loggen.sh" 2>/dev/null | tail -1) && [ -x "$loggen" ]; then
        sroot="$(dirname "$loggen")/root"
        [ -x "$sroot/usr/sbin/syslog-ng" ] && sng="$sroot/usr/sbin/syslog-ng"
    fi
    if [ -z "$sng" ]; then say "   (syslog-ng-core could not be unpacked: $(vm_name 2) uses logger)"; return 0; fi
    g="$DEMO/guest2"
    mkdir -p "$g"
    # logger sends RFC 5424: a syslog() source parses it (a network() source expects
    # RFC 3164 and would leave the 5424 header inside the message); the syslog()
    # destination sends RFC 5424, octet-counted (RFC 6587), over TCP
    cat >"$g/sng.conf" <<GCONF
@version: 3.38
options { keep-hostname(yes); frac-digits(6); stats-freq(0); };
source s_in { syslog(ip(127.0.0.1) port(5141) transport(udp)); };
destination d_host { syslog("$(ctx_vm_host_ip4 12)" port(514) transport(tcp)); };
log { source(s_in); destination(d_host); };
GCONF
    ctx_vm_exec demo2 env LD_LIBRARY_PATH="$sroot/usr/lib/syslog-ng" SYSLOGNG_PREFIX="$sroot/usr" "$sng" -F --no-caps \
        -f "$g/sng.conf" -p "$g/pid" -c "$g/ctl" -R "$g/persist" >"$g/log" 2>&1 &
    PIDS+=($!)
    wait_file "$g/pid" "the guest syslog-ng"
    GUEST_PORT_2=5141
    say "   $(vm_name 2): its own syslog-ng forwards over TCP (syslog(transport(tcp)): RFC 5424, octet counting, to $(ctx_vm_host_ip4 12):514)"
}

write_profiles() {
    local i idx s=""
    for i in $(seq 1 "$nvms"); do
        idx=$((10 + i))
        s+="${s:+,}
  {\"name\": \"$(vm_name "$i")\", \"uuid\": \"$(vm_uuid "$i")\", \"tenant\": \"$(tenant_of "$i")\", \"user\": \"owner-$(tenant_of "$i")\",
   \"vnic\": \"$(ctx_vm_vnic "$idx")\", \"mac\": \"$(ctx_vm_mac "$idx")\", \"ipv4\": \"$(ctx_vm_ip4 "$idx")\",
   \"cgroup\": \"$(cat "$DEMO/work/cg.$i")\"}"
    done
    printf '{"vms": [%s\n]}\n' "$s" >"$DEMO/etc/profiles.json"
}

start_compute_manager() {
    local i srv=""
    for i in $(seq 1 "$nvms"); do
        srv+="${srv:+,}{\"id\": \"$(vm_uuid "$i")\", \"name\": \"$(vm_name "$i")\", \"metadata\": {\"os_distro\": \"debian-12\"},
          \"OS-EXT-SRV-ATTR:host\": \"compute-7\", \"flavor\": {\"original_name\": \"m1.small\", \"vcpus\": 2, \"ram\": 2048}}"
    done
    cat >"$DEMO/work/cm-routes.json" <<EOF
{"/v2.1/servers/{id}": {"server": {"id": "{id}", "name": "vm-{id}", "metadata": {"os_distro": "debian-12"},
   "OS-EXT-SRV-ATTR:host": "compute-7", "flavor": {"original_name": "m1.small", "vcpus": 2, "ram": 2048}}},
 "/v2.1/servers/{id}/diagnostics": {"cpu_details": [{"id": 0, "time": 5, "utilisation": 12}, {"id": 1, "time": 6, "utilisation": 30}],
   "memory_details": {"maximum": 2048, "used": 700}, "uptime": 3600},
 "/v2.1/os-hypervisors": {"hypervisors": [{"id": "6a1c2e58-0d3f-4b8e-9a71-2f4c5d6e7f80",
   "hypervisor_hostname": "compute-7.example.net", "state": "up", "status": "enabled"}]},
 "/v2.1/os-hypervisors/{id}": {"hypervisor": {"host_ip": "192.0.2.7", "vcpus": 32, "vcpus_used": 8, "memory_mb": 65536,
   "memory_mb_used": 16384, "running_vms": $nvms, "state": "up"}},
 "/v2.1/servers/detail": {"servers": [$srv]}}
EOF
    echo "demo-password-$RANDOM$RANDOM" >"$DEMO/etc/cm.password"
    chmod 600 "$DEMO/etc/cm.password"
    $PY "$top/tests/lib/cmserver.py" serve --port-file "$DEMO/work/cm.port" --routes "$DEMO/work/cm-routes.json" \
        --tls-cert "$DEMO/pki/server.pem" --tls-key "$DEMO/pki/server.key" \
        --keystone "ctxlog:$(cat "$DEMO/etc/cm.password"):admin" \
        --log "$DEMO/log/cm.log" >/dev/null 2>&1 &
    PIDS+=($!)
    wait_file "$DEMO/work/cm.port" "the compute manager"
    CM="https://127.0.0.1:$(cat "$DEMO/work/cm.port")"
    say "   compute manager (Keystone- and Nova-shaped, HTTPS): $CM"
}

start_tenant_servers() {
    local pa d=$DEMO/tenants/acme
    pa=$(free_port)
    cat >"$d/rsyslog.conf" <<EOF
global(workDirectory="$d" maxMessageSize="64k")
module(load="imtcp" streamDriver.name="ossl" streamDriver.mode="1" streamDriver.authMode="anon")
input(type="imtcp" port="$pa" address="127.0.0.1" ruleset="in" streamDriver.caFile="$DEMO/pki/ca.pem"
      streamDriver.certFile="$DEMO/pki/server.pem" streamDriver.keyFile="$DEMO/pki/server.key")
template(name="record" type="string" string="%msg%\n")
ruleset(name="in") { action(type="omfile" file="$d/received.jsonl" template="record") }
EOF
    "$RSYSLOGD" -n -f "$d/rsyslog.conf" -i "$d/pid" >"$d/rsyslogd.log" 2>&1 &
    PIDS+=($!)
    wait_file "$d/pid" "tenant acme's rsyslogd"
    $PY "$top/tests/lib/https_receiver.py" serve --out "$DEMO/tenants/globex" --port-file "$DEMO/work/globex.port" \
        --cert "$DEMO/pki/server.pem" --key "$DEMO/pki/server.key" >"$DEMO/tenants/globex/receiver.log" 2>&1 &
    PIDS+=($!)
    wait_file "$DEMO/work/globex.port" "tenant globex's HTTPS receiver"
    local pb
    pb=$(cat "$DEMO/work/globex.port")
    say "   tenant acme:   Debian's rsyslogd, imtcp + TLS (ossl), 127.0.0.1:$pa"
    say "   tenant globex: HTTPS receiver decoding zstd, https://127.0.0.1:$pb/ingest"
    cat >"$DEMO/etc/tenants.json" <<EOF
{"tenants": {
  "acme":   {"transport": "syslog-tls", "host": "127.0.0.1", "port": $pa,
             "tls": {"ca_file": "$DEMO/pki/ca.pem", "server_name": "localhost"},
             "batch": {"max_messages": 100, "max_delay_ms": 200}},
  "globex": {"transport": "https", "url": "https://127.0.0.1:$pb/ingest", "body": "ndjson", "content_encoding": "zstd",
             "tls": {"ca_file": "$DEMO/pki/ca.pem", "server_name": "localhost"},
             "batch": {"max_messages": 100, "max_delay_ms": 200}}
}}
EOF
}

configure_host() {
    cp "$top/conf-examples/policy.rules" "$top/conf-examples/cm-nova.json" "$top/conf-examples/redaction.rules" "$DEMO/etc/"
    head -c 32 /dev/urandom >"$DEMO/etc/redaction.key"
    chmod 600 "$DEMO/etc/redaction.key"
    cp "$DEMO/pki/ca.pem" "$DEMO/etc/cm-ca.pem"
    sed -e "s|module(load=\"\([a-z]*\)\")|module(load=\"$top/plugins/\1/\1.so\")|" \
        -e "s|/etc/ctxlog/|$DEMO/etc/|g" -e "s|/var/log/ctxlog/|$DEMO/log/|g" \
        -e "s|https://nova.example.net:8774|$CM|g" -e "s|https://keystone.example.net:5000|$CM|g" -e 's|host.diskPaths=\["/"\]|host.diskPaths=["/"] sample.interval="1"|' \
        -e 's|cm.hostName="\([^"]*\)"|cm.hostName="\1" cm.startJitter="0"|' \
        "$top/conf-examples/50-ctxlog.conf" >"$DEMO/etc/50-ctxlog.conf"
    if [ "$isolate" = 1 ]; then
        local own
        own=$(for i in $(seq 1 "$nvms"); do printf '%s,' "$(ctx_vm_vnic $((10 + i)))"; done)
        sed -i "s|interface=\"vnet\\*,tap\\*\"|interface=\"${own%,}\"|" "$DEMO/etc/50-ctxlog.conf"
    fi
    cat >"$DEMO/etc/rsyslog.conf" <<EOF
global(workDirectory="$DEMO/work" processInternalMessages="on")
module(load="impstats" interval="1" format="json" log.syslog="off" log.file="$DEMO/log/impstats.json")
if \$inputname == "rsyslogd" then { action(type="omfile" file="$DEMO/log/rsyslogd.log") stop }
include(file="$DEMO/etc/50-ctxlog.conf")
EOF
    bold "== the host's configuration: conf-examples/50-ctxlog.conf, checked with rsyslogd -N1"
    "$RSYSLOGD" -N1 -f "$DEMO/etc/rsyslog.conf" 2>&1 | sed "s/^/   /" ||
        { echo "demo: the config does not validate" >&2; exit 1; }
}

stat() { # NAME COUNTER
    { grep -F "\"name\": \"$1\"" "${STATS:-$DEMO/log/impstats.json}" 2>/dev/null || true; } | tail -1 | sed 's/^[^{]*//' |
        jq -r ".\"$2\" // 0"
}

# the guests' messages: all severities; every fifth carries a secret
send_traffic() {
    local dead=""
    [ "$(vm_kind "$nvms")" = dead ] && dead="; $(vm_name "$nvms") is misconfigured (sends to $(ctx_vm_dead_ip4 $((10 + nvms))))"
    bold "== the guests send syslog with logger ($nmsg messages each, RFC 5424)$dead"
    local sevs=(err warning notice info debug crit alert emerg)
    local secrets=("deploy from https://deploy:S3cretPass@git.internal/app.git"
        "upstream call Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJkZW1vIn0.c2lnbmF0dXJlLWRlbW8tMTIzNDU2Nzg5MA"
        "payment accepted card=4111 1111 1111 1111 amount=42.00")
    local m i idx kind dst port sev text
    # what was sent, one line a message: TENANT seq=I-M VM APP SEVERITY KIND MESSAGE
    # (the message as logger sent it; tests/lib/demo_check.py checks the tenants' records against it)
    : >"$DEMO/work/sent"
    for m in $(seq 1 "$nmsg"); do
        for i in $(seq 1 "$nvms"); do
            idx=$((10 + i))
            kind=$(vm_kind "$i")
            case "$kind" in
                rsyslogd) dst=127.0.0.1 port=$GUEST_PORT_1 ;; # the guest's own daemon forwards over TCP
                syslog-ng) dst=127.0.0.1 port=$GUEST_PORT_2 ;;
                udp) dst=$(ctx_vm_host_ip4 "$idx") port=514 ;;
                dead) dst=$(ctx_vm_dead_ip4 "$idx") port=514 ;;
            esac
            sev=${sevs[$(((m + i) % 8))]}
            text="request $m done"
            [ $((m % 5)) = 0 ] && text=${secrets[$(((m / 5 + i) % 3))]}
            ctx_vm_exec "demo$i" logger --udp -n "$dst" -P "$port" -t "app$i" -p "user.$sev" "seq=$i-$m $text"
            echo "$(tenant_of "$i") seq=$i-$m $(vm_name "$i") app$i $sev $kind seq=$i-$m $text" >>"$DEMO/work/sent"
        done
        if [ -t 1 ]; then printf '\r   sent %d/%d' $((m * nvms)) $((nmsg * nvms)); fi
    done
    if [ -t 1 ]; then printf '\r'; fi
    say "   sent $((nmsg * nvms)) messages from $nvms VMs"
}

received() { # TENANT: the records that tenant's server got, one JSON object a line
    if [ "$1" = acme ]; then cat "$DEMO/tenants/acme/received.jsonl" 2>/dev/null || true
    else cut -f2- "$DEMO/tenants/globex/messages.log" 2>/dev/null || true; fi
}

wait_delivery() {
    local t want got
    for t in acme globex; do
        want=$(grep -c "^$t " "$DEMO/work/sent" || true)
        for _ in $(seq 1 300); do
            got=$(received "$t" | wc -l)
            [ "$got" -ge "$want" ] && break
            sleep 0.1
        done
        # the counters the report shows, once impstats has published them (every second)
        for _ in $(seq 1 50); do
            [ "$(stat "omtenant(tenants:$t)" delivered.msgs)" -ge "$want" ] && break
            sleep 0.1
        done
    done
    sleep 1.2 # one more impstats round: every counter of that moment is out
    # the report reads one copy: impstats writes a round a second, line by line
    # (whole lines only)
    cp "$DEMO/log/impstats.json" "$DEMO/work/impstats.copy"
    head -n "$(wc -l <"$DEMO/work/impstats.copy")" "$DEMO/work/impstats.copy" >"$DEMO/work/impstats.report"
    STATS=$DEMO/work/impstats.report
}

report() {
    bold "== what each tenant's central server received"
    local t sent got foreign
    for t in acme globex; do
        sent=$(grep -c "^$t " "$DEMO/work/sent" || true)
        got=$(received "$t" | jq -r '.msg' | grep -o 'seq=[0-9]*-[0-9]*' | sort -u | wc -l)
        foreign=$(received "$t" | jq -r "select(.ctx.vm.tenant != \"$t\") | .msg" | wc -l)
        say "   tenant $t: sent $sent, received $got, foreign messages: $foreign"
    done
    bold "== one message from each kind of guest, as its tenant received it (host, app and msg parsed)"
    local i kind seen=" " name
    for i in $(seq 1 "$nvms"); do
        kind=$(vm_kind "$i")
        case "$seen" in *" $kind "*) continue ;; esac
        seen+="$kind "
        name=$(vm_name "$i")
        say "   $name ($(kind_text "$kind"))"
        received "$(tenant_of "$i")" | jq -c --arg n "$name" 'select(.ctx.vm.name == $n)' | sed -n 1p |
            jq -r '"      host=\(.host) app=\(.app) severity=\(.severity) msg=\(.msg | tojson)"'
    done
    bold "== one message at tenant acme's server (identity, host and compute-manager context)"
    received acme | jq -c 'select(.severity == "err")' | sed -n 1p | jq $JQC '{msg, severity, vm: .ctx.vm, host: .ctx.host, cm: .ctx.cm}'
    bold "== one message with a secret, as tenant globex received it (redacted before it left the host)"
    received globex | jq -c 'select(.msg | test("REDACTED|\\[H:"))' | sed -n 1p | jq $JQC '{msg, vm: .ctx.vm.name, tenant: .ctx.vm.tenant, cm: .ctx.cm}'
    bold "== redactions by rule (impstats omtenant(tenants)-redaction)"
    { grep -F '"name": "omtenant(tenants)-redaction"' "$STATS" || true; } | tail -1 | sed 's/^[^{]*//' |
        jq -r 'to_entries[] | select(.value | type == "number" and . > 0) | "   \(.key): \(.value)"'
    bold "== bytes per tenant before and after compression"
    local raw comp nb
    for t in acme globex; do
        raw=$(stat "omtenant(tenants:$t)" bytes.raw) comp=$(stat "omtenant(tenants:$t)" bytes.compressed)
        nb=$(stat "omtenant(tenants:$t)" batches)
        nb="$nb batch$([ "$nb" = 1 ] || echo es)"
        if [ "$raw" = "$comp" ]; then say "   $t: $raw bytes in $nb, sent uncompressed (syslog-tls to a standard RFC 5425 receiver)"
        else say "   $t: $raw -> $comp bytes in $nb"; fi
    done
    bold "== compute-manager requests"
    $PY "$top/tests/lib/cmserver.py" counts "$CM" --cafile "$DEMO/pki/ca.pem" | jq -r '"   total \(.total): \(.routes | to_entries | map("\(.key) \(.value)") | join(", "))"'
    bold "== imctxcap counters"
    say "   packets $(stat 'imctxcap(vms)' packets.seen), messages $(stat 'imctxcap(vms)' msgs.submitted), vNICs $(stat 'imctxcap(vms)' interfaces.attached), kernel drops $(stat 'imctxcap(vms)' kernel.drops)"
    say "   TCP: segments $(stat 'imctxcap(vms)' tcp.segments), connections $(stat 'imctxcap(vms)' tcp.flows.opened)"
    bold "== files in $DEMO"
    say "   log/vms.json                  the host's local copy (unredacted, with \$!ctx)"
    say "   tenants/acme/received.jsonl   what tenant acme's server received"
    say "   tenants/globex/messages.log   what tenant globex's server received"
    say "   log/impstats.json             the modules' counters, every second"
}

keep_running() {
    local i cg cgs=""
    {
        echo "kill \$(cat $(printf %q "$DEMO/rsyslogd.pid")) ${PIDS[*]} 2>/dev/null || true"
        for i in $(seq 1 "$nvms"); do
            # what runs in the VM (its busy process, its syslog daemon) ends with it
            echo "ip netns pids $(ctx_vm_ns "demo$i") 2>/dev/null | xargs -r kill -9 2>/dev/null || true"
            echo "ip netns del $(ctx_vm_ns "demo$i") 2>/dev/null || true"
            echo "ip link del $(ctx_vm_vnic $((10 + i))) 2>/dev/null || true"
            cg=$(cat "$DEMO/work/cg.$i")
            cgs+=" $cg"
            case "$cg" in /sys/fs/cgroup/cpuacct/*) cgs+=" /sys/fs/cgroup/memory/${cg#/sys/fs/cgroup/cpuacct/}" ;; esac
        done
        # a cgroup goes once its killed processes are gone
        echo "for c in$cgs; do"
        echo "    for _ in \$(seq 1 40); do [ -d \"\$c\" ] || break; rmdir \"\$c\" 2>/dev/null && break; sleep 0.05; done"
        echo "done"
        echo "rm -f $(printf %q "$DEMO/stop.sh"); echo 'demo stopped'"
    } >"$DEMO/stop.sh"
    trap - EXIT
    bold "== the datacenter keeps running (--keep)"
    say "   watch:      tail -f $DEMO/log/vms.json | jq ."
    say "   send more:  ip netns exec $(ctx_vm_ns demo1) logger --udp -n $(ctx_vm_host_ip4 11) -P 514 hello"
    if [ "$DEMO" = /tmp/ctxlog-demo ]; then say "   stop:       $0 --stop"
    else say "   stop:       CTXLOG_DEMO_DIR=$DEMO $0 --stop"; fi
}

$PY "$top/tests/lib/cmserver.py" mkca "$DEMO/pki" >/dev/null
make_vms
bold "== guests with their own syslog daemons, forwarding over TCP"
start_tcp_sink
start_guest_daemons
write_profiles
bold "== the compute manager and the tenants' central servers"
start_compute_manager
start_tenant_servers
configure_host
bold "== starting the host's rsyslogd ($RSYSLOGD) with imctxcap, mmctxenrich, omtenant"
"$RSYSLOGD" -n -f "$DEMO/etc/rsyslog.conf" -i "$DEMO/rsyslogd.pid" >"$DEMO/log/rsyslogd.stderr" 2>&1 &
for _ in $(seq 1 200); do [ "$(stat 'imctxcap(vms)' interfaces.attached)" = "$nvms" ] && break; sleep 0.05; done
say "   attached vNICs: $(stat 'imctxcap(vms)' interfaces.attached)"
send_traffic
wait_delivery
report
[ "$keep" = 1 ] && keep_running
exit 0
