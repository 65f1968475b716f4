# tools/: small programs built beside the modules (owned by the redaction engine for now)
# ctxredact: redact stdin to stdout with a rules file and key file (docs/redaction.md)
noinst_PROGRAMS += tools/ctxredact
tools_ctxredact_SOURCES = tools/ctxredact.c
tools_ctxredact_CFLAGS = $(COMMON_CFLAGS)
tools_ctxredact_LDADD = libctxcommon.la $(COMMON_LIBS)

# bench/redact: the redaction benchmark (bench/redact/run.sh builds and runs it)
EXTRA_PROGRAMS = bench/redact/bench_redact
bench_redact_bench_redact_SOURCES = bench/redact/bench_redact.c
bench_redact_bench_redact_CFLAGS = $(COMMON_CFLAGS) -O2
bench_redact_bench_redact_LDADD = libctxcommon.la $(COMMON_LIBS)
CLEANFILES += bench/redact/bench_redact
