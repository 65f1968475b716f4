#!/usr/bin/python3
"""Hand-made TCP segments from inside a VM namespace (AF_PACKET), for the capture tests
that need what a socket cannot do: another VM's source MAC or IP, or a flood of
one-byte segments out of order. The capture is passive, so no handshake is needed.

rawtcp.py msg IFACE DST_MAC SRC_IP DST_IP SPORT TEXT   one connection: SYN, TEXT + LF, FIN
rawtcp.py half IFACE DST_MAC SRC_IP DST_IP SPORT TEXT   SYN (ISN 1000) and TEXT as is, no FIN:
    the connection is left open (TEXT may end in the middle of a message)
rawtcp.py cont IFACE DST_MAC SRC_IP DST_IP SPORT SEQ TEXT   one segment TEXT + LF at SEQ, no SYN:
    the same connection continued (or another sender reusing its addresses and ports)
rawtcp.py flood IFACE DST_MAC SRC_IP DST_IP FLOWS STOPFILE [SIZE [SPORT]]
    FLOWS connections (SYN each, source ports from SPORT, default 20000), then SIZE-byte
    segments (default 1) out of order (every other one, never the first), round robin
    over the connections, as fast as possible, until STOPFILE exists; prints the number
    of frames sent.
The source MAC is the interface's own (set it with `ip link set IFACE address`).
"""
import os
import socket
import struct
import sys


def frame(dmac, smac, src, dst, sport, dport, seq, flags, payload=b""):
    tcp = struct.pack("!HHIIBBHHH", sport, dport, seq, 0, 5 << 4, flags, 65535, 0, 0)
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 40 + len(payload), 0, 0x4000, 64, 6, 0, src, dst)
    return dmac + smac + b"\x08\x00" + ip + tcp + payload


def open_iface(iface, dst_mac):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((iface, 0))
    mac = lambda t: bytes(int(x, 16) for x in t.split(":"))
    smac = mac(open(f"/sys/class/net/{iface}/address").read().strip())
    return s, mac(dst_mac), smac


def msg(iface, dst_mac, src_ip, dst_ip, sport, text):
    s, dmac, smac = open_iface(iface, dst_mac)
    src, dst, sport = socket.inet_aton(src_ip), socket.inet_aton(dst_ip), int(sport)
    data = text.encode() + b"\n"
    isn = 1000
    s.send(frame(dmac, smac, src, dst, sport, 514, isn, 0x02))
    s.send(frame(dmac, smac, src, dst, sport, 514, isn + 1, 0x18, data))
    s.send(frame(dmac, smac, src, dst, sport, 514, isn + 1 + len(data), 0x11))


def half(iface, dst_mac, src_ip, dst_ip, sport, text):
    s, dmac, smac = open_iface(iface, dst_mac)
    src, dst, sport = socket.inet_aton(src_ip), socket.inet_aton(dst_ip), int(sport)
    s.send(frame(dmac, smac, src, dst, sport, 514, 1000, 0x02))
    s.send(frame(dmac, smac, src, dst, sport, 514, 1001, 0x18, text.encode()))


def cont(iface, dst_mac, src_ip, dst_ip, sport, seq, text):
    s, dmac, smac = open_iface(iface, dst_mac)
    src, dst = socket.inet_aton(src_ip), socket.inet_aton(dst_ip)
    s.send(frame(dmac, smac, src, dst, int(sport), 514, int(seq), 0x18, text.encode() + b"\n"))


def flood(iface, dst_mac, src_ip, dst_ip, flows, stopfile, size="1", sport="20000"):
    s, dmac, smac = open_iface(iface, dst_mac)
    src, dst, flows, size, sport = socket.inet_aton(src_ip), socket.inet_aton(dst_ip), int(flows), int(size), int(sport)
    for f in range(flows):
        s.send(frame(dmac, smac, src, dst, sport + f, 514, 0, 0x02))
    sent, k, data = flows, 0, b"x" * size
    while not os.path.exists(stopfile):
        for _ in range(1000):
            f = k % flows
            s.send(frame(dmac, smac, src, dst, sport + f, 514, 2 + size + 2 * size * (k // flows % 100000), 0x10, data))
            k += 1
        sent += 1000
    print(sent)


if __name__ == "__main__":
    {"msg": msg, "half": half, "cont": cont, "flood": flood}[sys.argv[1]](*sys.argv[2:])
