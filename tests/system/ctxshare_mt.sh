#!/bin/bash
# Shared context groups under concurrency (issue 12): messages of 8 VMs through
# mmctxenrich (every message `hostwide`: $!ctx!cm and $!ctx!host, frozen and shared by
# reference between messages) -> omtenant (https) and a local file, with 2 main-queue
# workers and 2 omtenant queue workers, and a HUP (policy, tenants, redaction rules
# re-read) in the middle. (Two workers: a ruleset queue; the harness owns main_queue.
# Names are chosen so that no impstats line is exactly 128 bytes: see mmctxenrich_cm.sh.) Checks:
#  - every message arrives once at the receiver and in the file (sequence numbers, no
#    gaps, no duplicates), and each carries its own VM's compute-manager context
#    (project_id "p-<its uuid>"), never another VM's;
#  - the secret inside the shared $!ctx!cm (compute_host "... password=hunter2") never
#    leaves the host, and the tenant's `redactions` counter counts it once per message
#    that carried it (counting stays per message although the group is rendered once);
#  - omtenant's record builder found most $!ctx documents or members in its memo
#    (ctxmemo.hits), replaying their redaction and counts.
. "$top_srcdir/tests/lib/harness.sh"
. "$top_srcdir/tests/system/mmctxenrich_lib.sh"
. "$top_srcdir/tests/system/omtenant_common.sh"
ctx_init "ctxshare_mt${CTX_SUFFIX:-}"
N=${CTX_N:-4000}
T=${CTX_WAIT:-120} # seconds for each wait (the valgrind twin on a loaded machine needs more)
uuid() { printf '5ca1ab1e-0000-4000-8000-0000000000%02d' "$1"; }
vms=""
for i in $(seq 0 7); do vms="$vms,sh-vm$i:$(uuid "$i")"; done
vms=${vms#,}
cat >"$CTX_WORK/routes.json" <<'EOF2'
{"/servers/{id}": {"server": {"id": "{id}", "tenant_id": "p-{id}", "metadata": {"os_distro": "debian-12"},
   "OS-EXT-STS:vm_state": "active", "OS-EXT-SRV-ATTR:host": "c1 password=hunter2",
   "flavor": {"original_name": "m1.small", "vcpus": 2, "ram": 2048}}},
 "/servers/{id}/diagnostics": {"cpu_details": [{"id": 0, "time": 5, "utilisation": 10}],
   "memory_details": {"maximum": 2048, "used": 512}, "uptime": 3600}}
EOF2
mmx_cm_start
omt_certs
omt_receiver_start R
PR=$(omt_receiver_port R)
cat >"$CTX_WORK/tenants.json" <<EOF2
{"tenants": {"acme": {"transport": "https", "url": "https://127.0.0.1:$PR/bulk/acme",
  "tls": {"ca_file": "certs/ca.pem", "server_name": "localhost"}, "batch": {"max_messages": 100, "max_delay_ms": 100},
  "context": {"host": "full"}}}}
EOF2
printf '[global]\nenable = email\n' >"$CTX_WORK/redact.rules"
printf 'rule all then hostwide\n' >"$CTX_WORK/policy.rules"
PORT=$(mmx_port)
ctx_conf <<CONF
module(load="imudp")
module(load="@MODDIR@/mmctxenrich/mmctxenrich.so")
module(load="@MODDIR@/omtenant/omtenant.so")
input(type="imudp" address="127.0.0.1" port="$PORT" rcvbufSize="16m" ruleset="shared")
$CTX_CHECK_TEMPLATE
ruleset(name="shared" queue.type="LinkedList" queue.workerThreads="2" queue.workerThreadMinimumMessages="8"
        queue.dequeueBatchSize="32") {
$MMX_SET_VM
action(type="mmctxenrich" name="sharing" policy="@WORK@/policy.rules" sample.interval="1"
       cm.url="$MMX_CM/servers/{uuid}" cm.statsUrl="$MMX_CM/servers/{uuid}/diagnostics"
       cm.mapping="@TOP@/conf-examples/cm-nova.json" cache.dynamicTTL="1000" cm.allowInsecure="on")
action(type="omfile" file="@WORK@/out" template="ctxcheck")
action(type="omtenant" name="shared" tenants="@WORK@/tenants.json" redaction.rules="@WORK@/redact.rules"
       queue.type="LinkedList" queue.workerThreads="2" queue.workerThreadMinimumMessages="8" queue.dequeueBatchSize="64"
       action.resumeRetryCount="-1" action.resumeInterval="1")
}
CONF
ctx_start
H=$((N / 2))
mmx_send "$PORT" "$H" a- "vms=$vms" rate=4000
ctx_wait_lines "$CTX_WORK/out" "$H" "$T"
printf 'rule all then hostwide\nrule never when app == "nothing" then minimal\n' >"$CTX_WORK/policy.rules"
ctx_hup
ctx_wait_for "the HUP" 60 "grep -q 'omtenant: HUP: reloaded' '$CTX_WORK/internal.log'"
mmx_send "$PORT" "$H" b- "vms=$vms" rate=4000
ctx_wait_lines "$CTX_WORK/out" "$N" "$T"
ctx_wait_stat "omtenant(shared:acme)" delivered.msgs "$N" "$T"
REDACTIONS=$(ctx_stat "omtenant(shared:acme)" redactions)
MEMO_HITS=$(ctx_stat "omtenant(shared)" ctxmemo.hits)
ctx_stop
# the records' $!ctx went through omtenant's memo (the redactions check below then holds with it)
[ "${MEMO_HITS:-0}" -gt $((N / 4)) ] || ctx_fail "ctxmemo.hits ${MEMO_HITS:-none}, expected more than $((N / 4))"

RCV="$CTX_WORK/rcv-R/messages.log"
grep -q hunter2 "$RCV" && ctx_fail "a secret of the shared \$!ctx!cm left the host"
$OMT_PY - "$RCV" "$N" "$REDACTIONS" <<'PY' || ctx_fail "the receiver's records"
import json, re, sys
n, red = int(sys.argv[2]), int(sys.argv[3])
seen, carried = {}, 0
for line in open(sys.argv[1]):
    r = json.loads(line.split("\t", 1)[1])
    m = re.search(r"seq=(\S+) vm=(\S+) uuid=(\S+)", r["msg"])
    assert m, r
    seq, vm, uuid = m.groups()
    seen[seq] = seen.get(seq, 0) + 1
    ctx = r["ctx"]
    assert ctx["vm"]["uuid"] == uuid and ctx["vm"]["name"] == vm, r
    cm = ctx.get("cm", {})
    if "project_id" in cm:
        assert cm["project_id"] == "p-" + uuid, ("another VM's context", r)
        assert cm["compute_host"] == "c1 password=[REDACTED:kv-secret]", r
        carried += 1
    assert "host" in ctx, r
want = ["a-%d" % i for i in range(n // 2)] + ["b-%d" % i for i in range(n // 2)]
missing = [s for s in want if s not in seen]
dups = [s for s, c in seen.items() if c != 1]
assert not missing and not dups and len(seen) == n, (len(seen), missing[:5], dups[:5])
assert carried > n // 2, carried
assert red == carried, "redactions counter %d, records carrying a redacted secret %d" % (red, carried)
print("receiver: %d records, %d with the VM's shared cm context (each counted once)" % (n, carried))
PY
mmx_check "$CTX_WORK/out" '
n = int("'"$N"'")
seqs = [r["seq"] for r in rows]
assert len(seqs) == n and len(set(seqs)) == n, (len(seqs), len(set(seqs)))
for r in rows:
    uuid = re.search(r"uuid=(\S+)", r["msg"]).group(1)
    if get(r, "vm.uuid") != uuid: fail("vm of another message: %r" % r)
    p = get(r, "cm.project_id")
    if p is not None and p != "p-" + uuid: fail("cm of another VM: %r" % r)
    if get(r, "host.sampled_at") is None: fail("no host context: %r" % r)
' || ctx_fail "the local file"
ctx_pass "$N messages of 8 VMs, 2+2 workers, HUP: each with its own VM's shared context, redactions $REDACTIONS"
