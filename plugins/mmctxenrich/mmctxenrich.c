/* mmctxenrich.c: rsyslog glue of the context enricher (message modification).
 *
 * action(type="mmctxenrich" policy="/etc/ctxlog/policy.rules" ...) adds what the
 * host knows ($!ctx!host) and what the compute manager knows ($!ctx!cm) to each
 * message, as the policy rulebase decides by severity, and marks noise for drop
 * ($!ctx!drop, see docs/mmctxenrich.md for why a marker). This file holds the
 * entry points and the life cycle; the parameters are in mmctxenrich_conf.c, the
 * per-message work in mmctxenrich_msg.c.
 *
 * Life cycle: newActInst validates every parameter and file and builds the
 * objects, without threads (rsyslogd -N1 stops there; a daemonizing rsyslogd forks
 * after it). activateCnf starts the sampler and fetcher threads of every instance
 * of the configuration; freeInstance stops and frees them. doHUP re-reads the
 * policy and profiles files.
 *
 * Concurrency: see mmctxenrich.h. The instance list of a configuration is built
 * and walked on the config/activation thread only.
 */
#include "config.h"
#include "rsyslog.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "errmsg.h"
#include "module-template.h"
#include "msg.h"
#include "parserif.h"
#include "statsobj.h"
#include "syslogd-types.h"

#include "mmctxenrich.h"

MODULE_TYPE_OUTPUT;
MODULE_TYPE_KEEP;
MODULE_CNFNAME("mmctxenrich")

DEF_OMOD_STATIC_DATA;
DEFobjCurrIf(statsobj)

typedef mmx_inst instanceData;

typedef struct wrkrInstanceData {
    instanceData *pData;
    mmx_wrkr w;
} wrkrInstanceData_t;

struct modConfData_s {
    rsconf_t *pConf;
    mmx_inst *root; /* instances of this configuration, newest first */
};
static modConfData_t *loadModConf = NULL;

int mmx_process(mmx_wrkr *w, smsg_t *pMsg); /* mmctxenrich_msg.c */

/* action parameters: docs/mmctxenrich.md lists each with type, default and meaning */
static struct cnfparamdescr actpdescr[] = {
    {"name", eCmdHdlrGetWord, 0},
    {"policy", eCmdHdlrString, 0},
    {"profiles", eCmdHdlrString, 0},
    {"profiles.libvirt", eCmdHdlrString, 0},
    {"sample.interval", eCmdHdlrPositiveInt, 0},
    {"host.diskPaths", eCmdHdlrArray, 0},
    {"host.procRoot", eCmdHdlrString, 0},
    {"host.cgroupRoot", eCmdHdlrString, 0},
    {"host.cgroupTemplate", eCmdHdlrString, 0},
    {"host.pidfileTemplate", eCmdHdlrString, 0},
    {"cm.url", eCmdHdlrString, 0},
    {"cm.statsUrl", eCmdHdlrString, 0},
    {"cm.bulkUrl", eCmdHdlrString, 0},
    {"cm.hostUrl", eCmdHdlrString, 0},
    {"cm.hostName", eCmdHdlrString, 0},
    {"cm.mapping", eCmdHdlrString, 0},
    {"cm.tokenFile", eCmdHdlrString, 0},
    {"cm.user", eCmdHdlrString, 0},
    {"cm.password", eCmdHdlrString, 0},
    {"cm.caFile", eCmdHdlrString, 0},
    {"cm.tlsVerify", eCmdHdlrBinary, 0},
    {"cm.allowInsecure", eCmdHdlrBinary, 0},
    {"cm.connectTimeout", eCmdHdlrNonNegInt, 0},
    {"cm.timeout", eCmdHdlrNonNegInt, 0},
    {"cm.maxResponseBytes", eCmdHdlrSize, 0},
    {"cm.maxInFlight", eCmdHdlrNonNegInt, 0},
    {"cm.ratePerSec", eCmdHdlrGetWord, 0},
    {"cm.burst", eCmdHdlrNonNegInt, 0},
    {"cm.logInterval", eCmdHdlrNonNegInt, 0},
    {"cm.hostIdUrl", eCmdHdlrString, 0},
    {"cm.auth", eCmdHdlrGetWord, 0},
    {"cm.authUrl", eCmdHdlrString, 0},
    {"cm.userDomain", eCmdHdlrString, 0},
    {"cm.project", eCmdHdlrString, 0},
    {"cm.projectDomain", eCmdHdlrString, 0},
    {"cm.passwordFile", eCmdHdlrString, 0},
    {"cm.appCredId", eCmdHdlrString, 0},
    {"cm.appCredSecretFile", eCmdHdlrString, 0},
    {"cm.startJitter", eCmdHdlrNonNegInt, 0},
    {"cache.maxEntries", eCmdHdlrNonNegInt, 0},
    {"cache.queueMax", eCmdHdlrNonNegInt, 0},
    {"cache.staticTTL", eCmdHdlrNonNegInt, 0},
    {"cache.dynamicTTL", eCmdHdlrNonNegInt, 0},
    {"cache.unknownTTL", eCmdHdlrNonNegInt, 0},
    {"cache.backoffMin", eCmdHdlrNonNegInt, 0},
    {"cache.backoffMax", eCmdHdlrNonNegInt, 0},
    {"cache.jitter", eCmdHdlrNonNegInt, 0},
    {"cache.idleExpire", eCmdHdlrNonNegInt, 0},
    {"cache.maxStale", eCmdHdlrNonNegInt, 0},
    {"cache.pendingTimeout", eCmdHdlrNonNegInt, 0},
    {"cache.hostTTL", eCmdHdlrNonNegInt, 0},
};
static struct cnfparamblk actpblk = {CNFPARAMBLK_VERSION, sizeof(actpdescr) / sizeof(struct cnfparamdescr),
                                     actpdescr};

BEGINcreateInstance
    CODESTARTcreateInstance;
ENDcreateInstance

BEGINcreateWrkrInstance
    CODESTARTcreateWrkrInstance;
    pWrkrData->w.inst = pData;
    if ((pWrkrData->w.scratch = ctx_policy_scratch_new()) == NULL) {
        free(pWrkrData);
        pWrkrData = NULL;
        ABORT_FINALIZE(RS_RET_OUT_OF_MEMORY);
    }
finalize_it:
ENDcreateWrkrInstance

BEGINisCompatibleWithFeature
    CODESTARTisCompatibleWithFeature;
ENDisCompatibleWithFeature

/* unlinks pData from the configuration it was loaded into (if still there) */
static void unlink_inst(instanceData *pData) {
    if (loadModConf == NULL) return;
    for (mmx_inst **pp = &loadModConf->root; *pp != NULL; pp = &(*pp)->next) {
        if (*pp == pData) {
            *pp = pData->next;
            return;
        }
    }
}

BEGINfreeInstance
    CODESTARTfreeInstance;
    unlink_inst(pData);
    mmx_inst_free(pData);
ENDfreeInstance

BEGINfreeWrkrInstance
    CODESTARTfreeWrkrInstance;
    ctx_slot_reader_drop(&pWrkrData->w.pol);
    ctx_policy_scratch_free(pWrkrData->w.scratch);
    hs_snapshot_release(pWrkrData->w.snap);
    mmx_flat_free_all(&pWrkrData->w);
    mmx_share_free(&pWrkrData->w.cm_share);
    mmx_share_free(&pWrkrData->w.host_share);
    mmx_share_free(&pWrkrData->w.vm_share);
    mmx_names_free(&pWrkrData->w);
ENDfreeWrkrInstance

BEGINdbgPrintInstInfo
    CODESTARTdbgPrintInstInfo;
    dbgprintf("mmctxenrich(%s): policy='%s'\n", pData->name,
              pData->policy_path ? pData->policy_path : "(built-in)");
ENDdbgPrintInstInfo

BEGINtryResume
    CODESTARTtryResume;
ENDtryResume

BEGINnewActInst
    struct cnfparamvals *pvals;
    CODESTARTnewActInst;
    if ((pvals = nvlstGetParams(lst, &actpblk, NULL)) == NULL) ABORT_FINALIZE(RS_RET_MISSING_CNFPARAMS);
    CODE_STD_STRING_REQUESTnewActInst(1) CHKiRet(OMSRsetEntry(*ppOMSR, 0, NULL, OMSR_TPL_AS_MSG));
    CHKiRet(createInstance(&pData));
    mmx_set_defaults(pData);
    for (int i = 0; i < actpblk.nParams; ++i) {
        if (!pvals[i].bUsed) continue;
        CHKiRet(mmx_set_param(pData, actpblk.descr[i].name, &pvals[i]));
    }
    CHKiRet(mmx_finish(pData));
    if (loadModConf != NULL) {
        pData->next = loadModConf->root;
        loadModConf->root = pData;
    }
    CODE_STD_FINALIZERnewActInst cnfparamvalsDestruct(pvals, &actpblk);
ENDnewActInst

BEGINbeginCnfLoad
    CODESTARTbeginCnfLoad;
    loadModConf = pModConf;
    pModConf->pConf = pConf;
ENDbeginCnfLoad

BEGINendCnfLoad
    CODESTARTendCnfLoad;
ENDendCnfLoad

BEGINcheckCnf
    CODESTARTcheckCnf;
ENDcheckCnf

/* after the fork of a daemonizing rsyslogd: now threads may start */
BEGINactivateCnf
    CODESTARTactivateCnf;
    for (mmx_inst *inst = pModConf->root; inst != NULL; inst = inst->next) {
        mmx_share_scan_templates(pModConf->pConf, inst);
        if (mmx_stats_setup(inst) != RS_RET_OK)
            LogError(0, RS_RET_ERR, "mmctxenrich(%s): cannot register the statistics counters", inst->name);
        (void)mmx_start(inst); /* a thread that cannot start is logged, naming it */
    }
ENDactivateCnf

BEGINfreeCnf
    CODESTARTfreeCnf;
    if (loadModConf == pModConf) loadModConf = NULL;
ENDfreeCnf

BEGINdoHUP
    CODESTARTdoHUP;
    mmx_reload(pData);
ENDdoHUP

BEGINdoAction_NoStrings
    smsg_t **ppMsg = (smsg_t **)pMsgData;
    CODESTARTdoAction;
    iRet = mmx_process(&pWrkrData->w, ppMsg[0]);
ENDdoAction

BEGINmodExit
    CODESTARTmodExit;
    objRelease(statsobj, CORE_COMPONENT);
ENDmodExit

NO_LEGACY_CONF_parseSelectorAct

BEGINqueryEtryPt
    CODESTARTqueryEtryPt
    CODEqueryEtryPt_STD_OMOD_QUERIES
    CODEqueryEtryPt_STD_OMOD8_QUERIES
    CODEqueryEtryPt_STD_CONF2_QUERIES
    CODEqueryEtryPt_STD_CONF2_OMOD_QUERIES
    CODEqueryEtryPt_doHUP
ENDqueryEtryPt

BEGINmodInit()
    CODESTARTmodInit;
    *ipIFVersProvided = CURR_MOD_IF_VERSION;
    CODEmodInit_QueryRegCFSLineHdlr CHKiRet(objUse(statsobj, CORE_COMPONENT));
    mmx_stats_use(&statsobj);
ENDmodInit
