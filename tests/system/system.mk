# System tests: bash scripts that run Debian's real rsyslogd with our modules
# (see tests/lib/harness.sh). Add a test: append it to SYSTEM_TESTS. Each test
# uses its own VM names and numbers (tests/lib/vm.sh), so they can run in parallel.
# Tests ending in -vg.sh are the valgrind twins (CTXLOG_VALGRIND=1).
SYSTEM_TESTS = tests/system/exec_bits.sh tests/system/conf_examples.sh tests/system/bench_quick.sh tests/system/demo_run.sh \
	tests/system/symbols.sh tests/system/config_errors.sh tests/system/harness_vm_imudp.sh
SYSTEM_TESTS += tests/system/imctxcap_workers.sh tests/system/imctxcap_fanout.sh tests/system/imctxcap_trim.sh tests/system/imctxcap_udp.sh \
	tests/system/imctxcap_udp-vg.sh tests/system/imctxcap_raw.sh tests/system/imctxcap_raw-vg.sh tests/system/imctxcap_raw_w2.sh \
	tests/system/imctxcap_fragflood.sh tests/system/imctxcap_dynamic.sh tests/system/imctxcap_dynamic_w2.sh \
	tests/system/imctxcap_unattributed.sh tests/system/imctxcap_hup.sh tests/system/imctxcap_guest_rsyslog.sh
SYSTEM_TESTS += tests/system/profiles_libvirt.sh tests/system/profiles_libvirt-vg.sh tests/system/profiles_libvirt_events.sh \
	tests/system/profiles_libvirt_qemu.sh tests/system/profiles_libvirt_qemu-vg.sh tests/system/profiles_shared_hup.sh
SYSTEM_TESTS += tests/system/mmctxenrich_policy.sh tests/system/mmctxenrich_policy-vg.sh tests/system/mmctxenrich_cm.sh \
	tests/system/mmctxenrich_cmfail.sh tests/system/mmctxenrich_cmauth.sh tests/system/mmctxenrich_cm-vg.sh tests/system/mmctxenrich_cgroup.sh \
	tests/system/mmctxenrich_config.sh tests/system/mmctxenrich_samename.sh tests/system/ctxshare_mt.sh tests/system/ctxshare_mt-vg.sh
EXTRA_DIST += tests/system/mmctxenrich_lib.sh
SYSTEM_TESTS += tests/system/imctxcap_tcp_senders.sh tests/system/imctxcap_tcp_senders-vg.sh \
	tests/system/imctxcap_tcp_crafted.sh tests/system/imctxcap_tcp_hostile.sh tests/system/imctxcap_tcp_config.sh
SYSTEM_TESTS += tests/system/stats_reset.sh
SYSTEM_TESTS += tests/system/imctxcap_spoof.sh tests/system/imctxcap_flood.sh tests/system/imctxcap_vnic_reuse.sh tests/system/imctxcap_flood_syn.sh tests/system/imctxcap_flood_frag.sh tests/system/imctxcap_flood_udp.sh tests/system/imctxcap_flood_udp_unlisted.sh
SYSTEM_TESTS += tests/system/omtenant_formats.sh tests/system/omtenant_syslogng.sh
SYSTEM_TESTS += tests/system/omtenant_basic.sh tests/system/omtenant_basic-vg.sh tests/system/omtenant_outage.sh \
	tests/system/omtenant_kill9.sh tests/system/omtenant_spoolfull.sh tests/system/omtenant_deadletter.sh \
	tests/system/omtenant_tls.sh tests/system/omtenant_hup.sh tests/system/omtenant_deadletter_bound.sh \
	tests/system/omtenant_dirs.sh tests/system/omtenant_stamp.sh tests/system/omtenant_isolation.sh tests/system/omtenant_visibility.sh \
	tests/system/omtenant_header.sh tests/system/omtenant_tagless.sh tests/system/omtenant_durable.sh \
	tests/system/omtenant_multiline.sh
EXTRA_DIST += tests/system/omtenant_common.sh
SYSTEM_TESTS += tests/system/otlp_receiver.sh tests/system/omtenant_otlp.sh tests/system/omtenant_replies.sh tests/system/omtenant_fmt_hup.sh tests/system/omtenant_fmt_hup-vg.sh
EXTRA_DIST += tests/system/otlp_receiver.py
SYSTEM_TESTS += tests/system/package.sh
TESTS += $(SYSTEM_TESTS)
EXTRA_DIST += $(SYSTEM_TESTS)
