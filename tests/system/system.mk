# System tests: bash scripts that run Debian's real rsyslogd with our modules
# (see tests/lib/harness.sh). Add a test: append it to SYSTEM_TESTS. Each test
# uses its own VM names and numbers (tests/lib/vm.sh), so they can run in parallel.
# Tests ending in -vg.sh are the valgrind twins (CTXLOG_VALGRIND=1).
SYSTEM_TESTS = \
	tests/system/symbols.sh \
	tests/system/config_errors.sh \
	tests/system/harness_vm_imudp.sh
TESTS += $(SYSTEM_TESTS)
EXTRA_DIST += $(SYSTEM_TESTS)
