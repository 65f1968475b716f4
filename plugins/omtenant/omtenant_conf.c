/* omtenant_conf.c: omtenant's action parameters: defaults, parsing, validation
 * (the tenants file and the redaction rules are loaded here so that rsyslogd -N1
 * reports them), and the templates the action asks rsyslog for. docs/omtenant.md
 * lists every parameter.
 *
 * Concurrency: config thread only.
 */
#include "config.h"
#include "rsyslog.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf.h"
#include "errmsg.h"
#include "glbl.h"
#include "module-template.h"
#include "parserif.h"
#include "template.h"

#include "cnfutil.h"
#include "omtenant.h"

void omt_set_defaults(instanceData *pData) {
    pData->level = 3;
    pData->max_pending = 4;
    pData->memo_entries = 256;
    pData->write_ahead = 0;
    pData->backoff_initial_ms = 1000;
    pData->backoff_max_ms = 60000;
    pData->connect_timeout_ms = 10000;
    pData->send_timeout_ms = 30000;
    pData->shutdown_timeout_ms = 5000;
    pData->deadletter_max_bytes = 64u << 20;
    pData->deadletter_keep = 2;
    pData->hold_max_bytes = 16u << 20;
}

/* an integer parameter within [lo, hi]; the message names it */
static rsRetVal int_param(const char *name, struct cnfparamvals *v, long lo, long hi, int *out) {
    long long n = v->val.d.n;
    if (n < lo || n > hi) {
        parser_errmsg("omtenant: parameter '%s': expected %ld..%ld, got %lld", name, lo, hi, n);
        return RS_RET_PARAM_ERROR;
    }
    *out = (int)n;
    return RS_RET_OK;
}

static rsRetVal set_tenants(instanceData *pData, struct cnfparamvals *v) {
    DEFiRet;
    CHKmalloc(pData->tenants_path = cnf_str(v));
    if (access(pData->tenants_path, R_OK) != 0) {
        parser_errmsg("omtenant: parameter 'tenants': cannot read '%s': %s", pData->tenants_path, strerror(errno));
        ABORT_FINALIZE(RS_RET_NO_FILE_ACCESS);
    }
finalize_it:
    RETiRet;
}

static rsRetVal set_property(instanceData *pData, struct cnfparamvals *v) {
    DEFiRet;
    CHKmalloc(pData->tenant_property = cnf_str(v));
    const char *p = pData->tenant_property;
    int ok = p[0] == '$' && p[1] == '!' && strlen(p) < 200 && strpbrk(p, "%\"\\ ") == NULL;
    if (!ok) {
        parser_errmsg("omtenant: parameter 'tenant.property': expected a JSON property such as "
                      "'$!ctx!vm!tenant', got '%s'", pData->tenant_property);
        ABORT_FINALIZE(RS_RET_PARAM_ERROR);
    }
finalize_it:
    RETiRet;
}

static rsRetVal set_string(const char *name, struct cnfparamvals *v, char **out) {
    DEFiRet;
    free(*out);
    CHKmalloc(*out = cnf_str(v));
    if ((*out)[0] == '\0') {
        parser_errmsg("omtenant: parameter '%s': expected a non-empty value", name);
        ABORT_FINALIZE(RS_RET_PARAM_ERROR);
    }
finalize_it:
    RETiRet;
}

static rsRetVal set_number(instanceData *pData, const char *name, struct cnfparamvals *v) {
    if (!strcmp(name, "compression.level")) return int_param("compression.level", v, -5, 19, &pData->level);
    if (!strcmp(name, "pending.max")) return int_param("pending.max", v, 1, 1000, &pData->max_pending);
    if (!strcmp(name, "ctxmemo.entries")) return int_param("ctxMemo.entries", v, 0, 65536, &pData->memo_entries);
    if (!strcmp(name, "backoff.initial")) return int_param("backoff.initial", v, 10, 3600000, &pData->backoff_initial_ms);
    if (!strcmp(name, "backoff.max")) return int_param("backoff.max", v, 10, 86400000, &pData->backoff_max_ms);
    if (!strcmp(name, "timeout.connect")) return int_param("timeout.connect", v, 100, 600000, &pData->connect_timeout_ms);
    if (!strcmp(name, "timeout.send")) return int_param("timeout.send", v, 100, 3600000, &pData->send_timeout_ms);
    if (!strcmp(name, "timeout.shutdown"))
        return int_param("timeout.shutdown", v, 0, 3600000, &pData->shutdown_timeout_ms);
    if (!strcmp(name, "deadletter.rotate")) return int_param("deadletter.rotate", v, 0, 99, &pData->deadletter_keep);
    if (!strcmp(name, "blocked.maxmemory")) {
        if (v->val.d.n < 65536 || v->val.d.n > (1ll << 36)) {
            parser_errmsg("omtenant: parameter 'blocked.maxMemory': expected 64k..64g, got %lld", (long long)v->val.d.n);
            return RS_RET_PARAM_ERROR;
        }
        pData->hold_max_bytes = (uint64_t)v->val.d.n;
        return RS_RET_OK;
    }
    if (!strcmp(name, "deadletter.maxsize")) {
        if (v->val.d.n < 65536 || v->val.d.n > (1ll << 40)) {
            parser_errmsg("omtenant: parameter 'deadletter.maxSize': expected 64k..1t, got %lld", (long long)v->val.d.n);
            return RS_RET_PARAM_ERROR;
        }
        pData->deadletter_max_bytes = (uint64_t)v->val.d.n;
        return RS_RET_OK;
    }
    if (!strcmp(name, "redaction.multiline.maxsenders"))
        return int_param("redaction.multiline.maxSenders", v, 1, 65536, &pData->ml_max_senders);
    if (!strcmp(name, "redaction.multiline.timeout"))
        return int_param("redaction.multiline.timeout", v, 100, 86400000, &pData->ml_timeout_ms);
    if (!strcmp(name, "redaction.multiline.maxlines"))
        return int_param("redaction.multiline.maxLines", v, 1, 1000000, &pData->ml_max_lines);
    if (!strcmp(name, "spool.writeahead")) {
        pData->write_ahead = (int)v->val.d.n;
        return RS_RET_OK;
    }
    dbgprintf("omtenant: program error, non-handled param '%s'\n", name);
    return RS_RET_OK;
}

rsRetVal omt_set_param(instanceData *pData, const char *name, struct cnfparamvals *v) {
    if (!strcmp(name, "tenants")) return set_tenants(pData, v);
    if (!strcmp(name, "tenant.property")) return set_property(pData, v);
    if (!strcmp(name, "template")) return set_string("template", v, &pData->template_name);
    if (!strcmp(name, "name")) return set_string("name", v, &pData->name);
    if (!strcmp(name, "spool.directory")) return set_string("spool.directory", v, &pData->spool_dir);
    if (!strcmp(name, "deadletter.directory")) return set_string("deadletter.directory", v, &pData->deadletter_dir);
    if (!strcmp(name, "redaction.rules")) return set_string("redaction.rules", v, &pData->redact_rules_path);
    if (!strcmp(name, "redaction.key")) return set_string("redaction.key", v, &pData->redact_key_path);
    if (!strcmp(name, "redaction.multiline.begin")) return set_string("redaction.multiline.begin", v, &pData->ml_begin);
    if (!strcmp(name, "redaction.multiline.end")) return set_string("redaction.multiline.end", v, &pData->ml_end);
    if (!strcmp(name, "redaction.multiline.name")) return set_string("redaction.multiline.name", v, &pData->ml_name);
    return set_number(pData, name, v);
}

int omt_template_view_warning(const instanceData *pData, const ctx_tenants_t *set, char *buf, size_t len) {
    const ctx_tenant_t *t = NULL;
    for (size_t i = 0; pData->template_name != NULL && i < ctx_tenants_count(set) && t == NULL; i++)
        if (!ctx_tenants_at(set, i)->context_host_full) t = ctx_tenants_at(set, i);
    if (t == NULL) return 0;
    snprintf(buf, len, "template '%s': host-wide $!ctx fields in its output are not withheld per tenant (tenant "
             "'%s' is \"context\": {\"host\": \"vm-only\"}); only the built-in record withholds them, so write "
             "hostwide in no policy rule whose messages this action sends",
             pData->template_name, t->id);
    return 1;
}

static rsRetVal load_files(instanceData *pData) {
    char err[CTX_ERRLEN];
    DEFiRet;
    if (ctx_tenants_load(pData->tenants_path, &pData->loaded, err, sizeof err) != 0) {
        parser_errmsg("omtenant: parameter 'tenants': %s", err);
        ABORT_FINALIZE(RS_RET_CONFIG_ERROR);
    }
    for (size_t i = 0; i < ctx_tenants_warning_count(pData->loaded); i++)
        cnf_warning("omtenant: warning: %s", ctx_tenants_warning(pData->loaded, i));
    if (omt_check_formats(pData, pData->loaded, err, sizeof err) != 0) {
        parser_errmsg("omtenant: parameter 'template': %s", err);
        ABORT_FINALIZE(RS_RET_CONFIG_ERROR);
    }
    if (omt_template_view_warning(pData, pData->loaded, err, sizeof err)) cnf_warning("omtenant: warning: %s", err);
    if ((pData->loaded_rules = omt_rules_load(pData, err, sizeof err)) == NULL) {
        parser_errmsg("omtenant: parameter '%s': %s", pData->redact_rules_path ? "redaction.rules" : "redaction.key",
                      err);
        ABORT_FINALIZE(RS_RET_CONFIG_ERROR);
    }
    omt_rules_check_views(pData, pData->loaded, pData->loaded_rules);
finalize_it:
    RETiRet;
}

/* template= makes the record itself: the record formats build their own from the fields */
int omt_check_formats(const instanceData *pData, const ctx_tenants_t *set, char *err, size_t errlen) {
    if (pData->template_name == NULL) return 0;
    for (size_t i = 0; i < ctx_tenants_count(set); i++) {
        const ctx_tenant_t *t = ctx_tenants_at(set, i);
        if (t->transport != CTX_TRANSPORT_HTTPS || !ctx_fmt_grouping(t->format)) continue;
        snprintf(err, errlen, "'%s' cannot be used with tenant '%s' (line %d): its format \"%s\" builds its own "
                 "records from the message's fields; use a separate omtenant action for it, without template=",
                 pData->template_name, t->id, t->line, ctx_fmt_name(t->format));
        return -1;
    }
    return 0;
}

/* the tracker of secrets over several messages (redaction.multiline.*, docs/omtenant.md) */
static rsRetVal make_multi(instanceData *pData) {
    char err[CTX_ERRLEN];
    ctx_redact_multi_conf c = {(unsigned)pData->ml_max_senders, (unsigned)pData->ml_timeout_ms,
                               (unsigned)pData->ml_max_lines, pData->ml_begin, pData->ml_end, pData->ml_name};
    int rc = ctx_redact_multi_new(&pData->multi, &c, err, sizeof err);
    if (rc == CTX_ENOMEM) return RS_RET_OUT_OF_MEMORY;
    if (rc != 0) {
        parser_errmsg("omtenant: parameters 'redaction.multiline.*': %s", err);
        return RS_RET_PARAM_ERROR;
    }
    return RS_RET_OK;
}

rsRetVal omt_validate(instanceData *pData) {
    DEFiRet;
    if (pData->tenant_property == NULL) CHKmalloc(pData->tenant_property = strdup("$!ctx!vm!tenant"));
    if (pData->name == NULL) CHKmalloc(pData->name = strdup("omtenant"));
    /* spool.directory and deadletter.directory default to directories under the global
     * workDirectory, known only once the whole config is loaded: see omt_dirs() */
    if (pData->spool_dir != NULL && pData->deadletter_dir != NULL && strcmp(pData->spool_dir, pData->deadletter_dir) == 0) {
        parser_errmsg("omtenant: parameters 'spool.directory' and 'deadletter.directory': expected two different "
                      "directories, got '%s' for both", pData->spool_dir);
        ABORT_FINALIZE(RS_RET_PARAM_ERROR);
    }
    if (pData->backoff_max_ms < pData->backoff_initial_ms) {
        parser_errmsg("omtenant: parameter 'backoff.max': expected at least backoff.initial (%d), got %d",
                      pData->backoff_initial_ms, pData->backoff_max_ms);
        ABORT_FINALIZE(RS_RET_PARAM_ERROR);
    }
    CHKiRet(make_multi(pData));
    CHKiRet(load_files(pData));
finalize_it:
    RETiRet;
}

/* "<workDirectory>/<leaf>", or NULL with an error if there is no work directory */
static char *under_workdir(rsconf_t *conf, const char *param, const char *leaf) {
    const char *wd = conf ? (const char *)glblGetWorkDirRaw(conf) : NULL;
    if (wd == NULL || wd[0] == '\0') {
        LogError(0, RS_RET_PARAM_ERROR, "omtenant: parameter '%s' is required when no global(workDirectory=...) is set",
                 param);
        return NULL;
    }
    size_t n = strlen(wd) + strlen(leaf) + 2;
    char *p = malloc(n);
    if (p != NULL) snprintf(p, n, "%s/%s", wd, leaf);
    return p;
}

/* the spool and dead-letter directories, defaults resolved against the loaded config */
rsRetVal omt_dirs(instanceData *pData, rsconf_t *conf) {
    DEFiRet;
    if (pData->spool_dir == NULL && (pData->spool_dir = under_workdir(conf, "spool.directory", "omtenant-spool")) == NULL)
        ABORT_FINALIZE(RS_RET_PARAM_ERROR);
    if (pData->deadletter_dir == NULL &&
        (pData->deadletter_dir = under_workdir(conf, "deadletter.directory", "omtenant-deadletter")) == NULL)
        ABORT_FINALIZE(RS_RET_PARAM_ERROR);
finalize_it:
    RETiRet;
}

int omt_num_templates(const instanceData *pData) {
    return pData->template_name ? OMT_TPL_TMSG + 1 : OMT_TPL_COUNT;
}

/* an internal template: found, or added to conf from its legacy string definition */
static rsRetVal internal_template(rsconf_t *conf, const char *name, const char *def) {
    DEFiRet;
    if (tplFind(conf, (char *)name, (int)strlen(name)) != NULL) FINALIZE;
    uchar *copy = (uchar *)strdup(def), *p = copy;
    CHKmalloc(copy);
    struct template *t = tplAddLine(conf, name, &p);
    free(copy);
    if (t == NULL) {
        LogError(0, RS_RET_INTERNAL_ERROR, "omtenant: cannot define internal template '%s'", name);
        ABORT_FINALIZE(RS_RET_INTERNAL_ERROR);
    }
finalize_it:
    RETiRet;
}

static rsRetVal request(omodStringRequest_t *pOMSR, int i, const char *name) {
    char *n = strdup(name);
    if (n == NULL) return RS_RET_OUT_OF_MEMORY;
    return OMSRsetEntry(pOMSR, i, (uchar *)n, OMSR_NO_RQD_TPL_OPTS);
}

/* slot OMT_TPL_TENANT: the tenant; then the operator's template, or the raw fields of the
 * built-in record (header fields separated by 0x1f, see common/deliver/outrec.h), by slot */
rsRetVal omt_request_templates(instanceData *pData, rsconf_t *conf, omodStringRequest_t *pOMSR) {
    static const char *const names[OMT_TPL_COUNT] = {
        [OMT_TPL_HDR] = " omtenant.hdr", [OMT_TPL_MSG] = " omtenant.msg", [OMT_TPL_SD] = " omtenant.sd",
        [OMT_TPL_CTX] = " omtenant.ctx"};
    static const char *const defs[OMT_TPL_COUNT] = {
        [OMT_TPL_HDR] = "\"%pri%\\31%timereported:::date-rfc3339%\\31%hostname%\\31%app-name%\\31%procid%\\31%msgid%"
                        "\\31%timegenerated:::date-rfc3339%\"",
        [OMT_TPL_MSG] = "\"%msg%\"", [OMT_TPL_SD] = "\"%structured-data%\"", [OMT_TPL_CTX] = "\"%$!ctx%\""};
    char tname[256], tdef[256];
    DEFiRet;
    snprintf(tname, sizeof tname, " omtenant.tenant:%s", pData->tenant_property);
    snprintf(tdef, sizeof tdef, "\"%%%s%%\"", pData->tenant_property);
    CHKiRet(internal_template(conf, tname, tdef));
    CHKiRet(request(pOMSR, OMT_TPL_TENANT, tname));
    if (pData->template_name != NULL) {
        CHKiRet(request(pOMSR, OMT_TPL_CUSTOM, pData->template_name));
        CHKiRet(internal_template(conf, " omtenant.tmeta",
                                  "\"%$!ctx!capture!truncated%\\31%$!ctx!vm!uuid%\\31%hostname%\\31%app-name%\""));
        CHKiRet(request(pOMSR, OMT_TPL_TMETA, " omtenant.tmeta"));
        CHKiRet(internal_template(conf, names[OMT_TPL_MSG], defs[OMT_TPL_MSG]));
        CHKiRet(request(pOMSR, OMT_TPL_TMSG, names[OMT_TPL_MSG]));
        FINALIZE;
    }
    for (int i = OMT_TPL_HDR; i < OMT_TPL_COUNT; i++) {
        CHKiRet(internal_template(conf, names[i], defs[i]));
        CHKiRet(request(pOMSR, i, names[i]));
    }
finalize_it:
    RETiRet;
}
