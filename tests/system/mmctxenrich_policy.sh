#!/bin/bash
# imctxcap -> mmctxenrich with a policy rulebase: two VMs (namespaces) send with util-linux
# logger; the same kind of message at err, info and debug carries the documented context
# groups (verbose: the VM's own $!ctx!host, host-wide figures only with hostwide; standard: vm
# addresses; debug: process and capture detail;
# minimal: identity only), a tag rule adds $!ctx!tags, a drop rule really drops (with the
# documented `if $!ctx!drop == 1 then stop`), per-rule counters count. Then a HUP with a
# changed rulebase changes the behaviour, and a HUP with a broken one keeps it (logged).
. "$top_srcdir/tests/lib/harness.sh"
. "$top_srcdir/tests/system/mmctxenrich_lib.sh"
ctx_init "mmctxenrich_policy${CTX_SUFFIX:-}"
ctx_vm_add pola 100 || ctx_fail "VM a"
ctx_vm_add polb 101 || ctx_fail "VM b"
cat >"$CTX_WORK/profiles.json" <<JSON
{"vms": [
  {"name": "pol-a", "uuid": "aaaaaaaa-0000-4000-8000-000000000100", "tenant": "acme", "user": "alice",
   "vnic": "$(ctx_vm_vnic 100)"},
  {"name": "pol-b", "tenant": "globex", "mac": "$(ctx_vm_mac 101)"}
]}
JSON
cat >"$CTX_WORK/policy.rules" <<'RULES'
# first version
rule noise when app == noisy then drop
rule acme-tag when tenant == acme then tag team=payments tag cc="CC 4711" continue
rule watch-b when vm == pol-b and severity == info then minimal
rule acme-errors when tenant == acme and severity <= err then hostwide
rule errors when severity <= err then verbose
rule debugging when severity == debug then debug
rule rest then standard
RULES
ctx_conf <<CONF
module(load="@MODDIR@/imctxcap/imctxcap.so")
module(load="@MODDIR@/mmctxenrich/mmctxenrich.so")
input(type="imctxcap" name="pol" interface="$(ctx_vm_vnic 100),$(ctx_vm_vnic 101)" profiles="@WORK@/profiles.json")
$CTX_CHECK_TEMPLATE
action(type="mmctxenrich" name="pol" policy="@WORK@/policy.rules" profiles="@WORK@/profiles.json"
       sample.interval="1" host.diskPaths="@WORK@")
if \$!ctx!drop == 1 then stop
action(type="omfile" file="@WORK@/out" template="ctxcheck")
CONF
ctx_start
ctx_wait_stat "imctxcap(pol)" interfaces.attached 2
ctx_wait_stat "mmctxenrich(pol)" host.passes 2 # CPU figures need two samples

a_ip=$(ctx_vm_ip4 100)
h_a=$(ctx_vm_host_ip4 100)
h_b=$(ctx_vm_host_ip4 101)
round() { # round R: the same messages again, R in the seq markers
    local r=$1
    ctx_vm_exec pola logger --udp --rfc3164 -n "$h_a" -P 514 -t appx --id=4242 -p user.err "seq=a-err-$r"
    ctx_vm_exec pola logger --udp --rfc5424 -n "$h_a" -P 514 -t appx --id=4242 -p user.info "seq=a-info-$r"
    ctx_vm_exec pola logger --udp --rfc5424 -n "$h_a" -P 514 -t appx --id=4242 -p user.debug "seq=a-debug-$r"
    ctx_vm_exec pola logger --udp --rfc3164 -n "$h_a" -P 514 -t noisy -p user.info "seq=a-noise-$r"
    ctx_vm_exec polb logger --udp --rfc3164 -n "$h_b" -P 514 -t appy -p daemon.info "seq=b-info-$r"
    ctx_vm_exec polb logger --udp --rfc3164 -n "$h_b" -P 514 -t appy -p daemon.err "seq=b-err-$r"
}
exp="$CTX_WORK/expect"
# round 1: first rulebase
round 1
cat >"$exp" <<EOF
seq=seq=a-err-1 sev=err vm.name=pol-a vm.tenant=acme vm.ip=$a_ip capture.dport=- vm.process=- tags.team=payments
seq=seq=a-info-1 sev=info vm.name=pol-a vm.ip=$a_ip vm.vnic=$(ctx_vm_vnic 100) capture.dport=- tags.team=payments
seq=seq=a-debug-1 sev=debug vm.name=pol-a vm.ip=$a_ip capture.dport=514 vm.process.app=appx vm.process.pid=4242 tags.team=payments
seq=seq=b-info-1 sev=info vm.name=pol-b vm.tenant=globex vm.ip=- vm.mac=- vm.vnic=- vm.match=- capture=- tags=-
seq=seq=b-err-1 sev=err vm.name=pol-b vm.ip=$(ctx_vm_ip4 101) vm.mac=$(ctx_vm_mac 101) capture=- tags=-
EOF
ctx_wait_lines "$CTX_WORK/out" 5
ctx_wait_stat "mmctxenrich(pol)" msgs.processed 6
ctx_check "$CTX_WORK/out" "$exp"
mmx_check "$CTX_WORK/out" '
r = by_seq["a-err-1"]
h = get(r, "host")
if not isinstance(h, dict): fail("a-err-1 has no $!ctx!host")
for k in ("host_mem_pct", "host_cpu_pct", "load1", "load5", "load15", "disk_free_pct", "sampled_at"):
    if k not in h: fail(f"a-err-1: host.{k} missing: {h}")
if not 0 < h["host_mem_pct"] <= 100: fail("host_mem_pct %s" % h["host_mem_pct"])
if h["disks"][0]["path"] == "" or not 0 <= h["disks"][0]["free_pct"] <= 100: fail("disks")
if get(r, "tags.cc") != "CC 4711": fail("tag cc")
# host-wide figures only where a rule said hostwide (docs/threat-model.md); neither VM is sampled
for s in ("a-debug-1", "b-err-1"):
    if "host" in by_seq[s]["ctx"]: fail(f"{s}: host-wide figures without hostwide: {get(by_seq[s], 'host')}")
if "cm" in r["ctx"]: fail("cm without a compute manager")
if set(get(by_seq["b-info-1"], "vm")) != {"name", "tenant"}: fail("minimal vm: %s" % get(by_seq["b-info-1"], "vm"))
for s in ("a-info-1", "b-info-1"):
    if "host" in by_seq[s]["ctx"]: fail(f"{s}: host context below verbose")
'
stat() { ctx_stat "mmctxenrich(pol)" "$1"; }
ctx_wait_stat "mmctxenrich(pol)" msgs.dropped 1
ctx_assert_eq "rule.noise" 1 "$(stat rule.noise)"
ctx_assert_eq "rule.acme-tag (continue rules count)" 3 "$(stat rule.acme-tag)"
ctx_assert_eq "rule.watch-b" 1 "$(stat rule.watch-b)"
ctx_assert_eq "rule.acme-errors" 1 "$(stat rule.acme-errors)"
ctx_assert_eq "rule.errors" 1 "$(stat rule.errors)"
ctx_assert_eq "rule.debugging" 1 "$(stat rule.debugging)"
ctx_assert_eq "rule.rest" 1 "$(stat rule.rest)"

# round 2: a changed rulebase (HUP): watch-b now asks for debug, appx info is dropped
cat >"$CTX_WORK/policy.rules" <<'RULES'
rule noise when app == noisy then drop
rule appx-info when app == appx and severity == info then drop
rule watch-b when vm == pol-b and severity == info then debug hostwide
rule errors when severity <= err then verbose
rule rest then standard
RULES
ctx_hup
ctx_wait_stat "mmctxenrich(pol)" policy.reloads 1
ctx_wait_for "the reload message" 10 "grep -q 'policy reloaded from $CTX_WORK/policy.rules (5 rules)' '$CTX_ILOG'"
round 2
cat >>"$exp" <<EOF
seq=seq=a-err-2 sev=err vm.name=pol-a vm.ip=$a_ip tags=- capture.dport=-
seq=seq=a-debug-2 sev=debug vm.name=pol-a vm.ip=$a_ip vm.process=- capture.dport=- tags=-
seq=seq=b-info-2 sev=info vm.name=pol-b vm.ip=$(ctx_vm_ip4 101) vm.process.app=appy capture.dport=514 tags=-
seq=seq=b-err-2 sev=err vm.name=pol-b tags=-
EOF
ctx_wait_lines "$CTX_WORK/out" 9
ctx_wait_stat "mmctxenrich(pol)" msgs.dropped 3
ctx_check "$CTX_WORK/out" "$exp"
mmx_check "$CTX_WORK/out" '
if "host" in by_seq["a-debug-2"]["ctx"]: fail("a-debug-2 is standard now")
if "host_mem_pct" not in get(by_seq["b-info-2"], "host", {}): fail("b-info-2 is debug now")
'
ctx_assert_eq "rule.noise (carried over the reload)" 2 "$(stat rule.noise)"
ctx_assert_eq "rule.appx-info" 1 "$(stat rule.appx-info)"

# round 3: a broken rulebase (HUP): the second one stays, the error names file and line
printf 'rule noise when app == noisy then drop\nrule oops when severity <= critical then verbose\n' >"$CTX_WORK/policy.rules"
ctx_hup
ctx_wait_stat "mmctxenrich(pol)" policy.reload_errors 1
ctx_wait_for "the reload error" 10 "grep -qF 'mmctxenrich(pol): HUP: policy not reloaded, keeping the rules in use: $CTX_WORK/policy.rules:2: a severity' '$CTX_ILOG'"
round 3
cat >>"$exp" <<EOF
seq=seq=a-err-3 sev=err vm.name=pol-a tags=-
seq=seq=a-debug-3 sev=debug vm.name=pol-a vm.process=- capture=-
seq=seq=b-info-3 sev=info vm.name=pol-b vm.process.app=appy
seq=seq=b-err-3 sev=err vm.name=pol-b
EOF
ctx_wait_lines "$CTX_WORK/out" 13
ctx_wait_stat "mmctxenrich(pol)" msgs.dropped 5
ctx_stop
ctx_check "$CTX_WORK/out" "$exp"
ctx_assert_eq "msgs.processed" 18 "$(stat msgs.processed)"
ctx_assert_eq "msgs.dropped" 5 "$(stat msgs.dropped)"
ctx_assert_eq "policy.reloads" 1 "$(stat policy.reloads)"
ctx_assert_eq "profiles.reloads" 2 "$(stat profiles.reloads)"
ctx_assert_eq "imctxcap submitted" 18 "$(ctx_stat "imctxcap(pol)" msgs.submitted)"
ctx_pass "3 rounds of 6 messages from 2 VMs: groups, tags and drops as the rules say, across 2 HUPs"
