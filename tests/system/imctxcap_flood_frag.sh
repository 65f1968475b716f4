#!/bin/bash
# imctxcap_flood.sh with the flooder flooding frag (see there)
export CTX_FLOOD=frag CTX_SUFFIX=_frag CTX_VM_OFFSET=8
exec bash "$top_srcdir/tests/system/imctxcap_flood.sh"
