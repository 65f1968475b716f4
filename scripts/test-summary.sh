#!/bin/bash
# prints the last line of a test run: "N passed, N failed, N skipped" from automake's test-suite.log
log=${1:-test-suite.log}
get() { sed -n "s/^# $1: *\([0-9]*\)/\1/p" "$log" | head -1; }
[ -f "$log" ] || { echo "0 passed, 1 failed (no $log: the build or the harness failed)"; exit 1; }
pass=$(get PASS); fail=$(( $(get FAIL) + $(get ERROR) + $(get XPASS) )); skip=$(get SKIP)
if [ "$fail" != 0 ]; then
    echo "---- failed tests:"; grep -E '^(FAIL|ERROR|XPASS): ' "$log" || true
fi
echo "${pass:-0} passed, ${fail:-0} failed, ${skip:-0} skipped"
