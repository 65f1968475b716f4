#!/bin/bash
# mmctxenrich's host context per VM, from cgroups made here with real processes:
#  - a VM whose cgroup runs a busy loop shows ~one CPU in vm_cpu_pct, an idle one ~0;
#    when the loop stops, the busy VM drops to ~0 within two samples;
#  - memory held by a process in a VM's cgroup shows in vm_mem_bytes;
#  - a VM found by the module's host.cgroupTemplate, one by its profile's pid;
#  - a VM whose cgroup does not exist: vm_error, counted and logged, no crash;
#  - a HUP with a changed profiles file samples a new VM; a broken one keeps the old.
. "$top_srcdir/tests/lib/harness.sh"
. "$top_srcdir/tests/system/mmctxenrich_lib.sh"
ctx_init "mmctxenrich_cgroup${CTX_SUFFIX:-}"
sfx=${CTX_SUFFIX:-}-$$ # cgroups are host-wide: a run in another checkout must not share them
busy=mmxcg-busy$sfx idle=mmxcg-idle$sfx
cg_busy=$(ctx_vm_cgroup "$busy") || ctx_fail "cgroup"
cg_idle=$(ctx_vm_cgroup "$idle") || ctx_fail "cgroup"
# join PID into a VM's cgroup (v2: one directory; v1: its cpuacct and memory twins)
cg_join() {
    local cg=$1 pid=$2
    echo "$pid" >"$cg/cgroup.procs" || return 1
    case "$cg" in /sys/fs/cgroup/cpuacct/*) echo "$pid" >"/sys/fs/cgroup/memory/${cg#/sys/fs/cgroup/cpuacct/}/cgroup.procs" ;; esac
}
# a busy loop in the busy VM; 64 MiB held by a process started inside the idle VM's cgroup
bash -c 'while :; do :; done' &
burner=$!
ctx_on_exit "kill -9 $burner"
cg_join "$cg_busy" "$burner" || ctx_fail "cannot move the busy loop into $cg_busy"
bash -c "$(declare -f cg_join); cg_join '$cg_idle' \$\$ && exec /usr/bin/python3 -c 'import time; b = bytearray(64 << 20); b[::4096] = b\"x\" * len(b[::4096]); time.sleep(600)'" &
hog=$!
ctx_on_exit "kill -9 $hog"
cat >"$CTX_WORK/profiles.json" <<JSON
{"defaults": {"tenant": "acme"}, "vms": [
  {"name": "$busy", "cgroup": "$cg_busy"},
  {"name": "$idle"},
  {"name": "mmxcg-pid$sfx", "pid": $burner},
  {"name": "mmxcg-missing$sfx", "cgroup": "/sys/fs/cgroup/ctxlog-test/no-such-vm$sfx"}
]}
JSON
PORT=$(mmx_port)
mmx_run cg <<PARAMS
profiles="@WORK@/profiles.json" sample.interval="1" host.cgroupTemplate="ctxlog-test/{name}"
PARAMS
stat() { ctx_stat "mmctxenrich(cg)" "$1"; }
passes=$(stat host.passes)
ctx_wait_stat "mmctxenrich(cg)" host.passes $((passes + 3))
vms="$busy:,$idle:,mmxcg-pid$sfx:,mmxcg-missing$sfx:"
mmx_send "$PORT" 4 r1- "vms=$vms" sev=err
ctx_wait_lines "$CTX_WORK/out" 4
mmx_check "$CTX_WORK/out" "
busy, idle, pid, missing = (by_seq['r1-%d' % i]['ctx']['host'] for i in range(4))
print('busy %s, idle %s, pid %s' % (busy.get('vm_cpu_pct'), idle.get('vm_cpu_pct'), pid.get('vm_cpu_pct')))
# the loop's share depends on what else runs on the machine (CI, other tests): it must
# clearly show, and the idle VM not; no timing threshold beyond that
if not 5 <= busy.get('vm_cpu_pct', -1) <= 110: fail('busy VM (one busy loop): %s' % busy)
if not 0 <= idle.get('vm_cpu_pct', -1) < 10: fail('idle VM: %s' % idle)
if not 5 <= pid.get('vm_cpu_pct', -1) <= 110: fail('pid VM: %s' % pid)
if busy['vm_cpu_pct'] < idle.get('vm_cpu_pct', 0) + 5: fail('busy VM not above the idle one: %s vs %s' % (busy, idle))
if abs(pid['vm_cpu_pct'] - busy['vm_cpu_pct']) > max(15, busy['vm_cpu_pct'] / 2): fail('the same loop by cgroup and by pid: %s vs %s' % (busy, pid))
if not (64 << 20) <= idle.get('vm_mem_bytes', 0) < (200 << 20): fail('idle VM memory: %s' % idle)
if missing.get('vm_error') != 'cgroup not found' or 'vm_cpu_pct' in missing: fail('missing cgroup: %s' % missing)
for h in (busy, idle, pid):
    if 'vm_error' in h: fail('unexpected error: %s' % h)
"
ctx_wait_for "vm errors counted" 10 "[ \"\$(stat host.vm_errors)\" -ge 3 ]"
ctx_assert_grep "$CTX_ILOG" "mmctxenrich(cg): host sampling: VM 'mmxcg-missing$sfx': cgroup not found"

# the busy loop stops: two samples later the VM is idle, its pid VM gone
kill -9 "$burner"
wait "$burner" 2>/dev/null
passes=$(stat host.passes)
ctx_wait_stat "mmctxenrich(cg)" host.passes $((passes + 3))
mmx_send "$PORT" 4 r2- "vms=$vms" sev=err
ctx_wait_lines "$CTX_WORK/out" 8
mmx_check "$CTX_WORK/out" "
busy, idle, pid, missing = (by_seq['r2-%d' % i]['ctx']['host'] for i in range(4))
if not 0 <= busy.get('vm_cpu_pct', -1) < 10: fail('busy VM after the loop stopped: %s' % busy)
if pid.get('vm_error') != 'process not found': fail('pid VM after its process ended: %s' % pid)
"

# HUP: a new VM in the profiles is sampled; then a broken file keeps the profiles in use
sed -i "s|\"vms\": \[|\"vms\": [ {\"name\": \"mmxcg-late$sfx\", \"pid\": $hog},|" "$CTX_WORK/profiles.json"
ctx_hup
ctx_wait_stat "mmctxenrich(cg)" profiles.reloads 1
passes=$(stat host.passes)
ctx_wait_stat "mmctxenrich(cg)" host.passes $((passes + 1))
echo '{"vms": [ {"name": "x", "pid": "nope"} ]}' >"$CTX_WORK/profiles.json"
ctx_hup
ctx_wait_stat "mmctxenrich(cg)" profiles.reload_errors 1
ctx_assert_grep "$CTX_ILOG" "mmctxenrich(cg): HUP: profiles not reloaded, keeping the profiles in use: $CTX_WORK/profiles.json: line 1"
mmx_send "$PORT" 2 r3- "vms=mmxcg-late$sfx:,$idle:" sev=err
ctx_wait_lines "$CTX_WORK/out" 10
ctx_stop
mmx_check "$CTX_WORK/out" "
late, idle = by_seq['r3-0']['ctx']['host'], by_seq['r3-1']['ctx']['host']
if late.get('vm_mem_bytes', 0) < (64 << 20) or 'vm_error' in late: fail('VM added by HUP: %s' % late)
if 'vm_mem_bytes' not in idle: fail('idle VM after the broken HUP: %s' % idle)
"
ctx_pass "busy/idle cgroups, pid, template, missing cgroup, HUP with a new and a broken profiles file"
