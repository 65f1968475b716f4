#!/bin/bash
# A tenant's spool is bound to the tenant and destination it was written for: batches
# spooled for one destination are never sent to another. (1) B's server fails (500):
# messages 1..100 are spooled. (2) With B's URL changed and rsyslogd restarted, the old
# spool is moved aside (quarantined, logged, counted): the new server receives none of
# 1..100, then 101..150 exactly once. (3) A HUP that changes the destination of a tenant
# with batches pending is refused, naming the tenant.
. "$top_srcdir/tests/lib/harness.sh"
. "$top_srcdir/tests/system/omtenant_common.sh"
ctx_init "omtenant_stamp${CTX_SUFFIX:-}"
omt_certs
echo 500 >"$CTX_WORK/mode-old"
omt_receiver_start OLD --mode-file "$CTX_WORK/mode-old"
omt_receiver_start NEW
tenants() { # URL
    echo "{\"tenants\": {$(omt_https_tenant B "$1" 20 100)}}" >"$CTX_WORK/tenants.json"
}
OLD="https://127.0.0.1:$(omt_receiver_port OLD)/bulk"
NEW="https://127.0.0.1:$(omt_receiver_port NEW)/bulk"
tenants "$OLD"
omt_run 'backoff.initial="100" backoff.max="400" timeout.shutdown="500"'
omt_send "$PS" "B:1:100"
ctx_wait_stat "omtenant(B)" spooled.batches 5 60
ctx_stop
SP="$CTX_WORK/omtenant-spool/B"
grep -q "^tenant=B dest-sha256=" "$SP/stamp" || ctx_fail "no stamp in $SP"

# (2) another destination for B: the spool is quarantined, not sent
tenants "$NEW"
ctx_start
omt_wait_port "$PS"
ctx_wait_for "the quarantine line" 30 "grep -q \"omtenant: tenant 'B': its spool was written for another tenant or destination (now $NEW): moved to $SP.quarantine-\" '$CTX_ILOG'"
q=$(ls -d "$SP".quarantine-* | head -1)
[ -n "$(ls "$q"/*.seg 2>/dev/null)" ] || ctx_fail "the quarantined spool $q holds no segment"
omt_send "$PS" "B:101:150"
ctx_wait_stat "omtenant(B)" delivered.msgs 50 60

# (3) a HUP moving B elsewhere while it has batches pending is refused
omt_receiver_stop NEW
omt_send "$PS" "B:151:160"
ctx_wait_stat "omtenant(B)" spooled.batches 1 60
tenants "$OLD"
ctx_hup
ctx_wait_for "the refused HUP" 30 "grep -q \"omtenant: HUP: tenant 'B': its destination changed to $OLD while [0-9]* batches for the previous one are pending\" '$CTX_ILOG'"
ctx_assert_eq "spool.quarantined" 1 "$(ctx_stat "omtenant(omtenant)" spool.quarantined)"
ctx_stop
$OMT_PY "$top_srcdir/tests/lib/https_receiver.py" check --out "$CTX_WORK/rcv-NEW" --prefix seq=B- --first 101 --last 150 ||
    ctx_fail "the new destination must receive 101..150 exactly once, and nothing spooled for the old one"
ctx_pass "spool bound to its destination: quarantined at restart, refused at HUP; the new server got only its own messages"
