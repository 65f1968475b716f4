#!/bin/bash
# A guest's tag-less RFC 3164 messages (issue 16): a VM sends, over UDP, what rsyslog's
# RFC 3164 parser turns into header fields: "<13>password=hunter2 ..." (no timestamp, no
# tag: the secret becomes the TAG / APP-NAME), "<13>Dec  2 10:00:00 token=abc123 rest"
# (a timestamp, the secret where the host name goes) and "<13>Dec  2 10:00:00 h
# passwd=s3cret: rest" (the secret as the tag). Captured by imctxcap, sent by omtenant's
# built-in record: the tenant receives every message, none with its secret in any field,
# and the redactions are counted.
. "$top_srcdir/tests/lib/harness.sh"
. "$top_srcdir/tests/system/omtenant_common.sh"
ctx_init "omtenant_tagless${CTX_SUFFIX:-}"
ctx_vm_add tagless 227 || ctx_fail "VM"
cat >"$CTX_WORK/profiles.json" <<JSON
{"vms": [{"name": "tl", "tenant": "acme", "vnic": "$(ctx_vm_vnic 227)"}]}
JSON
omt_certs
omt_receiver_start acme
cat >"$CTX_WORK/tenants.json" <<EOF
{"tenants": {
  "acme": {"transport": "https", "url": "https://127.0.0.1:$(omt_receiver_port acme)/bulk", "content_encoding": "none",
           "tls": {"ca_file": "certs/ca.pem", "server_name": "localhost"}, "batch": {"max_messages": 10, "max_delay_ms": 200}}
}}
EOF
ctx_conf <<CONF
module(load="@MODDIR@/imctxcap/imctxcap.so")
module(load="@MODDIR@/omtenant/omtenant.so")
input(type="imctxcap" name="tl" interface="$(ctx_vm_vnic 227)" profiles="@WORK@/profiles.json")
action(type="omtenant" name="tl" tenants="@WORK@/tenants.json" backoff.initial="100" backoff.max="1000")
CONF
ctx_start
ctx_wait_stat "imctxcap(tl)" interfaces.attached 1
ctx_vm_exec tagless /usr/bin/python3 - "$(ctx_vm_host_ip4 227)" <<'PY' || ctx_fail "sending failed"
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for m in (b"<13>password=hunter2 seq=t1 no timestamp, no tag",
          b"<13>Dec  2 10:00:00 token=abc123 seq=t2 the secret as the host name",
          b"<13>Dec  2 10:00:00 h passwd=s3cret: seq=t3 the secret as the tag",
          b"<13>Dec  2 10:00:00 h app: seq=t4 an ordinary message"):
    s.sendto(m, (sys.argv[1], 514))
PY
ctx_wait_stat "omtenant(tl:acme)" delivered.msgs 4 60
ctx_stop
R="$CTX_WORK/rcv-acme/messages.log"
ctx_check_seq "$R" "seq=t" 1 4
for s in hunter2 abc123 s3cret; do
    if grep -q "$s" "$R"; then grep "$s" "$R"; ctx_fail "the secret '$s' left the host"; fi
done
$OMT_PY - "$R" "$(ctx_vm_ip4 227)" <<'PY' || ctx_fail "the records differ"
import json, re, sys
recs = {re.search(r"seq=(t\d)", l).group(1): json.loads(l.split("\t", 1)[1]) for l in open(sys.argv[1])}
hdr = lambda r: {k: r.get(k) for k in ("host", "app")}
ip = sys.argv[2] # no host name in the message: rsyslog takes the sender's address
want = {"t1": {"host": ip, "app": "password=[REDACTED:kv-secret]"},
        "t2": {"host": ip, "app": "token=[REDACTED:kv-secret]"},
        "t3": {"host": "h", "app": "passwd=[REDACTED:kv-secret]"},
        "t4": {"host": "h", "app": "app"}}
assert {k: hdr(v) for k, v in recs.items()} == want, recs
for r in recs.values():
    assert r["ctx"]["vm"]["tenant"] == "acme" and r["ctx"]["vm"]["name"] == "tl", r
print({k: hdr(v) for k, v in sorted(recs.items())})
PY
red=$(ctx_stat "omtenant(tl:acme)" redactions)
ctx_assert_eq "omtenant(tl:acme) redactions (one per secret)" 3 "$red"
ctx_assert_eq "kv-secret matches" 3 "$(ctx_stat "omtenant(tl)-redaction" kv-secret)"
ctx_pass "3 tag-less / odd RFC 3164 headers with a secret, redacted wherever the parser put it ($red redactions); 1 ordinary message unchanged"
