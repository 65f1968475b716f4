#!/bin/bash
# imctxcap attaches vNICs that appear after rsyslogd started (a VM starting) without a
# restart, and detaches deleted ones (a VM stopping) without errors; a pattern that
# matches nothing at start is fine. CTX_WORKERS sets `workers` (imctxcap_dynamic_w2.sh: 2).
. "$top_srcdir/tests/lib/harness.sh"
ctx_init "imctxcap_dynamic${CTX_SUFFIX:-}"
v1=$(ctx_vm_vnic 61) v2=$(ctx_vm_vnic 62)
cat >"$CTX_WORK/profiles.json" <<JSON
{"vms": [{"name": "late-1", "tenant": "acme", "vnic": "$v1"},
         {"name": "late-2", "tenant": "acme", "vnic": "$v2"}]}
JSON
ctx_cap_conf dyn interface="${v1%?}[12]" profiles=@WORK@/profiles.json workers="${CTX_WORKERS:-1}"
ctx_cap_start dyn 0
ctx_assert_eq "attached at start" 0 "$(ctx_stat "imctxcap(dyn)" interfaces.attached)"

# VM 1 starts: its vNIC is attached without a restart (the log line says so). How soon is
# reported, not asserted: the time includes making the VM, which a loaded machine slows
t0=$(date +%s%N)
ctx_vm_add dyn1 61 || ctx_fail "VM 1"
ctx_wait_for "$v1 attached" 5 "grep -q 'attached interface $v1' '$CTX_ILOG'"
ms=$((($(date +%s%N) - t0) / 1000000))
ctx_vm_exec dyn1 logger --udp -n "$(ctx_vm_host_ip4 61)" -P 514 -t app "seq=d1-1"
ctx_vm_add dyn2 62 || ctx_fail "VM 2"
ctx_wait_for "$v2 attached" 5 "grep -q 'attached interface $v2' '$CTX_ILOG'"
ctx_vm_exec dyn2 logger --udp -n "$(ctx_vm_host_ip4 62)" -P 514 -t app "seq=d2-1"
ctx_wait_lines "$CTX_WORK/out" 2

# VM 1 stops: detached, and VM 2 keeps flowing
ctx_vm_del dyn1
ip link del $v1 2>/dev/null || true
ctx_wait_for "$v1 detached" 5 "grep -q 'detached interface $v1' '$CTX_ILOG'"
ctx_vm_exec dyn2 logger --udp -n "$(ctx_vm_host_ip4 62)" -P 514 -t app "seq=d2-2"
# VM 1 comes back (migration back, restart): attached again
ctx_vm_add dyn1 61 || ctx_fail "VM 1 again"
ctx_wait_for "$v1 attached again" 5 "[ \$(grep -c 'attached interface $v1' '$CTX_ILOG') -ge 2 ]"
ctx_vm_exec dyn1 logger --udp -n "$(ctx_vm_host_ip4 61)" -P 514 -t app "seq=d1-2"
ctx_wait_lines "$CTX_WORK/out" 4
ctx_wait_stat "imctxcap(dyn)" interfaces.attach.events 3
ctx_wait_stat "imctxcap(dyn)" interfaces.detach.events 1
ctx_stop
cat >"$CTX_WORK/expect" <<EXP
seq=seq=d1-1 vm.name=late-1 vm.vnic=$v1
seq=seq=d2-1 vm.name=late-2 vm.vnic=$v2
seq=seq=d2-2 vm.name=late-2
seq=seq=d1-2 vm.name=late-1
EXP
ctx_check "$CTX_WORK/out" "$CTX_WORK/expect"
ctx_assert_eq "attached at the end" 2 "$(ctx_stat "imctxcap(dyn)" interfaces.attached)"
ctx_assert_eq "attach errors (exported counter)" 0 "$(ctx_stat "imctxcap(dyn)" interfaces.attach.errors)"
if grep -qiE "error|cannot" "$CTX_ILOG" "$CTX_DLOG"; then cat "$CTX_ILOG" "$CTX_DLOG"; ctx_fail "errors in the daemon log"; fi
ctx_pass "late vNIC attached ($ms ms after the VM was begun); detach and re-attach without errors"
