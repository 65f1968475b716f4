#!/bin/bash
# scripts/demo.sh [--keep] [--vms N] [--messages N] [--isolate]
# A small datacenter on this machine: VMs as network namespaces with libvirt-like
# vNICs, guests sending syslog with util-linux logger (one of them to an address
# where nothing listens), and the host's rsyslogd (Debian's) running the drop-in
# from conf-examples/ with ctxlog's modules from this build tree. Prints what
# arrived, with each VM's identity, then tears everything down (also on Ctrl-C or
# error) unless --keep is given. Run as root after a build (./bootstrap demo does both).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
keep=0 nvms=4 nmsg=25 isolate=0
while [ $# -gt 0 ]; do
    case "$1" in
        --keep) keep=1; shift ;;
        --vms) nvms=$2; shift 2 ;;
        --messages) nmsg=$2; shift 2 ;;
        --isolate) isolate=1; shift ;; # capture only the demo's vNICs (when tests run beside it)
        --stop) [ -f /tmp/ctxlog-demo/stop.sh ] && exec bash /tmp/ctxlog-demo/stop.sh; echo "no demo running"; exit 0 ;;
        *) echo "usage: $0 [--keep] [--vms N (2..18)] [--messages N]" >&2; exit 2 ;;
    esac
done
[ "$nvms" -ge 2 ] && [ "$nvms" -le 18 ] || { echo "--vms: 2..18" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "demo: run as root (namespaces, packet capture)" >&2; exit 1; }
[ -f "$top/plugins/imctxcap/imctxcap.so" ] || { echo "demo: build first (./bootstrap build)" >&2; exit 1; }

DEMO=/tmp/ctxlog-demo
. "$top/tests/lib/vm.sh"
RSYSLOGD=${RSYSLOGD:-/usr/sbin/rsyslogd}
if [ -t 1 ]; then JQC=-C; bold() { printf '\033[1m%s\033[0m\n' "$*"; }; else JQC=-M; bold() { printf '%s\n' "$*"; }; fi
say() { printf '%s\n' "$*"; }

cleanup() {
    [ -f "$DEMO/rsyslogd.pid" ] && kill "$(cat "$DEMO/rsyslogd.pid")" 2>/dev/null || true
    ctx_vm_cleanup_all
}
if [ -f "$DEMO/stop.sh" ]; then bash "$DEMO/stop.sh" >/dev/null 2>&1 || true; fi
rm -rf "$DEMO"
mkdir -p "$DEMO/etc" "$DEMO/log" "$DEMO/work"
trap 'cleanup' EXIT
trap 'echo; echo "interrupted: tearing down"; exit 130' INT TERM

# ---- the VMs: two tenants; the last VM is "misconfigured" (sends to a dead address)
tenants=(acme globex)
bold "== creating $nvms VMs (network namespaces, vNICs vnet11..)"
vms_json=""
for i in $(seq 1 "$nvms"); do
    idx=$((10 + i)) t=${tenants[$(((i - 1) % 2))]}
    name=$(printf '%s-vm%02d' "$t" "$i")
    ctx_vm_add "demo$i" "$idx"
    uuid=$(printf '5eb1c0de-0000-4000-8000-%012d' "$idx")
    vms_json+="${vms_json:+,}
    {\"name\": \"$name\", \"uuid\": \"$uuid\", \"tenant\": \"$t\", \"user\": \"owner-$t\",
     \"vnic\": \"$(ctx_vm_vnic "$idx")\", \"mac\": \"$(ctx_vm_mac "$idx")\", \"ipv4\": \"$(ctx_vm_ip4 "$idx")\"}"
    say "   $name  tenant=$t  vNIC=$(ctx_vm_vnic "$idx")  ip=$(ctx_vm_ip4 "$idx")"
done
printf '{"vms": [%s\n]}\n' "$vms_json" >"$DEMO/etc/profiles.json"

# ---- the host's rsyslogd: a private main config that includes the drop-in from conf-examples/
sed -e "s|module(load=\"imctxcap\")|module(load=\"$top/plugins/imctxcap/imctxcap.so\")|" \
    -e "s|/etc/ctxlog/|$DEMO/etc/|g" -e "s|/var/log/ctxlog/|$DEMO/log/|g" \
    "$top/conf-examples/50-ctxlog.conf" >"$DEMO/etc/50-ctxlog.conf"
if [ "$isolate" = 1 ]; then
    own=$(for i in $(seq 1 "$nvms"); do printf '%s,' "$(ctx_vm_vnic $((10 + i)))"; done)
    sed -i "s|interface=\"vnet\*,tap\*\"|interface=\"${own%,}\"|" "$DEMO/etc/50-ctxlog.conf"
fi
cat >"$DEMO/etc/rsyslog.conf" <<EOF
global(workDirectory="$DEMO/work" processInternalMessages="on")
module(load="impstats" interval="1" format="json" log.syslog="off" log.file="$DEMO/log/impstats.json")
if \$inputname == "rsyslogd" then { action(type="omfile" file="$DEMO/log/rsyslogd.log") stop }
include(file="$DEMO/etc/50-ctxlog.conf")
EOF
bold "== validating the config: rsyslogd -N1"
"$RSYSLOGD" -N1 -f "$DEMO/etc/rsyslog.conf" 2>&1 | sed "s/^/   /" || { echo "demo: the config does not validate" >&2; exit 1; }
bold "== starting the host's rsyslogd ($RSYSLOGD) with imctxcap"
"$RSYSLOGD" -n -f "$DEMO/etc/rsyslog.conf" -i "$DEMO/rsyslogd.pid" >"$DEMO/log/rsyslogd.stderr" 2>&1 &
stat() { grep -F "\"name\": \"imctxcap(vms)\"" "$DEMO/log/impstats.json" 2>/dev/null | tail -1 | sed 's/^[^{]*//' | jq -r ".\"$1\" // 0"; }
for _ in $(seq 1 200); do [ "$(stat interfaces.attached)" = "$nvms" ] && break; sleep 0.05; done
say "   attached vNICs: $(stat interfaces.attached)"

# ---- traffic
bold "== the guests send syslog ($nmsg messages each, all severities)"
sevs=(emerg alert crit err warning notice info debug)
sent_total=0
for m in $(seq 1 "$nmsg"); do
    for i in $(seq 1 "$nvms"); do
        idx=$((10 + i))
        dst=$(ctx_vm_host_ip4 "$idx")
        [ "$i" = "$nvms" ] && dst=$(ctx_vm_dead_ip4 "$idx") # misconfigured guest: nobody listens there
        sev=${sevs[$(((m + i) % 8))]}
        ctx_vm_exec "demo$i" logger --udp -n "$dst" -P 514 -t "app$i" -p "user.$sev" \
            "demo message $m from guest $i (seq=$i-$m)"
        sent_total=$((sent_total + 1))
    done
    printf '\r   sent %d/%d  captured %s' "$sent_total" $((nmsg * nvms)) "$(stat msgs.submitted)"
done
for _ in $(seq 1 100); do
    [ "$(wc -l <"$DEMO/log/vms.json" 2>/dev/null || echo 0)" -ge "$sent_total" ] && [ "$(stat msgs.submitted)" -ge "$sent_total" ] && break
    sleep 0.1
done
printf '\r   sent %d  captured %s  written %s\n' "$sent_total" "$(stat msgs.submitted)" "$(wc -l <"$DEMO/log/vms.json")"

# ---- report
bold "== what arrived, per tenant"
for t in "${tenants[@]}"; do
    sent=0
    for i in $(seq 1 "$nvms"); do [ "${tenants[$(((i - 1) % 2))]}" = "$t" ] && sent=$((sent + nmsg)); done
    got=$(jq -r "select(.ctx.vm.tenant == \"$t\") | .msg" "$DEMO/log/vms.json" | wc -l)
    say "   tenant $t: sent $sent, received $got"
done
bold "== a message from the misconfigured guest (sent to $(ctx_vm_dead_ip4 $((10 + nvms))), where nothing listens)"
jq -c "select(.ctx.capture.dst == \"$(ctx_vm_dead_ip4 $((10 + nvms)))\")" "$DEMO/log/vms.json" | sed -n 1p | jq $JQC .
bold "== imctxcap counters (impstats)"
grep -F '"name": "imctxcap(vms)"' "$DEMO/log/impstats.json" | tail -1 | sed 's/^[^{]*//' | jq $JQC .
say "full output: $DEMO/log/vms.json (one JSON object a line), rsyslogd's own log: $DEMO/log/rsyslogd.log"

if [ "$keep" = 1 ]; then
    {
        echo "kill \$(cat $DEMO/rsyslogd.pid) 2>/dev/null || true"
        for i in $(seq 1 "$nvms"); do echo "ip netns del $(ctx_vm_ns "demo$i") 2>/dev/null || true"; echo "ip link del $(ctx_vm_vnic $((10 + i))) 2>/dev/null || true"; done
        echo "rm -f $DEMO/stop.sh; echo 'demo stopped'"
    } >"$DEMO/stop.sh"
    trap - EXIT
    bold "== the datacenter keeps running (--keep)"
    say "   watch:      tail -f $DEMO/log/vms.json | jq ."
    say "   send more:  ip netns exec $(ctx_vm_ns demo1) logger --udp -n $(ctx_vm_host_ip4 11) -P 514 hello"
    say "   stop:       $0 --stop"
fi
