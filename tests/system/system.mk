# System tests: bash scripts that run Debian's real rsyslogd with our modules
# (see tests/lib/harness.sh). Add a test: append it to SYSTEM_TESTS.
SYSTEM_TESTS =
TESTS += $(SYSTEM_TESTS)
EXTRA_DIST += $(SYSTEM_TESTS)
