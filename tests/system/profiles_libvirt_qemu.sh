#!/bin/bash
# Profiles from libvirt (issue 18) against Debian's real libvirtd and its qemu driver:
# the device attach, detach and migration that libvirt's test driver cannot do
# (profiles_libvirt_events.sh shows their nearest equivalents there). No /dev/kvm
# here: the domain is TCG (<domain type='qemu'>), diskless, booting Debian's own
# kernel (scripts/fetch-guest-kernel.sh) into a busybox initramfs whose /init
# (tests/lib/guest/init) sends a numbered syslog datagram from every NIC it has,
# hot-plugged ones too, every half second.
# In network and mount namespaces of its own, two hosts (tests/lib/libvirtd_qemu.sh):
# h1 is qemu:///system in this test's mount
# namespace, h2 another libvirtd (own state, own host UUID) reached by its socket; one
# rsyslogd follows both: imctxcap + mmctxenrich "h1" with profiles.libvirt=
# "qemu:///system", "h2" with h2's URI, every vnet* captured by both inputs.
# 1. the domain started on h1: its vNIC's messages carry its tenant and user via h1,
#    none via h2;
# 2. an <interface type='ethernet'> attached (virsh attach-device --live, a tap libvirt
#    makes): device-added; the guest's messages from the new vNIC carry the domain;
# 3. detached (the guest ejects it): device-removed; a simulated VM (VM index 249) on
#    the freed vNIC name, with the freed MAC, is nobody's;
# 4. migrated live to h2 (virsh migrate --live --p2p --tunnelled): h1 loses the domain
#    (suspended + stopped, migrated), h2 gains it (started + resumed, migrated); the
#    guest's messages from its tap on h2 carry the domain via h2 and nobody via h1;
# 5. h2's libvirtd stopped and started again, the domain running on (qemu survives its
#    daemon, unlike the test driver's domains): attribution continues meanwhile, one
#    reconnect, the domain read again, no event.
# Every step without HUP; per step, until a message shows the new identity every one
# before shows the old (never a third). Counters exact: profiles.libvirt.events of
# each module = the lifecycle, device-added, device-removed and metadata-change events
# the host's daemon sent (an event logger of the test counts them too) = the number
# the step should make; profiles.reloads 0.
. "$top_srcdir/tests/lib/harness.sh"
. "$top_srcdir/tests/lib/libvirtd_qemu.sh"
ctx_init "profiles_libvirt_qemu${CTX_SUFFIX:-}"
ctx_need_root "libvirtd's qemu driver, taps, mount namespaces"
lvq_own_namespaces "$top_srcdir/tests/system/profiles_libvirt_qemu.sh"
lvq_setup

# the guest: Debian's kernel and e1000.ko, busybox-static, udpsend, /init
kdir=$("$top_srcdir/scripts/fetch-guest-kernel.sh" 2>"$CTX_WORK/fetch-kernel.err" | tail -n 1)
[ -s "$kdir/vmlinuz" ] || ctx_fail "no guest kernel: $(tail -n 3 "$CTX_WORK/fetch-kernel.err")"
ldd /bin/busybox 2>&1 | grep -q 'not a dynamic' || ctx_fail "/bin/busybox is not static (busybox-static, scripts/deps.txt)"
G="$CTX_WORK/guest"
mkdir -p "$G/bin" "$G/proc" "$G/sys" "$G/dev"
cp /bin/busybox "$G/bin/" && cp "$kdir/e1000.ko" "$top_srcdir/tests/lib/guest/init" "$G/" || ctx_fail "initramfs"
${CC:-cc} -static -Os -o "$G/udpsend" "$top_srcdir/tests/lib/guest/udpsend.c" || ctx_fail "cc -static udpsend"
(cd "$G" && find . | busybox cpio -o -H newc 2>/dev/null) | gzip -1 >"$CTX_WORK/initrd" || ctx_fail "cpio"

lvq_start h1 6f1c2a4e-0b7d-4c1e-9a8f-00000000a001
lvq_start h2 6f1c2a4e-0b7d-4c1e-9a8f-00000000a002
U2=${LVQ_URI[h2]}

U=6f1c2a4e-0b7d-4c1e-9a8f-2d3b4c5d6ff8
nic() { echo "<interface type='ethernet'><mac address='$(ctx_vm_mac "$1")'/><model type='e1000'/><rom enabled='no'/></interface>"; }
nic 249 >"$CTX_WORK/nic2.xml"
LVQ_MEM_MIB=128 lvq_domain web $U "<ctxlog:vm xmlns:ctxlog='urn:ctxlog:libvirt:1' tenant='acme' user='alice'/>" "$(nic 248)" \
    "<kernel>$kdir/vmlinuz</kernel><initrd>$CTX_WORK/initrd</initrd><cmdline>console=ttyS0 quiet panic=-1</cmdline>" \
    >"$CTX_WORK/web.xml"

ctx_conf <<CONF
module(load="@MODDIR@/imctxcap/imctxcap.so")
module(load="@MODDIR@/mmctxenrich/mmctxenrich.so")
$CTX_CHECK_TEMPLATE
ruleset(name="h1") {
    action(type="mmctxenrich" name="h1" profiles.libvirt="qemu:///system")
    action(type="omfile" file="@WORK@/out.h1" template="ctxcheck")
}
ruleset(name="h2") {
    action(type="mmctxenrich" name="h2" profiles.libvirt="$U2")
    action(type="omfile" file="@WORK@/out.h2" template="ctxcheck")
}
input(type="imctxcap" name="h1" ruleset="h1" interface="vnet*" unattributed="pass" profiles.libvirt="qemu:///system")
input(type="imctxcap" name="h2" ruleset="h2" interface="vnet*" unattributed="pass" profiles.libvirt="$U2")
CONF
ctx_validate || ctx_fail "rsyslogd -N1: $(cat "$CTX_WORK/n1.out")"
ctx_start
for h in h1 h2; do ctx_wait_stat "imctxcap($h)" profiles.libvirt.updates 1; done

# tap HOST IDX: the tap of the domain's interface with the MAC of VM IDX, on HOST
tap() { virsh -q -c "${LVQ_URI[$1]}" domiflist web 2>/dev/null | awk -v m="$(ctx_vm_mac "$2")" '$5 == m {print $1}'; }
# host_side TAP IDX: the host's end of the guest's NIC: 10.231.IDX.1/24 (the guest's
# datagrams go there; without an owner of that address its ARP gets no answer)
host_side() { ip addr add "$(ctx_vm_host_ip4 "$2")/24" dev "$1" || ctx_fail "address on $1"; }
# attrs INPUT VNIC FROM: "seq|name|tenant|user|uuid|match" of each message INPUT
# captured on VNIC, in order, from line FROM of its output (out.INPUT) on
attrs() {
    tail -n +"$3" "$CTX_WORK/out.$1" 2>/dev/null | cut -d'|' -f6- | sed 's/^[^|]*seq=\([0-9]*\)[^|]*|/\1|/' |
        jq -rR --arg v "$2" 'split("|") as $f | ($f[1:] | join("|") | fromjson) as $c |
            select($c.vm.vnic == $v) | [$f[0], $c.vm.name, $c.vm.tenant, $c.vm.user, $c.vm.uuid, $c.vm.match] |
            map(. // "-") | join("|")'
}
# mark INPUT: the next line of INPUT's output
mark() { echo $(($(cat "$CTX_WORK/out.$1" 2>/dev/null | wc -l) + 1)); }
NOBODY="-|unknown|-|-|none"
WEB="web|acme|alice|$U|vnic"
# follow INPUT VNIC FROM OLD NEW WHAT: until 3 messages in a row via INPUT on VNIC
# (from line FROM) show NEW; before the first of them, each shows OLD
follow() {
    local in=$1 v=$2 from=$3 old=$4 new=$5 what=$6 deadline=$((SECONDS + 60)) runs last
    while :; do
        # the identities in order, one line per run: "LENGTH IDENTITY"
        runs=$(attrs "$in" "$v" "$from" | cut -d'|' -f2- | uniq -c | sed 's/^ *//')
        case "$(printf '%s\n' "$runs" | cut -d' ' -f2- | tr '\n' '\t')" in
            $'\t' | "$old"$'\t' | "$new"$'\t' | "$old"$'\t'"$new"$'\t') ;;
            *) ctx_fail "$what: messages via $in on $v (runs: $(echo "$runs" | tr '\n' ';')), expected '$old' then '$new'" ;;
        esac
        last=$(printf '%s\n' "$runs" | tail -n 1)
        [ "${last#* }" = "$new" ] && [ "${last%% *}" -ge 3 ] && return 0
        [ $SECONDS -lt $deadline ] || ctx_fail "$what: no 3 messages via $in on $v showing '$new' in 60 s (runs: $(echo "$runs" | tr '\n' ';'))"
        sleep 0.2
    done
}
# nobody INPUT VNIC FROM WHAT: at least 3 messages via INPUT on VNIC since line FROM,
# each nobody's
nobody() {
    local bad
    ctx_wait_for "3 messages via $1 on $2 ($4)" 60 "[ \$(attrs $1 '$2' $3 | wc -l) -ge 3 ]"
    bad=$(attrs "$1" "$2" "$3" | cut -d'|' -f2- | grep -vxF -e "$NOBODY" | head -n 1)
    [ -z "$bad" ] || ctx_fail "$4: a message via $1 on $2 shows '$bad', expected nobody"
}
KINDS="lifecycle|device-added|device-removed|metadata-change"
# events HOST N WHAT: the host's daemon sent N events of KINDS; both modules of HOST counted N
events() {
    ctx_wait_for "$1's daemon to send $2 events ($3)" 60 "[ \$(lvq_events $1 '$KINDS') -ge $2 ]"
    ctx_wait_stat "imctxcap($1)" profiles.libvirt.events "$2"
    ctx_wait_stat "mmctxenrich($1)" profiles.libvirt.events "$2"
    ctx_assert_eq "events $1's daemon sent after $3" "$2" "$(lvq_events "$1" "$KINDS")"
    ctx_assert_eq "imctxcap($1) profiles.libvirt.events after $3" "$2" "$(ctx_stat "imctxcap($1)" profiles.libvirt.events)"
    ctx_assert_eq "mmctxenrich($1) profiles.libvirt.events after $3" "$2" "$(ctx_stat "mmctxenrich($1)" profiles.libvirt.events)"
}
domains() {
    ctx_wait_for "imctxcap($1) domains = $2" 20 "[ \"\$(ctx_stat 'imctxcap($1)' profiles.libvirt.domains)\" = $2 ]"
    ctx_wait_for "mmctxenrich($1) domains = $2" 20 "[ \"\$(ctx_stat 'mmctxenrich($1)' profiles.libvirt.domains)\" = $2 ]"
}

# 1. started on h1
ctx_log "1. the domain started on h1"
f1=$(mark h1) f2=$(mark h2)
lvq_must h1 create "$CTX_WORK/web.xml"
T1=$(tap h1 248)
[ -n "$T1" ] || ctx_fail "no tap for the domain's first interface"
host_side "$T1" 248
events h1 2 "the start (resumed, started)"
domains h1 1
follow h1 "$T1" "$f1" "$NOBODY" "$WEB" "started on h1 ($T1)"
nobody h2 "$T1" "$f2" "started on h1, seen by h2"

# 2. a second interface attached: a tap libvirt makes
ctx_log "2. attach"
from=$(mark h1)
lvq_must h1 attach-device web "$CTX_WORK/nic2.xml" --live
T2=$(tap h1 249)
[ -n "$T2" ] && [ "$T2" != "$T1" ] || ctx_fail "no new tap for the attached interface ('$T2')"
host_side "$T2" 249
events h1 3 "the attach (device-added)"
follow h1 "$T2" "$from" "$NOBODY" "$WEB" "attached ($T2)"
follow h1 "$T1" "$from" "$WEB" "$WEB" "$T1 while $T2 is attached"

# 3. detached: the guest ejects it, libvirt sends device-removed
ctx_log "3. detach"
lvq_must h1 detach-device web "$CTX_WORK/nic2.xml" --live
events h1 4 "the detach (device-removed)"
ctx_wait_for "$T2 to go" 20 "! ip link show '$T2' >/dev/null 2>&1"
[ -z "$(tap h1 249)" ] || ctx_fail "the detached interface is still in the domain"
# a simulated VM on the freed name, with the freed MAC: nobody's (3 messages)
ctx_vm_add gone 249 --vnic "$T2" || ctx_fail "VM"
from=$(mark h1)
for i in 1 2 3; do
    ctx_vm_exec gone logger --udp -p user.err -n "$(ctx_vm_host_ip4 249)" -P 514 -t app "seq=90000$i"
done
nobody h1 "$T2" "$from" "a VM on the detached vNIC $T2"
ctx_vm_del gone

# 4. migrated live to h2: gone from h1's set, in h2's
ctx_log "4. migrate"
lvq_must h1 migrate --live --p2p --tunnelled web "$U2"
events h1 6 "the migration away (suspended, stopped: migrated)"
events h2 2 "the migration in (started, resumed: migrated)"
domains h1 0
domains h2 1
ctx_wait_for "$T1 to go with h1's qemu" 20 "! ip link show '$T1' >/dev/null 2>&1"
T3=$(tap h2 248)
[ -n "$T3" ] || ctx_fail "no tap for the domain on h2"
f1=$(mark h1) f2=$(mark h2)
host_side "$T3" 248
follow h2 "$T3" "$f2" "$NOBODY" "$WEB" "migrated to h2 ($T3)"
nobody h1 "$T3" "$f1" "migrated to h2, seen by h1"

# 5. h2's libvirtd stopped and started again while the domain runs there (its qemu
#    stays): the last set stays in use meanwhile, one line, one reconnect; then the
#    same domain is read again; no event
ctx_log "5. h2's libvirtd restarted"
u2=$(ctx_stat "imctxcap(h2)" profiles.libvirt.updates)
f2=$(mark h2)
lvq_kill h2
ctx_wait_stat "imctxcap(h2)" profiles.libvirt.reconnects 1
ctx_wait_stat "mmctxenrich(h2)" profiles.libvirt.reconnects 1
follow h2 "$T3" "$f2" "$WEB" "$WEB" "while h2's libvirtd is away"
f2=$(mark h2)
lvq_daemon h2
ctx_assert_eq "the domain after h2's restart" running "$(virsh -q -c "$U2" domstate web 2>&1)"
ctx_wait_for "h2 read again" 60 "[ \"\$(ctx_stat 'imctxcap(h2)' profiles.libvirt.connected)\" = 1 ] &&
    [ \$(ctx_stat 'imctxcap(h2)' profiles.libvirt.updates) -gt $u2 ]"
domains h2 1
follow h2 "$T3" "$f2" "$WEB" "$WEB" "h2's libvirtd back"
events h2 2 "h2's restart (no event)"
ctx_stop

# each datagram of the guest once per input, in the guest's order on each vNIC (the
# simulated VM's are numbered from 900001)
for h in h1 h2; do
    dup=$(grep -o ' seq=[0-9]* nic=' "$CTX_WORK/out.$h" | sort | uniq -d | head -n 1)
    [ -z "$dup" ] || ctx_fail "$h: a datagram of the guest written twice ($dup)"
    for v in $(cut -d'|' -f7- "$CTX_WORK/out.$h" | jq -r .vm.vnic | sort -u); do
        attrs "$h" "$v" 1 | cut -d'|' -f1 | awk '$1 < 900000' | sort -n -c ||
            ctx_fail "$h: the guest's datagrams on $v out of order"
    done
done
for m in imctxcap mmctxenrich; do
    for h in h1 h2; do
        ctx_assert_eq "$m($h): profiles.reloads (no HUP)" 0 "$(ctx_stat "$m($h)" profiles.reloads)"
        ctx_assert_eq "$m($h): profiles.libvirt.errors" 0 "$(ctx_stat "$m($h)" profiles.libvirt.errors)"
    done
    ctx_assert_eq "$m(h1): profiles.libvirt.reconnects" 0 "$(ctx_stat "$m(h1)" profiles.libvirt.reconnects)"
    ctx_assert_eq "$m(h2): profiles.libvirt.reconnects" 1 "$(ctx_stat "$m(h2)" profiles.libvirt.reconnects)"
done
ctx_assert_eq "lines about the lost connection (h2's)" 1 "$(grep -c 'connection lost; keeping the last 1 domains' "$CTX_ILOG")"
ctx_assert_eq "lines about connecting again (h2's)" 1 "$(grep -cF "libvirt $U2: connected again" "$CTX_ILOG")"
# a scan per wake-up: the first, at least one per step, at most one per event; h2's
# reconnect one more
for h in "h1 5 7" "h2 3 4"; do
    set -- $h
    u=$(ctx_stat "imctxcap($1)" profiles.libvirt.updates)
    [ "$u" -ge "$2" ] && [ "$u" -le "$3" ] || ctx_fail "imctxcap($1) profiles.libvirt.updates: expected $2..$3, got $u"
    ctx_assert_eq "mmctxenrich($1) profiles.libvirt.updates (the same source)" "$u" "$(ctx_stat "mmctxenrich($1)" profiles.libvirt.updates)"
done
ctx_assert_eq "HUPs" 0 "$(grep -c 'HUP' "$CTX_ILOG")"
ctx_assert_eq "event kinds not followed" 0 "$(grep -c 'cannot follow' "$CTX_ILOG")"
ctx_assert_eq "connections (one per URI)" 2 "$(grep -c 'connected; following domain events' "$CTX_ILOG")"
ctx_pass "qemu (TCG) domain: attach, detach, live migration h1 -> h2, h2 libvirtd restart: attribution of the guest's own messages, exact event counts, no HUP"
