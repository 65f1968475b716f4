# bench/e2e/callgrind.sh: the --callgrind mode of bench/e2e/run.sh (sourced by it, after the
# receivers, certificates and configurations are set up; uses its functions and variables).
# Each pipeline's sending rsyslogd runs under callgrind; its counters are zeroed once it
# is up, the VMs send CG messages at CGRATE msg/s, and the counters are dumped once the
# receiver's count stops growing. Prints (and appends to RESULTS.md) the instructions per
# message received, per stage and per library.

# stage functions, inclusive (they overlap: a stage inside another counts in both)
CG_FUNCS="imctxcap_on_packet=capture: imctxcap (decode, attribute, build \$!ctx!vm/capture)
mmx_process=enrich: mmctxenrich
tplToString=render: rsyslog templates (omtenant's fields, \$!ctx serialized)
omt_commit=record: omtenant (route, build + redact the record, batch)
ctx_outrec_build=of which: build + redact the record
ctx_batch_encode=compress: zstd (batch sealing)
ctx_https_post=send: HTTPS (libcurl, TLS)
msgDestruct=free: message destruction (\$!ctx tree freed)
SSL_write=send: TLS writes (SSL_write)"

cg_case() { # pipeline -> prints the cg_stages JSON of its dump
    local pl=$1 per=$((CGRATE / 2)) n=$((CG / 2)) sinks=() i
    rm -rf "$W/send"
    mkdir -p "$W/send"
    conf "$pl" >"$W/send/rsyslog.conf"
    if [ "$pl" = ctxlog ]; then
        for i in $IDXS; do
            $PY -c "
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
s.bind(('$(ctx_vm_host_ip4 "$i")', 514))
while True: s.recv(65535)" &
            sinks+=($!)
            PIDS+=($!)
        done
    fi
    local base0 pid
    base0=$(received "$pl")
    cm_mark
    valgrind --tool=callgrind --callgrind-out-file="$W/cg.$pl" --dump-instr=no \
        $RSYSLOGD -n -f "$W/send/rsyslog.conf" -i "$W/send/pid" >"$W/send.log" 2>&1 &
    pid=$!
    PIDS+=($pid)
    wait_for 120 "[ -s '$W/send/stats.log' ]"
    cm_wait "$pl"
    sleep 3
    callgrind_control -z $pid >/dev/null
    local lg=()
    for i in $IDXS; do
        ctx_vm_exec "e2e$i" "$loggen" -i -D -d -l -R "$W/mix.txt" -r "$per" -n "$n" -I $((n / per + 60)) \
            "$(ctx_vm_host_ip4 "$i")" 514 >"$W/loggen$i.out" 2>&1 &
        lg+=($!)
    done
    for i in "${lg[@]}"; do wait "$i" || true; done
    local last=-1 cur stable=0
    for _ in $(seq 1 600); do # until the receiver's count stops growing for 5 s
        cur=$(received "$pl")
        if [ "$cur" = "$last" ]; then stable=$((stable + 1)); [ $stable -ge 10 ] && break; else stable=0; fi
        last=$cur
        sleep 0.5
    done
    callgrind_control -d $pid >/dev/null
    stop_pid $pid
    for i in "${sinks[@]}"; do kill "$i" 2>/dev/null; wait "$i" 2>/dev/null || true; done
    local got=$(($(received "$pl") - base0))
    local args=()
    while IFS= read -r f; do args+=("$f"); done <<<"$CG_FUNCS"
    echo "$pl: $got of $((n * 2)) messages received" >&2
    "$top/bench/lib/cg_stages.py" "$(ls "$W/cg.$pl".* | head -1)" "$got" "${args[@]}" | sed "s/^{/{\"sent\": $((n * 2)), /"
}

cg_report() { # stock-json ctxlog-json
    $PY - "$1" "$2" <<'PY'
import json, sys
s, c = json.loads(sys.argv[1]), json.loads(sys.argv[2])
print("| | stock (imudp -> omfwd ossl) | ctxlog (imctxcap -> mmctxenrich -> omtenant https+zstd) |")
print("|---|---|---|")
print("| messages sent / received | %d / %d | %d / %d |" % (s["sent"], s["messages"], c["sent"], c["messages"]))
print("| **instructions per message, whole rsyslogd** | **%d** | **%d** (%.2fx stock) |" % (s["total"], c["total"], c["total"] / s["total"]))
print("| *per stage (inclusive)* | | |")
for k in c["incl"]:
    a, b = s["incl"].get(k, 0), c["incl"].get(k, 0)
    if a or b:
        print("| %s | %s | %s |" % (k, a or "-", b or "-"))
print("| *allocations per message (malloc, calloc, realloc), by the caller's library* | %.1f | %.1f |" % (s["allocs"], c["allocs"]))
for k in sorted(set(s["allocs_by"]) | set(c["allocs_by"]), key=lambda k: -c["allocs_by"].get(k, 0)):
    print("| allocations from %s | %s | %s |" % (k, s["allocs_by"].get(k, "-"), c["allocs_by"].get(k, "-")))
print("| *per library (self; these add up to the total)* | | |")
for k in sorted(set(s["self"]) | set(c["self"]), key=lambda k: -c["self"].get(k, 0)):
    a, b = s["self"].get(k, 0), c["self"].get(k, 0)
    if a or b:
        print("| %s | %d | %d |" % (k, a, b))
print()
print("Functions that allocate most, per message (ctxlog): " + "; ".join("%s %s" % (f, n) for f, n in c["alloc_callers"].items()))
PY
}

cgs=$(cg_case stock)
cgc=$(cg_case ctxlog)
report=$(
    echo
    echo "## Callgrind run of $(date -u +%Y-%m-%dT%H:%MZ): instructions per message, per stage"
    echo
    echo "- command: \`bench/e2e/run.sh --callgrind $CG --cg-rate $CGRATE --policy $POLICY$([ "$WITHCM" = 1 ] && echo " --cm")\` (in \`scripts/in-private-net.sh\`)"
    echo "- machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -r), load average $(cut -d' ' -f1-3 /proc/loadavg) at the end (instruction counts do not depend on it)"
    echo "- rsyslogd $($RSYSLOGD -v | head -1 | awk '{print $2}') (Debian), ctxlog at $(cd "$top" && git rev-parse --short HEAD 2>/dev/null)$(cd "$top" && git diff --quiet HEAD -- plugins common 2>/dev/null || echo ' + working tree changes'); the gen_logmix.py mix; profiles file of $nprof VMs; mmctxenrich policy: $POLICY, $([ "$WITHCM" = 1 ] && echo "a compute manager listing all $nprof VMs (--cm)" || echo "no compute manager")"
    echo
    cg_report "$cgs" "$cgc"
)
echo "$report"
[ "$append" = 1 ] && echo "$report" >>"$top/bench/e2e/RESULTS.md"
exit 0
