#!/bin/bash
# One VM name in two tenants (issue 15): a VM name is the tenant's choice and need not be
# unique, so it is a key only within one tenant. Two VMs named "twin" (tenants ta and tb,
# no uuid), each sampled by its own process: one holds 64 MiB, the other almost nothing.
#  - host figures: each twin's messages carry its own process's memory, never the other's;
#    a VM named twice in one tenant ("dup") gets no VM figures at all; a tenant without
#    such a VM gets none; host.name.conflicts counts the two "dup" VMs;
#  - compute-manager bulk listing keyed by name: "twin" listed twice (two different
#    records) and "pair" (one record, but a VM of that name in two tenants) are refused
#    and counted (cm.bulk.name.conflicts); "solo" (once, one profile) is stored;
#  - per-VM requests by {name}: a VM without uuid whose name another profile has is never
#    looked up or fetched (cm.name.conflicts); "lone" (one profile, not listed) is.
. "$top_srcdir/tests/lib/harness.sh"
. "$top_srcdir/tests/system/mmctxenrich_lib.sh"
ctx_init "mmctxenrich_samename${CTX_SUFFIX:-}"
/usr/bin/python3 -c 'import time; b = bytearray(64 << 20); b[::4096] = b"x" * len(b[::4096]); time.sleep(600)' &
big=$!
ctx_on_exit "kill -9 $big"
sleep 600 &
small=$!
ctx_on_exit "kill -9 $small"
cat >"$CTX_WORK/profiles.json" <<JSON
{"vms": [
  {"name": "twin", "tenant": "ta", "pid": $big},
  {"name": "twin", "tenant": "tb", "pid": $small},
  {"name": "dup", "tenant": "ta", "pid": $big},
  {"name": "dup", "tenant": "ta", "pid": $small},
  {"name": "solo", "tenant": "ta", "pid": $small},
  {"name": "lone", "tenant": "tb", "pid": $small},
  {"name": "pair", "tenant": "ta", "pid": $small},
  {"name": "pair", "tenant": "tb", "pid": $big}
]}
JSON
cat >"$CTX_WORK/routes.json" <<'JSON'
{"/byname/{id}": {"os": "os-by-name-{id}", "flavor": "f-{id}"},
 "/list": {"vms": [{"name": "twin", "os": "os-of-one-twin"}, {"name": "twin", "os": "os-of-the-other-twin"},
                   {"name": "solo", "os": "os-solo"}, {"name": "pair", "os": "os-pair"}]}}
JSON
cat >"$CTX_WORK/map.json" <<'JSON'
{"bulk": {"items": "/vms", "key": "/name", "key_is": "name",
          "fields": {"guest_os": {"pointer": "/os", "type": "string"}}},
 "vm": {"fields": {"flavor": {"pointer": "/flavor", "type": "string"}}}}
JSON
mmx_cm_start
printf 'rule all then verbose\n' >"$CTX_WORK/policy.rules"
PORT=$(mmx_port)
mmx_run same <<PARAMS
profiles="@WORK@/profiles.json" policy="@WORK@/policy.rules" sample.interval="1" cm.startJitter="0"
cm.bulkUrl="$MMX_CM/list" cm.url="$MMX_CM/byname/{name}" cm.mapping="@WORK@/map.json" cm.allowInsecure="on"
PARAMS
stat() { ctx_stat "mmctxenrich(same)" "$1"; }
ctx_wait_stat "mmctxenrich(same)" host.passes 2
ctx_wait_stat "mmctxenrich(same)" cm.ok 1 # the bulk listing
mmx_send "$PORT" 1 ta-twin- "vms=twin:" tenant=ta sev=err
mmx_send "$PORT" 1 tb-twin- "vms=twin:" tenant=tb sev=err
mmx_send "$PORT" 1 ta-dup- "vms=dup:" tenant=ta sev=err
mmx_send "$PORT" 1 tc-twin- "vms=twin:" tenant=tc sev=err
mmx_send "$PORT" 1 ta-solo- "vms=solo:" tenant=ta sev=err
mmx_send "$PORT" 1 ta-pair- "vms=pair:" tenant=ta sev=err
mmx_send "$PORT" 1 tb-pair- "vms=pair:" tenant=tb sev=err
mmx_send "$PORT" 1 tb-lone- "vms=lone:" tenant=tb sev=err
ctx_wait_lines "$CTX_WORK/out" 8
ctx_wait_stat "mmctxenrich(same)" msgs.processed 8
mmx_check "$CTX_WORK/out" '
def mem(s):
    return get(by_seq[s], "host.vm_mem_bytes")
if not (mem("ta-twin-0") or 0) >= 48 << 20: fail("ta twin: its own 64 MiB, got %s" % mem("ta-twin-0"))
if not (mem("tb-twin-0") or 1 << 30) < 16 << 20: fail("tb twin: its own small process, got %s" % mem("tb-twin-0"))
for s in ("ta-dup-0", "tc-twin-0"):
    h = get(by_seq[s], "host") or {}
    if any(k.startswith("vm_") for k in h): fail("%s: figures of a VM it may not be: %s" % (s, h))
if get(by_seq["ta-solo-0"], "cm.guest_os") != "os-solo": fail("solo: %s" % get(by_seq["ta-solo-0"], "cm"))
for s in ("ta-twin-0", "tb-twin-0", "tc-twin-0", "ta-pair-0", "tb-pair-0"):
    if get(by_seq[s], "cm.guest_os") is not None: fail("%s: bulk data of a shared name: %s" % (s, get(by_seq[s], "cm")))
'
ctx_wait_for "the fetch of lone by name" 20 "[ \"\$(mmx_cm_n '.paths[\"/byname/lone\"] // 0')\" = 1 ]"
for nm in twin dup pair; do
    ctx_assert_eq "requests by the shared name $nm" 0 "$(mmx_cm_n ".paths[\"/byname/$nm\"] // 0")"
done
ctx_assert_eq "cm.name.conflicts (twin x3, dup, pair x2)" 6 "$(stat cm.name.conflicts)"
ctx_assert_eq "host.name.conflicts (dup twice in one tenant)" 2 "$(stat host.name.conflicts)"
c=$(stat cm.bulk.name.conflicts)
[ "$c" -ge 3 ] && [ $((c % 3)) = 0 ] || ctx_fail "cm.bulk.name.conflicts $c, expected 3 per listing (twin twice, pair)"
ctx_stop
ctx_pass "two tenants' VMs named twin: each its own figures, neither the other's bulk data; conflicts counted"
