#!/bin/bash
# Who sees host-wide context (issue 15, docs/threat-model.md "What a tenant can see"): two
# VMs (namespaces, captured by imctxcap) of two tenants, one omtenant action. The policy
# gives every err message `hostwide` (host CPU, memory, load, disks), as an operator might
# by mistake; only tenant "open" has "context": {"host": "full"} in the tenants file.
# Checked by sequence number at each tenant's receiver:
#  - "closed" receives every one of its messages once and never a host-wide field (its
#    records keep the VM's own $!ctx!host!sampled_at); ctx.withheld counts its err records;
#  - "open" receives every one of its messages once, each err with the host-wide figures;
#  - warning messages (standard level, no `hostwide`) carry no $!ctx!host at all, for
#    either tenant: the source guard;
#  - neither tenant receives a message of the other.
. "$top_srcdir/tests/lib/harness.sh"
. "$top_srcdir/tests/system/omtenant_common.sh"
ctx_init "omtenant_visibility${CTX_SUFFIX:-}"
N=30 # err messages per VM (and N / 3 warnings)
ctx_vm_add viso 120 || ctx_fail "VM open"
ctx_vm_add visc 121 || ctx_fail "VM closed"
omt_certs
omt_receiver_start open
omt_receiver_start closed
cat >"$CTX_WORK/profiles.json" <<JSON
{"vms": [
  {"name": "vis-o", "uuid": "0e0e0e0e-0000-4000-8000-000000000120", "tenant": "open", "vnic": "$(ctx_vm_vnic 120)"},
  {"name": "vis-c", "uuid": "0c0c0c0c-0000-4000-8000-000000000121", "tenant": "closed", "vnic": "$(ctx_vm_vnic 121)"}
]}
JSON
dest() { # id port [extra]
    printf '"%s": {"transport": "https", "url": "https://127.0.0.1:%s/%s", "content_encoding": "none",\n' "$1" "$2" "$1"
    printf '  "tls": {"ca_file": "certs/ca.pem", "server_name": "localhost"},\n'
    printf '  "batch": {"max_messages": 20, "max_delay_ms": 100}%s}' "${3:+, $3}"
}
{
    printf '{"tenants": {\n'
    dest open "$(omt_receiver_port open)" '"context": {"host": "full"}'; printf ',\n'
    dest closed "$(omt_receiver_port closed)"
    printf '\n}}\n'
} >"$CTX_WORK/tenants.json"
printf 'rule errs when severity <= err then hostwide\nrule rest then standard\n' >"$CTX_WORK/policy.rules"
ctx_conf <<CONF
module(load="@MODDIR@/imctxcap/imctxcap.so")
module(load="@MODDIR@/mmctxenrich/mmctxenrich.so")
module(load="@MODDIR@/omtenant/omtenant.so")
input(type="imctxcap" name="vis" interface="$(ctx_vm_vnic 120),$(ctx_vm_vnic 121)" profiles="@WORK@/profiles.json")
action(type="mmctxenrich" name="vis" policy="@WORK@/policy.rules" profiles="@WORK@/profiles.json"
       sample.interval="1" host.diskPaths="@WORK@")
action(type="omtenant" name="vis" tenants="@WORK@/tenants.json"
       queue.type="LinkedList" action.resumeRetryCount="-1" action.resumeInterval="1")
CONF
ctx_start
ctx_wait_stat "imctxcap(vis)" interfaces.attached 2
ctx_wait_stat "mmctxenrich(vis)" host.passes 2 # CPU figures need two samples
send() { # ns idx prefix
    local h
    h=$(ctx_vm_host_ip4 "$2")
    for i in $(seq 0 $((N - 1))); do
        ctx_vm_exec "$1" logger --udp --rfc5424 -n "$h" -P 514 -t app -p user.err "seq=$3-err-$i"
        [ $((i % 3)) = 0 ] && ctx_vm_exec "$1" logger --udp --rfc5424 -n "$h" -P 514 -t app -p user.warning \
            "seq=$3-warn-$((i / 3))"
    done
}
send viso 120 o
send visc 121 c
M=$((N + N / 3))
ctx_wait_stat "omtenant(vis:open)" delivered.msgs "$M" 60
ctx_wait_stat "omtenant(vis:closed)" delivered.msgs "$M" 60
WITHHELD_C=$(ctx_stat "omtenant(vis:closed)" ctx.withheld)
WITHHELD_O=$(ctx_stat "omtenant(vis:open)" ctx.withheld)
ctx_stop
ctx_assert_eq "closed: records with host-wide fields withheld" "$N" "$WITHHELD_C"
ctx_assert_eq "open: nothing withheld" 0 "$WITHHELD_O"
$OMT_PY - "$CTX_WORK/rcv-open/messages.log" "$CTX_WORK/rcv-closed/messages.log" "$N" <<'PY' || ctx_fail "records"
import json, re, sys
HOSTWIDE = {"host_cpu_pct", "host_mem_pct", "load1", "load5", "load15", "disk_free_pct", "disks"}
n = int(sys.argv[3])
def load(path):
    recs = {}
    for line in open(path):
        r = json.loads(line.split("\t", 1)[1])
        seq = re.search(r"seq=(\S+)", r["msg"]).group(1)
        assert seq not in recs, ("twice", seq)
        recs[seq] = r
    return recs
def want(p):
    return {"%s-err-%d" % (p, i) for i in range(n)} | {"%s-warn-%d" % (p, i) for i in range(n // 3)}
o, c = load(sys.argv[1]), load(sys.argv[2])
assert set(o) == want("o"), ("open", sorted(set(o) ^ want("o"))[:5])
assert set(c) == want("c"), ("closed", sorted(set(c) ^ want("c"))[:5])
for seq, r in c.items():
    ctx = r["ctx"]
    assert ctx["vm"]["tenant"] == "closed", r
    assert "host" not in ctx.get("cm", {}), r
    h = ctx.get("host")
    if "-warn-" in seq:
        assert h is None, ("warning with host context", r)
        continue
    assert h is not None and "sampled_at" in h, ("the VM's own host fields are kept", r)
    assert not HOSTWIDE & set(h), ("host-wide field reached closed", seq, h)
for seq, r in o.items():
    ctx = r["ctx"]
    assert ctx["vm"]["tenant"] == "open", r
    h = ctx.get("host")
    if "-warn-" in seq:
        assert h is None, ("warning with host context", r)
        continue
    missing = {"host_mem_pct", "load1", "load5", "load15", "disk_free_pct", "disks"} - set(h or {})
    assert not missing, ("open lacks", seq, missing, h)
    assert 0 < h["host_mem_pct"] <= 100, h
print("open: %d records, err ones with host-wide figures; closed: %d records, none" % (len(o), len(c)))
PY
ctx_assert_eq "mmctxenrich rule.errs" $((2 * N)) "$(ctx_stat "mmctxenrich(vis)" rule.errs)"
ctx_pass "2 tenants x $M messages: host-wide fields only at the tenant allowed them (withheld $WITHHELD_C at the other)"
