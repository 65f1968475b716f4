# tests/lib/vm.sh: simulated VMs for system tests and the demo.
#
# A VM is a network namespace "ctxvm-<name>" with a veth pair: the host side is the
# VM's vNIC as a hypervisor shows it (named like libvirt's vnetN), the VM side is
# eth0. Addresses for VM number IDX (1..250):
#   host side 10.231.IDX.1/24  fd42:c7:0:IDX::1/64
#   VM side   10.231.IDX.2/24  fd42:c7:0:IDX::2/64, MAC 52:54:00:c7:00:IDX(hex)
# with default routes via the host side, so that traffic to any address leaves the
# VM and crosses the vNIC. Optional VLAN: the VM's addresses sit on eth0.<vid> and
# the host answers on a VLAN sub-interface named ctxvl<IDX> (not matching vnet*).
# Optional cgroup: a v2 (or v1 cpu,memory) cgroup per VM, for mmctxenrich.
#
# Every namespace, interface and cgroup made here is recorded and removed by
# ctx_vm_cleanup_all (the harness calls it from its EXIT trap).

#
# Twins of a test (e.g. its valgrind twin) that may run at the same time set
# CTX_VM_OFFSET (added to every IDX) and CTX_SUFFIX (appended to every VM name), so
# that they use other namespaces, vNICs and addresses; tests name vNICs with
# ctx_vm_vnic IDX rather than "vnetIDX".

CTX_VMS=()
CTX_VM_CGROUPS=()

ctx_vm_i() { echo $(($1 + ${CTX_VM_OFFSET:-0})); }
ctx_vm_ns() { echo "ctxvm-$1${CTX_SUFFIX:-}"; }
ctx_vm_vnic() { echo "vnet$(ctx_vm_i "$1")"; }
ctx_vm_ip4() { echo "10.231.$(ctx_vm_i "$1").2"; }
ctx_vm_host_ip4() { echo "10.231.$(ctx_vm_i "$1").1"; }
ctx_vm_ip6() { echo "fd42:c7:0:$(ctx_vm_i "$1")::2"; }
ctx_vm_host_ip6() { echo "fd42:c7:0:$(ctx_vm_i "$1")::1"; }
ctx_vm_mac() { printf '52:54:00:c7:00:%02x' "$(ctx_vm_i "$1")"; }
# an address in the VM's subnet that nobody owns; the VM has a permanent neighbour
# entry for it pointing at the host side, so packets to it cross the vNIC and die there
ctx_vm_dead_ip4() { echo "10.231.$(ctx_vm_i "$1").254"; }
ctx_vm_dead_ip6() { echo "fd42:c7:0:$(ctx_vm_i "$1")::fe"; }

# ctx_vm_profiles [--uuid FN] NS:IDX:NAME:TENANT...: under the test harness, each VM added
# (ctx_vm_add NS IDX) and $CTX_WORK/profiles.json listing them as {"name": NAME, ("uuid": the
# output of FN IDX,) "tenant": TENANT, "vnic": its vNIC}
ctx_vm_profiles() {
    local uuidfn="" v ns idx name tenant uuid sep=""
    if [ "$1" = --uuid ]; then uuidfn=$2; shift 2; fi
    for v; do
        IFS=: read -r ns idx name tenant <<<"$v"
        ctx_vm_add "$ns" "$idx" || ctx_fail "VM $ns"
    done
    {
        printf '{"vms": ['
        for v; do
            IFS=: read -r ns idx name tenant <<<"$v"
            uuid=""
            [ -z "$uuidfn" ] || uuid=", \"uuid\": \"$("$uuidfn" "$idx")\""
            printf '%s{"name": "%s"%s, "tenant": "%s", "vnic": "%s"}' "$sep" "$name" "$uuid" "$tenant" "$(ctx_vm_vnic "$idx")"
            sep=$',\n         '
        done
        printf ']}\n'
    } >"$CTX_WORK/profiles.json"
}

# ctx_vm_rsyslogd NAME <<RULES: under the test harness, a guest rsyslogd in VM NAME, reading
# local messages on the VM's 127.0.0.1:5140/udp and acting on them by RULES; its directory
# is $CTX_WORK/guest-NAME; returns once it runs (stopped at the test's end)
ctx_vm_rsyslogd() {
    local gdir="$CTX_WORK/guest-$1"
    mkdir -p "$gdir"
    {
        echo "global(workDirectory=\"$gdir\" processInternalMessages=\"on\")"
        echo 'module(load="imudp")'
        echo 'input(type="imudp" address="127.0.0.1" port="5140")'
        cat
    } >"$gdir/rsyslog.conf"
    ctx_vm_exec "$1" "$RSYSLOGD" -n -f "$gdir/rsyslog.conf" -i "$gdir/pid" >"$gdir/log" 2>&1 &
    ctx_on_exit "kill $!"
    ctx_wait_for "the guest rsyslogd of VM $1" 20 "[ -s '$gdir/pid' ]"
}

# ctx_vm_add NAME IDX [--vnic IFNAME] [--vlan VID] [--cgroup]
ctx_vm_add() {
    # under the test harness (not in scripts/demo.sh or the benchmarks, which check for root themselves)
    if declare -F ctx_need_root >/dev/null; then ctx_need_root "simulated VMs are network namespaces and veth pairs"; fi
    local name=$1 idx=$2
    shift 2
    local vnic vlan="" cg=0
    vnic=$(ctx_vm_vnic "$idx")
    while [ $# -gt 0 ]; do
        case "$1" in
            --vnic) vnic=$2; shift 2 ;;
            --vlan) vlan=$2; shift 2 ;;
            --cgroup) cg=1; shift ;;
            *) echo "ctx_vm_add: unknown option $1" >&2; return 2 ;;
        esac
    done
    local ns
    ns=$(ctx_vm_ns "$name")
    ctx_vm_del "$name" 2>/dev/null || true
    ip link del "$vnic" 2>/dev/null || true
    CTX_VMS+=("$name:$vnic:$idx")
    ip netns add "$ns" || return 1
    ip link add "$vnic" type veth peer name eth0 netns "$ns" || return 1
    ip -n "$ns" link set eth0 address "$(ctx_vm_mac "$idx")"
    ip -n "$ns" link set lo up
    ip -n "$ns" link set eth0 up
    sysctl -qw "net.ipv6.conf.$vnic.accept_ra=0" 2>/dev/null || true
    ip link set "$vnic" up
    local hdev="$vnic" vdev=eth0
    if [ -n "$vlan" ]; then
        hdev="ctxvl$(ctx_vm_i "$idx")"
        vdev="eth0.$vlan"
        ip link add link "$vnic" name "$hdev" type vlan id "$vlan" || return 1
        ip link set "$hdev" up
        ip -n "$ns" link add link eth0 name "$vdev" type vlan id "$vlan" || return 1
        ip -n "$ns" link set "$vdev" up
    fi
    ip addr add "$(ctx_vm_host_ip4 "$idx")/24" dev "$hdev"
    ip addr add "$(ctx_vm_host_ip6 "$idx")/64" dev "$hdev" nodad
    ip -n "$ns" addr add "$(ctx_vm_ip4 "$idx")/24" dev "$vdev"
    ip -n "$ns" addr add "$(ctx_vm_ip6 "$idx")/64" dev "$vdev" nodad
    ip -n "$ns" route add default via "$(ctx_vm_host_ip4 "$idx")"
    ip -n "$ns" -6 route add default via "$(ctx_vm_host_ip6 "$idx")"
    local hmac
    hmac=$(cat "/sys/class/net/$hdev/address")
    ip -n "$ns" neigh replace "$(ctx_vm_dead_ip4 "$idx")" lladdr "$hmac" nud permanent dev "$vdev"
    ip -n "$ns" -6 neigh replace "$(ctx_vm_dead_ip6 "$idx")" lladdr "$hmac" nud permanent dev "$vdev"
    [ "$cg" = 1 ] && ctx_vm_cgroup "$name" >/dev/null
    return 0
}

ctx_vm_exec() {
    local ns
    ns=$(ctx_vm_ns "$1")
    shift
    ip netns exec "$ns" "$@"
}

# ctx_vm_cgroup NAME: make a cgroup for the VM; prints its path (v2 if the unified
# hierarchy has the cpu controller, else v1 cpuacct+memory); CTX_VM_CG_<name> holds it
ctx_vm_cgroup() {
    local name=$1 path
    if [ -f /sys/fs/cgroup/cgroup.controllers ]; then
        path=/sys/fs/cgroup/ctxlog-test/$name
        mkdir -p /sys/fs/cgroup/ctxlog-test
        echo "+cpu +memory" >/sys/fs/cgroup/ctxlog-test/cgroup.subtree_control 2>/dev/null || true
    elif [ -d /sys/fs/cgroup/cpuacct ]; then
        path=/sys/fs/cgroup/cpuacct/ctxlog-test/$name
        mkdir -p /sys/fs/cgroup/memory/ctxlog-test/"$name"
        CTX_VM_CGROUPS+=(/sys/fs/cgroup/memory/ctxlog-test/"$name")
    else
        path=/sys/fs/cgroup/unified/ctxlog-test/$name
    fi
    mkdir -p "$path"
    CTX_VM_CGROUPS+=("$path")
    eval "CTX_VM_CG_${name//-/_}=$path"
    echo "$path"
}

ctx_vm_del() {
    local ns
    ns=$(ctx_vm_ns "$1")
    ip netns pids "$ns" 2>/dev/null | xargs -r kill -9 2>/dev/null || true
    ip netns del "$ns" 2>/dev/null
}

ctx_vm_cleanup_all() {
    local e name vnic idx
    for e in "${CTX_VMS[@]}"; do
        IFS=: read -r name vnic idx <<<"$e"
        ctx_vm_del "$name" 2>/dev/null || true
        ip link del "$vnic" 2>/dev/null || true
        ip link del "ctxvl$(ctx_vm_i "$idx")" 2>/dev/null || true
    done
    CTX_VMS=()
    local i
    for ((i = ${#CTX_VM_CGROUPS[@]} - 1; i >= 0; i--)); do
        local cg=${CTX_VM_CGROUPS[$i]}
        if [ -f "$cg/cgroup.procs" ]; then
            while read -r p; do kill -9 "$p" 2>/dev/null || true; done <"$cg/cgroup.procs"
        fi
        rmdir "$cg" 2>/dev/null || true
    done
    CTX_VM_CGROUPS=()
}
