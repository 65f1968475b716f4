#!/usr/bin/python3
"""bench/lib/smaps_sum.py SMAPS [BASE_SMAPS]: where a process's resident memory is.

Sums the Rss of /proc/PID/smaps (as saved by bench/e2e/run.sh --smaps) by kind of
mapping: the AF_PACKET capture ring(s) (socket:[...]), the main heap ([heap]), the
other anonymous mappings (malloc's per-thread arenas, thread stacks, mmap()ed large
allocations), and the files mapped (rsyslogd, its modules and the shared libraries
they pull in: one line per library). With BASE_SMAPS (e.g. a bare rsyslogd's) prints the
difference too. KiB; Private_* is what only this process holds.
"""
import collections
import re
import sys

HDR = re.compile(r"^([0-9a-f]+)-([0-9a-f]+) (\S+) \S+ \S+ \d+\s*(.*)$")


def load(path):
    maps = []  # [name, size_kib, rss, private]
    cur = None
    for line in open(path):
        m = HDR.match(line)
        if m:
            cur = [m.group(4).strip(), (int(m.group(2), 16) - int(m.group(1), 16)) // 1024, 0, 0]
            maps.append(cur)
        elif cur is not None and line.startswith("Rss:"):
            cur[2] = int(line.split()[1])
        elif cur is not None and line.startswith(("Private_Clean:", "Private_Dirty:")):
            cur[3] += int(line.split()[1])
    return maps


def kind(name):
    if name.startswith("socket:"):
        return "capture ring (AF_PACKET, socket:[...])"
    if name == "[heap]":
        return "[heap] (main arena)"
    if name == "" or name.startswith("[anon"):
        return "anonymous (thread arenas, stacks, large allocations)"
    if name.startswith("["):
        return name
    return "file " + name.rsplit("/", 1)[-1]


def summarize(maps):
    s = collections.defaultdict(lambda: [0, 0, 0])
    for name, size, rss, priv in maps:
        k = kind(name)
        s[k][0] += rss
        s[k][1] += priv
        s[k][2] += 1
    return s


def main():
    a = summarize(load(sys.argv[1]))
    b = summarize(load(sys.argv[2])) if len(sys.argv) > 2 else {}
    keys = sorted(set(a) | set(b), key=lambda k: -(a.get(k, [0])[0] - b.get(k, [0])[0]))
    tot = [0, 0]
    print("| mapping | Rss KiB | private KiB | mappings |" + (" base Rss KiB | Rss over base KiB |" if b else ""))
    print("|---|---|---|---|" + ("---|---|" if b else ""))
    files = [0, 0]
    for k in keys:
        ra, pa, na = a.get(k, [0, 0, 0])
        rb = b.get(k, [0, 0, 0])[0]
        tot[0] += ra
        tot[1] += rb
        if k.startswith("file ") and abs(ra - rb) < 256:
            files[0] += ra
            files[1] += rb
            continue
        print("| %s | %d | %d | %d |" % (k, ra, pa, na) + (" %d | %d |" % (rb, ra - rb) if b else ""))
    print("| other files (each < 256 KiB over base) | %d | | |" % files[0] + (" %d | %d |" % (files[1], files[0] - files[1]) if b else ""))
    print("| **total** | %d | | |" % tot[0] + (" %d | %d |" % (tot[1], tot[0] - tot[1]) if b else ""))


if __name__ == "__main__":
    main()
