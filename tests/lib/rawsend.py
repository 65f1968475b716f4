#!/usr/bin/python3
"""Send hand-made Ethernet frames from inside a VM namespace (AF_PACKET), for what
util-linux logger cannot produce: VLAN (802.1Q) and QinQ (802.1ad) tags on a kernel
without VLAN devices, IP fragments of a chosen size, and malformed packets.

rawsend.py --iface eth0 --dst-mac MAC --src IP --dst IP [--vlan ID [--vlan ID]]
           [--sport N] [--dport N] [--frag BYTES] [--bad KIND] --payload TEXT ...
Each --payload is one UDP datagram (several allowed). --frag splits each datagram
into IP fragments carrying at most BYTES of data each (a multiple of 8); fragments
are sent in reverse order when --reverse is given. --bad: 'udplen' (UDP length
larger than the IP payload), 'ihl' (IPv4 header length 3), 'trunc' (frame cut
inside the UDP header).
"""
import argparse
import ipaddress
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


def ipv4_packets(src, dst, l4, ident, frag, bad):
    def hdr(total, flags_off, ihl=5):
        h = struct.pack("!BBHHHBBH4s4s", (4 << 4) | ihl, 0, total, ident, flags_off, 64, 17, 0, src.packed, dst.packed)
        return h[:10] + struct.pack("!H", csum(h)) + h[12:]
    if not frag:
        return [hdr(20 + len(l4), 0x4000, 3 if bad == "ihl" else 5) + l4]
    out = []
    for off in range(0, len(l4), frag):
        part = l4[off:off + frag]
        more = 0x2000 if off + frag < len(l4) else 0
        out.append(hdr(20 + len(part), more | (off // 8)) + part)
    return out


def ipv6_packets(src, dst, l4, ident, frag):
    def hdr(plen, nxt):
        return struct.pack("!IHBB16s16s", 6 << 28, plen, nxt, 64, src.packed, dst.packed)
    if not frag:
        return [hdr(len(l4), 17) + l4]
    out = []
    for off in range(0, len(l4), frag):
        part = l4[off:off + frag]
        more = 1 if off + frag < len(l4) else 0
        fh = struct.pack("!BBHI", 17, 0, (off // 8) << 3 | more, ident)
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
    for n, data in enumerate(payloads):
        l4 = udp_segment(src, dst, a.sport, a.dport, data, v6)
        if a.bad == "udplen":
            l4 = l4[:4] + struct.pack("!H", len(l4) + 100) + l4[6:]
        ident = 0x4000 + n
        pkts = ipv6_packets(src, dst, l4, ident, a.frag) if v6 else ipv4_packets(src, dst, l4, ident, a.frag, a.bad)
        if a.reverse:
            pkts.reverse()
        for p in pkts:
            frame = eth + tags + ethertype + p
            if a.bad == "trunc":
                frame = frame[:len(eth) + len(tags) + 2 + (40 if v6 else 20) + 4]
            s.send(frame)


if __name__ == "__main__":
    main()
