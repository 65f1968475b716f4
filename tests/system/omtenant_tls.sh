#!/bin/bash
# TLS refusals, each with its clear error naming the tenant: a server certificate from
# an untrusted CA, for another host name, expired; a server that speaks only TLS 1.1
# (syslog-tls and https); a server that requires a client certificate when none is
# configured. Nothing reaches those servers, the batches wait in each tenant's spool,
# the TLS failures are counted, and a healthy tenant beside them is not affected.
. "$top_srcdir/tests/lib/harness.sh"
. "$top_srcdir/tests/system/omtenant_common.sh"
ctx_init "omtenant_tls${CTX_SUFFIX:-}"
omt_certs
P1=$(omt_port) P2=$(omt_port) P3=$(omt_port) P4=$(omt_port) P5=$(omt_port)
tls_input() { # port cert [authmode]
    printf 'input(type="imtcp" port="%s" ruleset="r" streamDriver.authMode="%s" streamDriver.caFile="%s/ca.pem"\n' \
        "$1" "${3:-anon}" "$C"
    printf '      streamDriver.certFile="%s/%s.pem" streamDriver.keyFile="%s/%s.key")\n' "$C" "$2" "$C" "$2"
}
{
    tls_input "$P1" evil
    tls_input "$P2" other
    tls_input "$P3" expired
    tls_input "$P4" server x509/certvalid
    tls_input "$P5" server
    echo 'template(name="raw" type="string" string="%rawmsg%\n")'
    echo 'ruleset(name="r") { action(type="omfile" file="@D@/out" template="raw") }'
} >"$CTX_WORK/srv-S.conf"
omt_syslog_server S <"$CTX_WORK/srv-S.conf" # not in a pipe: its clean-up must register in this shell
for p in $P1 $P2 $P3 $P4 $P5; do omt_wait_port "$p"; done
omt_receiver_start OLD --tls-max 1.1
PO=$(omt_receiver_port OLD)
tenant() { # id port [extra tls json]
    printf '  "%s": {"transport": "syslog-tls", "host": "127.0.0.1", "port": %s, "tls": {"ca_file": "certs/ca.pem", "server_name": "localhost"%s},\n' "$1" "$2" "${3:-}"
    printf '         "batch": {"max_messages": 10, "max_delay_ms": 100}},\n'
}
{
    echo '{"tenants": {'
    tenant untrusted "$P1"
    tenant wrongname "$P2"
    tenant expired "$P3"
    tenant nocert "$P4"
    tenant tls11 "$PO"
    printf '  "tls11https": {"transport": "https", "url": "https://127.0.0.1:%s/x", "tls": {"ca_file": "certs/ca.pem", "server_name": "localhost"},\n' "$PO"
    printf '         "batch": {"max_messages": 10, "max_delay_ms": 100}},\n'
    tenant good "$P5"
    echo '  "default": {"transport": "syslog-tls", "host": "127.0.0.1", "port": '"$P5"', "tls": {"ca_file": "certs/ca.pem", "verify_hostname": false}}'
    echo '}}'
} >"$CTX_WORK/tenants.json"
omt_run 'backoff.initial="100" backoff.max="500"'
BAD="untrusted wrongname expired nocert tls11 tls11https"
specs=()
for t in $BAD good; do specs+=("$t:1:20"); done
omt_send "$PS" "${specs[@]}"
ctx_wait_stat "omtenant(good)" delivered.msgs 20 60
for t in $BAD; do
    ctx_wait_stat "omtenant($t)" tls.failures 2 60
    ctx_wait_stat "omtenant($t)" spool.batches 2 60
    ctx_assert_eq "delivered.msgs($t)" 0 "$(ctx_stat "omtenant($t)" delivered.msgs)"
done
# the start-up warning of the opt-out
ctx_assert_grep "$CTX_ILOG" "omtenant: warning: $CTX_WORK/tenants.json:"
ctx_assert_grep "$CTX_ILOG" "tenants.default.tls.verify_hostname: false: the server's certificate name is NOT checked for tenant default"
ctx_stop
pre="TLS refused: TLS handshake with 127.0.0.1"
ctx_assert_grep "$CTX_ILOG" "omtenant: tenant 'untrusted': $pre:$P1 failed: certificate verify failed: unable to get local issuer certificate; its batches are spooled"
ctx_assert_grep "$CTX_ILOG" "omtenant: tenant 'wrongname': $pre:$P2 failed: certificate verify failed: the server's certificate is not for \"localhost\"; its batches"
ctx_assert_grep "$CTX_ILOG" "omtenant: tenant 'expired': $pre:$P3 failed: certificate verify failed: certificate has expired; its batches"
ctx_assert_grep "$CTX_ILOG" "omtenant: tenant 'nocert': $pre:$P4 failed: "
ctx_assert_grep "$CTX_ILOG" "the server requires a client certificate (mutual TLS) and none is configured; its batches"
ctx_assert_grep "$CTX_ILOG" "omtenant: tenant 'tls11': $pre:$PO failed: "
ctx_assert_grep "$CTX_ILOG" "the server offers no TLS version this client accepts (minimum TLS 1.2); its batches"
ctx_assert_grep "$CTX_ILOG" "omtenant: tenant 'tls11https': TLS refused: POST to https://127.0.0.1:$PO/x failed: "
ctx_assert_grep "$CTX_ILOG" "(the server offers no TLS version this client accepts: minimum TLS 1.2)"
# only the good tenant's messages reached a server
OUT="$CTX_WORK/srv-S/out"
ctx_assert_eq "messages at the servers" 20 "$(omt_lines "$OUT")"
grep -c 'seq=good-' "$OUT" | grep -qx 20 || ctx_fail "the good tenant's messages"
[ ! -s "$CTX_WORK/rcv-OLD/messages.log" ] || ctx_fail "the TLS 1.1 server got messages"
ctx_pass "5 kinds of TLS refusal reported per tenant, spooled and counted; the good tenant unaffected"
