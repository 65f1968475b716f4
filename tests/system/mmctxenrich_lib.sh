# tests/system/mmctxenrich_lib.sh: helpers of the mmctxenrich system tests (sourced after
# tests/lib/harness.sh; not a test itself).
#
#   mmx_port                          a free loopback port
#   mmx_cm_start [--tls] [--token T] [--port P] [--keystone U:P[:PROJ]] [--appcred ID:S] [--vcenter U:P]
#                [--token-ttl S]         the test compute manager (tests/lib/cmserver.py)
#                                     on $CTX_WORK/routes.json; sets MMX_CM (base URL), MMX_CM_PORT;
#                                     --tls makes a test CA in $CTX_WORK/pki (ca.pem, other-ca.pem)
#   mmx_cm_stop / mmx_cm_ctl k=v ... / mmx_cm_n JQ   stop it, change its behaviour, read a counter
#   mmx_send PORT N PREFIX [k=v ...]  N syslog messages over UDP to 127.0.0.1:PORT, as fast as the
#                                     socket takes them or at rate=<msg/s>; keys: sev (a list cycles),
#                                     fac, app, vms (name:uuid,... cycles), tenant; message text "seq=<PREFIX><i> vm=<name> uuid=<uuid> ..."
#   mmx_check OUT PYTHON              runs PYTHON with `rows` = the records of OUT (written with
#                                     $CTX_CHECK_TEMPLATE, read by tests/lib/ctxcheck.py: dicts app,
#                                     sev, msg, ctx, ..., and seq), by_seq, get(row, "a.b"[, default]) (in ctx); the
#                                     code calls fail("why") or falls through
#   MMX_SET_VM                        rainerscript that sets $!ctx!vm from such a message text
#   mmx_udp_head PORT / mmx_run NAME <<PARAMS  the config's head / a one-action config, started

mmx_port() {
    /usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

MMX_CM_PID=
mmx_cm_start() {
    local tls=0 token="" port=0 extra=()
    while [ $# -gt 0 ]; do
        case "$1" in
            --tls) tls=1; shift ;;
            --token) token=$2; shift 2 ;;
            --port) port=$2; shift 2 ;;
            --keystone | --appcred | --vcenter | --token-ttl) extra+=("$1" "$2"); shift 2 ;;
            *) ctx_fail "mmx_cm_start: unknown option $1" ;;
        esac
    done
    local args=(serve --port-file "$CTX_WORK/cm.port" --port "$port" --routes "$CTX_WORK/routes.json"
        --log "$CTX_WORK/cm.log")
    if [ "$tls" = 1 ]; then
        if [ ! -f "$CTX_WORK/pki/ca.pem" ]; then
            mkdir -p "$CTX_WORK/pki"
            /usr/bin/python3 "$top_srcdir/tests/lib/cmserver.py" mkca "$CTX_WORK/pki" || ctx_fail "test CA"
        fi
        args+=(--tls-cert "$CTX_WORK/pki/server.pem" --tls-key "$CTX_WORK/pki/server.key")
    fi
    [ -n "$token" ] && args+=(--token "$token")
    args+=("${extra[@]}")
    rm -f "$CTX_WORK/cm.port"
    /usr/bin/python3 "$top_srcdir/tests/lib/cmserver.py" "${args[@]}" &
    MMX_CM_PID=$!
    ctx_on_exit "kill $MMX_CM_PID"
    ctx_wait_for "the test compute manager" 20 "[ -s '$CTX_WORK/cm.port' ]"
    MMX_CM_PORT=$(cat "$CTX_WORK/cm.port")
    MMX_CM_TLS=$tls
    if [ "$tls" = 1 ]; then MMX_CM="https://127.0.0.1:$MMX_CM_PORT"; else MMX_CM="http://127.0.0.1:$MMX_CM_PORT"; fi
}

mmx_cm_stop() {
    [ -n "$MMX_CM_PID" ] || return 0
    kill "$MMX_CM_PID" 2>/dev/null
    wait "$MMX_CM_PID" 2>/dev/null
    MMX_CM_PID=
}

mmx_cm_cafile() { [ "$MMX_CM_TLS" = 1 ] && echo "--cafile $CTX_WORK/pki/ca.pem"; }

mmx_cm_ctl() {
    # shellcheck disable=SC2046
    /usr/bin/python3 "$top_srcdir/tests/lib/cmserver.py" ctl "$MMX_CM" $(mmx_cm_cafile) "$@" || ctx_fail "cm ctl $*"
}

# mmx_cm_n JQ: a value of the server's counters, e.g. '.total', '.paths["/servers/x"] // 0'
mmx_cm_n() {
    # shellcheck disable=SC2046
    /usr/bin/python3 "$top_srcdir/tests/lib/cmserver.py" counts "$MMX_CM" $(mmx_cm_cafile) | jq -r "$1"
}

mmx_send() {
    /usr/bin/python3 - "$@" <<'PY'
import socket, sys, time
port, n, prefix = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
kv = dict(a.split("=", 1) for a in sys.argv[4:])
sevs = {"emerg": 0, "alert": 1, "crit": 2, "err": 3, "warning": 4, "notice": 5, "info": 6, "debug": 7}
sev_list = kv.get("sev", "info").split(",")
fac = int(kv.get("fac", "1"))
app = kv.get("app", "app")
vms = [v.split(":") for v in kv.get("vms", "").split(",") if v]
tenant = kv.get("tenant", "acme")
extra = kv.get("text", "")
rate = float(kv.get("rate", "0"))
t0 = time.time()
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4 << 20)
ts = time.strftime("%b %e %H:%M:%S")
for i in range(n):
    sev = sev_list[i % len(sev_list)]
    ident = ""
    if vms:
        name, uuid = vms[i % len(vms)]
        ident = f" vm={name} uuid={uuid} tenant={tenant}"
    line = f"<{fac * 8 + sevs[sev]}>{ts} testhost {app}[{1000 + i % 7}]: seq={prefix}{i}{ident}{extra}"
    s.sendto(line.encode(), ("127.0.0.1", port))
    if rate and (rate < 1000 or i % 50 == 49):
        ahead = t0 + (i + 1) / rate - time.time()
        if ahead > 0:
            time.sleep(ahead)
    elif i % 500 == 499:
        time.sleep(0.002)
PY
}

MMX_SET_VM='set $!ctx!vm!name = re_extract($msg, "vm=([^ ]+)", 0, 1, "");
set $!ctx!vm!uuid = re_extract($msg, "uuid=([^ ]+)", 0, 1, "");
set $!ctx!vm!tenant = re_extract($msg, "tenant=([^ ]+)", 0, 1, "");'

# the head of a compute-manager test's config: imudp on 127.0.0.1 port $1, mmctxenrich
# loaded, the check template, and $MMX_SET_VM (the VM named in each message)
mmx_udp_head() {
    cat <<EOF
module(load="imudp")
module(load="@MODDIR@/mmctxenrich/mmctxenrich.so")
input(type="imudp" address="127.0.0.1" port="$1" rcvbufSize="16m")
$CTX_CHECK_TEMPLATE
$MMX_SET_VM
EOF
}

# mmx_run NAME <<PARAMS: the usual test config, started: mmx_udp_head on port $PORT, one
# action(type="mmctxenrich" name="NAME" PARAMS) (PARAMS read from stdin) and the records to
# @WORK@/out (template ctxcheck)
mmx_run() {
    local params
    params=$(cat)
    ctx_conf <<EOF
$(mmx_udp_head "$PORT")
action(type="mmctxenrich" name="$1" $params)
action(type="omfile" file="@WORK@/out" template="ctxcheck")
EOF
    ctx_start
}

# a Nova server object (GET /servers/{id} and /servers/detail, compute API reference):
# id $1, name $2$3 (prefix, number)
mmx_nova_server() {
    printf '{"id": "%s", "name": "%s%s", "tenant_id": "proj-7", "metadata": {"os_distro": "debian-12"},
      "OS-EXT-STS:vm_state": "active", "OS-EXT-SRV-ATTR:host": "compute-1",
      "OS-EXT-SRV-ATTR:hypervisor_hostname": "compute-1.example.net",
      "flavor": {"original_name": "m1.small", "vcpus": 2, "ram": 2048}}' "$1" "$2" "$3"
}

mmx_check() {
    /usr/bin/python3 - "$1" "$2" "$top_srcdir/tests/lib" <<'PY' || ctx_fail "check of $1 failed"
import json, re, sys
sys.path.insert(0, sys.argv[3])
import ctxcheck  # the records' parser and dotted-path lookup
rows = ctxcheck.load_out(sys.argv[1])
for r in rows:
    m = re.search(r"seq=(\S+)", r["msg"])
    r["seq"] = m.group(1) if m else None
by_seq = {r["seq"]: r for r in rows}

def fail(why):
    print("mmx_check: " + why, file=sys.stderr)
    sys.exit(1)

def get(r, path, default=None):  # a dotted path into $!ctx only
    v = ctxcheck.ctx_path(r["ctx"], path)
    return default if v is None else v

exec(sys.argv[2])
PY
}
