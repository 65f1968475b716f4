# bench/imctxcap/memory.sh: sourced by run.sh (--memory-only): rsyslogd's RSS with
# one imctxcap input capturing N idle veth vNICs, against a bare rsyslogd.

rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }

# rsyslogd with $1 (inputs block), once it has $2 interfaces attached (or, without
# imctxcap, once impstats runs): prints its RSS in KiB
rss_of() {
    local inputs=$1 want=$2 i
    rm -f "$W/stats.log" "$W/pid"
    conf "$inputs"
    "$RSYSLOGD" -n -f "$W/rsyslog.conf" -i "$W/pid" >"$W/stderr" 2>&1 &
    RPID=$!
    for i in $(seq 1 600); do
        [ -s "$W/stats.log" ] && { [ "$want" = - ] || [ "$(stat_of "imctxcap(m)" interfaces.attached)" = "$want" ]; } && break
        sleep 0.05
    done
    [ "$want" = - ] || [ "$(stat_of "imctxcap(m)" interfaces.attached)" = "$want" ] ||
        { echo "only $(stat_of "imctxcap(m)" interfaces.attached) of $want vNICs attached" >&2; cat "$W/stderr" >&2; }
    sleep 1.2 # one more impstats round: the workers are past their set-up
    rss_kib $RPID
    kill $RPID; wait $RPID 2>/dev/null || true
    RPID=
}

# $W/mprofiles.json for the VMs m1..m$1 on idle vNICs: plain veth pairs ctxmN / ctxpN (no
# namespace: nothing is sent on them), adding the pairs made so far ($made) up to $1
memory_vms() {
    local n=$1 i
    while [ "$made" -lt "$n" ]; do
        made=$((made + 1))
        ip link add "ctxm$made" type veth peer name "ctxp$made" || { echo "veth ctxm$made" >&2; exit 1; }
        ip link set "ctxm$made" up && ip link set "ctxp$made" up
    done
    { printf '{"vms": ['; for i in $(seq 1 "$n"); do printf '%s{"name": "m%d", "tenant": "bench", "vnic": "ctxm%d"}' \
        "$([ "$i" = 1 ] || echo ,)" "$i" "$i"; done; echo ']}'; } >"$W/mprofiles.json"
}

# memory: bare rsyslogd, then imctxcap on N idle veth vNICs for each workers value
memory_cases() {
    local n w kib bare
    made=0
    bare=$(rss_of "" -)
    echo "| bare rsyslogd (impstats, omfile) | - | - | $((bare / 1024)) | - |"
    for n in $vnics; do
        memory_vms "$n"
        for w in $mworkers; do
            kib=$(rss_of "module(load=\"$SO\")
input(type=\"imctxcap\" name=\"m\" interface=\"ctxm*\" workers=\"$w\" profiles=\"$W/mprofiles.json\" ruleset=\"out\")" "$n")
            echo "| imctxcap, $w worker(s) | $n | $(stat_of "imctxcap(m)" interfaces.attached) | $((kib / 1024)) | $(((kib - bare) / 1024)) |"
            echo "memory vnics=$n workers=$w rss=${kib}KiB over bare $(((kib - bare) / 1024))MiB" >&2
        done
    done
}

memory_section() {
    echo
    echo "## Memory run of $(date -u +%Y-%m-%dT%H:%MZ)"
    echo
    echo "- command: \`bench/imctxcap/run.sh --memory-only --vnics \"$vnics\" --workers \"$mworkers\"\`$([ -n "${IMCTXCAP_SO:-}" ] && echo " with IMCTXCAP_SO=$IMCTXCAP_SO")"
    machine
    echo
    echo "| rsyslogd | vNICs | attached | RSS MiB | over bare MiB |"
    echo "|---|---|---|---|---|"
    memory_cases
}
