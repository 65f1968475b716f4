#!/bin/bash
# mmctxenrich with a compute manager over HTTPS (a test CA made here, a bearer token), the
# shipped OpenStack Nova field mapping and a Nova-shaped test server:
#  - the first message of a VM is "pending" and causes exactly one static fetch; the next
#    ones carry the mapped fields with status "ok";
#  - 10,000 messages from 10 VMs cause exactly 10 static fetches, and no more dynamic and
#    host fetches than the TTL allows over the run;
#  - an action with the bulk URL only fills all VMs from one listing at start-up;
#  - an action whose CA did not sign the server's certificate gets no context
#    ("unavailable"), counts the TLS failure, and its messages flow all the same.
. "$top_srcdir/tests/lib/harness.sh"
. "$top_srcdir/tests/system/mmctxenrich_lib.sh"
ctx_init "mmctxenrich_cm${CTX_SUFFIX:-}"
# (action names are chosen so that no impstats line is exactly 128 bytes long: rsyslog
# 8.2302's stats formatter writes one byte past such a line, which valgrind reports)
N=${CTX_N:-10000}
uuid() { printf '11111111-2222-4333-8444-0000000001%02d' "$1"; }
vms=""
for i in $(seq 0 9); do vms="$vms,cm-vm$i:$(uuid "$i")"; done
vms=${vms#,}
server() { mmx_nova_server "$1" cm-vm "$2"; } # a Nova server object for the routes file
{
    echo '{"/servers/{id}": {"server": '"$(server '{id}' x)"'},'
    echo ' "/servers/{id}/diagnostics": {"cpu_details": [{"id": 0, "time": 5, "utilisation": 10},
       {"id": 1, "time": 6, "utilisation": 31}], "memory_details": {"maximum": 2048, "used": 512}, "uptime": 3600},'
    echo ' "/os-hypervisors/{id}": {"hypervisor": {"host_ip": "192.0.2.1", "vcpus": 32, "vcpus_used": 8,
       "memory_mb": 65536, "memory_mb_used": 16384, "running_vms": 10, "state": "up"}},'
    echo ' "/servers/detail": {"servers": ['
    for i in $(seq 0 9); do [ "$i" = 0 ] || echo ","; server "$(uuid "$i")" "$i"; done
    echo ']}}'
} >"$CTX_WORK/routes.json"
TOKEN=tok-$RANDOM$RANDOM
printf '%s\n' "$TOKEN" >"$CTX_WORK/token"
mmx_cm_start --tls --token "$TOKEN"
PORT=$(mmx_port)
common="cm.mapping=\"@TOP@/conf-examples/cm-nova.json\" cm.tokenFile=\"@WORK@/token\""
host="cm.hostUrl=\"$MMX_CM/os-hypervisors/{name}\" cm.hostName=\"hv-1\" cache.hostTTL=\"60000\""
# err messages ask for the host-wide part too (never by default: docs/threat-model.md)
echo 'rule ops when severity <= err then hostwide' >"$CTX_WORK/cm.rules"
ctx_conf <<CONF
$(mmx_udp_head "$PORT")
if \$programname == "bulk" then {
    action(type="mmctxenrich" name="bulkload" cm.bulkUrl="$MMX_CM/servers/detail" cm.startJitter="0" cm.caFile="@WORK@/pki/ca.pem" $common)
    action(type="omfile" file="@WORK@/out-bulk" template="ctxcheck")
    stop
}
if \$programname == "badtls" then {
    action(type="mmctxenrich" name="badtls" cm.url="$MMX_CM/servers/{uuid}" cm.caFile="@WORK@/pki/other-ca.pem"
           cm.timeout="3000" $common $host)
    action(type="omfile" file="@WORK@/out-badtls" template="ctxcheck")
    stop
}
action(type="mmctxenrich" name="cmtest" cm.url="$MMX_CM/servers/{uuid}" cm.statsUrl="$MMX_CM/servers/{uuid}/diagnostics"
       cm.caFile="@WORK@/pki/ca.pem" cache.dynamicTTL="2000" cm.ratePerSec="100" cm.burst="20" $common $host
       policy="@WORK@/cm.rules")
action(type="omfile" file="@WORK@/out" template="ctxcheck")
CONF
ctx_start
stat() { ctx_stat "mmctxenrich(cmtest)" "$1"; }

# 1. the first message of a VM: pending, one static fetch; then ok. Info (standard) never
# asks for the host part; the first err (hostwide) does, once
mmx_send "$PORT" 1 first- app=first "vms=cm-vm0:$(uuid 0)"
ctx_wait_lines "$CTX_WORK/out" 1
ctx_wait_for "the static fetch of cm-vm0" 20 "[ \"\$(mmx_cm_n '.paths[\"/servers/$(uuid 0)\"] // 0')\" = 1 ]"
ctx_wait_stat "mmctxenrich(cmtest)" cm.ok 1
mmx_send "$PORT" 1 second- app=second "vms=cm-vm0:$(uuid 0)" sev=info
ctx_wait_lines "$CTX_WORK/out" 2
ctx_assert_eq "host fetches before an err" 0 "$(mmx_cm_n '.paths["/os-hypervisors/hv-1"] // 0')"
mmx_send "$PORT" 1 third- app=third "vms=cm-vm0:$(uuid 0)" sev=err
ctx_wait_for "the host fetch" 20 "[ \"\$(mmx_cm_n '.paths[\"/os-hypervisors/hv-1\"] // 0')\" = 1 ]"
ctx_wait_stat "mmctxenrich(cmtest)" cm.ok 3 # static, host, stats (status may be stale by now on a busy machine)
mmx_send "$PORT" 1 fourth- app=fourth "vms=cm-vm0:$(uuid 0)" sev=err
ctx_wait_lines "$CTX_WORK/out" 4
cat >"$CTX_WORK/expect" <<EOF
seq=seq=first-0 sev=info vm.name=cm-vm0 cm.status=pending cm.guest_os=- cm.fetched_at=-
seq=seq=second-0 sev=info cm.status=ok cm.guest_os=debian-12 cm.flavor=m1.small cm.vcpus=2 cm.host=- cm.host_ip=- cm.avg_vm_cpu_pct=-
seq=seq=third-0 sev=err cm.status=pending cm.guest_os=debian-12 cm.avg_vm_cpu_pct=-
seq=seq=fourth-0 sev=err cm.guest_os=debian-12 cm.host.host_ip=192.0.2.1 cm.host.avg_host_cpu_pct=25 cm.host.avg_host_mem_pct=25 cm.host.running_vms=10 cm.avg_vm_cpu_pct=20.5 cm.host_ip=-
EOF
ctx_check "$CTX_WORK/out" "$CTX_WORK/expect"
mmx_check "$CTX_WORK/out" '
import datetime
fa = get(by_seq["second-0"], "cm.fetched_at")
t = datetime.datetime.strptime(fa, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=datetime.timezone.utc)
age = (datetime.datetime.now(datetime.timezone.utc) - t).total_seconds()
if not 0 <= age < 60: fail("fetched_at %s is %.1f s old" % (fa, age))
'
ctx_assert_eq "bearer token sent" "Bearer $TOKEN" "$(mmx_cm_n .auth)"

settled() { [ $(($(stat cm.ok) + $(stat cm.errors) + $(stat cm.timeouts))) -ge "$(stat cm.requests)" ]; }
# 2. N messages from 10 VMs over 5 s, info and err (err asks for the dynamic part, TTL 2 s);
# what section 1 fetched (cm-vm0's stats: twice when it outlasted the TTL on a loaded host)
# counts before, once settled in an impstats record taken after it
ctx_stats_round "mmctxenrich(cmtest)"
ctx_wait_for "section 1's fetches" 30 settled
d0=()
for i in $(seq 0 9); do d0[$i]=$(mmx_cm_n ".paths[\"/servers/$(uuid "$i")/diagnostics\"] // 0"); done
t0=$(date +%s.%N)
mmx_send "$PORT" "$N" bulk- app=many "vms=$vms" sev=info,err,info rate=$((N / 5))
ctx_wait_lines "$CTX_WORK/out" $((N + 4)) 120
t1=$(date +%s.%N)
ctx_wait_stat "mmctxenrich(cmtest)" msgs.processed $((N + 4))
ctx_check_seq "$CTX_WORK/out" "seq=bulk-" 0 $((N - 1))
# the fetches started by the last messages have finished before counting (on a record
# taken after the last message)
ctx_stats_round "mmctxenrich(cmtest)"
ctx_wait_for "the fetches in flight" 30 settled
elapsed=$(awk "BEGIN {printf \"%.1f\", $t1 - $t0 + 0.5}")
static=$(mmx_cm_n '[.paths | to_entries[] | select(.key | test("^/servers/[0-9a-f-]+$")) | .value] | add')
ctx_assert_eq "static fetches (one per VM)" 10 "$static"
for i in $(seq 0 9); do
    ctx_assert_eq "static fetches of VM $i" 1 "$(mmx_cm_n ".paths[\"/servers/$(uuid "$i")\"]")"
    d=$(($(mmx_cm_n ".paths[\"/servers/$(uuid "$i")/diagnostics\"] // 0") - d0[$i]))
    # each VM: one fetch, then at most one refresh per TTL (2 s) of the run
    max=$(awk "BEGIN {print int(1 + ($elapsed + 1) / 2)}")
    [ "$d" -ge 1 ] && [ "$d" -le "$max" ] || ctx_fail "VM $i: $d dynamic fetches in $elapsed s (1..$max allowed)"
done
h=$(mmx_cm_n '.paths["/os-hypervisors/hv-1"]')
ctx_assert_eq "host fetches (TTL 60 s)" 1 "$h"
total=$(($(mmx_cm_n .total) - 1)) # the bulk action's listing is the other one
ctx_wait_for "cm.requests = server's count" 10 "[ \"\$(stat cm.requests)\" = '$total' ]"
ctx_assert_eq "cm.ok" "$total" "$(stat cm.ok)"
ctx_assert_eq "cm.errors" 0 "$(stat cm.errors)"
mmx_check "$CTX_WORK/out" '
seqs = [int(r["seq"][5:]) for r in rows if r["seq"] and r["seq"].startswith("bulk-")]
late = [r for r in rows if r["seq"] and r["seq"].startswith("bulk-") and int(r["seq"][5:]) >= max(seqs) * 9 // 10]
for r in late:
    if get(r, "cm.guest_os") != "debian-12": fail("late message without static context: %s" % r)
    if r["sev"] == "err" and get(r, "cm.status") in ("ok", "stale") and get(r, "cm.avg_vm_cpu_pct") != 20.5:
        fail("err message without the dynamic average: %s" % r)
'
ctx_log "$N messages in ${elapsed}s: $total compute-manager requests"

# 3. bulk listing at start-up: one request, every listed VM is known at once
ctx_assert_eq "bulk requests" 1 "$(mmx_cm_n '.paths["/servers/detail"]')"
mmx_send "$PORT" 20 blk- app=bulk "vms=$vms" sev=notice
ctx_wait_lines "$CTX_WORK/out-bulk" 20
mmx_check "$CTX_WORK/out-bulk" '
if len(rows) != 20: fail("%d rows" % len(rows))
for r in rows:
    if get(r, "cm.status") != "ok" or get(r, "cm.guest_os") != "debian-12" or get(r, "cm.compute_host") != "compute-1":
        fail("bulk: %s" % r["ctx"])
'
ctx_assert_eq "per-VM requests of the bulk action" 10 "$static"

# 4. a CA that did not sign the server: no context, counted, messages flow
mmx_send "$PORT" 5 tls- app=badtls "vms=cm-vm1:$(uuid 1)" sev=info
ctx_wait_lines "$CTX_WORK/out-badtls" 5
ctx_wait_stat "mmctxenrich(badtls)" cm.transport_errors 1
mmx_send "$PORT" 1 tls2- app=badtls "vms=cm-vm1:$(uuid 1)" sev=info
ctx_wait_lines "$CTX_WORK/out-badtls" 6
ctx_stop
mmx_check "$CTX_WORK/out-badtls" '
if get(by_seq["tls2-0"], "cm.status") != "unavailable": fail("after a TLS failure: %s" % by_seq["tls2-0"]["ctx"])
if any("guest_os" in r["ctx"].get("cm", {}) for r in rows): fail("context despite the TLS failure")
'
ctx_assert_grep "$CTX_ILOG" "mmctxenrich(badtls): cm request $MMX_CM/servers/$(uuid 1) failed: SSL peer certificate or SSH remote key was not OK"
ctx_assert_eq "badtls cm.ok" 0 "$(ctx_stat "mmctxenrich(badtls)" cm.ok)"
ctx_pass "$N messages from 10 VMs: 10 static fetches, $total requests in all; bulk, HTTPS with a test CA and a bad CA"
