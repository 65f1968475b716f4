#!/bin/bash
# The harness itself, with stock parts only: a VM namespace sends RFC 3164 and
# RFC 5424 lines with util-linux logger over UDP (IPv4 and IPv6) to rsyslog's own
# imudp on the host side of its vNIC; every line arrives once.
. "$top_srcdir/tests/lib/harness.sh"
ctx_init harness_vm_imudp
ctx_vm_add h1 201 || ctx_fail "cannot create the VM namespace"
port=15514
ctx_conf <<EOF
module(load="imudp")
input(type="imudp" address="$(ctx_vm_host_ip4 201)" port="$port")
input(type="imudp" address="$(ctx_vm_host_ip6 201)" port="$port")
template(name="line" type="string" string="%fromhost-ip% %programname% %msg%\n")
action(type="omfile" file="@WORK@/out" template="line")
EOF
ctx_start
N=50
for i in $(seq 1 $N); do
    ctx_vm_exec h1 logger --udp --rfc3164 -n "$(ctx_vm_host_ip4 201)" -P $port -t app4 "seq=v4-$i"
    ctx_vm_exec h1 logger --udp --rfc5424 -n "$(ctx_vm_host_ip6 201)" -P $port -t app6 "seq=v6-$i"
done
ctx_wait_lines "$CTX_WORK/out" $((2 * N))
ctx_stop
ctx_check_seq "$CTX_WORK/out" "seq=v4-" 1 $N
ctx_check_seq "$CTX_WORK/out" "seq=v6-" 1 $N
ctx_assert_grep "$CTX_WORK/out" "$(ctx_vm_ip4 201) app4  seq=v4-1"
ctx_assert_grep "$CTX_WORK/out" "$(ctx_vm_ip6 201) app6 seq=v6-1"
ctx_assert_eq "line count" $((2 * N)) "$(wc -l <"$CTX_WORK/out")"
ctx_pass "$((2 * N)) lines from a VM namespace through imudp"
