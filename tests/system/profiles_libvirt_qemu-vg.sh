#!/bin/bash
# valgrind twin of profiles_libvirt_qemu.sh: same scenario, rsyslogd under memcheck (the
# watcher's device-added / -removed callbacks, two sources, a reconnect to a libvirtd
# whose domain outlived it). VM offset 0: the test has network and mount namespaces of
# its own (its guest's MACs are those of VMs 248 and 249).
export CTXLOG_VALGRIND=1 CTX_SUFFIX=_vg CTX_VM_OFFSET=0 CTX_START_TIMEOUT=90
exec bash "$top_srcdir/tests/system/profiles_libvirt_qemu.sh"
