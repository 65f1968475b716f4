#!/bin/bash
# A guest spoofs another tenant's VM (victim, globex, on its own vNIC) by MAC, by IP and
# by both, over UDP and over TCP, from a vNIC the profiles give it (attacker, acme) and
# from a vNIC no profile claims (anon). The victim's tenant never receives any of it:
# the attacker's messages stay the attacker's, anon's are unattributed; each carries
# $!ctx!vm!spoof = mac / ip / both and msgs.spoofed counts exactly the 12.
. "$top_srcdir/tests/lib/harness.sh"
ctx_init "imctxcap_spoof${CTX_SUFFIX:-}"
ctx_vm_add victim 221 || ctx_fail "VM"
ctx_vm_add attacker 222 || ctx_fail "VM"
ctx_vm_add anon 223 || ctx_fail "VM"
cat >"$CTX_WORK/profiles.json" <<JSON
{"vms": [
  {"name": "victim", "tenant": "globex", "vnic": "$(ctx_vm_vnic 221)", "mac": "$(ctx_vm_mac 221)",
   "ipv4": "$(ctx_vm_ip4 221)"},
  {"name": "attacker", "tenant": "acme", "vnic": "$(ctx_vm_vnic 222)", "mac": "$(ctx_vm_mac 222)",
   "ipv4": "$(ctx_vm_ip4 222)"}
]}
JSON
ctx_cap_conf spoof profiles=@WORK@/profiles.json interface="$(ctx_vm_vnic 221),$(ctx_vm_vnic 222),$(ctx_vm_vnic 223)"
ctx_cap_start spoof 3

exp="$CTX_WORK/expect"
: >"$exp"
V_MAC=$(ctx_vm_mac 221) V_IP=$(ctx_vm_ip4 221)
ctx_vm_exec victim logger --udp -n "$(ctx_vm_host_ip4 221)" -P 514 -t app "seq=own-1"
echo "seq=seq=own-1 vm.name=victim vm.tenant=globex vm.match=vnic vm.spoof=-" >>"$exp"
n=0
# spoof VM IDX KIND(mac|ip|both): sends one UDP and one TCP message with the victim's MAC and / or IP
spoof() {
    local vm=$1 idx=$2 kind=$3 src mac want
    src=$(ctx_vm_ip4 "$idx") mac=$(ctx_vm_mac "$idx")
    [ "$kind" = mac ] || src=$V_IP
    [ "$kind" = ip ] || mac=$V_MAC
    ctx_vm_exec "$vm" ip link set eth0 address "$mac"
    local host hmac
    host=$(ctx_vm_host_ip4 "$idx") hmac=$(cat "/sys/class/net/$(ctx_vm_vnic "$idx")/address")
    ctx_vm_exec "$vm" /usr/bin/python3 "$top_srcdir/tests/lib/rawsend.py" --dst-mac "$hmac" --src "$src" \
        --dst "$host" --payload "<13>Nov 27 10:00:00 $vm app: seq=$vm-$kind-udp" || ctx_fail "rawsend"
    ctx_vm_exec "$vm" /usr/bin/python3 "$top_srcdir/tests/lib/rawtcp.py" msg eth0 "$hmac" "$src" "$host" \
        $((41000 + n)) "<13>Nov 27 10:00:00 $vm app: seq=$vm-$kind-tcp" || ctx_fail "rawtcp"
    if [ "$vm" = attacker ]; then want="vm.name=attacker vm.tenant=acme vm.match=vnic"
    else want="vm.name=- vm.tenant=unknown vm.match=none"; fi
    for p in udp tcp; do
        echo "seq=seq=$vm-$kind-$p $want vm.spoof=$kind vm.vnic=$(ctx_vm_vnic "$idx") capture.proto=$p" >>"$exp"
    done
    n=$((n + 2))
}
for kind in mac ip both; do
    spoof attacker 222 "$kind"
    spoof anon 223 "$kind"
done
ctx_wait_lines "$CTX_WORK/out" $((n + 1))
ctx_wait_stat "imctxcap(spoof)" msgs.spoofed "$n"
ctx_stop
ctx_check "$CTX_WORK/out" "$exp"
if grep -F '"tenant": "globex"' "$CTX_WORK/out" | grep -qv "seq=own-1"; then
    grep -F '"tenant": "globex"' "$CTX_WORK/out"
    ctx_fail "the victim's tenant received a spoofed message"
fi
ctx_assert_eq "msgs.spoofed" "$n" "$(ctx_stat "imctxcap(spoof)" msgs.spoofed)"
ctx_assert_eq "msgs.unattributed" $((n / 2)) "$(ctx_stat "imctxcap(spoof)" msgs.unattributed)"
ctx_assert_eq "msgs.submitted" $((n + 1)) "$(ctx_stat "imctxcap(spoof)" msgs.submitted)"
ctx_assert_eq "msgs.vm.shared (a spoofed message's \$!ctx!vm is its own)" 0 "$(ctx_stat "imctxcap(spoof)" msgs.vm.shared)"
ctx_pass "$n spoofed messages (MAC, IP, both; UDP, TCP; with and without a vNIC entry) kept their own identity"
