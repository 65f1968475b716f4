#!/bin/bash
# imctxcap_flood.sh with the flooder flooding udp and vm.maxStatsObjects 0: the frames
# over the budget are counted in packets.overbudget.unlisted, no per-VM object (see there)
export CTX_FLOOD=udp CTX_VM_STATS=0 CTX_SUFFIX=_udpu CTX_VM_OFFSET=18
exec bash "$top_srcdir/tests/system/imctxcap_flood.sh"
