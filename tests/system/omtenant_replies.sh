#!/bin/bash
# A 2xx reply whose body the format cannot read is handled as each format's own rules say,
# counted and logged, never silently (issue 17). Debian's rsyslogd (imtcp input) sends four
# tenants through omtenant to receivers that take every request but answer with hostile
# bodies while a mode file says so (otlp_receiver.py / https_receiver.py --reply-file):
#  - O (otlp-json) gets an HTML page, then a partial_success warning (0 rejected, a
#    message), then real replies; P (otlp, protobuf) a reply cut in half (or one stray
#    byte). OTLP/HTTP's 200 is the success signal and partial results MUST NOT be resent:
#    the batches count as delivered, each unreadable reply in reply.unreadable, the reason
#    logged once; nothing resent, nothing dead-lettered;
#  - E (elasticsearch) gets an HTML page, then a bulk reply one item short: which items
#    were indexed is unknown, so each such batch goes to the dead-letter file whole with
#    the reason, is not counted delivered and not resent;
#  - H (splunk-hec, indexer acknowledgement) gets an HTML page instead of its ackId: the
#    batch is sent again (at least once) until the replies are real.
# Every message is checked by sequence number at the receivers and in the dead-letter
# file, and the counters agree with what the receivers answered.
. "$top_srcdir/tests/lib/harness.sh"
. "$top_srcdir/tests/system/omtenant_common.sh"
ctx_init "omtenant_replies${CTX_SUFFIX:-}"
omt_certs
W=$CTX_WORK
RCV="$top_srcdir/tests/system/otlp_receiver.py"
echo garbage >"$W/o.mode"
echo cut >"$W/p.mode"
echo garbage >"$W/e.mode"
echo garbage >"$W/h.mode"
echo "hec-t0ken-0123" >"$W/hec.token"
chmod 600 "$W/hec.token"
OMT_RECEIVER=$RCV omt_receiver_start O --reply-file "$W/o.mode"
OMT_RECEIVER=$RCV omt_receiver_start P --reply-file "$W/p.mode"
omt_receiver_start E --api elasticsearch --reply-file "$W/e.mode"
omt_receiver_start H --api splunk-hec --token hec-t0ken-0123 --hec-ack \
    --reply-file "$W/h.mode"
TLS='"tls": {"ca_file": "certs/ca.pem", "server_name": "localhost"}, "batch": {"max_messages": 20, "max_delay_ms": 100}'
cat >"$W/tenants.json" <<EOF
{"tenants": {
  "O": {"transport": "https", "url": "https://127.0.0.1:$(omt_receiver_port O)/v1/logs", "format": "otlp-json", $TLS},
  "P": {"transport": "https", "url": "https://127.0.0.1:$(omt_receiver_port P)/v1/logs", "format": "otlp", $TLS},
  "E": {"transport": "https", "url": "https://127.0.0.1:$(omt_receiver_port E)", "format": "elasticsearch",
        "elasticsearch": {"data_stream": "logs-ctxlog-e"}, $TLS},
  "H": {"transport": "https", "url": "https://127.0.0.1:$(omt_receiver_port H)", "format": "splunk-hec",
        "splunk_hec": {"token_file": "hec.token", "channel": "0aeeac95-ac74-4aa9-b30d-6c4c0ac581ba"}, $TLS}
}}
EOF
omt_run 'deadletter.directory="@WORK@/dl" backoff.initial="100" backoff.max="300"'

# 1. hostile bodies
omt_send "$PS" O:1:100 P:1:100 E:1:40 H:1:20
ctx_wait_stat "omtenant(O)" delivered.msgs 100 60
ctx_wait_stat "omtenant(P)" delivered.msgs 100 60
ctx_wait_stat "omtenant(E)" deadletter.msgs 40 60
ctx_wait_stat "omtenant(H)" retries 2 60
ctx_wait_for "O's log line" 30 "grep -qF \"omtenant: tenant 'O': OTLP export reply to a 2xx not understood (not an OTLP/JSON ExportLogsServiceResponse\" '$CTX_ILOG'"
ctx_wait_for "P's log line" 30 "grep -qF \"omtenant: tenant 'P': OTLP export reply to a 2xx not understood (not a protobuf ExportLogsServiceResponse\" '$CTX_ILOG'"
# 2. a warning, a bulk reply one item short; HEC's replies real again
echo "warning attribute values cut to 4096 bytes" >"$W/o.mode"
echo fewer >"$W/e.mode"
: >"$W/h.mode"
omt_send "$PS" O:101:140 E:41:60
ctx_wait_stat "omtenant(H)" delivered.msgs 20 60
ctx_wait_stat "omtenant(O)" delivered.msgs 140 60
ctx_wait_stat "omtenant(E)" deadletter.msgs 60 60
ctx_wait_for "O's warning" 30 "grep -qF \"omtenant: tenant 'O': OTLP partial_success warning (0 records rejected): attribute values cut to 4096 bytes\" '$CTX_ILOG'"
# 3. real replies
: >"$W/o.mode" && : >"$W/p.mode" && : >"$W/e.mode"
omt_send "$PS" O:141:160 P:101:120 E:61:80
ctx_wait_stat "omtenant(O)" delivered.msgs 160 60
ctx_wait_stat "omtenant(P)" delivered.msgs 120 60
ctx_wait_stat "omtenant(E)" delivered.msgs 20 60
ctx_stop

for t in O:160 P:120; do
    $OMT_PY "$RCV" check --out "$W/rcv-${t%:*}" --prefix "seq=${t%:*}-" --first 1 --last "${t#*:}" ||
        ctx_fail "tenant ${t%:*}: every record once"
done
$OMT_PY "$top_srcdir/tests/lib/https_receiver.py" check --out "$W/rcv-H" --prefix seq=H- --first 1 --last 20 \
    --max-dup-batches 1000 || ctx_fail "tenant H: every event, duplicates only as whole batches"
$OMT_PY - "$W" <<'PY' || ctx_fail "what the receivers answered, the counters and the dead-letter file"
import json, os, re, sys
w = sys.argv[1]
def batches(r):
    return [json.loads(l) for l in open(os.path.join(w, "rcv-" + r, "batches.jsonl"))]
def stat(name, counter):
    v = None
    for l in open(os.path.join(w, "stats.log")):
        if '"name": "%s"' % name in l:
            v = json.loads(l[l.index("{"):]).get(counter, v)
    return v
for r, mode in (("O", "garbage"), ("P", "cut")):
    b = batches(r)
    bad = sum(1 for x in b if x.get("reply") == mode)
    assert all(x["status"] == 200 for x in b), b
    assert bad >= 1 and stat("omtenant(%s)" % r, "reply.unreadable") == bad, (r, bad, stat("omtenant(%s)" % r, "reply.unreadable"))
    for c in ("deadletter.msgs", "retries", "partial.batches"):
        assert stat("omtenant(%s)" % r, c) == 0, (r, c, stat("omtenant(%s)" % r, c))
    assert stat("omtenant(%s)" % r, "delivered.batches") == len(b), (r, len(b))
warn = [x for x in batches("O") if (x.get("reply") or "").startswith("warning")]
assert warn, "no warning answered"
# Elasticsearch: the server took 1..80; 1..60 came back unreadable: dead-lettered whole
took = sorted(int(re.search(r"seq=E-(\d+)", l).group(1)) for l in open(os.path.join(w, "rcv-E", "messages.log")))
assert took == list(range(1, 81)), took
raw = open(os.path.join(w, "dl", "E.deadletter"), "rb").read()
pos, dead, reasons = 0, [], set()
while pos < len(raw):
    nl = raw.index(b"\n", pos)
    h = json.loads(raw[pos:nl])["deadletter"]
    body = raw[nl + 1:nl + 1 + h["bytes"]]
    pos = nl + 1 + h["bytes"]
    while raw[pos:pos + 1] == b"\n":
        pos += 1
    assert h["format"] == "elasticsearch", h
    reasons.add(re.sub(r"\d+", "N", h["reason"]))
    seqs = [int(s) for s in re.findall(rb"seq=E-(\d+)", body)]
    assert len(seqs) == h["messages"], h
    dead += seqs
assert sorted(dead) == list(range(1, 61)), dead
assert reasons == {
    "elasticsearch bulk reply not understood (bulk reply is not a JSON object (truncated or not JSON)): the batch is "
    "dead-lettered, some of its items may have been indexed",
    "elasticsearch bulk reply not understood (bulk reply lists N items for a request of N): the batch is "
    "dead-lettered, some of its items may have been indexed"}, reasons
assert stat("omtenant(E)", "delivered.msgs") == 20 and stat("omtenant(E)", "retries") == 0, "E counters"
assert stat("omtenant(E)", "reply.unreadable") == 0, "E: not delivered, so not an unreadable delivery"
# HEC: no readable ackId: sent again, never delivered until the replies were real
bh = batches("H")
garbled = [x for x in bh if x.get("note") == "reply garbage"]
assert garbled and stat("omtenant(H)", "retries") >= len([x for x in garbled if x["path"].startswith("/services/collector/event")]), "H retries"
assert stat("omtenant(H)", "deadletter.msgs") == 0, "H dead-lettered"
print("O %d, P %d unreadable replies counted; E 60 dead-lettered in %d reasons; H resent after %d garbled replies" % (
    stat("omtenant(O)", "reply.unreadable"), stat("omtenant(P)", "reply.unreadable"), len(reasons), len(garbled)))
PY
ctx_assert_grep "$CTX_ILOG" "omtenant: tenant 'H': HEC reply without a readable ackId: sent again"
grep -qE "omtenant: tenant 'E': a batch of [0-9]+ messages was rejected \(elasticsearch bulk reply not understood" "$CTX_ILOG" ||
    ctx_fail "E's dead-letter warning not logged"
ctx_pass "unreadable 2xx replies: OTLP delivered and counted, Elasticsearch dead-lettered whole, HEC resent"
