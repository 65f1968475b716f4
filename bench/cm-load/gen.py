#!/usr/bin/python3
"""bench/cm-load helpers (see run.sh).

  gen.py routes DIR HOSTS VMS        DIR/routes.json for tests/lib/cmserver.py: Nova-shaped
                                     servers, one bulk listing per host (its own VMs)
  gen.py send PORT HOSTS VMS K RATE SECS T0
                                     UDP syslog to 127.0.0.1:PORT: RATE msg/s for SECS s, then
                                     2*RATE for SECS s, round-robin over every VM of every host;
                                     VMs 0..K-1 of each host send err, the others info
  gen.py analyze CMLOG T0 HOSTS VMS K RATE SECS STTL DTTL HTTL JITTER CMRATE CMBURST LOAD0 LOAD1 COMMIT
                                     a RESULTS.md section from the server's request log
"""
import json
import socket
import sys
import time


def uuid(h, v):
    return "%08x-0000-4000-8000-%012x" % (h, v)


def server(h, v):
    return {"id": uuid(h, v), "name": "h%d-vm%d" % (h, v), "tenant_id": "p", "metadata": {"os_distro": "debian-12"},
            "OS-EXT-STS:vm_state": "active", "OS-EXT-SRV-ATTR:host": "h%d" % h,
            "OS-EXT-SRV-ATTR:hypervisor_hostname": "h%d.example.net" % h,
            "flavor": {"original_name": "m1.small", "vcpus": 2, "ram": 2048}}


def routes(d, hosts, vms):
    r = {"/servers/{id}": {"server": server(0, 0) | {"id": "{id}"}},
         "/servers/{id}/diagnostics": {"cpu_details": [{"id": 0, "time": 5, "utilisation": 10}],
                                       "memory_details": {"maximum": 2048, "used": 512}, "uptime": 3600},
         "/os-hypervisors": {"hypervisors": [{"id": "aaaaaaaa-0000-4000-8000-000000000001",
                                              "hypervisor_hostname": "h.example.net", "state": "up",
                                              "status": "enabled"}]},
         "/os-hypervisors/{id}": {"hypervisor": {"id": "{id}", "host_ip": "192.0.2.1", "vcpus": 32, "vcpus_used": 8,
                                                 "memory_mb": 65536, "memory_mb_used": 16384, "running_vms": vms,
                                                 "state": "up"}}}
    for h in range(hosts):
        r["/servers/detail?all_tenants=1&host=h%d" % h] = {"servers": [server(h, v) for v in range(vms)]}
    json.dump(r, open(d + "/routes.json", "w"))


def send(port, hosts, vms, k, rate, secs, t0):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4 << 20)
    ts = time.strftime("%b %e %H:%M:%S")
    i = 0
    for phase, r in ((0, rate), (1, 2 * rate)):
        start = t0 + phase * secs
        n = int(r * secs)
        for j in range(n):
            h, v = (i // vms) % hosts, i % vms
            pri = 8 + (3 if v < k else 6)
            line = "<%d>%s host%d app: seq=%d vm=h%d-vm%d uuid=%s host=h%d" % (pri, ts, h, i, h, v, uuid(h, v), h)
            s.sendto(line.encode(), ("127.0.0.1", port))
            i += 1
            ahead = start + (j + 1) / r - time.time()
            if ahead > 0:
                time.sleep(ahead)


def kind(path):
    p = path.split("?")[0]
    if p == "/v3/auth/tokens":
        return "login"
    if p == "/os-hypervisors":
        return "hostid"
    if p.startswith("/os-hypervisors/"):
        return "host"
    if p == "/servers/detail":
        return "bulk"
    if p.endswith("/diagnostics"):
        return "stats"
    if p.startswith("/servers/"):
        return "static"
    return None


def analyze(a):
    (log, t0, hosts, vms, k, rate, secs, sttl, dttl, httl, jitter, cmrate, cmburst, load0, load1, commit) = a
    t0, hosts, vms, k, rate, secs = float(t0), int(hosts), int(vms), int(k), int(rate), int(secs)
    sttl, dttl, httl, jitter, cmrate, cmburst = int(sttl), int(dttl), int(httl), int(jitter), float(cmrate), int(cmburst)
    reqs = []  # (t - t0, kind, path)
    for line in open(log):
        f = line.split()
        if len(f) < 4 or not f[2].startswith('"'):
            continue
        kd = kind(f[3])
        if kd:
            reqs.append((float(f[0]) - t0, kd, f[3]))
    kinds = ["login", "hostid", "bulk", "static", "stats", "host"]
    bins = {}
    for t, kd, _ in reqs:
        bins[int(t)] = bins.get(int(t), 0) + 1
    cold = jitter / 1000 + 5
    peak_t, peak = max(((t, n) for t, n in bins.items() if t < cold), key=lambda x: x[1], default=(0, 0))
    firsts = sorted(min(t for t, kd, p in reqs if kd == "bulk" and p.endswith("host=h%d" % h))
                    for h in range(hosts) if any(kd == "bulk" and p.endswith("host=h%d" % h) for _, kd, p in reqs))
    bound = hosts * 2 * (cmburst + cmrate)
    out = ["", "## %s, %d hosts x %d VMs, %d s at %d msg/s then %d s at %d msg/s (commit %s)" %
           (time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), hosts, vms, secs, rate, secs, 2 * rate, commit), "",
           "Settings: cache.staticTTL %d ms, cache.dynamicTTL %d ms, cache.hostTTL %d ms, cm.startJitter %d ms, "
           "cm.ratePerSec %g, cm.burst %d per fetcher; %d err-sending VMs per host. Load average before / after: "
           "%s / %s." % (sttl, dttl, httl, jitter, cmrate, cmburst, k, load0, load1), "",
           "Cold start (all hosts started at t=0):", "",
           "| figure | value | bound / target |", "|---|---|---|",
           "| peak requests in a 1-s bin, first %.0f s | %d (second %d) | %.0f (N x 2 fetchers x (burst + rate)) |" %
           (cold, peak, peak_t, bound),
           "| first bulk listings spread over | %.1f .. %.1f s (%d hosts) | within cm.startJitter = %.1f s |" %
           (firsts[0] if firsts else -1, firsts[-1] if firsts else -1, len(firsts), jitter / 1000),
           "| logins | %d | one per host (%d) |" % (sum(1 for r in reqs if r[1] == "login"), hosts),
           "| per-VM static requests | %d | 0 (the listing fills them) |" % sum(1 for r in reqs if r[1] == "static"),
           ""]
    out += ["Steady state (each phase from its first %.0f s on):" % (max(dttl, httl) / 1000 + jitter / 1000), "",
            "| phase | msg/s | req/s | " + " | ".join(kinds) + " |", "|---" * (3 + len(kinds)) + "|"]
    for ph, r in ((0, rate), (1, 2 * rate)):
        lo = ph * secs + (max(dttl, httl) + jitter) / 1000 if ph == 0 else ph * secs
        hi = (ph + 1) * secs
        sel = [x for x in reqs if lo <= x[0] < hi]
        span = max(hi - lo, 1e-9)
        out.append("| %d | %d | %.1f | " % (ph + 1, r, len(sel) / span) +
                   " | ".join("%.2f" % (sum(1 for x in sel if x[1] == kd) / span) for kd in kinds) + " |")
    total = 2 * secs
    bulk_max = hosts * (1 + int(total * 1000 // (sttl / 2)) + 1)
    stats_max = hosts * k * (total * 1000 / dttl + 1)
    nb = sum(1 for r in reqs if r[1] == "bulk")
    ns = sum(1 for r in reqs if r[1] == "stats")
    stats_vms = len({p for _, kd, p in reqs if kd == "stats"})
    out += ["", "| target | measured | allowed |", "|---|---|---|",
            "| bulk listings in %d s | %d | <= %d (one per host per staticTTL/2, + the first) |" % (total, nb, bulk_max),
            "| stats requests in %d s | %d | <= %.0f (K x N per dynamicTTL) |" % (total, ns, stats_max),
            "| VMs with stats requests | %d | K x N = %d (only VMs whose messages ask) |" % (stats_vms, k * hosts), ""]
    print("\n".join(out))


if __name__ == "__main__":
    cmd, rest = sys.argv[1], sys.argv[2:]
    if cmd == "routes":
        routes(rest[0], int(rest[1]), int(rest[2]))
    elif cmd == "send":
        send(int(rest[0]), int(rest[1]), int(rest[2]), int(rest[3]), float(rest[4]), float(rest[5]), float(rest[6]))
    elif cmd == "analyze":
        analyze(rest)
