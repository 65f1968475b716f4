#!/bin/bash
# omtenant's record formats end to end (issue 17): three VMs (namespaces) send numbered
# RFC 5424 messages over UDP; Debian's rsyslogd captures them on the vNICs (imctxcap),
# enriches them (mmctxenrich) and omtenant delivers each VM's tenant in its format to a
# receiver that checks what the real product checks (tests/lib/api_emul.py):
#  - umbrella: Elasticsearch bulk into a data stream; the receiver fails some items with
#    429 once (they must come again, alone) and some with 400 (they must land in the
#    dead-letter file with their reason, and never be resent);
#  - vandelay: Loki push (labels vm_name + severity, X-Scope-OrgID), timestamps sent out
#    of order: each push must be sorted per stream;
#  - wonka: Splunk HEC events (token from a file, source / sourcetype / index, fields), with
#    indexer acknowledgement: a batch counts as delivered once /services/collector/ack
#    says so (the receiver says "not yet" at each id's first poll).
# Every message is checked by sequence number (once, or dead-lettered), with its fields
# and its VM's context, no secret leaves the host, and the counters agree.
. "$top_srcdir/tests/lib/harness.sh"
. "$top_srcdir/tests/system/omtenant_common.sh"
ctx_init "omtenant_formats${CTX_SUFFIX:-}"
N=${CTX_N:-300}
uuid() { printf '0f0f0f0f-1111-4222-8333-444444444%03d' "$1"; }
ctx_vm_profiles --uuid uuid fmtes:121:es-vm:umbrella fmtlk:122:loki-vm:vandelay fmthc:123:hec-vm:wonka
omt_certs
# items the Elasticsearch receiver fails: 429 once (every 37th), 400 always (every 50th)
$OMT_PY - "$N" >"$CTX_WORK/es-fail.json" <<'PY'
import json, sys
n = int(sys.argv[1])
print(json.dumps({"429": ["seq=es-%06d " % i for i in range(37, n + 1, 37)],
                  "400": ["seq=es-%06d " % i for i in range(50, n + 1, 50)]}))
PY
N429=$((N / 37))
N400=$((N / 50))
echo "hec-t0ken-0123" >"$CTX_WORK/hec.token"
chmod 600 "$CTX_WORK/hec.token"
omt_receiver_start ES --api elasticsearch --es-fail "$CTX_WORK/es-fail.json"
omt_receiver_start LK --api loki
omt_receiver_start HC --api splunk-hec --token hec-t0ken-0123 --hec-ack
TLS='"tls": {"ca_file": "certs/ca.pem", "server_name": "localhost"}, "batch": {"max_messages": 40, "max_delay_ms": 200}'
cat >"$CTX_WORK/tenants.json" <<EOF
{"tenants": {
  "umbrella": {"transport": "https", "url": "https://127.0.0.1:$(omt_receiver_port ES)", "format": "elasticsearch",
               "elasticsearch": {"data_stream": "logs-ctxlog-umbrella"}, $TLS},
  "vandelay": {"transport": "https", "url": "https://127.0.0.1:$(omt_receiver_port LK)/", "format": "loki",
               "loki": {"labels": ["vm.name", "severity"]}, $TLS},
  "wonka": {"transport": "https", "url": "https://127.0.0.1:$(omt_receiver_port HC)", "format": "splunk-hec",
            "splunk_hec": {"token_file": "hec.token", "source": "ctxlog", "sourcetype": "ctxlog:syslog", "index": "vm_logs",
                           "channel": "0aeeac95-ac74-4aa9-b30d-6c4c0ac581ba"},
            $TLS}
}}
EOF
omt_pipeline_run fmt 121 122 123
# numbered messages from each VM; message i's time runs backwards within blocks of 10
omt_vm_send fmtes 121 es "$N" backwards
omt_vm_send fmtlk 122 lk "$N" backwards
omt_vm_send fmthc 123 hc "$N" backwards
ctx_wait_stat "omtenant(umbrella)" delivered.msgs $((N - N400)) 60
ctx_wait_stat "omtenant(umbrella)" deadletter.msgs "$N400" 60
ctx_wait_stat "omtenant(vandelay)" delivered.msgs "$N" 60
ctx_wait_stat "omtenant(wonka)" delivered.msgs "$N" 60
ctx_stop

grep -rq hunter2 "$CTX_WORK"/rcv-*/messages.log "$CTX_WORK/dl" && ctx_fail "a secret left the host"
$OMT_PY - "$CTX_WORK" "$N" "$(uuid 121)" "$(uuid 122)" "$(uuid 123)" <<'PY' || ctx_fail "the tenants' records"
import json, os, re, sys
work, n, u_es, u_lk, u_hc = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
bad400 = set(range(50, n + 1, 50))

def rows(name):
    return [json.loads(l.split("\t", 1)[1]) for l in open(os.path.join(work, "rcv-" + name, "messages.log"))]

def us(i):
    return (i - 1) // 10 * 10 + 9 - (i - 1) % 10

def seq_of(text, prefix):
    m = re.fullmatch(r"seq=%s-(\d{6}) user=bob password=\[REDACTED:kv-secret\]" % prefix, text)
    assert m, text
    return int(m.group(1))

def once(seqs, want, what):
    dup = sorted(s for s in set(seqs) if seqs.count(s) > 1)
    assert not dup, "%s: duplicates %s" % (what, dup[:5])
    assert set(seqs) == want, "%s: missing %s, extra %s" % (what, sorted(want - set(seqs))[:5], sorted(set(seqs) - want)[:5])

# Elasticsearch: documents
docs = rows("ES")
seqs = []
for d in docs:
    i = seq_of(d["message"], "es")
    seqs.append(i)
    assert d["@timestamp"] == "2026-12-02T07:00:00.%06d000Z" % us(i), d
    assert d["host"] == {"name": "guest-es"}, d
    sl = d["log"]["syslog"]
    assert sl["appname"] == "appes" and sl["procid"] == str(1000 + i) and sl["msgid"] == "m%d" % i, d
    assert sl["severity"] == {"code": 6, "name": "info"} and sl["facility"] == {"code": 1, "name": "user"}, d
    assert d["sd"] == '[meta seq="%d"]' % i, d
    vm = d["ctx"]["vm"]
    assert vm["name"] == "es-vm" and vm["uuid"] == u_es and vm["tenant"] == "umbrella", d
    assert d["ctx"]["capture"]["proto"] == "udp" if "capture" in d["ctx"] else True
    assert "event" in d and d["event"]["created"].startswith("20"), d
once(seqs, set(range(1, n + 1)) - bad400, "elasticsearch")
# the 400 items: in the dead-letter file, with their reason, once each
dl = open(os.path.join(work, "dl", "umbrella.deadletter"), encoding="utf-8").read()
heads = [json.loads(l)["deadletter"] for l in dl.split("\n") if l.startswith('{"deadletter"')]
assert len(heads) == len(bad400), heads
for h in heads:
    assert h["messages"] == 1 and h["format"] == "elasticsearch", h
    assert h["reason"].startswith("elasticsearch item status 400: mapper_parsing_exception: failed to parse field"), h
got400 = sorted(int(x) for x in re.findall(r'"message":"seq=es-(\d{6}) ', dl))
assert got400 == sorted(bad400), got400
# Loki: entries
ents = rows("LK")
seqs = []
for e in ents:
    i = seq_of(e["line"], "lk")
    seqs.append(i)
    assert e["org"] == "vandelay" and e["labels"] == {"vm_name": "loki-vm", "severity": "info"}, e
    assert e["sorted"] is True, ("a push not sorted by time", e)
    assert e["ts"] == str(1796194800 * 10**9 + us(i) * 1000), e
    m = e["meta"]
    assert m["vm_uuid"] == u_lk and m["vm_tenant"] == "vandelay" and m["app"] == "applk", e
    assert m["hostname"] == "guest-lk" and m["procid"] == str(1000 + i) and m["facility"] == "user", e
    assert "vm_name" not in m and "severity" not in m, ("labels repeated as metadata", e)
once(seqs, set(range(1, n + 1)), "loki")
# Splunk HEC: events
evs = rows("HC")
seqs = []
for e in evs:
    i = seq_of(e["event"]["message"], "hc")
    seqs.append(i)
    assert e["host"] == "hec-vm" and e["source"] == "ctxlog" and e["sourcetype"] == "ctxlog:syslog", e
    assert e["index"] == "vm_logs", e
    assert abs(e["time"] - (1796194800 + us(i) / 1e6)) < 1e-6, e
    assert e["event"]["app"] == "apphc" and e["event"]["severity"] == "info", e
    f = e["fields"]
    assert f["vm_uuid"] == u_hc and f["vm_name"] == "hec-vm" and f["vm_tenant"] == "wonka", e
once(seqs, set(range(1, n + 1)), "splunk-hec")
# what went over the wire
for name, ctype, path in (("ES", "application/x-ndjson", "/logs-ctxlog-umbrella/_bulk"),
                          ("LK", "application/json", "/loki/api/v1/push"),
                          ("HC", "application/json", "/services/collector/event")):
    for b in map(json.loads, open(os.path.join(work, "rcv-" + name, "batches.jsonl"))):
        if b["path"].startswith("/services/collector/ack"):
            continue
        assert b["path"] == path and b["content_type"] == ctype and b["encoding"] == "gzip", b
        assert name != "HC" or b["headers"].get("Authorization") == "Splunk hec-t0ken-0123", b
        assert name != "HC" or b["headers"].get("X-Splunk-Request-Channel") == "0aeeac95-ac74-4aa9-b30d-6c4c0ac581ba", b
# HEC acknowledgement: every event batch's ackId was polled until acknowledged (two polls each)
hb = list(map(json.loads, open(os.path.join(work, "rcv-HC", "batches.jsonl"))))
events = [b for b in hb if b["path"] == "/services/collector/event"]
acks = [b for b in hb if b["path"].startswith("/services/collector/ack?channel=0aeeac95-ac74-4aa9-b30d-6c4c0ac581ba")]
assert all(b["status"] == 200 for b in hb), [b for b in hb if b["status"] != 200][:2]
assert len(acks) == 2 * len(events), (len(acks), len(events))
print("elasticsearch %d + %d dead-lettered, loki %d, splunk-hec %d" % (len(docs), len(got400), len(ents), len(evs)))
PY
# the Elasticsearch receiver saw the 429 items twice (failed, then alone in a new batch)
ctx_assert_eq "partial.retried" "$N429" "$(ctx_stat "omtenant(umbrella)" partial.retried)"
ctx_assert_eq "partial.rejected" "$N400" "$(ctx_stat "omtenant(umbrella)" partial.rejected)"
ctx_assert_eq "deadletter.msgs" "$N400" "$(ctx_stat "omtenant(umbrella)" deadletter.msgs)"
ctx_assert_eq "delivered.msgs" $((N - N400)) "$(ctx_stat "omtenant(umbrella)" delivered.msgs)"
P=$(ctx_stat "omtenant(umbrella)" partial.batches)
[ "${P:-0}" -ge 1 ] || ctx_fail "partial.batches ${P:-none}"
for t in vandelay wonka; do
    ctx_assert_eq "$t delivered.msgs" "$N" "$(ctx_stat "omtenant($t)" delivered.msgs)"
    ctx_assert_eq "$t deadletter.msgs" 0 "$(ctx_stat "omtenant($t)" deadletter.msgs)"
    ctx_assert_eq "$t partial.batches" 0 "$(ctx_stat "omtenant($t)" partial.batches)"
done
ctx_assert_eq "msgs.submitted" $((3 * N)) "$(ctx_stat "imctxcap(fmt)" msgs.submitted)"
ctx_pass "$N messages each: elasticsearch ($N429 retried, $N400 dead-lettered), loki (sorted), splunk-hec"
