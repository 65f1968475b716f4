#!/bin/bash
# valgrind twin of omtenant_basic.sh: same scenario, rsyslogd under memcheck
export CTXLOG_VALGRIND=1 CTX_SUFFIX=_vg CTX_VM_OFFSET=10 CTX_N=100 CTX_START_TIMEOUT=60
exec bash "$top_srcdir/tests/system/omtenant_basic.sh"
