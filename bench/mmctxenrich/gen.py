#!/usr/bin/python3
"""Inputs of bench/mmctxenrich/run.sh.

gen.py DIR N VMS M      writes into DIR:
    msgs.txt   N syslog lines (RFC 3164, LF-framed, ~200 bytes) of VMS VMs, then a "seq=END" line
    warm.txt   one line per VM, then "seq=WARMEND"          cg.txt  M lines, then "seq=CGEND"
    uuids.json rsyslog lookup table: program name (vmNNN) -> uuid
    routes.json a Nova-shaped compute manager for tests/lib/cmserver.py
gen.py --paced FILE RATE SECONDS PORT
    sends lines of FILE (cycling) over one TCP connection at RATE lines/s for SECONDS
"""
import json
import socket
import sys
import time

SEVS = [6] * 17 + [4] * 2 + [3]  # 85% info, 10% warning, 5% err (local0)
TEXT = ("GET /api/v1/orders?id={i} HTTP/1.1 200 5123 0.0{ms:02d}s user=u{u} "
        "agent=Mozilla/5.0 (X11; Linux x86_64) ref=https://shop.example.com/cart req={i:08x}")


def uuid(v):
    return "7c0e%04d-1d2b-4c3d-8e4f-%012d" % (v, v)


def line(i, vms, seq=None):
    v = i % vms
    sev = SEVS[(i // vms) % len(SEVS)]  # every VM gets every severity (i % 20 would alias with i % vms)
    body = TEXT.format(i=i, ms=i % 100, u=i % 997)
    return "<%d>Nov 27 07:00:00 bench vm%03d[%d]: seq=%s %s\n" % (128 + sev, v, 1000 + v, seq or "%08d" % i, body)


def write(path, lines):
    with open(path, "w") as f:
        f.writelines(lines)


def gen(d, n, vms, m):
    write(f"{d}/msgs.txt", (line(i, vms) for i in range(n)))
    with open(f"{d}/msgs.txt", "a") as f:
        f.write(line(n, vms, "END"))
    write(f"{d}/warm.txt", [line(i, vms) for i in range(vms)] + [line(vms, vms, "WARMEND")])
    write(f"{d}/cg.txt", [line(i, vms) for i in range(m)] + [line(m, vms, "CGEND")])
    table = [{"index": "vm%03d" % v, "value": uuid(v)} for v in range(vms)]
    json.dump({"version": 1, "nomatch": "", "type": "string", "table": table}, open(f"{d}/uuids.json", "w"))
    server = {"server": {"id": "{id}", "tenant_id": "p1", "metadata": {"os_distro": "debian-12"},
                         "OS-EXT-STS:vm_state": "active", "OS-EXT-SRV-ATTR:host": "c1",
                         "OS-EXT-SRV-ATTR:hypervisor_hostname": "c1.example",
                         "flavor": {"original_name": "m1.small", "vcpus": 2, "ram": 2048}}}
    routes = {
        "/servers/{id}": server,
        "/servers/{id}/diagnostics": {"cpu_details": [{"id": 0, "utilisation": 12}, {"id": 1, "utilisation": 30}],
                                      "memory_details": {"maximum": 2048, "used": 700}, "uptime": 86400},
        "/os-hypervisors/{id}": {"hypervisor": {"host_ip": "192.0.2.1", "vcpus": 32, "vcpus_used": 20,
                                                "memory_mb": 131072, "memory_mb_used": 65536, "running_vms": vms,
                                                "state": "up"}},
    }
    json.dump(routes, open(f"{d}/routes.json", "w"))


def paced(path, rate, secs, port):
    lines = [l.encode() for l in open(path) if "seq=END" not in l]
    s = socket.create_connection(("127.0.0.1", port))
    t0 = time.time()
    i = 0
    while time.time() - t0 < secs:
        s.sendall(b"".join(lines[(i + k) % len(lines)] for k in range(100)))
        i += 100
        ahead = t0 + i / rate - time.time()
        if ahead > 0:
            time.sleep(ahead)
    s.close()


if __name__ == "__main__":
    if sys.argv[1] == "--paced":
        paced(sys.argv[2], float(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5]))
    else:
        gen(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]))
