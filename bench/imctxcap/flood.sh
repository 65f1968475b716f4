# bench/imctxcap/flood.sh: the flood case of bench/imctxcap/run.sh --flood udp|syn|frag
# (sourced by run.sh, which has set up the quiet VM $IDX, $W, $SO, $loggen, conf()).
#
# imctxcap with its defaults (the per-vNIC budget on) captures two vNICs: a flooder VM
# ($FLOOD_IDX) runs tests/lib/floodgen.py MODE as fast as one process can, while the
# quiet VM sends $quiet_n sequence-numbered messages at $quiet_rate/s with loggen (UDP).
# Records: the quiet VM's loss (target 0; load-independent), the flooder's frames and
# what became of them (its per-VM impstats object, the input's counters), and the CPU
# seconds of the capture worker (the rsyslogd threads named in:imctxcap) and of all of
# rsyslogd during the flood, with the load average (those are load-dependent).
FLOOD_IDX=242

flood_cpu() { # CPU ticks of rsyslogd $1's threads named $2 (all threads if empty)
    local t sum=0 v
    for t in /proc/"$1"/task/*; do
        [ -z "$2" ] || [ "$(cat "$t/comm" 2>/dev/null)" = "$2" ] || continue
        v=$(sed 's/^.*) //' "$t/stat" 2>/dev/null | awk '{print $12 + $13}') || continue
        sum=$((sum + ${v:-0}))
    done
    echo "$sum"
}

flood_case() {
    local mode=$1
    ctx_vm_add flooder "$FLOOD_IDX" >/dev/null
    local fvnic fhost fmac
    fvnic=$(ctx_vm_vnic $FLOOD_IDX) fhost=$(ctx_vm_host_ip4 $FLOOD_IDX) fmac=$(cat "/sys/class/net/$(ctx_vm_vnic $FLOOD_IDX)/address")
    echo "{\"vms\": [{\"name\": \"bench-vm\", \"tenant\": \"bench\", \"vnic\": \"$VNIC\"},
          {\"name\": \"flooder\", \"tenant\": \"flood\", \"vnic\": \"$fvnic\"}]}" >"$W/profiles.json"
    rm -f "$W/out" "$W/aside" "$W/stats.log" "$W/pid" "$W/stop"
    conf "module(load=\"$SO\")
input(type=\"imctxcap\" name=\"b\" interface=\"$VNIC,$fvnic\" profiles=\"$W/profiles.json\" ruleset=\"split\"${vm_pps:+ vm.maxPacketsPerSecond=\"$vm_pps\"})
ruleset(name=\"split\") { if \$!ctx!vm!name == \"bench-vm\" then call out else call aside }"
    /usr/bin/python3 -c "
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(('$HOST', 514))
while True: s.recv(65535)" &
    SINK=$!
    "$RSYSLOGD" -n -f "$W/rsyslog.conf" -i "$W/pid" >"$W/stderr" 2>&1 &
    local rpid=$! i
    for i in $(seq 1 200); do [ "$(stat_of "imctxcap(b)" interfaces.attached)" = 2 ] && break; sleep 0.05; done
    local load0 c0 a0 hz
    load0=$(cut -d' ' -f1-3 /proc/loadavg) hz=$(getconf CLK_TCK)
    c0=$(flood_cpu $rpid in:imctxcap) a0=$(flood_cpu $rpid "")
    case "$mode" in
        udp) ctx_vm_exec flooder /usr/bin/python3 "$top/tests/lib/floodgen.py" udp "$(ctx_vm_ip4 $FLOOD_IDX)" "$fhost" "$W/stop" >"$W/flood.out" 2>&1 & ;;
        syn|frag) ctx_vm_exec flooder /usr/bin/python3 "$top/tests/lib/floodgen.py" "$mode" eth0 "$fmac" "$(ctx_vm_ip4 $FLOOD_IDX)" "$fhost" "$W/stop" >"$W/flood.out" 2>&1 & ;;
        *) echo "--flood: expected udp, syn or frag, got '$mode'" >&2; exit 2 ;;
    esac
    local fpid=$! t0=$SECONDS
    sleep 1 # the flood is on before the quiet VM starts
    ctx_vm_exec bench "$loggen" -i -D -r "$quiet_rate" -n "$quiet_n" -s 200 -I $((quiet_n / quiet_rate + 30)) "$HOST" 514 >"$W/loggen.out" 2>&1 || true
    touch "$W/stop"
    wait $fpid || true
    local secs=$((SECONDS - t0)) c1 a1 load1
    c1=$(flood_cpu $rpid in:imctxcap) a1=$(flood_cpu $rpid "") load1=$(cut -d' ' -f1-3 /proc/loadavg)
    for i in $(seq 1 100); do [ "$(lines "$W/out")" -ge "$quiet_n" ] && break; sleep 0.1; done
    sleep 2.2 # two impstats rounds after the flood: the counters are final
    local recv sent
    recv=$(lines "$W/out") sent=$(cat "$W/flood.out")
    local seen ob vob kd ev fq
    seen=$(stat_of "imctxcap(b)" packets.seen) ob=$(stat_of "imctxcap(b)" packets.overbudget)
    vob=$(stat_of "imctxcap(b).vm.flood:flooder" packets.overbudget) kd=$(stat_of "imctxcap(b)" kernel.drops)
    ev=$(stat_of "imctxcap(b)" tcp.flows.evicted) fq=$(stat_of "imctxcap(b)" fragments.evicted.quota)
    kill $rpid; wait $rpid 2>/dev/null || true
    kill "$SINK" 2>/dev/null; wait "$SINK" 2>/dev/null || true; SINK=
    local cap_s all_s
    cap_s=$(echo "scale=2; ($c1 - $c0) / $hz" | bc) all_s=$(echo "scale=2; ($a1 - $a0) / $hz" | bc)
    echo "| $mode | $quiet_n at $quiet_rate/s | $recv | $((quiet_n - recv)) | $sent in ${secs} s | $seen | $ob | $vob | $ev | $fq | $kd | $cap_s | $all_s | $load0 / $load1 |"
    echo "flood $mode: quiet lost $((quiet_n - recv)) of $quiet_n; flooder sent $sent; overbudget $ob (its object $vob); capture CPU ${cap_s}s, rsyslogd ${all_s}s in ${secs}s; load $load0 -> $load1" >&2
    ctx_vm_del flooder 2>/dev/null || true
}

flood_run() { # flood_run "udp syn frag"
    local m
    {
        echo
        echo "## Flood run of $(date -u +%Y-%m-%dT%H:%MZ)"
        echo
        echo "- command: \`bench/imctxcap/run.sh --flood \"$1\" --quiet \"$quiet_rate $quiet_n\"${vm_pps:+ --vm-pps $vm_pps}\`$([ -n "${IMCTXCAP_SO:-}" ] && echo " with IMCTXCAP_SO=$IMCTXCAP_SO")"
        echo "- machine: $(nproc) cores, $(uname -r); imctxcap with one worker, its budget ${vm_pps:-10000} frames/s$([ -z "$vm_pps" ] && echo " (the default)") and 128 MiB/s per vNIC; the flooder (tests/lib/floodgen.py, one process) and loggen run on the same cores"
        echo "- CPU seconds are measured under the load shown (load average at the flood's start / end): compare them only within a run. The counters do not depend on load; the quiet VM's loss can (kernel.drops: a starved capture worker lets the shared ring fill)"
        echo
        echo "| flood | quiet VM sent | received | lost | flooder frames | packets.seen | packets.overbudget | its VM object | tcp.flows.evicted | fragments.evicted.quota | kernel.drops | capture worker CPU s | rsyslogd CPU s | load avg |"
        echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
        for m in $1; do flood_case "$m"; done
    } >>"$res.tmp"
}
