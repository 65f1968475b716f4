#!/bin/bash
# mmctxenrich when the compute manager misbehaves (plain HTTP test server):
#  A. it hangs (requests never answered, cm.timeout 30 s): messages keep flowing at once,
#     "pending", and no more requests than cm.maxInFlight are open;
#  B. it answers again: context returns within one TTL;
#  C. it is down (killed): cached data is served "stale", messages flow;
#  D. it comes back on the same port: "ok" again within one TTL;
#  E. garbage, HTML, truncated JSON, 3 MB of JSON, wrong types, 500, 404, 429: each
#     counted under its counter and logged with its reason, never a crash; a slow
#     answer (2 s) leaves messages pending meanwhile, then serves them;
#  F. rsyslogd stops promptly while a request hangs.
. "$top_srcdir/tests/lib/harness.sh"
. "$top_srcdir/tests/system/mmctxenrich_lib.sh"
ctx_init "mmctxenrich_cmfail${CTX_SUFFIX:-}"
N=${CTX_N:-2000}
uuid() { printf '22222222-2222-4333-8444-0000000002%02d' "$1"; }
cat >"$CTX_WORK/routes.json" <<'JSON'
{"/servers/{id}": {"server": {"id": "{id}", "tenant_id": "p1", "metadata": {"os_distro": "debian-12"},
   "OS-EXT-STS:vm_state": "active", "OS-EXT-SRV-ATTR:host": "c1", "OS-EXT-SRV-ATTR:hypervisor_hostname": "c1.example",
   "flavor": {"original_name": "m1.small", "vcpus": 2, "ram": 2048}}},
 "/servers/{id}/diagnostics": {"cpu_details": [{"id": 0, "utilisation": 40}],
   "memory_details": {"maximum": 1000, "used": 100}, "uptime": 77}}
JSON
mmx_cm_start
mmx_cm_ctl mode=hang
PORT=$(mmx_port)
mmx_run f <<PARAMS
cm.url="$MMX_CM/servers/{uuid}" cm.statsUrl="$MMX_CM/servers/{uuid}/diagnostics"
cm.mapping="@TOP@/conf-examples/cm-nova.json" cm.timeout="30000" cm.connectTimeout="2000" cm.logInterval="0"
cm.maxInFlight="4" cache.dynamicTTL="3000" cache.staticTTL="3000" cache.backoffMin="200" cache.backoffMax="1000"
cm.allowInsecure="on"
PARAMS
stat() { ctx_stat "mmctxenrich(f)" "$1"; }
vms=""
for i in 0 1 2 3 4; do vms="$vms,v$i:$(uuid "$i")"; done
vms=${vms#,}
lines=0
expect_lines() { lines=$((lines + $1)); ctx_wait_lines "$CTX_WORK/out" "$lines" "${2:-30}"; }
# probe VMSPEC SEV STATUS: one probe message; true once it is served with cm.status STATUS
probe=0
probe() {
    probe=$((probe + 1))
    mmx_send "$PORT" 1 "probe$probe-" "vms=$1" "sev=$2"
    expect_lines 1
    grep -F "seq=probe$probe-0" "$CTX_WORK/out" | /usr/bin/python3 -c '
import json, sys
ctx = json.loads(sys.stdin.read().rstrip("\n").split("|", 6)[6])
sys.exit(0 if ctx.get("cm", {}).get("status") == sys.argv[1] else 1)' "$3"
}

# A. hanging: N messages of 5 VMs go through at once, all pending, <= 4 requests open (the
# deadline is generous for a loaded host but below cm.timeout: a message that waited for a
# hanging request would miss it)
t0=$(date +%s%N)
mmx_send "$PORT" "$N" hang- "vms=$vms" sev=err
expect_lines "$N" 25
ms=$((($(date +%s%N) - t0) / 1000000))
mmx_check "$CTX_WORK/out" '
bad = [r for r in rows if get(r, "cm.status") != "pending"]
if bad: fail("%d messages not pending while the server hangs: %s" % (len(bad), bad[0]["ctx"]))
'
ctx_wait_stat "mmctxenrich(f)" msgs.processed "$N"
# the fetcher's count and the server's: both reach 4, and stay there (impstats and the
# server's count trail the requests)
ctx_wait_for "cm.requests = 4" 30 "[ \"\$(stat cm.requests)\" = 4 ]"
ctx_wait_for "4 requests at the server" 30 "[ \"\$(mmx_cm_n .total)\" = 4 ]"
ctx_stats_round "mmctxenrich(f)"
ctx_assert_eq "requests started while hanging (cm.maxInFlight)" 4 "$(stat cm.requests)"
ctx_assert_eq "requests open while hanging (cm.maxInFlight)" 4 "$(mmx_cm_n .total)"
ctx_log "A: $N messages in $ms ms while the compute manager hangs"

# B. it answers again: first "ok" within one TTL (3 s); one message per 100 ms
mmx_cm_ctl mode=ok
mmx_send "$PORT" 50 back- "vms=v0:$(uuid 0)" sev=err rate=10
expect_lines 50
mmx_check "$CTX_WORK/out" '
ok = [int(r["seq"][5:]) for r in rows if r["seq"].startswith("back-") and get(r, "cm.status") == "ok"]
if not ok or ok[0] > 30: fail("context back after %s x 100 ms (TTL 3 s)" % (ok[:1] or "never"))
r = by_seq["back-%d" % ok[0]]
if get(r, "cm.guest_os") != "debian-12" or get(r, "cm.avg_vm_cpu_pct") != 40 or get(r, "cm.avg_vm_mem_pct") != 10:
    fail("context: %s" % r["ctx"])
print("B: context back after %d00 ms" % ok[0])
'

# C. down: after the TTL the data is served stale
port=$MMX_CM_PORT
mmx_cm_stop
# until the TTL of both parts (3 s) has run out: probes until one is served stale
ctx_wait_for "the cached context to go stale" 15 "probe v0:$(uuid 0) err stale"
mmx_send "$PORT" 30 down- "vms=v0:$(uuid 0)" sev=err rate=10
expect_lines 30
mmx_check "$CTX_WORK/out" '
down = [r for r in rows if r["seq"].startswith("down-")]
bad = [r for r in down if get(r, "cm.status") != "stale" or get(r, "cm.guest_os") != "debian-12"]
if bad: fail("%d of %d not stale with data while the server is down: %s" % (len(bad), len(down), bad[0]["ctx"]))
'
ctx_wait_stat "mmctxenrich(f)" cm.transport_errors 1
ctx_wait_for "the failed request logged" 30 "grep -qF 'mmctxenrich(f): cm request $MMX_CM/servers/$(uuid 0)' '$CTX_ILOG'"

# D. back on the same port: ok within one TTL
mmx_cm_start --port "$port"
mmx_send "$PORT" 50 again- "vms=v0:$(uuid 0)" sev=err rate=10
expect_lines 50
mmx_check "$CTX_WORK/out" '
ok = [int(r["seq"][6:]) for r in rows if r["seq"].startswith("again-") and get(r, "cm.status") == "ok"]
if not ok or ok[0] > 30: fail("context back after %s x 100 ms (TTL 3 s)" % (ok[:1] or "never"))
print("D: context back after %d00 ms" % ok[0])
'

# E. bad answers, one VM each (static part: info messages)
settled() { [ $(($(stat cm.ok) + $(stat cm.errors) + $(stat cm.timeouts))) = "$(stat cm.requests)" ]; }
bad_case() { # idx log-line mode-args... : the VM's first message triggers the fetch, which fails
    local idx=$1 line=$2
    shift 2
    mmx_cm_ctl "$@" "only=$(uuid "$idx")"
    local before
    before=$(mmx_cm_n .total)
    mmx_send "$PORT" 1 "bad$idx-" "vms=b$idx:$(uuid "$idx")" sev=info
    expect_lines 1
    ctx_wait_for "the fetch of VM $idx" 30 "[ \$(mmx_cm_n .total) -gt $before ]"
    # its outcome: logged, and counted in an impstats record taken after it
    ctx_wait_for "the log line of VM $idx's failure" 30 "grep -qF -- \"\$line\" '$CTX_ILOG'"
    ctx_stats_round "mmctxenrich(f)"
    ctx_wait_for "its outcome counted" 30 settled
}
url() { echo "$MMX_CM/servers/$(uuid "$1")"; }
base_http=$(stat cm.http_errors)
bad_case 10 "cm request $(url 10) failed: not JSON (520 bytes)" mode=garbage
bad_case 11 "cm request $(url 11) failed: not JSON (50 bytes)" mode=html
bad_case 12 "cm request $(url 12) failed: truncated JSON" mode=truncated
bad_case 13 "cm request $(url 13) failed: response larger than cm.maxResponseBytes=1048576" mode=huge
bad_case 14 "mmctxenrich(f): compute-manager reply for '$(uuid 14)': 6 field(s) not mapped, first: guest_os (/server/metadata/os_distro): wrong type (expected string, got array)" mode=wrongtype
bad_case 15 "cm request $(url 15) failed: HTTP 500" mode=fail status=500
bad_case 16 "cm request $(url 16) failed: HTTP 404" mode=fail status=404
bad_case 17 "cm request $(url 17) failed: HTTP 429" mode=fail status=429 retry_after=1
# a slow answer (2 s): the VM's messages meanwhile are pending, nothing waits for it
mmx_cm_ctl mode=delay delay=2 "only=$(uuid 18)"
mmx_send "$PORT" 3 slow- "vms=b18:$(uuid 18)" sev=info
expect_lines 3
mmx_check "$CTX_WORK/out" '
if [get(by_seq["slow-%d" % i], "cm.status") for i in range(3)] != ["pending"] * 3: fail("while slow")
'
mmx_cm_ctl mode=ok
# the slow answer arrives (2 s after the 429, whose Retry-After hold of 1 s is then over)
ctx_wait_for "the slow answer" 15 "probe b18:$(uuid 18) info ok"
# one message of each VM (one sender: VM 18's status "ok" was seen above; its context may
# have aged to "stale" since, on a loaded host, but is there)
bvms=""
for i in 10 11 12 13 14 15 16 17 18; do bvms="$bvms,b$i:$(uuid "$i")"; done
mmx_send "$PORT" 9 after- "vms=${bvms#,}" sev=info
expect_lines 9
mmx_check "$CTX_WORK/out" '
st = {i: get(by_seq["after-%d" % (i - 10)], "cm.status") for i in range(10, 19)}
if st[18] not in ("ok", "stale") or get(by_seq["after-8"], "cm.guest_os") != "debian-12": fail("after the slow answer: %s" % st[18])
for i in (10, 11, 12, 13, 15, 16, 17):
    if st[i] != "unavailable": fail("VM %d after its failure: %s" % (i, st[i]))
w = by_seq["after-4"]
if st[14] not in ("ok", "stale") or get(w, "cm.vcpus") != 2 or get(w, "cm.guest_os") is not None: fail("wrong types: %s" % w["ctx"])
'
ctx_stats_round "mmctxenrich(f)"
ctx_wait_for "the requests settled" 30 settled
ctx_assert_eq "cm.parse_errors" 3 "$(stat cm.parse_errors)"
ctx_assert_eq "cm.too_big" 1 "$(stat cm.too_big)"
ctx_assert_eq "cm.http_errors" $((base_http + 3)) "$(stat cm.http_errors)"
ctx_assert_eq "cm.throttled" 1 "$(stat cm.throttled)"
ctx_assert_eq "cm.mapping_problems (6 strings of one reply)" 6 "$(stat cm.mapping_problems)"

# F. a request hangs at shutdown: rsyslogd still stops promptly
mmx_cm_ctl mode=hang
before=$(mmx_cm_n .total)
mmx_send "$PORT" 1 last- "vms=z:$(uuid 30)" sev=info
expect_lines 1
ctx_wait_for "the hanging request" 30 "[ \$(mmx_cm_n .total) -gt $before ]"
t0=$(date +%s%N)
ctx_stop
ms=$((($(date +%s%N) - t0) / 1000000))
[ "$ms" -lt 5000 ] || ctx_fail "shutdown took $ms ms with a hanging request"
ctx_check_seq "$CTX_WORK/out" "seq=hang-" 0 $((N - 1))
ctx_pass "hang, recovery, outage, comeback and 8 kinds of bad answers; shutdown in $ms ms while hanging"
