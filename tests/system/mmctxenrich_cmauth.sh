#!/bin/bash
# mmctxenrich logging in to compute managers as they do it, with the shipped
# conf-examples/cm-nova.json and cm-vcenter.json, against tests/lib/cmserver.py playing
# Keystone v3 + Nova (microversion 2.53) and vCenter (/api/session, /api/vcenter, /sdk/vim25),
# over HTTPS with a test CA:
#  1. Keystone password login, tokens of 12 s: renewed before they expire (no request is
#     refused for an expired token), every Nova request carries X-Auth-Token and
#     OpenStack-API-Version: compute 2.53; the hypervisor id comes from the hostid section
#     ({hostid.hypervisor_id}), the bulk listing asks for this host ({host});
#  2. the server revokes every token in the middle of a run: one new login, each refused
#     request sent once more, no message without its context;
#  3. a wrong password: reported once with Keystone's reason however many messages, counted,
#     no request sent without a token, messages flow (status unavailable / pending);
#  4. an application credential logs in too;
#  5. vCenter: a session from POST /api/session (basic auth), the host moid from
#     /api/vcenter/host ({hostid.host_moid}), the VM moid from the bulk listing
#     ({bulk.vm_moid}); the session dies: one new login, context kept; at shutdown the
#     session is ended (DELETE /api/session).
. "$top_srcdir/tests/lib/harness.sh"
. "$top_srcdir/tests/system/mmctxenrich_lib.sh"
ctx_init "mmctxenrich_cmauth${CTX_SUFFIX:-}"
# (action names have at least 6 characters: rsyslog 8.2302's stats formatter writes one byte
# past an impstats line of exactly 128 bytes, which valgrind reports, and a core.action line
# of a shorter name reaches 128 bytes as its counters grow)
uuid() { printf '22222222-3333-4444-8555-0000000000%02d' "$1"; }
HV=aaaaaaaa-bbbb-4ccc-8ddd-000000000001
vms=""
for i in $(seq 0 9); do vms="$vms,nv-vm$i:$(uuid "$i")"; done
vms=${vms#,}
vcvms="vc-vm0:,vc-vm1:,vc-vm2:,vc-vm3:,vc-vm4:"
server() { mmx_nova_server "$1" nv-vm "$2"; } # a Nova server
{
    echo '{"/servers/{id}": {"server": '"$(server '{id}' x)"'},'
    echo ' "/servers/{id}/diagnostics": {"cpu_details": [{"id": 0, "time": 5, "utilisation": 10},
       {"id": 1, "time": 6, "utilisation": 31}], "memory_details": {"maximum": 2048, "used": 512}, "uptime": 3600},'
    # GET /os-hypervisors?hypervisor_hostname_pattern= (2.53: id is a UUID)
    echo ' "/os-hypervisors": {"hypervisors": [{"id": "'$HV'", "hypervisor_hostname": "compute-1.example.net",
       "state": "up", "status": "enabled"}]},'
    echo ' "/os-hypervisors/{id}": {"hypervisor": {"id": "{id}", "host_ip": "192.0.2.1", "vcpus": 32, "vcpus_used": 8,
       "memory_mb": 65536, "memory_mb_used": 16384, "running_vms": 10, "state": "up"}},'
    echo ' "/servers/detail": {"servers": ['
    for i in $(seq 0 9); do [ "$i" = 0 ] || echo ","; server "$(uuid "$i")" "$i"; done
    echo ']},'
    # vSphere Automation API: GET /api/vcenter/host (Host.Summary list), GET /api/vcenter/vm
    # (VM.Summary list: vm, name, power_state, cpu_count, memory_size_MiB)
    echo ' "/api/vcenter/host": [{"host": "host-12", "name": "esx-1.example.net", "connection_state": "CONNECTED",
       "power_state": "POWERED_ON"}],'
    echo ' "/api/vcenter/vm": ['
    for i in $(seq 0 4); do
        [ "$i" = 0 ] || echo ","
        printf '{"vm": "vm-10%s", "name": "vc-vm%s", "power_state": "POWERED_ON", "cpu_count": 2, "memory_size_MiB": 2048}' "$i" "$i"
    done
    echo '],'
    # VI/JSON API 8.0 U1: VirtualMachine/{moid}/summary (VirtualMachineSummary), HostSystem/{moid}/summary
    echo ' "/sdk/vim25/8.0.1.0/VirtualMachine/{id}/summary": {"vm": {"type": "VirtualMachine", "value": "{id}"},
       "config": {"name": "x", "guestFullName": "Debian GNU/Linux 12 (64-bit)", "instanceUuid": "i-{id}",
       "uuid": "b-{id}", "numCpu": 2, "memorySizeMB": 2048}, "runtime": {"powerState": "poweredOn",
       "maxCpuUsage": 2000, "host": {"type": "HostSystem", "value": "host-12"}},
       "quickStats": {"overallCpuUsage": 500, "guestMemoryUsage": 1024}},'
    echo ' "/sdk/vim25/8.0.1.0/HostSystem/{id}/summary": {"host": {"type": "HostSystem", "value": "{id}"},
       "hardware": {"cpuMhz": 2000, "numCpuCores": 16, "memorySize": 68719476736},
       "config": {"name": "esx-1.example.net"}, "quickStats": {"overallCpuUsage": 8000,
       "overallMemoryUsage": 16384, "uptime": 86400}}}'
} >"$CTX_WORK/routes.json"
PW=pw-$RANDOM$RANDOM
VCPW=vc-$RANDOM$RANDOM
umask 077
printf '%s\n' "$PW" >"$CTX_WORK/nova.pw"
printf 'wrong-%s\n' "$PW" >"$CTX_WORK/bad.pw"
printf 'acs-%s\n' "$PW" >"$CTX_WORK/appcred.secret"
printf '%s\n' "$VCPW" >"$CTX_WORK/vc.pw"
umask 022
mmx_cm_start --tls --keystone "ctxlog:$PW:admin" --appcred "ac-1:acs-$PW" --vcenter "svc@vsphere.local:$VCPW" \
    --token-ttl 12 # renewed 2.4 s before they expire: more than a loaded host delays a request
PORT=$(mmx_port)
CM=$MMX_CM
cmto=${CTX_CM_TIMEOUT:-10000} # the valgrind twin's TLS handshakes are slow on a busy machine
tls="cm.caFile=\"@WORK@/pki/ca.pem\" cm.startJitter=\"0\" cache.dynamicTTL=\"1000\" cache.hostTTL=\"1000\"
     cm.connectTimeout=\"$cmto\" cm.timeout=\"$cmto\""
ks="cm.auth=\"keystone\" cm.authUrl=\"$CM/v3/auth/tokens\" cm.mapping=\"@TOP@/conf-examples/cm-nova.json\""
nova="cm.url=\"$CM/servers/{uuid}\" cm.statsUrl=\"$CM/servers/{uuid}/diagnostics\"
      cm.bulkUrl=\"$CM/servers/detail?all_tenants=1&host={host}\"
      cm.hostIdUrl=\"$CM/os-hypervisors?hypervisor_hostname_pattern={host}\"
      cm.hostUrl=\"$CM/os-hypervisors/{hostid.hypervisor_id}\" cm.hostName=\"compute-1\""
# the host part ($!ctx!cm!host, the hostid lookup) is host-wide: fetched only for messages
# whose policy rule says hostwide (docs/threat-model.md)
# vCenter's listing is keyed by VM name, which is a key only for VMs the profiles know
# (each name once: docs/threat-model.md, "One VM name in two tenants")
cat >"$CTX_WORK/vc-profiles.json" <<'JSON'
{"vms": [{"name": "vc-vm0", "tenant": "acme"}, {"name": "vc-vm1", "tenant": "acme"}, {"name": "vc-vm2", "tenant": "acme"},
         {"name": "vc-vm3", "tenant": "acme"}, {"name": "vc-vm4", "tenant": "acme"}]}
JSON
printf '%s\n' 'rule errors when severity <= err then hostwide' 'rule debugging when severity == debug then debug' \
    'rule rest then standard' >"$CTX_WORK/hostwide.rules"
ctx_conf <<CONF
$(mmx_udp_head "$PORT")
if \$programname == "badpw" then {
    action(type="mmctxenrich" name="wrongpw" $ks $nova cm.user="ctxlog" cm.project="admin"
           cm.passwordFile="@WORK@/bad.pw" $tls)
    action(type="omfile" file="@WORK@/out-badpw" template="ctxcheck")
    stop
}
if \$programname == "appcred" then {
    action(type="mmctxenrich" name="appcred" $ks cm.url="$CM/servers/{uuid}" cm.appCredId="ac-1"
           cm.appCredSecretFile="@WORK@/appcred.secret" $tls)
    action(type="omfile" file="@WORK@/out-appcred" template="ctxcheck")
    stop
}
if \$programname == "vc" then {
    action(type="mmctxenrich" name="vcenter" cm.auth="vcenter" cm.authUrl="$CM/api/session"
           cm.user="svc@vsphere.local" cm.passwordFile="@WORK@/vc.pw" cm.mapping="@TOP@/conf-examples/cm-vcenter.json"
           cm.hostName="esx-1.example.net" cm.hostIdUrl="$CM/api/vcenter/host?names={host}"
           cm.bulkUrl="$CM/api/vcenter/vm?hosts={hostid.host_moid}"
           cm.statsUrl="$CM/sdk/vim25/8.0.1.0/VirtualMachine/{bulk.vm_moid}/summary"
           cm.hostUrl="$CM/sdk/vim25/8.0.1.0/HostSystem/{hostid.host_moid}/summary" policy="@WORK@/hostwide.rules"
           profiles="@WORK@/vc-profiles.json" $tls)
    action(type="omfile" file="@WORK@/out-vc" template="ctxcheck")
    stop
}
action(type="mmctxenrich" name="nova-ks" $ks $nova cm.user="ctxlog" cm.project="admin"
       cm.passwordFile="@WORK@/nova.pw" cm.ratePerSec="100" cm.burst="20" policy="@WORK@/hostwide.rules" $tls)
action(type="omfile" file="@WORK@/out" template="ctxcheck")
CONF
ctx_start
st() { ctx_stat "mmctxenrich($1)" "$2"; }
# completed requests (each counts in exactly one of ok, errors, timeouts) = started + not sent
settled() { [ $(($(st "$1" cm.ok) + $(st "$1" cm.errors) + $(st "$1" cm.timeouts))) -ge "$(st "$1" cm.requests)" ]; }
# wait_done NAME OUT LINES PROCESSED: OUT has LINES lines, the action counted PROCESSED messages,
# and its requests are settled in an impstats record taken after that
wait_done() {
    ctx_wait_lines "$2" "$3" 90
    ctx_wait_stat "mmctxenrich($1)" msgs.processed "$4" 60
    ctx_stats_round "mmctxenrich($1)"
    ctx_wait_for "$1's requests settled" 60 "settled $1"
}

# 0. until every VM's err message carries its context (the first login, the hostid lookup,
# the bulk listing, the host part and each VM's stats): on a loaded machine this takes a
# while, and section 1 checks each of its messages
warm=0
warm_ok() {
    warm=$((warm + 1))
    mmx_send "$PORT" 10 "w$warm-" app=nova "vms=$vms" sev=err
    ctx_wait_lines "$CTX_WORK/out" $((warm * 10)) 60
    grep -F "seq=w$warm-" "$CTX_WORK/out" | /usr/bin/python3 -c '
import json, sys
for line in sys.stdin:
    c = json.loads(line.rstrip("\n").split("|", 6)[6]).get("cm", {})
    if c.get("guest_os") != "debian-12" or c.get("avg_vm_cpu_pct") != 20.5 or c.get("host", {}).get("host_ip") != "192.0.2.1":
        sys.exit(1)'
}
ctx_wait_for "the context of every VM" 90 warm_ok
B=$((warm * 10)) # lines before section 1

# 1. 24 s of messages from 10 VMs (err asks for the per-VM stats and the host part), tokens of 12 s
mmx_send "$PORT" 1200 ks- app=nova "vms=$vms" sev=info,err,err rate=50
wait_done nova-ks "$CTX_WORK/out" $((B + 1200)) $((B + 1200))
ctx_check_seq "$CTX_WORK/out" "seq=ks-" 0 1199
# a renewal happens when a request needs the token after 9.6 s; under valgrind rsyslogd works
# through the 24 s in bursts, so a twin would ask for one renewal at least (CTX_MIN_RENEWALS=1)
minren=${CTX_MIN_RENEWALS:-2}
logins=$(mmx_cm_n '.logins.keystone.ok')
[ "$logins" -ge $((minren + 1)) ] || ctx_fail "only $logins Keystone logins in 24 s of 12 s tokens"
ctx_assert_eq "requests refused (expired token)" 0 "$(mmx_cm_n '.unauthorized.keystone')"
ren=$(st nova-ks cm.auth.renewals)
[ "$ren" -ge "$minren" ] || ctx_fail "cm.auth.renewals = $ren after 24 s of 12 s tokens"
ctx_assert_eq "cm.auth.failures" 0 "$(st nova-ks cm.auth.failures)"
ctx_assert_eq "Nova requests without OpenStack-API-Version: compute 2.53" \
    '[["compute 2.53"],["compute 2.53"]]' "$(mmx_cm_n '[.headers["/servers"], .headers["/os-hypervisors"]] | map(keys) | tojson')"
ctx_assert_eq "the hostid lookup" 1 "$(mmx_cm_n '.paths["/os-hypervisors?hypervisor_hostname_pattern=compute-1"] // 0')"
[ "$(mmx_cm_n ".paths[\"/os-hypervisors/$HV\"] // 0")" -ge 1 ] || ctx_fail "no host request with the hypervisor id"
ctx_assert_eq "bulk listing of this host" 1 "$(mmx_cm_n '.paths["/servers/detail?all_tenants=1&host=compute-1"] // 0')"
ctx_assert_eq "per-VM static requests (the bulk listing answered them)" 0 \
    "$(mmx_cm_n '[.paths | to_entries[] | select(.key | test("^/servers/[0-9a-f-]+$")) | .value] | add // 0')"
mmx_check "$CTX_WORK/out" '
for r in rows:
    if not r["seq"].startswith("ks-"): continue
    if get(r, "cm.guest_os") != "debian-12" or get(r, "cm.status") not in ("ok", "stale"): fail("ks: %s" % r)
    if r["sev"] == "err" and (get(r, "cm.avg_vm_cpu_pct") != 20.5 or get(r, "cm.host.host_ip") != "192.0.2.1"):
        fail("ks err without the dynamic and host parts: %s" % r)
'

# 2. every token revoked 2 s into a 6 s run
r0=$(st nova-ks cm.auth.requests)
n0=$(st nova-ks cm.auth.renewals)
mmx_send "$PORT" 300 rv- app=nova "vms=$vms" sev=err rate=50 &
sender=$!
ctx_wait_for "2 s of the run" 30 "[ \$(wc -l <'$CTX_WORK/out') -ge $((B + 1300)) ]"
mmx_cm_ctl revoke=keystone
wait "$sender"
wait_done nova-ks "$CTX_WORK/out" $((B + 1500)) $((B + 1500))
ctx_check_seq "$CTX_WORK/out" "seq=rv-" 0 299
refused=$(mmx_cm_n '.unauthorized.keystone')
[ "$refused" -ge 1 ] || ctx_fail "no request hit the revoked token"
ctx_wait_for "refused requests retried once each" 30 \
    "[ \"\$(st nova-ks cm.auth.retries401)\" = \"\$(mmx_cm_n '.unauthorized.keystone')\" ]"
refused=$(mmx_cm_n '.unauthorized.keystone')
relogins=$(($(st nova-ks cm.auth.requests) - r0 - ($(st nova-ks cm.auth.renewals) - n0)))
ctx_assert_eq "logins caused by the revocation" 1 "$relogins"
ctx_assert_eq "nova: errors other than the retried 401s and unresolved placeholders" 0 \
    $(($(st nova-ks cm.errors) - $(st nova-ks cm.auth.retries401) - $(st nova-ks cm.unresolved)))
mmx_check "$CTX_WORK/out" '
for r in rows:
    if not r["seq"].startswith("rv-"): continue
    if get(r, "cm.status") not in ("ok", "stale") or get(r, "cm.avg_vm_cpu_pct") != 20.5 or get(r, "cm.guest_os") != "debian-12":
        fail("context lost around the revocation: %s" % r)
'

# 3. a wrong password: 200 messages over 4 s
mmx_send "$PORT" 200 bad- app=badpw "vms=nv-vm1:$(uuid 1),nv-vm2:$(uuid 2)" sev=err rate=50
wait_done wrongpw "$CTX_WORK/out-badpw" 200 200
ctx_check_seq "$CTX_WORK/out-badpw" "seq=bad-" 0 199
ctx_wait_stat "mmctxenrich(wrongpw)" cm.auth.failures 2
ctx_wait_for "failed logins counted = refused at the server" 30 \
    "[ \"\$(mmx_cm_n '.logins.keystone.refused')\" = \"\$(st wrongpw cm.auth.failures)\" ]"
[ "$(st wrongpw cm.unauthenticated)" -ge 1 ] || ctx_fail "no request counted as unauthenticated"
ctx_assert_eq "requests sent without a token" 0 "$(st wrongpw cm.requests)"
authfail="mmctxenrich(wrongpw): cm authentication at $CM/v3/auth/tokens failed: HTTP 401 (The request you have made requires authentication.)"
ctx_wait_for "the login failure logged" 30 "grep -qF '$authfail' '$CTX_ILOG'"
mmx_check "$CTX_WORK/out-badpw" '
for r in rows:
    if get(r, "cm.status") not in ("pending", "unavailable") or get(r, "cm.guest_os") is not None: fail("badpw: %s" % r)
'

# 4. an application credential
mmx_send "$PORT" 1 ac0- app=appcred "vms=nv-vm3:$(uuid 3)"
ctx_wait_stat "mmctxenrich(appcred)" cm.ok 1 60
mmx_send "$PORT" 1 ac1- app=appcred "vms=nv-vm3:$(uuid 3)"
ctx_wait_lines "$CTX_WORK/out-appcred" 2 60
mmx_check "$CTX_WORK/out-appcred" '
if get(by_seq["ac1-0"], "cm.guest_os") != "debian-12": fail("appcred: %s" % by_seq["ac1-0"])
'

# 5. vCenter: 5 VMs, then the session dies
mmx_send "$PORT" 100 vc- app=vc "vms=$vcvms" sev=err rate=50
ctx_wait_lines "$CTX_WORK/out-vc" 100 60
ctx_wait_for "vCenter stats of every VM" 60 \
    "[ \"\$(mmx_cm_n '[.paths | to_entries[] | select(.key | test(\"^/sdk/vim25/8.0.1.0/VirtualMachine/vm-10[0-4]/summary$\"))] | length')\" = 5 ]"
ctx_assert_eq "vCenter bulk listing of host-12" 1 "$(mmx_cm_n '.paths["/api/vcenter/vm?hosts=host-12"] // 0')"
mmx_send "$PORT" 250 vd- app=vc "vms=$vcvms" sev=err rate=50 &
sender=$!
ctx_wait_for "1 s of the run" 30 "[ \$(wc -l <'$CTX_WORK/out-vc') -ge 150 ]"
mmx_cm_ctl revoke=vcenter
wait "$sender"
wait_done vcenter "$CTX_WORK/out-vc" 350 350
ctx_check_seq "$CTX_WORK/out-vc" "seq=vd-" 0 249
ctx_assert_eq "vCenter logins (the first, one after the session died)" 2 "$(mmx_cm_n '.logins.vcenter.ok')"
vref=$(mmx_cm_n '.unauthorized.vcenter')
[ "$vref" -ge 1 ] || ctx_fail "no vCenter request hit the dead session"
ctx_wait_for "vCenter: refused requests retried" 30 \
    "[ \"\$(st vcenter cm.auth.retries401)\" = \"\$(mmx_cm_n '.unauthorized.vcenter')\" ]"
vref=$(mmx_cm_n '.unauthorized.vcenter')
ctx_stop
ctx_assert_eq "vCenter session ended at shutdown (DELETE /api/session)" 1 "$(mmx_cm_n '.logouts // 0')"
ctx_assert_eq "the login failure logged once (of $(st wrongpw cm.auth.failures) failures)" 1 "$(grep -cF "$authfail" "$CTX_ILOG")"
mmx_check "$CTX_WORK/out-vc" '
for r in rows:
    if not r["seq"].startswith("vd-"): continue
    want = {"cm.guest_os": "Debian GNU/Linux 12 (64-bit)", "cm.avg_vm_cpu_pct": 25, "cm.vcpus": 2,
            "cm.power_state": "POWERED_ON", "cm.host.host_ip": "esx-1.example.net", "cm.host.avg_host_cpu_pct": 25,
            "cm.host.avg_host_mem_pct": 25}
    for k, v in want.items():
        if get(r, k) != v: fail("vCenter: %s is %r, expected %r: %s" % (k, get(r, k), v, r))
'
ctx_pass "Keystone: $logins logins for 12 s tokens, $refused refused after a revocation and retried, a wrong password logged once; vCenter: session re-made after $vref refusals"
