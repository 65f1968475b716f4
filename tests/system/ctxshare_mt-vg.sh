#!/bin/bash
# valgrind twin of ctxshare_mt.sh: same scenario, rsyslogd under memcheck
export CTXLOG_VALGRIND=1 CTX_SUFFIX=_vg CTX_START_TIMEOUT=60 CTX_N=${CTX_N:-1200} CTX_WAIT=${CTX_WAIT:-400}
exec bash "$top_srcdir/tests/system/ctxshare_mt.sh"
