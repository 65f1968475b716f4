#!/usr/bin/python3
"""fmt_otlp_decode.py: ctxlog's OTLP encoder (common/deliver/fmt_otlp*.c) checked with the official
protos. A fixed batch (hostile strings, empty fields, several VMs interleaved, per-message
context, a large body) is written for tests/unit/otlp_encode, which encodes it as protobuf and
as OTLP/JSON; both are decoded with Python classes that protoc generates from
opentelemetry-proto (tests/lib/otlp_proto.py), and every field of every record is compared
with what docs/omtenant.md#otlp says it must be, computed here independently of the encoder.
The JSON is read with json_format.Parse into the same message class and must equal the
protobuf message.

    fmt_otlp_decode.py ENCODER WORKDIR
"""
import ipaddress
import json
import os
import re
import random
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import otlp_proto  # noqa: E402

SEV_NUMBER = [21, 19, 18, 17, 13, 10, 9, 5]
SEV_TEXT = ["emerg", "alert", "crit", "err", "warning", "notice", "info", "debug"]
HOSTILE = [b"", b"plain", b"quote \" backslash \\ slash /", b"ctl \x00\x01\x1f\x7f tab\t nl\n cr\r",
           b"utf8 \xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \xe2\x80\xa8", b"bad \xff \xc3 \xe2\x82 \xed\xa0\x80 \xc0\xaf end",
           b"{\"json\":[1,2]}", b"]}\"},{", b"\xef\xbb\xbfbom"]


def utf8_fixed(b):
    """invalid bytes -> U+FFFD, one per byte (as the encoder and outrec do)"""
    out, i = [], 0
    while i < len(b):
        for n in (4, 3, 2, 1):
            try:
                out.append(b[i:i + n].decode("utf-8"))
                i += n
                break
            except UnicodeDecodeError:
                continue
        else:
            out.append("\ufffd")
            i += 1
    return "".join(out)


def vm_ctx(k, rnd, extra=None):
    c = {"vm": {"name": "vm-%d" % k, "uuid": "%08x-0000-4000-8000-%012x" % (k, k), "tenant": "acme",
                "ip": "192.0.2.%d" % (10 + k), "mac": "52:54:00:ab:cd:%02x" % k, "vnic": "vnet%d" % k,
                "match": "vnic"},
         "cm": {"guest_os": "debian-12", "flavor": "m1.small", "project_id": "proj-%d" % k, "vcpus": 2 + k,
                "os_type": "linux" if k % 2 else "Linux?", "status": "ok", "avg_vm_cpu_pct": 12.5 + k / 10,
                "ram_mb": 2048, "nested": {"a": {"b": "deep"}, "none": None}, "flag": True,
                "big": -9007199254740993, "name \u00e9\"x": "odd key"},
         "host": {"load1": 3.51, "host_mem_pct": 61.2, "disks": [{"path": "/", "free_pct": 31.4,
                                                                   "free_bytes": 85081600000}, None, "x"],
                  "sampled_at": "2026-11-27T06:54:28.664Z"}}
    if extra:
        for g, v in extra.items():
            if g == "process":
                c["vm"]["process"] = v
            else:
                c[g] = v
    return c


def batch():
    rnd = random.Random(17)
    recs = []
    for i in range(60):
        k = [1, 2, 1, 3, 2, 1][i % 6]
        extra = None
        if i % 5 == 0:  # per-message members: the same VM's resource; tags: a resource of their own
            extra = {"capture": {"ts": "2026-11-27T06:26:15.%06dZ" % i, "sport": 40000 + i, "proto": "udp",
                                 "reassembled": True},
                     "process": {"app": "app%d" % i, "pid": str(100 + i)}, "tags": {"team": "t%d" % (i % 3)}}
        c = vm_ctx(k, rnd, extra)
        if i % 7 == 3:  # another vNIC and address of the same VM, or a spoofed packet: another resource
            c["vm"].update({"ip": "2001:db8::%d" % k, "mac": "52:54:00:ff:00:%02x" % k, "vnic": "tap%d" % k})
            if i % 2:
                c["vm"].update({"spoof": "ip", "match": "mac"})
        if i % 11 == 5:  # an address and a MAC not of the convention's form: ctxlog.vm.ip / .mac
            c["vm"].update({"ip": "192.0.2.300", "mac": "52:54:00:ab:cd"})
        ctx = json.dumps(c, ensure_ascii=False).encode()
        recs.append({"time": 1764226800000000000 + i * 1000, "observed": 1764226800000500000 + i * 1000,
                     "facility": i % 24, "severity": i % 8, "host": b"host-%d" % k, "app": b"app%d" % (i % 4),
                     "procid": b"%d" % (1000 + i), "msgid": b"ID%d" % i if i % 3 else b"",
                     "sd": b'[ex@32473 i="%d"]' % i if i % 4 == 0 else b"",
                     "msg": b"seq=%06d " % i + HOSTILE[i % len(HOSTILE)], "ctx": ctx})
    # empty everything, unknown severity and facility, no times, no context
    recs.append({"time": 0, "observed": 0, "facility": -1, "severity": -1, "host": b"", "app": b"",
                 "procid": b"", "msgid": b"", "sd": b"", "msg": b"", "ctx": b""})
    # hostile strings in every field, a context that is not JSON
    recs.append({"time": 1, "observed": 2, "facility": 23, "severity": 0, "host": HOSTILE[5], "app": HOSTILE[3],
                 "procid": HOSTILE[4], "msgid": HOSTILE[7], "sd": HOSTILE[5], "msg": HOSTILE[5],
                 "ctx": b"{\"vm\": {\"name\": \"trunc"})
    # a large body (multi-byte lengths at every level), of VM 2
    recs.append({"time": 3, "observed": 4, "facility": 1, "severity": 6, "host": b"h", "app": b"big",
                 "procid": b"", "msgid": b"", "sd": b"", "msg": b"seq=big " + bytes(rnd.randrange(32, 127)
                                                                                    for _ in range(200000)),
                 "ctx": json.dumps(vm_ctx(2, rnd)).encode()})
    return recs


def write_records(recs, path):
    with open(path, "wb") as f:
        for r in recs:
            f.write(b"%d\n%d\n%d\n%d\n" % (r["time"], r["observed"], r["facility"], r["severity"]))
            for k in ("host", "app", "procid", "msgid", "sd", "msg", "ctx"):
                f.write(b"%d:" % len(r[k]) + r[k] + b"\n")


SEMCONV = {("vm", "name"): "host.name", ("vm", "uuid"): "host.id", ("vm", "ip"): "host.ip", ("vm", "mac"): "host.mac",
           ("cm", "flavor"): "host.type", ("cm", "guest_os"): "os.description",
           ("cm", "os_type"): "os.type", ("cm", "project_id"): "cloud.account.id",
           ("cm", "region"): "cloud.region", ("cm", "availability_zone"): "cloud.availability_zone"}
PER_MESSAGE = {("capture",), ("drop",), ("vm", "process")}
OS_TYPES = {"windows", "linux", "darwin", "freebsd", "netbsd", "openbsd", "dragonflybsd", "hpux", "aix",
            "solaris", "zos"}


def any_value(v):
    if isinstance(v, dict):
        return {k: any_value(x) for k, x in v.items()}
    if isinstance(v, list):
        return [any_value(x) for x in v]
    return v


def flat(prefix, v, out):
    if v is None:
        return
    if isinstance(v, dict):
        for k, x in v.items():
            flat(prefix + "." + k, x, out)
    else:
        out[prefix] = any_value(v)


def semconv(path, v, spoofed=False):
    name = SEMCONV.get(path)
    if spoofed and name in ("host.ip", "host.mac"):  # another VM's: not this host's
        return None
    if name is None or not isinstance(v, str):
        return None
    if name == "os.type" and v not in OS_TYPES:
        return None
    if name == "host.ip":  # string[], a valid address
        try:
            ipaddress.ip_address(v)
        except ValueError:
            return None
        return name, [v]
    if name == "host.mac":  # string[], IEEE RA form
        if not re.fullmatch(r"[0-9A-Fa-f]{2}([:-][0-9A-Fa-f]{2}){5}", v):
            return None
        return name, [v.upper().replace(":", "-")]
    return name, v


def expected_attrs(ctx):
    """(resource attributes, per-message attributes) of a ctx text, as docs/omtenant.md#otlp says"""
    res, per = {}, {}
    if not ctx:
        return res, per
    try:
        c = json.loads(ctx)
    except ValueError:
        return {"ctxlog.ctx": ctx.decode("utf-8", "replace")}, per
    for k, v in c.items():
        if k in ("vm", "cm") and isinstance(v, dict):
            spoofed = k == "vm" and "spoof" in v
            for k2, v2 in v.items():
                sc, into = semconv((k, k2), v2, spoofed), per if (k, k2) in PER_MESSAGE else res
                if sc:
                    into[sc[0]] = sc[1]
                else:
                    flat("ctxlog.%s.%s" % (k, k2), v2, into)
        else:
            flat("ctxlog." + k, v, per if (k,) in PER_MESSAGE else res)
    return res, per


def expected(recs):
    groups, order = {}, []
    for r in recs:
        res, per = expected_attrs(r["ctx"])
        key = json.dumps(res, sort_keys=True)
        if key not in groups:
            groups[key] = []
            order.append(key)
        a = {}
        for k, f in (("syslog.appname", "app"), ("syslog.procid", "procid"), ("syslog.msgid", "msgid")):
            if r[f]:
                a[k] = utf8_fixed(r[f])
        if 0 <= r["facility"] <= 23:
            a["syslog.facility"] = r["facility"]
        if r["host"]:
            a["syslog.hostname"] = utf8_fixed(r["host"])
        if r["sd"]:
            a["syslog.structured_data"] = utf8_fixed(r["sd"])
        a.update(per)
        sev = r["severity"]
        groups[key].append({"resource": res, "scope": ["ctxlog", None], "time": r["time"],
                            "observed": r["observed"], "severity_number": SEV_NUMBER[sev] if sev >= 0 else 0,
                            "severity_text": SEV_TEXT[sev] if sev >= 0 else "", "body": utf8_fixed(r["msg"]),
                            "attributes": a})
    out = []
    for i, key in enumerate(order):
        for e in groups[key]:
            e["resource_index"] = i
            out.append(e)
    return out


def compare(got, want, what):
    if len(got) != len(want):
        sys.exit("%s: %d records, expected %d" % (what, len(got), len(want)))
    for i, (g, w) in enumerate(zip(got, want)):
        w = dict(w, scope=["ctxlog", g["scope"][1]])
        for k in w:
            if g[k] != w[k]:
                sys.exit("%s: record %d, %s: got %.300r, expected %.300r" % (what, i, k, g[k], w[k]))
        if not g["scope"][1]:
            sys.exit("%s: no scope version" % what)


def main():
    encoder, work = sys.argv[1], sys.argv[2]
    os.makedirs(work, exist_ok=True)
    pb = otlp_proto.load(work)
    recs = batch()
    write_records(recs, os.path.join(work, "records"))
    want = expected(recs)
    msgs = {}
    for mode in ("pb", "json"):
        out = os.path.join(work, "out." + mode)
        subprocess.run([encoder, mode, os.path.join(work, "records"), out], check=True)
        body = open(out, "rb").read()
        if mode == "json":
            json.loads(body)  # plain JSON too, not only what json_format accepts
        msgs[mode] = otlp_proto.parse(pb, body, mode == "json")
        compare(otlp_proto.records(msgs[mode]), want, mode)
        print("%s: %d records in %d ResourceLogs, %d bytes: every field as expected"
              % (mode, len(want), len(msgs[mode].resource_logs), len(body)))
    if msgs["pb"] != msgs["json"]:
        sys.exit("the JSON mapping does not decode to the same message as the protobuf")
    print("protobuf and OTLP/JSON decode to the same ExportLogsServiceRequest")


if __name__ == "__main__":
    main()
