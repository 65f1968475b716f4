mod_LTLIBRARIES += plugins/omtenant/omtenant.la
plugins_omtenant_omtenant_la_SOURCES = plugins/omtenant/omtenant.c plugins/common/cnfutil.h
plugins_omtenant_omtenant_la_CFLAGS = $(PLUGIN_CFLAGS)
plugins_omtenant_omtenant_la_LDFLAGS = $(PLUGIN_LINKFLAGS)
plugins_omtenant_omtenant_la_LIBADD = $(PLUGIN_LIBS)
EXTRA_plugins_omtenant_omtenant_la_DEPENDENCIES = plugins/common/module.map
