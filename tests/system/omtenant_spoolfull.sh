#!/bin/bash
# Spool limits while tenant servers are down, one action (own queue, own spool) each:
#  - "block": the spool fills, the tenant is blocked, rsyslog holds its messages and
#    retries them; once the server is back every message arrives, in order;
#  - "drop-oldest": the oldest spooled batches are deleted and counted; the newest
#    arrive, the missing ones are exactly the dropped batches;
#  - disk full: the spool sits on a 2 MiB tmpfs; ENOSPC is reported naming the
#    tenant, the tenant is blocked, and everything arrives once the server is back.
. "$top_srcdir/tests/lib/harness.sh"
. "$top_srcdir/tests/system/omtenant_common.sh"
ctx_init "omtenant_spoolfull${CTX_SUFFIX:-}"
omt_certs
mkdir -p "$CTX_WORK/rcv-R" "$CTX_WORK/tmpfs"
omt_port >"$CTX_WORK/rcv-R/port" # the servers are down: nobody listens there yet
PR=$(omt_receiver_port R)
ctx_need_root "a 2 MiB tmpfs stands for the full disk"
mount -t tmpfs -o size=2m,mode=0700 tmpfs "$CTX_WORK/tmpfs" || ctx_skip "cannot mount a tmpfs"
ctx_on_exit "umount '$CTX_WORK/tmpfs'"
dest() { # id policy
    printf '"%s": {"transport": "https", "url": "https://127.0.0.1:%s/%s", "content_encoding": "none",\n' "$1" "$PR" "$1"
    printf '  "tls": {"ca_file": "certs/ca.pem", "server_name": "localhost"}, "batch": {"max_messages": 50, "max_bytes": 262144, "max_delay_ms": 100},\n'
    printf '  "spool": {"max_bytes": %s, "when_full": "%s"}}\n' "${3:-1048576}" "$2"
}
echo "{\"tenants\": {$(dest blk block)}}" >"$CTX_WORK/t-block.json"
echo "{\"tenants\": {$(dest drop drop-oldest)}}" >"$CTX_WORK/t-drop.json"
echo "{\"tenants\": {$(dest disk block 1073741824)}}" >"$CTX_WORK/t-disk.json"
PS=$(omt_port)
{
    echo 'module(load="@MODDIR@/omtenant/omtenant.so")'
    omt_sender_conf "$PS"
    echo 'ruleset(name="out") {'
    for t in block drop disk; do
        sd="@WORK@/spool-$t"
        [ $t = disk ] && sd="@WORK@/tmpfs"
        echo "    if \$app-name == \"$([ $t = block ] && echo blk || echo $t)\" then"
        echo "    action(type=\"omtenant\" name=\"$t\" tenants=\"@WORK@/t-$t.json\" spool.directory=\"$sd\""
        echo "           deadletter.directory=\"@WORK@/dl-$t\" backoff.initial=\"100\" backoff.max=\"500\""
        echo '           queue.type="LinkedList" queue.size="100000" action.resumeRetryCount="-1" action.resumeInterval="1")'
    done
    echo '}'
} | ctx_conf
ctx_start
omt_wait_port "$PS"
omt_send "$PS" --big "blk:1:1600" "drop:1:3000" "disk:1:2000"

# block: refused once the 1 MiB spool is full
ctx_wait_stat "omtenant(block:blk)" blocked 1 60
ctx_wait_stat "omtenant(block:blk)" spool.full 1 60
ctx_wait_stat "omtenant(block:blk)" refused 1 60
ctx_assert_grep "$CTX_ILOG" "omtenant: tenant 'blk': spool full (1048576 bytes, policy block): new messages of this tenant are held back"
# drop-oldest: takes everything, drops the oldest
ctx_wait_stat "omtenant(drop:drop)" msgs 3000 60
ctx_wait_stat "omtenant(drop:drop)" spool.dropped 1 60
ctx_assert_eq "drop-oldest is never blocked" 0 "$(ctx_stat "omtenant(drop:drop)" blocked)"
# disk full: ENOSPC, blocked
ctx_wait_stat "omtenant(disk:disk)" blocked 1 60
ctx_wait_stat "omtenant(disk:disk)" spool.errors 1 60
ctx_assert_grep "$CTX_ILOG" "omtenant: tenant 'disk': cannot spool a batch: "
ctx_assert_grep "$CTX_ILOG" "No space left on device; new messages of this tenant are held back until it can"
dropped=$(ctx_stat "omtenant(drop:drop)" spool.dropped)

# the server comes back
omt_receiver_start R
RR="$CTX_WORK/rcv-R"
ctx_wait_stat "omtenant(block:blk)" delivered.msgs 1600 120
ctx_wait_stat "omtenant(disk:disk)" delivered.msgs 2000 120
ctx_wait_stat "omtenant(drop:drop)" delivered.msgs $((3000 - 50 * dropped)) 120
ctx_stop
grep -P '^\d+\t\{.*"app":"blk"' "$RR/messages.log" >"$CTX_WORK/blk.log"
grep -P '^\d+\t\{.*"app":"disk"' "$RR/messages.log" >"$CTX_WORK/disk.log"
grep -P '^\d+\t\{.*"app":"drop"' "$RR/messages.log" >"$CTX_WORK/drop.log"
mkdir -p "$CTX_WORK/c-blk" "$CTX_WORK/c-disk" "$CTX_WORK/c-drop"
for t in blk disk drop; do cp "$CTX_WORK/$t.log" "$CTX_WORK/c-$t/messages.log"; done
chk() { $OMT_PY "$top_srcdir/tests/lib/https_receiver.py" check --out "$CTX_WORK/c-$1" --prefix "seq=$1-" --first "$2" --last "$3"; }
chk blk 1 1600 || ctx_fail "block: messages lost, duplicated or out of order"
chk disk 1 2000 || ctx_fail "disk full: messages lost, duplicated or out of order"
# drop-oldest: exactly the first 50 x dropped messages are missing (whole oldest batches)
chk drop $((50 * dropped + 1)) 3000 || ctx_fail "drop-oldest: not exactly the $dropped oldest batches are missing"
[ "$dropped" -ge 2 ] || ctx_fail "drop-oldest dropped only $dropped batches"
ctx_assert_eq "spool.dropped after delivery" "$dropped" "$(ctx_stat "omtenant(drop:drop)" spool.dropped)"
ctx_pass "block held 1600 back and delivered all; drop-oldest dropped $dropped oldest batches, counted; ENOSPC blocked and delivered all 2000"
