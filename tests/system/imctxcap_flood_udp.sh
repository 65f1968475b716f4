#!/bin/bash
# imctxcap_flood.sh with the flooder flooding udp (see there)
export CTX_FLOOD=udp CTX_SUFFIX=_udp CTX_VM_OFFSET=10
exec bash "$top_srcdir/tests/system/imctxcap_flood.sh"
