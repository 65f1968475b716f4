#!/bin/bash
# scripts/in-private-net.sh COMMAND [ARGS...]
# Runs COMMAND (as root) in a network namespace and a mount namespace of its own, with
# a private /run/netns: the simulated VMs (ip netns add ctxvm-*), vNICs, loopback ports
# and addresses of the system tests it runs cannot meet those of another run. Lets two
# checkouts run their system tests at the same time, e.g.
#     scripts/in-private-net.sh make check TESTS=tests/system/imctxcap_udp.sh
# (cgroups are not private: the same test must not run twice at once.)
set -euo pipefail
[ $# -gt 0 ] || { echo "usage: $0 COMMAND [ARGS...]" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "$0: run as root (namespaces)" >&2; exit 1; }
exec unshare --mount --net --propagation private -- bash -c '
    mkdir -p /run/netns /run/ctxlog-cgroup && mount -t tmpfs ctxlog-netns /run/netns &&
    mount --rbind /sys/fs/cgroup /run/ctxlog-cgroup &&      # sysfs of this netns, same cgroups
    mount -t sysfs sysfs /sys && mount --move /run/ctxlog-cgroup /sys/fs/cgroup &&
    ip link set lo up && exec "$@"' bash "$@"
