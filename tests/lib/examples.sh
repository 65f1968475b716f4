# shellcheck shell=bash
# tests/lib/examples.sh: ctxlog's example files put in place as an operator does
# (source it after tests/lib/harness.sh, call it after ctx_init).
#
#   ctx_examples_place SRCDIR ETC [path|name]
#   ctx_examples_validate ETC WHAT
#
# Copies each file of SRCDIR (conf-examples/, or the package's
# /usr/share/doc/ctxlog/examples/), subdirectories included, into ETC with /etc/ctxlog/ moved to ETC and
# /var/log/ctxlog/ to $CTX_WORK/log/. With "path" (the default) module(load="NAME")
# loads the module built in $CTX_MODDIR; with "name" it stays as written, so rsyslogd
# takes the module from its own module directory (an installed package). Then creates
# what the examples refer to: the compute manager's token and CA, the tenants' secrets
# and certificates, the redaction key.
ctx_examples_place() {
    local src=$1 etc=$2 load=${3:-path} f modsed=
    [ "$load" = name ] || modsed="s|module(load=\"\([a-z]*\)\")|module(load=\"$CTX_MODDIR/\1/\1.so\")|"
    mkdir -p "$etc" "$CTX_WORK/log" "$etc/secrets" "$etc/tls"
    (cd "$src" && find . -type f | sed 's|^\./||') | while read -r f; do
        mkdir -p "$(dirname "$etc/$f")"
        sed -e "s|/etc/ctxlog/|$etc/|g" -e "s|/var/log/ctxlog/|$CTX_WORK/log/|g" -e "$modsed" "$src/$f" >"$etc/$f"
    done
    mkdir -p "$CTX_WORK/pki"
    /usr/bin/python3 "$top_srcdir/tests/lib/cmserver.py" mkca "$CTX_WORK/pki" >/dev/null || ctx_fail "test CA"
    cp "$CTX_WORK/pki/ca.pem" "$etc/cm-ca.pem"
    cp "$CTX_WORK/pki/ca.pem" "$etc/tls/ca.pem"
    cp "$CTX_WORK/pki/server.pem" "$etc/tls/client.pem"
    cp "$CTX_WORK/pki/server.key" "$etc/tls/client.key"
    echo "token-$RANDOM" >"$etc/cm.token"
    echo "password-$RANDOM" >"$etc/cm.password"
    echo "token-$RANDOM" >"$etc/secrets/acme.token"
    echo "password-$RANDOM" >"$etc/secrets/globex.password"
    echo "token-$RANDOM" >"$etc/secrets/piedpiper.token"
    echo "password-$RANDOM" >"$etc/secrets/umbrella.password"
    echo "hec-$RANDOM" >"$etc/secrets/wonka.hec-token"
    head -c 32 /dev/urandom >"$etc/redaction.key"
    chmod 600 "$etc"/cm.token "$etc"/cm.password "$etc"/secrets/* "$etc"/tls/client.key "$etc/redaction.key"
}

# ctx_examples_validate ETC WHAT: rsyslogd -N1 on a config that includes ETC/50-ctxlog.conf
# (the drop-in of ctx_examples_place) must accept it ("rsyslogd -N1 rejected WHAT")
ctx_examples_validate() {
    echo "include(file=\"$1/50-ctxlog.conf\")" | ctx_conf
    ctx_validate_ok "$2"
    ctx_assert_grep "$CTX_WORK/n1.out" "End of config validation run"
}
