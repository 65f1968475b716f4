# common/: plain C, no rsyslog headers. COMMON_SOURCES lists every unit; it is built
# with ASan/UBSan into libctxcommon_san.la for the unit tests. Each module compiles
# the units it uses itself (its SOURCES in plugins/<mod>/<mod>.mk): no module carries
# code, or needs libraries, of units it does not use.
# Add a unit by appending its files to COMMON_SOURCES (one line per unit).
COMMON_SOURCES = common/base/ctxlog_common.h common/base/clock.h common/base/gcra.h common/base/textcheck.h common/base/counters.h common/base/grow.h
COMMON_SOURCES += common/base/timefmt.c common/base/timefmt.h
COMMON_SOURCES += common/context/policy.c common/context/policy_parse.c common/context/policy.h common/context/policy_int.h
COMMON_SOURCES += common/context/fieldmap.c common/context/fieldmap.h common/context/fieldmap_int.h common/context/fieldmap_load.c
COMMON_SOURCES += common/redact/redact.h common/redact/redact_int.h common/redact/redact_conf.h common/redact/redact_apply.c common/redact/redact_builtin.c common/redact/redact_compile.c common/redact/redact_conf.c common/redact/redact_hmac.c common/redact/redact_json.c common/redact/redact_output.c common/redact/redact_prefilter.c common/redact/redact_rules.c common/redact/redact_scan.c common/redact/redact_sd.c common/redact/redact_sets.c common/redact/redact_validate.c common/redact/redact_card.c common/redact/redact_decode.c common/redact/redact_cut.c common/redact/redact_multi.c common/redact/redact_multi.h
COMMON_SOURCES += common/context/cmauth.c common/context/cmauth.h common/context/cmhttp.c common/context/cmhttp.h
COMMON_SOURCES += common/context/cmcache.c common/context/cmcache.h common/context/cmfetch.c common/context/cmfetch.h common/context/cmfetch_url.c common/context/cmfetch_int.h common/context/hostsample.c common/context/hostsample.h common/context/cgstat.c common/context/cgstat.h
COMMON_SOURCES += common/capture/pktdecode.c common/capture/pktdecode.h common/capture/ipfrag.c common/capture/ipfrag.h
COMMON_SOURCES += common/capture/sysframe.c common/capture/sysframe.h common/capture/tcpreasm.c common/capture/tcpreasm_seg.c common/capture/tcpreasm.h common/capture/tcpreasm_int.h common/capture/tcpreasm_pool.c common/capture/tcpreasm_pool.h common/capture/tcpreasm_owner.c common/capture/tcpreasm_owner.h common/capture/vmbudget.c common/capture/vmbudget.h
COMMON_SOURCES += common/base/backoff.c common/base/backoff.h common/deliver/batch.c common/deliver/batch.h common/deliver/spool.c common/deliver/spool.h common/deliver/spool_int.h common/deliver/spool_recover.c common/deliver/tenants.c common/deliver/tenants.h common/deliver/tenants_int.h common/deliver/tenants_parse.c
COMMON_SOURCES += common/base/ifglob.c common/base/ifglob.h common/base/jsonpos.c common/base/jsonpos.h common/context/profiles.c common/context/profiles.h common/context/profiles_int.h common/context/profiles_load.c common/context/profiles_ld.h common/context/profiles_tables.c common/context/profiles_text.c
COMMON_SOURCES += common/deliver/batch_int.h common/deliver/batch_rec.c common/deliver/tenants_fmt.c
COMMON_SOURCES += common/capture/capture.c common/capture/capture.h common/capture/capture_ring.c common/capture/capture_ring.h common/capture/capture_filter.c common/capture/capture_filter.h
COMMON_SOURCES += common/base/secretfile.c common/base/secretfile.h common/base/cfgfile.c common/base/cfgfile.h
COMMON_SOURCES += common/base/jsonfreeze.c common/base/jsonfreeze.h common/base/utf8.h
COMMON_SOURCES += common/base/jsonintern.c common/base/jsonintern.h
COMMON_SOURCES += common/base/slot.c common/base/slot.h
COMMON_SOURCES += common/deliver/spool_stamp.c common/deliver/spool_stamp.h
COMMON_SOURCES += common/deliver/fmt.c common/deliver/fmt.h common/deliver/fmt_es.c common/deliver/fmt_loki.c common/deliver/fmt_hec.c common/deliver/fmt_hec_ack.c common/deliver/fmt_reply.c common/deliver/fmt_reply.h
COMMON_SOURCES += common/deliver/fmt_otlp.c common/deliver/fmt_otlp_int.h common/deliver/fmt_otlp_wire.c common/deliver/fmt_otlp_ctx.c common/deliver/fmt_otlp_sd.c common/deliver/fmt_otlp_reply.c
COMMON_SOURCES += common/deliver/tls_settings.h common/deliver/tls_client.c common/deliver/tls_client.h common/deliver/https_post.c common/deliver/https_post.h common/deliver/outrec.c common/deliver/outrec.h common/deliver/outrec_int.h common/deliver/outrec_json.c common/deliver/outrec_memo.c common/deliver/outrec_view.c common/deliver/outrec_multi.c common/deliver/outrec_tplmsg.c common/deliver/deadletter.c common/deliver/deadletter.h common/deliver/delivery.c common/deliver/delivery.h common/deliver/delivery_int.h common/deliver/delivery_queue.c common/deliver/delivery_sender.c
COMMON_LIBS = $(LIBFASTJSON_LIBS) $(PCRE2_LIBS) $(OPENSSL_LIBS) $(LIBZSTD_LIBS) $(ZLIB_LIBS) $(LIBCURL_LIBS) $(LIBPCAP_LIBS) -lpthread
COMMON_CFLAGS = $(WARN_CFLAGS) $(LIBFASTJSON_CFLAGS) $(PCRE2_CFLAGS) $(OPENSSL_CFLAGS) $(LIBZSTD_CFLAGS) $(LIBCURL_CFLAGS) $(LIBPCAP_CFLAGS) $(LIBVIRT_CFLAGS) $(LIBXML2_CFLAGS) -D_GNU_SOURCE

check_LTLIBRARIES += libctxcommon_san.la
libctxcommon_san_la_SOURCES = $(COMMON_SOURCES)
libctxcommon_san_la_CFLAGS = $(COMMON_CFLAGS) $(SAN_CFLAGS) -g -O1
COMMON_SOURCES += common/context/profiles_lvxml.c common/context/profiles_lvxml.h common/context/profiles_merge.c common/context/profiles_merge.h common/context/profsrc.c common/context/profsrc.h common/context/profsrc_int.h common/context/profiles_libvirt.c common/context/lvdl.c common/context/lvdl.h
COMMON_SOURCES += common/base/namereg.c common/base/namereg.h
