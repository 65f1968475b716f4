# the common/ units imctxcap uses
IMCTXCAP_COMMON = common/capture/capture.c common/capture/capture_ring.c common/capture/capture_filter.c common/capture/pktdecode.c common/capture/ipfrag.c common/base/ifglob.c common/context/profiles.c common/base/slot.c common/base/slot.h \
	common/context/profiles_load.c common/context/profiles_ld.h common/context/profiles_tables.c common/context/profiles_text.c common/base/jsonpos.c common/base/timefmt.c common/base/cfgfile.c common/base/jsonfreeze.c common/base/jsonintern.c \
	common/context/profiles_lvxml.c common/context/profiles_lvxml.h common/context/profiles_merge.c common/context/profiles_merge.h common/context/profsrc.c common/context/profsrc.h common/context/profsrc_int.h common/context/profiles_libvirt.c common/context/lvdl.c common/context/lvdl.h common/base/backoff.c
mod_LTLIBRARIES += plugins/imctxcap/imctxcap.la
plugins_imctxcap_imctxcap_la_SOURCES = plugins/imctxcap/imctxcap.c plugins/imctxcap/imctxcap.h plugins/imctxcap/imctxcap_packet.c plugins/imctxcap/imctxcap_worker.c plugins/imctxcap/imctxcap_vmshare.c plugins/common/cnfutil.h plugins/common/tplscan.h plugins/common/statsctr.h \
	$(IMCTXCAP_COMMON)
plugins_imctxcap_imctxcap_la_CFLAGS = $(PLUGIN_CFLAGS)
plugins_imctxcap_imctxcap_la_LDFLAGS = $(PLUGIN_LINKFLAGS)
plugins_imctxcap_imctxcap_la_LIBADD = $(PLUGIN_LIBS)
EXTRA_plugins_imctxcap_imctxcap_la_DEPENDENCIES = plugins/common/module.map
# TCP capture (imctxcap_tcp.c: reassembly and RFC 6587 framing)
plugins_imctxcap_imctxcap_la_SOURCES += plugins/imctxcap/imctxcap_tcp.c plugins/imctxcap/imctxcap_budget.c plugins/imctxcap/imctxcap_vmstats.c common/base/namereg.c common/capture/tcpreasm.c common/capture/tcpreasm_seg.c common/capture/tcpreasm_pool.c common/capture/tcpreasm_owner.c common/capture/sysframe.c common/capture/vmbudget.c
