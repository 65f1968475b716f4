# the common/ units mmctxenrich uses
MMCTXENRICH_COMMON = common/context/cmauth.c common/context/cmhttp.c common/context/cmhttp.h common/context/cmfetch_url.c common/context/cmfetch_int.h \
	common/context/cmcache.c common/context/cmfetch.c common/context/hostsample.c common/context/cgstat.c common/context/policy.c common/context/policy_parse.c \
	common/context/fieldmap.c common/context/fieldmap_load.c common/context/fieldmap_int.h common/context/profiles.c common/context/profiles_load.c common/context/profiles_ld.h common/context/profiles_tables.c common/context/profiles_text.c common/base/ifglob.c common/base/jsonpos.c \
	common/base/secretfile.c common/base/cfgfile.c common/base/jsonfreeze.c common/base/slot.c \
	common/context/profiles_lvxml.c common/context/profiles_lvxml.h common/context/profiles_merge.c common/context/profiles_merge.h common/context/profsrc.c common/context/profsrc.h common/context/profsrc_int.h common/context/profiles_libvirt.c common/context/lvdl.c common/context/lvdl.h common/base/backoff.c
mod_LTLIBRARIES += plugins/mmctxenrich/mmctxenrich.la
plugins_mmctxenrich_mmctxenrich_la_SOURCES = plugins/mmctxenrich/mmctxenrich.c plugins/mmctxenrich/mmctxenrich.h \
	plugins/mmctxenrich/mmctxenrich_conf.c plugins/mmctxenrich/mmctxenrich_cm.c plugins/mmctxenrich/mmctxenrich_cmconf.c plugins/mmctxenrich/mmctxenrich_flat.c \
	plugins/mmctxenrich/mmctxenrich_host.c plugins/mmctxenrich/mmctxenrich_share.c \
	plugins/mmctxenrich/mmctxenrich_msg.c plugins/mmctxenrich/mmctxenrich_names.c plugins/mmctxenrich/mmctxenrich_stats.c \
	plugins/common/cnfutil.h plugins/common/tplscan.h plugins/common/statsctr.h \
	$(MMCTXENRICH_COMMON)
plugins_mmctxenrich_mmctxenrich_la_CFLAGS = $(PLUGIN_CFLAGS)
plugins_mmctxenrich_mmctxenrich_la_LDFLAGS = $(PLUGIN_LINKFLAGS)
plugins_mmctxenrich_mmctxenrich_la_LIBADD = $(PLUGIN_LIBS)
EXTRA_plugins_mmctxenrich_mmctxenrich_la_DEPENDENCIES = plugins/common/module.map
