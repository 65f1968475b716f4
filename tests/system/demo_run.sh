#!/bin/bash
# The README's demo, run non-interactively: every message each guest sent (one of
# them to an address where nothing listens) reaches the host's rsyslogd through the
# conf-examples drop-in, with the VM's identity; per-tenant counts add up.
. "$top_srcdir/tests/lib/harness.sh"
ctx_init demo_run
out="$CTX_WORK/demo.out"
bash "$top_srcdir/scripts/demo.sh" --vms 4 --messages 10 --isolate >"$out" 2>&1 || { cat "$out"; ctx_fail "demo failed"; }
ctx_assert_grep "$out" "End of config validation run"
ctx_assert_grep "$out" "tenant acme: sent 20, received 20"
ctx_assert_grep "$out" "tenant globex: sent 20, received 20"
ctx_assert_grep "$out" '"dst": "10.231.14.254"'
ctx_assert_grep "$out" '"msgs.submitted": 40'
ip netns list | grep -q ctxvm-demo && ctx_fail "demo left namespaces behind"
ctx_pass "demo: 40 messages from 4 VMs of 2 tenants, torn down"
