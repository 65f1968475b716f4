#!/usr/bin/python3
"""The floods of the hostile-guest tests (issue 14) that rawtcp.py's out-of-order flood
does not make, from inside a VM namespace, as fast as one process can, until STOPFILE
exists; each prints the number of frames it sent.

floodgen.py syn  IFACE DST_MAC SRC_IP DST_IP STOPFILE   new TCP connections: SYN and 64
    bytes of an unfinished message each, source ports 1024..65535 round and round
floodgen.py frag IFACE DST_MAC SRC_IP DST_IP STOPFILE   first fragments (1,200 bytes) of
    UDP datagrams that never complete, each with its own IP id
floodgen.py udp  SRC_IP DST_IP STOPFILE                 whole syslog datagrams (a socket)
"""
import ipaddress
import os
import socket
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rawsend  # noqa: E402
import rawtcp  # noqa: E402


def syn(iface, dst_mac, src_ip, dst_ip, stopfile):
    s, dmac, smac = rawtcp.open_iface(iface, dst_mac)
    src, dst, part = socket.inet_aton(src_ip), socket.inet_aton(dst_ip), b"<13>Dec  2 10:00:00 flooder flood: " + b"x" * 53
    sent, port = 0, 1024
    while not os.path.exists(stopfile):
        for _ in range(500):
            s.send(rawtcp.frame(dmac, smac, src, dst, port, 514, 1000, 0x02))
            s.send(rawtcp.frame(dmac, smac, src, dst, port, 514, 1001, 0x18, part))
            port = port + 1 if port < 65535 else 1024
        sent += 1000
    print(sent)


def frag(iface, dst_mac, src_ip, dst_ip, stopfile):
    s, dmac, smac = rawtcp.open_iface(iface, dst_mac)
    src, dst = ipaddress.ip_address(src_ip), ipaddress.ip_address(dst_ip)
    l4 = rawsend.udp_segment(src, dst, 40000, 514, b"<13>Dec  2 10:00:00 flooder flood: " + b"f" * 2000, False)
    eth = dmac + smac + b"\x08\x00"
    sent, ident = 0, 0
    while not os.path.exists(stopfile):
        for _ in range(500):
            s.send(eth + rawsend.ipv4_packets(src, dst, l4, ident, 1200, None)[0])
            ident = (ident + 1) & 0xFFFF
        sent += 500
    print(sent)


def udp(src_ip, dst_ip, stopfile):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((src_ip, 0))
    sent = 0
    while not os.path.exists(stopfile):
        for _ in range(500):
            try:
                s.sendto(b"<13>Dec  2 10:00:00 flooder flood: %d" % sent, (dst_ip, 514))
            except OSError:  # the VM's own socket buffer is full: the flood goes on
                pass
            sent += 1
    print(sent)


if __name__ == "__main__":
    {"syn": syn, "frag": frag, "udp": udp}[sys.argv[1]](*sys.argv[2:])
