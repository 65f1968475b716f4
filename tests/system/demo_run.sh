#!/bin/bash
# The README's demo, run non-interactively: the whole path (imctxcap -> mmctxenrich ->
# omtenant) on the conf-examples drop-in; every message each guest sent (over UDP, or
# over TCP through its own rsyslogd / syslog-ng; one to an
# address where nothing listens) reaches its own tenant's server (a TLS rsyslogd, an
# HTTPS receiver), redacted, with nothing foreign; the demo tears everything down.
. "$top_srcdir/tests/lib/harness.sh"
ctx_init demo_run
out="$CTX_WORK/demo.out"
bash "$top_srcdir/scripts/demo.sh" --vms 4 --messages 10 --isolate >"$out" 2>&1 || { cat "$out"; ctx_fail "demo failed"; }
ctx_assert_grep "$out" "End of config validation run"
ctx_assert_grep "$out" "tenant acme: sent 20, received 20, foreign messages: 0"
ctx_assert_grep "$out" "tenant globex: sent 20, received 20, foreign messages: 0"
ctx_assert_grep "$out" "[REDACTED:"
ctx_assert_grep "$out" "   card: "
ctx_assert_grep "$out" '"status": "ok"'
ctx_assert_grep "$out" "packets "
grep -q "messages 40, vNICs 4" "$out" || ctx_fail "imctxcap counters: $(grep 'vNICs' "$out")"
# VM 1's guest rsyslogd (and VM 2's syslog-ng, when it could be unpacked) forwarded over TCP
ctx_assert_grep "$out" "its own rsyslogd forwards over TCP"
grep -qE "TCP: segments [1-9][0-9]*, connections [1-9]" "$out" || ctx_fail "no TCP capture: $(grep 'TCP:' "$out")"
# nothing secret reached a tenant
if grep -rqE "S3cretPass|4111 1111 1111 1111|c2lnbmF0dXJl" /tmp/ctxlog-demo/tenants/*/received.jsonl /tmp/ctxlog-demo/tenants/*/messages.log; then
    ctx_fail "a secret reached a tenant's server"
fi
ip netns list | grep -q ctxvm-demo && ctx_fail "demo left namespaces behind"
ctx_pass "demo: 40 messages from 4 VMs of 2 tenants delivered, redacted, torn down"
