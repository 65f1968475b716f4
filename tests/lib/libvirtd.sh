# libvirtd.sh: Debian's libvirtd for system tests, with libvirt's test driver only
# (no KVM here): test:///default lives in the daemon, so virsh (the test's hand) and
# rsyslogd see the same domains and events. Source after harness.sh and ctx_init:
#   lv_setup; lv_start; vsh define X.xml; ... (lv_stop runs on exit)
# LV (the daemon's directory) and URI are set by lv_setup.

# the daemon's configuration, the probe domain, the exit trap
lv_setup() {
    command -v libvirtd >/dev/null && command -v virsh >/dev/null || ctx_fail "libvirtd and virsh are needed (scripts/deps.txt)"
    LV="$CTX_WORK/lv"
    mkdir -p "$LV/run" "$LV/nodrivers"
    cat >"$LV/libvirtd.conf" <<CONF
unix_sock_dir = "$LV/run"
auth_unix_ro = "none"
auth_unix_rw = "none"
log_outputs = "3:file:$LV/libvirtd.log"
CONF
    URI="test+unix:///default?socket=$LV/run/libvirt-sock"
    LVPID= HOLDER=
    lv_domain probe 6f1c2a4e-0b7d-4c1e-9a8f-2d3b4c5d6eff tap-probe 52:54:00:00:00:01 "" >"$LV/probe.xml"
    ctx_on_exit lv_stop
}
# libvirtd without its hypervisor drivers: the test driver is in libvirt itself
lv_start() {
    rm -f "$LV/run/libvirt-sock"
    LIBVIRT_DRIVER_DIR="$LV/nodrivers" libvirtd -f "$LV/libvirtd.conf" -p "$LV/run/pid" >>"$LV/daemon.out" 2>&1 &
    LVPID=$!
    ctx_wait_for "libvirtd" 20 "[ -S '$LV/run/libvirt-sock' ] && virsh -q -c '$URI' list >/dev/null 2>&1"
    # test:///default lives while a connection holds it: keep one open; it logs every
    # event libvirt sends (lv_events counts them)
    virsh -c "$URI" event --all --loop >>"$LV/events.log" 2>&1 &
    HOLDER=$!
    # held once a domain defined by another connection outlives it
    ctx_wait_for "the holding connection" 20 "virsh -q -c '$URI' define '$LV/probe.xml' >/dev/null 2>&1 &&
        virsh -q -c '$URI' domstate probe >/dev/null 2>&1"
    vsh undefine probe
}
lv_stop() {
    [ -n "$HOLDER" ] && kill "$HOLDER" 2>/dev/null && wait "$HOLDER" 2>/dev/null
    [ -n "$LVPID" ] && kill "$LVPID" 2>/dev/null && wait "$LVPID" 2>/dev/null
    HOLDER= LVPID=
}
vsh() { virsh -q -c "$URI" "$@" >>"$LV/virsh.out" 2>&1 || ctx_fail "virsh $*: $(tail -n 2 "$LV/virsh.out")"; }
# lv_domain NAME UUID VNIC MAC METADATA [TYPE [MORE-DEVICES]]: a domain's XML
lv_domain() {
    cat <<XML
<domain type='${6:-test}'>
  <name>$1</name><uuid>$2</uuid><memory>65536</memory><os><type>hvm</type></os>
  <metadata>$5</metadata>
  <devices><interface type='ethernet'><mac address='$4'/><target dev='$3'/></interface>${7:-}</devices>
</domain>
XML
}
