#!/bin/bash
# valgrind twin of imctxcap_raw.sh (fragments, VLAN, truncation, malformed packets)
export CTXLOG_VALGRIND=1 CTX_SUFFIX=_vg CTX_VM_OFFSET=100 CTX_START_TIMEOUT=60
exec bash "$top_srcdir/tests/system/imctxcap_raw.sh"
