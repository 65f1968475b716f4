mod_LTLIBRARIES += plugins/mmctxenrich/mmctxenrich.la
plugins_mmctxenrich_mmctxenrich_la_SOURCES = plugins/mmctxenrich/mmctxenrich.c plugins/common/cnfutil.h
plugins_mmctxenrich_mmctxenrich_la_CFLAGS = $(PLUGIN_CFLAGS)
plugins_mmctxenrich_mmctxenrich_la_LDFLAGS = $(PLUGIN_LINKFLAGS)
plugins_mmctxenrich_mmctxenrich_la_LIBADD = $(PLUGIN_LIBS)
EXTRA_plugins_mmctxenrich_mmctxenrich_la_DEPENDENCIES = plugins/common/module.map
