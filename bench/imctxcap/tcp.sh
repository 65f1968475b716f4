# bench/imctxcap/tcp.sh: sourced by run.sh for --proto tcp: imctxcap's TCP capture vs
# imptcp, with LF framing and octet counting.
res="$top/bench/imctxcap/RESULTS-tcp.md" title="imctxcap (TCP capture) vs imptcp"
lg_slack=4 # loggen's time limit: 4 * secs + 30 (TCP flow control may slow it down)
IN_IMPTCP="module(load=\"imptcp\")
input(type=\"imptcp\" address=\"$HOST\" port=\"514\" ruleset=\"out\")"
IN_CAP="module(load=\"$SO\")
input(type=\"imctxcap\" name=\"b\" interface=\"$VNIC\" profiles=\"$W/profiles.json\" ruleset=\"out\" snapLen=\"262144\" ringSize=\"64m\")"

tcp_header() {
    echo
    echo "## Run of $(date -u +%Y-%m-%dT%H:%MZ)"
    echo
    echo "- command: \`bench/imctxcap/run.sh --proto tcp$([ $quick = 1 ] && echo " --quick") --rates \"$rates\" --seconds $secs --size $size\`"
    machine
    echo "- rsyslogd $("$RSYSLOGD" -v | head -1 | awk '{print $2}'), loggen from syslog-ng-core (one TCP connection, $size-byte messages), sender in a VM namespace on the same cores"
    echo
    echo "| input | framing | offered msg/s | sent | received | lost | achieved msg/s | rsyslogd CPU s | CPU s / 1M msgs | kernel drops | TCP gaps |"
    echo "|---|---|---|---|---|---|---|---|---|---|---|"
}

# one input ($1) with one framing ($2) at each rate; sets best and cpu_pm for "$1/$2"
tcp_rows() {
    local input=$1 framing=$2 k="$1/$2" opt=-S rate n recv ach cpu kd gaps lost pm
    [ "$framing" = octet ] && opt="-S -P"
    best[$k]=0 lossy[$k]=0
    for rate in $rates; do
        if [ "$input" = imptcp ]; then run_case "$IN_IMPTCP" "$rate" "$opt"; else run_case "$IN_CAP" "$rate" "$opt" tcp; fi
        read -r n recv ach cpu kd gaps <"$W/res"
        [ "$input" = imptcp ] && kd=- gaps=-
        lost=$((n - recv))
        pm=$(echo "scale=2; $cpu * 1000000 / ($recv + 1)" | bc)
        echo "| $input | $framing | $rate | $n | $recv | $lost | ${ach:-?} | $cpu | $pm | $kd | $gaps |" >>"$res.tmp"
        echo "$input $framing rate=$rate sent=$n received=$recv lost=$lost achieved=${ach:-?} cpu=${cpu}s cpu/M=$pm kdrops=$kd gaps=$gaps" >&2
        # lossless throughput: the highest rate loggen achieved in a row without loss, before any lossy row
        # (over TCP the sender slows down to what the receiver takes, so the offered rate is only a ceiling)
        if [ "$lost" -le 0 ] && [ "${lossy[$k]}" = 0 ]; then
            if [ "${ach:-0}" -gt "${best[$k]}" ]; then best[$k]=${ach:-0} cpu_pm[$k]=$pm; fi
        else
            lossy[$k]=1
        fi
    done
}

throughput_section() {
    local f ratio
    declare -gA best cpu_pm lossy
    tcp_header >>"$res.tmp"
    for f in lf octet; do tcp_rows imptcp $f; tcp_rows imctxcap $f; done
    echo >>"$res.tmp"
    for f in lf octet; do
        ratio=$(echo "scale=2; ${best[imctxcap/$f]} / (${best[imptcp/$f]} + 1)" | bc)
        echo "- $f: lossless throughput (highest achieved msg/s without loss, at it and every lower offered rate): imptcp ${best[imptcp/$f]}, imctxcap ${best[imctxcap/$f]} (${ratio}x); CPU s per million messages in that row: imptcp ${cpu_pm[imptcp/$f]:-n/a}, imctxcap ${cpu_pm[imctxcap/$f]:-n/a}."
    done >>"$res.tmp"
}
