#!/bin/bash
# bench/omtenant/instructions.sh: CPU instructions per message of each sender of
# bench/omtenant/run.sh, counted by callgrind, so that the figure does not depend on the
# machine's load (throughput CPU seconds need a quiet machine; instruction counts do not).
#
# The sending rsyslogd (input, parsing, the `set $!ctx` statements, the action) runs under
# `valgrind --tool=callgrind`, the receivers as they are. Each sender runs twice, with
# SMALL and LARGE messages (run.sh --messages, one round); instructions per message =
# (I(LARGE) - I(SMALL)) / (LARGE - SMALL), so that start-up and shutdown cancel out.
#
# usage: bench/omtenant/instructions.sh [--only SENDER,...] [--small N] [--large N] [--top K]
#                                       [--ctx standard|small]
#   --only   senders as run.sh names them (default: omfwd-ossl, omtenant-https and the
#            record formats); --top K: also the K functions whose instructions per message
#            differ most between the first two senders listed; --ctx: run.sh's --ctx (the
#            `$!ctx` of every message; default standard).
# Prints one line per sender: the whole sending rsyslogd's instructions per message, and
# omtenant's own (its functions and what they call, in every thread: the action without
# rsyslog's input, parsing and `set` statements, which all senders share); keeps the
# callgrind files in $CG_DIR (default a temp dir).
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
ONLY=omfwd-ossl,omtenant-tls,omtenant-https,omtenant-json-array,omtenant-otlp,omtenant-otlp-json,omtenant-elasticsearch,omtenant-loki,omtenant-splunk-hec
SMALL=5000 LARGE=25000 TOPK=0 CTX=standard
while [ $# -gt 0 ]; do
    case "$1" in
        --only) ONLY=$2; shift 2 ;;
        --small) SMALL=$2; shift 2 ;;
        --large) LARGE=$2; shift 2 ;;
        --top) TOPK=$2; shift 2 ;;
        --ctx) CTX=$2; shift 2 ;;
        *) echo "usage: $0 [--only SENDER,...] [--small N] [--large N] [--top K] [--ctx standard|small]" >&2; exit 2 ;;
    esac
done
[ "$LARGE" -gt "$SMALL" ] || { echo "--large must be above --small" >&2; exit 2; }
command -v valgrind >/dev/null || { echo "valgrind is not installed (apt-get install valgrind)" >&2; exit 1; }
CG_DIR=${CG_DIR:-$(mktemp -d /tmp/ctxbench-cg.XXXXXX)}
mkdir -p "$CG_DIR"
wrapper=$CG_DIR/rsyslogd-cg
cat >"$wrapper" <<EOF
#!/bin/bash
# the sending rsyslogd (its config is .../send/rsyslog.conf) under callgrind; others as they are
case "\$*" in
*"/send/rsyslog.conf"*)
    exec valgrind --tool=callgrind --dump-instr=no \\
        --callgrind-out-file="$CG_DIR/\$CG_N-\${BENCH_SENDER:-x}.cg" /usr/sbin/rsyslogd "\$@" ;;
*) exec /usr/sbin/rsyslogd "\$@" ;;
esac
EOF
chmod +x "$wrapper"
for n in "$SMALL" "$LARGE"; do
    CG_N=$n RSYSLOGD=$wrapper "$top/bench/omtenant/run.sh" --messages "$n" --rounds 1 --no-append --ctx "$CTX" \
        --only "$ONLY" >"$CG_DIR/run-$n.log" 2>&1 || { cat "$CG_DIR/run-$n.log" >&2; exit 1; }
done
totals() { # callgrind file -> its total instructions
    sed -n 's/^totals: *\([0-9]*\).*/\1/p; s/^summary: *\([0-9]*\).*/\1/p' "$1" | head -1
}
# omtenant's own instructions: inclusive, of the three places its threads enter it (rsyslog's
# worker: omt_commit; the batch timer: timer_main; each tenant's sender: dest_sender_main)
own() { # callgrind file -> their sum
    callgrind_annotate --inclusive=yes --threshold=100 "$1" 2>/dev/null | grep -v '=>' |
        awk '/omtenant_commit.c:omt_commit |omtenant_route.c:timer_main |delivery_sender.c:dest_sender_main / {
                 c=$1; gsub(",","",c); s+=c } END {printf "%.0f\n", s}'
}
echo "instructions per message, (I($LARGE) - I($SMALL)) / $((LARGE - SMALL)), --ctx $CTX; load $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-26s %8s %8s\n' sender whole omtenant
IFS=, read -r -a senders <<<"$ONLY"
for s in "${senders[@]}"; do
    a=$CG_DIR/$SMALL-$s.cg b=$CG_DIR/$LARGE-$s.cg
    [ -s "$a" ] && [ -s "$b" ] || { echo "$s: no callgrind output (see $CG_DIR/run-*.log)" >&2; exit 1; }
    mine=-
    case "$s" in omtenant-*) mine=$(printf '%.0f' "$(echo "($(own "$b") - $(own "$a")) / ($LARGE - $SMALL)" | bc -l)") ;; esac
    printf '%-26s %8.0f %8s\n' "$s" "$(echo "($(totals "$b") - $(totals "$a")) / ($LARGE - $SMALL)" | bc -l)" "$mine"
done
if [ "$TOPK" -gt 0 ] && [ "${#senders[@]}" -ge 2 ]; then
    s1=${senders[0]} s2=${senders[1]}
    echo
    echo "functions, instructions per message: $s1, $s2, difference"
    for f in "$SMALL-$s1" "$LARGE-$s1" "$SMALL-$s2" "$LARGE-$s2"; do
        callgrind_annotate --auto=no --threshold=100 "$CG_DIR/$f.cg" 2>/dev/null | grep -v '=>' |
            awk '$1 ~ /^[0-9,]+$/ {c=$1; gsub(",","",c); $1=""; sub(/^ *\([^)]*\) */, ""); sub(/ \[.*/, ""); print c "\t" $0}' \
            >"$CG_DIR/$f.fn"
    done
    python3 - "$CG_DIR" "$SMALL" "$LARGE" "$s1" "$s2" "$TOPK" <<'PY'
import sys
d, small, large, s1, s2, k = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5], int(sys.argv[6])
def load(name):
    r = {}
    for line in open("%s/%s.fn" % (d, name)):
        c, fn = line.rstrip("\n").split("\t", 1)
        r[fn] = r.get(fn, 0) + int(c)
    return r
def per(s):
    a, b = load("%d-%s" % (small, s)), load("%d-%s" % (large, s))
    return {f: (b.get(f, 0) - a.get(f, 0)) / (large - small) for f in set(a) | set(b)}
x, y = per(s1), per(s2)
for f in sorted(set(x) | set(y), key=lambda f: -abs(y.get(f, 0) - x.get(f, 0)))[:k]:
    print("%8.0f %8.0f %+8.0f  %s" % (x.get(f, 0), y.get(f, 0), y.get(f, 0) - x.get(f, 0), f[:100]))
PY
fi
echo "callgrind files: $CG_DIR"
