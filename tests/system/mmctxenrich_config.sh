#!/bin/bash
# rsyslogd -N1 rejects each bad mmctxenrich setting with one line naming the config file
# and line, the parameter, the value and what was expected; for files (policy, profiles,
# field mapping) also the file's own line or key. A complete good config and the shipped
# example (conf-examples/variants/capture-enrich-local.conf) validate.
. "$top_srcdir/tests/lib/harness.sh"
ctx_init mmctxenrich_config
W=$CTX_WORK
echo '{"vms": [{"name": "a", "tenant": "t"}]}' >"$W/profiles.json"
printf 'rule a then standard\nrule b when severity <= err then verbose\n' >"$W/good.rules"
printf 'rule a then standard\n\nrule b when sev <= err then verbose\n' >"$W/bad.rules"
echo '{"vm": {"fields": {"guest_os": {"pointer": "/os", "type": "string"}}}}' >"$W/vm-only.json"
echo '{"vm": {"fields": {"guest_os": {"pointer": "os", "type": "string"}}}}' >"$W/bad-map.json"
echo tok >"$W/token"
chmod 600 "$W/token" # a secret: group- or world-readable ones are warned about
echo '{"vms": [{"name": "x", "tenant": "t", "cgroup": "/sys/fs/cgroup/m/{id}"}]}' >"$W/bad-cg.json"
echo '{"vms": [{"name": "x", "tenant": "t", "ipv4": "1.2.3"}]}' >"$W/bad-prof.json"
load='module(load="@MODDIR@/mmctxenrich/mmctxenrich.so")'
out='action(type="omfile" file="@WORK@/out")'

# a good, complete config validates
printf '%s\n%s\n%s\n' "$load" 'action(type="mmctxenrich" name="all" policy="@WORK@/good.rules" profiles="@WORK@/profiles.json"
  sample.interval="2" host.diskPaths=["/", "/tmp"] host.cgroupTemplate="machine.slice/machine-qemu*{name_sd}.scope"
  cm.url="https://cm.example/servers/{uuid}" cm.statsUrl="https://cm.example/servers/{uuid}/diagnostics"
  cm.bulkUrl="https://cm.example/servers/detail" cm.hostUrl="https://cm.example/os-hypervisors/{name}"
  cm.mapping="@TOP@/conf-examples/cm-nova.json" cm.tokenFile="@WORK@/token" cm.timeout="3000" cm.ratePerSec="2.5"
  cache.maxEntries="100" cache.dynamicTTL="60000" cache.hostTTL="120000")' "$out" | ctx_conf
ctx_validate || { cat "$W/n1.out"; ctx_fail "rsyslogd -N1 rejected the good config"; }

# the shipped example validates (module paths and /etc/ctxlog files pointed at this tree)
mkdir -p "$W/etc"
cp "$top_srcdir/conf-examples/profiles.json" "$top_srcdir/conf-examples/policy.rules" "$top_srcdir/conf-examples/cm-nova.json" "$W/etc/"
echo tok >"$W/etc/cm.token"
echo pw >"$W/etc/cm.password"
chmod 600 "$W/etc/cm.token" "$W/etc/cm.password"
cp /etc/ssl/certs/ca-certificates.crt "$W/etc/cm-ca.pem"
sed -e 's|module(load="\([a-z]*\)")|module(load="@MODDIR@/\1/\1.so")|' -e 's|/etc/ctxlog/|@WORK@/etc/|g' \
    -e 's|/var/log/ctxlog/|@WORK@/|g' "$top_srcdir/conf-examples/variants/capture-enrich-local.conf" | ctx_conf
ctx_validate || { cat "$W/n1.out"; ctx_fail "rsyslogd -N1 rejected conf-examples/variants/capture-enrich-local.conf"; }

n=0
check_bad() { # statement expected-text
    local stmt=$1 expect=$2 line
    n=$((n + 1))
    printf '%s\n%s\n%s\n' "$load" "$stmt" "$out" | ctx_conf
    if ctx_validate; then ctx_fail "case $n: rsyslogd -N1 accepted: $stmt"; fi
    line=$(grep -n -F "${stmt:0:30}" "$CTX_CONF" | head -1 | cut -d: -f1)
    ctx_assert_grep "$W/n1.out" "error during parsing file $CTX_CONF, on or before line $line: $expect"
    local errs
    errs=$(grep -c "mmctxenrich: \|not known\|required but not specified" "$W/n1.out")
    [ "$errs" = 1 ] || { cat "$W/n1.out"; ctx_fail "case $n: expected one error line, got $errs"; }
}
A='action(type="mmctxenrich" '
check_bad "$A"'policy="@WORK@/bad.rules")' \
    "mmctxenrich: parameter 'policy': $W/bad.rules:3: a field (severity, facility, tenant, vm, uuid, app, msg), got \"sev\""
check_bad "$A"'policy="@WORK@/none.rules")' \
    "mmctxenrich: parameter 'policy': cannot read '$W/none.rules': No such file or directory"
check_bad "$A"'profiles="@WORK@/bad-prof.json")' \
    "mmctxenrich: parameter 'profiles': $W/bad-prof.json: line 1: vms[0].ipv4: expected"
check_bad "$A"'profiles="@WORK@/bad-cg.json")' \
    "mmctxenrich: parameter 'profiles': $W/bad-cg.json: vm 'x': cgroup 'm/{id}': unknown placeholder '{id}' (expected {name}, {uuid} or {name_sd})"
check_bad "$A"'sample.interval="5000")' \
    "mmctxenrich: parameter 'sample.interval': expected 1..3600 seconds, got 5000"
check_bad "$A"'host.diskPaths="var/log")' \
    "mmctxenrich: parameter 'host.diskPaths': 'var/log' must be an absolute path"
check_bad "$A"'host.cgroupTemplate="machine.slice/../x")' \
    "mmctxenrich: parameter 'host.cgroupTemplate': cgroup 'machine.slice/../x': component '..' not allowed"
check_bad "$A"'host.pidfileTemplate="run/{name}.pid")' \
    "mmctxenrich: parameter 'host.pidfileTemplate': pidfile 'run/{name}.pid': must be an absolute path"
check_bad "$A"'cm.url="https://cm/servers/{uuid}")' \
    "mmctxenrich: parameter 'cm.mapping': required with cm.url, cm.statsUrl, cm.bulkUrl or cm.hostUrl"
check_bad "$A"'cm.mapping="@WORK@/vm-only.json")' \
    "mmctxenrich: parameter 'cm.mapping': set, but no cm.url, cm.statsUrl, cm.bulkUrl or cm.hostUrl to use it with"
check_bad "$A"'cm.statsUrl="https://cm/s/{uuid}" cm.mapping="@WORK@/vm-only.json")' \
    "mmctxenrich: parameter 'cm.statsUrl': the field mapping '$W/vm-only.json' has no \"stats\" section"
check_bad "$A"'cm.url="https://cm/s/{uuid}" cm.mapping="@WORK@/bad-map.json")' \
    "mmctxenrich: parameter 'cm.mapping': $W/bad-map.json: /vm/fields/guest_os/pointer: expected a JSON pointer string"
check_bad "$A"'cm.url="https://cm/servers/{id}" cm.mapping="@WORK@/vm-only.json")' \
    "mmctxenrich: parameter 'cm.url': unknown placeholder '{id}' at offset 19 (expected {uuid}, {name}, {host} or {section.field})"
check_bad "$A"'cm.hostUrl="https://cm/hv/{id}" cm.mapping="@TOP@/conf-examples/cm-nova.json")' \
    "mmctxenrich: parameter 'cm.hostUrl': unknown placeholder '{id}' at offset 14 (expected {uuid}, {name}, {host} or {section.field})"
check_bad "$A"'cm.url="ftp://cm/{uuid}" cm.mapping="@WORK@/vm-only.json")' \
    "mmctxenrich: parameter 'cm.url': 'ftp://cm/{uuid}' must start with http:// or https://"
check_bad "$A"'cm.url="http://cm/{uuid}" cm.mapping="@WORK@/vm-only.json")' \
    "mmctxenrich: parameter 'cm.url': 'http://cm/{uuid}' would send the token and the VMs' data in clear: expected https://, or cm.allowInsecure=\"on\""
check_bad "$A"'cm.hostUrl="http://cm/hv/{name}" cm.hostName="h" cm.mapping="@TOP@/conf-examples/cm-nova.json")' \
    "mmctxenrich: parameter 'cm.hostUrl': 'http://cm/hv/{name}' would send the token and the VMs' data in clear: expected https://, or cm.allowInsecure=\"on\""
check_bad "$A"'cm.url="https://cm/{uuid}" cm.mapping="@WORK@/vm-only.json" cm.tokenFile="@WORK@/token" cm.user="u" cm.password="p")' \
    "mmctxenrich: parameter 'cm.tokenFile': cannot be combined with cm.user (choose bearer or basic auth)"
# compute-manager logins (cm.auth) and {section.field} placeholders
printf 'pw\n' >"$W/pw-g"
chmod 0640 "$W/pw-g"
printf 'pw\n' >"$W/pw"
chmod 0600 "$W/pw"
KS='cm.auth="keystone" cm.user="u" cm.passwordFile="@WORK@/pw" cm.mapping="@TOP@/conf-examples/cm-nova.json" '
check_bad "$A"'cm.url="https://cm/{uuid}" cm.auth="keystone" cm.authUrl="https://ks/v3/auth/tokens" cm.user="u" cm.passwordFile="@WORK@/pw-g" cm.mapping="@WORK@/vm-only.json")' \
    "mmctxenrich: parameter 'cm.passwordFile': '$W/pw-g' cannot hold a secret: readable by its group (mode 0640): expected 0600"
check_bad "$A$KS"'cm.url="https://cm/{uuid}" cm.authUrl="http://ks/v3/auth/tokens")' \
    "mmctxenrich: parameter 'cm.authUrl': 'http://ks/v3/auth/tokens' would send the credentials in clear: expected https://, or cm.allowInsecure=\"on\""
check_bad "$A$KS"'cm.url="https://cm/{uuid}")' \
    "mmctxenrich: parameter 'cm.authUrl': required with cm.auth=\"keystone\""
check_bad "$A"'cm.url="https://cm/{uuid}" cm.mapping="@WORK@/vm-only.json" cm.auth="ldap")' \
    "mmctxenrich: parameter 'cm.auth': expected \"keystone\" or \"vcenter\", got 'ldap'"
check_bad "$A"'cm.url="https://cm/{uuid}" cm.mapping="@WORK@/vm-only.json" cm.passwordFile="@WORK@/pw")' \
    "mmctxenrich: parameter 'cm.passwordFile': only with cm.auth=\"keystone\" or \"vcenter\""
check_bad "$A"'cm.statsUrl="https://cm/s/{bulky.x}" cm.mapping="@TOP@/conf-examples/cm-nova.json")' \
    "mmctxenrich: parameter 'cm.statsUrl': placeholder '{bulky.x}': no section is named \"bulky\" (expected {section.field} with section one of: vm, bulk, hostid)"
check_bad "$A"'cm.bulkUrl="https://cm/s?x={bulk.vm_state}" cm.mapping="@TOP@/conf-examples/cm-nova.json")' \
    "mmctxenrich: parameter 'cm.bulkUrl': placeholder '{bulk.vm_state}': cannot take a value from \"bulk\" (expected {section.field} with section one of: hostid)"
printf '{"stats": {"fields": {"avg_vm_cpu_pct": {"pointer": "/cpu", "type": "number"}}}}\n' >"$W/stats-only.json"
check_bad "$A"'cm.statsUrl="https://vc/{bulk.vm_moid}/summary" cm.mapping="@WORK@/stats-only.json")' \
    "mmctxenrich: parameter 'cm.statsUrl': placeholder '{bulk.vm_moid}': the field mapping '$W/stats-only.json' has no \"bulk\" section to take it from"
check_bad "$A"'cm.statsUrl="https://vc/{bulk.moid}/summary" cm.bulkUrl="https://vc/vms" cm.mapping="@TOP@/conf-examples/cm-vcenter.json")' \
    "mmctxenrich: parameter 'cm.statsUrl': placeholder '{bulk.moid}': section \"bulk\" of '$top_srcdir/conf-examples/cm-vcenter.json' maps no field \"moid\" (it maps: vm_moid, power_state, vcpus, mem_mb)"
check_bad "$A"'cm.hostUrl="https://cm/h/{hostid.hypervisor_id}" cm.mapping="@TOP@/conf-examples/cm-nova.json")' \
    "mmctxenrich: parameter 'cm.hostUrl': placeholder '{hostid.hypervisor_id}' needs cm.hostIdUrl (the request that fetches section \"hostid\")"
printf '{"stats": {"path": "/x/{bulk.vm}", "fields": {"avg_vm_cpu_pct": {"pointer": "/cpu", "type": "number"}}}}\n' >"$W/bad-path.json"
check_bad "$A"'cm.statsUrl="https://cm/s/{uuid}" cm.mapping="@WORK@/bad-path.json")' \
    "mmctxenrich: parameter 'cm.mapping': $W/bad-path.json: /stats/path: placeholder '{bulk.vm}': the field mapping '$W/bad-path.json' has no \"bulk\" section to take it from"
echo "tok-$RANDOM" >"$W/open-token"
chmod 0666 "$W/open-token"
check_bad "$A"'cm.url="https://cm/{uuid}" cm.mapping="@WORK@/vm-only.json" cm.tokenFile="@WORK@/open-token")' \
    "mmctxenrich: parameter 'cm.tokenFile': '$W/open-token' cannot hold a secret: writable by every user (mode 0666): expected 0600"
check_bad "$A"'cm.url="https://cm/{uuid}" cm.mapping="@WORK@/vm-only.json" cm.tokenFile="@WORK@/no-token")' \
    "mmctxenrich: parameter 'cm.tokenFile': cannot read '$W/no-token': No such file or directory"
check_bad "$A"'cm.url="https://cm/{uuid}" cm.mapping="@WORK@/vm-only.json" cm.ratePerSec="fast")' \
    "mmctxenrich: parameter 'cm.ratePerSec': expected a number of requests per second, got 'fast'"
check_bad "$A"'cm.url="https://cm/{uuid}" cm.mapping="@WORK@/vm-only.json" cm.ratePerSec="0")' \
    "mmctxenrich: parameter 'cm.ratePerSec': must be > 0 and <= 100000 (got 0)"
check_bad "$A"'cm.url="https://cm/{uuid}" cm.mapping="@WORK@/vm-only.json" cm.timeout="0")' \
    "mmctxenrich: parameter 'cm.timeout': must be between 1 and 600000 (got 0)"
check_bad "$A"'cm.url="https://cm/{uuid}" cm.mapping="@WORK@/vm-only.json" cache.maxEntries="0")' \
    "mmctxenrich: parameter 'cache.maxEntries': must be >= 1 (got 0)"
check_bad "$A"'cm.url="https://cm/{uuid}" cm.mapping="@WORK@/vm-only.json" cache.jitter="101")' \
    "mmctxenrich: parameter 'cache.jitter': must be <= 100 (got 101)"
check_bad "$A"'cm.url="https://cm/{uuid}" cm.mapping="@WORK@/vm-only.json" cache.hostTTL="10")' \
    "mmctxenrich: parameter 'cache.hostTTL': must be >= 1000 (got 10)"
ctx_pass "a complete config accepted, $n bad ones rejected with their one-line messages"
