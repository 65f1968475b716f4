# the common/ units omtenant uses (the redaction engine: $(REDACT_SOURCES), tools/tools.mk)
OMTENANT_COMMON = common/deliver/tenants.c common/deliver/tenants_parse.c common/deliver/tenants_fmt.c common/deliver/tenants_int.h common/deliver/batch.c common/deliver/batch_int.h common/deliver/batch_rec.c common/deliver/spool.c common/deliver/spool_recover.c common/deliver/spool_int.h common/base/backoff.c common/base/slot.c common/base/timefmt.c common/base/jsonpos.c \
	common/deliver/tls_client.c common/deliver/https_post.c common/deliver/outrec.c common/deliver/outrec_int.h common/deliver/outrec_json.c common/deliver/outrec_memo.c common/deliver/outrec_view.c common/deliver/outrec_multi.c common/deliver/outrec_tplmsg.c common/deliver/deadletter.c \
	common/deliver/delivery.c common/deliver/delivery_int.h common/deliver/delivery_queue.c common/deliver/delivery_sender.c \
	common/deliver/spool_stamp.c common/deliver/fmt.c common/deliver/fmt.h common/deliver/fmt_es.c common/deliver/fmt_loki.c common/deliver/fmt_hec.c common/deliver/fmt_hec_ack.c common/deliver/fmt_reply.c common/deliver/fmt_reply.h \
	common/deliver/fmt_otlp.c common/deliver/fmt_otlp_int.h common/deliver/fmt_otlp_wire.c common/deliver/fmt_otlp_ctx.c common/deliver/fmt_otlp_sd.c common/deliver/fmt_otlp_reply.c
mod_LTLIBRARIES += plugins/omtenant/omtenant.la
plugins_omtenant_omtenant_la_SOURCES = plugins/omtenant/omtenant.c plugins/omtenant/omtenant.h \
	plugins/omtenant/omtenant_conf.c plugins/omtenant/omtenant_commit.c plugins/omtenant/omtenant_route.c \
	plugins/omtenant/omtenant_transport.c plugins/omtenant/omtenant_stats.c plugins/omtenant/omtenant_stamp.c plugins/common/cnfutil.h plugins/common/statsctr.h \
	$(OMTENANT_COMMON) $(REDACT_SOURCES)
plugins_omtenant_omtenant_la_CFLAGS = $(PLUGIN_CFLAGS)
plugins_omtenant_omtenant_la_LDFLAGS = $(PLUGIN_LINKFLAGS)
plugins_omtenant_omtenant_la_LIBADD = $(PLUGIN_LIBS)
EXTRA_plugins_omtenant_omtenant_la_DEPENDENCIES = plugins/common/module.map
