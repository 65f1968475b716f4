#!/bin/bash
# HUP re-reads the profiles file without losing messages; a broken file keeps the
# old profiles and says which file, line and key are wrong.
. "$top_srcdir/tests/lib/harness.sh"
ctx_init "imctxcap_hup${CTX_SUFFIX:-}"
ctx_vm_add hup1 81 || ctx_fail "VM"
prof="$CTX_WORK/profiles.json"
cat >"$prof" <<JSON
{"vms": [{"name": "before", "tenant": "acme", "vnic": "vnet81"}]}
JSON
ctx_cap_conf hup interface=vnet81 profiles="$prof"
ctx_cap_start hup 1
send() { ctx_vm_exec hup1 logger --udp -n "$(ctx_vm_host_ip4 81)" -P 514 -t app "seq=$1"; }

# 1. messages keep flowing while the file changes and rsyslogd is HUPed
N=120
( for i in $(seq 1 $N); do send "flow-$i"; done ) &
sender=$!
ctx_wait_for "40 messages" 60 "[ \$(cat '$CTX_WORK/out' 2>/dev/null | wc -l) -ge 40 ]"
cat >"$prof.new" <<JSON
{"vms": [{"name": "after", "tenant": "globex", "user": "carol", "vnic": "vnet81"}]}
JSON
mv "$prof.new" "$prof"
ctx_hup
ctx_wait_stat "imctxcap(hup)" profiles.reloads 1
wait $sender
ctx_wait_lines "$CTX_WORK/out" $N
send "after-1"
ctx_wait_lines "$CTX_WORK/out" $((N + 1))
ctx_check_seq "$CTX_WORK/out" "seq=flow-" 1 $N
grep -q "seq=after-1|.*\"name\": \"after\", \"tenant\": \"globex\", \"user\": \"carol\"" "$CTX_WORK/out" ||
    ctx_fail "the reloaded profile is not used"
grep "seq=flow-1|" "$CTX_WORK/out" | grep -q '"name": "before"' || ctx_fail "the first profile was not used before HUP"
ctx_assert_grep "$CTX_ILOG" "imctxcap: reloaded profiles from '$prof': 1 VMs"

# 2. a broken file: old profiles stay, the error names the file, line and key
cat >"$prof" <<JSON
{"vms": [
  {"name": "broken", "tenant": "acme", "vnic": "vnet81",
   "mac": "zz:54:00:00:00:01"}
]}
JSON
ctx_hup
ctx_wait_stat "imctxcap(hup)" profiles.reload.errors 1
send "after-2"
ctx_wait_lines "$CTX_WORK/out" $((N + 2))
ctx_stop
grep "seq=after-2|" "$CTX_WORK/out" | grep -q '"name": "after"' || ctx_fail "the old profiles were not kept"
ctx_assert_grep "$CTX_ILOG" "imctxcap: profiles not reloaded, keeping the previous ones: $prof: line 3: vms[0].mac: expected"
ctx_assert_eq "reloads" 1 "$(ctx_stat "imctxcap(hup)" profiles.reloads)"
ctx_pass "HUP reload without loss ($N messages), broken file kept the old profiles"
