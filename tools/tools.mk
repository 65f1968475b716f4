# tools/: small programs built beside the modules (owned by the redaction engine for now)

# The redaction engine's files (the same list as its line in common/common.mk), for a program or
# module that compiles it in: add $(REDACT_SOURCES) to its SOURCES and $(REDACT_LIBS) to its LDADD.
REDACT_SOURCES = common/redact/redact.h common/redact/redact_int.h common/redact/redact_conf.h common/redact/redact_apply.c \
	common/redact/redact_builtin.c common/redact/redact_compile.c common/redact/redact_conf.c common/redact/redact_hmac.c \
	common/redact/redact_json.c common/redact/redact_output.c common/redact/redact_prefilter.c common/redact/redact_rules.c \
	common/redact/redact_scan.c common/redact/redact_sd.c common/redact/redact_sets.c common/redact/redact_validate.c \
	common/redact/redact_card.c common/redact/redact_decode.c common/redact/redact_cut.c common/redact/redact_multi.c common/redact/redact_multi.h
REDACT_SOURCES += common/base/secretfile.c common/base/secretfile.h common/base/cfgfile.c common/base/cfgfile.h
REDACT_LIBS = $(PCRE2_LIBS) $(OPENSSL_LIBS) $(LIBFASTJSON_LIBS) -lpthread

# ctxredact: redact stdin to stdout with a rules file and key file (docs/redaction.md)
noinst_PROGRAMS += tools/ctxredact
tools_ctxredact_SOURCES = tools/ctxredact.c $(REDACT_SOURCES)
tools_ctxredact_CFLAGS = $(COMMON_CFLAGS) -O2
tools_ctxredact_LDADD = $(REDACT_LIBS)

# bench/redact: the redaction benchmark (bench/redact/run.sh builds it with `make bench/redact/bench_redact`)
EXTRA_PROGRAMS = bench/redact/bench_redact
bench_redact_bench_redact_SOURCES = bench/redact/bench_redact.c $(REDACT_SOURCES)
bench_redact_bench_redact_CFLAGS = $(COMMON_CFLAGS) -O2
bench_redact_bench_redact_LDADD = $(REDACT_LIBS) $(LIBZSTD_LIBS)
CLEANFILES += bench/redact/bench_redact
