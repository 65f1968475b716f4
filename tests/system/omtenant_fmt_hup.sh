#!/bin/bash
# A HUP that changes a tenant's format (issue 17): the batches already sealed or spooled in
# the old format are sent in that format, where they were going, and the new ones in the
# new format. Debian's rsyslogd (imtcp input) and omtenant, tenant F:
#  1. ndjson to an https receiver that answers 503: F 1..100 are sealed (5 batches of 20)
#     and spooled; F 101..110 wait in the open batch;
#  2. tenants.json says otlp to an OTLP receiver (another URL), HUP: the open batch is
#     sealed as NDJSON (a HUP back to ndjson at another URL is then refused: the NDJSON
#     batches would go there); F 111..200 are sent as OTLP once the NDJSON batches before them
#     went out (the receiver takes them again): every sequence number exactly once, each
#     in a valid form (NDJSON lines with Content-Type application/x-ndjson at the first
#     receiver; OTLP decoded with the official protos at the second);
#  3. the OTLP receiver answers 503: F 201..220 are spooled as OTLP; HUP back to ndjson,
#     then a restart: nothing knows where OTLP batches went any more (only the running
#     process did), so they are dead-lettered whole with the reason, never sent as NDJSON
#     nor dropped; F 221..240 arrive as NDJSON.
. "$top_srcdir/tests/lib/harness.sh"
. "$top_srcdir/tests/system/omtenant_common.sh"
ctx_init "omtenant_fmt_hup${CTX_SUFFIX:-}"
omt_certs
W=$CTX_WORK
RCV="$top_srcdir/tests/system/otlp_receiver.py"
echo 503 >"$W/nd.mode"
omt_receiver_start N --mode-file "$W/nd.mode"
OMT_RECEIVER=$RCV omt_receiver_start O --mode-file "$W/ot.mode"
TLS='"tls": {"ca_file": "certs/ca.pem", "server_name": "localhost"}'
ndjson() { # max_delay_ms [path]
    echo "{\"tenants\": {\"F\": {\"transport\": \"https\", \"url\": \"https://127.0.0.1:$(omt_receiver_port N)${2:-/ingest}\",
      $TLS, \"batch\": {\"max_messages\": 20, \"max_delay_ms\": $1}}}}" >"$W/tenants.json"
}
otlp() {
    echo "{\"tenants\": {\"F\": {\"transport\": \"https\", \"url\": \"https://127.0.0.1:$(omt_receiver_port O)/v1/logs\",
      \"format\": \"otlp\", $TLS, \"batch\": {\"max_messages\": 20, \"max_delay_ms\": 200}}}}" >"$W/tenants.json"
}
ndjson 600000
omt_run 'deadletter.directory="@WORK@/dl" backoff.initial="100" backoff.max="300"'

# 1. NDJSON batches spooled (the server answers 503), ten messages in the open batch
omt_send "$PS" F:1:110
ctx_wait_stat "omtenant(F)" msgs 110 60
ctx_wait_stat "omtenant(F)" retries 1 60
# 2. the format changes at HUP; the NDJSON server takes batches again
otlp
ctx_hup
ctx_wait_for "the reload" 30 "grep -qF 'omtenant: HUP: reloaded $W/tenants.json (1 tenants)' '$CTX_ILOG'"
# back to ndjson, but at another URL, while NDJSON batches for /ingest are pending: refused
ndjson 200 /other
ctx_hup
ctx_wait_for "the refusal" 30 "grep -qF \"tenant 'F': its format changes back to one it had at another destination, now https://127.0.0.1:$(omt_receiver_port N)/other while\" '$CTX_ILOG'"
otlp
ctx_hup
ctx_wait_for "the reload of the running file" 30 "[ \$(grep -c 'omtenant: HUP: reloaded' '$CTX_ILOG') -ge 2 ]"
omt_send "$PS" F:111:200
: >"$W/nd.mode"
ctx_wait_stat "omtenant(F)" delivered.msgs 200 60
# 3. OTLP batches spooled, the format changes back, and rsyslogd restarts
echo 503 >"$W/ot.mode"
omt_send "$PS" F:201:220
ctx_wait_stat "omtenant(F)" msgs 220 60
ctx_wait_stat "omtenant(F)" spool.batches 1 60
ndjson 200
ctx_hup
ctx_wait_for "the third reload" 30 "[ \$(grep -c 'omtenant: HUP: reloaded' '$CTX_ILOG') -ge 3 ]"
ctx_stop
ctx_start
omt_wait_port "$PS"
ctx_wait_stat "omtenant(F)" deadletter.msgs 20 60
omt_send "$PS" F:221:240
ctx_wait_for "F 221..240 at the NDJSON receiver" 60 "[ \$(grep -c 'seq=F-0002[234]' '$W/rcv-N/messages.log') -ge 20 ]"
ctx_stop

$OMT_PY "$RCV" check --out "$W/rcv-O" --prefix seq=F- --first 111 --last 200 || ctx_fail "F 111..200 at the OTLP receiver"
$OMT_PY - "$W" <<'PY' || ctx_fail "what each receiver took, in which form, and the dead-letter file"
import json, os, re, sys
w = sys.argv[1]
# the NDJSON receiver: 1..110 then 221..240, each once, as NDJSON objects, in order
seqs = []
for line in open(os.path.join(w, "rcv-N", "messages.log")):
    obj = json.loads(line.split("\t", 1)[1])
    m = re.fullmatch(r"seq=F-(\d{6}) user=bob password=\[REDACTED:kv-secret\]", obj["msg"])
    assert m and obj["ctx"]["vm"]["tenant"] == "F", obj
    seqs.append(int(m.group(1)))
assert seqs == list(range(1, 111)) + list(range(221, 241)), seqs
for b in (json.loads(l) for l in open(os.path.join(w, "rcv-N", "batches.jsonl"))):
    assert b["path"] == "/ingest" and b["content_type"] == "application/x-ndjson", b
# the OTLP receiver: protobuf only, and the 503s were answered to 201..220 only
ob = [json.loads(l) for l in open(os.path.join(w, "rcv-O", "batches.jsonl"))]
assert all(b["content_type"] == "application/x-protobuf" and b["path"] == "/v1/logs" for b in ob), ob
assert sum(b["records"] for b in ob if b["status"] == 200) == 90, ob
# the dead-letter file: the OTLP batches of 201..220, whole, with the reason
raw, pos, dead = open(os.path.join(w, "dl", "F.deadletter"), "rb").read(), 0, []
while pos < len(raw):
    nl = raw.index(b"\n", pos)
    h = json.loads(raw[pos:nl])["deadletter"]
    assert h["format"] == "otlp" and h["encoding"] in ("none", "zstd"), h
    assert h["reason"] == ("a batch written as otlp, which the tenant's destination no longer takes (its format "
                           "changed) and no running destination sends: not sent"), h
    body = raw[nl + 1:nl + 1 + h["bytes"]]
    seqs = [int(x) for x in re.findall(rb"seq=F-(\d{6})", body)]
    assert len(seqs) == h["messages"], h
    dead += seqs
    pos = nl + 1 + h["bytes"]
    while raw[pos:pos + 1] == b"\n":
        pos += 1
assert dead == list(range(201, 221)), dead
print("NDJSON 1..110 and 221..240, OTLP 111..200, OTLP 201..220 dead-lettered after the restart")
PY
ctx_assert_eq "deadletter.msgs after the restart" 20 "$(ctx_stat "omtenant(F)" deadletter.msgs)"
ctx_pass "a format change at HUP: each batch sent in the format it was made in; after a restart, dead-lettered"
