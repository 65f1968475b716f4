#!/bin/bash
# valgrind twin of imctxcap_tcp_senders.sh: same scenario, rsyslogd under memcheck
export CTXLOG_VALGRIND=1 CTX_SUFFIX=_vg CTX_VM_OFFSET=10 CTX_N=3 CTX_START_TIMEOUT=60
exec bash "$top_srcdir/tests/system/imctxcap_tcp_senders.sh"
