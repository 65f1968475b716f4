#!/bin/bash
# Tenants apart: one omtenant action serves six tenants. Four are in trouble: "full"
# (server down, its 1 MiB spool full under "block"), "refuse" (answers 400: dead
# letters), "down" (nobody listens: spooled) and "slow" (answers after 30 s). The two
# healthy tenants' sequence-numbered messages all arrive, exactly once, in order,
# while the others are in trouble; "full" holds blocked.maxMemory and drops the rest,
# counted (dropped.blocked), and never makes the action suspend.
. "$top_srcdir/tests/lib/harness.sh"
. "$top_srcdir/tests/system/omtenant_common.sh"
ctx_init "omtenant_isolation${CTX_SUFFIX:-}"
omt_certs
echo 400 >"$CTX_WORK/mode-refuse"
echo "sleep 30" >"$CTX_WORK/mode-slow"
omt_receiver_start ok1
omt_receiver_start ok2
omt_receiver_start refuse --mode-file "$CTX_WORK/mode-refuse"
omt_receiver_start slow --mode-file "$CTX_WORK/mode-slow"
dead=$(omt_port) # nobody listens there
dest() { # id port [spool-json]
    printf '"%s": {"transport": "https", "url": "https://127.0.0.1:%s/%s", "content_encoding": "none",\n' "$1" "$2" "$1"
    printf '  "tls": {"ca_file": "certs/ca.pem", "server_name": "localhost"},\n'
    printf '  "batch": {"max_messages": 50, "max_bytes": 262144, "max_delay_ms": 100}%s}' "${3:+, \"spool\": $3}"
}
{
    printf '{"tenants": {\n'
    dest ok1 "$(omt_receiver_port ok1)"; printf ',\n'
    dest ok2 "$(omt_receiver_port ok2)"; printf ',\n'
    dest refuse "$(omt_receiver_port refuse)"; printf ',\n'
    dest slow "$(omt_receiver_port slow)"; printf ',\n'
    dest down "$dead"; printf ',\n'
    dest full "$dead" '{"max_bytes": 1048576, "when_full": "block"}'
    printf '\n}}\n'
} >"$CTX_WORK/tenants.json"
PS=$(omt_port)
{
    echo 'module(load="@MODDIR@/omtenant/omtenant.so")'
    omt_sender_conf "$PS"
    echo 'ruleset(name="out") {'
    echo '    action(type="omtenant" name="all" tenants="@WORK@/tenants.json" backoff.initial="100" backoff.max="500"'
    echo '           blocked.maxMemory="256k" timeout.send="60000" timeout.shutdown="200"'
    echo '           queue.type="LinkedList" queue.size="100000" action.resumeRetryCount="-1" action.resumeInterval="1")'
    echo '}'
} | ctx_conf
ctx_start
omt_wait_port "$PS"
# first the trouble: "full" gets far more than its spool and hold
omt_send "$PS" --big "full:1:3000" "refuse:1:200" "down:1:200" "slow:1:200"
ctx_wait_stat "omtenant(all:full)" blocked 1 60
ctx_wait_stat "omtenant(all:full)" dropped.blocked 1 60
ctx_wait_stat "omtenant(all:refuse)" deadletter.msgs 1 60
# then the healthy tenants, while the others are in trouble
omt_send "$PS" "ok1:1:300" "ok2:1:300"
ctx_wait_stat "omtenant(all:ok1)" delivered.msgs 300 30
ctx_wait_stat "omtenant(all:ok2)" delivered.msgs 300 30
ctx_assert_eq "full is still blocked" 1 "$(ctx_stat "omtenant(all:full)" blocked)"
ctx_assert_eq "full: nothing refused back to rsyslog" 0 "$(ctx_stat "omtenant(all:full)" refused)"
ctx_assert_eq "slow: nothing delivered yet" 0 "$(ctx_stat "omtenant(all:slow)" delivered.msgs)"
full_in=$(ctx_stat "omtenant(all:full)" msgs)
full_drop=$(ctx_stat "omtenant(all:full)" dropped.blocked)
[ $((full_in + full_drop)) = 3000 ] || ctx_fail "full: $full_in taken + $full_drop dropped != 3000 sent"
ctx_assert_grep "$CTX_ILOG" "omtenant: tenant 'full': blocked, and the 262144 bytes it may hold in memory are used: its new messages are dropped (counted in dropped.blocked)"
ctx_stop_quiet
for t in ok1 ok2; do
    $OMT_PY "$top_srcdir/tests/lib/https_receiver.py" check --out "$CTX_WORK/rcv-$t" --prefix "seq=$t-" --first 1 --last 300 ||
        ctx_fail "$t did not receive 1..300 exactly once"
done
ctx_pass "6 tenants on one action: full (blocked, $full_drop dropped and counted), refusing, down and slow tenants; the healthy ones received all 300 each"
