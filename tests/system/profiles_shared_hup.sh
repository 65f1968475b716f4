#!/bin/bash
# One source of truth (issue 18): imctxcap and mmctxenrich in one rsyslogd share one
# loaded profiles file. After a HUP that renames a VM and moves it to another tenant,
# the message carries the new identity in $!ctx!vm (imctxcap) and mmctxenrich's
# $!ctx!host figures for the VM under its new name (mmctxenrich's sampler follows the
# same store); one of the two HUP handlers finds the new file already installed.
. "$top_srcdir/tests/lib/harness.sh"
ctx_init "profiles_shared_hup${CTX_SUFFIX:-}"
ctx_vm_add shup1 94 --cgroup || ctx_fail "VM"
V=$(ctx_vm_vnic 94)
CG=$CTX_VM_CG_shup1
prof="$CTX_WORK/profiles.json"
profile() { echo "{\"vms\": [{\"name\": \"$1\", \"tenant\": \"$2\", \"vnic\": \"$V\", \"cgroup\": \"$CG\"}]}"; }
profile before acme >"$prof"
ctx_conf <<CONF
module(load="@MODDIR@/imctxcap/imctxcap.so")
module(load="@MODDIR@/mmctxenrich/mmctxenrich.so")
input(type="imctxcap" name="sh" interface="$V" profiles="$prof")
$CTX_CHECK_TEMPLATE
action(type="mmctxenrich" name="sh" profiles="$prof" sample.interval="1")
action(type="omfile" file="@WORK@/out" template="ctxcheck")
CONF
ctx_start
ctx_wait_stat "imctxcap(sh)" interfaces.attached 1
n=0
send() {
    ctx_vm_exec shup1 logger --udp -p user.err -n "$(ctx_vm_host_ip4 94)" -P 514 -t app "seq=$1"
    n=$((n + 1))
    ctx_wait_lines "$CTX_WORK/out" $n
}
# seen SEQ: "vm name|tenant|whether $!ctx!host has the VM's figures"
seen() {
    grep "seq=$1|" "$CTX_WORK/out" | cut -d'|' -f7- |
        jq -r '[.vm.name, .vm.tenant, (.host.vm_mem_bytes != null | tostring)] | join("|")'
}
# until a message shows WANT (the sampler needs a pass for a VM it was just given)
expect() {
    local want=$1 what=$2 i=0 deadline=$((SECONDS + 20))
    while :; do
        i=$((i + 1))
        send "$what-$i"
        [ "$(seen "$what-$i")" = "$want" ] && return 0
        [ $SECONDS -lt $deadline ] || ctx_fail "$what: expected '$want', got '$(seen "$what-$i")'"
        sleep 0.3
    done
}
expect "before|acme|true" start
profile after globex >"$prof"
ctx_hup
ctx_wait_stat "imctxcap(sh)" profiles.reloads 1
ctx_wait_for "mmctxenrich's HUP" 20 "grep -q 'mmctxenrich(sh): HUP: profiles reloaded' '$CTX_ILOG'"
send hup-0
ctx_assert_eq "first message after HUP" "after|globex" "$(seen hup-0 | cut -d'|' -f1,2)"
expect "after|globex|true" hup
ctx_stop
ctx_assert_eq "HUP handlers that found the file already installed" 1 "$(grep -c 'profiles.*(unchanged)' "$CTX_ILOG")"
ctx_assert_eq "imctxcap reload errors" 0 "$(ctx_stat "imctxcap(sh)" profiles.reload.errors)"
ctx_assert_eq "mmctxenrich reloads" 1 "$(ctx_stat "mmctxenrich(sh)" profiles.reloads)"
ctx_pass "after HUP both modules use the new profile (tenant in \$!ctx!vm, host figures under the new name)"
