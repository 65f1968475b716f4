#!/bin/bash
# bench/run-all.sh [--quick] [--out FILE]
#
# Runs every benchmark under bench/ in turn and writes one results file with the
# command, the machine, the date and each benchmark's figures as it printed them
# (default bench/RESULTS-all.md, replaced). Each benchmark also keeps its own
# history in bench/<name>/RESULTS.md (imctxcap's TCP run in RESULTS-tcp.md).
#
# --quick: small sizes, a few seconds each, so that the benchmarks keep working
# (the test suite runs it: tests/system/bench_quick.sh). Quick figures mean
# nothing; the per-benchmark RESULTS.md files are left as they were.
# Run as root after a build (the capture benchmarks create VM namespaces).
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
quick=0 out="$top/bench/RESULTS-all.md"
while [ $# -gt 0 ]; do
    case "$1" in
        --quick) quick=1; shift ;;
        --out) out=$2; shift 2 ;;
        *) echo "usage: $0 [--quick] [--out FILE]" >&2; exit 2 ;;
    esac
done
# name | full arguments | quick arguments | folder, when not the name (a benchmark
# whose run.sh has no --quick option and no quick arguments here is skipped in quick
# mode, and the file says so)
benches=(
    "imctxcap||--quick"
    "imctxcap-tcp|--proto tcp|--proto tcp --quick|imctxcap"
    "redact|16 3|2 1"
    "mmctxenrich||--quick"
    "cm-load|--hosts 40 --seconds 120 --rate 2000|--hosts 3 --seconds 15 --rate 100 --jitter 3000 --static-ttl 10000 --dynamic-ttl 3000 --host-ttl 3000"
    "omtenant||--quick"
    "e2e||--quick"
)
saved=$(mktemp -d)
trap 'rm -rf "$saved"' EXIT
if [ "$quick" = 1 ]; then
    for f in "$top"/bench/*/RESULTS*.md; do [ -f "$f" ] && cp "$f" "$saved/$(basename "$(dirname "$f")")+$(basename "$f")"; done
fi
{
    echo "# ctxlog benchmarks: one run of bench/run-all.sh"
    echo
    echo "- command: \`bench/run-all.sh$([ $quick = 1 ] && echo ' --quick')\`"
    echo "- date: $(date -u +%Y-%m-%dT%H:%MZ)"
    echo "- machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -r), $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1), load average $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "- rsyslogd $(/usr/sbin/rsyslogd -v | head -1 | awk '{print $2}')"
} >"$out.tmp"
failed=0
for b in "${benches[@]}"; do
    IFS='|' read -r name full quickargs dir <<<"$b"
    dir=${dir:-$name}
    script="$top/bench/$dir/run.sh"
    [ -x "$script" ] || [ -f "$script" ] || { echo "- $name: no bench/$dir/run.sh yet" >>"$out.tmp"; continue; }
    args=$full
    [ "$quick" = 1 ] && args=$quickargs
    if [ "$quick" = 1 ] && [ "$args" = --quick ] && ! grep -q -- '--quick)' "$script"; then
        printf '\n## %s: skipped in quick mode (bench/%s/run.sh has no --quick)\n' "$name" "$dir" >>"$out.tmp"
        continue
    fi
    echo "==> bench/$dir/run.sh $args" >&2
    {
        echo
        echo "## $name: \`bench/$dir/run.sh $args\`"
        echo
        echo '```'
    } >>"$out.tmp"
    # shellcheck disable=SC2086
    if ! bash "$script" $args >"$saved/$name.out" 2>&1; then
        failed=1
        echo "FAILED (exit $?)" >>"$out.tmp"
    fi
    cat "$saved/$name.out" >>"$out.tmp"
    echo '```' >>"$out.tmp"
done
mv "$out.tmp" "$out"
if [ "$quick" = 1 ]; then
    for f in "$saved"/*+RESULTS*.md; do [ -f "$f" ] && b=$(basename "$f") && cp "$f" "$top/bench/${b%%+*}/${b#*+}"; done
fi
echo "results: $out" >&2
exit $failed
