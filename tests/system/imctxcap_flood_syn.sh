#!/bin/bash
# imctxcap_flood.sh with the flooder flooding syn (see there)
export CTX_FLOOD=syn CTX_SUFFIX=_syn CTX_VM_OFFSET=6
exec bash "$top_srcdir/tests/system/imctxcap_flood.sh"
