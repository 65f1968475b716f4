#!/bin/bash
# HUP re-reads the tenants file: a tenant moved to another server and a new tenant take
# effect for the next messages; a bad file is reported and the running one stays in
# use; a tenant removed from the file no longer receives messages.
. "$top_srcdir/tests/lib/harness.sh"
. "$top_srcdir/tests/system/omtenant_common.sh"
ctx_init "omtenant_hup${CTX_SUFFIX:-}"
omt_certs
omt_receiver_start R1
omt_receiver_start R2
P1=$(omt_receiver_port R1)
P2=$(omt_receiver_port R2)
tenant() { omt_https_tenant "$1" "https://127.0.0.1:$2/$1" 20 100; } # id port
echo "{\"tenants\": {$(tenant B "$P1")}}" >"$CTX_WORK/tenants.json"
omt_run 'backoff.initial="100" backoff.max="500"'
R1="$CTX_WORK/rcv-R1" R2="$CTX_WORK/rcv-R2"
omt_send "$PS" "B:1:100"
ctx_wait_stat "omtenant(B)" delivered.msgs 100 60

# 1. B moves to R2, D is new
echo "{\"tenants\": {$(tenant B "$P2"), $(tenant D "$P2")}}" >"$CTX_WORK/tenants.json"
ctx_hup
ctx_wait_for "the reload" 30 "grep -qF 'omtenant: HUP: reloaded $CTX_WORK/tenants.json (2 tenants)' '$CTX_ILOG'"
omt_send "$PS" "B:101:200" "D:1:50"
ctx_wait_stat "omtenant(B)" delivered.msgs 200 60
ctx_wait_stat "omtenant(D)" delivered.msgs 50 60

# 2. a bad file: reported, the running one stays
echo '{"tenants": {"B": {"transport": "https"}}}' >"$CTX_WORK/tenants.json"
ctx_hup
ctx_wait_for "the reload error" 30 "grep -qF 'omtenant: HUP: $CTX_WORK/tenants.json:1: tenants.B: \"url\" is required for transport \"https\"; the running tenants file stays in use' '$CTX_ILOG'"
omt_send "$PS" "B:201:250"
ctx_wait_stat "omtenant(B)" delivered.msgs 250 60

# 3. D removed: its messages are dropped and counted
echo "{\"tenants\": {$(tenant B "$P2")}}" >"$CTX_WORK/tenants.json"
ctx_hup
ctx_wait_for "the second reload" 30 "[ \$(grep -c 'omtenant: HUP: reloaded' '$CTX_ILOG') -ge 2 ]"
omt_send "$PS" "D:51:60" "B:251:260"
ctx_wait_stat "omtenant(B)" delivered.msgs 260 60
ctx_wait_stat "omtenant(omtenant)" dropped.notenant 10 60
ctx_stop
grep -c 'seq=' "$R1/messages.log" | grep -qx 100 || ctx_fail "R1 got other than B 1..100"
mkdir -p "$CTX_WORK/r2b" "$CTX_WORK/r2d"
grep -P '\t\{.*"app":"B"' "$R2/messages.log" >"$CTX_WORK/r2b/messages.log"
grep -P '\t\{.*"app":"D"' "$R2/messages.log" >"$CTX_WORK/r2d/messages.log"
$OMT_PY "$top_srcdir/tests/lib/https_receiver.py" check --out "$CTX_WORK/r2b" --prefix seq=B- --first 101 --last 260 ||
    ctx_fail "B at R2"
$OMT_PY "$top_srcdir/tests/lib/https_receiver.py" check --out "$CTX_WORK/r2d" --prefix seq=D- --first 1 --last 50 ||
    ctx_fail "D at R2"
ctx_assert_eq "reloads" 2 "$(ctx_stat "omtenant(omtenant)" reloads)"
ctx_assert_eq "reload.errors" 1 "$(ctx_stat "omtenant(omtenant)" reload.errors)"
ctx_pass "moved, added, kept on a bad file, removed: each took effect on HUP"
