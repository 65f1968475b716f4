#!/bin/bash
# A PEM private key logged one line per message (issue 16): VM "pk" (tenant acme) sends it
# with logger, line by line, with an ordinary line before and after; while the key is open,
# VM "ot" (tenant other) sends lines with the same app-name, among them a PEM END line.
# Captured by imctxcap, sent by omtenant's built-in record: acme receives every line from
# BEGIN to END as "[REDACTED:pem-private-key]" and the lines around it as they were; the
# other tenant's END closes nothing of acme's and its lines arrive untouched; no key line
# leaves the host; the multiline.* counters and the tenants' redactions are exact. A second
# action sends the same messages through an operator template (JSON, option.jsonf: the
# message found JSON-escaped in its output) to a second pair of receivers: the same records.
. "$top_srcdir/tests/lib/harness.sh"
. "$top_srcdir/tests/system/omtenant_common.sh"
ctx_init "omtenant_multiline${CTX_SUFFIX:-}"
ctx_vm_add pk 238 || ctx_fail "VM pk"
ctx_vm_add ot 239 || ctx_fail "VM ot"
cat >"$CTX_WORK/profiles.json" <<JSON
{"vms": [{"name": "pk", "uuid": "0a0a0a0a-0000-4000-8000-000000000238", "tenant": "acme", "vnic": "$(ctx_vm_vnic 238)"},
         {"name": "ot", "uuid": "0b0b0b0b-0000-4000-8000-000000000239", "tenant": "other", "vnic": "$(ctx_vm_vnic 239)"}]}
JSON
omt_certs
omt_receiver_start acme
omt_receiver_start other
omt_receiver_start acmet
omt_receiver_start othert
tenant() { # id [receiver]
    echo "\"$1\": {\"transport\": \"https\", \"url\": \"https://127.0.0.1:$(omt_receiver_port "${2:-$1}")/bulk\",
      \"content_encoding\": \"none\", \"tls\": {\"ca_file\": \"certs/ca.pem\", \"server_name\": \"localhost\"},
      \"batch\": {\"max_messages\": 100, \"max_delay_ms\": 200}}"
}
echo "{\"tenants\": {$(tenant acme), $(tenant other)}}" >"$CTX_WORK/tenants.json"
echo "{\"tenants\": {$(tenant acme acmet), $(tenant other othert)}}" >"$CTX_WORK/tenants-t.json"
ctx_conf <<CONF
module(load="@MODDIR@/imctxcap/imctxcap.so")
module(load="@MODDIR@/omtenant/omtenant.so")
input(type="imctxcap" name="pm" interface="$(ctx_vm_vnic 238),$(ctx_vm_vnic 239)" profiles="@WORK@/profiles.json")
action(type="omtenant" name="pm" tenants="@WORK@/tenants.json" backoff.initial="100" backoff.max="1000")
template(name="mlj" type="list" option.jsonf="on") {
    property(outname="app" name="app-name" format="jsonf")
    property(outname="msg" name="msg" format="jsonf")
}
action(type="omtenant" name="pt" tenants="@WORK@/tenants-t.json" template="mlj" spool.directory="@WORK@/spool-t"
       deadletter.directory="@WORK@/dl-t" backoff.initial="100" backoff.max="1000")
CONF
ctx_start
ctx_wait_stat "imctxcap(pm)" interfaces.attached 2

# a key-shaped body (random base64, 64 characters a line), never seen outside the VM
KEY="$CTX_WORK/key.pem"
{
    echo "-----BEGIN PRIVATE KEY-----"
    head -c 192 /dev/urandom | base64 -w 64
    echo "-----END PRIVATE KEY-----"
} >"$KEY"
[ "$(wc -l <"$KEY")" = 6 ] || ctx_fail "the key file has $(wc -l <"$KEY") lines, expected 6"
send() { # idx, lines on stdin: one message each
    ctx_vm_exec "$1" logger --udp -n "$(ctx_vm_host_ip4 "$2")" -P 514 -t keyapp -p user.notice || ctx_fail "logger in $1"
}
echo "seq=p1 before the key" | send pk 238
head -n 3 "$KEY" | send pk 238                    # BEGIN and two lines: the key is open
ctx_wait_stat "omtenant(pm:acme)" msgs 4 60
ctx_wait_stat "omtenant(pt:acme)" msgs 4 60
printf '%s\n' "seq=o1 other tenant" "-----END PRIVATE KEY-----" "seq=o2 after its end" | send ot 239
ctx_wait_stat "omtenant(pm:other)" msgs 3 60
ctx_wait_stat "omtenant(pt:other)" msgs 3 60
{ tail -n 3 "$KEY"; echo "seq=p2 after the key"; } | send pk 238
ctx_wait_stat "omtenant(pm:acme)" delivered.msgs 8 60
ctx_wait_stat "omtenant(pm:other)" delivered.msgs 3 60
ctx_wait_stat "omtenant(pt:acme)" delivered.msgs 8 60
ctx_wait_stat "omtenant(pt:other)" delivered.msgs 3 60
ctx_wait_stat "omtenant(pm)" multiline.closed 1 30
ctx_wait_stat "omtenant(pt)" multiline.closed 1 30
ctx_stop

for a in pm:acme:other pt:acmet:othert; do
IFS=: read -r act ra ro <<<"$a"
RA="$CTX_WORK/rcv-$ra/messages.log"
RO="$CTX_WORK/rcv-$ro/messages.log"
tail -n +2 "$KEY" | head -n 4 >"$CTX_WORK/body"
if grep -qF -f "$CTX_WORK/body" "$RA" "$RO"; then ctx_fail "$act: a line of the key left the host"; fi
$OMT_PY - "$RA" "$RO" <<'PY' || ctx_fail "$act: the records differ"
import json, sys
msgs = lambda p: [json.loads(l.split("\t", 1)[1])["msg"] for l in open(p)]
R = "[REDACTED:pem-private-key]"
acme, other = msgs(sys.argv[1]), msgs(sys.argv[2])
assert acme == ["seq=p1 before the key"] + [R] * 6 + ["seq=p2 after the key"], acme
assert other == ["seq=o1 other tenant", "-----END PRIVATE KEY-----", "seq=o2 after its end"], other
print(acme, other)
PY
for c in opened:1 closed:1 lines:5 evicted:0 timeouts:0 overlong:0 open:0; do
    ctx_assert_eq "$act multiline.${c%%:*}" "${c#*:}" "$(ctx_stat "omtenant($act)" "multiline.${c%%:*}")"
done
ctx_assert_eq "omtenant($act:other) redactions" 0 "$(ctx_stat "omtenant($act:other)" redactions)"
ctx_assert_eq "omtenant($act) redact.errors" 0 "$(ctx_stat "omtenant($act)" redact.errors)"
done
ctx_assert_eq "omtenant(pm:acme) redactions (one per key line)" 6 "$(ctx_stat "omtenant(pm:acme)" redactions)"
# the template's record: the BEGIN line also matches pem-private-key in the output (1 + 1)
ctx_assert_eq "omtenant(pt:acme) redactions" 7 "$(ctx_stat "omtenant(pt:acme)" redactions)"
ctx_pass "a PEM key over 6 messages redacted from BEGIN to END (per tenant, VM and app; built-in record and operator template), lines around it and the other tenant's untouched, counters exact"
