#!/bin/bash
# imctxcap over UDP: three VMs (namespaces) send with util-linux logger, RFC 3164 and
# RFC 5424, over IPv4 and IPv6, to the host and to an
# address nobody owns. Each VM is attributed by a different key (vNIC name, source
# MAC, source IP). Every message arrives exactly once, parsed, with its VM's
# identity and capture details, and the counters agree.
. "$top_srcdir/tests/lib/harness.sh"
ctx_init "imctxcap_udp${CTX_SUFFIX:-}"
ctx_vm_add udpa 41 || ctx_fail "VM a"
ctx_vm_add udpb 42 || ctx_fail "VM b"
ctx_vm_add udpc 43 || ctx_fail "VM c"
cat >"$CTX_WORK/profiles.json" <<JSON
{"vms": [
  {"name": "web-a", "uuid": "11111111-2222-4333-8444-555555555541", "tenant": "acme", "user": "alice",
   "vnic": "$(ctx_vm_vnic 41)"},
  {"name": "db-b", "uuid": "11111111-2222-4333-8444-555555555542", "tenant": "globex", "user": "bob",
   "mac": "$(ctx_vm_mac 42)"},
  {"name": "cache-c", "tenant": "globex", "ipv4": "$(ctx_vm_ip4 43)", "ipv6": "$(ctx_vm_ip6 43)"}
]}
JSON
ctx_cap_conf udptest interface="$(ctx_vm_vnic 41),$(ctx_vm_vnic 42),$(ctx_vm_vnic 43)" profiles=@WORK@/profiles.json
ctx_cap_start udptest 3

N=${CTX_N:-15}
exp="$CTX_WORK/expect"
: >"$exp"
send() { # vm idx name tenant match vlan
    local vm=$1 idx=$2 name=$3 tenant=$4 match=$5 vlan=$6 i
    local h4 d4 h6 d6 ip4 ip6
    h4=$(ctx_vm_host_ip4 "$idx"); d4=$(ctx_vm_dead_ip4 "$idx"); h6=$(ctx_vm_host_ip6 "$idx"); d6=$(ctx_vm_dead_ip6 "$idx")
    ip4=$(ctx_vm_ip4 "$idx"); ip6=$(ctx_vm_ip6 "$idx")
    local common="input=imctxcap vm.name=$name vm.tenant=$tenant vm.match=$match vm.vnic=$(ctx_vm_vnic "$idx")"
    common="$common capture.proto=udp capture.dport=514 capture.vlan=$vlan"
    for i in $(seq 1 "$N"); do
        ctx_vm_exec "$vm" logger --udp --rfc3164 -n "$h4" -P 514 -t "app4h" -p user.err "seq=$vm-4h-$i"
        ctx_vm_exec "$vm" logger --udp --rfc5424 -n "$d4" -P 514 -t "app4d" -p local0.info "seq=$vm-4d-$i"
        ctx_vm_exec "$vm" logger --udp --rfc5424 -n "$h6" -P 514 -t "app6h" -p daemon.warning "seq=$vm-6h-$i"
        ctx_vm_exec "$vm" logger --udp --rfc3164 -n "$d6" -P 514 -t "app6d" -p user.debug "seq=$vm-6d-$i"
        {
            echo "seq=seq=$vm-4h-$i app=app4h sev=err fromip=$ip4 vm.ip=$ip4 capture.src=$ip4 capture.dst=$h4 $common"
            echo "seq=seq=$vm-4d-$i app=app4d sev=info fromip=$ip4 capture.dst=$d4 capture.ipv=4 $common"
            echo "seq=seq=$vm-6h-$i app=app6h sev=warning fromip=$ip6 vm.ip=$ip6 capture.dst=$h6 capture.ipv=6 $common"
            echo "seq=seq=$vm-6d-$i app=app6d sev=debug fromip=$ip6 capture.dst=$d6 $common"
        } >>"$exp"
    done
}
send udpa 41 web-a acme vnic -
send udpb 42 db-b globex mac -
send udpc 43 cache-c globex ip -
total=$((3 * 4 * N))
ctx_wait_lines "$CTX_WORK/out" $total
ctx_wait_stat "imctxcap(udptest)" msgs.submitted $total
ctx_stop
ctx_check "$CTX_WORK/out" "$exp"
ctx_assert_eq "msgs.submitted" $total "$(ctx_stat "imctxcap(udptest)" msgs.submitted)"
ctx_assert_eq "packets.malformed" 0 "$(ctx_stat "imctxcap(udptest)" packets.malformed)"
ctx_assert_eq "msgs.unattributed" 0 "$(ctx_stat "imctxcap(udptest)" msgs.unattributed)"
ctx_assert_eq "interfaces.attached" 3 "$(ctx_stat "imctxcap(udptest)" interfaces.attached)"
# $!ctx!vm is shared: each distinct (VM, vNIC, source IP, MAC) builds it once (at least one
# miss each; more only when two of them meet in one slot of the worker's memo)
keys=$(grep -o '"vm": {[^}]*}' "$CTX_WORK/out" | sort -u | wc -l) shared=$(ctx_stat "imctxcap(udptest)" msgs.vm.shared)
[ "$keys" = 6 ] || ctx_fail "expected 6 distinct \$!ctx!vm (3 VMs, IPv4 and IPv6), got $keys"
[ "$shared" -le $((total - keys)) ] && [ "$shared" -ge $((total / 3)) ] ||
    ctx_fail "msgs.vm.shared: $shared, expected between $((total / 3)) and $((total - keys))"
# uuid and user come from the profile
grep -q '"uuid": "11111111-2222-4333-8444-555555555541", "tenant": "acme", "user": "alice"' "$CTX_WORK/out" ||
    ctx_fail "VM a's uuid/user missing"
ctx_pass "$total messages from 3 VMs, each once, attributed by vnic, mac and ip; \$!ctx!vm shared by $shared"
