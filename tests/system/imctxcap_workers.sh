#!/bin/bash
# imctxcap with workers=3: each vNIC's packets are spread over three capture
# workers through one PACKET_FANOUT group (hash of the flow; no kernel
# defragmentation: fragments of a datagram hash alike and are reassembled by the
# worker they reach). Every message still arrives exactly once, fragmented ones
# whole, from every flow.
. "$top_srcdir/tests/lib/harness.sh"
ctx_init "imctxcap_workers${CTX_SUFFIX:-}"
ctx_vm_profiles wk1:56:wk-1:acme wk2:57:wk-2:globex
ctx_cap_conf wk workers=3 interface="$(ctx_vm_vnic 56),$(ctx_vm_vnic 57)" profiles=@WORK@/profiles.json
ctx_cap_start wk 2
exp="$CTX_WORK/expect"
: >"$exp"
big=$(head -c 2500 /dev/zero | tr '\0' 'z')
total=0
for vm in 1 2; do
    idx=$((55 + vm))
    hmac=$(cat "/sys/class/net/$(ctx_vm_vnic $idx)/address")
    for flow in $(seq 1 12); do # 12 flows (source ports) per VM, 10 messages each
        args=()
        for m in $(seq 1 10); do
            args+=(--payload "<13>Nov 27 06:00:00 guest flow$flow: seq=w$vm-$flow-$m")
            echo "seq=seq=w$vm-$flow-$m vm.name=wk-$vm app=flow$flow" >>"$exp"
        done
        ctx_vm_exec "wk$vm" /usr/bin/python3 "$top_srcdir/tests/lib/rawsend.py" --dst-mac "$hmac" \
            --src "$(ctx_vm_ip4 $idx)" --dst "$(ctx_vm_host_ip4 $idx)" --sport $((40000 + flow)) "${args[@]}"
        total=$((total + 10))
    done
    # fragmented datagrams: all fragments reach one worker, which reassembles them
    ctx_vm_exec "wk$vm" /usr/bin/python3 "$top_srcdir/tests/lib/rawsend.py" --dst-mac "$hmac" --frag 1200 \
        --src "$(ctx_vm_ip4 $idx)" --dst "$(ctx_vm_host_ip4 $idx)" --sport 41000 \
        --payload "<13>Nov 27 06:00:00 guest bigapp: seq=w$vm-big $big"
    echo "seq=seq=w$vm-big vm.name=wk-$vm app=bigapp" >>"$exp"
    total=$((total + 1))
done
ctx_wait_lines "$CTX_WORK/out" $total
ctx_wait_stat "imctxcap(wk)" msgs.submitted $total
ctx_wait_stat "imctxcap(wk)" fragments.reassembled 2
ctx_stop
ctx_check "$CTX_WORK/out" "$exp"
grep -q "seq=w1-big z\{2500\}|" "$CTX_WORK/out" || ctx_fail "fragmented message not whole"
ctx_assert_eq "msgs.submitted" $total "$(ctx_stat "imctxcap(wk)" msgs.submitted)"
ctx_assert_eq "fragments.reassembled (by imctxcap, not the kernel)" 2 "$(ctx_stat "imctxcap(wk)" fragments.reassembled)"
ctx_assert_eq "interfaces.attached" 2 "$(ctx_stat "imctxcap(wk)" interfaces.attached)"
# each vNIC was attached once in the log (by worker 0), not once per worker
ctx_assert_eq "attach notices" 2 "$(grep -c 'capture: attached interface' "$CTX_ILOG")"
ctx_pass "$total messages over 3 workers (PACKET_FANOUT), each once"
