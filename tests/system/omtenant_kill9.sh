#!/bin/bash
# The sending rsyslogd is killed with SIGKILL while tenant B's server is down and B's
# spool holds its batches; after the restart (B's server back) the spool drains
# completely: every message once, in order, and no segment is left on disk.
. "$top_srcdir/tests/lib/harness.sh"
. "$top_srcdir/tests/system/omtenant_common.sh"
ctx_init "omtenant_kill9${CTX_SUFFIX:-}"
M=${CTX_N:-2000}
omt_certs "$CTX_WORK/certs"
C="$CTX_WORK/certs"
mkdir -p "$CTX_WORK/rcv-B"
omt_port >"$CTX_WORK/rcv-B/port" # B's server is down: nobody listens there yet
PB=$(omt_receiver_port B)
echo "{\"tenants\": {$(omt_https_tenant B "https://127.0.0.1:$PB/bulk" 100 100)}}" >"$CTX_WORK/tenants.json"
omt_run 'backoff.initial="100" backoff.max="500"'
omt_send "$PS" "B:1:$M"
# every message is in a sealed batch, and every sealed batch is in the spool
B=$(( (M + 99) / 100 ))
ctx_wait_stat "omtenant(B)" msgs "$M" 60
ctx_wait_stat "omtenant(B)" batches "$B" 60
ctx_wait_stat "omtenant(B)" spool.batches "$B" 60
ctx_assert_eq "delivered before the kill" 0 "$(ctx_stat "omtenant(B)" delivered.msgs)"
segs=$(ls "$CTX_WORK/omtenant-spool/B/" | grep -c '\.seg$')
[ "$segs" -ge 1 ] || ctx_fail "no spool segment on disk"
kill -KILL "$CTX_RSYSLOG_PID"
wait "$CTX_RSYSLOG_PID" 2>/dev/null
CTX_RSYSLOG_PID=
: >"$CTX_WORK/stats.log"
omt_receiver_start B --cert "$C/server.pem" --key "$C/server.key"
ctx_start
RB="$CTX_WORK/rcv-B"
ctx_wait_for "the spool to drain to B" 60 "[ \$(omt_lines '$RB/messages.log') -ge $M ]"
ctx_wait_for "B's spool to be empty" 30 "[ \"\$(ctx_stat 'omtenant(B)' spool.batches)\" = 0 ]"
ctx_stop
$OMT_PY "$top_srcdir/tests/lib/https_receiver.py" check --out "$RB" --prefix seq=B- --first 1 --last "$M" ||
    ctx_fail "tenant B's messages after the restart"
ctx_assert_eq "batches delivered after the restart" "$B" "$(ctx_stat "omtenant(B)" delivered.batches)"
left=$(ls "$CTX_WORK/omtenant-spool/B/" | grep -c '\.seg' || true)
ctx_assert_eq "segments left in the spool" 0 "$left"
for i in $(seq 1 "$M"); do omt_expect_json B "$i"; done >"$CTX_WORK/expect-B"
cut -f2- "$RB/messages.log" | cmp - "$CTX_WORK/expect-B" || ctx_fail "B's messages are not byte-exact"
ctx_pass "$M messages in $B spooled batches survived kill -9 and drained in order"
