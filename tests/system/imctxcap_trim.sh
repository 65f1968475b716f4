#!/bin/bash
# imctxcap hands freed memory back once a burst is over (memory.trims): a VM sends
# 12,000 numbered datagrams at once (the burst: more than the 10,000 a worker must have
# submitted), then nothing. Checks that every message arrived once, that the worker
# trimmed exactly once within a few seconds of the burst's end, and that it does not
# trim again while the input stays quiet (a trim needs 10,000 new messages).
. "$top_srcdir/tests/lib/harness.sh"
ctx_init "imctxcap_trim${CTX_SUFFIX:-}"
ctx_vm_add tr1 248 || ctx_fail "VM"
cat >"$CTX_WORK/profiles.json" <<JSON
{"vms": [{"name": "tr-1", "tenant": "acme", "vnic": "$(ctx_vm_vnic 248)"}]}
JSON
ctx_cap_conf tr interface="$(ctx_vm_vnic 248)" profiles=@WORK@/profiles.json vm.maxPacketsPerSecond=0
ctx_cap_start tr 1
ctx_assert_eq "memory.trims before traffic" 0 "$(ctx_stat "imctxcap(tr)" memory.trims)"
ctx_vm_exec tr1 /usr/bin/python3 -c "
import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(1, 12001):
    s.sendto(b'<13>Nov 27 06:00:00 guest app: seq=tr-%d' % i, ('$(ctx_vm_host_ip4 248)', 514))
    if i % 500 == 0: time.sleep(0.01)   # the ring and the socket keep up
"
ctx_wait_lines "$CTX_WORK/out" 12000 60
ctx_wait_stat "imctxcap(tr)" msgs.submitted 12000
ctx_wait_stat "imctxcap(tr)" memory.trims 1 15
# two more impstats records (interval 1 s) with the input quiet: still one trim
rec=$(grep -c '"name": "imctxcap(tr)"' "$CTX_WORK/stats.log")
ctx_wait_for "two more impstats records" 10 "[ \$(grep -c '\"name\": \"imctxcap(tr)\"' '$CTX_WORK/stats.log') -ge $((rec + 2)) ]"
trims=$(ctx_stat "imctxcap(tr)" memory.trims)
ctx_stop
ctx_check_seq "$CTX_WORK/out" "seq=tr-" 1 12000
ctx_assert_eq "kernel.drops" 0 "$(ctx_stat "imctxcap(tr)" kernel.drops)"
ctx_assert_eq "msgs.submitted" 12000 "$(ctx_stat "imctxcap(tr)" msgs.submitted)"
ctx_assert_eq "memory.trims after the burst and 2 quiet seconds" 1 "$trims"
ctx_pass "12,000 messages each once; one trim after the burst, none while quiet"
