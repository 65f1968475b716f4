mod_LTLIBRARIES += plugins/imctxcap/imctxcap.la
plugins_imctxcap_imctxcap_la_SOURCES = plugins/imctxcap/imctxcap.c plugins/imctxcap/imctxcap.h plugins/imctxcap/imctxcap_packet.c plugins/common/cnfutil.h
plugins_imctxcap_imctxcap_la_CFLAGS = $(PLUGIN_CFLAGS)
plugins_imctxcap_imctxcap_la_LDFLAGS = $(PLUGIN_LINKFLAGS)
plugins_imctxcap_imctxcap_la_LIBADD = libctxcommon.la
plugins_imctxcap_imctxcap_la_LIBADD += $(LIBPCAP_LIBS) $(LIBFASTJSON_LIBS)
