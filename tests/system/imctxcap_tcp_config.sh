#!/bin/bash
# The tcp.* parameters of imctxcap through rsyslogd -N1: good values validate
# (tcp.port="none" included), each bad value is one clear line naming the
# parameter, the value and what was expected, with the config file and line.
. "$top_srcdir/tests/lib/harness.sh"
ctx_init imctxcap_tcp_config
echo '{"vms": []}' >"$CTX_WORK/profiles.json"
in='input(type="imctxcap" interface="vnet*" profiles="@WORK@/profiles.json"'
out='action(type="omfile" file="@WORK@/out")'
cf="$CTX_WORK/rsyslog.conf"

conf() { printf 'module(load="@MODDIR@/imctxcap/imctxcap.so")\n%s %s)\n%s\n' "$in" "$1" "$out" | ctx_conf; }

# good configs
for params in '' 'tcp.port="none"' 'tcp.port="514,601,6514" tcp.gap="drop" tcp.nuldelimiter="on"' \
    'tcp.maxflows="100" tcp.maxmemory="64m" tcp.flow.maxmemory="2m" tcp.window="1m" tcp.gaptimeout="500"
     tcp.idletimeout="60000" tcp.maxframesize="100000"'; do
    conf "$params"
    ctx_validate_ok "$params"
    ctx_assert_grep "$CTX_WORK/n1.out" "End of config validation run"
done

n=0
check_bad() {
    local params=$1 expect=$2 line errs
    n=$((n + 1))
    conf "$params"
    if ctx_validate; then ctx_fail "case $n: rsyslogd -N1 accepted: $params"; fi
    line=$(grep -n -F 'input(type="imctxcap"' "$CTX_CONF" | head -1 | cut -d: -f1)
    ctx_assert_grep "$CTX_WORK/n1.out" "error during parsing file $cf, on or before line $line: $expect"
    errs=$(grep -c -E "imctxcap: |not known" "$CTX_WORK/n1.out")
    [ "$errs" = 1 ] || { cat "$CTX_WORK/n1.out"; ctx_fail "case $n: expected one error line, got $errs"; }
}
check_bad 'tcp.port="514,http"' \
    "imctxcap: parameter 'tcp.port': expected port numbers 1..65535 or \"none\", got 'http'"
check_bad 'tcp.port="0"' "imctxcap: parameter 'tcp.port': expected port numbers 1..65535 or \"none\", got '0'"
check_bad 'tcp.gap="splice"' "imctxcap: parameter 'tcp.gap': expected 'drop' or 'truncate', got 'splice'"
check_bad 'tcp.flow.maxmemory="64k"' \
    "imctxcap: parameter 'tcp.flow.maxmemory': expected 139264 (the power of two at or above maxMessageSize + 16, plus 128k) .. 1g, got 65536"
check_bad 'tcp.maxmemory="1m" tcp.flow.maxmemory="1m"' \
    "imctxcap: parameter 'tcp.maxmemory': expected at least 1m and 2 x tcp.flow.maxmemory (2097152), got 1048576"
check_bad 'tcp.window="1k"' "imctxcap: parameter 'tcp.window': expected 64k .. 1g, got 1024"
check_bad 'tcp.maxflows="20000000"' "imctxcap: parameter 'tcp.maxflows': expected 1..16777216, got 20000000"
check_bad 'tcp.idletimeout="100000000"' \
    "imctxcap: parameters 'tcp.gaptimeout' and 'tcp.idletimeout': expected 1..86400000 (ms), got 1000 and 100000000"
# (the minimum above is for rsyslog's built-in maxMessageSize, 8096: global() statements are applied after
# input() statements are read; at start a larger maxMessageSize raises tcp.flow.maxmemory, with a warning)
# an unknown tcp.* parameter is reported by rsyslog itself
conf 'tcp.bogus="1"'
if ctx_validate; then ctx_fail "rsyslogd -N1 accepted tcp.bogus"; fi
ctx_assert_grep "$CTX_WORK/n1.out" "parameter 'tcp.bogus' not known -- typo in config file?"
ctx_pass "$n bad tcp.* values rejected with one clear line each; good ones accepted"
