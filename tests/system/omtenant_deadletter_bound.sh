#!/bin/bash
# A tenant's server that answers 400 to everything cannot fill the host's disk: its
# dead-letter file rotates at deadletter.maxSize, deadletter.rotate older files are
# kept, the oldest deleted; counted (deadletter.bytes, deadletter.rotations). What
# remains on disk is the newest rejected messages, in order, with no gap.
. "$top_srcdir/tests/lib/harness.sh"
. "$top_srcdir/tests/system/omtenant_common.sh"
ctx_init "omtenant_deadletter_bound${CTX_SUFFIX:-}"
omt_certs
echo 400 >"$CTX_WORK/mode"
omt_receiver_tenant B 50 100 --mode-file "$CTX_WORK/mode"
omt_run 'backoff.initial="100" backoff.max="400" deadletter.maxSize="64k" deadletter.rotate="1"'
DL="$CTX_WORK/omtenant-deadletter/B.deadletter"
N=2000
omt_send "$PS" "B:1:$N"
ctx_wait_stat "omtenant(B)" deadletter.msgs "$N" 90
ctx_stop
rot=$(ctx_stat "omtenant(B)" deadletter.rotations)
[ "$rot" -ge 2 ] || ctx_fail "expected at least 2 rotations of a 64k file for $N messages, got $rot"
[ -f "$DL" ] && [ -f "$DL.1" ] || ctx_fail "expected $DL and $DL.1"
[ ! -e "$DL.2" ] || ctx_fail "$DL.2 exists: deadletter.rotate=1 keeps one older file"
for f in "$DL" "$DL.1"; do
    s=$(stat -c %s "$f")
    [ "$s" -le 65536 ] || ctx_fail "$f is $s bytes, over deadletter.maxSize (65536)"
done
# the two files hold the newest messages: consecutive sequence numbers ending at N
$OMT_PY - "$DL.1" "$DL" "$N" <<'PY' || ctx_fail "dead-letter contents"
import json, re, sys
seqs = []
for path in sys.argv[1:3]:
    data, pos = open(path, "rb").read(), 0
    while pos < len(data):
        nl = data.index(b"\n", pos)
        h = json.loads(data[pos:nl])["deadletter"]
        body = data[nl + 1:nl + 1 + h["bytes"]]
        seqs += [int(m) for m in re.findall(rb"seq=B-(\d+)", body)]
        pos = nl + 2 + h["bytes"]
n = int(sys.argv[3])
assert seqs, "no messages"
assert seqs == list(range(seqs[0], n + 1)), "not consecutive up to %d: %s..%s (%d)" % (n, seqs[:3], seqs[-3:], len(seqs))
print("kept", len(seqs), "newest of", n)
PY
total=$(($(stat -c %s "$DL") + $(stat -c %s "$DL.1")))
bytes=$(ctx_stat "omtenant(B)" deadletter.bytes)
[ "$bytes" -gt "$total" ] || ctx_fail "deadletter.bytes ($bytes) should count also what rotated away (on disk: $total)"
ctx_pass "$N rejected messages: dead-letter file rotated $rot times at 64k, 2 files kept ($total bytes), newest messages in order"
