# common/: plain C, no rsyslog headers. COMMON_SOURCES lists every unit; it is built
# with ASan/UBSan into libctxcommon_san.la for the unit tests. Each module compiles
# the units it uses itself (its SOURCES in plugins/<mod>/<mod>.mk): no module carries
# code, or needs libraries, of units it does not use.
# Add a unit by appending its files to COMMON_SOURCES (one line per unit).
COMMON_SOURCES = common/ctxlog_common.h
COMMON_SOURCES += common/timefmt.c common/timefmt.h
COMMON_SOURCES += common/policy.c common/policy.h
COMMON_SOURCES += common/fieldmap.c common/fieldmap.h
COMMON_SOURCES += common/redact.h common/redact_int.h common/redact_conf.h common/redact_apply.c common/redact_builtin.c common/redact_compile.c common/redact_conf.c common/redact_hmac.c common/redact_json.c common/redact_output.c common/redact_prefilter.c common/redact_rules.c common/redact_scan.c common/redact_sd.c common/redact_sets.c common/redact_validate.c
COMMON_SOURCES += common/cmcache.c common/cmcache.h common/cmfetch.c common/cmfetch.h common/hostsample.c common/hostsample.h common/cgstat.c common/cgstat.h
COMMON_SOURCES += common/pktdecode.c common/pktdecode.h common/ipfrag.c common/ipfrag.h
COMMON_SOURCES += common/sysframe.c common/sysframe.h common/tcpreasm.c common/tcpreasm.h common/tcpreasm_pool.c common/tcpreasm_pool.h
COMMON_SOURCES += common/backoff.c common/backoff.h common/batch.c common/batch.h common/spool.c common/spool.h common/tenants.c common/tenants.h
COMMON_SOURCES += common/ifglob.c common/ifglob.h common/jsonpos.c common/jsonpos.h common/profiles.c common/profiles.h common/profiles_int.h common/profiles_load.c
COMMON_SOURCES += common/capture.c common/capture.h
COMMON_SOURCES += common/jsonfreeze.c common/jsonfreeze.h
COMMON_SOURCES += common/tls_client.c common/tls_client.h common/https_post.c common/https_post.h common/outrec.c common/outrec.h common/outrec_int.h common/outrec_json.c common/deadletter.c common/deadletter.h common/delivery.c common/delivery.h common/delivery_int.h common/delivery_queue.c common/delivery_sender.c
COMMON_LIBS = $(LIBFASTJSON_LIBS) $(PCRE2_LIBS) $(OPENSSL_LIBS) $(LIBZSTD_LIBS) $(ZLIB_LIBS) $(LIBCURL_LIBS) $(LIBPCAP_LIBS) -lpthread
COMMON_CFLAGS = $(WARN_CFLAGS) $(LIBFASTJSON_CFLAGS) $(PCRE2_CFLAGS) $(OPENSSL_CFLAGS) $(LIBZSTD_CFLAGS) $(LIBCURL_CFLAGS) $(LIBPCAP_CFLAGS) -D_GNU_SOURCE

check_LTLIBRARIES += libctxcommon_san.la
libctxcommon_san_la_SOURCES = $(COMMON_SOURCES)
libctxcommon_san_la_CFLAGS = $(COMMON_CFLAGS) $(SAN_CFLAGS) -g -O1
