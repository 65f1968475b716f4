# the common/ units omtenant uses (the redaction engine: $(REDACT_SOURCES), tools/tools.mk)
OMTENANT_COMMON = common/tenants.c common/batch.c common/spool.c common/backoff.c common/timefmt.c \
	common/tls_client.c common/https_post.c common/outrec.c common/outrec_int.h common/outrec_json.c common/deadletter.c \
	common/delivery.c common/delivery_int.h common/delivery_queue.c common/delivery_sender.c \
	common/spool_stamp.c
mod_LTLIBRARIES += plugins/omtenant/omtenant.la
plugins_omtenant_omtenant_la_SOURCES = plugins/omtenant/omtenant.c plugins/omtenant/omtenant.h \
	plugins/omtenant/omtenant_conf.c plugins/omtenant/omtenant_commit.c plugins/omtenant/omtenant_route.c \
	plugins/omtenant/omtenant_transport.c plugins/omtenant/omtenant_stats.c plugins/omtenant/omtenant_stamp.c plugins/common/cnfutil.h \
	$(OMTENANT_COMMON) $(REDACT_SOURCES)
plugins_omtenant_omtenant_la_CFLAGS = $(PLUGIN_CFLAGS)
plugins_omtenant_omtenant_la_LDFLAGS = $(PLUGIN_LINKFLAGS)
plugins_omtenant_omtenant_la_LIBADD = $(PLUGIN_LIBS)
EXTRA_plugins_omtenant_omtenant_la_DEPENDENCIES = plugins/common/module.map
