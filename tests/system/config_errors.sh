#!/bin/bash
# rsyslogd -N1 accepts a config that loads all three modules from the build tree,
# and rejects each bad parameter with one clear line naming the parameter, the value
# and what was expected (and the config file and line, where rsyslog knows them).
. "$top_srcdir/tests/lib/harness.sh"
ctx_init config_errors
echo '{"vms": []}' >"$CTX_WORK/profiles.json"
echo '{"tenants": {}}' >"$CTX_WORK/tenants.json"

load='module(load="@MODDIR@/imctxcap/imctxcap.so")
module(load="@MODDIR@/mmctxenrich/mmctxenrich.so")
module(load="@MODDIR@/omtenant/omtenant.so")'
good_in='input(type="imctxcap" interface="vnet*,tap*" profiles="@WORK@/profiles.json")'
good_out='action(type="mmctxenrich")
action(type="omtenant" tenants="@WORK@/tenants.json")'

# 1. a good config validates
printf '%s\n%s\n%s\n' "$load" "$good_in" "$good_out" | ctx_conf
ctx_validate_ok "the good config"
ctx_assert_grep "$CTX_WORK/n1.out" "End of config validation run"

# 2. each bad line: the statement replacing the good input/action, and the exact message expected
n=0
check_bad() {
    local stmt=$1 expect=$2 mod
    mod=$(sed -n 's/.*type="\([a-z]*\)".*/\1/p' <<<"$stmt")
    n=$((n + 1))
    printf 'module(load="@MODDIR@/%s/%s.so")\n%s\naction(type="omfile" file="@WORK@/out")\n' "$mod" "$mod" "$stmt" | ctx_conf
    if ctx_validate; then ctx_fail "case $n: rsyslogd -N1 accepted: $stmt"; fi
    # LINE stands for the line of the statement in the generated config
    expect=${expect//LINE/$(grep -n -F "${stmt:0:20}" "$CTX_CONF" | head -1 | cut -d: -f1)}
    ctx_assert_grep "$CTX_WORK/n1.out" "$expect"
    # exactly one error line from our modules: no follow-on noise
    local errs
    errs=$(grep -c -E "imctxcap|mmctxenrich|omtenant|not known|required but not specified" "$CTX_WORK/n1.out")
    [ "$errs" = 1 ] || { cat "$CTX_WORK/n1.out"; ctx_fail "case $n: expected one error line, got $errs"; }
}
cf="$CTX_WORK/rsyslog.conf"
check_bad 'input(type="imctxcap" interface="vnet*" profiles="@WORK@/profiles.json" unattributed="maybe")' \
    "error during parsing file $cf, on or before line LINE: imctxcap: parameter 'unattributed': expected 'drop' or 'pass', got 'maybe'"
check_bad 'input(type="imctxcap" interface="vnet*" profiles="@WORK@/profiles.json" udp.port="514,70000")' \
    "imctxcap: parameter 'udp.port': expected a port number 1..65535, got '70000'"
check_bad 'input(type="imctxcap" interface="vnet*" profiles="@WORK@/profiles.json" udp.port="syslog")' \
    "imctxcap: parameter 'udp.port': expected a port number 1..65535, got 'syslog'"
check_bad 'input(type="imctxcap" interface="vnet*" profiles="@WORK@/profiles.json" snapLen="64")' \
    "imctxcap: parameter 'snapLen': expected 128..262144, got 64"
check_bad 'input(type="imctxcap" interface="vnet*" profiles="@WORK@/profiles.json" ringSize="1k")' \
    "imctxcap: parameter 'ringSize': expected at least 64k, got 1024"
check_bad 'input(type="imctxcap" interface="vnet*" profiles="@WORK@/profiles.json" fragment.maxMemory="4095")' \
    "imctxcap: parameter 'fragment.maxMemory': expected 4096 (4k) .. 1g, got 4095"
check_bad 'input(type="imctxcap" interface="vnet*" profiles="@WORK@/profiles.json" vm.maxPacketsPerSecond="2000000000")' \
    "imctxcap: parameter 'vm.maxPacketsPerSecond': expected 0 (off) .. 1000000000, got 2000000000"
check_bad 'input(type="imctxcap" interface="vnet*" profiles="@WORK@/profiles.json" vm.maxStatsObjects="100001")' \
    "imctxcap: parameter 'vm.maxStatsObjects': expected 0 (none) .. 100000, got 100001"
check_bad 'input(type="imctxcap" interface="vnet*" profiles="@WORK@/profiles.json" vm.maxBytesPerSecond="2t")' \
    "imctxcap: parameter 'vm.maxBytesPerSecond': expected 0 (off) .. 1t, got 2199023255552"
check_bad 'input(type="imctxcap" interface="vnet*" profiles="@WORK@/profiles.json" fragment.timeout="100000000")' \
    "imctxcap: parameter 'fragment.timeout': expected 1..86400000 (ms), got 100000000"
check_bad 'input(type="imctxcap" interface="vnet*" profiles="@WORK@/profiles.json" fragment.maxMemoryPerVnic="1k")' \
    "imctxcap: parameter 'fragment.maxMemoryPerVnic': expected 4096 (4k) .. 1g, got 1024"
check_bad 'input(type="imctxcap" interface="vnet*" profiles="@WORK@/profiles.json" fragment.maxMemoryPerVnic="8m")' \
    "imctxcap: parameter 'fragment.maxMemoryPerVnic': expected at most fragment.maxMemory (4194304), got 8388608"
check_bad 'input(type="imctxcap" interface="vnet*" profiles="@WORK@/profiles.json" bogus="1")' \
    "parameter 'bogus' not known -- typo in config file?"
check_bad 'input(type="imctxcap" interface="vnet*" profiles="@WORK@/nonexistent.json")' \
    "imctxcap: parameter 'profiles': $CTX_WORK/nonexistent.json: cannot read: No such file or directory"
check_bad 'input(type="imctxcap" interface="vnet*")' \
    "imctxcap: parameter 'profiles' or 'profiles.libvirt' is required (a profiles file, a libvirt connection URI, or both)"
check_bad 'input(type="imctxcap" interface="vnet*" profiles.libvirt="qemu system")' \
    "imctxcap: parameter 'profiles.libvirt': \"qemu system\": expected a libvirt connection URI like \"qemu:///system\""
check_bad 'action(type="mmctxenrich" profiles.libvirt="/var/run/libvirt")' \
    "mmctxenrich: parameter 'profiles.libvirt': \"/var/run/libvirt\": expected a libvirt connection URI like \"qemu:///system\""
check_bad 'action(type="mmctxenrich" sample.interval="5000")' \
    "mmctxenrich: parameter 'sample.interval': expected 1..3600 seconds, got 5000"
check_bad 'action(type="mmctxenrich" policy="@WORK@/no-such.rules")' \
    "mmctxenrich: parameter 'policy': cannot read '$CTX_WORK/no-such.rules': No such file or directory"
check_bad 'action(type="omtenant" tenants="@WORK@/missing.json")' \
    "omtenant: parameter 'tenants': cannot read '$CTX_WORK/missing.json': No such file or directory"
check_bad 'action(type="omtenant" tenants="@WORK@/tenants.json" tenant.property="ctx!vm!tenant")' \
    "omtenant: parameter 'tenant.property': expected a JSON property such as '\$!ctx!vm!tenant', got 'ctx!vm!tenant'"
check_bad 'action(type="omtenant")' \
    "parameter 'tenants' required but not specified"
echo '{"tenants": {"acme": {"transport": "ftp"}}}' >"$CTX_WORK/bad-tenants.json"
echo '{"tenants": {"acme": {"transport": "https", "url": "https://logs.example/"}}}' >"$CTX_WORK/one-tenant.json"
printf '[rule x]\npattern = (\n' >"$CTX_WORK/bad.rules"
check_bad 'action(type="omtenant" tenants="@WORK@/bad-tenants.json")' \
    "omtenant: parameter 'tenants': $CTX_WORK/bad-tenants.json:1: tenants.acme.transport: expected \"syslog-tls\", \"https\" or \"plain-tcp\", got \"ftp\""
check_bad 'action(type="omtenant" tenants="@WORK@/one-tenant.json" redaction.rules="@WORK@/bad.rules")' \
    "omtenant: parameter 'redaction.rules': $CTX_WORK/bad.rules:2: [rule x] pattern: PCRE2 error at offset 1: missing closing parenthesis"
check_bad 'action(type="omtenant" tenants="@WORK@/one-tenant.json" compression.level="99")' \
    "omtenant: parameter 'compression.level': expected -5..19, got 99"
check_bad 'action(type="omtenant" tenants="@WORK@/one-tenant.json" ctxMemo.entries="-1")' \
    "omtenant: parameter 'ctxMemo.entries': expected 0..65536, got -1"
check_bad 'action(type="omtenant" tenants="@WORK@/one-tenant.json" redaction.multiline.begin="BEGIN DUMP")' \
    "omtenant: parameters 'redaction.multiline.*': multi-line secrets: begin and end: expected both or neither"
check_bad 'action(type="omtenant" tenants="@WORK@/one-tenant.json" redaction.multiline.maxSenders="0")' \
    "omtenant: parameter 'redaction.multiline.maxSenders': expected 1..65536, got 0"
check_bad 'action(type="omtenant" tenants="@WORK@/one-tenant.json" spool.directory="/x" deadletter.directory="/x")' \
    "omtenant: parameters 'spool.directory' and 'deadletter.directory': expected two different directories, got '/x' for both"
# the formats of an https tenant (issue 17): zstd where the product takes gzip only, a per-message Loki
# label, a format's own template; "body" is still accepted, with a deprecation warning
echo '{"tenants": {"acme": {"transport": "https", "url": "https://es.example:9200", "format": "elasticsearch",
  "content_encoding": "zstd", "elasticsearch": {"data_stream": "logs-ctxlog-acme"}}}}' >"$CTX_WORK/es-zstd.json"
check_bad 'action(type="omtenant" tenants="@WORK@/es-zstd.json")' \
    "omtenant: parameter 'tenants': $CTX_WORK/es-zstd.json:2: tenants.acme.content_encoding: \"zstd\" is not accepted by Elasticsearch's bulk API (it takes gzip request bodies only): use \"gzip\" or \"none\""
echo '{"tenants": {"acme": {"transport": "https", "url": "https://loki.example", "format": "loki",
  "loki": {"labels": ["vm.name", "time"]}}}}' >"$CTX_WORK/loki-label.json"
check_bad 'action(type="omtenant" tenants="@WORK@/loki-label.json")' \
    "omtenant: parameter 'tenants': $CTX_WORK/loki-label.json:2: tenants.acme.loki.labels[1]: \"time\" is different for (almost) every message: a Loki label must have few values (each label set is a stream Loki indexes); it is sent as structured metadata instead"
echo '{"tenants": {"acme": {"transport": "https", "url": "https://loki.example", "format": "loki"}}}' >"$CTX_WORK/loki.json"
check_bad 'action(type="omtenant" tenants="@WORK@/loki.json" template="RSYSLOG_FileFormat")' \
    "omtenant: parameter 'template': 'RSYSLOG_FileFormat' cannot be used with tenant 'acme' (line 1): its format \"loki\" builds its own records from the message's fields; use a separate omtenant action for it, without template="
echo '{"tenants": {"acme": {"transport": "https", "url": "https://logs.example/", "body": "json-array"}}}' \
    >"$CTX_WORK/body-tenants.json"
printf '%s\n%s\n' 'module(load="@MODDIR@/omtenant/omtenant.so")' 'action(type="omtenant" tenants="@WORK@/body-tenants.json")' | ctx_conf
ctx_validate_ok "the deprecated \"body\""
ctx_assert_grep "$CTX_WORK/n1.out" "omtenant: warning: $CTX_WORK/body-tenants.json:1: tenants.acme.body: deprecated: use \"format\": \"json-array\""

# 3. a tenant naming a redaction view the rules do not define: accepted, with a warning naming both files
echo '{"tenants": {"acme": {"transport": "https", "url": "https://logs.example/", "redaction": "strict"}}}' \
    >"$CTX_WORK/view-tenants.json"
printf '[tenant acme]\ndisable = email\n' >"$CTX_WORK/views.rules"
printf '%s\n%s\n' 'module(load="@MODDIR@/omtenant/omtenant.so")' \
    'action(type="omtenant" tenants="@WORK@/view-tenants.json" redaction.rules="@WORK@/views.rules")' | ctx_conf
ctx_validate_ok "a tenant naming an undefined view"
ctx_assert_grep "$CTX_WORK/n1.out" "omtenant: warning: $CTX_WORK/view-tenants.json: tenants.acme.redaction: names the view 'strict', which $CTX_WORK/views.rules does not define (expected a [tenant strict] section or a rule's 'tenants'); tenant 'acme' gets the global rules"
sed -i 's/"strict"/"acme"/' "$CTX_WORK/view-tenants.json"
ctx_validate_ok "a tenant naming its view"
if grep -q "names the view" "$CTX_WORK/n1.out"; then cat "$CTX_WORK/n1.out"; ctx_fail "warning for a view that exists"; fi

# 4. an operator's template while a tenant is "vm-only": accepted, with a warning that its
# output is not filtered per tenant; none once every tenant is "full", and a bad context key
printf '%s\n%s\n%s\n' 'module(load="@MODDIR@/omtenant/omtenant.so")' 'template(name="mine" type="string" string="%msg%")' \
    'action(type="omtenant" tenants="@WORK@/view-tenants.json" template="mine")' | ctx_conf
ctx_validate_ok "a template with a vm-only tenant"
ctx_assert_grep "$CTX_WORK/n1.out" "omtenant: warning: template 'mine': host-wide \$!ctx fields in its output are not withheld per tenant (tenant 'acme' is \"context\": {\"host\": \"vm-only\"})"
sed -i 's/"redaction": "acme"/"context": {"host": "full"}/' "$CTX_WORK/view-tenants.json"
ctx_validate_ok "a full tenant"
if grep -q "not withheld per tenant" "$CTX_WORK/n1.out"; then cat "$CTX_WORK/n1.out"; ctx_fail "template warning with no vm-only tenant"; fi
sed -i 's/"full"/"all"/' "$CTX_WORK/view-tenants.json"
! ctx_validate || ctx_fail "rsyslogd -N1 accepted context.host \"all\""
ctx_assert_grep "$CTX_WORK/n1.out" "omtenant: parameter 'tenants': $CTX_WORK/view-tenants.json:1: tenants.acme.context.host: expected \"vm-only\" or \"full\", got \"all\""

ctx_pass "good config accepted, $n bad configs rejected with their messages"
