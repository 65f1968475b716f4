#!/bin/bash
# imctxcap on frames a VM builds itself (tests/lib/rawsend.py, AF_PACKET inside the
# VM namespace): 802.1Q and QinQ tags, IPv4 and IPv6 fragments (in order, reversed,
# shuffled; one datagram with overlapping fragments, discarded and counted), a
# payload longer than maxMessageSize (truncated, counted), an empty payload
# (counted, dropped) and malformed packets (counted, nothing submitted).
# CTX_WORKERS (default 1) sets `workers`: imctxcap_raw_w2.sh runs it with 2.
. "$top_srcdir/tests/lib/harness.sh"
ctx_init "imctxcap_raw${CTX_SUFFIX:-}"
ctx_vm_add rawa 51 || ctx_fail "VM"
idx=51
cat >"$CTX_WORK/profiles.json" <<JSON
{"vms": [{"name": "raw-a", "tenant": "acme", "vnic": "$(ctx_vm_vnic 51)"}]}
JSON
CTX_MAXMSG=2k
ctx_cap_conf rawtest interface="$(ctx_vm_vnic 51)" profiles=@WORK@/profiles.json workers="${CTX_WORKERS:-1}"
ctx_cap_start rawtest 1

hmac=$(cat "/sys/class/net/$(ctx_vm_vnic 51)/address")
raw() { ctx_vm_exec rawa /usr/bin/python3 "$top_srcdir/tests/lib/rawsend.py" --dst-mac "$hmac" "$@"; }
s4="--src $(ctx_vm_ip4 $idx) --dst $(ctx_vm_host_ip4 $idx)"
s6="--src $(ctx_vm_ip6 $idx) --dst $(ctx_vm_host_ip6 $idx)"
exp="$CTX_WORK/expect"
common="input=imctxcap vm.name=raw-a vm.match=vnic"
big=$(head -c 1800 /dev/zero | tr '\0' 'x')
huge=$(head -c 3000 /dev/zero | tr '\0' 'y')
raw $s4 --vlan 100 --payload "<11>Nov 27 06:00:00 guest vlanapp: seq=vlan1"
raw $s4 --vlan 300 --vlan 42 --payload "<11>Nov 27 06:00:00 guest qinqapp: seq=qinq1"
raw $s6 --vlan 7 --payload "<11>Nov 27 06:00:00 guest vlan6app: seq=vlan6"
raw $s4 --frag 512 --payload "<11>Nov 27 06:00:00 guest frag4: seq=frag4 $big"
raw $s4 --frag 512 --reverse --payload "<11>Nov 27 06:00:00 guest frag4r: seq=frag4r $big"
raw $s6 --frag 504 --payload "<11>Nov 27 06:00:00 guest frag6: seq=frag6 $big"
raw $s4 --frag 256 --shuffle --payload "<11>Nov 27 06:00:00 guest frag4s: seq=frag4s $big"
raw $s6 --frag 256 --shuffle --payload "<11>Nov 27 06:00:00 guest frag6s: seq=frag6s $big"
# the second fragment overlaps the first: the datagram is discarded, its later fragments
# refused (an IP id of its own: its key stays blocked until fragment.timeout)
raw $s4 --frag 512 --overlap --ident 0x7000 --payload "<11>Nov 27 06:00:00 guest frag4o: seq=frag4o $big"
raw $s4 --frag 1400 --payload "<11>Nov 27 06:00:00 guest huge: seq=huge $huge"
raw $s4 --payload ""
raw $s4 --bad udplen --payload "<11>Nov 27 06:00:00 guest bad: seq=badudplen"
raw $s4 --bad ihl --payload "<11>Nov 27 06:00:00 guest bad: seq=badihl"
raw $s6 --bad trunc --payload "<11>Nov 27 06:00:00 guest bad: seq=badtrunc"
# a NUL and an invalid UTF-8 byte pass as rsyslog's own inputs pass them (escaped by its parser)
hexmsg=$(printf '<11>Nov 27 06:00:00 guest bin: seq=binary a' | od -An -tx1 | tr -d ' \n')00$(printf 'b' | od -An -tx1 | tr -d ' \n')ff$(printf 'c' | od -An -tx1 | tr -d ' \n')
raw $s4 --payload-hex "$hexmsg"
raw $s4 --payload "<11>Nov 27 06:00:00 guest last: seq=last"
cat >"$exp" <<EXP
seq=seq=vlan1 app=vlanapp sev=err capture.vlan=100 capture.vlan_inner=- $common
seq=seq=qinq1 app=qinqapp capture.vlan=300 capture.vlan_inner=42 $common
seq=seq=vlan6 app=vlan6app capture.vlan=7 capture.ipv=6 $common
seq=seq=frag4 app=frag4 capture.reassembled=True capture.vlan=- $common
seq=seq=frag4r app=frag4r capture.reassembled=True $common
seq=seq=frag6 app=frag6 capture.reassembled=True capture.ipv=6 $common
seq=seq=frag4s app=frag4s capture.reassembled=True $common
seq=seq=frag6s app=frag6s capture.reassembled=True capture.ipv=6 $common
seq=seq=huge app=huge capture.truncated=True $common
seq=seq=binary app=bin $common
seq=seq=last app=last capture.reassembled=- capture.truncated=- $common
EXP
ctx_wait_lines "$CTX_WORK/out" 11
ctx_wait_stat "imctxcap(rawtest)" packets.seen 17
ctx_wait_stat "imctxcap(rawtest)" fragments.reassembled 6
ctx_wait_stat "imctxcap(rawtest)" fragments.refused.discarded 2
ctx_stop
ctx_check "$CTX_WORK/out" "$exp"
# the big fragmented messages arrive whole: 1800 x after the marker
grep -q "seq=frag4 x\{1800\}|" "$CTX_WORK/out" || ctx_fail "frag4 payload not whole"
grep -q "seq=frag6 x\{1800\}|" "$CTX_WORK/out" || ctx_fail "frag6 payload not whole"
grep -q "seq=frag4s x\{1800\}|" "$CTX_WORK/out" || ctx_fail "frag4s payload not whole"
grep -q "seq=frag6s x\{1800\}|" "$CTX_WORK/out" || ctx_fail "frag6s payload not whole"
# the huge one is cut at maxMessageSize (2k): header + marker + y's = 2048 bytes of raw message
len=$(grep "seq=huge" "$CTX_WORK/out" | awk -F'|' '{print length($6)}')
[ "$len" -lt 2048 ] && [ "$len" -gt 1900 ] || ctx_fail "huge message length $len, expected it cut near 2048"
st() { ctx_stat "imctxcap(rawtest)" "$1"; }
ctx_assert_eq msgs.submitted 11 "$(st msgs.submitted)"
# rsyslog's parser shows the NUL as "#000" (its default escaping of control characters)
# and leaves the 0xff byte as it came
grep -q "seq=binary a#000b$(printf '\xff')c|" "$CTX_WORK/out" || ctx_fail "NUL / invalid UTF-8 not passed as rsyslog passes them: $(grep seq=binary "$CTX_WORK/out" | od -c | head -5)"
ctx_assert_eq msgs.truncated 1 "$(st msgs.truncated)"
ctx_assert_eq msgs.empty 1 "$(st msgs.empty)"
# udplen and trunc are counted; the IHL=3 packet never reaches user space: the kernel
# filter finds no UDP port 514 at the offset such a header points to
ctx_assert_eq packets.malformed 2 "$(st packets.malformed)"
ctx_assert_eq fragments.reassembled 6 "$(st fragments.reassembled)"
# the overlapping datagram: discarded once, its two later fragments refused, nothing pending
ctx_assert_eq fragments.overlap 1 "$(st fragments.overlap)"
ctx_assert_eq fragments.refused.discarded 2 "$(st fragments.refused.discarded)"
ctx_assert_eq fragments.dropped 3 "$(st fragments.dropped)"
ctx_assert_eq fragments.evicted 0 "$(st fragments.evicted)"
ctx_assert_eq fragments.pending 1 "$(st fragments.pending)" # the discarded one's tombstone, until its timeout
ctx_pass "workers=${CTX_WORKERS:-1}: VLAN, QinQ, fragments (in order, reversed, shuffled, overlapping), truncation, empty and malformed packets"
