#!/bin/bash
# Issue 19: one VM's incomplete fragments must not make another VM's long messages
# vanish, with any number of workers. VM a sends 3,000 first IP fragments of 1,200
# bytes that never complete (to the host); then VM b sends 5 syslog messages of
# 4 KB over UDP with logger (its kernel fragments them). With workers 1, 2 and 4:
# all 5 arrive whole, each once; VM a's datagrams are evicted by its own vNIC's
# quota (fragment.maxMemoryPerVnic, a quarter of fragment.maxMemory by default)
# and the counters add up: evicted.quota + pending = 3,000, nothing evicted by the
# global bound, 5 reassembled.
. "$top_srcdir/tests/lib/harness.sh"
ctx_init "imctxcap_fragflood${CTX_SUFFIX:-}"
ctx_vm_profiles ffa:64:ff-a:acme ffb:65:ff-b:globex
CTX_MAXMSG=8k
body=$(head -c 4000 /dev/zero | tr '\0' 'q')
hmac=$(cat "/sys/class/net/$(ctx_vm_vnic 64)/address")
filler=$(head -c 2000 /dev/zero | tr '\0' 'f')

# the per-vNIC budget off: this test is about the fragment quotas, which VM a's burst of
# 3,000 fragments is to reach (with 4 workers a worker's share of the budget is a quarter)
run_case() {
    local workers=$1 out="$CTX_WORK/out.$1" name="ff$1"
    rm -f "$CTX_WORK/stats.log"
    ctx_conf <<CONF
module(load="@MODDIR@/imctxcap/imctxcap.so")
input(type="imctxcap" name="$name" workers="$workers" interface="$(ctx_vm_vnic 64),$(ctx_vm_vnic 65)"
      profiles="@WORK@/profiles.json" vm.maxPacketsPerSecond="0")
$CTX_CHECK_TEMPLATE
action(type="omfile" file="$out" template="ctxcheck")
CONF
    ctx_start
    ctx_wait_stat "imctxcap($name)" interfaces.attached 2
    # VM a: 3,000 datagrams of 2,008 bytes, only the first fragment (1,200 bytes) of each
    ctx_vm_exec ffa /usr/bin/python3 "$top_srcdir/tests/lib/rawsend.py" --dst-mac "$hmac" \
        --src "$(ctx_vm_ip4 64)" --dst "$(ctx_vm_host_ip4 64)" --frag 1200 --first-only --repeat 3000 \
        --ident 0x1000 --payload "$filler"
    ctx_wait_for "VM a's 3,000 fragments counted" 30 \
        "[ \"\$(ctx_stat 'imctxcap($name)' fragments.evicted.quota)\" != '' ] &&
         [ \$((\$(ctx_stat 'imctxcap($name)' fragments.evicted.quota) + \$(ctx_stat 'imctxcap($name)' fragments.pending))) -ge 3000 ]"
    # VM b: five 4 KB messages, each from its own socket (logger), fragmented by VM b's kernel
    for i in 1 2 3 4 5; do
        ctx_vm_exec ffb logger --udp -n "$(ctx_vm_host_ip4 65)" -P 514 --size 8000 -t bigapp "seq=fb-$i $body"
    done
    ctx_wait_lines "$out" 5
    ctx_wait_stat "imctxcap($name)" fragments.reassembled 5
    ctx_stop
    ctx_check_seq "$out" "seq=fb-" 1 5
    for i in 1 2 3 4 5; do
        grep -q "seq=fb-$i q\{4000\}|" "$out" || ctx_fail "workers=$workers: message fb-$i not whole"
    done
    for i in 1 2 3 4 5; do echo "seq=seq=fb-$i vm.name=ff-b vm.tenant=globex capture.reassembled=True"; done >"$out.exp"
    ctx_check "$out" "$out.exp"
    local q p
    st() { ctx_stat "imctxcap($name)" "$1"; }
    q=$(st fragments.evicted.quota) p=$(st fragments.pending)
    ctx_assert_eq "workers=$workers: evicted.quota + pending" 3000 $((q + p))
    [ "$q" -gt 2000 ] || ctx_fail "workers=$workers: only $q datagrams evicted by VM a's quota"
    ctx_assert_eq "workers=$workers: fragments.evicted (global bound)" 0 "$(st fragments.evicted)"
    ctx_assert_eq "workers=$workers: fragments.reassembled" 5 "$(st fragments.reassembled)"
    ctx_assert_eq "workers=$workers: msgs.submitted" 5 "$(st msgs.submitted)"
    ctx_assert_eq "workers=$workers: fragments.dropped" 0 "$(st fragments.dropped)"
    ctx_log "workers=$workers: 5/5 of VM b's 4 KB messages; VM a: $q evicted by its quota, $p pending"
    summary="$summary w$workers: 5/5, a evicted $q pending $p;"
}

summary=""
for w in 1 2 4; do run_case "$w"; done
ctx_pass "$summary"
