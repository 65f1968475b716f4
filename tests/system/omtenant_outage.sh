#!/bin/bash
# Tenant B's HTTPS server goes away under load and comes back: tenant A (syslog over
# TLS to a real rsyslogd) keeps flowing the whole time; B's batches are spooled and,
# once B is back, delivered: everything, in order, duplicates at most one batch for
# the one reconnect.
. "$top_srcdir/tests/lib/harness.sh"
. "$top_srcdir/tests/system/omtenant_common.sh"
ctx_init "omtenant_outage${CTX_SUFFIX:-}"
N=${CTX_N:-6000}
RATE=${CTX_RATE:-3000}
omt_certs
omt_raw_server A
PA=$OMT_PORT
omt_receiver_start B
PB=$(omt_receiver_port B)
cat >"$CTX_WORK/tenants.json" <<EOF
{"tenants": {
  "A": {"transport": "syslog-tls", "host": "127.0.0.1", "port": $PA,
        "tls": {"ca_file": "certs/ca.pem", "server_name": "localhost"}, "batch": {"max_messages": 100, "max_delay_ms": 200}},
  "B": {"transport": "https", "url": "https://127.0.0.1:$PB/bulk", "tls": {"ca_file": "certs/ca.pem", "server_name": "localhost"},
        "batch": {"max_messages": 100, "max_delay_ms": 200}}
}}
EOF
omt_run 'backoff.initial="200" backoff.max="1000" queue.dequeueBatchSize="256"'
OUTA="$CTX_WORK/srv-A/out"
RB="$CTX_WORK/rcv-B"
omt_send "$PS" --rate "$RATE" "A:1:$N" "B:1:$N" &
SENDER=$!
ctx_on_exit "kill $SENDER"
# B goes away once it has a quarter of its messages
ctx_wait_for "B to receive $((N / 4)) messages" 60 "[ \$(omt_lines '$RB/messages.log') -ge $((N / 4)) ]"
omt_receiver_stop B
a_at_stop=$(omt_lines "$OUTA")
retries0=$(ctx_stat "omtenant(B)" retries)
# while B is away: A keeps flowing, B's attempts fail and its batches are spooled
ctx_wait_for "A to flow while B is away" 60 "[ \$(omt_lines '$OUTA') -ge $((a_at_stop + N / 6)) ]"
ctx_wait_stat "omtenant(B)" retries $((${retries0:-0} + 2)) 30
ctx_wait_stat "omtenant(B)" spooled.batches 1 30
b_while_away=$(omt_lines "$RB/messages.log")
omt_receiver_start B
wait "$SENDER" || ctx_fail "the sender failed"
ctx_wait_lines "$OUTA" "$N" 60
ctx_wait_stat "omtenant(B)" msgs "$N" 60
ctx_wait_for "B to receive everything" 90 "$OMT_PY '$top_srcdir/tests/lib/https_receiver.py' check --out '$RB' --prefix seq=B- --first 1 --last $N --max-dup-batches 1 >/dev/null 2>&1"
ctx_wait_for "B's spool to drain" 30 "[ \"\$(ctx_stat 'omtenant(B)' spool.batches)\" = 0 ]"
ctx_stop
for i in $(seq 1 "$N"); do omt_expect_syslog A "$i"; done >"$CTX_WORK/expect-A"
cmp "$CTX_WORK/expect-A" "$OUTA" || ctx_fail "tenant A's messages differ (lost, duplicated or reordered)"
$OMT_PY "$top_srcdir/tests/lib/https_receiver.py" check --out "$RB" --prefix seq=B- --first 1 --last "$N" --max-dup-batches 1 ||
    ctx_fail "tenant B's messages"
ctx_assert_eq "spool.batches(B) at the end" 0 "$(ctx_stat "omtenant(B)" spool.batches)"
ctx_assert_eq "delivered.msgs(A)" "$N" "$(ctx_stat "omtenant(A)" delivered.msgs)"
ctx_assert_eq "retries(A)" 0 "$(ctx_stat "omtenant(A)" retries)"
ctx_assert_grep "$CTX_ILOG" "omtenant: tenant 'B': POST to https://127.0.0.1:$PB/bulk failed: "
ctx_assert_grep "$CTX_ILOG" "omtenant: tenant 'B': delivery resumed after"
ctx_pass "A: $N messages throughout; B: away after $b_while_away, then all $N in order ($(ctx_stat "omtenant(B)" spooled.batches) batches spooled)"
