#!/bin/bash
# otlp_receiver.sh: the OTLP test receiver (tests/system/otlp_receiver.py) takes what a
# collector's otlphttp receiver takes and refuses what it refuses, over HTTPS with the test
# CA: ctxlog's encoder output (tests/unit/otlp_encode, a fixed batch of 63 records in 20
# ResourceLogs) as protobuf, as JSON gzip and as protobuf zstd is accepted and every record
# recorded with its resource; an unsupported Content-Type (415), another path (404), a body
# that is not a request and a string that is not UTF-8 (400, as the official classes refuse
# it), a test mode's 503 with Retry-After. Its partial_success answers (records with the
# marker in their body) are read back by ctx_fmt_otlp_reply, protobuf and JSON.
. "$top_srcdir/tests/lib/harness.sh"
. "$top_srcdir/tests/system/omtenant_common.sh"
ctx_init "otlp_receiver"
omt_certs
ENC="$top_builddir/tests/unit/otlp_encode"
[ -x "$ENC" ] || ctx_fail "$ENC missing (make check builds it)"
$OMT_PY "$top_srcdir/tests/unit/fmt_otlp_decode.py" "$ENC" "$CTX_WORK/enc" >/dev/null || ctx_fail "encoding the fixture failed"
OMT_RECEIVER="$top_srcdir/tests/system/otlp_receiver.py" omt_receiver_start O --reject-marker "seq=000005 " --mode-file "$CTX_WORK/mode"
URL="https://localhost:$(omt_receiver_port O)"
R="$CTX_WORK/rcv-O"

# post BODY CTYPE ENCODING PATH -> prints the status; the answer goes to $CTX_WORK/answer
post() {
    local enc=()
    [ "$3" != none ] && enc=(-H "Content-Encoding: $3")
    curl -sS --cacert "$C/ca.pem" -o "$CTX_WORK/answer" -w '%{http_code}' -H "Content-Type: $2" "${enc[@]}" \
        --data-binary "@$1" "$URL$4" || ctx_fail "curl failed"
}

gzip -c "$CTX_WORK/enc/out.json" >"$CTX_WORK/json.gz"
zstd -q -c "$CTX_WORK/enc/out.pb" >"$CTX_WORK/pb.zst"
ctx_assert_eq "protobuf" 200 "$(post "$CTX_WORK/enc/out.pb" application/x-protobuf none /v1/logs)"
ctx_assert_eq "protobuf partial_success read back" "rejected=1 message=1 records carry the reject marker" \
    "$("$ENC" reply-pb "$CTX_WORK/answer")"
ctx_assert_eq "JSON, gzip" 200 "$(post "$CTX_WORK/json.gz" "application/json; charset=utf-8" gzip /v1/logs)"
ctx_assert_eq "JSON partial_success read back" "rejected=1 message=1 records carry the reject marker" \
    "$("$ENC" reply-json "$CTX_WORK/answer")"
ctx_assert_eq "protobuf, zstd" 200 "$(post "$CTX_WORK/pb.zst" application/x-protobuf zstd /v1/logs)"

ctx_assert_eq "text/plain" 415 "$(post "$CTX_WORK/enc/out.json" text/plain none /v1/logs)"
ctx_assert_eq "another path" 404 "$(post "$CTX_WORK/enc/out.pb" application/x-protobuf none /v1/traces)"
printf 'garbage!' >"$CTX_WORK/garbage"
ctx_assert_eq "not a request" 400 "$(post "$CTX_WORK/garbage" application/x-protobuf none /v1/logs)"
printf '\x0a\x09\x12\x07\x12\x05\x2a\x03\x0a\x01\xff' >"$CTX_WORK/badutf8"
ctx_assert_eq "a body string not UTF-8" 400 "$(post "$CTX_WORK/badutf8" application/x-protobuf none /v1/logs)"
echo "503 1" >"$CTX_WORK/mode"
ctx_assert_eq "test mode 503" 503 "$(post "$CTX_WORK/enc/out.pb" application/x-protobuf none /v1/logs)"
rm -f "$CTX_WORK/mode"

$OMT_PY - "$R" <<'PY' || ctx_fail "receiver records wrong"
import json, sys
d = sys.argv[1]
batches = [json.loads(l) for l in open(d + "/batches.jsonl")]
want = [(200, 63, 20, 1), (200, 63, 20, 1), (200, 63, 20, 1), (415, 0, 0, 0), (404, 0, 0, 0), (400, 0, 0, 0),
        (400, 0, 0, 0), (503, 0, 0, 0)]
got = [(b["status"], b["records"], b["resources"], b["rejected"]) for b in batches]
if got != want:
    sys.exit("batches: %s, expected %s" % (got, want))
if [b["encoding"] for b in batches[:3]] != ["none", "gzip", "zstd"]:
    sys.exit("encodings: %s" % [b["encoding"] for b in batches[:3]])
recs = [json.loads(l) for l in open(d + "/records.jsonl")]
if len(recs) != 189:
    sys.exit("%d records, expected 189" % len(recs))
first = [r for r in recs if r["batch"] == 1]
for b in (2, 3):  # every encoding gives the same records
    if [dict(r, batch=1) for r in recs if r["batch"] == b] != first:
        sys.exit("batch %d differs from batch 1" % b)
rej = [r for r in first if r["rejected"]]
if len(rej) != 1 or not rej[0]["body"].startswith("seq=000005 "):
    sys.exit("rejected: %s" % rej)
vm1 = [r for r in first if r["resource"].get("host.name") == "vm-1"]
by_res = {}  # vm-1's records: one ResourceLogs for each distinct resource (vNIC, address, tags), no more
for r in vm1:
    by_res.setdefault(json.dumps(r["resource"], sort_keys=True), set()).add(r["resource_index"])
if (len(vm1) != 30 or any(len(ix) != 1 for ix in by_res.values())
        or len(set().union(*by_res.values())) != len(by_res)
        or ["192.0.2.11"] not in [json.loads(k).get("host.ip") for k in by_res]):
    sys.exit("vm-1: %d records, resources %s" % (len(vm1), by_res))
print("receiver: 8 requests answered as a collector would, 3 x 63 records recorded")
PY
ctx_pass
