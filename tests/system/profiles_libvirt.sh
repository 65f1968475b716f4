#!/bin/bash
# Profiles from libvirt (issue 18), through Debian's real libvirtd and libvirt's test
# driver: test:///default lives in the daemon, so virsh (the test's hand) and rsyslogd
# (imctxcap and mmctxenrich, one shared source) see the same domains and events.
# - a Nova-shaped and a ctxlog-shaped domain attribute their vNIC's messages with
#   their tenant and user; the profiles file wins for the keys it sets;
# - a HUP that changes the file's tenant: both modules take the one new store (one of
#   their two HUP handlers finds it already installed);
# - domains started, changed (metadata) and destroyed while rsyslogd runs: attribution
#   follows without HUP;
# - libvirtd stopped: the last domains stay in use, one line is logged, the source
#   reconnects when libvirtd is back.
# Device changes, migration and the domain's cgroup: profiles_libvirt_events.sh (test
# driver) and profiles_libvirt_qemu.sh (qemu driver: real attach, detach, migration).
. "$top_srcdir/tests/lib/harness.sh"
ctx_init "profiles_libvirt${CTX_SUFFIX:-}"
. "$top_srcdir/tests/lib/libvirtd.sh"
lv_setup

# libvirt names vnet* devices itself (a defined domain's vnet* target is dropped): tap
# names as OpenStack's, whose target dev libvirt keeps
V1=tap-lv$(ctx_vm_i 91) V2=tap-lv$(ctx_vm_i 92) V3=tap-lv$(ctx_vm_i 93)
ctx_vm_add lv1 91 --vnic "$V1" || ctx_fail "VM"
ctx_vm_add lv2 92 --vnic "$V2" || ctx_fail "VM"
ctx_vm_add lv3 93 --vnic "$V3" || ctx_fail "VM"
U1=6f1c2a4e-0b7d-4c1e-9a8f-2d3b4c5d6e01 U2=6f1c2a4e-0b7d-4c1e-9a8f-2d3b4c5d6e02 U3=6f1c2a4e-0b7d-4c1e-9a8f-2d3b4c5d6e03
NOVA=http://openstack.org/xmlns/libvirt/nova/1.1
CTXNS=urn:ctxlog:libvirt:1
nova="<nova:instance xmlns:nova='$NOVA'>
  <nova:name>web &lt;1&gt;</nova:name>
  <nova:owner><nova:user uuid='8a2b0000000000000000000000000001'>alice</nova:user>
  <nova:project uuid='3f9e0000000000000000000000000001'>acme</nova:project></nova:owner></nova:instance>"
lv_domain instance-00000001 $U1 "$V1" "$(ctx_vm_mac 91)" "$nova" >"$CTX_WORK/d1.xml"
lv_domain instance-00000003 $U3 "$V3" "$(ctx_vm_mac 93)" "$nova" >"$CTX_WORK/d3.xml"
lv_domain plain-vm $U2 "$V2" "$(ctx_vm_mac 92)" "<ctxlog:vm xmlns:ctxlog='$CTXNS' tenant='globex' user='bob'/>" \
    >"$CTX_WORK/d2.xml"

lv_start
vsh define "$CTX_WORK/d1.xml"
vsh start instance-00000001

# the file names the Nova VM by UUID with its own name and tenant: the file wins for
# those keys, libvirt fills the rest (user, vNIC, MAC)
prof="$CTX_WORK/profiles.json"
echo "{\"vms\": [{\"uuid\": \"$U1\", \"name\": \"from-file\", \"tenant\": \"acme-file\"}]}" >"$prof"
ctx_conf <<CONF
module(load="@MODDIR@/imctxcap/imctxcap.so")
module(load="@MODDIR@/mmctxenrich/mmctxenrich.so")
input(type="imctxcap" name="lv" interface="$V1,$V2,$V3" unattributed="pass" profiles="$prof" profiles.libvirt="$URI")
$CTX_CHECK_TEMPLATE
action(type="mmctxenrich" name="lv" profiles="$prof" profiles.libvirt="$URI")
action(type="omfile" file="@WORK@/out" template="ctxcheck")
CONF
ctx_validate || ctx_fail "rsyslogd -N1: $(cat "$CTX_WORK/n1.out")"
ctx_start
ctx_wait_stat "imctxcap(lv)" interfaces.attached 3
ctx_wait_stat "imctxcap(lv)" profiles.libvirt.updates 1

n=0
# send VM SEQ: one message; waits until it is written
send() {
    local idx=$((90 + $1))
    ctx_vm_exec "lv$1" logger --udp -n "$(ctx_vm_host_ip4 $idx)" -P 514 -t app "seq=$2"
    n=$((n + 1))
    ctx_wait_lines "$CTX_WORK/out" $n
}
# vm SEQ: the message's $!ctx!vm as "name|tenant|user|uuid|match"
vm() {
    grep "seq=$1|" "$CTX_WORK/out" | tail -n 1 | cut -d'|' -f7- |
        jq -r '.vm | [.name, .tenant, .user, .uuid, .match] | map(. // "-") | join("|")'
}
# until a message from VM shows EXPECTED (attribution follows libvirt's events, not a HUP)
expect_vm() {
    local v=$1 want=$2 what=$3 i=0 deadline=$((SECONDS + 20))
    while :; do
        i=$((i + 1))
        send "$v" "$what-$i"
        [ "$(vm "$what-$i")" = "$want" ] && return 0
        [ $SECONDS -lt $deadline ] || ctx_fail "$what: expected '$want', got '$(vm "$what-$i")'"
        sleep 0.2
    done
}

# 1. the Nova domain: the file's name and tenant, Nova's user
send 1 nova-1
ctx_assert_eq "Nova domain + file" "from-file|acme-file|alice|$U1|vnic" "$(vm nova-1)"
send 2 none-1
ctx_assert_eq "no domain on $V2 yet" "-|unknown|-|-|none" "$(vm none-1)"

# 2. a HUP that changes the file: both modules use the one new store
echo "{\"vms\": [{\"uuid\": \"$U1\", \"name\": \"from-file\", \"tenant\": \"acme-hup\"}]}" >"$prof"
ctx_hup
ctx_wait_stat "imctxcap(lv)" profiles.reloads 1
ctx_wait_for "mmctxenrich's HUP" 20 "grep -q 'mmctxenrich(lv): HUP: profiles reloaded' '$CTX_ILOG'"
send 1 hup-1
ctx_assert_eq "after HUP" "from-file|acme-hup|alice|$U1|vnic" "$(vm hup-1)"

# 3. a domain defined and started while rsyslogd runs: Nova's shape without a file entry
vsh define "$CTX_WORK/d3.xml"
vsh start instance-00000003
expect_vm 3 "web <1>|3f9e0000000000000000000000000001|alice|$U3|vnic" nova
# and one with ctxlog's metadata
vsh define "$CTX_WORK/d2.xml"
vsh start plain-vm
expect_vm 2 "plain-vm|globex|bob|$U2|vnic" started
# its metadata changed live: the new tenant, without HUP
vsh metadata plain-vm --uri "$CTXNS" --key ctxlog --set "<vm tenant='initech' user='bob'/>" --live
expect_vm 2 "plain-vm|initech|bob|$U2|vnic" metadata
# a Nova domain destroyed: its vNIC names nobody any more
vsh destroy instance-00000003
expect_vm 3 "-|unknown|-|-|none" destroyed

# 4. libvirtd goes away: the last domains stay, one line; back: reconnected
lv_stop
ctx_wait_stat "imctxcap(lv)" profiles.libvirt.reconnects 1
send 2 away-1
ctx_assert_eq "while libvirtd is away" "plain-vm|initech|bob|$U2|vnic" "$(vm away-1)"
lv_start # a new daemon: test:///default starts again without our domains
vsh define "$CTX_WORK/d2.xml"
vsh start plain-vm
expect_vm 2 "plain-vm|globex|bob|$U2|vnic" reconnected
ctx_wait_stat "mmctxenrich(lv)" profiles.libvirt.reconnects 1 # mmctxenrich sees the same source
ctx_stop # (rsyslog's own log is complete once it stopped)
ctx_assert_eq "HUP handlers that found the store already installed" 1 "$(grep -c 'profiles.*(unchanged)' "$CTX_ILOG")"
ctx_assert_eq "libvirt connections (one for both modules)" 1 \
    "$(grep -c 'ctxlog profiles: libvirt .*: connected; following domain events' "$CTX_ILOG")"
ctx_assert_eq "lines about the lost connection" 1 "$(grep -c 'connection lost; keeping the last' "$CTX_ILOG")"
# test:///default's own domain "test" has no metadata: left out, said once
ctx_assert_eq "lines about domains without a tenant" 1 "$(grep -c ': 1 running domains have no tenant' "$CTX_ILOG")"
ctx_assert_eq "imctxcap reconnects" 1 "$(ctx_stat "imctxcap(lv)" profiles.libvirt.reconnects)"
ctx_assert_eq "connected" 1 "$(ctx_stat "imctxcap(lv)" profiles.libvirt.connected)"
events=$(ctx_stat "imctxcap(lv)" profiles.libvirt.events)
[ "$events" -ge 6 ] || ctx_fail "profiles.libvirt.events: expected at least 6, got $events"
mm=$(ctx_stat "mmctxenrich(lv)" profiles.libvirt.events)
[ "$mm" -ge 4 ] || ctx_fail "mmctxenrich's profiles.libvirt.events (the same source): expected at least 4, got $mm"
ctx_pass "Nova and ctxlog domains attributed, HUP shared, events followed without HUP, reconnect after libvirtd restart"
