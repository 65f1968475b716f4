#!/bin/bash
# bench/run-all.sh --quick: every benchmark still runs to the end (figures are not
# judged here: performance lives in bench/, never in a timed test).
. "$top_srcdir/tests/lib/harness.sh"
ctx_init bench_quick
out="$CTX_WORK/results.md"
bash "$top_srcdir/bench/run-all.sh" --quick --out "$out" >"$CTX_WORK/run.log" 2>&1 ||
    { cat "$CTX_WORK/run.log" "$out" 2>/dev/null | tail -80; ctx_fail "a benchmark failed"; }
ctx_assert_grep "$out" "## imctxcap:"
ctx_assert_grep "$out" "| imctxcap | 20000 |"
ctx_assert_grep "$out" "## imctxcap-tcp:"
ctx_assert_grep "$out" "| imctxcap | octet | 20000 |"
ctx_assert_grep "$out" "## redact:"
n=$(grep -c '^## ' "$out")
ctx_pass "$n benchmarks ran in quick mode"
