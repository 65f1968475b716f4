#!/bin/bash
# imctxcap_raw.sh with workers=2: the fragment cases (in order, reversed, shuffled,
# overlapping, oversize) through a PACKET_FANOUT group, reassembled by the workers
export CTX_WORKERS=2 CTX_SUFFIX=_w2 CTX_VM_OFFSET=120
exec bash "$top_srcdir/tests/system/imctxcap_raw.sh"
