#!/bin/bash
# A guest running its own rsyslogd (Debian's) forwards with `*.* @host` (UDP) from
# inside its VM namespace; the host captures and attributes every message.
. "$top_srcdir/tests/lib/harness.sh"
ctx_init "imctxcap_guest_rsyslog${CTX_SUFFIX:-}"
ctx_vm_add guest1 91 || ctx_fail "VM"
cat >"$CTX_WORK/profiles.json" <<JSON
{"vms": [{"name": "guest-1", "uuid": "22222222-2222-4222-8222-222222222291", "tenant": "acme", "vnic": "vnet91"}]}
JSON
ctx_cap_conf guest interface=vnet91 profiles=@WORK@/profiles.json
ctx_cap_start guest 1

# the guest's rsyslogd: local input on the guest's loopback, forwarding everything
ctx_vm_rsyslogd guest1 <<GCONF
*.* @$(ctx_vm_host_ip4 91):514
GCONF
N=100
for i in $(seq 1 $N); do
    ctx_vm_exec guest1 logger --udp -n 127.0.0.1 -P 5140 -t guestapp -p user.notice "seq=g-$i"
done
ctx_wait_for "$N guest messages" 30 "[ \$(grep -c 'seq=g-' '$CTX_WORK/out' 2>/dev/null || echo 0) -ge $N ]"
ctx_stop
ctx_check_seq "$CTX_WORK/out" "seq=g-" 1 $N
# every line from the guest carries the VM identity (the guest's own start notice too)
bad=$(grep -v '"name": "guest-1", "uuid": "22222222-2222-4222-8222-222222222291", "tenant": "acme"' "$CTX_WORK/out" | wc -l)
ctx_assert_eq "lines without the VM identity" 0 "$bad"
grep "seq=g-1|" "$CTX_WORK/out" | grep -q "^imctxcap|$(ctx_vm_ip4 91)|[^|]*|guestapp|notice|" ||
    ctx_fail "guest message not parsed as expected: $(grep 'seq=g-1|' "$CTX_WORK/out")"
ctx_pass "$N messages forwarded by a guest rsyslogd, each once, attributed"
