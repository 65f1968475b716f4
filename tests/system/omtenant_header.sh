#!/bin/bash
# omtenant redacts the header fields of its built-in record (issue 16): a message whose
# APP-NAME is "password=hunter2" and whose MSGID is "token=abc123" (what rsyslog's RFC 3164
# parser makes of a tag-less "<13>password=hunter2 ...") reaches the tenant with both values
# redacted; an ordinary message beside it is unchanged; the per-rule counter
# counts the header fields.
. "$top_srcdir/tests/lib/harness.sh"
. "$top_srcdir/tests/system/omtenant_common.sh"
ctx_init "omtenant_header${CTX_SUFFIX:-}"
omt_certs
omt_receiver_start H
PH=$(omt_receiver_port H)
echo "{\"tenants\": {$(omt_https_tenant H "https://127.0.0.1:$PH/bulk/H" 10 200)}}" >"$CTX_WORK/tenants.json"
PS=$(omt_port)
{
    echo 'module(load="@MODDIR@/omtenant/omtenant.so")'
    cat <<EOF
module(load="imtcp")
input(type="imtcp" port="$PS" ruleset="in")
ruleset(name="in") {
    set \$!ctx!vm!tenant = "H";
    action(type="omtenant" tenants="@WORK@/tenants.json" backoff.initial="100" backoff.max="1000")
}
EOF
} | ctx_conf
ctx_start
omt_wait_port "$PS"
$OMT_PY - "$PS" <<'PY' || ctx_fail "sending failed"
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"<13>1 2026-11-27T10:00:00.000001Z host-H password=hunter2 - token=abc123 - first\n"
          b"<13>1 2026-11-27T10:00:00.000002Z host-H sshd 42 ID7 - second\n")
s.close()
PY
ctx_wait_stat "omtenant(H)" delivered.msgs 2 60
ctx_stop

RH="$CTX_WORK/rcv-H/messages.log"
$OMT_PY - "$RH" <<'PY' || ctx_fail "tenant H's records differ"
import json, sys
got = [json.loads(l.split("\t", 1)[1]) for l in open(sys.argv[1])]
ctx = {"vm": {"tenant": "H"}}
want = [{"time": "2026-11-27T10:00:00.000001Z", "host": "host-H", "facility": "user", "severity": "notice",
         "app": "password=[REDACTED:kv-secret]", "msgid": "token=[REDACTED:kv-secret]", "msg": "first", "ctx": ctx},
        {"time": "2026-11-27T10:00:00.000002Z", "host": "host-H", "facility": "user", "severity": "notice",
         "app": "sshd", "procid": "42", "msgid": "ID7", "msg": "second", "ctx": ctx}]
assert got == want, got
PY
grep -q -e hunter2 -e abc123 "$RH" && ctx_fail "a header secret left the host"
ctx_assert_eq "omtenant(H) redactions" 2 "$(ctx_stat "omtenant(H)" redactions)"
ctx_assert_eq "kv-secret matches" 2 "$(ctx_stat "omtenant(omtenant)-redaction" kv-secret)"
ctx_pass "app-name and msgid secrets redacted in the built-in record, counted"
