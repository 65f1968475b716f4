#!/bin/bash
# Build check: every file git tracks that starts with "#!" is executable in git (mode
# 100755), so that a fresh clone runs it as the README and the docs name it
# (scripts/demo.sh, ./bootstrap ...); and no file of autoreconf's leftovers is tracked.
. "$top_srcdir/tests/lib/harness.sh"
CTX_TEST=exec_bits
cd "$top_srcdir" || ctx_fail "cannot enter $top_srcdir"
git rev-parse --git-dir >/dev/null 2>&1 || ctx_fail "$top_srcdir is not a git checkout (this check reads git's file modes)"
bad="" n=0
while IFS= read -r -d '' entry; do
    mode=${entry%% *} path=${entry#*$'\t'}
    [ "$(head -c 2 -- "$path" 2>/dev/null | tr -d '\0')" = '#!' ] || continue
    n=$((n + 1))
    [ "$mode" = 100755 ] || bad+="  $path (mode $mode)"$'\n'
done < <(git ls-files -s -z)
[ -z "$bad" ] || ctx_fail "files with a #! line that git holds as not executable (fix: git update-index --chmod=+x FILE):"$'\n'"$bad"
[ "$n" -gt 0 ] || ctx_fail "found no file with a #! line: the check read nothing"
stray=$(git ls-files -- '*~' 'configure' 'config.status' 'Makefile.in' | head -5)
[ -z "$stray" ] || ctx_fail "generated files are tracked: $stray"
ctx_pass "$n files with a #! line, all executable in git; no generated file tracked"
