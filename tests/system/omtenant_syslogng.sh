#!/bin/bash
# RFC 5425 against a second real server implementation: syslog-ng from Debian (binaries
# unpacked from syslog-ng-core beside rsyslog, bench/lib/get-loggen.sh) as the tenant's
# TLS syslog server, requiring a client certificate (peer-verify(required-trusted)).
# Tenant M (client certificate) delivers every message: syslog-ng parses each octet-counted
# RFC 5424 frame (its syslog() source), and the test checks each by sequence number with
# its header fields, structured data, redaction and context. Tenant X (no client
# certificate, same server) is refused by syslog-ng: nothing arrives, tls.failures counts.
. "$top_srcdir/tests/lib/harness.sh"
. "$top_srcdir/tests/system/omtenant_common.sh"
ctx_init "omtenant_syslogng${CTX_SUFFIX:-}"
N=${CTX_N:-500}
loggen=$("$top_srcdir/bench/lib/get-loggen.sh" 2>"$CTX_WORK/get-loggen.log" | tail -1) ||
    { cat "$CTX_WORK/get-loggen.log"; ctx_fail "syslog-ng could not be unpacked (bench/lib/get-loggen.sh)"; }
sroot="$(dirname "$loggen")/root"
SNG="$sroot/usr/sbin/syslog-ng"
[ -x "$SNG" ] || ctx_fail "no $SNG"
omt_certs
P=$(omt_port)
S="$CTX_WORK/sng"
mkdir -p "$S"
cat >"$S/sng.conf" <<EOF
@version: 3.38
options { keep-hostname(yes); frac-digits(6); stats-freq(0); chain-hostnames(no); };
source s_tls { syslog(ip(127.0.0.1) port($P) transport("tls") max-connections(10)
    tls(key-file("$C/server.key") cert-file("$C/server.pem") ca-file("$C/ca.pem") peer-verify(required-trusted))); };
destination d_out { file("$S/out" template("\${PROGRAM}\t\${HOST}\t\${ISODATE}\t\${FACILITY}.\${PRIORITY}\t\${SDATA}\t\${MSG}\n")); };
log { source(s_tls); destination(d_out); };
EOF
env LD_LIBRARY_PATH="$sroot/usr/lib/syslog-ng" SYSLOGNG_PREFIX="$sroot/usr" "$SNG" -F --no-caps -f "$S/sng.conf" \
    -p "$S/pid" -c "$S/ctl" -R "$S/persist" >"$S/log" 2>&1 &
SPID=$!
ctx_on_exit "kill $SPID"
omt_wait_port "$P"
cat >"$CTX_WORK/tenants.json" <<EOF
{"tenants": {
  "M": {"transport": "syslog-tls", "host": "127.0.0.1", "port": $P,
        "tls": {"ca_file": "certs/ca.pem", "cert_file": "certs/client.pem", "key_file": "certs/client.key",
                "server_name": "localhost"}, "batch": {"max_messages": 50, "max_delay_ms": 200}},
  "X": {"transport": "syslog-tls", "host": "127.0.0.1", "port": $P,
        "tls": {"ca_file": "certs/ca.pem", "server_name": "localhost"}, "batch": {"max_messages": 50, "max_delay_ms": 200}}
}}
EOF
omt_run 'backoff.initial="100" backoff.max="500" queue.dequeueBatchSize="256"'
omt_send "$PS" "M:1:$N" "X:1:5"
ctx_wait_lines "$S/out" "$N" 60
ctx_wait_stat "omtenant(M)" delivered.msgs "$N" 60
ctx_wait_stat "omtenant(X)" tls.failures 1 60
ctx_stop
ctx_assert_eq "X delivered.msgs" 0 "$(ctx_stat "omtenant(X)" delivered.msgs)"
grep -q hunter2 "$S/out" && ctx_fail "a secret reached syslog-ng"
$OMT_PY - "$S/out" "$N" "$OMT_TS" <<'PY' || ctx_fail "syslog-ng's messages"
import json, sys
path, n, ts = sys.argv[1], int(sys.argv[2]), sys.argv[3]
seen = []
for line in open(path, encoding="utf-8"):
    prog, host, date, pri, sdata, msg = line.rstrip("\n").split("\t", 5)
    assert prog == "M" and host == "host-M" and pri == "user.notice", line
    assert date == "2026-11-27T10:00:00.000001+00:00", line  # the original timestamp, as sent
    rec = json.loads(msg)  # MSG is omtenant's JSON object, whole
    seq = int(rec["msg"].split()[0].split("-")[1])
    assert rec["msg"] == "seq=M-%06d user=bob password=[REDACTED:kv-secret]" % seq, rec
    assert rec["time"] == ts and rec["host"] == "host-M" and rec["app"] == "M", rec
    assert rec["ctx"] == {"vm": {"tenant": "M", "name": "vm-M"}}, rec
    seen.append(seq)
assert sorted(seen) == list(range(1, n + 1)), ("missing or duplicated", len(seen), len(set(seen)))
assert seen == sorted(seen), "out of order"
print("syslog-ng: %d messages, each once, in order" % len(seen))
PY
# syslog-ng's refusal, as the client saw it: the TLS alert "certificate required"
ctx_assert_grep "$CTX_ILOG" "tenant 'X': TLS refused: TLS handshake with 127.0.0.1:$P failed: tlsv13 alert certificate required"
ctx_pass "$N messages over RFC 5425 to syslog-ng with a client certificate; the tenant without one refused"
