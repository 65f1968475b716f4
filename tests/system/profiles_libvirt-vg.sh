#!/bin/bash
# valgrind twin of profiles_libvirt.sh: same scenario, rsyslogd under memcheck (the
# libvirt watcher, event loop, reconnect and the registry shared by two modules)
export CTXLOG_VALGRIND=1 CTX_SUFFIX=_vg CTX_VM_OFFSET=100 CTX_START_TIMEOUT=90
exec bash "$top_srcdir/tests/system/profiles_libvirt.sh"
