#!/bin/bash
# omtenant end to end: tenant A's central server is a real rsyslogd (imtcp + the ossl
# driver, mutual TLS with certificates from a test CA made here), tenants B and C an
# HTTPS receiver (zstd + NDJSON, gzip + JSON array, bearer auth, extra header). Three
# tenants' messages interleaved, plus messages of a tenant without an entry: each
# tenant receives exactly its own messages, byte-exact, redacted, in order, once; the
# others are dropped and counted; the counters agree.
. "$top_srcdir/tests/lib/harness.sh"
. "$top_srcdir/tests/system/omtenant_common.sh"
ctx_init "omtenant_basic${CTX_SUFFIX:-}"
N=${CTX_N:-1000}
omt_certs

omt_raw_server A 'streamDriver.authMode="x509/certvalid"'
PA=$OMT_PORT
omt_receiver_start B
PB=$(omt_receiver_port B)
echo "s3cr3t-token" >"$CTX_WORK/token"
chmod 600 "$CTX_WORK/token"
cat >"$CTX_WORK/tenants.json" <<EOF
{"tenants": {
  "A": {"transport": "syslog-tls", "host": "127.0.0.1", "port": $PA,
        "tls": {"ca_file": "certs/ca.pem", "cert_file": "certs/client.pem", "key_file": "certs/client.key",
                "server_name": "localhost"},
        "batch": {"max_messages": 50, "max_delay_ms": 200}},
  "B": {"transport": "https", "url": "https://127.0.0.1:$PB/bulk/B", "headers": {"X-Scope-OrgID": "B"},
        "auth": {"type": "bearer", "token_file": "token"}, "tls": {"ca_file": "certs/ca.pem", "server_name": "localhost"},
        "batch": {"max_messages": 100, "max_delay_ms": 200}},
  "C": {"transport": "https", "url": "https://127.0.0.1:$PB/bulk/C", "body": "json-array", "content_encoding": "gzip",
        "tls": {"ca_file": "certs/ca.pem", "server_name": "localhost"}, "batch": {"max_messages": 30, "max_delay_ms": 200}},
  "S": {"transport": "https", "url": "https://127.0.0.1:$PB/bulk/S", "tls": {"ca_file": "certs/ca.pem", "server_name": "localhost"},
        "batch": {"max_messages": 10, "max_delay_ms": 200}}
}}
EOF
omt_run 'backoff.initial="100" backoff.max="1000" queue.dequeueBatchSize="256"'
omt_send "$PS" "A:1:$N" "B:1:$N" "C:1:$N" "Z:1:5" "S:1:3"

OUTA="$CTX_WORK/srv-A/out"
ctx_wait_lines "$OUTA" "$N" 60
ctx_wait_stat "omtenant(B)" delivered.msgs "$N" 60
ctx_wait_stat "omtenant(C)" delivered.msgs "$N" 60
ctx_wait_stat "omtenant(S)" delivered.msgs 3 60
ctx_wait_stat "omtenant(omtenant)" msgs $((3 * N + 8)) 60
ctx_stop

# A: byte-exact frames, in order, exactly N
for i in $(seq 1 "$N"); do omt_expect_syslog A "$i"; done >"$CTX_WORK/expect-A"
cmp "$CTX_WORK/expect-A" "$OUTA" || { diff "$CTX_WORK/expect-A" "$OUTA" | head -5; ctx_fail "tenant A's messages differ"; }
# B: byte-exact JSON lines (NDJSON after zstd), in order, exactly N
for i in $(seq 1 "$N"); do omt_expect_json B "$i"; done >"$CTX_WORK/expect-B"
RB="$CTX_WORK/rcv-B"
grep -P '^\d+\t\{"time".*"app":"B"' "$RB/messages.log" | cut -f2- >"$CTX_WORK/got-B"
cmp "$CTX_WORK/expect-B" "$CTX_WORK/got-B" || { diff "$CTX_WORK/expect-B" "$CTX_WORK/got-B" | head -5; ctx_fail "tenant B's messages differ"; }
# C: the same objects in JSON arrays (the receiver re-serialises each element)
for i in $(seq 1 "$N"); do omt_expect_json C "$i"; done >"$CTX_WORK/expect-C"
$OMT_PY - "$CTX_WORK/expect-C" "$RB/messages.log" <<'PY' || ctx_fail "tenant C's messages differ"
import json, sys
want = [json.loads(l) for l in open(sys.argv[1])]
got = [json.loads(l.split("\t", 1)[1]) for l in open(sys.argv[2]) if '"app":"C"' in l]
assert got == want, "C: %d messages, first difference at %s" % (len(got), next((i for i, (a, b) in enumerate(zip(got, want)) if a != b), len(got)))
PY
# nobody got another tenant's messages, nothing of Z arrived, no secret left the host
grep -c . "$RB/messages.log" | grep -qx $((2 * N + 3)) || ctx_fail "receiver B/C/S got $(grep -c . "$RB/messages.log") messages, expected $((2 * N + 3))"
# secrets inside \$!ctx (a number under a secret key name, a URL's user-info) are redacted too
for i in 1 2 3; do
    printf '{"time":"%s","host":"host-S","facility":"user","severity":"notice","app":"S","msg":"seq=S-%06d user=bob password=[REDACTED:kv-secret]","ctx":{"vm":{"tenant":"S","name":"vm-S"},"cm":{"api_key":"[REDACTED:kv-secret]","url":"https:\\/\\/admin:[REDACTED:url-userinfo]@cm.example\\/api"}}}\n' "$OMT_TS" "$i"
done >"$CTX_WORK/expect-S"
grep -P '^\d+\t\{.*"app":"S"' "$RB/messages.log" | cut -f2- | cmp - "$CTX_WORK/expect-S" || ctx_fail "tenant S: \$!ctx secrets"
grep -q pw0rd "$RB/messages.log" && ctx_fail "a secret of \$!ctx left the host"
grep -q 'seq=[BCZ]-' "$OUTA" && ctx_fail "tenant A's server got a foreign message"
grep -q 'seq=Z-' "$RB/messages.log" && ctx_fail "a message of tenant Z (no entry) was delivered"
grep -q hunter2 "$OUTA" "$RB/messages.log" && ctx_fail "a secret left the host"
# per-batch details recorded by the receiver
$OMT_PY - "$RB/batches.jsonl" <<'PY' || ctx_fail "request headers"
import json, sys
for b in map(json.loads, open(sys.argv[1])):
    h = b["headers"]
    assert b["status"] == 200, b
    if b["path"] == "/bulk/B":
        assert b["encoding"] == "zstd" and b["content_type"] == "application/x-ndjson", b
        assert h["Authorization"] == "Bearer s3cr3t-token" and h["X-Scope-OrgID"] == "B", h
        assert b["messages"] <= 100, b
    elif b["path"] == "/bulk/S":
        assert b["encoding"] == "zstd" and b["messages"] <= 10, b
    else:
        assert b["path"] == "/bulk/C" and b["encoding"] == "gzip" and b["content_type"] == "application/json", b
        assert "Authorization" not in h and b["messages"] <= 30, b
PY
# counters
for t in A B C; do
    ctx_assert_eq "omtenant($t) msgs" "$N" "$(ctx_stat "omtenant($t)" msgs)"
    ctx_assert_eq "omtenant($t) delivered.msgs" "$N" "$(ctx_stat "omtenant($t)" delivered.msgs)"
    ctx_assert_eq "omtenant($t) redactions" "$N" "$(ctx_stat "omtenant($t)" redactions)"
    ctx_assert_eq "omtenant($t) deadletter.msgs" 0 "$(ctx_stat "omtenant($t)" deadletter.msgs)"
    ctx_assert_eq "omtenant($t) spool.batches" 0 "$(ctx_stat "omtenant($t)" spool.batches)"
done
ctx_assert_eq "dropped.notenant" 5 "$(ctx_stat "omtenant(omtenant)" dropped.notenant)"
ctx_assert_eq "routed.default" 0 "$(ctx_stat "omtenant(omtenant)" routed.default)"
ctx_assert_eq "kv-secret matches" $((3 * N + 6)) "$(ctx_stat "omtenant(omtenant)-redaction" kv-secret)"
ctx_assert_eq "url-userinfo matches" 3 "$(ctx_stat "omtenant(omtenant)-redaction" url-userinfo)"
braw=$(ctx_stat "omtenant(B)" bytes.raw)
bz=$(ctx_stat "omtenant(B)" bytes.compressed)
# zstd on whole batches of similar JSON lines: well below half (small batches, e.g. under valgrind: below raw)
[ "$bz" -lt $((N >= 1000 ? braw / 2 : braw)) ] || ctx_fail "tenant B: $bz compressed bytes for $braw raw"
ctx_assert_eq "delivered.bytes(B)" "$bz" "$(ctx_stat "omtenant(B)" delivered.bytes)"
ctx_pass "$N messages each for A (syslog-tls, mTLS), B (https zstd), C (https gzip json-array), byte-exact, redacted, counted"
