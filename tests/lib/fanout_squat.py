#!/usr/bin/python3
"""Hold PACKET_FANOUT group ids the way another capture program would, for
tests/system/imctxcap_fanout.sh.

fanout_squat.py N: opens N + 1 AF_PACKET sockets with exactly imctxcap's settings
(SOCK_RAW, ETH_P_ALL, bound to no interface, PACKET_FANOUT_HASH, no flags): the first
creates a group with an id the kernel picks (PACKET_FANOUT_FLAG_UNIQUEID), which also
moves the kernel's id rover, the others create the groups with the N ids after it.
A socket that joined one of these groups by mistake would take a share of the
frames: each socket has a filter that drops everything, so those frames would be
lost (and a sequence check sees it). Prints the ids on one line, then waits for its
stdin to close.
"""
import ctypes
import socket
import struct
import sys

SOL_PACKET, PACKET_FANOUT = 263, 18
PACKET_FANOUT_HASH, FLAG_UNIQUEID = 0, 0x2000
ETH_P_ALL = 0x0003
SO_ATTACH_FILTER = 26


KEEP = []  # the filter programs must outlive setsockopt only, but keep them anyway


def packet_socket():
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    deny = struct.pack("HBBI", 0x06, 0, 0, 0)  # ret #0
    buf = ctypes.create_string_buffer(deny)
    prog = struct.pack("HL", 1, ctypes.addressof(buf))
    s.setsockopt(socket.SOL_SOCKET, SO_ATTACH_FILTER, prog)
    KEEP.append(buf)
    return s


def main():
    n = int(sys.argv[1])
    socks, ids = [], []
    first = packet_socket()
    first.setsockopt(SOL_PACKET, PACKET_FANOUT, struct.pack("I", (PACKET_FANOUT_HASH | FLAG_UNIQUEID) << 16))
    base = struct.unpack("I", first.getsockopt(SOL_PACKET, PACKET_FANOUT, 4))[0] & 0xFFFF
    socks.append(first)
    ids.append(base)
    for i in range(1, n + 1):
        gid = (base + i) & 0xFFFF
        s = packet_socket()
        s.setsockopt(SOL_PACKET, PACKET_FANOUT, struct.pack("I", gid | (PACKET_FANOUT_HASH << 16)))
        socks.append(s)
        ids.append(gid)
    print(" ".join(str(i) for i in ids), flush=True)
    sys.stdin.read()


if __name__ == "__main__":
    main()
