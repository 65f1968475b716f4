#!/bin/bash
# imctxcap over TCP with crafted segments: a pcap of nine flows is generated and
# replayed frame by frame from inside a VM namespace (AF_PACKET), then every
# message and the TCP counters are checked exactly:
#   f1 in order, frames split across segments (LF)      f2 all segments in reverse order (octet counting)
#   f3 duplicates and overlapping copies with other bytes (first copy wins)
#   f4 a segment never sent: partial message, then resync  f5/f6 flows open before capture (LF / octet)
#   f7 sequence numbers wrapping past 2^32               f8 RST after an unterminated message
#   f9 a frame longer than maxMessageSize (truncated, stream stays in sync)
. "$top_srcdir/tests/lib/harness.sh"
ctx_init "imctxcap_tcp_crafted${CTX_SUFFIX:-}"
export CTX_MAXMSG=300
ctx_vm_add craft 214 || ctx_fail "VM"
cat >"$CTX_WORK/profiles.json" <<JSON
{"vms": [{"name": "crafter", "tenant": "acme", "vnic": "$(ctx_vm_vnic 214)"}]}
JSON
ctx_cap_conf craft profiles=@WORK@/profiles.json interface="$(ctx_vm_vnic 214)"

cat >"$CTX_WORK/craft.py" <<'PY'
"""craft.py gen PCAP EXPECT COUNTERS SRCMAC DSTMAC SRCIP DSTIP   |   craft.py send PCAP IFACE"""
import socket, struct, sys

def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF

def frame(smac, dmac, sip, dip, sport, seq, flags, payload):
    tcp = struct.pack("!HHIIBBHHH", sport, 514 if sport < 40600 else 601, seq & 0xFFFFFFFF, 1, 5 << 4, flags, 29200, 0, 0)
    pseudo = sip + dip + struct.pack("!BBH", 0, 6, len(tcp) + len(payload))
    tcp = tcp[:16] + struct.pack("!H", csum(pseudo + tcp + payload)) + tcp[18:]
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp) + len(payload), 1, 0x4000, 64, 6, 0, sip, dip)
    ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
    return dmac + smac + b"\x08\x00" + ip + tcp + payload

SYN, FIN, RST, PSH, ACK = 0x02, 0x01, 0x04, 0x08, 0x10

def msg(seq, extra=""):
    return ("<13>Nov 27 10:00:00 crafthost tcpcraft: seq=%s %s" % (seq, extra)).rstrip().encode()

def lf(msgs):
    return b"".join(m + b"\n" for m in msgs)

def oc(msgs):
    return b"".join(b"%d %s" % (len(m), m) for m in msgs)

def cut(stream, points):
    """segments (offset, bytes) of stream cut at the given offsets"""
    pts = [0] + points + [len(stream)]
    return [(a, stream[a:b]) for a, b in zip(pts, pts[1:])]

def gen(pcap, expect, counters, smac, dmac, sip, dip):
    pkts, exp = [], []
    c = dict(lf=0, octet=0, dup=0, lost=0, skipped=0, flows=0, pickedup=0, closed=0)

    def flow(sport, isn, segs, syn=True, end=FIN):
        """segs: list of (offset, bytes) in sending order; a SYN first, FIN/RST last"""
        c["flows"] += 1
        c["closed"] += 1
        if syn:
            pkts.append(frame(smac, dmac, sip, dip, sport, isn, SYN, b""))
        top = 0
        for off, data in segs:
            pkts.append(frame(smac, dmac, sip, dip, sport, isn + 1 + off, ACK | PSH, data))
            top = max(top, off + len(data))
        pkts.append(frame(smac, dmac, sip, dip, sport, isn + 1 + top, end | (ACK if end == FIN else 0), b""))

    def want(seq, extra=""):
        exp.append("seq=seq=%s app=tcpcraft sev=notice host=crafthost input=imctxcap capture.proto=tcp "
                   "vm.name=crafter %s" % (seq, extra))

    # f1: in order, LF, frames split across segments
    m = [msg("f1-%d" % i, "first flow " * i) for i in range(1, 6)]
    flow(40101, 1000, cut(lf(m), [7, 57, 60, 160]))
    [want("f1-%d" % i, "capture.truncated=-") for i in range(1, 6)]
    c["lf"] += 5
    # f2: octet counting, segments in reverse order
    m = [msg("f2-%d" % i, "reversed " * i) for i in range(1, 6)]
    flow(40102, 2000, list(reversed(cut(oc(m), [3, 40, 41, 90, 200]))))
    [want("f2-%d" % i) for i in range(1, 6)]
    c["octet"] += 5
    # f3: duplicates, and copies with other bytes: the first copy wins
    s = lf([msg("f3-%d" % i, "dup " * i) for i in range(1, 5)])
    g = cut(s, [30, 80, 120])
    (o1, s1), (o2, s2), (o3, s3), (o4, s4) = g
    x3 = s2 + b"X" * len(s3)                      # covers seg 3 (held first) with other bytes
    flow(40103, 3000, [(o1, s1), (o3, s3), (o2, x3), (o2, s2), (o1, b"Y" * len(s1)), (o4, s4)])
    c["dup"] += len(s3) + len(s2) + len(s1)
    [want("f3-%d" % i) for i in range(1, 5)]
    c["lf"] += 4
    # f4: a segment never sent, in the middle of message 2
    m = [msg("f4-%d" % i, "gap " * (3 * i)) for i in range(1, 5)]
    s = lf(m)
    g0 = len(m[0]) + 1 + len(msg("f4-2")) + 2     # just past message 2's marker
    g1 = g0 + 10
    flow(40104, 4000, [(0, s[:g0]), (g1, s[g1:])])
    c["lost"] += 10
    c["skipped"] += len(m[0]) + 1 + len(m[1]) + 1 - g1
    want("f4-1")
    want("f4-2", "capture.truncated=true")
    want("f4-3")
    want("f4-4")
    c["lf"] += 4
    # f5: open before the capture (no SYN), LF, starts inside an older message
    tail = b"ail of an older message\n"
    m = [msg("f5-%d" % i) for i in range(1, 4)]
    s = tail + lf(m)
    flow(40105, 5000, cut(s, [40]), syn=False)
    c["skipped"] += len(tail)
    c["pickedup"] += 1
    [want("f5-%d" % i) for i in range(1, 4)]
    c["lf"] += 3
    # f6: open before the capture, octet counting; the older message ends in a digit
    tail = b"older message, id=4"
    m = [msg("f6-%d" % i, "oc" * i) for i in range(1, 5)]
    s = tail + oc(m)
    flow(40106, 6000, cut(s, [len(tail) + len(oc(m[:3]))]), syn=False)
    c["skipped"] += len(tail)
    c["pickedup"] += 1
    [want("f6-%d" % i) for i in range(1, 5)]
    c["octet"] += 4
    # f7: sequence numbers wrap past 2^32
    s = lf([msg("f7-%d" % i, "wrap") for i in range(1, 5)])
    flow(40107, 0xFFFFFF80, cut(s, list(range(50, len(s), 50))))
    [want("f7-%d" % i) for i in range(1, 5)]
    c["lf"] += 4
    # f8: RST after an unterminated message: it is a message (as imtcp does at close)
    s = lf([msg("f8-1")]) + msg("f8-2", "unterminated")
    flow(40108, 8000, cut(s, [20]), end=RST)
    want("f8-1")
    want("f8-2", "capture.truncated=- msg=unterminated")
    c["lf"] += 2
    # f9: octet counting, a frame longer than maxMessageSize (300)
    m = [msg("f9-1", "long " * 120), msg("f9-2"), msg("f9-3")]
    flow(40609, 9000, cut(oc(m), [100, 500]))
    want("f9-1", "capture.truncated=true capture.dport=601")
    want("f9-2", "capture.truncated=- capture.dport=601")
    want("f9-3", "capture.dport=601")
    c["octet"] += 3

    with open(pcap, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for i, p in enumerate(pkts):
            f.write(struct.pack("<IIII", 1700000000 + i // 1000, i % 1000, len(p), len(p)) + p)
    open(expect, "w").write("\n".join(exp) + "\n")
    open(counters, "w").write("".join("%s=%d\n" % kv for kv in c.items()))

def send(pcap, iface):
    data = open(pcap, "rb").read()
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((iface, 0))
    pos = 24
    while pos < len(data):
        _, _, incl, _ = struct.unpack("<IIII", data[pos:pos + 16])
        s.send(data[pos + 16:pos + 16 + incl])
        pos += 16 + incl

if sys.argv[1] == "gen":
    mac = lambda t: bytes(int(x, 16) for x in t.split(":"))
    gen(sys.argv[2], sys.argv[3], sys.argv[4], mac(sys.argv[5]), mac(sys.argv[6]),
        socket.inet_aton(sys.argv[7]), socket.inet_aton(sys.argv[8]))
else:
    send(sys.argv[2], sys.argv[3])
PY
vnic=$(ctx_vm_vnic 214)
/usr/bin/python3 "$CTX_WORK/craft.py" gen "$CTX_WORK/crafted.pcap" "$CTX_WORK/expect" "$CTX_WORK/counters" \
    "$(ctx_vm_mac 214)" "$(cat "/sys/class/net/$vnic/address")" "$(ctx_vm_ip4 214)" "$(ctx_vm_dead_ip4 214)" ||
    ctx_fail "generating the pcap"
. "$CTX_WORK/counters"

ctx_start
ctx_wait_stat "imctxcap(craft)" interfaces.attached 1
ctx_vm_exec craft /usr/bin/python3 "$CTX_WORK/craft.py" send "$CTX_WORK/crafted.pcap" eth0 || ctx_fail "replaying"
total=$(wc -l <"$CTX_WORK/expect")
ctx_wait_lines "$CTX_WORK/out" "$total" # f4 completes after the gap timeout (1 s)
ctx_wait_stat "imctxcap(craft)" tcp.flows.closed "$closed"
ctx_stop
ctx_check "$CTX_WORK/out" "$CTX_WORK/expect"
ctx_assert_stats "imctxcap(craft)" tcp.frames.lf="$lf" tcp.frames.octet="$octet" tcp.flows.opened="$flows" \
    tcp.flows.pickedup="$pickedup" tcp.flows.closed="$closed" tcp.bytes.dup="$dup" tcp.bytes.lost="$lost" \
    tcp.bytes.skipped="$skipped" tcp.gaps=1 tcp.frames.partial=1 tcp.frames.truncated=1 msgs.truncated=2 \
    tcp.framing.errors=0 msgs.submitted="$total"
# f9-1 is cut at maxMessageSize: exactly 300 bytes of frame reached rsyslog
grep "seq=f9-1 " "$CTX_WORK/out" | grep -q "long long" || ctx_fail "f9-1 lost its text"
ctx_pass "$total messages from $flows crafted flows, each exactly as expected"
