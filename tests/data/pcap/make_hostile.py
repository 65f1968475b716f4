#!/usr/bin/python3
"""Writes the hostile pcaps replayed by the decoder unit tests, with their .expect
files, and the seed inputs of the two fuzzers. Deterministic: run it again after
changing it and commit what it writes.

  tests/data/pcap/hostile_decode.pcap / .expect   replayed by tests/unit/test_pktdecode.c
  tests/data/pcap/hostile_frag.pcap / .expect     replayed by tests/unit/test_ipfrag.c
  tests/fuzz/corpus/pktdecode/seed-*              raw frames
  tests/fuzz/corpus/ipfrag/seed-*                 fragment records (format in tests/fuzz/fuzz_ipfrag.c)

.expect: one line per packet, '#' lines are comments.
  decode: RESULT PAYLOAD_LEN            (PAYLOAD_LEN '-' when not checked)
  frag:   DECODE_RESULT IPFRAG_RESULT PAYLOAD_LEN
"""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.normpath(os.path.join(HERE, "..", "..", ".."))

MACS = bytes([2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1])
SRC4, DST4 = bytes([192, 0, 2, 10]), bytes([198, 51, 100, 1])
SRC6 = bytes([0x20, 0x01, 0x0d, 0xb8] + [0] * 11 + [0x10])
DST6 = bytes([0x20, 0x01, 0x0d, 0xb8] + [0] * 11 + [0x01])


def eth(etype, tags=()):
    """tags: (tpid, vid) outer first."""
    out = MACS
    types = [t for t, _ in tags] + [etype]
    out += struct.pack(">H", types[0])
    for i, (_, vid) in enumerate(tags):
        out += struct.pack(">HH", vid, types[i + 1])
    return out


def csum(b):
    s = sum(struct.unpack(">%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def ip4(proto, payload, ident=0x1234, frag=0, opts=b"", total=None, ihl=None, ver=4):
    hl = 20 + len(opts)
    ihl = hl // 4 if ihl is None else ihl
    total = hl + len(payload) if total is None else total
    h = struct.pack(">BBHHHBBH4s4s", ver << 4 | ihl, 0, total, ident, frag, 64, proto, 0, SRC4, DST4) + opts
    h = h[:10] + struct.pack(">H", csum(h)) + h[12:]
    return h + payload


def ip6(nh, payload, plen=None):
    plen = len(payload) if plen is None else plen
    return struct.pack(">IHBB16s16s", 0x60000000, plen, nh, 64, SRC6, DST6) + payload


def ext6(nh, units=0):
    return bytes([nh, units]) + bytes((units + 1) * 8 - 2)


def frag6(nh, offset, more, ident):
    return struct.pack(">BBHI", nh, 0, offset | (1 if more else 0), ident)


def udp(payload, sport=40000, dport=514, length=None):
    length = 8 + len(payload) if length is None else length
    return struct.pack(">HHHH", sport, dport, length, 0) + payload


def tcp(payload, doff=5, flags=0x18):
    return struct.pack(">HHIIBBHHH", 50000, 6514, 1, 2, doff << 4, flags, 29200, 0, 0) + bytes((doff - 5) * 4 if doff > 5 else 0) + payload


def write_pcap(path, packets):
    """packets: (frame, wirelen or None); timestamps 1 ms apart."""
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for i, (frame, wire) in enumerate(packets):
            wire = len(frame) if wire is None else wire
            f.write(struct.pack("<IIII", 1700000000, i * 1000, len(frame), wire))
            f.write(frame)


def decode_cases():
    msg = b"<13>Nov 27 06:13:44 vm1 app: hostile"
    v4 = lambda p, **kw: eth(0x0800) + ip4(17, udp(p), **kw)
    cases = [
        ("valid IPv4/UDP", eth(0x0800) + ip4(17, udp(msg)), None, "OK", len(msg)),
        ("valid IPv6/UDP", eth(0x86DD) + ip6(17, udp(msg)), None, "OK", len(msg)),
        ("valid QinQ IPv4/UDP", eth(0x0800, [(0x88A8, 200), (0x8100, 100)]) + ip4(17, udp(msg)), None, "OK", len(msg)),
        ("three VLAN tags", eth(0x0800, [(0x88A8, 1), (0x8100, 2), (0x8100, 3)]) + ip4(17, udp(msg)), None, "EVLAN", "-"),
        ("VLAN tag cut off", eth(0x0800, [(0x8100, 1)])[:16], None, "ETRUNC", "-"),
        ("ARP", eth(0x0806) + bytes(28), None, "EETHERTYPE", "-"),
        ("runt frame", MACS[:10], None, "ETRUNC", "-"),
        ("Ethernet header only", eth(0x0800), None, "ETRUNC", "-"),
        ("IHL 0", v4(msg, ihl=0), None, "EIPHDRLEN", "-"),
        ("IHL 60 beyond total 31", v4(b"abc", ihl=15), None, "EIPHDRLEN", "-"),
        ("IP total 65535 in a 60-byte frame", (v4(b"x" * 10, total=65535) + bytes(60))[:60], None, "EIPLEN", "-"),
        ("same, cut by snaplen 60: payload truncated",
         eth(0x0800) + ip4(17, udp(b"y" * 18, length=65515), total=65535), 65535 + 14, "OK", 18),
        ("IPv4 version 6 under ethertype 0x0800", v4(msg, ver=6), None, "EIPVER", "-"),
        ("option length 0", v4(msg, opts=bytes([1, 1, 148, 0])), None, "EIPOPT", "-"),
        ("option running past the header", v4(msg, opts=bytes([1, 148, 40, 0])), None, "EIPOPT", "-"),
        ("UDP length 0", eth(0x0800) + ip4(17, udp(msg, length=0)), None, "EUDPLEN", "-"),
        ("UDP length 65535", eth(0x0800) + ip4(17, udp(msg, length=65535)), None, "EUDPLEN", "-"),
        ("UDP header cut by snaplen", (eth(0x0800) + ip4(17, udp(msg)))[:38], 14 + 28 + len(msg), "ETRUNC", "-"),
        ("TCP data offset 0", eth(0x0800) + ip4(6, tcp(b"hi", doff=0)), None, "ETCPHDR", "-"),
        ("TCP data offset 60 in a 22-byte segment", eth(0x0800) + ip4(6, tcp(b"hi", doff=15)[:22]), None, "ETCPHDR", "-"),
        ("IPv6 chain of 9 destination options",
         eth(0x86DD) + ip6(60, b"".join(ext6(60) for _ in range(8)) + ext6(17) + udp(msg)), None, "EEXTCHAIN", "-"),
        ("IPv6 hop-by-hop after destination options",
         eth(0x86DD) + ip6(60, ext6(0) + ext6(17) + udp(msg)), None, "EEXTHDR", "-"),
        ("IPv6 extension header length 255", eth(0x86DD) + ip6(60, ext6(17)[:1] + b"\xff" + bytes(6) + udp(msg)),
         None, "EEXTHDR", "-"),
        ("IPv6 payload length 65535 in a short frame", eth(0x86DD) + ip6(17, udp(msg), plen=65535), None, "EIPLEN", "-"),
        ("IPv6 atomic fragment", eth(0x86DD) + ip6(44, frag6(17, 0, False, 7) + udp(msg)), None, "OK", len(msg)),
        ("IPv6 fragment of ICMPv6", eth(0x86DD) + ip6(44, frag6(58, 8, True, 7) + bytes(16)), None, "ENOTL4", "-"),
        ("ping of death: fragment ending past 65535", eth(0x0800) + ip4(17, bytes(16), frag=8189), None, "EFRAG", "-"),
        ("fragment with MF and 15 bytes", eth(0x0800) + ip4(17, bytes(15), frag=0x2001), None, "EFRAG", "-"),
        ("ICMP", eth(0x0800) + ip4(1, bytes(8)), None, "ENOTL4", "-"),
        ("plain fragment", eth(0x0800) + ip4(17, bytes(16), frag=0x2000), None, "FRAGMENT", "-"),
    ]
    return cases


def frag_cases():
    """Sequences of fragments through decoder + ipfrag (new(1 MiB, 64, 30000 ms), scope 0)."""
    body = udp(b"<13>reassembled message, forty bytes!!!!")  # 48 bytes of UDP
    assert len(body) == 48
    f4 = lambda data, off, more, ident, proto=17: eth(0x0800) + ip4(proto, data, ident=ident,
                                                                   frag=(0x2000 if more else 0) | off // 8)
    f6 = lambda data, off, more, ident, nh=17: eth(0x86DD) + ip6(44, frag6(nh, off, more, ident) + data)
    c = []
    c.append(("# v4, three fragments in reverse order",))
    c += [(f4(body[32:], 32, False, 1), None, "FRAGMENT", "QUEUED", "-"),
          (f4(body[16:32], 16, True, 1), None, "FRAGMENT", "QUEUED", "-"),
          (f4(body[:16], 0, True, 1), None, "FRAGMENT", "COMPLETE", 40)]
    c.append(("# v4, exact duplicate ignored",))
    c += [(f4(body[:24], 0, True, 2), None, "FRAGMENT", "QUEUED", "-"),
          (f4(body[:24], 0, True, 2), None, "FRAGMENT", "QUEUED", "-"),
          (f4(body[24:], 24, False, 2), None, "FRAGMENT", "COMPLETE", 40)]
    c.append(("# teardrop: second fragment overlaps the first; the datagram is discarded",))
    c += [(f4(body[:24], 0, True, 3), None, "FRAGMENT", "QUEUED", "-"),
          (f4(body[16:], 16, False, 3), None, "FRAGMENT", "EOVERLAP", "-"),
          (f4(body[24:], 24, False, 3), None, "FRAGMENT", "EDISCARDED", "-")]
    c.append(("# same range, other bytes: not a duplicate, an inconsistent overlap",))
    c += [(f4(body[:24], 0, True, 4), None, "FRAGMENT", "QUEUED", "-"),
          (f4(bytes(24), 0, True, 4), None, "FRAGMENT", "EOVERLAP", "-")]
    c.append(("# two last fragments with different ends",))
    c += [(f4(body[32:], 32, False, 5), None, "FRAGMENT", "QUEUED", "-"),
          (f4(body[24:], 24, False, 5), None, "FRAGMENT", "EOVERLAP", "-")]
    c.append(("# v6, two fragments, destination options after the fragment header",))
    d6 = ext6(17) + body
    c += [(f6(d6[:32], 0, True, 0x10000001, nh=60), None, "FRAGMENT", "QUEUED", "-"),
          (f6(d6[32:], 32, False, 0x10000001, nh=60), None, "FRAGMENT", "COMPLETE", 40)]
    c.append(("# v6 overlap (RFC 5722)",))
    c += [(f6(body[:32], 0, True, 0x10000002), None, "FRAGMENT", "QUEUED", "-"),
          (f6(body[24:], 24, False, 0x10000002), None, "FRAGMENT", "EOVERLAP", "-")]
    c.append(("# reassembled UDP length beyond the datagram",))
    bad = udp(b"x" * 40, length=200)
    c += [(f4(bad[:24], 0, True, 6), None, "FRAGMENT", "QUEUED", "-"),
          (f4(bad[24:], 24, False, 6), None, "FRAGMENT", "EUDPLEN", "-")]
    c.append(("# fragment cut by the snap length",))
    c += [(f4(body[:24], 0, True, 7)[:40], 14 + 20 + 24, "FRAGMENT", "ETRUNC", "-")]
    c.append(("# ping of death never reaches ipfrag",))
    c += [(eth(0x0800) + ip4(17, bytes(16), frag=8189, ident=8), None, "EFRAG", "-", "-")]
    return c


def fuzz_records(recs):
    """recs: (id, more, v6, step, offset, data) -> fuzz_ipfrag input (see its header)."""
    out = b""
    for ident, more, v6, step, off, data in recs:
        n8 = (len(data) + 7) // 8
        short = n8 * 8 - len(data)
        assert 1 <= n8 <= 64 and (short == 0 or not more) and short <= 3
        h0 = ident | (4 if more else 0) | (8 if v6 else 0) | step << 4
        out += struct.pack(">BHB", h0, off // 8, (n8 - 1) | short << 6) + data + bytes(short)
    return out


def main():
    dec = decode_cases()
    write_pcap(os.path.join(HERE, "hostile_decode.pcap"), [(f, w) for _, f, w, _, _ in dec])
    with open(os.path.join(HERE, "hostile_decode.expect"), "w") as f:
        f.write("# written by make_hostile.py: RESULT PAYLOAD_LEN, one line per packet\n")
        for name, _, _, rc, plen in dec:
            f.write("%s %s  %s\n" % (rc, plen, name))
    fr = frag_cases()
    pkts = [x for x in fr if len(x) > 1]
    write_pcap(os.path.join(HERE, "hostile_frag.pcap"), [(f, w) for f, w, _, _, _ in pkts])
    with open(os.path.join(HERE, "hostile_frag.expect"), "w") as f:
        f.write("# written by make_hostile.py: DECODE IPFRAG PAYLOAD_LEN, one line per packet\n")
        for x in fr:
            f.write(x[0] + "\n" if len(x) == 1 else "%s %s %s\n" % (x[2], x[3], x[4]))
    cdir = os.path.join(TOP, "tests", "fuzz", "corpus", "pktdecode")
    os.makedirs(cdir, exist_ok=True)
    for i, (_, frame, _, _, _) in enumerate(dec):
        with open(os.path.join(cdir, "seed-%02d" % i), "wb") as f:
            f.write(frame)
    body = udp(b"<13>fuzz seed message of thirty-two")
    body = body + bytes(-len(body) % 8)
    seeds = {
        "seed-inorder": [(0, True, False, 0, 0, body[:16]), (0, True, False, 1, 16, body[16:32]),
                         (0, False, False, 1, 32, body[32:])],
        "seed-reverse-v6": [(1, False, True, 0, 24, body[24:]), (1, True, True, 1, 0, body[:24])],
        "seed-overlap": [(2, True, False, 0, 0, body[:24]), (2, False, False, 1, 16, body[16:])],
        "seed-dup": [(3, True, False, 0, 0, body[:16]), (3, True, False, 0, 0, body[:16]),
                     (3, False, False, 0, 16, body[16:])],
        "seed-flood": [(i % 4, True, i % 2 == 1, 1, 8 * i, bytes(64 * 8)) for i in range(24)],
        "seed-timeout": [(0, True, False, 0, 0, body[:16]), (0, False, False, 3, 16, body[16:])],
    }
    fdir = os.path.join(TOP, "tests", "fuzz", "corpus", "ipfrag")
    os.makedirs(fdir, exist_ok=True)
    for name, recs in seeds.items():
        with open(os.path.join(fdir, name), "wb") as f:
            f.write(fuzz_records(recs))


if __name__ == "__main__":
    main()
