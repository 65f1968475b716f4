# bench/imctxcap/setup.sh: sourced by run.sh and callgrind.sh once top, W (a fresh
# directory) and IDX (the VM number) are set. bench_vm NAME adds the sending VM,
# sets HOST and VNIC, writes $W/profiles.json naming it, and arms a cleanup that
# stops rsyslogd ($RPID) and a sink ($SINK), removes the VMs, memory.sh's veth pairs
# and $W, even on failure.
. "$top/tests/lib/vm.sh"
bench_cleanup() {
    [ -n "${RPID:-}" ] && kill "$RPID" 2>/dev/null || true
    [ -n "${SINK:-}" ] && kill "$SINK" 2>/dev/null || true
    local i
    for i in $(seq 1 "${made:-0}"); do ip link del "ctxm$i" 2>/dev/null || true; done # memory.sh's
    ctx_vm_cleanup_all
    rm -rf "$W"
}
bench_vm() {
    trap bench_cleanup EXIT
    trap 'exit 130' INT TERM
    ctx_vm_add "$1" "$IDX" >/dev/null
    HOST=$(ctx_vm_host_ip4 "$IDX") VNIC=$(ctx_vm_vnic "$IDX")
    echo "{\"vms\": [{\"name\": \"$1-vm\", \"tenant\": \"bench\", \"vnic\": \"$VNIC\"}]}" >"$W/profiles.json"
}
