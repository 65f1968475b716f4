#!/usr/bin/python3
"""Checks what the demo's tenants received against what its guests sent.

    demo_check.py DEMO_DIR HOSTNAME [HOSTNAME...]

DEMO_DIR is scripts/demo.sh's directory (CTXLOG_DEMO_DIR). Its work/sent has one line
per message a guest sent: TENANT seq=I-M VM APP SEVERITY KIND MESSAGE. The tenants'
servers wrote one JSON record a line: acme's rsyslogd tenants/acme/received.jsonl,
globex's HTTPS receiver tenants/globex/messages.log ("BATCH<TAB>{...}").

Every sent message must have arrived exactly once, at its own tenant, parsed: msg is
the message logger sent (one leading space allowed, as RFC 3164 keeps it; secrets
redacted), with no syslog header inside (no <PRI>, no leading RFC 3339 or BSD
timestamp, no [timeQuality), app is the app name the guest used, host one of
HOSTNAME, severity the one sent, and the record names the sending VM and its tenant.
A missing or empty file, a record that is not JSON or carries no seq=, and any secret
in any file a tenant's server wrote are failures. Prints one line per VM; exits 1 on
any failure, listing the first ones.
"""
import json
import os
import re
import sys

SECRETS = ["S3cretPass", "4111 1111 1111 1111", "c2lnbmF0dXJl"]
HEADER = [
    (re.compile(r"<\d{1,3}>"), "a <PRI>"),
    (re.compile(r"^\s*\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d"), "an RFC 3339 timestamp at the start"),
    (re.compile(r"^\s*[A-Z][a-z]{2} [ 0-9]\d \d\d:\d\d:\d\d"), "a BSD timestamp at the start"),
    (re.compile(r"\[timeQuality"), "RFC 5424 structured data"),
]
SEQ = re.compile(r"seq=(\d+-\d+)")
FILES = {"acme": "tenants/acme/received.jsonl", "globex": "tenants/globex/messages.log"}


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    demo, hosts = sys.argv[1], set(sys.argv[2:])
    errors = []

    def err(what):
        errors.append(what)

    sent = {}  # seq -> dict
    try:
        lines = open(os.path.join(demo, "work/sent"), errors="replace").read().splitlines()
    except OSError as e:
        sys.exit("demo_check: %s" % e)
    for line in lines:
        tenant, seq, vm, app, sev, kind, message = line.split(" ", 6)
        sent[seq[4:]] = dict(tenant=tenant, vm=vm, app=app, sev=sev, kind=kind, message=message, got=0)
    if not sent:
        err("work/sent lists no message")

    for tenant, rel in FILES.items():
        path = os.path.join(demo, rel)
        want = sum(1 for s in sent.values() if s["tenant"] == tenant)
        if not os.path.isfile(path):
            err("%s: missing (tenant %s's server wrote nothing)" % (rel, tenant))
            continue
        if os.path.getsize(path) == 0 and want:
            err("%s: empty (tenant %s was sent %d messages)" % (rel, tenant, want))
        for n, line in enumerate(open(path, encoding="utf-8", errors="replace"), 1):
            where = "%s:%d" % (rel, n)
            text = line.rstrip("\n")
            if tenant == "globex":
                text = text.split("\t", 1)[-1]
            try:
                rec = json.loads(text)
            except ValueError:
                err("%s: not a JSON record: %.120s" % (where, text))
                continue
            msg = rec.get("msg")
            if not isinstance(msg, str):
                err("%s: no msg: %.120s" % (where, text))
                continue
            m = SEQ.search(msg)
            s = sent.get(m.group(1)) if m else None
            if s is None:
                err("%s: a record nobody sent: %r" % (where, msg[:120]))
                continue
            s["got"] += 1
            bad = []
            ctx_vm = (rec.get("ctx") or {}).get("vm") or {}
            for what, have, expect in (("ctx.vm.tenant", ctx_vm.get("tenant"), tenant), ("sent to tenant", s["tenant"], tenant),
                                       ("ctx.vm.name", ctx_vm.get("name"), s["vm"]), ("app", rec.get("app"), s["app"]),
                                       ("severity", rec.get("severity"), s["sev"])):
                if have != expect:
                    bad.append("%s %r, expected %r" % (what, have, expect))
            if rec.get("host") not in hosts:
                bad.append("host %r, expected %s" % (rec.get("host"), " or ".join(map(repr, sorted(hosts)))))
            inside = [what for pat, what in HEADER if pat.search(msg)]
            if inside:
                bad.append("a syslog header inside msg (%s)" % ", ".join(inside))
            body = msg[1:] if msg.startswith(" ") else msg
            if any(x in s["message"] for x in SECRETS):
                if not body.startswith("seq=%s " % m.group(1)):
                    bad.append("msg does not start with seq=%s" % m.group(1))
            elif body != s["message"]:
                bad.append("msg is not the message sent (%r)" % s["message"])
            if bad:
                err("%s: seq=%s from %s (%s): %s; msg %r" % (where, m.group(1), s["vm"], s["kind"], "; ".join(bad), msg[:160]))

    # per VM: each sequence number once, none missing
    vms = {}
    for seq, s in sent.items():
        v = vms.setdefault(s["vm"], dict(kind=s["kind"], app=s["app"], tenant=s["tenant"], sent=0, once=0, missing=[], dups=[]))
        v["sent"] += 1
        if s["got"] == 1:
            v["once"] += 1
        elif s["got"] == 0:
            v["missing"].append(seq)
        else:
            v["dups"].append(seq)
    for name in sorted(vms):
        v = vms[name]
        print("demo_check: %s (%s, %s, %s): sent %d, received once %d, missing %d%s, duplicated %d%s"
              % (name, v["tenant"], v["kind"], v["app"], v["sent"], v["once"], len(v["missing"]),
                 (" " + ",".join(v["missing"][:10])) if v["missing"] else "", len(v["dups"]),
                 (" " + ",".join(v["dups"][:10])) if v["dups"] else ""))
        if v["missing"] or v["dups"]:
            err("%s: %d missing, %d duplicated" % (name, len(v["missing"]), len(v["dups"])))

    # nothing secret in anything a tenant's server wrote
    for tenant in FILES:
        d = os.path.join(demo, "tenants", tenant)
        for root, _, files in os.walk(d):
            for f in files:
                data = open(os.path.join(root, f), "rb").read()
                for x in SECRETS:
                    if x.encode() in data:
                        err("%s: holds a secret (%s)" % (os.path.relpath(os.path.join(root, f), demo), x))

    if errors:
        for e in errors[:15]:
            print("demo_check: FAIL: " + e, file=sys.stderr)
        if len(errors) > 15:
            print("demo_check: ... and %d more" % (len(errors) - 15), file=sys.stderr)
        sys.exit(1)
    print("demo_check: %d messages from %d VMs: each received once by its own tenant, parsed, nothing secret"
          % (len(sent), len(vms)))


if __name__ == "__main__":
    main()
