#!/bin/bash
# conf-examples/ as an operator installs it: the drop-in 50-ctxlog.conf with the other
# example files in place (paths moved from /etc/ctxlog to a private directory, the
# secrets and certificates they name created) passes rsyslogd -N1; and a mistake in
# any one of the example files makes -N1 fail with a message naming that file.
. "$top_srcdir/tests/lib/harness.sh"
ctx_init conf_examples
etc="$CTX_WORK/etc"
mkdir -p "$etc" "$CTX_WORK/log" "$etc/secrets" "$etc/tls"
for f in "$top_srcdir"/conf-examples/*; do
    sed -e "s|/etc/ctxlog/|$etc/|g" -e "s|/var/log/ctxlog/|$CTX_WORK/log/|g" \
        -e "s|module(load=\"\([a-z]*\)\")|module(load=\"$CTX_MODDIR/\1/\1.so\")|" "$f" >"$etc/$(basename "$f")"
done
# what the examples refer to: the compute manager's token and CA, the tenants' secrets
# and certificates, the redaction key
mkdir -p "$CTX_WORK/pki"
/usr/bin/python3 "$top_srcdir/tests/lib/cmserver.py" mkca "$CTX_WORK/pki" >/dev/null || ctx_fail "test CA"
cp "$CTX_WORK/pki/ca.pem" "$etc/cm-ca.pem"
cp "$CTX_WORK/pki/ca.pem" "$etc/tls/ca.pem"
cp "$CTX_WORK/pki/server.pem" "$etc/tls/client.pem"
cp "$CTX_WORK/pki/server.key" "$etc/tls/client.key"
echo "token-$RANDOM" >"$etc/cm.token"
echo "token-$RANDOM" >"$etc/secrets/acme.token"
echo "password-$RANDOM" >"$etc/secrets/globex.password"
head -c 32 /dev/urandom >"$etc/redaction.key"
chmod 600 "$etc"/cm.token "$etc"/secrets/* "$etc"/tls/client.key "$etc/redaction.key"
ctx_conf <<CONF
include(file="$etc/50-ctxlog.conf")
CONF

ctx_validate || { cat "$CTX_WORK/n1.out"; ctx_fail "rsyslogd -N1 rejected the drop-in with the examples in place"; }
ctx_assert_grep "$CTX_WORK/n1.out" "End of config validation run"
if grep -q "error" "$CTX_WORK/n1.out"; then cat "$CTX_WORK/n1.out"; ctx_fail "errors in the -N1 output"; fi

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
ctx_validate || { cat "$CTX_WORK/n1.out"; ctx_fail "restored files no longer validate"; }
ctx_pass "the drop-in validates with the examples in place; a mistake in each of $n example files is named"
