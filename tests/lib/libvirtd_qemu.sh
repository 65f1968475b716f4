# shellcheck shell=bash
# libvirtd_qemu.sh: Debian's libvirtd with its qemu driver, for what libvirt's test
# driver cannot do (device attach / detach, migration). No /dev/kvm here: domains are
# <domain type='qemu'> (TCG). Each "host" is a libvirtd of its own whose /run/libvirt,
# /var/lib/libvirt, /var/cache/libvirt, /var/log/libvirt and /etc/libvirt are
# directories of the test (bind mounts), with its own host UUID (libvirt refuses to
# migrate to a host with the same one):
# - the first host started in the test's own mount namespace: qemu:///system is it, for virsh and
#   rsyslogd alike;
# - any other in a mount namespace of its own, reached through its socket
#   (qemu+unix:///system?socket=...).
# All share the test's (own) network namespace: libvirt names their taps vnetN,
# skipping names in use, so a domain migrated between them gets a tap of its own.
# qemu runs as root without a security driver or cgroups (libvirt-qemu, the user
# libvirt-daemon-system would add, is added in the test's mount namespace only).
# Source after harness.sh:
#   ctx_init ...; ctx_need_root ...
#   lvq_own_namespaces SCRIPT  # the test again, in mount and network namespaces of its own
#   lvq_setup; lvq_start h1 UUID1; lvq_start h2 UUID2; lvq_must h1 create X.xml ...
#   (${LVQ_URI[h2]}: h2's URI)
# lvq_stop (on exit) destroys every domain, stops the daemons, ends their qemus.

# lvq_own_namespaces SCRIPT: runs SCRIPT again (from its start) in a mount and a network
# namespace of its own, once; after ctx_init and ctx_need_root (exec: the first run's
# exit trap does not run). Its taps (vnetN), simulated VMs and captures meet no other
# test's, even under a parallel make check outside scripts/in-private-net.sh.
lvq_own_namespaces() {
    [ "${CTX_LVQ_NS:-}" = 1 ] && return 0
    # sysfs of the new network namespace (/sys/class/net), the same cgroups (as
    # scripts/in-private-net.sh)
    CTX_LVQ_NS=1 exec unshare --mount --net --propagation private -- /bin/bash -c '
        mkdir -p /run/ctxlog-cgroup && mount --rbind /sys/fs/cgroup /run/ctxlog-cgroup &&
        mount -t sysfs sysfs /sys && mount --move /run/ctxlog-cgroup /sys/fs/cgroup &&
        ip link set lo up && exec /bin/bash "$0"' "$1"
}

LVQ_HOSTS=()
declare -A LVQ_PID LVQ_EV LVQ_URI

lvq_setup() {
    [ "${CTX_LVQ_NS:-}" = 1 ] || ctx_fail "lvq_own_namespaces first"
    local c
    for c in libvirtd virsh qemu-system-x86_64 unshare; do
        command -v $c >/dev/null || ctx_fail "$c is needed (scripts/deps.txt)"
    done
    ls /usr/lib/*/libvirt/connection-driver/libvirt_driver_qemu.so >/dev/null 2>&1 ||
        ctx_fail "libvirt's qemu driver is needed (libvirt-daemon-driver-qemu, scripts/deps.txt)"
    LVQ="$CTX_WORK/lvq"
    mkdir -p "$LVQ"
    if ! getent passwd libvirt-qemu >/dev/null; then
        cp /etc/passwd "$LVQ/passwd" && cp /etc/group "$LVQ/group" || ctx_fail "passwd"
        echo "libvirt-qemu:x:64055:64055:libvirt (ctxlog test):/var/lib/libvirt:/usr/sbin/nologin" >>"$LVQ/passwd"
        getent group libvirt-qemu >/dev/null || echo "libvirt-qemu:x:64055:" >>"$LVQ/group"
        getent group kvm >/dev/null || echo "kvm:x:64056:" >>"$LVQ/group"
        mount --bind "$LVQ/passwd" /etc/passwd && mount --bind "$LVQ/group" /etc/group || ctx_fail "mount passwd"
    fi
    # the mount points (without libvirt-daemon-system there is no /run/libvirt until a
    # libvirtd makes it; left in place: a test running beside may have mounted on it)
    mkdir -p /run/libvirt /var/lib/libvirt /var/cache/libvirt /var/log/libvirt /etc/libvirt || ctx_fail "mkdir"
    ctx_on_exit lvq_stop
}

# lvq_start HOST UUID: the host's libvirtd, ready, with an event logger ($LVQ/HOST/events.log)
lvq_start() {
    local h=$1 d="$LVQ/$1"
    mkdir -p "$d/etc" "$d/run" "$d/lib" "$d/cache" "$d/log"
    cat >"$d/etc/libvirtd.conf" <<CONF
auth_unix_ro = "none"
auth_unix_rw = "none"
host_uuid = "$2"
log_outputs = "3:file:$d/libvirtd.log"
CONF
    cat >"$d/etc/qemu.conf" <<CONF
user = "root"
group = "root"
security_driver = "none"
namespaces = [ ]
cgroup_controllers = [ ]
stdio_handler = "file"
remember_owner = 0
CONF
    if [ ${#LVQ_HOSTS[@]} = 0 ]; then
        LVQ_URI[$h]=qemu:///system
        lvq_binds "$h" || ctx_fail "$h: bind mounts"
    else
        LVQ_URI[$h]="qemu+unix:///system?socket=$d/run/libvirt-sock"
    fi
    LVQ_HOSTS+=("$h")
    lvq_daemon "$h"
    local uri=${LVQ_URI[$h]}
    # every event the daemon sends, as virsh sees them; following once a probe domain's
    # define and undefine show
    virsh -c "$uri" event --all --loop --timestamp >>"$d/events.log" 2>&1 &
    LVQ_EV[$h]=$!
    lvq_domain probe 6f1c2a4e-0b7d-4c1e-9a8f-00000000b0b0 "" "" >"$d/probe.xml"
    ctx_wait_for "$h's event logger" 20 "lvq_vsh $h define '$d/probe.xml' && lvq_vsh $h undefine probe &&
        grep -q \"domain 'probe': Undefined\" '$d/events.log'"
}

# lvq_binds HOST: HOST's directories bind-mounted as libvirt's own
lvq_binds() {
    local d="$LVQ/$1"
    mount --bind "$d/run" /run/libvirt && mount --bind "$d/lib" /var/lib/libvirt &&
        mount --bind "$d/cache" /var/cache/libvirt && mount --bind "$d/log" /var/log/libvirt &&
        mount --bind "$d/etc" /etc/libvirt
}
# lvq_daemon HOST: HOST's libvirtd (the first host's in this mount namespace, another's
# in one of its own), answering
lvq_daemon() {
    local h=$1 d="$LVQ/$1"
    if [ "${LVQ_URI[$h]}" = qemu:///system ]; then
        libvirtd -f /etc/libvirt/libvirtd.conf -p /run/libvirt/libvirtd.pid >>"$d/daemon.out" 2>&1 &
    else
        unshare --mount --propagation private -- /bin/bash -c "$(declare -f lvq_binds); LVQ='$LVQ'; lvq_binds $h &&
            exec libvirtd -f /etc/libvirt/libvirtd.conf -p /run/libvirt/libvirtd.pid" >>"$d/daemon.out" 2>&1 &
    fi
    LVQ_PID[$h]=$!
    ctx_wait_for "libvirtd $h" 60 "! kill -0 ${LVQ_PID[$h]} 2>/dev/null || virsh -q -c '${LVQ_URI[$h]}' list >/dev/null 2>&1"
    kill -0 "${LVQ_PID[$h]}" 2>/dev/null || ctx_fail "libvirtd $h exited: $(tail -n 5 "$d/libvirtd.log" "$d/daemon.out")"
}
# lvq_kill HOST: HOST's libvirtd stopped (its qemus keep running; lvq_daemon HOST starts
# it again on the same state), and its event logger (the daemon's events between are
# not logged)
lvq_kill() {
    local h=$1
    kill "${LVQ_EV[$h]}" 2>/dev/null && wait "${LVQ_EV[$h]}" 2>/dev/null
    LVQ_EV[$h]=
    kill "${LVQ_PID[$h]}" && wait "${LVQ_PID[$h]}" 2>/dev/null
}

# lvq_vsh HOST ARGS...: virsh on HOST (output in $LVQ/HOST/virsh.out); returns its status
lvq_vsh() {
    local h=$1
    shift
    virsh -q -c "${LVQ_URI[$h]}" "$@" >>"$LVQ/$h/virsh.out" 2>&1
}
# lvq_must HOST ARGS...: virsh on HOST, or the test fails with virsh's words
lvq_must() { lvq_vsh "$@" || ctx_fail "virsh on $1: ${*:2}: $(tail -n 2 "$LVQ/$1/virsh.out")"; }

# lvq_events HOST KINDS: how many events of KINDS (an ERE: lifecycle|device-added...)
# HOST's daemon sent for other domains than the probe
lvq_events() {
    grep -v "domain 'probe'" "$LVQ/$1/events.log" | grep -cE "event '($2)' for domain"
}

# lvq_domain NAME UUID METADATA DEVICES [OS]: a TCG domain (32 MiB, no disk, no display)
lvq_domain() {
    cat <<XML
<domain type='qemu'>
  <name>$1</name><uuid>$2</uuid><memory unit='MiB'>${LVQ_MEM_MIB:-32}</memory>
  <metadata>$3</metadata>
  <os><type arch='x86_64' machine='pc'>hvm</type>${5:-}</os>
  <features><acpi/></features>
  <devices>
    <emulator>$(command -v qemu-system-x86_64)</emulator>
    <video><model type='none'/></video><memballoon model='none'/>
    <serial type='file'><source path='$LVQ/$1.console'/></serial>
    $4
  </devices>
</domain>
XML
}

lvq_stop() {
    local i h d pids="" p dom
    for ((i = ${#LVQ_HOSTS[@]} - 1; i >= 0; i--)); do
        h=${LVQ_HOSTS[$i]} d="$LVQ/${LVQ_HOSTS[$i]}"
        for p in "$d"/run/qemu/*.pid; do [ -s "$p" ] && pids="$pids $(cat "$p")"; done
        if kill -0 "${LVQ_PID[$h]}" 2>/dev/null; then
            for dom in $(virsh -q -c "${LVQ_URI[$h]}" list --name 2>/dev/null); do
                timeout 20 virsh -q -c "${LVQ_URI[$h]}" destroy "$dom" >/dev/null 2>&1
            done
        fi
        [ -n "${LVQ_EV[$h]}" ] && kill "${LVQ_EV[$h]}" 2>/dev/null && wait "${LVQ_EV[$h]}" 2>/dev/null
        kill "${LVQ_PID[$h]}" 2>/dev/null && wait "${LVQ_PID[$h]}" 2>/dev/null
    done
    # a qemu its daemon could not end (by the pid libvirt wrote for it)
    for p in $pids; do
        [ "$(readlink "/proc/$p/exe" 2>/dev/null)" = "$(command -v qemu-system-x86_64)" ] && kill -9 "$p"
    done
    LVQ_HOSTS=()
}
