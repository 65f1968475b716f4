#!/bin/bash
# kill -9 of the sending rsyslogd (docs/omtenant.md, "The loss window at kill -9"):
#  1. while tenant B's server is down and B's spool holds its batches; after the restart
#     (B's server back) the spool drains completely: every message once, in order, and
#     no segment is left on disk;
#  2. the default profile under load: tenant A's server keeps up, a sender writes at a
#     fixed rate (RATE msg/s), rsyslogd is killed after about a second and restarted.
#     What arrives is a prefix of what was sent, with no gap (in order, per tenant), and
#     the lost tail (in the action queue and A's open batch, not yet delivered) is
#     measured as a time: lost messages / RATE, logged ("loss window"). The durable
#     profile that closes it is checked in omtenant_durable.sh.
. "$top_srcdir/tests/lib/harness.sh"
. "$top_srcdir/tests/system/omtenant_common.sh"
ctx_init "omtenant_kill9${CTX_SUFFIX:-}"
M=${CTX_N:-2000}
omt_certs
mkdir -p "$CTX_WORK/rcv-B"
omt_port >"$CTX_WORK/rcv-B/port" # B's server is down: nobody listens there yet
PB=$(omt_receiver_port B)
echo "{\"tenants\": {$(omt_https_tenant B "https://127.0.0.1:$PB/bulk" 100 100)}}" >"$CTX_WORK/tenants.json"
omt_run 'backoff.initial="100" backoff.max="500"'
omt_send "$PS" "B:1:$M"
# every message is in a sealed batch, and every sealed batch is in the spool: at least
# M / 100 batches (more when max_delay_ms sealed some early, on a loaded host); B is how
# many, read from an impstats record taken after the last one was spooled
B=$(( (M + 99) / 100 ))
ctx_wait_stat "omtenant(B)" msgs "$M" 60
ctx_wait_stat "omtenant(B)" batches "$B" 60
ctx_wait_stat "omtenant(B)" spool.batches "$B" 60
ctx_stats_round "omtenant(B)"
ctx_wait_for "every sealed batch spooled" 60 \
    "[ \"\$(ctx_stat 'omtenant(B)' batches)\" = \"\$(ctx_stat 'omtenant(B)' spool.batches)\" ]"
B=$(ctx_stat "omtenant(B)" spool.batches)
ctx_assert_eq "delivered before the kill" 0 "$(ctx_stat "omtenant(B)" delivered.msgs)"
segs=$(ls "$CTX_WORK/omtenant-spool/B/" | grep -c '\.seg$')
[ "$segs" -ge 1 ] || ctx_fail "no spool segment on disk"
kill -KILL "$CTX_RSYSLOG_PID"
wait "$CTX_RSYSLOG_PID" 2>/dev/null
CTX_RSYSLOG_PID=
: >"$CTX_WORK/stats.log"
omt_receiver_start B
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

# 2. the default profile (the recommended action, the tenant's default batching) under load
RATE=${CTX_RATE:-3000}
omt_receiver_start A
PA=$(omt_receiver_port A)
cat >"$CTX_WORK/tenants.json" <<EOF
{"tenants": {
  "A": {"transport": "https", "url": "https://127.0.0.1:$PA/bulk", "tls": {"ca_file": "certs/ca.pem", "server_name": "localhost"}}
}}
EOF
{
    echo 'module(load="@MODDIR@/omtenant/omtenant.so")'
    omt_sender_conf "$PS"
    echo 'ruleset(name="out") {'
    echo '    action(type="omtenant" tenants="@WORK@/tenants.json"'
    echo '           queue.type="LinkedList" queue.dequeueBatchSize="1024" action.resumeRetryCount="-1" action.resumeInterval="5")'
    echo '}'
} | ctx_conf
: >"$CTX_WORK/stats.log"
ctx_start
omt_wait_port "$PS"
# seq=A-n, n = 1.., RATE a second in chunks of 30, until killed; the last n sent goes to FILE
$OMT_PY -c '
import socket, sys, time
port, rate, out = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
s = socket.create_connection(("127.0.0.1", port))
n, t0 = 0, time.time()
while True:
    buf = []
    for _ in range(30):
        n += 1
        buf.append("<13>1 2026-11-27T10:00:00.000001Z host-A A - - - seq=A-%06d\n" % n)
    try:
        s.sendall("".join(buf).encode())
    except OSError:
        break
    with open(out + ".new", "w") as f:
        f.write("%d %.3f\n" % (n, time.time() - t0))
    __import__("os").replace(out + ".new", out)
    time.sleep(max(0, n / rate - (time.time() - t0)))
' "$PS" "$RATE" "$CTX_WORK/sent-A" &
spid=$!
ctx_on_exit "kill $spid"
ctx_wait_stat "omtenant(A)" delivered.msgs "$RATE" 60 # about a second of traffic delivered
kill -KILL "$CTX_RSYSLOG_PID"
wait "$CTX_RSYSLOG_PID" 2>/dev/null
CTX_RSYSLOG_PID=
read -r SENT _ <"$CTX_WORK/sent-A" # sent before the kill (what the kernel had taken: at least this)
kill "$spid" 2>/dev/null
wait "$spid" 2>/dev/null
: >"$CTX_WORK/stats.log"
ctx_start
omt_wait_port "$PS"
omt_send "$PS" "A:999999:999999" # a marker after the restart: what A had spooled arrives before it
ctx_wait_for "the marker" 60 "grep -q 'seq=A-999999' '$CTX_WORK/rcv-A/messages.log'"
ctx_stop
$OMT_PY - "$CTX_WORK/rcv-A/messages.log" "$SENT" "$RATE" <<'PY' || ctx_fail "default profile: what arrived after kill -9"
import re, sys
sent, rate = int(sys.argv[2]), int(sys.argv[3])
got = sorted({int(m.group(1)) for m in (re.search(r"seq=A-(\d+)", l) for l in open(sys.argv[1])) if m} - {999999})
k = len(got)
assert got == list(range(1, k + 1)), "not a prefix: first gap after %s" % next(
    (a for a, b in zip(got, got[1:]) if b != a + 1), None)
lost = max(0, sent - k)
print("loss window, default profile: %d of %d messages sent before kill -9 lost: %.0f ms at %d msg/s"
      % (lost, sent, 1000.0 * lost / rate, rate))
PY
ctx_pass "$M messages in $B spooled batches survived kill -9 and drained in order; default profile: a prefix arrived, no gap"
