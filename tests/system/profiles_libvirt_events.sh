#!/bin/bash
# Profiles from libvirt (issue 18): what device changes and migrations look like to
# imctxcap and mmctxenrich, and a domain's machine.slice cgroup, through Debian's
# libvirtd and libvirt's test driver. All without HUP.
# libvirt 9.0's test driver has no virDomainAttachDevice(Flags), DetachDevice(Flags),
# UpdateDeviceFlags nor any virDomainMigrate* (its driver table, src/test/test_driver.c;
# virsh says "this function is not supported by the connection driver"), so it never
# sends DEVICE_ADDED / DEVICE_REMOVED (profiles_libvirt_qemu.sh does both, and a live
# migration, with libvirt's qemu driver). Here they are shown the nearest way they can:
# - an interface plugged into / pulled from a running domain: the domain saved, its
#   saved XML given or relieved of the interface (save-image-define), restored (events:
#   stopped, started; a hot-plug sends device-added: the same rescan follows either);
# - a migration, as this host sees it: away = stopped + undefined (the source side of
#   a migration with --undefinesource), in = a transient domain started with its UUID
#   (the destination side without --persistent); meanwhile another domain arrives on
#   the vNIC the first one left.
# Each step: until a message shows the new identity, every message shows the old one
# (checked per sequence number, never a third); then it stays. Counters exact: one
# profiles.libvirt.events per lifecycle event the daemon sent (the test's own event
# listener counts them too), the same in both modules (one source).
# The domain is kvm-typed: its cgroup is libvirt's scope name for it
# (machine-qemu\x2d<id>\x2d<machine name>.scope), read by mmctxenrich in a cgroup
# tree made here (host.cgroupRoot): vm_mem_bytes is the scope's memory.current, and
# a restore (a new id, a new scope) moves the figures to the new scope.
. "$top_srcdir/tests/lib/harness.sh"
ctx_init "profiles_libvirt_events${CTX_SUFFIX:-}"
. "$top_srcdir/tests/lib/libvirtd.sh"
lv_setup

T1=tap-lv$(ctx_vm_i 246) T2=tap-lv$(ctx_vm_i 247)
ctx_vm_add lve1 246 --vnic "$T1" || ctx_fail "VM"
ctx_vm_add lve2 247 --vnic "$T2" || ctx_fail "VM"
U1=6f1c2a4e-0b7d-4c1e-9a8f-2d3b4c5d6f46 U2=6f1c2a4e-0b7d-4c1e-9a8f-2d3b4c5d6f47
CTXNS=urn:ctxlog:libvirt:1
NAME=web.prod--01 # libvirt's machine name keeps the dot, one '-' of the two
acme="<ctxlog:vm xmlns:ctxlog='$CTXNS' tenant='acme' user='alice'/>"
nic2="<interface type='ethernet'><mac address='$(ctx_vm_mac 247)'/><target dev='$T2'/></interface>"
lv_domain "$NAME" $U1 "$T1" "$(ctx_vm_mac 246)" "$acme" kvm >"$CTX_WORK/d1.xml"
lv_domain "$NAME" $U1 "$T1" "$(ctx_vm_mac 246)" "$acme" kvm "$nic2" >"$CTX_WORK/d1-plugged.xml"
lv_domain "$NAME" $U1 "$T2" "$(ctx_vm_mac 247)" "$acme" kvm >"$CTX_WORK/d1-in.xml"
lv_domain db $U2 "$T1" "$(ctx_vm_mac 246)" "<ctxlog:vm xmlns:ctxlog='$CTXNS' tenant='globex' user='bob'/>" \
    >"$CTX_WORK/d2.xml"

# the cgroup tree (v2 layout) with the scope of the domain's current id
CG="$CTX_WORK/cg"
mkdir -p "$CG/machine.slice"
# scope ID MEMORY: the domain's scope as libvirt names it for id ID, other scopes gone
scope() {
    rm -rf "$CG/machine.slice/"*
    local d="$CG/machine.slice/machine-qemu\\x2d$1\\x2dweb.prod\\x2d01.scope"
    mkdir -p "$d"
    echo "usage_usec 1000000" >"$d/cpu.stat"
    echo "$2" >"$d/memory.current"
    echo max >"$d/memory.max"
}

lv_start
# the modules given different pairs get two sources: said at config load
echo '{"vms": []}' >"$CTX_WORK/profiles.json"
ctx_conf <<CONF
module(load="@MODDIR@/imctxcap/imctxcap.so")
module(load="@MODDIR@/mmctxenrich/mmctxenrich.so")
input(type="imctxcap" name="lve" interface="$T1,$T2" profiles="@WORK@/profiles.json" profiles.libvirt="$URI")
action(type="mmctxenrich" name="lve" profiles.libvirt="$URI")
CONF
ctx_validate || ctx_fail "rsyslogd -N1: $(cat "$CTX_WORK/n1.out")"
ctx_assert_eq "lines about two sources" 1 "$(grep -c "'$URI' and '$CTX_WORK/profiles.json + $URI' are two sources" "$CTX_WORK/n1.out")"

ctx_conf <<CONF
module(load="@MODDIR@/imctxcap/imctxcap.so")
module(load="@MODDIR@/mmctxenrich/mmctxenrich.so")
input(type="imctxcap" name="lve" interface="$T1,$T2" unattributed="pass" profiles.libvirt="$URI")
$CTX_CHECK_TEMPLATE
action(type="mmctxenrich" name="lve" profiles.libvirt="$URI" sample.interval="1" host.cgroupRoot="$CG")
action(type="omfile" file="@WORK@/out" template="ctxcheck")
CONF
ctx_start
ctx_wait_stat "imctxcap(lve)" interfaces.attached 2
ctx_wait_stat "imctxcap(lve)" profiles.libvirt.updates 1
ctx_assert_eq "events before any change" 0 "$(ctx_stat "imctxcap(lve)" profiles.libvirt.events)"

n=0
# send VM SEQ: one message from VM (1: $T1, 2: $T2); waits until it is written
send() {
    local idx=$((245 + $1))
    n=$((n + 1))
    ctx_vm_exec "lve$1" logger --udp -p user.err -n "$(ctx_vm_host_ip4 $idx)" -P 514 -t app "seq=$n"
    ctx_wait_lines "$CTX_WORK/out" $n
}
# attr SEQ: the message's identity "name|tenant|user|uuid|match"
attr() {
    grep "seq=$1|" "$CTX_WORK/out" | cut -d'|' -f7- |
        jq -r '.vm | [.name, .tenant, .user, .uuid, .match] | map(. // "-") | join("|")'
}
mem() { grep "seq=$1|" "$CTX_WORK/out" | cut -d'|' -f7- | jq -r '.host.vm_mem_bytes // "-"'; }
declare -A was=([1]="-|unknown|-|-|none" [2]="-|unknown|-|-|none")
# step VM WANT WHAT: messages from VM until one shows WANT; each before shows what VM
# had (by sequence number); then three more show WANT
step() {
    local v=$1 want=$2 what=$3 got deadline=$((SECONDS + 20))
    while :; do
        send "$v"
        got=$(attr $n)
        [ "$got" = "$want" ] && break
        [ "$got" = "${was[$v]}" ] || ctx_fail "$what: seq=$n shows '$got', neither the old '${was[$v]}' nor '$want'"
        [ $SECONDS -lt $deadline ] || ctx_fail "$what: still '$got' after 20 s, expected '$want'"
        sleep 0.2
    done
    for i in 1 2 3; do
        send "$v"
        ctx_assert_eq "$what (seq=$n, after the change)" "$want" "$(attr $n)"
    done
    was[$v]=$want
}
# memory VM BYTES WHAT: until a message from VM carries BYTES from the domain's scope
memory() {
    local deadline=$((SECONDS + 20))
    while send "$1"; [ "$(mem $n)" != "$2" ]; do
        [ $SECONDS -lt $deadline ] || ctx_fail "$3: vm_mem_bytes '$(mem $n)' (seq=$n), expected $2: $(grep "seq=$n|" "$CTX_WORK/out")"
        sleep 0.2
    done
}
# events N: both modules counted exactly N lifecycle events, as the daemon sent them
events() {
    ctx_wait_stat "imctxcap(lve)" profiles.libvirt.events "$1"
    ctx_wait_stat "mmctxenrich(lve)" profiles.libvirt.events "$1"
    ctx_wait_for "the holder's $1 events" 10 "[ \$(grep -v \"domain 'probe'\" '$LV/events.log' | grep -c \"^event 'lifecycle'\") -ge $1 ]"
    ctx_assert_eq "events (imctxcap) after $2" "$1" "$(ctx_stat "imctxcap(lve)" profiles.libvirt.events)"
    ctx_assert_eq "events (mmctxenrich, the same source) after $2" "$1" "$(ctx_stat "mmctxenrich(lve)" profiles.libvirt.events)"
    ctx_assert_eq "events the daemon sent after $2" "$1" "$(grep -v "domain 'probe'" "$LV/events.log" | grep -c "^event 'lifecycle'")"
}
A="$NAME|acme|alice|$U1|vnic"

# 1. the domain defined and started; its scope by libvirt's name, with its id
vsh define "$CTX_WORK/d1.xml"
vsh start "$NAME"
id=$(virsh -q -c "$URI" domid "$NAME") || ctx_fail "domid"
scope "$id" 111111111
step 1 "$A" started
memory 1 111111111 "the scope of id $id"
step 2 "-|unknown|-|-|none" "$T2 before the plug"
events 2 "define, start"

# 2. an interface plugged in: $T2 is the domain's too; restored = a new id, a new scope
vsh save "$NAME" "$CTX_WORK/d1.save"
vsh save-image-define "$CTX_WORK/d1.save" "$CTX_WORK/d1-plugged.xml"
vsh restore "$CTX_WORK/d1.save"
id2=$(virsh -q -c "$URI" domid "$NAME") || ctx_fail "domid"
[ "$id2" != "$id" ] || ctx_fail "the restored domain kept id $id"
scope "$id2" 222222222
step 2 "$A" plugged
step 1 "$A" "$T1 while $T2 is plugged"
memory 2 222222222 "the scope of the restored id $id2"
events 4 "the plug (save, restore)"

# 3. the interface pulled out: $T2 names nobody
vsh save "$NAME" "$CTX_WORK/d1.save"
vsh save-image-define "$CTX_WORK/d1.save" "$CTX_WORK/d1.xml"
vsh restore "$CTX_WORK/d1.save"
step 2 "-|unknown|-|-|none" unplugged
step 1 "$A" "$T1 after the unplug"
events 6 "the unplug (save, restore)"

# 4. migrated away: stopped and undefined here; its vNIC names nobody
vsh destroy "$NAME"
vsh undefine "$NAME"
step 1 "-|unknown|-|-|none" "migrated away"
events 8 "migrated away (stopped, undefined)"

# 5. another tenant's domain arrives on the vNIC the first one left
vsh create "$CTX_WORK/d2.xml"
step 1 "db|globex|bob|$U2|vnic" "another domain on the same vNIC"
events 9 "a domain migrated in (started)"

# 6. the first one migrates back in (its UUID, transient) on $T2
vsh create "$CTX_WORK/d1-in.xml"
step 2 "$A" "migrated back in"
step 1 "db|globex|bob|$U2|vnic" "$T1 stays the other domain's"
events 10 "migrated back in"
ctx_stop

# every message once, in order: no gap, no duplicate
ctx_assert_eq "messages" "$n" "$(grep -c 'seq=' "$CTX_WORK/out")"
ctx_assert_eq "sequence numbers" "$(seq 1 $n | tr '\n' ' ')" \
    "$(grep -o 'seq=[0-9]*' "$CTX_WORK/out" | cut -d= -f2 | tr '\n' ' ')"
for m in imctxcap mmctxenrich; do
    ctx_assert_eq "$m: profiles.reloads (no HUP)" 0 "$(ctx_stat "$m(lve)" profiles.reloads)"
    ctx_assert_eq "$m: profiles.libvirt.errors" 0 "$(ctx_stat "$m(lve)" profiles.libvirt.errors)"
    ctx_assert_eq "$m: profiles.libvirt.reconnects" 0 "$(ctx_stat "$m(lve)" profiles.libvirt.reconnects)"
    ctx_assert_eq "$m: profiles.libvirt.domains (test:///default's own, db, $NAME)" 3 \
        "$(ctx_stat "$m(lve)" profiles.libvirt.domains)"
done
# a scan per wake-up: at least one per step that changed what a message shows (6), at
# most one per event and the first
u=$(ctx_stat "imctxcap(lve)" profiles.libvirt.updates)
[ "$u" -ge 7 ] && [ "$u" -le 11 ] || ctx_fail "profiles.libvirt.updates: expected 7..11, got $u"
ctx_assert_eq "updates (mmctxenrich, the same source)" "$u" "$(ctx_stat "mmctxenrich(lve)" profiles.libvirt.updates)"
ctx_assert_eq "HUPs" 0 "$(grep -c 'HUP' "$CTX_ILOG")"
ctx_assert_eq "lines about two sources (one pair for both)" 0 "$(grep -c 'are two sources' "$CTX_ILOG")"
# device-added / -removed and metadata callbacks registered (their events cannot be made here)
ctx_assert_eq "event kinds not followed" 0 "$(grep -c 'cannot follow' "$CTX_ILOG")"
ctx_assert_eq "connections" 1 "$(grep -c 'connected; following domain events' "$CTX_ILOG")"
ctx_pass "plug, unplug, migrate away and in (another domain on the freed vNIC, the first back on another): attribution by sequence number, exact event counts, the scope's memory"
