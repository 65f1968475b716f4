#!/bin/bash
# conf-examples/ as an operator installs it: the drop-in 50-ctxlog.conf with the other
# example files in place (paths moved from /etc/ctxlog to a private directory, the
# secrets and certificates they name created) passes rsyslogd -N1; and a mistake in
# any one of the example files makes -N1 fail with a message naming that file.
# (tests/system/package.sh does the same with the examples the package installs.)
. "$top_srcdir/tests/lib/harness.sh"
. "$top_srcdir/tests/lib/examples.sh"
ctx_init conf_examples
etc="$CTX_WORK/etc"
ctx_examples_place "$top_srcdir/conf-examples" "$etc"
ctx_examples_validate "$etc" "the drop-in with the examples in place"
if grep -qiE "error|warning" "$CTX_WORK/n1.out"; then cat "$CTX_WORK/n1.out"; ctx_fail "errors or warnings in the -N1 output"; fi

# one tenant per format the tenants file knows (docs/omtenant.md "Body formats"), and per stream transport
for f in ndjson json-array otlp otlp-json elasticsearch loki splunk-hec; do
    [ "$(jq -r --arg f "$f" '[.tenants[] | select(.transport == "https" and (.format // "ndjson") == $f)] | length' \
        "$top_srcdir/conf-examples/tenants.json")" -ge 1 ] || ctx_fail "conf-examples/tenants.json has no tenant of format $f"
done
jq -e '[.tenants[] | select(.transport == "syslog-tls")] | length >= 1' "$top_srcdir/conf-examples/tenants.json" >/dev/null ||
    ctx_fail "conf-examples/tenants.json has no syslog-tls tenant"

# each variant validates on its own (installed instead of 50-ctxlog.conf), cleanly
nv=0
for v in "$etc"/variants/*.conf; do
    echo "include(file=\"$v\")" | ctx_conf
    ctx_validate_ok "variants/$(basename "$v")"
    if grep -qiE "error|warning" "$CTX_WORK/n1.out"; then cat "$CTX_WORK/n1.out"; ctx_fail "variants/$(basename "$v"): errors or warnings"; fi
    grep -q "INSTEAD of" "$v" || ctx_fail "variants/$(basename "$v") does not say it replaces 50-ctxlog.conf"
    nv=$((nv + 1))
done
[ "$nv" -ge 2 ] || ctx_fail "expected at least 2 variants, found $nv"
# no other .conf beside the complete drop-in: a second drop-in would load the modules twice
extra=$(cd "$top_srcdir/conf-examples" && ls ./*.conf | grep -v '^./50-ctxlog.conf$' || true)
[ -z "$extra" ] || ctx_fail "conf-examples/ holds drop-ins besides 50-ctxlog.conf: $extra"
echo "include(file=\"$etc/50-ctxlog.conf\")" | ctx_conf

# each example file is really read: a mistake in it is reported with its name
n=0
break_file() { # FILE SED-EXPRESSION
    local f="$etc/$1"
    cp "$f" "$f.good"
    sed -i "$2" "$f"
    if ctx_validate; then ctx_fail "-N1 accepted a broken $1"; fi
    grep -q -F "$f" "$CTX_WORK/n1.out" || { cat "$CTX_WORK/n1.out"; ctx_fail "the error does not name $f"; }
    mv "$f.good" "$f"
    n=$((n + 1))
}
break_file profiles.json 's/"vms"/"vmz"/'
break_file policy.rules '0,/^rule /s/^rule /rulez /'
break_file tenants.json 's/"transport": "https"/"transport": "carrier-pigeon"/'
break_file redaction.rules 's/^pattern = .*/pattern = ([unclosed/'
break_file cm-nova.json 's/"pointer"/"pointr"/'
# a tenant naming a redaction view the rules do not define: a warning naming both files
cp "$etc/tenants.json" "$etc/tenants.json.good"
sed -i 's/"redaction": "acme"/"redaction": "acme-typo"/' "$etc/tenants.json"
ctx_validate || { cat "$CTX_WORK/n1.out"; ctx_fail "-N1 refused an undefined redaction view (a warning, not an error)"; }
ctx_assert_grep "$CTX_WORK/n1.out" "omtenant: warning: $etc/tenants.json: tenants.initech.redaction: names the view 'acme-typo', which $etc/redaction.rules does not define"
mv "$etc/tenants.json.good" "$etc/tenants.json"
ctx_validate || { cat "$CTX_WORK/n1.out"; ctx_fail "restored files no longer validate"; }
ctx_pass "the drop-in and $nv variants validate cleanly with the examples in place; a mistake in each of $n example files is named; an undefined redaction view is a warning"
