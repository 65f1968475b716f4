#!/bin/bash
# omtenant's OTLP formats end to end (issue 17): three VMs (namespaces) send numbered RFC
# 5424 messages over UDP; Debian's rsyslogd captures them on the vNICs (imctxcap), enriches
# them (mmctxenrich, default policy: `standard`) and omtenant delivers each tenant to an
# OTLP/HTTP receiver that decodes every request with the official protos
# (tests/system/otlp_receiver.py):
#  - initech (VMs otla, otlb): format otlp (protobuf, zstd), one batch of both VMs'
#    600 messages (sealed by count): exactly two ResourceLogs, one per VM, each VM's
#    records in the order sent;
#  - hooli (VM otlc): format otlp-json (gzip), batches of 40; the receiver answers
#    partial_success for the records carrying REJECTME (every 45th): those batches go to
#    the dead-letter file whole, with the rejected count, and are never resent.
# Every message is checked by sequence number (once), with every field and attribute and
# its VM's resource attributes; no batch has two ResourceLogs of one VM; no secret leaves
# the host; the counters agree (impstats).
. "$top_srcdir/tests/lib/harness.sh"
. "$top_srcdir/tests/system/omtenant_common.sh"
ctx_init "omtenant_otlp${CTX_SUFFIX:-}"
N=${CTX_N:-300}
uuid() { printf '7e7e7e7e-1111-4222-8333-4444444444%02d' "$1"; }
ctx_vm_profiles --uuid uuid otla:71:otl-a:initech otlb:72:otl-b:initech otlc:73:otl-c:hooli
omt_certs
RCV="$top_srcdir/tests/system/otlp_receiver.py"
OMT_RECEIVER=$RCV omt_receiver_start I
OMT_RECEIVER=$RCV omt_receiver_start H --reject-marker REJECTME
M=$((N / 45)) # hooli's messages the receiver rejects
TLS='"tls": {"ca_file": "certs/ca.pem", "server_name": "localhost"}'
cat >"$CTX_WORK/tenants.json" <<EOF
{"tenants": {
  "initech": {"transport": "https", "url": "https://127.0.0.1:$(omt_receiver_port I)/v1/logs", "format": "otlp",
              $TLS, "batch": {"max_messages": $((2 * N)), "max_bytes": 8388608, "max_delay_ms": 60000}},
  "hooli": {"transport": "https", "url": "https://127.0.0.1:$(omt_receiver_port H)/v1/logs", "format": "otlp-json",
            "content_encoding": "gzip", $TLS, "batch": {"max_messages": 40, "max_delay_ms": 200}}
}}
EOF
omt_pipeline_run otlp 71 72 73
# numbered messages from each VM; hooli's every 45th carries the receiver's reject marker
omt_vm_send otla 71 a "$N"
omt_vm_send otlb 72 b "$N"
omt_vm_send otlc 73 c "$N" forward 45:REJECTME
ctx_wait_stat "omtenant(initech)" delivered.msgs $((2 * N)) 60
ctx_wait_stat "omtenant(hooli)" delivered.msgs $((N - M)) 60
ctx_wait_stat "omtenant(hooli)" deadletter.msgs "$M" 60
ctx_stop

grep -rq hunter2 "$CTX_WORK"/rcv-*/records.jsonl "$CTX_WORK/dl" && ctx_fail "a secret left the host"
$OMT_PY - "$CTX_WORK" "$N" "$M" "$(uuid 71)" "$(uuid 72)" "$(uuid 73)" "$top_srcdir" \
    "$(ctx_vm_ip4 71) $(ctx_vm_ip4 72) $(ctx_vm_ip4 73)" "$(ctx_vm_mac 71) $(ctx_vm_mac 72) $(ctx_vm_mac 73)" \
    "$(ctx_vm_vnic 71) $(ctx_vm_vnic 72) $(ctx_vm_vnic 73)" <<'PY' || ctx_fail "the tenants' records"
import gzip, json, os, re, sys, time
work, n, m, uuids, top = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4:7], sys.argv[7]
ips, macs, vnics = sys.argv[8].split(), sys.argv[9].split(), sys.argv[10].split()
sys.path.insert(0, os.path.join(top, "tests", "lib"))
import otlp_proto
T0 = 1796194800 * 10**9  # 2026-12-02T07:00:00Z
VMS = {"a": ("otl-a", "initech", 0), "b": ("otl-b", "initech", 1), "c": ("otl-c", "hooli", 2)}

def records(r):
    return [json.loads(l) for l in open(os.path.join(work, "rcv-" + r, "records.jsonl"))]

def check(rec):
    body = rec["body"]
    mm = re.fullmatch(r"seq=([abc])-(\d{6}) user=bob password=\[REDACTED:kv-secret\]( REJECTME)?", body)
    assert mm, body
    p, i = mm.group(1), int(mm.group(2))
    name, tenant, k = VMS[p]
    assert bool(mm.group(3)) == (p == "c" and i % 45 == 0) and rec["rejected"] == bool(mm.group(3)), rec
    assert rec["resource"] == {"host.name": name, "host.id": uuids[k], "ctxlog.vm.tenant": tenant,
                               "host.ip": [ips[k]], "host.mac": [macs[k].upper().replace(":", "-")],
                               "ctxlog.vm.vnic": vnics[k], "ctxlog.vm.match": "vnic"}, rec
    assert rec["scope"][0] == "ctxlog" and rec["scope"][1], rec
    assert rec["time"] == T0 + i * 1000, rec
    assert abs(rec["observed"] - time.time() * 1e9) < 3600e9, rec
    assert rec["severity_number"] == 9 and rec["severity_text"] == "info", rec
    assert rec["attributes"] == {
        "syslog.appname": "app" + p, "syslog.procid": str(1000 + i), "syslog.msgid": "m%d" % i,
        "syslog.facility": 1, "syslog.hostname": "guest-" + p, "syslog.structured_data": '[meta seq="%d"]' % i}, rec
    return p, i

def once(seen, want, what):
    dup = sorted(s for s in set(seen) if seen.count(s) > 1)
    assert not dup, "%s: duplicates %s" % (what, dup[:5])
    assert set(seen) == want, "%s: missing %s, extra %s" % (what, sorted(want - set(seen))[:5],
                                                          sorted(set(seen) - want)[:5])

# initech: one batch, two ResourceLogs (one per VM), each VM's records in order
ri = records("I")
bi = [json.loads(l) for l in open(os.path.join(work, "rcv-I", "batches.jsonl"))]
assert [(b["status"], b["records"], b["resources"]) for b in bi] == [(200, 2 * n, 2)], bi
assert bi[0]["content_type"] == "application/x-protobuf" and bi[0]["encoding"] == "zstd", bi[0]
assert bi[0]["path"] == "/v1/logs", bi[0]
seen = [check(r) for r in ri]
once(seen, {(p, i) for p in "ab" for i in range(1, n + 1)}, "initech")
for p in "ab":
    idx = {r["resource_index"] for r in ri if r["body"].startswith("seq=%s-" % p)}
    assert len(idx) == 1, ("VM %s in more than one ResourceLogs" % p, idx)
    assert [i for q, i in seen if q == p] == list(range(1, n + 1)), "VM %s out of order" % p

# hooli: every record once (the rejected ones too: the receiver had them), one ResourceLogs a batch
rh = records("H")
bh = [json.loads(l) for l in open(os.path.join(work, "rcv-H", "batches.jsonl"))]
assert all(b["status"] == 200 and b["resources"] == 1 for b in bh), bh
assert all(b["content_type"] == "application/json" and b["encoding"] == "gzip" for b in bh), bh
seen = [check(r) for r in rh]
once(seen, {("c", i) for i in range(1, n + 1)}, "hooli")
assert [i for _, i in seen] == list(range(1, n + 1)), "hooli out of order"
rejected_batches = {b["n"] for b in bh if b["rejected"]}
assert sum(b["rejected"] for b in bh) == m, bh

# the dead-letter file: each batch with rejected records, whole, with the count
pb = otlp_proto.load(os.path.join(work, "dlpy"))
raw = open(os.path.join(work, "dl", "hooli.deadletter"), "rb").read()
pos, total, dead = 0, 0, []
while pos < len(raw):
    nl = raw.index(b"\n", pos)
    h = json.loads(raw[pos:nl])["deadletter"]
    body = raw[nl + 1:nl + 1 + h["bytes"]]
    pos = nl + 1 + h["bytes"]
    while pos < len(raw) and raw[pos:pos + 1] == b"\n":
        pos += 1
    mr = re.fullmatch(r"OTLP partial_success: (\d+) of (\d+) log records rejected: \1 records carry the reject marker",
                      h["reason"])
    assert mr and h["messages"] == int(mr.group(1)) and h["format"] == "otlp-json", h
    total += h["messages"]
    if h["encoding"] == "gzip":
        body = gzip.decompress(body)
    recs = otlp_proto.records(otlp_proto.parse(pb, body, True))
    assert len(recs) == int(mr.group(2)), (len(recs), h)
    dead += [r["body"] for r in recs if "REJECTME" in r["body"]]
assert total == m and len(dead) == m, (total, dead)
print("initech %d records in 1 batch of 2 ResourceLogs; hooli %d in %d batches, %d rejected in %d batches, "
      "dead-lettered whole" % (len(ri), len(rh), len(bh), m, len(rejected_batches)))
PY
ctx_assert_eq "initech delivered.msgs" $((2 * N)) "$(ctx_stat "omtenant(initech)" delivered.msgs)"
ctx_assert_eq "initech deadletter.msgs" 0 "$(ctx_stat "omtenant(initech)" deadletter.msgs)"
ctx_assert_eq "initech partial.batches" 0 "$(ctx_stat "omtenant(initech)" partial.batches)"
ctx_assert_eq "hooli delivered.msgs" $((N - M)) "$(ctx_stat "omtenant(hooli)" delivered.msgs)"
ctx_assert_eq "hooli partial.rejected" "$M" "$(ctx_stat "omtenant(hooli)" partial.rejected)"
ctx_assert_eq "hooli deadletter.msgs" "$M" "$(ctx_stat "omtenant(hooli)" deadletter.msgs)"
ctx_assert_eq "hooli partial.retried" 0 "$(ctx_stat "omtenant(hooli)" partial.retried)"
P=$(ctx_stat "omtenant(hooli)" partial.batches)
[ "${P:-0}" -ge 1 ] && [ "${P:-0}" -le "$M" ] || ctx_fail "hooli partial.batches ${P:-none}, expected 1..$M"
ctx_assert_eq "msgs.submitted" $((3 * N)) "$(ctx_stat "imctxcap(otlp)" msgs.submitted)"
ctx_pass "$((2 * N)) otlp messages in one batch of two ResourceLogs, $N otlp-json ($M rejected, dead-lettered)"
