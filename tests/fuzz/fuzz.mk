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
FUZZ_CPPFLAGS = -D_GNU_SOURCE $(COMMON_INCLUDES) $(LIBFASTJSON_CFLAGS) $(PCRE2_CFLAGS) $(LIBXML2_CFLAGS) $(LIBVIRT_CFLAGS)
FUZZ_FLAGS = -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined $(FUZZ_CPPFLAGS)
fuzz:
	@for t in $(FUZZ_TARGETS); do \
	  echo "  FUZZ     tests/fuzz/fuzz_$$t"; \
	  $(FUZZ_CC) $(FUZZ_FLAGS) -o tests/fuzz/fuzz_$$t $(top_srcdir)/tests/fuzz/fuzz_$$t.c \
	    $(addprefix $(top_srcdir)/,$(filter %.c,$(COMMON_SOURCES))) $(COMMON_LIBS) || exit 1; \
	done
.PHONY: fuzz

# `make check` compiles every fuzz target and every source they link with the fuzz build's
# flags (syntax only, with the C compiler: clang is needed only to build them), so that a
# new header or library cannot break `make fuzz` unnoticed.
fuzz-syntax:
	@for f in $(addprefix $(top_srcdir)/,$(FUZZ_TARGETS:%=tests/fuzz/fuzz_%.c) $(filter %.c,$(COMMON_SOURCES))); do \
	  $(CC) -std=gnu11 -fsyntax-only $(FUZZ_CPPFLAGS) $$f || { echo "fuzz-syntax: $$f does not compile with the fuzz build's flags" >&2; exit 1; }; \
	done
check-local: fuzz-syntax
.PHONY: fuzz-syntax
