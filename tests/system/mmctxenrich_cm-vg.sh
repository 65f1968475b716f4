#!/bin/bash
# valgrind twin of mmctxenrich_cm.sh: same scenario (fetcher threads, TLS, cache), rsyslogd under memcheck
export CTXLOG_VALGRIND=1 CTX_SUFFIX=_vg CTX_VM_OFFSET=10 CTX_N=1000 CTX_START_TIMEOUT=60
exec bash "$top_srcdir/tests/system/mmctxenrich_cm.sh"
