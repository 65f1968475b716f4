# tests/system/omtenant_common.sh: helpers of the omtenant system tests (sourced after
# tests/lib/harness.sh; not a test itself).
#
#   omt_port                       a free loopback TCP port
#   omt_certs [DIR]                a test CA and certificates (see the function); C=DIR
#   omt_syslog_server NAME <<CONF  a second, receiving rsyslogd (Debian's, imtcp + ossl)
#   omt_receiver_start NAME ARGS   tests/lib/https_receiver.py serve (port in $OMT_DIR_NAME/port),
#                                  with the test server certificate unless ARGS give --cert
#   omt_receiver_stop NAME
#   omt_send PORT SPEC...          RFC 5424 lines over TCP to the sending rsyslogd's imtcp
#   omt_sender_conf PORT           input + ruleset that sets $!ctx from the app name
#
# Messages: "<13>1 2026-11-27T10:00:00.000001Z host-T T - - - seq=T-000001 user=bob password=hunter2"
# for tenant T: the sending rsyslogd sets $!ctx!vm!tenant (and name) from the app name.

OMT_TS=2026-11-27T10:00:00.000001Z
OMT_PY=/usr/bin/python3

omt_port() {
    $OMT_PY -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# omt_wait_port PORT: until something listens on 127.0.0.1:PORT
omt_wait_port() {
    ctx_wait_for "a listener on port $1" "${2:-30}" \
        "$OMT_PY -c 'import socket,sys; s=socket.socket(); sys.exit(s.connect_ex((\"127.0.0.1\", $1)))' 2>/dev/null"
}

# omt_certs [DIR]: in DIR ($CTX_WORK/certs by default, then named $C): ca.pem/key (the
# test CA), evilca.pem/key (a CA nobody trusts), and signed by the test CA unless said
# otherwise, each NAME.pem + NAME.key:
#   server (localhost, 127.0.0.1), other (other.example only), expired (localhost, 2020),
#   evil (localhost, signed by evilca), client (ctxlog-client, for mutual TLS)
omt_certs() {
    local d=${1:-$CTX_WORK/certs}
    C=$d
    mkdir -p "$d"
    (
        cd "$d" || exit 1
        local ec="-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes"
        openssl req -x509 $ec -keyout ca.key -out ca.pem -days 30 -subj "/CN=ctxlog test CA" 2>/dev/null
        openssl req -x509 $ec -keyout evilca.key -out evilca.pem -days 30 -subj "/CN=evil CA" 2>/dev/null
        issue() { # name cn san ca
            printf 'basicConstraints=CA:FALSE\nsubjectAltName=%s\n' "$3" >"$1.ext"
            openssl req $ec -keyout "$1.key" -out "$1.csr" -subj "/CN=$2" 2>/dev/null
            openssl x509 -req -in "$1.csr" -CA "$4.pem" -CAkey "$4.key" -CAcreateserial -days 10 \
                -extfile "$1.ext" -out "$1.pem" 2>/dev/null
        }
        issue server localhost "DNS:localhost,IP:127.0.0.1" ca
        issue other other.example "DNS:other.example" ca
        issue evil localhost "DNS:localhost,IP:127.0.0.1" evilca
        issue client ctxlog-client "DNS:ctxlog-client" ca
        # expired: openssl ca can sign with dates in the past
        : >index.txt
        echo 1000 >serial
        cat >ca.cnf <<EOF
[ca]
default_ca = d
[d]
database = $d/index.txt
new_certs_dir = $d
serial = $d/serial
certificate = $d/ca.pem
private_key = $d/ca.key
default_md = sha256
policy = p
x509_extensions = ext
[p]
commonName = supplied
[ext]
basicConstraints = CA:FALSE
subjectAltName = DNS:localhost,IP:127.0.0.1
EOF
        openssl req $ec -keyout expired.key -out expired.csr -subj "/CN=localhost" 2>/dev/null
        openssl ca -batch -config ca.cnf -startdate 20200101000000Z -enddate 20200201000000Z \
            -in expired.csr -out expired.pem >/dev/null 2>&1
        chmod 600 ./*.key
    ) || ctx_fail "cannot make test certificates"
    for f in ca server other evil client expired; do [ -s "$d/$f.pem" ] || ctx_fail "certificate $f.pem missing"; done
}

# omt_syslog_server NAME: starts a receiving rsyslogd whose config body is read from
# stdin (inputs and actions; @D@ is its directory); its pid goes to $OMT_SRV_PID_<NAME>.
# Call it in the test's shell (a here-document or a file on stdin), never at the end of a
# pipe: a pipe's subshell would register the clean-up that stops it in vain.
omt_syslog_server() {
    local name=$1 d="$CTX_WORK/srv-$1"
    mkdir -p "$d"
    {
        echo "global(workDirectory=\"$d\" maxMessageSize=\"64k\")"
        echo "module(load=\"imtcp\" streamDriver.name=\"ossl\" streamDriver.mode=\"1\" streamDriver.authMode=\"anon\")"
        sed -e "s|@D@|$d|g"
    } >"$d/rsyslog.conf"
    $RSYSLOGD -n -f "$d/rsyslog.conf" -i "$d/pid" >"$d/rsyslogd.log" 2>&1 &
    local pid=$!
    eval "OMT_SRV_PID_$name=$pid"
    ctx_on_exit "kill $pid; wait $pid"
    ctx_wait_for "receiving rsyslogd $name" 30 "[ -s '$d/pid' ] || ! kill -0 $pid 2>/dev/null"
    kill -0 "$pid" 2>/dev/null || { cat "$d/rsyslogd.log"; ctx_fail "receiving rsyslogd $name did not start"; }
}

# omt_raw_server NAME [INPUT-PARAM...]: omt_syslog_server NAME with one TLS input (the
# test CA's server certificate, omt_certs in $CTX_WORK/certs) on a free port, exported as
# OMT_PORT, writing each message's raw text to srv-NAME/out; returns once the port listens
omt_raw_server() {
    local name=$1 c="$CTX_WORK/certs"
    shift
    OMT_PORT=$(omt_port)
    omt_syslog_server "$name" <<EOF
input(type="imtcp" port="$OMT_PORT" ruleset="a" $*
      streamDriver.caFile="$c/ca.pem" streamDriver.certFile="$c/server.pem" streamDriver.keyFile="$c/server.key")
template(name="raw" type="string" string="%rawmsg%\n")
ruleset(name="a") { action(type="omfile" file="@D@/out" template="raw") }
EOF
    omt_wait_port "$OMT_PORT"
}

# omt_receiver_start NAME ARGS...: https_receiver.py serve --out $CTX_WORK/rcv-NAME,
# with the server certificate of omt_certs unless ARGS give --cert and --key;
# the first start picks a free port (in $CTX_WORK/rcv-NAME/port), later starts reuse it;
# OMT_RECEIVER names another receiver with the same options (tests/system/otlp_receiver.py)
omt_receiver_start() {
    local name=$1 d="$CTX_WORK/rcv-$1"
    shift
    mkdir -p "$d"
    local portarg=() certarg=(--cert "$CTX_WORK/certs/server.pem" --key "$CTX_WORK/certs/server.key")
    [[ " $* " == *" --cert "* ]] && certarg=()
    [ -s "$d/port" ] && portarg=(--port "$(cat "$d/port")")
    rm -f "$d/port.new"
    $OMT_PY "${OMT_RECEIVER:-$top_srcdir/tests/lib/https_receiver.py}" serve --out "$d" --port-file "$d/port.new" \
        "${portarg[@]}" "${certarg[@]}" "$@" >>"$d/receiver.log" 2>&1 &
    local pid=$!
    echo "$pid" >"$d/pid"
    ctx_on_exit "kill $pid"
    ctx_wait_for "receiver $name" 30 "[ -s '$d/port.new' ] || ! kill -0 $pid 2>/dev/null"
    kill -0 "$pid" 2>/dev/null || { cat "$d/receiver.log"; ctx_fail "receiver $name did not start"; }
    mv "$d/port.new" "$d/port"
}

omt_receiver_stop() {
    local d="$CTX_WORK/rcv-$1" pid
    pid=$(cat "$d/pid")
    kill "$pid" 2>/dev/null
    ctx_wait_for "receiver $1 to stop" 30 "! kill -0 $pid 2>/dev/null"
}

omt_receiver_port() { cat "$CTX_WORK/rcv-$1/port"; }

# omt_sender_conf PORT [RULESET-PARAMS]: the sending side's input; messages get
# $!ctx!vm!tenant = app name and $!ctx!vm!name = "vm-" + app name (app "S" also secrets
# in $!ctx!cm: a number under a secret key name, a URL with user-info), then call
# ruleset "out"; RULESET-PARAMS (e.g. a queue) are given to the input's ruleset
omt_sender_conf() {
    cat <<EOF
module(load="imtcp")
input(type="imtcp" port="$1" ruleset="in")
ruleset(name="in" ${2:-}) {
    set \$!ctx!vm!tenant = \$app-name;
    set \$!ctx!vm!name = "vm-" & \$app-name;
    if \$app-name == "S" then {
        set \$!ctx!cm!api_key = 12345;
        set \$!ctx!cm!url = "https://admin:pw0rd@cm.example/api";
    }
    call out
}
EOF
}

# omt_send PORT [--rate N] SPEC...: SPEC is TENANT:FIRST:LAST (messages seq=TENANT-FIRST ..
# TENANT-LAST), all specs interleaved; --big adds ~1 KiB of incompressible text to each
omt_send() {
    $OMT_PY - "$@" <<'PY' || ctx_fail "omt_send failed"
import base64, os, socket, sys, time
args = sys.argv[1:]
port, rate, big, specs = int(args.pop(0)), 0, False, []
while args:
    a = args.pop(0)
    if a == "--rate": rate = int(args.pop(0))
    elif a == "--big": big = True
    else:
        t, f, l = a.split(":")
        specs.append((t, int(f), int(l)))
s = socket.create_connection(("127.0.0.1", port))
gens = [iter([(t, n) for n in range(f, l + 1)]) for t, f, l in specs]
sent, t0, buf = 0, time.time(), []
while gens:
    alive = []
    for g in gens:
        x = next(g, None)
        if x is None:
            continue
        alive.append(g)
        t, n = x
        pad = (" pad=" + base64.b64encode(os.urandom(750)).decode()) if big else ""
        buf.append("<13>1 2026-11-27T10:00:00.000001Z host-%s %s - - - seq=%s-%06d user=bob password=hunter2%s\n"
                   % (t, t, t, n, pad))
        sent += 1
        if len(buf) >= 64 or (rate and len(buf) >= max(1, rate // 200)):
            s.sendall("".join(buf).encode())
            buf = []
            if rate:
                ahead = sent / rate - (time.time() - t0)
                if ahead > 0:
                    time.sleep(ahead)
    gens = alive
s.sendall("".join(buf).encode())
s.close()
PY
}

# omt_lines FILE: line count (0 if missing)
omt_lines() { if [ -f "$1" ]; then wc -l <"$1"; else echo 0; fi; }

# omt_expect_a TENANT N: the exact frame a syslog-tls tenant's server receives for
# message N (default record: RFC 5424 header + the JSON object, redacted)
omt_expect_syslog() {
    printf '<13>1 %s host-%s %s - - - {"time":"%s","host":"host-%s","facility":"user","severity":"notice","app":"%s","msg":"seq=%s-%06d user=bob password=[REDACTED:kv-secret]","ctx":{ "vm": { "tenant": "%s", "name": "vm-%s" } }}\n' \
        "$OMT_TS" "$1" "$1" "$OMT_TS" "$1" "$1" "$1" "$2" "$1" "$1"
}

# the JSON object an https tenant receives for message N
omt_expect_json() {
    printf '{"time":"%s","host":"host-%s","facility":"user","severity":"notice","app":"%s","msg":"seq=%s-%06d user=bob password=[REDACTED:kv-secret]","ctx":{ "vm": { "tenant": "%s", "name": "vm-%s" } }}\n' \
        "$OMT_TS" "$1" "$1" "$1" "$2" "$1" "$1"
}

# omt_run [PARAM...]: the usual configuration, then start: omtenant, the sender's input
# (omt_sender_conf) on a free port, exported as PS, and ruleset "out" with one
# action(type="omtenant" tenants="@WORK@/tenants.json" PARAM... queue.type="LinkedList"
# action.resumeRetryCount="-1" action.resumeInterval="1"); returns once PS listens
omt_run() {
    PS=$(omt_port)
    {
        echo 'module(load="@MODDIR@/omtenant/omtenant.so")'
        omt_sender_conf "$PS"
        echo 'ruleset(name="out") {'
        echo "    action(type=\"omtenant\" tenants=\"@WORK@/tenants.json\" $*"
        echo '           queue.type="LinkedList" action.resumeRetryCount="-1" action.resumeInterval="1")'
        echo '}'
    } | ctx_conf
    ctx_start
    omt_wait_port "$PS"
}

# omt_https_tenant ID URL MAX_MESSAGES MAX_DELAY_MS: a tenants-file member for an https
# tenant trusting the test CA (omt_certs) as "localhost"
omt_https_tenant() {
    printf '"%s": {"transport": "https", "url": "%s", "tls": {"ca_file": "certs/ca.pem", "server_name": "localhost"}, "batch": {"max_messages": %s, "max_delay_ms": %s}}' \
        "$1" "$2" "$3" "$4"
}

# omt_vm_send NS IDX PREFIX N [ORDER [EVERY:TEXT]]: from VM NS (number IDX), N numbered RFC 5424
# messages over UDP to the host's 514: "... guest-PREFIX appPREFIX ... seq=PREFIX-00000i
# user=bob password=hunter2", message i's time 07:00:00.i us (ORDER "backwards": running
# backwards within blocks of 10); every EVERY-th one ends with " TEXT"
omt_vm_send() {
    ctx_vm_exec "$1" $OMT_PY - "$(ctx_vm_host_ip4 "$2")" "$3" "$4" "${5:-forward}" "${6:-}" <<'PY' || ctx_fail "sending from VM $1"
import socket, sys, time
dst, prefix, n, order, mark = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5]
every, text = (int(mark.split(":", 1)[0]), " " + mark.split(":", 1)[1]) if mark else (0, "")
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(1, n + 1):
    us = (i - 1) // 10 * 10 + 9 - (i - 1) % 10 if order == "backwards" else i
    tail = text if every and i % every == 0 else ""
    m = "<14>1 2026-12-02T07:00:00.%06dZ guest-%s app%s %d m%d [meta seq=\"%d\"] seq=%s-%06d user=bob password=hunter2%s" % (
        us, prefix, prefix, 1000 + i, i, i, prefix, i, tail)
    s.sendto(m.encode(), (dst, 514))
    if i % 50 == 0:
        time.sleep(0.02)
PY
}

# omt_receiver_tenant ID MAX_MESSAGES MAX_DELAY_MS [RECEIVER-ARG...]: receiver ID started
# (omt_receiver_start) and $CTX_WORK/tenants.json with the one https tenant ID sending
# to it at OMT_URL=https://127.0.0.1:<port>/bulk
omt_receiver_tenant() {
    local id=$1 max=$2 delay=$3
    shift 3
    omt_receiver_start "$id" "$@"
    OMT_URL="https://127.0.0.1:$(omt_receiver_port "$id")/bulk"
    echo "{\"tenants\": {$(omt_https_tenant "$id" "$OMT_URL" "$max" "$delay")}}" >"$CTX_WORK/tenants.json"
}

# omt_pipeline_run NAME VM...: the end-to-end config of the format tests started: imctxcap
# input NAME on the VMs' vNICs (their numbers) -> mmctxenrich NAME -> omtenant with
# @WORK@/tenants.json (dead letters in @WORK@/dl, quick backoff); waits until every vNIC
# is attached
omt_pipeline_run() {
    local name=$1 ifs="" i
    shift
    for i; do ifs="$ifs,$(ctx_vm_vnic "$i")"; done
    ctx_conf <<CONF
module(load="@MODDIR@/imctxcap/imctxcap.so")
module(load="@MODDIR@/mmctxenrich/mmctxenrich.so")
module(load="@MODDIR@/omtenant/omtenant.so")
input(type="imctxcap" name="$name" interface="${ifs#,}" profiles="@WORK@/profiles.json" ruleset="vms")
ruleset(name="vms") {
    action(type="mmctxenrich" name="$name" profiles="@WORK@/profiles.json")
    action(type="omtenant" tenants="@WORK@/tenants.json" deadletter.directory="@WORK@/dl" backoff.initial="100"
           backoff.max="500" queue.type="LinkedList" queue.dequeueBatchSize="64" action.resumeRetryCount="-1")
}
CONF
    ctx_validate || { cat "$CTX_WORK/n1.out"; ctx_fail "rsyslogd -N1"; }
    ctx_start
    ctx_wait_stat "imctxcap($name)" interfaces.attached $#
}

