#!/bin/bash
# impstats with resetCounters="on": counters show what is new since the last record (their
# deltas add up to the true totals), gauges keep their value (a tenant's spool while its
# server is down), and every renamed counter is still emitted under its deprecated name
# with the same value (omtenant reloads / reload.errors, mmctxenrich policy.reload_errors).
. "$top_srcdir/tests/lib/harness.sh"
. "$top_srcdir/tests/system/omtenant_common.sh"
ctx_init "stats_reset${CTX_SUFFIX:-}"
CTX_STATS_RESET=on
omt_certs
DOWN=$(omt_port) # nothing listens there: tenant A's batches go to its spool
tenants() { echo "{\"tenants\": {$(omt_https_tenant A "https://127.0.0.1:$DOWN/A" "$1" 100)}}"; } # A's max_messages
tenants 10 >"$CTX_WORK/tenants.json"
echo 'rule rest then standard' >"$CTX_WORK/policy.rules"
PS=$(omt_port)
{
    echo 'module(load="@MODDIR@/omtenant/omtenant.so")'
    echo 'module(load="@MODDIR@/mmctxenrich/mmctxenrich.so")'
    omt_sender_conf "$PS"
    echo 'ruleset(name="out") {'
    echo '    action(type="mmctxenrich" name="st" policy="@WORK@/policy.rules")'
    echo '    action(type="omtenant" tenants="@WORK@/tenants.json" backoff.initial="100" backoff.max="200"'
    echo '           queue.type="LinkedList" action.resumeRetryCount="-1" action.resumeInterval="1")'
    echo '}'
} | ctx_conf
ctx_start
omt_wait_port "$PS"

# sum NAME COUNTER: the counter summed over every impstats record of NAME so far
sum() {
    /usr/bin/python3 - "$CTX_WORK/stats.log" "$1" "$2" <<'PY'
import json, sys
path, name, ctr = sys.argv[1:]
total = 0
for line in open(path, errors="replace"):
    i = line.find("{")
    if i < 0:
        continue
    try:
        rec = json.loads(line[i:])
    except ValueError:
        continue
    if rec.get("name") == name:
        total += int(rec.get(ctr, 0))
print(total)
PY
}
wait_sum() { ctx_wait_for "$1 $2 summed = $3" 60 "[ \"\$(sum '$1' '$2')\" = '$3' ]"; }
records() { grep -cF "\"name\": \"$1\"" "$CTX_WORK/stats.log"; }

omt_send "$PS" "A:1:50"
wait_sum "omtenant(A)" msgs 50
wait_sum "omtenant(omtenant)" msgs 50
wait_sum "mmctxenrich(st)" msgs.processed 50
ctx_wait_stat "omtenant(A)" spool.batches 5 60 # 50 messages, at most 10 a batch, the server down
spooled=$(ctx_stat "omtenant(A)" spool.batches)

# counters were reset: with nothing new, the next record shows 0
n=$(records "omtenant(A)")
ctx_wait_for "a later record of omtenant(A)" 30 "[ \$(records 'omtenant(A)') -ge $((n + 2)) ]"
ctx_assert_eq "omtenant(A) msgs after the traffic (reset)" 0 "$(ctx_stat "omtenant(A)" msgs)"
ctx_assert_eq "mmctxenrich(st) msgs.processed after the traffic (reset)" 0 "$(ctx_stat "mmctxenrich(st)" msgs.processed)"
# the gauges were not: the spool still holds every batch, record after record
ctx_assert_eq "omtenant(A) spool.batches (gauge, not reset)" "$spooled" "$(ctx_stat "omtenant(A)" spool.batches)"
[ "$(ctx_stat "omtenant(A)" spool.bytes)" -gt 0 ] || ctx_fail "omtenant(A) spool.bytes (gauge) was reset"

# a bad tenants file and a bad policy, then good ones: new and deprecated names agree
echo '{"tenants": {"A": {"transport": "https"}}}' >"$CTX_WORK/tenants.json"
echo 'rule broken when' >"$CTX_WORK/policy.rules"
ctx_hup
wait_sum "omtenant(omtenant)" tenants.reload.errors 1
wait_sum "mmctxenrich(st)" policy.reload.errors 1
tenants 20 >"$CTX_WORK/tenants.json"
echo 'rule rest then verbose' >"$CTX_WORK/policy.rules"
ctx_hup
wait_sum "omtenant(omtenant)" tenants.reloads 1
wait_sum "mmctxenrich(st)" policy.reloads 1
n=$(records "omtenant(omtenant)")
ctx_wait_for "a later record of omtenant(omtenant)" 30 "[ \$(records 'omtenant(omtenant)') -ge $((n + 1)) ]"
ctx_assert_eq "deprecated reloads" 1 "$(sum "omtenant(omtenant)" reloads)"
ctx_assert_eq "deprecated reload.errors" 1 "$(sum "omtenant(omtenant)" reload.errors)"
ctx_assert_eq "deprecated policy.reload_errors" 1 "$(sum "mmctxenrich(st)" policy.reload_errors)"
ctx_assert_eq "tenants.reload.errors after the reset" 0 "$(ctx_stat "omtenant(omtenant)" tenants.reload.errors)"
ctx_stop
ctx_pass "counters reset to deltas that sum to the totals, gauges kept, deprecated names emitted"
