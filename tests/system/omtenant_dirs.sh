#!/bin/bash
# The directories that hold tenants' data (spool, dead letters) are checked when the
# action starts: a symbolic link, or a directory writable by its group or every user,
# is refused with a line naming the parameter, the directory and why (another local
# user could plant files or links in it); one open to every user is a warning.
. "$top_srcdir/tests/lib/harness.sh"
ctx_init "omtenant_dirs${CTX_SUFFIX:-}"
echo '{"tenants": {"a": {"transport": "https", "url": "https://127.0.0.1:9/x"}}}' >"$CTX_WORK/tenants.json"
mkdir -p "$CTX_WORK/real-spool" "$CTX_WORK/open-dl" "$CTX_WORK/wide-spool" "$CTX_WORK/ok-dl"
ln -s "$CTX_WORK/real-spool" "$CTX_WORK/spool-link"
chmod 0777 "$CTX_WORK/open-dl"
chmod 0755 "$CTX_WORK/wide-spool"
chmod 0700 "$CTX_WORK/ok-dl" "$CTX_WORK/real-spool"
ctx_conf <<'CONF'
module(load="@MODDIR@/omtenant/omtenant.so")
action(type="omtenant" name="link" tenants="@WORK@/tenants.json"
       spool.directory="@WORK@/spool-link" deadletter.directory="@WORK@/ok-dl")
action(type="omtenant" name="open" tenants="@WORK@/tenants.json"
       spool.directory="@WORK@/real-spool" deadletter.directory="@WORK@/open-dl")
action(type="omtenant" name="wide" tenants="@WORK@/tenants.json"
       spool.directory="@WORK@/wide-spool" deadletter.directory="@WORK@/ok-dl")
CONF
ctx_validate || { cat "$CTX_WORK/n1.out"; ctx_fail "-N1 rejected the config (directories are checked at start)"; }
ctx_start
W=$CTX_WORK
ctx_wait_for "the refusal of the symbolic link" 30 "grep -qF \"omtenant: parameter 'spool.directory': '$W/spool-link' cannot hold tenants' data: a symbolic link: expected a directory\" '$CTX_ILOG' 2>/dev/null"
ctx_wait_for "the refusal of the open directory" 30 "grep -qF \"omtenant: parameter 'deadletter.directory': '$W/open-dl' cannot hold tenants' data: writable by every user (mode 0777): expected 0700\" '$CTX_ILOG' 2>/dev/null"
ctx_wait_for "the warning" 30 "grep -qF \"omtenant: warning: parameter 'spool.directory': '$W/wide-spool' is open to every user (mode 0755): expected 0700\" '$CTX_ILOG' 2>/dev/null"
# each refused action says once, by name, that it did not start and why; the warned one starts
ctx_wait_for "action link's summary" 30 "grep -qF \"omtenant(link): the action could not start: spool.directory '$W/spool-link' refused (above); its messages are held back\" '$CTX_ILOG'"
ctx_wait_for "action open's summary" 30 "grep -qF \"omtenant(open): the action could not start: deadletter.directory '$W/open-dl' refused (above); its messages are held back\" '$CTX_ILOG'"
n=$(grep -c "the action could not start" "$CTX_ILOG")
[ "$n" = 2 ] || ctx_fail "expected 2 actions that could not start, the log says $n"
ctx_stop
[ -z "$(ls -A "$W/real-spool")" ] || ctx_fail "something was written through the refused symbolic link: $(ls "$W/real-spool")"
[ -d "$W/wide-spool/a" ] || ctx_fail "the action with a warning did not start (no spool for tenant a)"
ctx_pass "symbolic link and world-writable directory refused, world-readable one warned about"
