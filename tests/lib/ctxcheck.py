#!/usr/bin/python3
"""Checks the output of a system test: one line per message, written by the
template CTX_CHECK_TEMPLATE of tests/lib/harness.sh:

    <inputname>|<fromhost-ip>|<hostname>|<programname>|<severity>|<msg>|<$!ctx as JSON>

Usage: ctxcheck.py OUTFILE EXPECTFILE
EXPECTFILE has one line per expected message, whitespace-separated key=value:
    seq=<marker> count=1 vm.name=web-1 vm.tenant=acme capture.dst=10.0.0.1 app=myapp sev=err ...
`seq` is a unique marker that occurs in exactly one expected message text;
`count` (default 1) is how often it must arrive. Keys: app, sev, host, fromip,
input, msg (substring), and any dotted path into $!ctx (vm.name, capture.vlan,
...); the value `-` means "absent". Every line of OUTFILE must match an expected
marker (no foreign messages). Prints a summary, exits 1 on any mismatch.
"""
import json
import sys


def load_out(path):
    rows = []
    for n, line in enumerate(open(path, encoding="utf-8", errors="replace"), 1):
        line = line.rstrip("\n")
        parts = line.split("|", 6)
        if len(parts) != 7:
            raise SystemExit(f"{path}:{n}: malformed output line: {line!r}")
        inp, fromip, host, app, sev, msg, ctx = parts
        try:
            ctxj = json.loads(ctx) if ctx.strip() else {}
        except json.JSONDecodeError as e:
            raise SystemExit(f"{path}:{n}: $!ctx is not JSON ({e}): {ctx!r}")
        rows.append({"input": inp, "fromip": fromip, "host": host, "app": app, "sev": sev, "msg": msg, "ctx": ctxj,
                     "line": n})
    return rows


def ctx_path(ctx, key):
    """the value at dotted path key ("cm.host.host_ip") in $!ctx, or None"""
    cur = ctx
    for p in key.split("."):
        if not isinstance(cur, dict) or p not in cur:
            return None
        cur = cur[p]
    return cur


def get(row, key):
    if key in ("input", "fromip", "host", "app", "sev", "msg"):
        return row[key]
    return ctx_path(row["ctx"], key)


def main():
    out, expect = sys.argv[1], sys.argv[2]
    rows = load_out(out)
    exp = []
    for line in open(expect):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        kv = dict(x.split("=", 1) for x in line.split())
        exp.append(kv)
    errors = []
    by_seq = {}
    for r in rows:
        hit = [e for e in exp if e["seq"] in r["msg"].split()]
        if len(hit) != 1:
            errors.append(f"line {r['line']}: matches {len(hit)} expected markers: {r['msg']!r}")
            continue
        by_seq.setdefault(hit[0]["seq"], []).append(r)
    for e in exp:
        got = by_seq.get(e["seq"], [])
        want = int(e.get("count", "1"))
        if len(got) != want:
            errors.append(f"{e['seq']}: arrived {len(got)} times, expected {want}")
            continue
        for r in got:
            for k, v in e.items():
                if k in ("seq", "count"):
                    continue
                actual = get(r, k)
                if v == "-":
                    if actual is not None:
                        errors.append(f"{e['seq']}: {k} should be absent, is {actual!r}")
                elif k == "msg":
                    if v not in (actual or ""):
                        errors.append(f"{e['seq']}: msg {actual!r} does not contain {v!r}")
                elif str(actual).lower() != v.lower() if isinstance(actual, bool) else str(actual) != v:
                    errors.append(f"{e['seq']}: {k} is {actual!r}, expected {v!r}")
    print(f"ctxcheck: {len(rows)} messages, {len(exp)} expected markers, {len(errors)} problems")
    for x in errors[:30]:
        print("  " + x)
    sys.exit(1 if errors else 0)


if __name__ == "__main__":
    main()
