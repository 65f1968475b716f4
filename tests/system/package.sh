#!/bin/bash
# The Debian package (scripts/build-deb.sh, docs/package.md): its control fields and
# contents; its rsyslog dependency admits every Debian revision of the upstream
# version the modules were built against and nothing else; installed with dpkg -i,
# the drop-in with the installed examples in place passes rsyslogd -N1 loading the
# modules by name from rsyslog's module directory; the logrotate file parses and
# rotates; dpkg -r leaves only the conffile, dpkg -P leaves nothing.
. "$top_srcdir/tests/lib/harness.sh"
. "$top_srcdir/tests/lib/examples.sh"
ctx_init package
ctx_need_root "dpkg -i / -r / -P of the built package"

# ---- the operator's system is not ours to touch
status() { dpkg-query -W -f='${db:Status-Status}' ctxlog 2>/dev/null || echo not-installed; }
[ "$(status)" = not-installed ] ||
    ctx_fail "the package ctxlog is on this machine (state: $(status)): this test installs and purges it; remove it first (dpkg -P ctxlog)"
moddir=$(dirname "$(dpkg -L rsyslog | grep '/imudp\.so$')")
[ -d "$moddir" ] || ctx_fail "cannot find rsyslog's module directory (imudp.so in dpkg -L rsyslog)"
for m in imctxcap mmctxenrich omtenant; do
    [ ! -e "$moddir/$m.so" ] ||
        ctx_fail "$moddir/$m.so exists (make install?): this test installs and purges the package over it; remove it first"
done
[ ! -e /etc/logrotate.d/ctxlog ] || ctx_fail "/etc/logrotate.d/ctxlog exists and belongs to no package: remove it first"
command -v logrotate >/dev/null || ctx_fail "logrotate is not installed (apt-get install logrotate; scripts/deps.txt)"
ctx_on_exit "dpkg -P ctxlog"

# ---- build; but never for an rsyslog other than this machine's (upgraded since the build)
printf '#!/bin/sh\necho "rsyslogd  8.9999.0 (aka 2099.99) compiled with:"\n' >"$CTX_WORK/rsyslogd-other"
chmod +x "$CTX_WORK/rsyslogd-other"
if RSYSLOGD="$CTX_WORK/rsyslogd-other" "$top_srcdir/scripts/build-deb.sh" "$CTX_WORK/stale" >/dev/null 2>"$CTX_WORK/stale.err"; then
    ctx_fail "build-deb.sh packaged modules built for another rsyslog than the installed one"
fi
ctx_assert_grep "$CTX_WORK/stale.err" "is 8.9999.0: rebuild against it"
out=$("$top_srcdir/scripts/build-deb.sh" "$CTX_WORK/dist" 2>"$CTX_WORK/build.err") ||
    { cat "$CTX_WORK/build.err"; ctx_fail "scripts/build-deb.sh failed"; }
deb=${out##*$'\n'}
[ -f "$deb" ] || ctx_fail "build-deb.sh's last line '$deb' is not a file"
field() { dpkg-deb -f "$deb" "$1"; }
version=$(sed -n 's/^AC_INIT(\[ctxlog\], *\[\([^]]*\)\].*/\1/p' "$top_srcdir/configure.ac")
arch=$(dpkg --print-architecture)
ctx_assert_eq "file name" "$CTX_WORK/dist/ctxlog_${version}_${arch}.deb" "$deb"
ctx_assert_eq "Version" "$version" "$(field Version)"
ctx_assert_eq "Architecture" "$arch" "$(field Architecture)"
ctx_assert_eq "Package" ctxlog "$(field Package)"
ctx_assert_eq "Section" admin "$(field Section)"
ctx_assert_eq "Priority" optional "$(field Priority)"
[ -n "$(field Maintainer)" ] || ctx_fail "no Maintainer"
[[ "$(field Installed-Size)" =~ ^[1-9][0-9]*$ ]] || ctx_fail "Installed-Size '$(field Installed-Size)'"
[ "$(dpkg-deb -I "$deb" | sed -n '/^ Description:/,$p' | wc -l)" -ge 3 ] || ctx_fail "no long Description"

# ---- the rsyslog bounds
rv=$($RSYSLOGD -v | sed -n 's/^rsyslogd[[:space:]]*\([0-9.]*\).*/\1/p' | head -1)
depends=$(field Depends)
case "$depends" in *"rsyslog (>= $rv), rsyslog (<< $rv+~)"*) ;; *) ctx_fail "Depends lacks the rsyslog $rv bounds: $depends" ;; esac
for lib in libpcap0.8 libcurl4 libzstd1 libssl3 libpcre2-8-0 libfastjson4; do
    case "$depends" in *"$lib "*) ;; *) ctx_fail "Depends lacks $lib (dpkg-shlibdeps): $depends" ;; esac
done
# libvirt and libxml2 are loaded on first use, only with profiles.libvirt (common/context/lvdl.c):
# recommended, not required
for lib in libvirt0 libxml2; do
    case "$depends" in *"$lib "* | *"$lib,"* | *"$lib") ctx_fail "Depends has $lib, loaded only with profiles.libvirt: $depends" ;; esac
    case ", $(field Recommends)," in *", $lib,"*) ;; *) ctx_fail "Recommends lacks $lib: '$(field Recommends)'" ;; esac
done
admits() { dpkg --compare-versions "$1" ge "$rv" && dpkg --compare-versions "$1" lt "$rv+~"; }
IFS=. read -r major minor _ <<<"$rv"
for v in "$rv-1+deb12u1" "$rv-2" "$rv-1" "$(dpkg-query -W -f='${Version}' rsyslog)"; do
    admits "$v" || ctx_fail "the rsyslog bounds refuse $v, a Debian revision of $rv"
done
# another upstream: a point release, the next and an earlier release (8.2304.0, 8.2212.0 for 8.2302.0)
for v in "$rv.1" "$rv.1-1" "$major.$((minor + 2)).0-1" "$major.$((minor - 90)).0-1" "$rv~rc1-1"; do
    admits "$v" && ctx_fail "the rsyslog bounds admit $v, another upstream version than $rv"
done

# ---- contents: what, where, owners, modes
dpkg-deb -c "$deb" >"$CTX_WORK/contents"
awk '{print $6}' "$CTX_WORK/contents" | sed 's|^\./|/|; s|/$||; /^$/d' >"$CTX_WORK/paths"
ma=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
ctx_assert_eq "module directory" "/usr/lib/$ma/rsyslog" "$moddir"
doc=/usr/share/doc/ctxlog
{
    for m in imctxcap mmctxenrich omtenant; do echo "$moddir/$m.so"; done
    echo /etc/logrotate.d/ctxlog
    echo "$doc/README.md"
    echo "$doc/copyright"
    for f in "$top_srcdir"/docs/*.md; do echo "$doc/docs/$(basename "$f")"; done
    (cd "$top_srcdir/conf-examples" && find . -type f) | sed "s|^\./|$doc/examples/|"
} >"$CTX_WORK/expected"
while read -r p; do
    grep -qxF "$p" "$CTX_WORK/paths" || { cat "$CTX_WORK/contents"; ctx_fail "$p is not in the package"; }
done <"$CTX_WORK/expected"
awk '$2 != "root/root" {print "owner:", $0} $1 ~ /^d/ && $1 != "drwxr-xr-x" {print "dir mode:", $0}
     $1 ~ /^-/ && $1 != "-rw-r--r--" {print "file mode:", $0} $1 !~ /^[-d]/ {print "type:", $0}' \
    "$CTX_WORK/contents" >"$CTX_WORK/badmodes"
[ ! -s "$CTX_WORK/badmodes" ] || { cat "$CTX_WORK/badmodes"; ctx_fail "owners or modes other than root:root 0755/0644"; }
if grep -E '^/etc/' "$CTX_WORK/paths" | grep -vxE '/etc|/etc/logrotate\.d(/ctxlog)?'; then
    ctx_fail "the package puts files in /etc besides /etc/logrotate.d/ctxlog (/etc/ctxlog and /etc/rsyslog.d are the operator's)"
fi
ctx_assert_eq "conffiles" /etc/logrotate.d/ctxlog "$(dpkg-deb -I "$deb" conffiles)"
ctrl=$(dpkg-deb --ctrl-tarfile "$deb" | tar -t | sed 's|^\./||; /^$/d' | sort | tr '\n' ' ')
ctx_assert_eq "control members (no maintainer scripts)" "conffiles control " "$ctrl"
mkdir -p "$CTX_WORK/x"
dpkg-deb -x "$deb" "$CTX_WORK/x"
for m in imctxcap mmctxenrich omtenant; do
    if readelf -S "$CTX_WORK/x$moddir/$m.so" | grep -q '\.symtab'; then ctx_fail "$m.so is not stripped"; fi
done

# ---- install; record what the package owns and what existed before
while read -r p; do [ -e "$p" ] && echo "$p"; done <"$CTX_WORK/paths" >"$CTX_WORK/before"
dpkg -i "$deb" >"$CTX_WORK/dpkg-i.out" 2>&1 || { cat "$CTX_WORK/dpkg-i.out"; ctx_fail "dpkg -i failed"; }
ctx_assert_eq "state after dpkg -i" installed "$(status)"
dpkg -L ctxlog | grep -v '^/\.$' | sort >"$CTX_WORK/owned"
[ -s "$CTX_WORK/owned" ] || ctx_fail "dpkg -L ctxlog lists nothing"
for m in imctxcap mmctxenrich omtenant; do
    [ -f "$moddir/$m.so" ] || ctx_fail "$moddir/$m.so not installed"
done

# ---- the drop-in with the installed examples in place, modules loaded by name
etc="$CTX_WORK/etc"
ctx_examples_place "$doc/examples" "$etc" name
grep -q 'module(load="imctxcap")' "$etc/50-ctxlog.conf" || ctx_fail "the installed drop-in does not load imctxcap by name"
ctx_examples_validate "$etc" "the installed drop-in with the examples in place"
if grep -q "error" "$CTX_WORK/n1.out"; then cat "$CTX_WORK/n1.out"; ctx_fail "errors in the -N1 output"; fi

# ---- logrotate: the installed file parses; a copy on private paths rotates and HUPs
logrotate -d -s "$CTX_WORK/logrotate.state" /etc/logrotate.d/ctxlog >"$CTX_WORK/lr-d.out" 2>&1 ||
    { cat "$CTX_WORK/lr-d.out"; ctx_fail "logrotate -d /etc/logrotate.d/ctxlog failed"; }
ctx_assert_grep "$CTX_WORK/lr-d.out" "rotating pattern: /var/log/ctxlog/*.json"
if grep -qi "error" "$CTX_WORK/lr-d.out"; then cat "$CTX_WORK/lr-d.out"; ctx_fail "logrotate reports errors"; fi
ctx_assert_grep /etc/logrotate.d/ctxlog "/usr/lib/rsyslog/rsyslog-rotate"
lr="$CTX_WORK/lr"
mkdir -p "$lr"
sed -e "s|/var/log/ctxlog/|$lr/|" -e "s|/usr/lib/rsyslog/rsyslog-rotate|touch $lr/hup|" /etc/logrotate.d/ctxlog >"$CTX_WORK/lr.conf"
echo '{"msg":"before rotation"}' >"$lr/vms.json"
logrotate -f -s "$CTX_WORK/logrotate.state" "$CTX_WORK/lr.conf" >"$CTX_WORK/lr-f.out" 2>&1 ||
    { cat "$CTX_WORK/lr-f.out"; ctx_fail "logrotate on a copy of the installed file failed"; }
ctx_assert_grep "$lr/vms.json.1" "before rotation"
ctx_assert_eq "mode and owner of the new vms.json" "600 root:root 0" "$(stat -c '%a %U:%G %s' "$lr/vms.json")"
[ -e "$lr/hup" ] || ctx_fail "the postrotate command did not run"

# ---- remove: only the conffile stays; purge: nothing
dpkg -r ctxlog >"$CTX_WORK/dpkg-r.out" 2>&1 || { cat "$CTX_WORK/dpkg-r.out"; ctx_fail "dpkg -r failed"; }
ctx_assert_eq "state after dpkg -r" config-files "$(status)"
left() { # paths the package owned that exist now but did not before it
    while read -r p; do [ -e "$p" ] && ! grep -qxF "$p" "$CTX_WORK/before" && echo "$p"; done <"$CTX_WORK/owned"
}
ctx_assert_eq "left after dpkg -r" /etc/logrotate.d/ctxlog "$(left | tr '\n' ' ' | sed 's/ $//')"
dpkg -P ctxlog >"$CTX_WORK/dpkg-P.out" 2>&1 || { cat "$CTX_WORK/dpkg-P.out"; ctx_fail "dpkg -P failed"; }
ctx_assert_eq "left after dpkg -P" "" "$(left)"
if dpkg -s ctxlog >"$CTX_WORK/dpkg-s.out" 2>&1; then cat "$CTX_WORK/dpkg-s.out"; ctx_fail "dpkg -s still knows ctxlog after purge"; fi
ctx_assert_grep "$CTX_WORK/dpkg-s.out" "package 'ctxlog' is not installed"
ls /etc/logrotate.d/ctxlog* /var/lib/dpkg/info/ctxlog.* 2>/dev/null && ctx_fail "dpkg left the files above"
ctx_pass "$(basename "$deb"): $(wc -l <"$CTX_WORK/owned") paths; Depends rsyslog (>= $rv), (<< $rv+~); -N1 with the installed examples; logrotate; remove keeps the conffile, purge leaves nothing"
