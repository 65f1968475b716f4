# Unit tests: one cmocka program per common/ unit, linked against the
# ASan/UBSan build of common/. Add a unit test with the five lines below.
UNIT_CFLAGS = $(COMMON_CFLAGS) $(CMOCKA_CFLAGS) $(SAN_CFLAGS) -g -O1 -I$(top_srcdir)/tests/unit
UNIT_LDADD = libctxcommon_san.la $(CMOCKA_LIBS) $(COMMON_LIBS)
UNIT_LINKFLAGS = $(SAN_CFLAGS)
if HAVE_CMOCKA

check_PROGRAMS += tests/unit/test_timefmt
TESTS += tests/unit/test_timefmt
tests_unit_test_timefmt_SOURCES = tests/unit/test_timefmt.c
tests_unit_test_timefmt_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_timefmt_LDADD = $(UNIT_LDADD)
tests_unit_test_timefmt_LDFLAGS = $(UNIT_LINKFLAGS)

check_PROGRAMS += tests/unit/test_jsonfreeze
TESTS += tests/unit/test_jsonfreeze
tests_unit_test_jsonfreeze_SOURCES = tests/unit/test_jsonfreeze.c
tests_unit_test_jsonfreeze_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_jsonfreeze_LDADD = $(UNIT_LDADD)
tests_unit_test_jsonfreeze_LDFLAGS = $(UNIT_LINKFLAGS)

check_PROGRAMS += tests/unit/test_jsonintern
TESTS += tests/unit/test_jsonintern
tests_unit_test_jsonintern_SOURCES = tests/unit/test_jsonintern.c
tests_unit_test_jsonintern_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_jsonintern_LDADD = $(UNIT_LDADD)
tests_unit_test_jsonintern_LDFLAGS = $(UNIT_LINKFLAGS)

check_PROGRAMS += tests/unit/test_slot
TESTS += tests/unit/test_slot
tests_unit_test_slot_SOURCES = tests/unit/test_slot.c tests/unit/check.h
tests_unit_test_slot_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_slot_LDADD = $(UNIT_LDADD)
tests_unit_test_slot_LDFLAGS = $(UNIT_LINKFLAGS)
# the same test under ThreadSanitizer (not combinable with ASan): the slot's locking and atomics
check_PROGRAMS += tests/unit/test_slot_tsan
TESTS += tests/unit/test_slot_tsan
tests_unit_test_slot_tsan_SOURCES = tests/unit/test_slot.c common/base/slot.c
tests_unit_test_slot_tsan_CFLAGS = $(COMMON_CFLAGS) $(CMOCKA_CFLAGS) -fsanitize=thread -g -O1
tests_unit_test_slot_tsan_LDADD = $(CMOCKA_LIBS) -lpthread
tests_unit_test_slot_tsan_LDFLAGS = -fsanitize=thread

check_PROGRAMS += tests/unit/test_policy
TESTS += tests/unit/test_policy
tests_unit_test_policy_SOURCES = tests/unit/test_policy.c tests/unit/corpusdir.h
tests_unit_test_policy_CFLAGS = $(UNIT_CFLAGS) -DCTX_SRCDIR=\"$(abs_top_srcdir)\"
tests_unit_test_policy_LDADD = $(UNIT_LDADD)
tests_unit_test_policy_LDFLAGS = $(UNIT_LINKFLAGS)

check_PROGRAMS += tests/unit/test_fieldmap
TESTS += tests/unit/test_fieldmap
tests_unit_test_fieldmap_SOURCES = tests/unit/test_fieldmap.c tests/unit/fieldmap_fx.h
tests_unit_test_fieldmap_CFLAGS = $(UNIT_CFLAGS) -DCTX_SRCDIR=\"$(abs_top_srcdir)\"
tests_unit_test_fieldmap_LDADD = $(UNIT_LDADD)
tests_unit_test_fieldmap_LDFLAGS = $(UNIT_LINKFLAGS)

check_PROGRAMS += tests/unit/test_fieldmap_errors
TESTS += tests/unit/test_fieldmap_errors
tests_unit_test_fieldmap_errors_SOURCES = tests/unit/test_fieldmap_errors.c tests/unit/fieldmap_fx.h
tests_unit_test_fieldmap_errors_CFLAGS = $(UNIT_CFLAGS) -DCTX_SRCDIR=\"$(abs_top_srcdir)\"
tests_unit_test_fieldmap_errors_LDADD = $(UNIT_LDADD)
tests_unit_test_fieldmap_errors_LDFLAGS = $(UNIT_LINKFLAGS)

check_PROGRAMS += tests/unit/test_redact
TESTS += tests/unit/test_redact
tests_unit_test_redact_SOURCES = tests/unit/test_redact.c
tests_unit_test_redact_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_redact_LDADD = $(UNIT_LDADD)
tests_unit_test_redact_LDFLAGS = $(UNIT_LINKFLAGS)

check_PROGRAMS += tests/unit/test_redact_multi
TESTS += tests/unit/test_redact_multi
tests_unit_test_redact_multi_SOURCES = tests/unit/test_redact_multi.c
tests_unit_test_redact_multi_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_redact_multi_LDADD = $(UNIT_LDADD)
tests_unit_test_redact_multi_LDFLAGS = $(UNIT_LINKFLAGS)

# the same test under ThreadSanitizer: the tracker's mutex and its lock-free open count
check_PROGRAMS += tests/unit/test_redact_multi_tsan
TESTS += tests/unit/test_redact_multi_tsan
tests_unit_test_redact_multi_tsan_SOURCES = tests/unit/test_redact_multi.c common/redact/redact_multi.c
tests_unit_test_redact_multi_tsan_CFLAGS = $(COMMON_CFLAGS) $(CMOCKA_CFLAGS) -fsanitize=thread -g -O1
tests_unit_test_redact_multi_tsan_LDADD = $(CMOCKA_LIBS) -lpthread
tests_unit_test_redact_multi_tsan_LDFLAGS = -fsanitize=thread

check_PROGRAMS += tests/unit/test_redact_errors
TESTS += tests/unit/test_redact_errors
tests_unit_test_redact_errors_SOURCES = tests/unit/test_redact_errors.c
tests_unit_test_redact_errors_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_redact_errors_LDADD = $(UNIT_LDADD)
tests_unit_test_redact_errors_LDFLAGS = $(UNIT_LINKFLAGS)

check_PROGRAMS += tests/unit/test_redact_corpus
TESTS += tests/unit/test_redact_corpus
tests_unit_test_redact_corpus_SOURCES = tests/unit/test_redact_corpus.c
tests_unit_test_redact_corpus_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_redact_corpus_LDADD = $(UNIT_LDADD)
tests_unit_test_redact_corpus_LDFLAGS = $(UNIT_LINKFLAGS)

check_PROGRAMS += tests/unit/test_capture
TESTS += tests/unit/test_capture
tests_unit_test_capture_SOURCES = tests/unit/test_capture.c
tests_unit_test_capture_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_capture_LDADD = $(UNIT_LDADD)
tests_unit_test_capture_LDFLAGS = $(UNIT_LINKFLAGS)

check_PROGRAMS += tests/unit/test_capture_filter
TESTS += tests/unit/test_capture_filter
tests_unit_test_capture_filter_SOURCES = tests/unit/test_capture_filter.c
tests_unit_test_capture_filter_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_capture_filter_LDADD = $(UNIT_LDADD)
tests_unit_test_capture_filter_LDFLAGS = $(UNIT_LINKFLAGS)

check_PROGRAMS += tests/unit/test_cmcache
TESTS += tests/unit/test_cmcache
tests_unit_test_cmcache_SOURCES = tests/unit/test_cmcache.c tests/unit/conftab.h
tests_unit_test_cmcache_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_cmcache_LDADD = $(UNIT_LDADD)
tests_unit_test_cmcache_LDFLAGS = $(UNIT_LINKFLAGS)

check_PROGRAMS += tests/unit/test_cmfetch
TESTS += tests/unit/test_cmfetch
tests_unit_test_cmfetch_SOURCES = tests/unit/test_cmfetch.c tests/unit/cmfetch_fx.h tests/unit/conftab.h
tests_unit_test_cmfetch_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_cmfetch_LDADD = $(UNIT_LDADD)
tests_unit_test_cmfetch_LDFLAGS = $(UNIT_LINKFLAGS)

check_PROGRAMS += tests/unit/test_cmfetch_limits
TESTS += tests/unit/test_cmfetch_limits
tests_unit_test_cmfetch_limits_SOURCES = tests/unit/test_cmfetch_limits.c tests/unit/cmfetch_fx.h
tests_unit_test_cmfetch_limits_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_cmfetch_limits_LDADD = $(UNIT_LDADD)
tests_unit_test_cmfetch_limits_LDFLAGS = $(UNIT_LINKFLAGS)

check_PROGRAMS += tests/unit/test_hostsample
TESTS += tests/unit/test_hostsample
tests_unit_test_hostsample_SOURCES = tests/unit/test_hostsample.c
tests_unit_test_hostsample_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_hostsample_LDADD = $(UNIT_LDADD)
tests_unit_test_hostsample_LDFLAGS = $(UNIT_LINKFLAGS)

check_PROGRAMS += tests/unit/test_pktdecode
TESTS += tests/unit/test_pktdecode
tests_unit_test_pktdecode_SOURCES = tests/unit/test_pktdecode.c tests/unit/guardbuf.h tests/unit/pktbuild.h tests/unit/pcapreplay.h
tests_unit_test_pktdecode_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_pktdecode_LDADD = $(UNIT_LDADD)
tests_unit_test_pktdecode_LDFLAGS = $(UNIT_LINKFLAGS)

check_PROGRAMS += tests/unit/test_ipfrag
TESTS += tests/unit/test_ipfrag
tests_unit_test_ipfrag_SOURCES = tests/unit/test_ipfrag.c tests/unit/guardbuf.h tests/unit/pktbuild.h tests/unit/pcapreplay.h
tests_unit_test_ipfrag_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_ipfrag_LDADD = $(UNIT_LDADD)
tests_unit_test_ipfrag_LDFLAGS = $(UNIT_LINKFLAGS)

check_PROGRAMS += tests/unit/test_ifglob
TESTS += tests/unit/test_ifglob
tests_unit_test_ifglob_SOURCES = tests/unit/test_ifglob.c
tests_unit_test_ifglob_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_ifglob_LDADD = $(UNIT_LDADD)
tests_unit_test_ifglob_LDFLAGS = $(UNIT_LINKFLAGS)

check_PROGRAMS += tests/unit/test_profiles
TESTS += tests/unit/test_profiles
tests_unit_test_profiles_SOURCES = tests/unit/test_profiles.c tests/unit/profiles_fx.h
tests_unit_test_profiles_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_profiles_LDADD = $(UNIT_LDADD)
tests_unit_test_profiles_LDFLAGS = $(UNIT_LINKFLAGS)

check_PROGRAMS += tests/unit/test_profiles_errors
TESTS += tests/unit/test_profiles_errors
tests_unit_test_profiles_errors_SOURCES = tests/unit/test_profiles_errors.c tests/unit/profiles_fx.h
tests_unit_test_profiles_errors_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_profiles_errors_LDADD = $(UNIT_LDADD)
tests_unit_test_profiles_errors_LDFLAGS = $(UNIT_LINKFLAGS)

check_PROGRAMS += tests/unit/test_backoff
TESTS += tests/unit/test_backoff
tests_unit_test_backoff_SOURCES = tests/unit/test_backoff.c
tests_unit_test_backoff_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_backoff_LDADD = $(UNIT_LDADD)
tests_unit_test_backoff_LDFLAGS = $(UNIT_LINKFLAGS)

check_PROGRAMS += tests/unit/test_batch
TESTS += tests/unit/test_batch
tests_unit_test_batch_SOURCES = tests/unit/test_batch.c
tests_unit_test_batch_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_batch_LDADD = $(UNIT_LDADD)
tests_unit_test_batch_LDFLAGS = $(UNIT_LINKFLAGS)

check_PROGRAMS += tests/unit/test_cfgfile
TESTS += tests/unit/test_cfgfile
tests_unit_test_cfgfile_SOURCES = tests/unit/test_cfgfile.c
tests_unit_test_cfgfile_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_cfgfile_LDADD = $(UNIT_LDADD)
tests_unit_test_cfgfile_LDFLAGS = $(UNIT_LINKFLAGS)

check_PROGRAMS += tests/unit/test_secretfile
TESTS += tests/unit/test_secretfile
tests_unit_test_secretfile_SOURCES = tests/unit/test_secretfile.c
tests_unit_test_secretfile_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_secretfile_LDADD = $(UNIT_LDADD)
tests_unit_test_secretfile_LDFLAGS = $(UNIT_LINKFLAGS)

check_PROGRAMS += tests/unit/test_spool_stamp
TESTS += tests/unit/test_spool_stamp
tests_unit_test_spool_stamp_SOURCES = tests/unit/test_spool_stamp.c
tests_unit_test_spool_stamp_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_spool_stamp_LDADD = $(UNIT_LDADD)
tests_unit_test_spool_stamp_LDFLAGS = $(UNIT_LINKFLAGS)

check_PROGRAMS += tests/unit/test_deadletter
TESTS += tests/unit/test_deadletter
tests_unit_test_deadletter_SOURCES = tests/unit/test_deadletter.c
tests_unit_test_deadletter_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_deadletter_LDADD = $(UNIT_LDADD)
tests_unit_test_deadletter_LDFLAGS = $(UNIT_LINKFLAGS)

check_PROGRAMS += tests/unit/test_spool
TESTS += tests/unit/test_spool
tests_unit_test_spool_SOURCES = tests/unit/test_spool.c tests/unit/spool_fx.h
tests_unit_test_spool_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_spool_LDADD = $(UNIT_LDADD)
tests_unit_test_spool_LDFLAGS = $(UNIT_LINKFLAGS)

check_PROGRAMS += tests/unit/test_spool_corrupt
TESTS += tests/unit/test_spool_corrupt
tests_unit_test_spool_corrupt_SOURCES = tests/unit/test_spool_corrupt.c tests/unit/corpusdir.h tests/unit/spool_fx.h
tests_unit_test_spool_corrupt_CFLAGS = $(UNIT_CFLAGS) -DCTX_SRCDIR=\"$(abs_top_srcdir)\"
tests_unit_test_spool_corrupt_LDADD = $(UNIT_LDADD)
tests_unit_test_spool_corrupt_LDFLAGS = $(UNIT_LINKFLAGS)

check_PROGRAMS += tests/unit/test_tenants
TESTS += tests/unit/test_tenants
tests_unit_test_tenants_SOURCES = tests/unit/test_tenants.c tests/unit/corpusdir.h tests/unit/tenants_fx.h
tests_unit_test_tenants_CFLAGS = $(UNIT_CFLAGS) -DCTX_SRCDIR=\"$(abs_top_srcdir)\"
tests_unit_test_tenants_LDADD = $(UNIT_LDADD)
tests_unit_test_tenants_LDFLAGS = $(UNIT_LINKFLAGS)

check_PROGRAMS += tests/unit/test_tenants_errors
TESTS += tests/unit/test_tenants_errors
tests_unit_test_tenants_errors_SOURCES = tests/unit/test_tenants_errors.c tests/unit/tenants_fx.h
tests_unit_test_tenants_errors_CFLAGS = $(UNIT_CFLAGS) -DCTX_SRCDIR=\"$(abs_top_srcdir)\"
tests_unit_test_tenants_errors_LDADD = $(UNIT_LDADD)
tests_unit_test_tenants_errors_LDFLAGS = $(UNIT_LINKFLAGS)

check_PROGRAMS += tests/unit/test_tls_client
TESTS += tests/unit/test_tls_client
tests_unit_test_tls_client_SOURCES = tests/unit/test_tls_client.c tests/unit/tlsserver.h
tests_unit_test_tls_client_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_tls_client_LDADD = $(UNIT_LDADD)
tests_unit_test_tls_client_LDFLAGS = $(UNIT_LINKFLAGS)

check_PROGRAMS += tests/unit/test_https_post
TESTS += tests/unit/test_https_post
tests_unit_test_https_post_SOURCES = tests/unit/test_https_post.c tests/unit/tlsserver.h
tests_unit_test_https_post_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_https_post_LDADD = $(UNIT_LDADD)
tests_unit_test_https_post_LDFLAGS = $(UNIT_LINKFLAGS)

check_PROGRAMS += tests/unit/test_outrec
TESTS += tests/unit/test_outrec
tests_unit_test_outrec_SOURCES = tests/unit/test_outrec.c tests/unit/corpusdir.h tests/unit/outrec_fx.h
tests_unit_test_outrec_CFLAGS = $(UNIT_CFLAGS) -DCTX_SRCDIR=\"$(abs_top_srcdir)\"
tests_unit_test_outrec_LDADD = $(UNIT_LDADD)
tests_unit_test_outrec_LDFLAGS = $(UNIT_LINKFLAGS)

check_PROGRAMS += tests/unit/test_outrec_view
TESTS += tests/unit/test_outrec_view
tests_unit_test_outrec_view_SOURCES = tests/unit/test_outrec_view.c tests/unit/outrec_fx.h
tests_unit_test_outrec_view_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_outrec_view_LDADD = $(UNIT_LDADD)
tests_unit_test_outrec_view_LDFLAGS = $(UNIT_LINKFLAGS)

check_PROGRAMS += tests/unit/test_delivery
TESTS += tests/unit/test_delivery
tests_unit_test_delivery_SOURCES = tests/unit/test_delivery.c
tests_unit_test_delivery_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_delivery_LDADD = $(UNIT_LDADD)
tests_unit_test_delivery_LDFLAGS = $(UNIT_LINKFLAGS)

check_PROGRAMS += tests/unit/test_sysframe
TESTS += tests/unit/test_sysframe
tests_unit_test_sysframe_SOURCES = tests/unit/test_sysframe.c tests/unit/guardbuf.h
tests_unit_test_sysframe_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_sysframe_LDADD = $(UNIT_LDADD)
tests_unit_test_sysframe_LDFLAGS = $(UNIT_LINKFLAGS)

check_PROGRAMS += tests/unit/test_tcpreasm
TESTS += tests/unit/test_tcpreasm
tests_unit_test_tcpreasm_SOURCES = tests/unit/test_tcpreasm.c tests/unit/corpus.h tests/unit/guardbuf.h tests/unit/pktbuild.h tests/unit/tcpreasm_fx.h
tests_unit_test_tcpreasm_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_tcpreasm_LDADD = $(UNIT_LDADD)
tests_unit_test_tcpreasm_LDFLAGS = $(UNIT_LINKFLAGS)

check_PROGRAMS += tests/unit/test_tcpreasm_limits
TESTS += tests/unit/test_tcpreasm_limits
tests_unit_test_tcpreasm_limits_SOURCES = tests/unit/test_tcpreasm_limits.c tests/unit/guardbuf.h tests/unit/tcpreasm_fx.h
tests_unit_test_tcpreasm_limits_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_tcpreasm_limits_LDADD = $(UNIT_LDADD)
tests_unit_test_tcpreasm_limits_LDFLAGS = $(UNIT_LINKFLAGS)

check_PROGRAMS += tests/unit/test_vmbudget
TESTS += tests/unit/test_vmbudget
tests_unit_test_vmbudget_SOURCES = tests/unit/test_vmbudget.c
tests_unit_test_vmbudget_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_vmbudget_LDADD = $(UNIT_LDADD)
tests_unit_test_vmbudget_LDFLAGS = $(UNIT_LINKFLAGS)

check_PROGRAMS += tests/unit/test_namereg
TESTS += tests/unit/test_namereg
tests_unit_test_namereg_SOURCES = tests/unit/test_namereg.c
tests_unit_test_namereg_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_namereg_LDADD = $(UNIT_LDADD)
tests_unit_test_namereg_LDFLAGS = $(UNIT_LINKFLAGS)

check_PROGRAMS += tests/unit/test_fmt_otlp
TESTS += tests/unit/test_fmt_otlp
tests_unit_test_fmt_otlp_SOURCES = tests/unit/test_fmt_otlp.c
tests_unit_test_fmt_otlp_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_fmt_otlp_LDADD = $(UNIT_LDADD)
tests_unit_test_fmt_otlp_LDFLAGS = $(UNIT_LINKFLAGS)

# the OTLP encoder decoded with the official protos (python3-protobuf, protoc at test time)
check_PROGRAMS += tests/unit/otlp_encode
tests_unit_otlp_encode_SOURCES = tests/unit/otlp_encode.c
tests_unit_otlp_encode_CFLAGS = $(COMMON_CFLAGS) $(SAN_CFLAGS) -g -O1
tests_unit_otlp_encode_LDADD = libctxcommon_san.la $(COMMON_LIBS)
tests_unit_otlp_encode_LDFLAGS = $(SAN_CFLAGS)
TESTS += tests/unit/fmt_otlp_decode.sh
EXTRA_DIST += tests/unit/fmt_otlp_decode.sh tests/unit/fmt_otlp_decode.py

endif

check_PROGRAMS += tests/unit/test_profiles_libvirt
TESTS += tests/unit/test_profiles_libvirt
tests_unit_test_profiles_libvirt_SOURCES = tests/unit/test_profiles_libvirt.c
tests_unit_test_profiles_libvirt_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_profiles_libvirt_LDADD = $(UNIT_LDADD)
tests_unit_test_profiles_libvirt_LDFLAGS = $(UNIT_LINKFLAGS)

check_PROGRAMS += tests/unit/test_fmt
TESTS += tests/unit/test_fmt
tests_unit_test_fmt_SOURCES = tests/unit/test_fmt.c
tests_unit_test_fmt_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_fmt_LDADD = $(UNIT_LDADD)
tests_unit_test_fmt_LDFLAGS = $(UNIT_LINKFLAGS)

check_PROGRAMS += tests/unit/test_cmauth
TESTS += tests/unit/test_cmauth
tests_unit_test_cmauth_SOURCES = tests/unit/test_cmauth.c
tests_unit_test_cmauth_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_cmauth_LDADD = $(UNIT_LDADD)
tests_unit_test_cmauth_LDFLAGS = $(UNIT_LINKFLAGS)

check_PROGRAMS += tests/unit/test_gcra
TESTS += tests/unit/test_gcra
tests_unit_test_gcra_SOURCES = tests/unit/test_gcra.c
tests_unit_test_gcra_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_gcra_LDADD = $(UNIT_LDADD)
tests_unit_test_gcra_LDFLAGS = $(UNIT_LINKFLAGS)

check_PROGRAMS += tests/unit/test_textcheck
TESTS += tests/unit/test_textcheck
tests_unit_test_textcheck_SOURCES = tests/unit/test_textcheck.c
tests_unit_test_textcheck_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_textcheck_LDADD = $(UNIT_LDADD)
tests_unit_test_textcheck_LDFLAGS = $(UNIT_LINKFLAGS)
