/* omtenant.c: rsyslog glue of the per-tenant delivery output.
 *
 * action(type="omtenant" tenants="/etc/ctxlog/tenants.json" ...) routes each
 * message by its tenant, redacts it, batches it per tenant, compresses and
 * sends it to that tenant's central server, spooling while it is away.
 * See docs/omtenant.md.
 *
 * This file holds the parameter table, the config life cycle and rsyslog's entry
 * points; parameters are in omtenant_conf.c, the transaction in omtenant_commit.c,
 * the tenant pipelines, HUP and timer in omtenant_route.c, transports in
 * omtenant_transport.c, statistics in omtenant_stats.c.
 *
 * Concurrency: see omtenant.h. instanceData's configuration is read-only after
 * newActInst; its run time starts in activateCnf (not under rsyslogd -N1); each
 * worker has its own wrkrInstanceData (omt_wrk_t).
 */
#include "config.h"
#include "rsyslog.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "errmsg.h"
#include "module-template.h"
#include "msg.h"
#include "parserif.h"
#include "rsconf.h"
#include "statsobj.h"
#include "syslogd-types.h"

#include "cnfutil.h"
#include "https_post.h"
#include "omtenant.h"

MODULE_TYPE_OUTPUT;
MODULE_TYPE_KEEP;
MODULE_CNFNAME("omtenant")

DEF_OMOD_STATIC_DATA;
DEFobjCurrIf(statsobj)

struct modConfData_s {
    rsconf_t *pConf;
    instanceData *insts; /* the actions of this config, started in activateCnf */
};
static modConfData_t *loadModConf = NULL;

typedef struct wrkrInstanceData {
    instanceData *pData;
    omt_wrk_t *w;
} wrkrInstanceData_t;

/* action parameters: docs/omtenant.md lists each with type, default and meaning */
static struct cnfparamdescr actpdescr[] = {
    {"tenants", eCmdHdlrString, CNFPARAM_REQUIRED},
    {"tenant.property", eCmdHdlrString, 0},
    {"template", eCmdHdlrGetWord, 0},
    {"name", eCmdHdlrGetWord, 0},
    {"spool.directory", eCmdHdlrString, 0},
    {"deadletter.directory", eCmdHdlrString, 0},
    {"deadletter.maxsize", eCmdHdlrSize, 0},
    {"blocked.maxmemory", eCmdHdlrSize, 0},
    {"deadletter.rotate", eCmdHdlrInt, 0},
    {"redaction.rules", eCmdHdlrString, 0},
    {"redaction.key", eCmdHdlrString, 0},
    {"compression.level", eCmdHdlrInt, 0},
    {"pending.max", eCmdHdlrInt, 0},
    {"ctxmemo.entries", eCmdHdlrInt, 0},
    {"spool.writeahead", eCmdHdlrBinary, 0},
    {"backoff.initial", eCmdHdlrInt, 0},
    {"backoff.max", eCmdHdlrInt, 0},
    {"timeout.connect", eCmdHdlrInt, 0},
    {"timeout.send", eCmdHdlrInt, 0},
    {"timeout.shutdown", eCmdHdlrInt, 0},
    {"redaction.multiline.maxsenders", eCmdHdlrInt, 0},
    {"redaction.multiline.timeout", eCmdHdlrInt, 0},
    {"redaction.multiline.maxlines", eCmdHdlrInt, 0},
    {"redaction.multiline.begin", eCmdHdlrString, 0},
    {"redaction.multiline.end", eCmdHdlrString, 0},
    {"redaction.multiline.name", eCmdHdlrGetWord, 0},
};
static struct cnfparamblk actpblk = {CNFPARAMBLK_VERSION, sizeof(actpdescr) / sizeof(struct cnfparamdescr),
                                     actpdescr};

BEGINcreateInstance
    CODESTARTcreateInstance;
    pthread_mutex_init(&pData->mu, NULL);
    omt_set_defaults(pData);
ENDcreateInstance

BEGINcreateWrkrInstance
    CODESTARTcreateWrkrInstance;
    CHKmalloc(pWrkrData->w = omt_wrk_new());
finalize_it:
ENDcreateWrkrInstance

BEGINisCompatibleWithFeature
    CODESTARTisCompatibleWithFeature;
ENDisCompatibleWithFeature

BEGINfreeInstance
    CODESTARTfreeInstance;
    omt_stop(pData);
    omt_stats_free_all(pData);
    ctx_tenants_free(pData->loaded);
    omt_rules_release(pData->loaded_rules);
    free(pData->tenants_path);
    free(pData->tenant_property);
    free(pData->template_name);
    free(pData->name);
    free(pData->spool_dir);
    free(pData->deadletter_dir);
    free(pData->redact_rules_path);
    free(pData->redact_key_path);
    free(pData->ml_begin);
    free(pData->ml_end);
    free(pData->ml_name);
    ctx_redact_multi_free(pData->multi);
    pthread_mutex_destroy(&pData->mu);
ENDfreeInstance

BEGINfreeWrkrInstance
    CODESTARTfreeWrkrInstance;
    omt_wrk_free(pWrkrData->w);
ENDfreeWrkrInstance

BEGINdbgPrintInstInfo
    CODESTARTdbgPrintInstInfo;
    dbgprintf("omtenant: tenants='%s' spool='%s'\n", pData->tenants_path, pData->spool_dir);
ENDdbgPrintInstInfo

BEGINtryResume
    CODESTARTtryResume;
    iRet = omt_try_resume(pWrkrData->w);
ENDtryResume

BEGINbeginTransaction
    CODESTARTbeginTransaction;
ENDbeginTransaction

BEGINcommitTransaction
    CODESTARTcommitTransaction;
    iRet = omt_commit(pWrkrData->pData, pWrkrData->w, pParams, nParams);
ENDcommitTransaction

BEGINnewActInst
    struct cnfparamvals *pvals;
    CODESTARTnewActInst;
    if ((pvals = nvlstGetParams(lst, &actpblk, NULL)) == NULL) ABORT_FINALIZE(RS_RET_MISSING_CNFPARAMS);
    CHKiRet(createInstance(&pData));
    for (int i = 0; i < actpblk.nParams; ++i) {
        if (!pvals[i].bUsed) continue;
        CHKiRet(omt_set_param(pData, actpblk.descr[i].name, &pvals[i]));
    }
    CHKiRet(omt_validate(pData));
    CODE_STD_STRING_REQUESTnewActInst(omt_num_templates(pData));
    CHKiRet(omt_request_templates(pData, loadModConf->pConf, *ppOMSR));
    pData->next_loaded = loadModConf->insts;
    loadModConf->insts = pData;
    CODE_STD_FINALIZERnewActInst cnfparamvalsDestruct(pvals, &actpblk);
ENDnewActInst

BEGINbeginCnfLoad
    CODESTARTbeginCnfLoad;
    loadModConf = pModConf;
    pModConf->pConf = pConf;
    pModConf->insts = NULL;
ENDbeginCnfLoad

BEGINendCnfLoad
    CODESTARTendCnfLoad;
ENDendCnfLoad

BEGINcheckCnf
    CODESTARTcheckCnf;
    for (instanceData *p = pModConf->insts; p != NULL; p = p->next_loaded)
        if (omt_dirs(p, pModConf->pConf) != RS_RET_OK) iRet = RS_RET_PARAM_ERROR;
ENDcheckCnf

BEGINactivateCnf
    CODESTARTactivateCnf;
    for (instanceData *p = pModConf->insts; p != NULL; p = p->next_loaded) {
        char why[CTX_ERRLEN] = "no spool.directory and no global(workDirectory=...) (above)";
        if (p->spool_dir == NULL || omt_start(p, why, sizeof why) != RS_RET_OK)
            LogError(0, RS_RET_ERR, "omtenant(%s): the action could not start: %s; its messages are held back", p->name,
                     why);
    }
ENDactivateCnf

BEGINfreeCnf
    CODESTARTfreeCnf;
ENDfreeCnf

BEGINdoHUP
    CODESTARTdoHUP;
    omt_reload(pData);
ENDdoHUP

BEGINmodExit
    CODESTARTmodExit;
    objRelease(statsobj, CORE_COMPONENT);
ENDmodExit

NO_LEGACY_CONF_parseSelectorAct

BEGINqueryEtryPt
    CODESTARTqueryEtryPt
    CODEqueryEtryPt_STD_OMODTX_QUERIES
    CODEqueryEtryPt_STD_OMOD8_QUERIES
    CODEqueryEtryPt_STD_CONF2_QUERIES
    CODEqueryEtryPt_STD_CONF2_OMOD_QUERIES
    CODEqueryEtryPt_doHUP
ENDqueryEtryPt

BEGINmodInit()
    CODESTARTmodInit;
    *ipIFVersProvided = CURR_MOD_IF_VERSION;
    CODEmodInit_QueryRegCFSLineHdlr CHKiRet(objUse(statsobj, CORE_COMPONENT));
    omt_stats_set_obj(&statsobj);
    if (ctx_https_global_init() != 0) {
        LogError(0, RS_RET_ERR, "omtenant: libcurl could not be initialised");
        ABORT_FINALIZE(RS_RET_ERR);
    }
ENDmodInit
