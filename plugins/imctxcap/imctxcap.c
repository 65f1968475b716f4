/* imctxcap.c: rsyslog glue of the agentless VM syslog capture input.
 *
 * input(type="imctxcap" interface="vnet*,tap*" profiles="/etc/ctxlog/profiles.json" ...)
 * captures the syslog packets VMs send on their host-side vNICs (AF_PACKET,
 * TPACKET_V3, one ring per worker for all vNICs), attributes each to a VM profile and submits it to rsyslog's
 * parser chain with $!ctx!vm and $!ctx!capture. See docs/imctxcap.md.
 *
 * This file holds the parameter tables, the config life cycle and the entry
 * points; the per-packet path is in imctxcap_packet.c, the capture loop in
 * common/capture/capture.c.
 *
 * Concurrency: the instance list and each instance's parameters are read-only
 * after activateCnf. Each instance has `workers` capture threads (started by runInput;
 * imctxcap_worker.c), each owning its capture engine, fragment table, TCP reassembler
 * and budgets. The profile store is swapped on HUP through a generation-stamped slot
 * (profiles.h); readers take a reference. Counters are statsobj counters updated with
 * atomics.
 */
#include "config.h"
#include "rsyslog.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cfsysline.h"
#include "parserif.h"
#include "errmsg.h"
#include "glbl.h"
#include "module-template.h"
#include "prop.h"
#include "rainerscript.h"
#include "rsconf.h"
#include "ruleset.h"
#include "statsobj.h"
#include "template.h"
#include "unicode-helper.h"
#include "datetime.h"
#include "srUtils.h"

#include "cnfutil.h"
#include "tplscan.h"
#include "imctxcap.h"
#include "ipfrag.h"

MODULE_TYPE_INPUT;
MODULE_TYPE_KEEP;
MODULE_CNFNAME("imctxcap")

DEF_IMOD_STATIC_DATA;
DEFobjCurrIf(glbl) DEFobjCurrIf(prop) DEFobjCurrIf(ruleset) DEFobjCurrIf(statsobj) DEFobjCurrIf(datetime)

struct modConfData_s {
    rsconf_t *pConf;
    imctxcap_inst_t *root, *tail;
};

static modConfData_t *loadModConf = NULL;
static modConfData_t *runModConf = NULL;
static int had_inst_error = 0; /* an input() failed: do not also say "none configured" */
static prop_t *pInputName = NULL;

/* input instance parameters: docs/imctxcap.md lists each with type, default and meaning */
static struct cnfparamdescr inppdescr[] = {
    {"interface", eCmdHdlrArray, CNFPARAM_REQUIRED},
    {"profiles", eCmdHdlrString, 0},
    {"profiles.libvirt", eCmdHdlrString, 0},
    {"udp.port", eCmdHdlrArray, 0},
    {"unattributed", eCmdHdlrGetWord, 0},
    {"unattributed.tenant", eCmdHdlrString, 0},
    {"ruleset", eCmdHdlrString, 0},
    {"name", eCmdHdlrString, 0},
    {"ringsize", eCmdHdlrSize, 0},
    {"snaplen", eCmdHdlrPositiveInt, 0},
    {"fragment.timeout", eCmdHdlrPositiveInt, 0},
    {"fragment.maxmemory", eCmdHdlrSize, 0},
    {"fragment.maxmemorypervnic", eCmdHdlrSize, 0},
    {"workers", eCmdHdlrPositiveInt, 0},
    {"vm.maxpacketspersecond", eCmdHdlrNonNegInt, 0},
    {"vm.maxbytespersecond", eCmdHdlrSize, 0},
    {"vm.maxstatsobjects", eCmdHdlrNonNegInt, 0},
};
static struct cnfparamblk inppblk = {CNFPARAMBLK_VERSION, sizeof(inppdescr) / sizeof(struct cnfparamdescr),
                                     inppdescr};

#include "im-helper.h" /* must be included AFTER the type definitions! */

static void inst_set_defaults(imctxcap_inst_t *inst) {
    inst->unattributed = IMCTXCAP_UNATTR_PASS;
    inst->ring_bytes = 16 * 1024 * 1024;
    inst->snaplen = 65535;
    inst->frag_timeout_ms = 30000;
    inst->frag_max_bytes = 4 * 1024 * 1024;
    inst->n_workers = 1;
    inst->vm_max_pps = 10000;           /* per vNIC: far above what a VM logs, far below a worker's capacity
                                         * (100000 let one UDP flood fill the ring: bench/imctxcap/RESULTS.md) */
    inst->vm_max_bps = 128u * 1024 * 1024;
    inst->vm_max_stats = 64;            /* impstats objects of VMs over their budget */
}

static void inst_free(imctxcap_inst_t *inst) {
    if (inst == NULL) return;
    cnf_list_free(inst->interfaces);
    free(inst->udp_ports);
    free(inst->profiles_path);
    free(inst->libvirt_uri);
    free(inst->unattr_tenant);
    free(inst->pszBindRuleset);
    free(inst->name);
    imctxcap_packet_destroy(inst);
    if (inst->stats != NULL) statsobj.Destruct(&inst->stats);
    imctxcap_tcp_free(inst);
    imctxcap_vmstats_free(inst);
    imctxcap_budget_free(inst);
    free(inst);
}

/* "514", "6514": 1..65535; returns 0 or -1 */
static int parse_port(const char *s, uint16_t *out) {
    char *end = NULL;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < 1 || v > 65535) return -1;
    *out = (uint16_t)v;
    return 0;
}

static rsRetVal set_ports(imctxcap_inst_t *inst, struct cnfparamvals *v) {
    char **list = NULL;
    DEFiRet;
    CHKmalloc(list = cnf_list(v));
    inst->n_udp_ports = cnf_list_len(list);
    if (inst->n_udp_ports == 0) {
        parser_errmsg("imctxcap: parameter 'udp.port': expected at least one port number, got none");
        ABORT_FINALIZE(RS_RET_PARAM_ERROR);
    }
    CHKmalloc(inst->udp_ports = calloc(inst->n_udp_ports, sizeof(uint16_t)));
    for (size_t i = 0; i < inst->n_udp_ports; ++i) {
        if (parse_port(list[i], &inst->udp_ports[i]) != 0) {
            parser_errmsg("imctxcap: parameter 'udp.port': expected a port number 1..65535, got '%s'", list[i]);
            ABORT_FINALIZE(RS_RET_PARAM_ERROR);
        }
    }
finalize_it:
    cnf_list_free(list);
    RETiRet;
}

static rsRetVal set_unattributed(imctxcap_inst_t *inst, struct cnfparamvals *v) {
    char *s = NULL;
    DEFiRet;
    CHKmalloc(s = cnf_str(v));
    if (!strcmp(s, "drop")) {
        inst->unattributed = IMCTXCAP_UNATTR_DROP;
    } else if (!strcmp(s, "pass")) {
        inst->unattributed = IMCTXCAP_UNATTR_PASS;
    } else {
        parser_errmsg("imctxcap: parameter 'unattributed': expected 'drop' or 'pass', got '%s'",
                 s);
        ABORT_FINALIZE(RS_RET_PARAM_ERROR);
    }
finalize_it:
    free(s);
    RETiRet;
}

static rsRetVal set_interfaces(imctxcap_inst_t *inst, struct cnfparamvals *v) {
    char err[CTX_ERRLEN];
    DEFiRet;
    CHKmalloc(inst->interfaces = cnf_list(v));
    if (inst->interfaces[0] == NULL) {
        parser_errmsg("imctxcap: parameter 'interface': expected interface names or patterns (e.g. \"vnet*,tap*\"), "
                 "got none");
        ABORT_FINALIZE(RS_RET_PARAM_ERROR);
    }
    if (imctxcap_check_patterns((const char *const *)inst->interfaces, err, sizeof err) != 0) {
        parser_errmsg("imctxcap: parameter 'interface': %s", err);
        ABORT_FINALIZE(RS_RET_PARAM_ERROR);
    }
finalize_it:
    RETiRet;
}

/* fragment.timeout, fragment.maxMemory, fragment.maxMemoryPerVnic */
static rsRetVal set_fragment_param(imctxcap_inst_t *inst, const char *name, struct cnfparamvals *v) {
    DEFiRet;
    if (!strcmp(name, "fragment.timeout")) {
        if (v->val.d.n < 1 || v->val.d.n > CTX_IPFRAG_MAX_TIMEOUT_MS) {
            parser_errmsg("imctxcap: parameter 'fragment.timeout': expected 1..%u (ms), got %lld",
                          CTX_IPFRAG_MAX_TIMEOUT_MS, (long long)v->val.d.n);
            ABORT_FINALIZE(RS_RET_PARAM_ERROR);
        }
        inst->frag_timeout_ms = (unsigned)v->val.d.n;
    } else if (!strcmp(name, "fragment.maxmemory")) {
        if (v->val.d.n < CTX_IPFRAG_MIN_BYTES || v->val.d.n > (1ll << 30)) {
            parser_errmsg("imctxcap: parameter 'fragment.maxMemory': expected %d (4k) .. 1g, got %lld",
                          CTX_IPFRAG_MIN_BYTES, (long long)v->val.d.n);
            ABORT_FINALIZE(RS_RET_PARAM_ERROR);
        }
        inst->frag_max_bytes = (size_t)v->val.d.n;
    } else if (!strcmp(name, "fragment.maxmemorypervnic")) {
        if (v->val.d.n < CTX_IPFRAG_MIN_BYTES || v->val.d.n > (1ll << 30)) {
            parser_errmsg("imctxcap: parameter 'fragment.maxMemoryPerVnic': expected %d (4k) .. 1g, got %lld",
                          CTX_IPFRAG_MIN_BYTES, (long long)v->val.d.n);
            ABORT_FINALIZE(RS_RET_PARAM_ERROR);
        }
        inst->frag_max_bytes_vnic = (size_t)v->val.d.n;
    }
finalize_it:
    RETiRet;
}

static rsRetVal set_param(imctxcap_inst_t *inst, const char *name, struct cnfparamvals *v) {
    DEFiRet;
    if (!strcmp(name, "interface")) {
        CHKiRet(set_interfaces(inst, v));
    } else if (!strcmp(name, "profiles")) {
        CHKmalloc(inst->profiles_path = cnf_str(v));
    } else if (!strcmp(name, "profiles.libvirt")) {
        CHKmalloc(inst->libvirt_uri = cnf_str(v));
    } else if (!strcmp(name, "udp.port")) {
        CHKiRet(set_ports(inst, v));
    } else if (!strcmp(name, "unattributed")) {
        CHKiRet(set_unattributed(inst, v));
    } else if (!strcmp(name, "unattributed.tenant")) {
        CHKmalloc(inst->unattr_tenant = cnf_str(v));
    } else if (!strcmp(name, "ruleset")) {
        CHKmalloc(inst->pszBindRuleset = (uchar *)cnf_str(v));
    } else if (!strcmp(name, "name")) {
        CHKmalloc(inst->name = cnf_str(v));
    } else if (!strcmp(name, "ringsize")) {
        inst->ring_bytes = (size_t)v->val.d.n;
        if (inst->ring_bytes < 65536) {
            parser_errmsg("imctxcap: parameter 'ringSize': expected at least 64k, got %zu",
                     inst->ring_bytes);
            ABORT_FINALIZE(RS_RET_PARAM_ERROR);
        }
    } else if (!strcmp(name, "snaplen")) {
        inst->snaplen = (int)v->val.d.n;
        if (inst->snaplen < 128 || inst->snaplen > 262144) {
            parser_errmsg("imctxcap: parameter 'snapLen': expected 128..262144, got %d",
                     inst->snaplen);
            ABORT_FINALIZE(RS_RET_PARAM_ERROR);
        }
    } else if (!strncmp(name, "fragment.", 9)) {
        CHKiRet(set_fragment_param(inst, name, v));
    } else if (!strcmp(name, "vm.maxpacketspersecond")) {
        if (v->val.d.n < 0 || v->val.d.n > 1000000000ll) {
            parser_errmsg("imctxcap: parameter 'vm.maxPacketsPerSecond': expected 0 (off) .. 1000000000, got %lld",
                          (long long)v->val.d.n);
            ABORT_FINALIZE(RS_RET_PARAM_ERROR);
        }
        inst->vm_max_pps = (uint64_t)v->val.d.n;
    } else if (!strcmp(name, "vm.maxbytespersecond")) {
        if (v->val.d.n < 0 || v->val.d.n > (1ll << 40)) {
            parser_errmsg("imctxcap: parameter 'vm.maxBytesPerSecond': expected 0 (off) .. 1t, got %lld",
                          (long long)v->val.d.n);
            ABORT_FINALIZE(RS_RET_PARAM_ERROR);
        }
        inst->vm_max_bps = (uint64_t)v->val.d.n;
    } else if (!strcmp(name, "vm.maxstatsobjects")) {
        if (v->val.d.n < 0 || v->val.d.n > 100000) {
            parser_errmsg("imctxcap: parameter 'vm.maxStatsObjects': expected 0 (none) .. 100000, got %lld",
                          (long long)v->val.d.n);
            ABORT_FINALIZE(RS_RET_PARAM_ERROR);
        }
        inst->vm_max_stats = (size_t)v->val.d.n;
    } else if (!strcmp(name, "workers")) {
        if (v->val.d.n < 1 || v->val.d.n > 64) {
            parser_errmsg("imctxcap: parameter 'workers': expected 1..64, got %lld", (long long)v->val.d.n);
            ABORT_FINALIZE(RS_RET_PARAM_ERROR);
        }
        inst->n_workers = (int)v->val.d.n;
    } else {
        dbgprintf("imctxcap: program error, non-handled param '%s'\n", name);
    }
finalize_it:
    RETiRet;
}

static rsRetVal inst_validate(imctxcap_inst_t *inst) {
    DEFiRet;
    if (inst->udp_ports == NULL) {
        CHKmalloc(inst->udp_ports = calloc(1, sizeof(uint16_t)));
        inst->udp_ports[0] = 514;
        inst->n_udp_ports = 1;
    }
    if (inst->unattr_tenant == NULL) CHKmalloc(inst->unattr_tenant = strdup("unknown"));
    if (inst->name == NULL) CHKmalloc(inst->name = strdup("imctxcap"));
    if (inst->frag_max_bytes_vnic == 0) {
        inst->frag_max_bytes_vnic = inst->frag_max_bytes / 4;
        if (inst->frag_max_bytes_vnic < CTX_IPFRAG_MIN_BYTES) inst->frag_max_bytes_vnic = CTX_IPFRAG_MIN_BYTES;
    } else if (inst->frag_max_bytes_vnic > inst->frag_max_bytes) {
        parser_errmsg("imctxcap: parameter 'fragment.maxMemoryPerVnic': expected at most fragment.maxMemory (%zu), "
                      "got %zu", inst->frag_max_bytes, inst->frag_max_bytes_vnic);
        ABORT_FINALIZE(RS_RET_PARAM_ERROR);
    }
    /* the profiles file is validated here so that rsyslogd -N1 reports a bad one */
    CHKiRet(imctxcap_packet_init(inst));
    CHKiRet(imctxcap_budget_init(inst));
finalize_it:
    RETiRet;
}

BEGINnewInpInst
    struct cnfparamvals *pvals;
    imctxcap_inst_t *inst = NULL;
    CODESTARTnewInpInst;
    if ((pvals = nvlstGetParams(lst, &inppblk, NULL)) == NULL) ABORT_FINALIZE(RS_RET_MISSING_CNFPARAMS);
    CHKmalloc(inst = calloc(1, sizeof(*inst)));
    inst_set_defaults(inst);
    for (int i = 0; i < inppblk.nParams; ++i) {
        if (!pvals[i].bUsed) continue;
        CHKiRet(set_param(inst, inppblk.descr[i].name, &pvals[i]));
    }
    CHKiRet(imctxcap_tcp_params(inst, lst));
    CHKiRet(inst_validate(inst));
    if (loadModConf->tail == NULL)
        loadModConf->root = inst;
    else
        loadModConf->tail->next = inst;
    loadModConf->tail = inst;
    inst = NULL;
finalize_it:
    if (iRet != RS_RET_OK) had_inst_error = 1;
    inst_free(inst);
    CODE_STD_FINALIZERnewInpInst cnfparamvalsDestruct(pvals, &inppblk);
ENDnewInpInst

BEGINbeginCnfLoad
    CODESTARTbeginCnfLoad;
    loadModConf = pModConf;
    pModConf->pConf = pConf;
    pModConf->root = pModConf->tail = NULL;
ENDbeginCnfLoad

BEGINendCnfLoad
    CODESTARTendCnfLoad;
ENDendCnfLoad

static inline void std_checkRuleset_genErrMsg(__attribute__((unused)) modConfData_t *modConf,
                                              imctxcap_inst_t *inst) {
    LogError(0, NO_ERRCODE, "imctxcap: parameter 'ruleset': ruleset '%s' not found, using the default ruleset",
             inst->pszBindRuleset);
}

/* $!ctx!vm is shared unless a template names it on its own (plugins/common/tplscan.h) */
static void scan_templates(modConfData_t *mc) {
    const char *prop = NULL, *tpl = tplscan_find(mc->pConf, "vm", 0, &prop);
    for (imctxcap_inst_t *inst = mc->root; inst != NULL; inst = inst->next) {
        inst->share_vm = tpl == NULL;
        if (tpl != NULL)
            LogMsg(0, RS_RET_OK, LOG_INFO, "imctxcap(%s): template '%s' names $%s: $!ctx!vm is built for each "
                   "message (not shared)", inst->name, tpl, prop);
    }
}

BEGINcheckCnf
    CODESTARTcheckCnf;
    for (imctxcap_inst_t *inst = pModConf->root; inst != NULL; inst = inst->next) std_checkRuleset(pModConf, inst);
    scan_templates(pModConf);
    if (pModConf->root == NULL && !had_inst_error) {
        LogError(0, RS_RET_NO_LISTNERS, "imctxcap: module loaded, but no input(type=\"imctxcap\") configured");
        iRet = RS_RET_NO_LISTNERS;
    }
ENDcheckCnf

static rsRetVal inst_stats_setup(imctxcap_inst_t *inst) {
    char dispname[256];
    DEFiRet;
    snprintf(dispname, sizeof dispname, "imctxcap(%s)", inst->name);
    CHKiRet(statsobj.Construct(&inst->stats));
    CHKiRet(statsobj.SetName(inst->stats, (uchar *)dispname));
    CHKiRet(statsobj.SetOrigin(inst->stats, (uchar *)"imctxcap"));
    for (int i = 0; i < IMCTXCAP_CTR_COUNT; ++i) {
        intctr_t *ctr = &inst->ctr[i];
        STATSCOUNTER_INIT(*ctr, inst->mut_ctr);
        CHKiRet(STATSCTR_ADD(&statsobj, inst->stats, imctxcap_counter_names[i], imctxcap_ctr_is_gauge(i), ctr));
    }
    CHKiRet(imctxcap_tcp_stats(inst, &statsobj));
    CHKiRet(statsobj.ConstructFinalize(inst->stats));
    CHKiRet(imctxcap_vmstats_init(inst, &statsobj));
finalize_it:
    RETiRet;
}

BEGINactivateCnfPrePrivDrop
    CODESTARTactivateCnfPrePrivDrop;
    runModConf = pModConf;
    for (imctxcap_inst_t *inst = pModConf->root; inst != NULL; inst = inst->next) CHKiRet(inst_stats_setup(inst));
finalize_it:
ENDactivateCnfPrePrivDrop

BEGINactivateCnf
    CODESTARTactivateCnf;
    for (imctxcap_inst_t *inst = pModConf->root; inst != NULL; inst = inst->next) imctxcap_packet_start(inst);
ENDactivateCnf

BEGINfreeCnf
    CODESTARTfreeCnf;
    for (imctxcap_inst_t *inst = pModConf->root, *next; inst != NULL; inst = next) {
        next = inst->next;
        inst_free(inst);
    }
ENDfreeCnf

/* one thread per instance, which runs its capture workers (worker 0 itself, the others
 * on threads of their own: imctxcap_worker.c); runInput's own thread waits for termination */
static void *capture_thread(void *arg) {
    imctxcap_inst_t *inst = arg;
    sigset_t all;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, NULL);
    imctxcap_capture_run(inst, glbl.GetGlobalInputTermState);
    return NULL;
}

BEGINrunInput
    CODESTARTrunInput;
    for (imctxcap_inst_t *inst = runModConf->root; inst != NULL; inst = inst->next) {
        inst->pInputName = pInputName;
        int prc = pthread_create(&inst->tid, NULL, capture_thread, inst); /* returns its error; errno is stale */
        inst->running = prc == 0;
        if (!inst->running)
            LogError(prc, RS_RET_NO_RUN, "imctxcap(%s): cannot start the capture thread: its vNICs are not captured",
                     inst->name);
    }
    while (glbl.GetGlobalInputTermState() == 0) srSleep(0, 100000);
    for (imctxcap_inst_t *inst = runModConf->root; inst != NULL; inst = inst->next) {
        if (inst->running) pthread_join(inst->tid, NULL);
        inst->running = 0;
    }
ENDrunInput

BEGINwillRun
    CODESTARTwillRun;
    CHKiRet(prop.Construct(&pInputName));
    CHKiRet(prop.SetString(pInputName, UCHAR_CONSTANT("imctxcap"), sizeof("imctxcap") - 1));
    CHKiRet(prop.ConstructFinalize(pInputName));
finalize_it:
ENDwillRun

BEGINafterRun
    CODESTARTafterRun;
    if (pInputName != NULL) prop.Destruct(&pInputName);
ENDafterRun

/* rsyslog calls an input module's doHUP with NULL (runtime/modules.c modDoHUP) */
static rsRetVal doHUP(void __attribute__((unused)) * pData) {
    for (imctxcap_inst_t *inst = runModConf ? runModConf->root : NULL; inst != NULL; inst = inst->next)
        imctxcap_packet_hup(inst);
    return RS_RET_OK;
}

BEGINmodExit
    CODESTARTmodExit;
    objRelease(statsobj, CORE_COMPONENT);
    objRelease(datetime, CORE_COMPONENT);
    objRelease(ruleset, CORE_COMPONENT);
    objRelease(prop, CORE_COMPONENT);
    objRelease(glbl, CORE_COMPONENT);
ENDmodExit

BEGINisCompatibleWithFeature
    CODESTARTisCompatibleWithFeature;
    if (eFeat == sFEATURENonCancelInputTermination) iRet = RS_RET_OK;
ENDisCompatibleWithFeature

BEGINqueryEtryPt
    CODESTARTqueryEtryPt
    CODEqueryEtryPt_STD_IMOD_QUERIES
    CODEqueryEtryPt_STD_CONF2_QUERIES
    CODEqueryEtryPt_STD_CONF2_IMOD_QUERIES
    CODEqueryEtryPt_STD_CONF2_PREPRIVDROP_QUERIES
    CODEqueryEtryPt_IsCompatibleWithFeature_IF_OMOD_QUERIES
    CODEqueryEtryPt_doHUP
ENDqueryEtryPt

BEGINmodInit()
    CODESTARTmodInit;
    *ipIFVersProvided = CURR_MOD_IF_VERSION;
    CODEmodInit_QueryRegCFSLineHdlr CHKiRet(objUse(glbl, CORE_COMPONENT));
    CHKiRet(objUse(prop, CORE_COMPONENT));
    CHKiRet(objUse(ruleset, CORE_COMPONENT));
    CHKiRet(objUse(statsobj, CORE_COMPONENT));
    CHKiRet(objUse(datetime, CORE_COMPONENT));
    imctxcap_set_objs(&prop, &datetime, &glbl);
ENDmodInit
