#!/bin/bash
# Redaction benchmark: MB/s per core of ctx_redact_apply() with the built-in rules over a realistic
# log mix, and zstd -3 on the same bytes in the same run (libzstd in the same process, and the zstd
# CLI's own benchmark). Results and how to read them: bench/redact/RESULTS.md.
#
#   bench/redact/run.sh [MEGABYTES] [SECONDS]     (defaults 16 MB, 3 s of CPU per measurement)
#   BUILD_DIR=... to use another build tree than the source tree.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
build=${BUILD_DIR:-$top}
mb=${1:-16}
secs=${2:-3}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

make -s -C "$build" bench/redact/bench_redact
/usr/bin/python3 "$top/bench/redact/gen_logmix.py" "$work/mix.log" "$mb"
echo "date:    $(date -u +%Y-%m-%dT%H:%M:%SZ)"
echo "machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores, $(uname -r)"
echo "libs:    pcre2 $(pcre2-config --version 2>/dev/null || echo '?'), zstd $(zstd -V | sed 's/.*v\([0-9.]*\).*/\1/')"
"$build/bench/redact/bench_redact" "$work/mix.log" "$secs"
echo "zstd CLI (zstd -b3, one thread, same file):"
zstd -b3 -i"$secs" "$work/mix.log" 2>&1 | tr '\r' '\n' | grep 'MB/s, ' | tail -1 | sed 's/^ *[-|\\/]*//' 
