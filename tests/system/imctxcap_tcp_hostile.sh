#!/bin/bash
# imctxcap over TCP against hostile streams, with small bounds (tcp.maxmemory 2m):
#   real TCP connections from a VM namespace carrying octet counts that are huge
#   (20 digits), overflowing (2^32), not digits, an endless digit run (1 MB), and a
#   frame that never ends (2 MB without LF); each followed by good messages;
#   then a SYN flood of 10,000 half-open flows and 10,000 flows holding a partial
#   frame (raw frames to an address nobody owns), while a legitimate long-lived
#   connection keeps sending.
# rsyslogd survives, every good message arrives exactly once, the bad headers are
# counted as framing errors, the never-ending frame arrives once truncated, memory
# stays within tcp.maxmemory and the flood is evicted (counted).
. "$top_srcdir/tests/lib/harness.sh"
ctx_init "imctxcap_tcp_hostile${CTX_SUFFIX:-}"
ctx_vm_add hostile 215 || ctx_fail "VM"
vnic=$(ctx_vm_vnic 215)
cat >"$CTX_WORK/profiles.json" <<JSON
{"vms": [{"name": "mallory", "tenant": "acme", "vnic": "$vnic"}]}
JSON
# the per-vNIC budget off: this test is about the TCP tables' bounds, which its 20,000-flow
# bursts are to reach (the budget's own tests: imctxcap_flood*.sh)
ctx_cap_conf hostile profiles=@WORK@/profiles.json interface="$vnic" \
    tcp.maxmemory=2m tcp.flow.maxmemory=256k tcp.maxflows=20000 vm.maxPacketsPerSecond=0

cat >"$CTX_WORK/hostile.py" <<'PY'
"""hostile.py sink READY ADDR PORT | streams HOST PORT EXPECT | legit HOST PORT FIRST LAST | flood IFACE SMAC DMAC SRC DST"""
import selectors, socket, struct, sys, time

def msg(seq):
    return b"<13>Nov 27 10:00:00 mallory hostile: seq=%s" % seq.encode()

def oc(*seqs):
    return b"".join(b"%d %s" % (len(msg(s)), msg(s)) for s in seqs)

def sink(ready, host, port):
    sel = selectors.DefaultSelector()
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((host, int(port)))
    s.listen(64)
    sel.register(s, selectors.EVENT_READ, None)
    open(ready, "w").close()
    while True:
        for key, _ in sel.select():
            if key.data is None:
                c, _ = s.accept()
                sel.register(c, selectors.EVENT_READ, "c")
                continue
            d = key.fileobj.recv(1 << 20)
            if not d:
                sel.unregister(key.fileobj)
                key.fileobj.close()

def streams(host, port, expect):
    bad = [
        ("a", b"99999999999999999999 <13>garbage "),        # 20 digits
        ("b", b"4294967296 <13>x"),                          # 2^32
        ("c", b"12a4 <13>x"),                                # not a digit
        ("d", b"7" * 1000000 + b" <13>junk"),                # endless digit run
    ]
    exp = []
    for name, junk in bad:
        seqs = ["h-%s%d" % (name, i) for i in range(1, 4)]
        c = socket.create_connection((host, int(port)))
        c.sendall(junk + oc(*seqs))
        c.close()
        exp += ["seq=seq=%s app=hostile capture.truncated=-" % s for s in seqs]
    c = socket.create_connection((host, int(port)))            # never-ending frame, then a good one
    c.sendall(msg("h-e0") + b" " + b"x" * 2000000 + b"\n" + msg("h-e1") + b"\n")
    c.close()
    exp += ["seq=seq=h-e0 app=hostile capture.truncated=true", "seq=seq=h-e1 app=hostile capture.truncated=-"]
    open(expect, "a").write("\n".join(exp) + "\n")

def legit(host, port, first, last, expect):
    c = socket.create_connection((host, int(port)))
    for i in range(int(first), int(last) + 1):
        c.sendall(msg("l-%d" % i) + b"\n")
        time.sleep(0.01)
    open(expect, "a").write("".join("seq=seq=l-%d app=hostile\n" % i for i in range(int(first), int(last) + 1)))
    return c

def flood(iface, smac, dmac, src, dst):
    mac = lambda t: bytes(int(x, 16) for x in t.split(":"))
    smac, dmac, src, dst = mac(smac), mac(dmac), socket.inet_aton(src), socket.inet_aton(dst)
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((iface, 0))
    def seg(sport, seq, flags, payload=b""):
        tcp = struct.pack("!HHIIBBHHH", sport, 514, seq, 0, 5 << 4, flags, 1024, 0, 0)
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 40 + len(payload), 0, 0, 64, 6, 0, src, dst)
        return dmac + smac + b"\x08\x00" + ip + tcp + payload
    for i in range(10000):                                    # SYN flood: half-open flows
        s.send(seg(10000 + i, 1000 * i, 0x02))
    part = b"<13>Nov 27 10:00:00 mallory hostile: seq=pf partial frame without end " + b"p" * 60
    for i in range(10000):                                    # flows holding a partial frame
        s.send(seg(30000 + i, 5000 * i, 0x02))
        s.send(seg(30000 + i, 5000 * i + 1, 0x18, part))

cmd = sys.argv[1]
if cmd == "sink":
    sink(*sys.argv[2:])
elif cmd == "streams":
    streams(*sys.argv[2:])
elif cmd == "flood":
    flood(*sys.argv[2:])
PY
H=$(ctx_vm_host_ip4 215)
/usr/bin/python3 "$CTX_WORK/hostile.py" sink "$CTX_WORK/sink.ready" "$H" 514 >"$CTX_WORK/sink.log" 2>&1 &
ctx_on_exit "kill $!"
ctx_wait_for "TCP sink" 10 "[ -e '$CTX_WORK/sink.ready' ]"
ctx_start
ctx_wait_stat "imctxcap(hostile)" interfaces.attached 1

exp="$CTX_WORK/expect"
: >"$exp"
ctx_vm_exec hostile /usr/bin/python3 "$CTX_WORK/hostile.py" streams "$H" 514 "$exp" || ctx_fail "hostile streams"
# a legitimate connection sends before, during and after the floods
cat >"$CTX_WORK/legit.py" <<PY
import importlib.util, sys, time
spec = importlib.util.spec_from_file_location("h", "$CTX_WORK/hostile.py")
sys.argv = ["x", "none"]
h = importlib.util.module_from_spec(spec); spec.loader.exec_module(h)
c = h.legit("$H", 514, 1, 20, "$exp")
open("$CTX_WORK/legit.phase1", "w").close()
while not __import__("os").path.exists("$CTX_WORK/flood.done"):
    time.sleep(0.05)
h.legit_c = c
for i in range(21, 41):
    c.sendall(h.msg("l-%d" % i) + b"\n")
open("$exp", "a").write("".join("seq=seq=l-%d app=hostile\n" % i for i in range(21, 41)))
c.close()
PY
ctx_vm_exec hostile /usr/bin/python3 "$CTX_WORK/legit.py" >"$CTX_WORK/legit.log" 2>&1 &
lpid=$!
ctx_wait_for "legit phase 1" 20 "[ -e '$CTX_WORK/legit.phase1' ]"
ctx_vm_exec hostile /usr/bin/python3 "$CTX_WORK/hostile.py" flood eth0 "$(ctx_vm_mac 215)" \
    "$(cat "/sys/class/net/$vnic/address")" "$(ctx_vm_ip4 215)" "$(ctx_vm_dead_ip4 215)" || ctx_fail "flood"
ctx_wait_stat "imctxcap(hostile)" tcp.segments 30000
touch "$CTX_WORK/flood.done"
wait $lpid || ctx_fail "legit sender: $(cat "$CTX_WORK/legit.log")"

total=$(wc -l <"$exp")
ctx_wait_lines "$CTX_WORK/out" "$total"
ctx_wait_stat "imctxcap(hostile)" tcp.framing.errors 4
ctx_stop
st() { ctx_stat "imctxcap(hostile)" "$1"; }
# evicted flows' partial frames are emitted, flagged (tcp.gap="truncate"): one per partial-frame flow evicted
partial=$(st tcp.frames.partial)
[ "$partial" -ge 1000 ] || ctx_fail "tcp.frames.partial: expected >= 1000 evicted partial frames, got $partial"
echo "seq=seq=pf count=$partial capture.truncated=true app=hostile" >>"$exp"
total=$((total + partial))
ctx_check "$CTX_WORK/out" "$exp"
ctx_assert_eq "tcp.framing.errors" 4 "$(st tcp.framing.errors)"
ctx_assert_eq "tcp.frames.truncated" 1 "$(st tcp.frames.truncated)"
ctx_assert_eq "msgs.submitted" "$total" "$(st msgs.submitted)"
ev=$(st tcp.flows.evicted) mem=$(st tcp.memory) flows=$(st tcp.flows.tracked)
[ "$ev" -ge 10000 ] || ctx_fail "tcp.flows.evicted: expected >= 10000 (20,000 flood flows, 2m of memory), got $ev"
[ "$mem" -le 2097152 ] || ctx_fail "tcp.memory: $mem is over tcp.maxmemory (2097152)"
[ "$(st tcp.bytes.skipped)" -ge 1000000 ] || ctx_fail "tcp.bytes.skipped: the 1 MB digit run was not counted"
grep "seq=h-e0 " "$CTX_WORK/out" | grep -q " xxxxxxxx" || ctx_fail "h-e0 lost its beginning"
ctx_pass "$total good messages once; 4 framing errors; $ev flows evicted; memory $mem <= 2m; $flows flows tracked"
