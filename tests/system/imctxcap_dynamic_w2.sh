#!/bin/bash
# imctxcap_dynamic.sh with workers=2: vNICs attached and detached at run time by each
# worker's own filter, the gauge counting a vNIC once both workers have it
export CTX_WORKERS=2 CTX_SUFFIX=_w2 CTX_VM_OFFSET=120
exec bash "$top_srcdir/tests/system/imctxcap_dynamic.sh"
