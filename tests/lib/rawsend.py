#!/usr/bin/python3
"""Send hand-made Ethernet frames from inside a VM namespace (AF_PACKET), for what
util-linux logger cannot produce: VLAN (802.1Q) and QinQ (802.1ad) tags on a kernel
without VLAN devices, IP fragments of a chosen size, and malformed packets.

rawsend.py --iface eth0 --dst-mac MAC --src IP --dst IP [--vlan ID [--vlan ID]]
           [--sport N] [--dport N] [--frag BYTES] [--bad KIND] --payload TEXT ...
Each --payload is one UDP datagram (several allowed). --frag splits each datagram
into IP fragments carrying at most BYTES of data each (a multiple of 8); fragments
are sent in reverse order with --reverse, in a shuffled (seeded) order with
--shuffle; --overlap moves the second fragment 8 bytes back over the first (an
inconsistent overlap: the receiver must discard the datagram); --first-only sends
only each datagram's first fragment (it never completes); --repeat N sends the
payloads N times (each datagram with its own IP id, from --ident on, default
0x4000). --bad: 'udplen' (UDP length
larger than the IP payload), 'ihl' (IPv4 header length 3), 'trunc' (frame cut
inside the UDP header).
"""
import argparse
import ipaddress
import random
import socket
import struct


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def mac_bytes(m):
    return bytes(int(x, 16) for x in m.split(":"))


def udp_segment(src, dst, sport, dport, payload, v6):
    length = 8 + len(payload)
    hdr = struct.pack("!HHHH", sport, dport, length, 0)
    if v6:
        pseudo = src.packed + dst.packed + struct.pack("!I3xB", length, 17)
    else:
        pseudo = src.packed + dst.packed + struct.pack("!BBH", 0, 17, length)
    c = csum(pseudo + hdr + payload) or 0xFFFF
    return struct.pack("!HHHH", sport, dport, length, c) + payload


def pieces(l4, frag, overlap):
    """(offset, data, more) of each fragment; --overlap moves the second one 8 bytes back"""
    out = []
    for i, off in enumerate(range(0, len(l4), frag)):
        start = off - 8 if overlap and i == 1 else off
        out.append((start, l4[start:off + frag], off + frag < len(l4)))
    return out


def ipv4_packets(src, dst, l4, ident, frag, bad, overlap=False):
    def hdr(total, flags_off, ihl=5):
        h = struct.pack("!BBHHHBBH4s4s", (4 << 4) | ihl, 0, total, ident, flags_off, 64, 17, 0, src.packed, dst.packed)
        return h[:10] + struct.pack("!H", csum(h)) + h[12:]
    if not frag:
        return [hdr(20 + len(l4), 0x4000, 3 if bad == "ihl" else 5) + l4]
    return [hdr(20 + len(part), (0x2000 if more else 0) | (off // 8)) + part
            for off, part, more in pieces(l4, frag, overlap)]


def ipv6_packets(src, dst, l4, ident, frag, overlap=False):
    def hdr(plen, nxt):
        return struct.pack("!IHBB16s16s", 6 << 28, plen, nxt, 64, src.packed, dst.packed)
    if not frag:
        return [hdr(len(l4), 17) + l4]
    out = []
    for off, part, more in pieces(l4, frag, overlap):
        fh = struct.pack("!BBHI", 17, 0, (off // 8) << 3 | (1 if more else 0), ident)
        out.append(hdr(8 + len(part), 44) + fh + part)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--iface", default="eth0")
    ap.add_argument("--dst-mac", required=True)
    ap.add_argument("--src", required=True)
    ap.add_argument("--dst", required=True)
    ap.add_argument("--vlan", type=int, action="append", default=[])
    ap.add_argument("--sport", type=int, default=40000)
    ap.add_argument("--dport", type=int, default=514)
    ap.add_argument("--frag", type=int, default=0)
    ap.add_argument("--reverse", action="store_true")
    ap.add_argument("--shuffle", action="store_true")
    ap.add_argument("--overlap", action="store_true")
    ap.add_argument("--first-only", action="store_true")
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--ident", type=lambda x: int(x, 0), default=0x4000, help="IP id of the first datagram")
    ap.add_argument("--bad", choices=["udplen", "ihl", "trunc"])
    ap.add_argument("--payload", action="append", default=[])
    ap.add_argument("--payload-hex", action="append", default=[], help="a payload given as hex bytes")
    a = ap.parse_args()
    src, dst = ipaddress.ip_address(a.src), ipaddress.ip_address(a.dst)
    v6 = src.version == 6
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((a.iface, 0))
    smac = open(f"/sys/class/net/{a.iface}/address").read().strip()
    eth = mac_bytes(a.dst_mac) + mac_bytes(smac)
    tags = b""
    for i, vid in enumerate(a.vlan):
        tpid = 0x88A8 if (len(a.vlan) == 2 and i == 0) else 0x8100
        tags += struct.pack("!HH", tpid, vid & 0xFFF)
    ethertype = struct.pack("!H", 0x86DD if v6 else 0x0800)
    payloads = [t.encode() for t in a.payload] + [bytes.fromhex(h) for h in a.payload_hex]
    if not payloads:
        ap.error("give at least one --payload or --payload-hex")
    for n, data in enumerate(payloads * a.repeat):
        l4 = udp_segment(src, dst, a.sport, a.dport, data, v6)
        if a.bad == "udplen":
            l4 = l4[:4] + struct.pack("!H", len(l4) + 100) + l4[6:]
        ident = (a.ident + n) & 0xFFFF
        if v6:
            pkts = ipv6_packets(src, dst, l4, ident, a.frag, a.overlap)
        else:
            pkts = ipv4_packets(src, dst, l4, ident, a.frag, a.bad, a.overlap)
        if a.reverse:
            pkts.reverse()
        if a.shuffle:
            random.Random(len(l4)).shuffle(pkts)
        if a.first_only:
            pkts = pkts[:1]
        for p in pkts:
            frame = eth + tags + ethertype + p
            if a.bad == "trunc":
                frame = frame[:len(eth) + len(tags) + 2 + (40 if v6 else 20) + 4]
            s.send(frame)


if __name__ == "__main__":
    main()
