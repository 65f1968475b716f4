#!/bin/bash
# Packets of a VM that no profile describes follow the 'unattributed' parameter:
# dropped, passed with tenant "unknown", or passed with a default tenant; counted
# either way. A template here names $!ctx!vm on its own, so $!ctx!vm is built for each
# message (not shared: rsyslog serializes it by itself), logged once per input.
. "$top_srcdir/tests/lib/harness.sh"
ctx_init "imctxcap_unattributed${CTX_SUFFIX:-}"
for i in 71 72 73; do ctx_vm_add "un$i" $i || ctx_fail "VM $i"; done
cat >"$CTX_WORK/profiles.json" <<JSON
{"vms": [{"name": "someone-else", "tenant": "acme", "vnic": "vnet99", "ipv4": "192.0.2.99"}]}
JSON
ctx_conf <<CONF
module(load="@MODDIR@/imctxcap/imctxcap.so")
input(type="imctxcap" name="drop" interface="vnet71" profiles="@WORK@/profiles.json" unattributed="drop")
input(type="imctxcap" name="pass" interface="vnet72" profiles="@WORK@/profiles.json" unattributed="pass")
input(type="imctxcap" name="dflt" interface="vnet73" profiles="@WORK@/profiles.json"
      unattributed="pass" unattributed.tenant="ops-default")
$CTX_CHECK_TEMPLATE
action(type="omfile" file="@WORK@/out" template="ctxcheck")
template(name="vmonly" type="string" string="%\$!ctx!vm%\n")
action(type="omfile" file="@WORK@/vm" template="vmonly")
CONF
ctx_start
for n in drop pass dflt; do ctx_wait_stat "imctxcap($n)" interfaces.attached 1; done
N=5
exp="$CTX_WORK/expect"
: >"$exp"
for i in $(seq 1 $N); do
    for v in 71 72 73; do ctx_vm_exec "un$v" logger --udp -n "$(ctx_vm_host_ip4 $v)" -P 514 -t app "seq=u$v-$i"; done
    echo "seq=seq=u72-$i vm.tenant=unknown vm.match=none vm.name=- vm.uuid=- vm.ip=$(ctx_vm_ip4 72) vm.vnic=vnet72" >>"$exp"
    echo "seq=seq=u73-$i vm.tenant=ops-default vm.match=none vm.name=- vm.mac=$(ctx_vm_mac 73)" >>"$exp"
done
ctx_wait_lines "$CTX_WORK/out" $((2 * N))
ctx_wait_stat "imctxcap(drop)" msgs.unattributed.dropped $N
ctx_wait_stat "imctxcap(dflt)" msgs.unattributed $N
ctx_stop
ctx_check "$CTX_WORK/out" "$exp"
ctx_assert_eq "drop: unattributed" $N "$(ctx_stat "imctxcap(drop)" msgs.unattributed)"
ctx_assert_eq "drop: dropped" $N "$(ctx_stat "imctxcap(drop)" msgs.unattributed.dropped)"
ctx_assert_eq "drop: submitted" 0 "$(ctx_stat "imctxcap(drop)" msgs.submitted)"
ctx_assert_eq "pass: unattributed" $N "$(ctx_stat "imctxcap(pass)" msgs.unattributed)"
ctx_assert_eq "pass: dropped" 0 "$(ctx_stat "imctxcap(pass)" msgs.unattributed.dropped)"
ctx_assert_eq "pass: submitted" $N "$(ctx_stat "imctxcap(pass)" msgs.submitted)"
ctx_assert_eq "dflt: submitted" $N "$(ctx_stat "imctxcap(dflt)" msgs.submitted)"
for n in drop pass dflt; do
    ctx_assert_grep "$CTX_ILOG" "imctxcap($n): template 'vmonly' names \$!ctx!vm: \$!ctx!vm is built for each message (not shared)"
    ctx_assert_eq "$n: msgs.vm.shared" 0 "$(ctx_stat "imctxcap($n)" msgs.vm.shared)"
done
ctx_assert_eq "\$!ctx!vm lines of the pass inputs" $((2 * N)) "$(grep -c '^{ "tenant": "\(unknown\|ops-default\)"' "$CTX_WORK/vm")"
ctx_pass "drop, pass as unknown, pass with a default tenant; counted; \$!ctx!vm built per message when a template names it"
