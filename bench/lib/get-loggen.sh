#!/bin/bash
# Makes syslog-ng's loggen usable beside rsyslog: syslog-ng-core conflicts with
# rsyslog as a package, but its binaries run unpacked. Prints the loggen command
# (a wrapper script) on its last line. Kept in .bench-tools/ (git-ignored).
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
root="$top/.bench-tools/syslog-ng"
if [ ! -x "$root/loggen" ]; then
    mkdir -p "$root"
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -q --no-install-recommends libivykis0 libnet1 libjson-c5 libglib2.0-0 libpcre3 libwrap0 >/dev/null
    (cd "$root" && rm -f syslog-ng-core_*.deb && apt-get download -q syslog-ng-core >/dev/null && dpkg -x syslog-ng-core_*.deb root)
    cat >"$root/loggen" <<EOF
#!/bin/sh
LD_LIBRARY_PATH="$root/root/usr/lib/syslog-ng" SYSLOGNG_PREFIX="$root/root/usr" exec "$root/root/usr/bin/loggen" "\$@"
EOF
    chmod +x "$root/loggen"
fi
"$root/loggen" --help >/dev/null 2>&1 || { echo "loggen does not run" >&2; exit 1; }
echo "$root/loggen"
