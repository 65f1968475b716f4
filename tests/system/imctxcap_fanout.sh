#!/bin/bash
# imctxcap workers=2 with another program already holding PACKET_FANOUT groups with
# imctxcap's exact settings (tests/lib/fanout_squat.py: the group the kernel would
# hand out next, and the 32 ids after it). imctxcap must create a group of its own
# (an id the kernel picks among the free ones), not join one of those: if it did,
# the squatter's sockets, which drop everything, would take a share of the frames.
# Checks the id in the log, then every message once from 20 flows.
. "$top_srcdir/tests/lib/harness.sh"
ctx_init "imctxcap_fanout${CTX_SUFFIX:-}"
ctx_vm_add fo1 58 || ctx_fail "VM"
cat >"$CTX_WORK/profiles.json" <<JSON
{"vms": [{"name": "fo-1", "tenant": "acme", "vnic": "$(ctx_vm_vnic 58)"}]}
JSON
# the squatter: its stdin is a fifo we hold open until the end
mkfifo "$CTX_WORK/squat.in"
/usr/bin/python3 "$top_srcdir/tests/lib/fanout_squat.py" 32 <"$CTX_WORK/squat.in" >"$CTX_WORK/squat.ids" 2>&1 &
squat=$!
exec 7>"$CTX_WORK/squat.in"
ctx_on_exit "exec 7>&-; kill $squat"
ctx_wait_for "the squatter's group ids" 10 "[ -s '$CTX_WORK/squat.ids' ]"
read -r -a held <"$CTX_WORK/squat.ids"
[ "${#held[@]}" = 33 ] || ctx_fail "squatter: $(cat "$CTX_WORK/squat.ids")"
ctx_cap_conf fo workers=2 interface="$(ctx_vm_vnic 58)" profiles=@WORK@/profiles.json
ctx_cap_start fo 1
ctx_wait_for "the fanout notice" 10 "grep -q 'share PACKET_FANOUT group' '$CTX_ILOG'"
gid=$(sed -n 's/.*share PACKET_FANOUT group \([0-9]*\).*/\1/p' "$CTX_ILOG" | head -1)
for h in "${held[@]}"; do
    [ "$h" != "$gid" ] || ctx_fail "imctxcap joined group $gid, held by another program (${held[*]})"
done
hmac=$(cat "/sys/class/net/$(ctx_vm_vnic 58)/address")
exp="$CTX_WORK/expect"
: >"$exp"
for flow in $(seq 1 20); do
    args=()
    for m in $(seq 1 10); do
        args+=(--payload "<13>Nov 27 06:00:00 guest app: seq=fo-$(((flow - 1) * 10 + m))")
        echo "seq=seq=fo-$(((flow - 1) * 10 + m)) vm.name=fo-1" >>"$exp"
    done
    ctx_vm_exec fo1 /usr/bin/python3 "$top_srcdir/tests/lib/rawsend.py" --dst-mac "$hmac" \
        --src "$(ctx_vm_ip4 58)" --dst "$(ctx_vm_host_ip4 58)" --sport $((42000 + flow)) "${args[@]}"
done
ctx_wait_lines "$CTX_WORK/out" 200
ctx_wait_stat "imctxcap(fo)" msgs.submitted 200
ctx_stop
ctx_check "$CTX_WORK/out" "$exp"
ctx_check_seq "$CTX_WORK/out" "seq=fo-" 1 200
ctx_assert_eq msgs.submitted 200 "$(ctx_stat "imctxcap(fo)" msgs.submitted)"
ctx_pass "own fanout group $gid beside 33 held ones (${held[0]}..); 200 messages over 2 workers, each once"
