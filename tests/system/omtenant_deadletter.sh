#!/bin/bash
# Tenant B's server rejects batches with HTTP 400: they go to B's dead-letter file
# (exact records, logged and counted), never retried, never lost. 429 and 500 are
# retried (spooled, backoff, Retry-After) and delivered once the server accepts again.
. "$top_srcdir/tests/lib/harness.sh"
. "$top_srcdir/tests/system/omtenant_common.sh"
ctx_init "omtenant_deadletter${CTX_SUFFIX:-}"
omt_certs
MODE="$CTX_WORK/mode"
echo 400 >"$MODE"
omt_receiver_tenant B 50 100 --mode-file "$MODE"
omt_run 'backoff.initial="100" backoff.max="400"'
RB="$CTX_WORK/rcv-B"
DL="$CTX_WORK/omtenant-deadletter/B.deadletter"

# 1. rejected: 4 batches of 50 into the dead-letter file
omt_send "$PS" "B:1:200"
ctx_wait_stat "omtenant(B)" deadletter.msgs 200 60
ctx_assert_eq "deadletter.batches" 4 "$(ctx_stat "omtenant(B)" deadletter.batches)"
for i in $(seq 1 200); do omt_expect_json B "$i"; done >"$CTX_WORK/expect-dl"
$OMT_PY - "$DL" "$CTX_WORK/expect-dl" "$OMT_URL" <<'PY' || ctx_fail "dead-letter records"
import json, sys
data = open(sys.argv[1], "rb").read()
want = open(sys.argv[2], "rb").read()
reason = "POST to %s: HTTP 400: refused by test mode" % sys.argv[3]
pos, bodies, n = 0, b"", 0
while pos < len(data):
    nl = data.index(b"\n", pos)
    h = json.loads(data[pos:nl])["deadletter"]
    assert h["tenant"] == "B" and h["reason"] == reason, h
    assert h["messages"] == 50 and h["format"] == "ndjson" and h["encoding"] == "none", h
    body = data[nl + 1:nl + 1 + h["bytes"]]
    assert data[nl + 1 + h["bytes"]:nl + 2 + h["bytes"]] == b"\n", "record %d not closed" % n
    bodies += body
    pos = nl + 2 + h["bytes"]
    n += 1
assert n == 4, n
assert bodies == want, "bodies differ"
PY
ctx_assert_grep "$CTX_ILOG" "omtenant: tenant 'B': a batch of 50 messages was rejected (POST to $OMT_URL: HTTP 400: refused by test mode): written to $DL"
[ "$(stat -c %a "$DL")" = 600 ] || ctx_fail "the dead-letter file is not mode 600"

# 2. retryable answers: 429 (with Retry-After), then 500; then accepted
echo "429 1" >"$MODE"
r0=$(ctx_stat "omtenant(B)" retries)
omt_send "$PS" "B:201:300"
ctx_wait_stat "omtenant(B)" retries $((r0 + 2)) 30
echo 500 >"$MODE"
ctx_wait_stat "omtenant(B)" retries $((r0 + 4)) 30
: >"$MODE"
ctx_wait_stat "omtenant(B)" delivered.msgs 100 60
ctx_stop
$OMT_PY "$top_srcdir/tests/lib/https_receiver.py" check --out "$RB" --prefix seq=B- --first 201 --last 300 ||
    ctx_fail "retried messages"
ctx_assert_eq "deadletter.msgs at the end" 200 "$(ctx_stat "omtenant(B)" deadletter.msgs)"
ctx_assert_eq "dead-letter records at the end" 4 "$(grep -c '^{"deadletter"' "$DL")"
ctx_assert_grep "$CTX_ILOG" "omtenant: tenant 'B': POST to $OMT_URL: HTTP 429: refused by test mode; its batches are spooled and retried with backoff"
ctx_assert_grep "$CTX_ILOG" "omtenant: tenant 'B': POST to $OMT_URL: HTTP 500: refused by test mode; its batches are spooled and retried with backoff"
grep -c '"status": 429' "$RB/batches.jsonl" | grep -qv '^0$' || ctx_fail "no 429 answered"
ctx_pass "4 rejected batches dead-lettered exactly; 429 / 500 retried, then 100 messages delivered once"
