#!/bin/bash
# Issue 14: a reused vNIC name never carries data to a new VM. VM "old" (tenant acme)
# opens a TCP connection on vnet226, sends one whole message and half of a second, and
# stops with the connection left open. Its vNIC goes away; the profiles give the name
# to VM "new" (tenant globex) and are reloaded (HUP); VM "new" comes up on the same
# vNIC name with the same MAC and IP, and continues old's connection in its sequence
# space (same addresses and ports, no SYN), then sends on a connection of its own.
# Expected: old's half message leaves when its vNIC goes, as old, marked truncated
# (tcp.gap truncate); nothing new sends is ever joined to it or attributed to old;
# each of new's messages arrives once, whole, as new.
. "$top_srcdir/tests/lib/harness.sh"
ctx_init "imctxcap_vnic_reuse${CTX_SUFFIX:-}"
ctx_vm_add old 226 || ctx_fail "VM old"
V=$(ctx_vm_vnic 226)
profiles() { echo "{\"vms\": [{\"name\": \"$1\", \"tenant\": \"$2\", \"vnic\": \"$V\"}]}" >"$CTX_WORK/profiles.json"; }
profiles old acme
ctx_cap_conf reuse profiles=@WORK@/profiles.json interface="$V" workers="${CTX_WORKERS:-1}"
ctx_cap_start reuse 1
raw() { # raw VM MODE ARGS...: hand-made TCP segments from the VM to the host
    local vm=$1 mode=$2
    shift 2
    ctx_vm_exec "$vm" /usr/bin/python3 "$top_srcdir/tests/lib/rawtcp.py" "$mode" eth0 \
        "$(cat "/sys/class/net/$V/address")" "$(ctx_vm_ip4 226)" "$(ctx_vm_host_ip4 226)" "$@"
}
first='<13>Dec  2 10:00:00 guest app: seq=o1 whole'$'\n''<13>Dec  2 10:00:00 guest app: seq=o2 half, the rest'
raw old half 41000 "$first" || ctx_fail "old: half"
ctx_wait_lines "$CTX_WORK/out" 1
ctx_wait_stat "imctxcap(reuse)" tcp.segments 2

# old stops: its vNIC goes, with the connection still open
ctx_vm_del old
ip link del "$V" 2>/dev/null || true
ctx_wait_for "$V detached" 10 "grep -q 'detached interface $V' '$CTX_ILOG'"
ctx_wait_lines "$CTX_WORK/out" 2
# the name is given to new, and new comes up on it
profiles new globex
ctx_hup
ctx_wait_stat "imctxcap(reuse)" profiles.reloads 1
ctx_vm_add new 226 || ctx_fail "VM new"
ctx_wait_for "$V attached again" 10 "[ \$(grep -c 'attached interface $V' '$CTX_ILOG') -ge 2 ]"
# new continues old's connection where old stopped (same 4-tuple, next sequence number)
raw new cont 41000 $((1001 + ${#first})) '<13>Dec  2 10:00:01 guest app: seq=n1 continued' || ctx_fail "new: cont"
raw new msg 41001 '<13>Dec  2 10:00:02 guest app: seq=n2 own connection' || ctx_fail "new: msg"
ctx_wait_lines "$CTX_WORK/out" 4
ctx_stop
cat >"$CTX_WORK/expect" <<EXP
seq=seq=o1 vm.name=old vm.tenant=acme capture.truncated=- msg=whole
seq=seq=o2 vm.name=old vm.tenant=acme capture.truncated=True msg=rest
seq=seq=n1 vm.name=new vm.tenant=globex capture.truncated=- msg=continued
seq=seq=n2 vm.name=new vm.tenant=globex capture.truncated=- msg=own
EXP
ctx_check "$CTX_WORK/out" "$CTX_WORK/expect"
if grep "seq=o" "$CTX_WORK/out" | grep -q '"globex"'; then ctx_fail "old's data went out as new's tenant"; fi
if grep "seq=n" "$CTX_WORK/out" | grep -q '"acme"'; then ctx_fail "new's data went out as old's tenant"; fi
st() { ctx_stat "imctxcap(reuse)" "$1"; }
ctx_assert_eq "tcp.frames.partial (old's half message)" 1 "$(st tcp.frames.partial)"
ctx_assert_eq "interfaces.detach.events" 1 "$(st interfaces.detach.events)"
ctx_pass "old: 2 of 2 as old (1 cut when its vNIC went); new: 2 of 2 as new, nothing joined across; picked up $(st tcp.flows.pickedup)"
