/* omtenant.c: rsyslog glue of the per-tenant delivery output.
 *
 * action(type="omtenant" tenants="/etc/ctxlog/tenants.json" ...) routes each
 * message by its tenant, redacts it, batches it per tenant, compresses and
 * sends it to that tenant's central server, spooling while it is away.
 * See docs/omtenant.md.
 *
 * Concurrency: instanceData is read-only after newActInst (the tenants table is
 * swapped on HUP by reference); each worker has its own wrkrInstanceData.
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
MODULE_CNFNAME("omtenant")

DEF_OMOD_STATIC_DATA;

typedef struct _instanceData {
    char *tenants_path;
    char *tenant_property; /* e.g. "!ctx!vm!tenant" */
    char *template_name;
} instanceData;

typedef struct wrkrInstanceData {
    instanceData *pData;
} wrkrInstanceData_t;

static struct cnfparamdescr actpdescr[] = {
    {"tenants", eCmdHdlrString, CNFPARAM_REQUIRED},
    {"tenant.property", eCmdHdlrString, 0},
    {"template", eCmdHdlrGetWord, 0},
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
    free(pData->tenants_path);
    free(pData->tenant_property);
    free(pData->template_name);
ENDfreeInstance

BEGINfreeWrkrInstance
    CODESTARTfreeWrkrInstance;
ENDfreeWrkrInstance

BEGINdbgPrintInstInfo
    CODESTARTdbgPrintInstInfo;
    dbgprintf("omtenant: tenants='%s'\n", pData->tenants_path);
ENDdbgPrintInstInfo

BEGINtryResume
    CODESTARTtryResume;
ENDtryResume

static rsRetVal set_param(instanceData *pData, const char *name, struct cnfparamvals *v) {
    DEFiRet;
    if (!strcmp(name, "tenants")) {
        CHKmalloc(pData->tenants_path = cnf_str(v));
        if (access(pData->tenants_path, R_OK) != 0) {
            parser_errmsg("omtenant: parameter 'tenants': cannot read '%s': %s", pData->tenants_path,
                          strerror(errno));
            ABORT_FINALIZE(RS_RET_NO_FILE_ACCESS);
        }
    } else if (!strcmp(name, "tenant.property")) {
        CHKmalloc(pData->tenant_property = cnf_str(v));
        if (pData->tenant_property[0] != '$' || pData->tenant_property[1] != '!') {
            parser_errmsg("omtenant: parameter 'tenant.property': expected a JSON property such as "
                          "'$!ctx!vm!tenant', got '%s'", pData->tenant_property);
            ABORT_FINALIZE(RS_RET_PARAM_ERROR);
        }
    } else if (!strcmp(name, "template")) {
        CHKmalloc(pData->template_name = cnf_str(v));
    }
finalize_it:
    RETiRet;
}

BEGINnewActInst
    struct cnfparamvals *pvals;
    CODESTARTnewActInst;
    if ((pvals = nvlstGetParams(lst, &actpblk, NULL)) == NULL) ABORT_FINALIZE(RS_RET_MISSING_CNFPARAMS);
    CHKiRet(createInstance(&pData));
    for (int i = 0; i < actpblk.nParams; ++i) {
        if (!pvals[i].bUsed) continue;
        CHKiRet(set_param(pData, actpblk.descr[i].name, &pvals[i]));
    }
    if (pData->tenant_property == NULL) CHKmalloc(pData->tenant_property = strdup("$!ctx!vm!tenant"));
    CODE_STD_STRING_REQUESTnewActInst(1) CHKiRet(OMSRsetEntry(*ppOMSR, 0, NULL, OMSR_TPL_AS_MSG));
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
