#!/bin/bash
# imctxcap over TCP with real senders in VM namespaces, each to a TCP listener on
# the host side (a TCP sender needs a peer that completes the handshake):
#   VM a: util-linux logger --tcp --octet-count (RFC 5424), IPv4 and IPv6, port 514
#   VM b: util-linux logger --tcp (LF framing, RFC 3164), port 601
#   VM c: a guest rsyslogd forwarding with `@@host` (LF) and with omfwd
#         TCP_Framing="octet-counted", over two long-lived connections
#   VM d: a guest syslog-ng with network(transport(tcp)) (LF) and
#         syslog(transport(tcp)) (octet counting)  [skipped if syslog-ng is unavailable]
# Two capture workers (PACKET_FANOUT keeps each flow on one worker's reassembler).
# Every message arrives exactly once, parsed, with its VM's profile and
# capture.proto=tcp; the TCP counters (summed over the workers) agree.
. "$top_srcdir/tests/lib/harness.sh"
ctx_init "imctxcap_tcp_senders${CTX_SUFFIX:-}"
N=${CTX_N:-20}
ctx_vm_add tcpa 210 || ctx_fail "VM a"
ctx_vm_add tcpb 211 || ctx_fail "VM b"
ctx_vm_add tcpc 212 || ctx_fail "VM c"
ctx_vm_add tcpd 213 || ctx_fail "VM d"
cat >"$CTX_WORK/profiles.json" <<JSON
{"vms": [
  {"name": "tcp-a", "tenant": "acme", "vnic": "$(ctx_vm_vnic 210)"},
  {"name": "tcp-b", "tenant": "globex", "mac": "$(ctx_vm_mac 211)"},
  {"name": "tcp-c", "tenant": "acme", "ipv4": "$(ctx_vm_ip4 212)"},
  {"name": "tcp-d", "tenant": "initech", "vnic": "$(ctx_vm_vnic 213)"}
]}
JSON
ctx_cap_conf tcp profiles=@WORK@/profiles.json workers=2 \
    interface="$(ctx_vm_vnic 210),$(ctx_vm_vnic 211),$(ctx_vm_vnic 212),$(ctx_vm_vnic 213)"

# the TCP peers: accept, read, discard
cat >"$CTX_WORK/sink.py" <<'PY'
import selectors, socket, sys
sel = selectors.DefaultSelector()
for spec in sys.argv[2:]:
    host, port = spec.rsplit(":", 1)
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((host, int(port)))
    s.listen(1024)
    s.setblocking(False)
    sel.register(s, selectors.EVENT_READ, None)
open(sys.argv[1], "w").close()
while True:
    for key, _ in sel.select():
        if key.data is None:
            c, _ = key.fileobj.accept()
            c.setblocking(False)
            sel.register(c, selectors.EVENT_READ, "c")
            continue
        try:
            d = key.fileobj.recv(65536)
        except OSError:
            d = b""
        if not d:
            sel.unregister(key.fileobj)
            key.fileobj.close()
PY
/usr/bin/python3 "$CTX_WORK/sink.py" "$CTX_WORK/sink.ready" \
    "$(ctx_vm_host_ip4 210):514" "$(ctx_vm_host_ip6 210):514" "$(ctx_vm_host_ip4 211):601" \
    "$(ctx_vm_host_ip4 212):514" "$(ctx_vm_host_ip4 212):601" "$(ctx_vm_host_ip4 213):514" \
    "$(ctx_vm_host_ip4 213):601" >"$CTX_WORK/sink.log" 2>&1 &
ctx_on_exit "kill $!"
ctx_wait_for "TCP sink" 10 "[ -e '$CTX_WORK/sink.ready' ]"

ctx_start
ctx_wait_stat "imctxcap(tcp)" interfaces.attached 4

exp="$CTX_WORK/expect"
: >"$exp"
octet=0 lf=0 conns=0
common() { echo "input=imctxcap vm.name=$1 vm.tenant=$2 vm.vnic=$(ctx_vm_vnic "$3") capture.proto=tcp capture.dport=$4"; }
# relay VM IDX PORT APP FACILITY.SEVERITY SEQ DPORT NAME TENANT [KEY=VALUE]: one message to the
# guest's local relay (127.0.0.1:PORT/udp), which forwards it to DPORT; its expected line
relay() {
    ctx_vm_exec "$1" logger --udp --rfc3164 -n 127.0.0.1 -P "$3" -t "$4" -p "$5" "seq=$6"
    echo "seq=seq=$6 app=$4 sev=${5#*.} fromip=$(ctx_vm_ip4 "$2") ${10:+${10} }$(common "$8" "$9" "$2" "$7")" >>"$exp"
}

# VM a: logger, octet counting, IPv4 and IPv6
for i in $(seq 1 "$N"); do
    ctx_vm_exec tcpa logger --tcp --octet-count --rfc5424 -n "$(ctx_vm_host_ip4 210)" -P 514 -t appoc -p user.err "seq=a4-$i"
    ctx_vm_exec tcpa logger --tcp --octet-count --rfc5424 -n "$(ctx_vm_host_ip6 210)" -P 514 -t appoc6 -p local0.info "seq=a6-$i"
    echo "seq=seq=a4-$i app=appoc sev=err fromip=$(ctx_vm_ip4 210) capture.ipv=4 vm.match=vnic $(common tcp-a acme 210 514)" >>"$exp"
    echo "seq=seq=a6-$i app=appoc6 sev=info fromip=$(ctx_vm_ip6 210) capture.ipv=6 $(common tcp-a acme 210 514)" >>"$exp"
done
octet=$((octet + 2 * N)) conns=$((conns + 2 * N))
# VM b: logger, LF framing
for i in $(seq 1 "$N"); do
    ctx_vm_exec tcpb logger --tcp --rfc3164 -n "$(ctx_vm_host_ip4 211)" -P 601 -t applf -p daemon.warning "seq=b-$i"
    echo "seq=seq=b-$i app=applf sev=warning fromip=$(ctx_vm_ip4 211) vm.match=mac $(common tcp-b globex 211 601)" >>"$exp"
done
lf=$((lf + N)) conns=$((conns + N))

# VM c: a guest rsyslogd, @@ (LF) and octet-counted, each one long-lived connection
ctx_vm_rsyslogd tcpc <<GCONF
if \$programname == "guestlf" then @@$(ctx_vm_host_ip4 212):514
if \$programname == "guestoc" then action(type="omfwd" target="$(ctx_vm_host_ip4 212)" port="601" protocol="tcp"
                                          TCP_Framing="octet-counted")
GCONF
for i in $(seq 1 "$N"); do
    relay tcpc 212 5140 guestlf user.notice "c-lf-$i" 514 tcp-c acme vm.match=ip
    relay tcpc 212 5140 guestoc user.crit "c-oc-$i" 601 tcp-c acme
done
lf=$((lf + N)) octet=$((octet + N)) conns=$((conns + 2))

# VM d: a guest syslog-ng (binaries unpacked from syslog-ng-core, see docs/imctxcap.md); a
# machine where it cannot be unpacked fails the test rather than skipping VM d silently
loggen=$("$top_srcdir/bench/lib/get-loggen.sh" 2>"$CTX_WORK/get-loggen.log" | tail -1) ||
    { cat "$CTX_WORK/get-loggen.log"; ctx_fail "syslog-ng could not be unpacked (bench/lib/get-loggen.sh)"; }
sroot="$(dirname "$loggen")/root"
sng="$sroot/usr/sbin/syslog-ng"
[ -x "$sng" ] || ctx_fail "no $sng"
sdir="$CTX_WORK/sng"
mkdir -p "$sdir"
cat >"$sdir/sng.conf" <<SCONF
@version: 3.38
options { keep-hostname(yes); stats-freq(0); };
source s_in { network(ip(127.0.0.1) port(5141) transport(udp)); };
destination d_lf { network("$(ctx_vm_host_ip4 213)" port(514) transport(tcp)); };
destination d_oc { syslog("$(ctx_vm_host_ip4 213)" port(601) transport(tcp)); };
filter f_lf { program("snglf"); };
filter f_oc { program("sngoc"); };
log { source(s_in); filter(f_lf); destination(d_lf); };
log { source(s_in); filter(f_oc); destination(d_oc); };
SCONF
ctx_vm_exec tcpd env LD_LIBRARY_PATH="$sroot/usr/lib/syslog-ng" SYSLOGNG_PREFIX="$sroot/usr" "$sng" -F --no-caps \
    -f "$sdir/sng.conf" -p "$sdir/pid" -c "$sdir/ctl" -R "$sdir/persist" >"$sdir/log" 2>&1 &
ctx_on_exit "kill $!"
ctx_wait_for "guest syslog-ng" 20 "[ -s '$sdir/pid' ]"
for i in $(seq 1 "$N"); do
    relay tcpd 213 5141 snglf mail.err "d-lf-$i" 514 tcp-d initech
    relay tcpd 213 5141 sngoc user.alert "d-oc-$i" 601 tcp-d initech
done
lf=$((lf + N)) octet=$((octet + N)) conns=$((conns + 2))

total=$(wc -l <"$exp")
ctx_wait_lines "$CTX_WORK/out" "$total"
ctx_wait_stat "imctxcap(tcp)" msgs.submitted "$total"
ctx_wait_stat "imctxcap(tcp)" tcp.frames.octet "$octet" # published every 100 ms, in impstats every second
ctx_wait_stat "imctxcap(tcp)" tcp.frames.lf "$lf"
ctx_stop
ctx_check "$CTX_WORK/out" "$exp"
st() { ctx_stat "imctxcap(tcp)" "$1"; }
ctx_assert_stats "imctxcap(tcp)" msgs.submitted="$total" tcp.frames.octet="$octet" tcp.frames.lf="$lf" tcp.gaps=0 \
    tcp.bytes.lost=0 tcp.frames.partial=0 tcp.frames.truncated=0 tcp.framing.errors=0 tcp.flows.pickedup=0 \
    tcp.flows.evicted=0 msgs.unattributed=0 tcp.flows.opened="$conns"
[ "$(st tcp.flows.closed)" -ge $((conns - 4)) ] || ctx_fail "tcp.flows.closed: expected >= $((conns - 4)), got $(st tcp.flows.closed)"
ctx_pass "$total messages over $conns TCP connections ($octet octet-counted, $lf LF), each once, attributed"
