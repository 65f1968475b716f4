# bench/lib/sinks.sh: the receiving ends of the delivery benches (bench/e2e, bench/omtenant),
# sourced after W (the work directory), PY, RSYSLOGD, top, PIDS=() and wait_for are set.
#
#   port                          a free loopback TCP port
#   listening PORT                true once something listens on 127.0.0.1:PORT
#   bench_certs                   $W/ca.pem (a bench CA), $W/srv.pem + srv.key (localhost, 127.0.0.1)
#   bench_recv_conf PORT [LINE]   $W/recv/rsyslog.conf: a receiving rsyslogd, imtcp over TLS on PORT,
#                                 every message to $W/recv/out (LINE: template="rawline" writes
#                                 the raw text)
#   bench_sink DIR SCRIPT TIMEOUT [ARG...]   a counting HTTPS receiver (SCRIPT: tests/lib/https_receiver.py
#                                 or tests/system/otlp_receiver.py, --count-only) in $W/DIR with the
#                                 bench certificate, log $W/DIR/log; its port in SINK_PORT

port() { $PY -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
listening() { $PY -c "import socket,sys; s=socket.socket(); sys.exit(s.connect_ex(('127.0.0.1', $1)))" 2>/dev/null; }

bench_certs() {
    (
        cd "$W"
        ec="-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes"
        openssl req -x509 $ec -keyout ca.key -out ca.pem -days 2 -subj "/CN=bench CA" 2>/dev/null
        printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\n' >srv.ext
        openssl req $ec -keyout srv.key -out srv.csr -subj "/CN=localhost" 2>/dev/null
        openssl x509 -req -in srv.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 -extfile srv.ext -out srv.pem 2>/dev/null
    )
}

bench_recv_conf() {
    local tpl=""
    [ "${2:-}" = raw ] && tpl=' template="rawline"'
    mkdir -p "$W/recv"
    {
        cat <<EOC
global(workDirectory="$W/recv" maxMessageSize="64k")
module(load="imtcp" streamDriver.name="ossl" streamDriver.mode="1" streamDriver.authMode="anon")
input(type="imtcp" port="$1" ruleset="r" streamDriver.caFile="$W/ca.pem" streamDriver.certFile="$W/srv.pem"
      streamDriver.keyFile="$W/srv.key")
EOC
        [ -z "$tpl" ] || echo 'template(name="rawline" type="string" string="%rawmsg%\n")'
        cat <<EOC
ruleset(name="r" queue.type="LinkedList" queue.size="500000" queue.dequeueBatchSize="1024") {
    action(type="omfile" file="$W/recv/out"$tpl asyncWriting="on" ioBufferSize="1m" flushInterval="1")
}
EOC
    } >"$W/recv/rsyslog.conf"
}

bench_sink() {
    local dir=$1 script=$2 tmo=$3
    shift 3
    mkdir -p "$W/$dir"
    $PY "$top/$script" serve --out "$W/$dir" --port-file "$W/$dir/port" --cert "$W/srv.pem" --key "$W/srv.key" \
        --count-only "$@" >"$W/$dir/log" 2>&1 &
    PIDS+=($!)
    wait_for "$tmo" "[ -s '$W/$dir/port' ]"
    SINK_PORT=$(cat "$W/$dir/port")
}
