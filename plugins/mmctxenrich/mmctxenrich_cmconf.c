/* mmctxenrich_cmconf.c: the compute manager's login (cm.auth) and the URL placeholders
 * filled from other sections ({section.field}), checked at config load.
 *
 * A placeholder {S.F} takes field F, as mapped by section S of the field mapping, from
 * the cached data that section S filled:
 *   {bulk.F}, {vm.F}  the VM's static part (filled by the bulk listing or the per-VM
 *                     reply), in cm.url and cm.statsUrl;
 *   {hostid.F}        this host's ids (section "hostid", fetched from cm.hostIdUrl), in
 *                     cm.url, cm.statsUrl, cm.bulkUrl and cm.hostUrl.
 * The same rules hold for the sections' "path" hints in the mapping file.
 *
 * Concurrency: config-load thread only.
 */
#include "config.h"
#include "rsyslog.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "errmsg.h"
#include "parserif.h"

#include "mmctxenrich.h"

/* bit per section a template may take {S.F} from */
#define SRC(s) (1u << (s))

/* One template: where it is (for messages) and what it may use. */
struct tmpl_ctx {
    const mmx_inst *inst;
    const char *where;     /* "parameter 'cm.statsUrl'" or "parameter 'cm.mapping': FILE: /stats/path" */
    unsigned sources;      /* SRC() bits */
    int vm_builtins;       /* {uuid} and {name} allowed */
    int hint;              /* a "path" hint of the file: informational, no URL parameter needed */
};

static void sources_text(unsigned sources, char *buf, size_t len) {
    size_t n = 0;
    buf[0] = '\0';
    for (int s = 0; s < CTX_FM_NSECTIONS; s++)
        if (sources & SRC(s))
            n += (size_t)snprintf(buf + n, n < len ? len - n : 0, "%s%s", n ? ", " : "", ctx_fieldmap_section_name(s));
    if (n == 0) snprintf(buf, len, "none here");
}

static void fields_text(const ctx_fieldmap *m, ctx_fm_section s, char *buf, size_t len) {
    size_t n = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < ctx_fieldmap_nfields(m, s) && n < len; i++)
        n += (size_t)snprintf(buf + n, len - n, "%s%s", i ? ", " : "", ctx_fieldmap_field_name(m, s, i));
}

/* one {S.F}: 0 or an error line */
static int check_qualified(const struct tmpl_ctx *t, const char *name, size_t n) {
    const ctx_fieldmap *m = t->inst->map;
    const char *dot = memchr(name, '.', n);
    size_t sl = (size_t)(dot - name);
    int s = ctx_fieldmap_section_by_name(name, sl);
    char list[512];
    if (s < 0 || !(t->sources & SRC(s))) {
        sources_text(t->sources, list, sizeof list);
        parser_errmsg("mmctxenrich: %s: placeholder '{%.*s}': %s \"%.*s\" (expected {section.field} with section "
                      "one of: %s)", t->where, (int)n, name, s < 0 ? "no section is named" : "cannot take a value from",
                      (int)sl, name, list);
        return -1;
    }
    if (!ctx_fieldmap_has(m, s)) {
        parser_errmsg("mmctxenrich: %s: placeholder '{%.*s}': the field mapping '%s' has no \"%s\" section to take "
                      "it from", t->where, (int)n, name, t->inst->mapping_path, ctx_fieldmap_section_name(s));
        return -1;
    }
    if (ctx_fieldmap_field_index(m, s, dot + 1, n - sl - 1) < 0) {
        fields_text(m, s, list, sizeof list);
        parser_errmsg("mmctxenrich: %s: placeholder '{%.*s}': section \"%s\" of '%s' maps no field \"%.*s\" (it "
                      "maps: %s)", t->where, (int)n, name, ctx_fieldmap_section_name(s), t->inst->mapping_path,
                      (int)(n - sl - 1), dot + 1, list);
        return -1;
    }
    if (s == CTX_FM_HOSTID && t->inst->hostid_url == NULL && !t->hint) {
        parser_errmsg("mmctxenrich: %s: placeholder '{%.*s}' needs cm.hostIdUrl (the request that fetches section "
                      "\"hostid\")", t->where, (int)n, name);
        return -1;
    }
    return 0;
}

static int check_template(const struct tmpl_ctx *t, const char *tmpl) {
    size_t pos = 0, n;
    const char *name;
    int rc;
    if (tmpl == NULL) return 0;
    while ((rc = cmfetch_next_placeholder(tmpl, &pos, &name, &n)) != 0) {
        int vm = rc > 0 && ((n == 4 && !memcmp(name, "uuid", 4)) || (n == 4 && !memcmp(name, "name", 4)));
        if (rc > 0 && memchr(name, '.', n) != NULL) {
            if (check_qualified(t, name, n) < 0) return -1;
        } else if (rc < 0 || (!vm && !(n == 4 && !memcmp(name, "host", 4))) || (vm && !t->vm_builtins)) {
            const char *e = rc < 0 ? strchr(tmpl + pos, '}') : NULL;
            int show = rc > 0 ? (int)n + 2 : e != NULL && e - (tmpl + pos) < 72 ? (int)(e - (tmpl + pos) + 1) : 1;
            parser_errmsg("mmctxenrich: %s: %s '%.*s' at offset %zu (expected %s{host} or {section.field})", t->where,
                          vm ? "placeholder not allowed here" : "unknown placeholder", show,
                          rc < 0 ? tmpl + pos : name - 1, rc < 0 ? pos : (size_t)(name - 1 - tmpl),
                          t->vm_builtins ? "{uuid}, {name}, " : "");
            return -1;
        }
    }
    return 0;
}

/* what each section's URL may use: sources, and whether {uuid} / {name} are the VM's */
static void rules_for(ctx_fm_section s, unsigned *sources, int *vm_builtins) {
    unsigned per_vm = SRC(CTX_FM_BULK) | SRC(CTX_FM_VM) | SRC(CTX_FM_HOSTID);
    *sources = s == CTX_FM_VM || s == CTX_FM_STATS ? per_vm : s == CTX_FM_HOSTID ? 0 : SRC(CTX_FM_HOSTID);
    *vm_builtins = s == CTX_FM_VM || s == CTX_FM_STATS || s == CTX_FM_HOST || s == CTX_FM_HOSTID;
}

rsRetVal mmx_cm_check_templates(mmx_inst *inst) {
    static const struct { const char *param; ctx_fm_section s; size_t off; } urls[] = {
        {"cm.url", CTX_FM_VM, offsetof(mmx_inst, url)},
        {"cm.statsUrl", CTX_FM_STATS, offsetof(mmx_inst, stats_url)},
        {"cm.bulkUrl", CTX_FM_BULK, offsetof(mmx_inst, bulk_url)},
        {"cm.hostUrl", CTX_FM_HOST, offsetof(mmx_inst, host_url)},
        {"cm.hostIdUrl", CTX_FM_HOSTID, offsetof(mmx_inst, hostid_url)},
    };
    char where[CTX_ERRLEN];
    struct tmpl_ctx t = {inst, where, 0, 0, 0};
    for (size_t i = 0; i < sizeof urls / sizeof urls[0]; i++) {
        rules_for(urls[i].s, &t.sources, &t.vm_builtins);
        snprintf(where, sizeof where, "parameter '%s'", urls[i].param);
        if (check_template(&t, *(char *const *)((const char *)inst + urls[i].off)) < 0) return RS_RET_PARAM_ERROR;
    }
    t.hint = 1;
    for (int s = 0; s < CTX_FM_NSECTIONS; s++) {
        rules_for(s, &t.sources, &t.vm_builtins);
        snprintf(where, sizeof where, "parameter 'cm.mapping': %s: /%s/path", inst->mapping_path,
                 ctx_fieldmap_section_name(s));
        if (check_template(&t, ctx_fieldmap_path(inst->map, s)) < 0) return RS_RET_PARAM_ERROR;
    }
    return RS_RET_OK;
}

/* ---- cm.auth ------------------------------------------------------------------------ */

static void auth_log(void *arg, const char *line) {
    mmx_inst *inst = arg;
    LogMsg(0, NO_ERRCODE, LOG_WARNING, "mmctxenrich(%s): %s", inst->name, line);
}

rsRetVal mmx_cm_make_auth(mmx_inst *inst, void (*report)(const char *err)) {
    char err[CTX_ERRLEN];
    cmauth_conf_t ac;
    if (inst->auth_type == NULL) {
        static const char *const only[] = {"cm.authUrl", "cm.passwordFile", "cm.appCredId", "cm.appCredSecretFile",
                                           "cm.project", "cm.userDomain", "cm.projectDomain"};
        const char *const vals[] = {inst->auth_url, inst->password_file, inst->appcred_id, inst->appcred_secret_file,
                                    inst->project, inst->user_domain, inst->project_domain};
        for (size_t i = 0; i < sizeof only / sizeof only[0]; i++)
            if (vals[i] != NULL) {
                parser_errmsg("mmctxenrich: parameter '%s': only with cm.auth=\"keystone\" or \"vcenter\"", only[i]);
                return RS_RET_PARAM_ERROR;
            }
        return RS_RET_OK;
    }
    cmauth_conf_defaults(&ac);
    ac.type = cmauth_type_parse(inst->auth_type);
    if (ac.type < 0) {
        parser_errmsg("mmctxenrich: parameter 'cm.auth': expected \"keystone\" or \"vcenter\", got '%s'",
                      inst->auth_type);
        return RS_RET_PARAM_ERROR;
    }
    ac.url = inst->auth_url;
    ac.user = inst->user;
    if (inst->user_domain) ac.user_domain = inst->user_domain;
    ac.project = inst->project;
    if (inst->project_domain) ac.project_domain = inst->project_domain;
    ac.password_file = inst->password_file;
    ac.appcred_id = inst->appcred_id;
    ac.appcred_secret_file = inst->appcred_secret_file;
    ac.ca_file = inst->ca_file;
    ac.tls_verify = inst->fetch_conf.tls_verify;
    ac.allow_insecure = inst->fetch_conf.allow_insecure;
    ac.connect_timeout_ms = inst->fetch_conf.connect_timeout_ms;
    ac.timeout_ms = inst->fetch_conf.timeout_ms;
    ac.max_body = inst->fetch_conf.max_body;
    ac.backoff_min_ms = inst->cache_conf.backoff_min_ms;
    ac.backoff_max_ms = inst->cache_conf.backoff_max_ms;
    if (cmauth_new(&inst->auth, &ac, auth_log, inst, err, sizeof err) != 0) {
        report(err);
        return RS_RET_PARAM_ERROR;
    }
    inst->fetch_conf.auth = inst->auth;
    return RS_RET_OK;
}
