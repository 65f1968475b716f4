#!/bin/bash
# valgrind twin of omtenant_fmt_hup.sh: the transports kept across a format change are used and freed cleanly
export CTXLOG_VALGRIND=1 CTX_SUFFIX=_vg CTX_START_TIMEOUT=60
exec bash "$top_srcdir/tests/system/omtenant_fmt_hup.sh"
