#!/bin/bash
# One VM (flooder, globex) floods out-of-order TCP segments, one-byte ones over 200
# connections and 1000-byte ones over 20, as fast as it can, while another VM on the same input (quiet, acme)
# sends 1,000 sequence-numbered messages at 100/s over one TCP connection, each
# message in two writes (so its connection always holds a half message). TCP memory
# is small (tcp.maxMemory 2m): room must be made all the time.
# The quiet VM loses nothing (each message exactly once, whole, as itself); the
# flood's losses are the flooder's own: its connections are evicted and their held
# bytes dropped (counted), the quiet connection never is. (With the old eviction, the
# least recently active connection anywhere, the quiet one's half messages were cut.)
. "$top_srcdir/tests/lib/harness.sh"
ctx_init "imctxcap_flood${CTX_SUFFIX:-}"
ctx_vm_add quiet 224 || ctx_fail "VM"
ctx_vm_add flooder 225 || ctx_fail "VM"
cat >"$CTX_WORK/profiles.json" <<JSON
{"vms": [{"name": "quiet", "tenant": "acme", "vnic": "$(ctx_vm_vnic 224)"},
         {"name": "flooder", "tenant": "globex", "vnic": "$(ctx_vm_vnic 225)"}]}
JSON
ctx_conf <<CONF
module(load="@MODDIR@/imctxcap/imctxcap.so")
input(type="imctxcap" name="flood" profiles="@WORK@/profiles.json"
      interface="$(ctx_vm_vnic 224),$(ctx_vm_vnic 225)" tcp.maxmemory="2m" tcp.flow.maxmemory="256k")
$CTX_CHECK_TEMPLATE
if \$!ctx!vm!name == "quiet" then action(type="omfile" file="@WORK@/quiet" template="ctxcheck")
else action(type="omfile" file="@WORK@/other" template="ctxcheck")
CONF
H=$(ctx_vm_host_ip4 224)
cat >"$CTX_WORK/quiet.py" <<'PY'
import selectors, socket, sys, time
mode, host = sys.argv[1], sys.argv[2]
if mode == "sink":                      # the quiet VM's log server: reads and forgets
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((host, 514)); s.listen(4); open(sys.argv[3], "w").close()
    c, _ = s.accept()
    while c.recv(65536):
        pass
else:                                   # 1,000 messages at 100/s, each in two writes
    c = socket.create_connection((host, 514))
    c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    t0 = time.monotonic()
    for i in range(1, 1001):
        c.sendall(b"<13>Nov 27 10:00:00 quiet app: seq=q%d first half, " % i)
        time.sleep(0.002)
        c.sendall(b"second half\n")
        time.sleep(max(0, t0 + i / 100 - time.monotonic()))
    c.close()
PY
/usr/bin/python3 "$CTX_WORK/quiet.py" sink "$H" "$CTX_WORK/sink.ready" >"$CTX_WORK/sink.log" 2>&1 &
ctx_on_exit "kill $!"
ctx_wait_for "TCP sink" 10 "[ -e '$CTX_WORK/sink.ready' ]"
ctx_start
ctx_wait_stat "imctxcap(flood)" interfaces.attached 2

# 200 connections of one-byte pieces (the piece limit), 20 of 1000-byte pieces (memory)
fl=(eth0 "$(cat "/sys/class/net/$(ctx_vm_vnic 225)/address")" "$(ctx_vm_ip4 225)" "$(ctx_vm_host_ip4 225)")
ctx_vm_exec flooder /usr/bin/python3 "$top_srcdir/tests/lib/rawtcp.py" flood "${fl[@]}" 200 \
    "$CTX_WORK/quiet.done" 1 20000 >"$CTX_WORK/flood.out" 2>&1 &
fpid=$!
ctx_vm_exec flooder /usr/bin/python3 "$top_srcdir/tests/lib/rawtcp.py" flood "${fl[@]}" 20 \
    "$CTX_WORK/quiet.done" 1000 30000 >"$CTX_WORK/flood2.out" 2>&1 &
fpid2=$!
ctx_wait_stat "imctxcap(flood)" tcp.segments.ooo 20000
ctx_vm_exec quiet /usr/bin/python3 "$CTX_WORK/quiet.py" send "$H" || ctx_fail "quiet sender"
touch "$CTX_WORK/quiet.done"
wait $fpid || ctx_fail "flooder: $(cat "$CTX_WORK/flood.out")"
wait $fpid2 || ctx_fail "flooder: $(cat "$CTX_WORK/flood2.out")"
ctx_wait_lines "$CTX_WORK/quiet" 1000
ctx_stop
ctx_check_seq "$CTX_WORK/quiet" "seq=q" 1 1000
for i in $(seq 1 1000); do echo "seq=seq=q$i vm.tenant=acme vm.match=vnic capture.truncated=- capture.proto=tcp msg=second"; done >"$CTX_WORK/expect"
ctx_check "$CTX_WORK/quiet" "$CTX_WORK/expect"
if grep -q "seq=q" "$CTX_WORK/other" 2>/dev/null; then ctx_fail "a quiet message went out as another VM"; fi
st() { ctx_stat "imctxcap(flood)" "$1"; }
sent=$(($(cat "$CTX_WORK/flood.out") + $(cat "$CTX_WORK/flood2.out"))) ev=$(st tcp.flows.evicted) pl=$(st tcp.gaps.piecelimit)
[ "$ev" -gt 0 ] || ctx_fail "tcp.flows.evicted: expected the flood's connections to be evicted, got $ev"
dr=$(st tcp.bytes.dropped)
[ "$dr" -gt 0 ] || ctx_fail "tcp.bytes.dropped: expected the evicted connections' held bytes, got $dr"
[ "$(st tcp.frames.partial)" = 0 ] || ctx_fail "tcp.frames.partial: $(st tcp.frames.partial) (the quiet VM's?)"
ctx_pass "quiet: 1000 of 1000 whole; flooder: $sent frames, $ev connections evicted ($dr held bytes dropped), $pl holes at the piece limit, kernel drops $(st kernel.drops), over budget $(st packets.overbudget)"
