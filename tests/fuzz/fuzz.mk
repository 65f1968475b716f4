# Fuzz targets (libFuzzer, clang): built by `make fuzz`, not by `make check`.
# Each target's crashers are kept under tests/fuzz/corpus/<target>/ and replayed
# by the unit tests. Add a target: append its name to FUZZ_TARGETS and write
# tests/fuzz/fuzz_<name>.c (LLVMFuzzerTestOneInput).
FUZZ_TARGETS =
FUZZ_TARGETS += policy
FUZZ_TARGETS += pktdecode ipfrag
FUZZ_TARGETS += tcpframe tcpreasm
FUZZ_TARGETS += profiles
FUZZ_TARGETS += tenants spool
FUZZ_TARGETS += redact
FUZZ_TARGETS += outrec
FUZZ_TARGETS += otlp
FUZZ_CC = clang
FUZZ_FLAGS = -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -D_GNU_SOURCE $(COMMON_INCLUDES) $(LIBFASTJSON_CFLAGS) $(PCRE2_CFLAGS) $(LIBXML2_CFLAGS) $(LIBVIRT_CFLAGS)
fuzz:
	@for t in $(FUZZ_TARGETS); do \
	  echo "  FUZZ     tests/fuzz/fuzz_$$t"; \
	  $(FUZZ_CC) $(FUZZ_FLAGS) -o tests/fuzz/fuzz_$$t $(top_srcdir)/tests/fuzz/fuzz_$$t.c \
	    $(addprefix $(top_srcdir)/,$(filter %.c,$(COMMON_SOURCES))) $(COMMON_LIBS) || exit 1; \
	done
.PHONY: fuzz
