# bench/imctxcap/udp.sh: sourced by run.sh for --proto udp: imctxcap vs imudp, and
# imudp while imctxcap captures the same vNIC.
res="$top/bench/imctxcap/RESULTS.md" title="imctxcap vs imudp"
lg_slack=1 # loggen's time limit: secs + 30
IN_IMUDP="module(load=\"imudp\" batchSize=\"128\")
input(type=\"imudp\" address=\"$HOST\" port=\"514\" rcvbufSize=\"16m\" ruleset=\"out\")"
IN_CAP="module(load=\"$SO\")
input(type=\"imctxcap\" name=\"b\" interface=\"$VNIC\" profiles=\"$W/profiles.json\" ruleset=\"out\" workers=\"$cworkers\"${ring:+ ringSize=\"$ring\"} vm.maxPacketsPerSecond=\"0\" vm.maxBytesPerSecond=\"0\")"
IN_BOTH="$IN_IMUDP
module(load=\"$SO\")
input(type=\"imctxcap\" name=\"b\" interface=\"$VNIC\" profiles=\"$W/profiles.json\" ruleset=\"aside\")"

udp_header() {
    echo
    echo "## Run of $(date -u +%Y-%m-%dT%H:%MZ)"
    echo
    echo "- command: \`bench/imctxcap/run.sh$([ $quick = 1 ] && echo " --quick") --rates \"$rates\" --seconds $secs --size $size --cap-workers $cworkers${ring:+ --ring-size $ring}\`"
    machine
    echo "- rsyslogd $("$RSYSLOGD" -v | head -1 | awk '{print $2}'), loggen from syslog-ng-core ($size-byte messages, UDP; imctxcap workers=$cworkers), sender in a VM namespace on the same 2 cores"
    echo
    echo "| input | offered msg/s | sent | received | lost | rsyslogd CPU s | CPU s / 1M msgs | kernel drops |"
    echo "|---|---|---|---|---|---|---|---|"
}

# imudp, then imctxcap, at each rate; sets best and cpu_pm
udp_rows() {
    local input rate n recv ach cpu kd gaps lost pm
    for input in imudp imctxcap; do
        best[$input]=0 lossy[$input]=0
        for rate in $rates; do
            if [ $input = imudp ]; then run_case "$IN_IMUDP" "$rate" -D; else run_case "$IN_CAP" "$rate" -D udp; fi
            read -r n recv ach cpu kd gaps <"$W/res"
            [ $input = imudp ] && kd=-
            lost=$((n - recv))
            pm=$(echo "scale=2; $cpu * 1000000 / ($recv + 1)" | bc)
            echo "| $input | $rate | $n | $recv | $lost | $cpu | $pm | $kd |" >>"$res.tmp"
            echo "$input rate=$rate sent=$n received=$recv lost=$lost cpu=${cpu}s cpu/M=$pm kdrops=$kd" >&2
            # the ceiling: the highest rate at which this and every lower rate lost nothing
            if [ "$lost" -le 0 ] && [ "${lossy[$input]}" = 0 ]; then best[$input]=$rate cpu_pm[$input]=$pm; else lossy[$input]=1; fi
        done
    done
}

# imudp while imctxcap captures the same interface; sets both_best
udp_both_rows() {
    local rate n recv ach cpu kd gaps lost both_lossy=0
    both_best=0
    for rate in $rates; do
        run_case "$IN_BOTH" "$rate" -D
        read -r n recv ach cpu kd gaps <"$W/res"
        lost=$((n - recv))
        echo "| imudp + imctxcap on the same vNIC | $rate | $n | $recv (imudp) | $lost | $cpu | - | $kd |" >>"$res.tmp"
        echo "both rate=$rate received(imudp)=$recv lost=$lost" >&2
        if [ "$lost" -le 0 ] && [ "$both_lossy" = 0 ]; then both_best=$rate; else both_lossy=1; fi
    done
}

throughput_section() {
    declare -gA best cpu_pm lossy
    udp_header >>"$res.tmp"
    udp_rows
    udp_both_rows
    {
        echo
        echo "Highest offered rate with zero loss at it and every lower rate: imudp ${best[imudp]}, imctxcap ${best[imctxcap]}, imudp while imctxcap captures ${both_best}."
        echo "CPU seconds per million messages at that rate: imudp ${cpu_pm[imudp]:-n/a}, imctxcap ${cpu_pm[imctxcap]:-n/a}."
    } >>"$res.tmp"
}
