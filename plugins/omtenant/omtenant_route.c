/* omtenant_route.c: omtenant's run time: the redaction rules generations, the tenant
 * pipelines (one common/deliver/delivery.h pipeline per tenant), the routing snapshot that
 * maps a tenant id to its pipeline, start / stop, the HUP reload and the timer that
 * seals quiet tenants' batches.
 *
 * Concurrency: see omtenant.h. The tenant list is append-only: a node is published
 * with a release store at the head and never freed before the instance, so the
 * timer walks it without a lock. inst->mu is held only to append to the list (never
 * across I/O). The current snapshot is in a reload slot (common/base/slot.h).
 */
#include "config.h"
#include "rsyslog.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "errmsg.h"
#include "module-template.h"
#include "statsobj.h"

#include "omtenant.h"
#include "cnfutil.h"
#include "secretfile.h"

/* ---------------------------------------------------------------- rules */

omt_rules_t *omt_rules_load(instanceData *pData, char *err, size_t errlen) {
    ctx_redact_rules *r = NULL;
    int rc = (pData->redact_rules_path || pData->redact_key_path)
                 ? ctx_redact_rules_load_file(&r, pData->redact_rules_path, pData->redact_key_path, err, errlen)
                 : ctx_redact_rules_new(&r, err, errlen);
    if (rc != 0) return NULL;
    omt_rules_t *w = calloc(1, sizeof *w);
    int n = ctx_redact_rules_count(r);
    if (w == NULL || (w->hits = calloc((size_t)n + 1, sizeof *w->hits)) == NULL ||
        (w->ctr = calloc((size_t)n + 1, sizeof *w->ctr)) == NULL ||
        (w->ctr_last = calloc((size_t)n + 1, sizeof *w->ctr_last)) == NULL) {
        if (w) free(w->hits);
        if (w) free(w->ctr);
        free(w);
        ctx_redact_rules_free(r);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    w->r = r;
    w->nrules = n;
    w->refs = 1;
    char warn[CTX_ERRLEN];
    if (ctx_redact_rules_warnings(r, warn, sizeof warn) != 0)
        LogMsg(0, RS_RET_OK, LOG_WARNING, "omtenant: redaction rules: %s", warn);
    return w;
}

/* a tenant that names a redaction view the rules do not define gets the global view: say so
 * (at config load and at HUP alike; -N1 shows it too) */
void omt_rules_check_views(const instanceData *pData, const ctx_tenants_t *set, const omt_rules_t *rules) {
    for (size_t i = 0; i < ctx_tenants_count(set); i++) {
        const ctx_tenant_t *t = ctx_tenants_at(set, i);
        const char *rf = pData->redact_rules_path ? pData->redact_rules_path : "the built-in rule set (no redaction.rules)";
        if (t->redaction == NULL || ctx_redact_has_view(rules->r, t->redaction)) continue;
        cnf_warning("omtenant: warning: %s: tenants.%s.redaction: names the view '%s', which %s does not define "
                    "(expected a [tenant %s] section or a rule's 'tenants'); tenant '%s' gets the global rules",
                    pData->tenants_path, t->id, t->redaction, rf, t->redaction, t->id);
    }
}

omt_rules_t *omt_rules_ref(omt_rules_t *r) {
    if (r != NULL) __atomic_add_fetch(&r->refs, 1, __ATOMIC_ACQ_REL);
    return r;
}

void omt_rules_release(omt_rules_t *r) {
    if (r == NULL || __atomic_sub_fetch(&r->refs, 1, __ATOMIC_ACQ_REL) != 0) return;
    ctx_redact_rules_free(r->r);
    free(r->hits);
    free(r->ctr);
    free(r->ctr_last);
    free(r);
}

/* ---------------------------------------------------------------- snapshot */

static uint64_t hash_id(const char *s, size_t n) {
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++) h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
    return h;
}

const omt_route_ent_t *omt_route_find(const omt_route_t *rt, const char *id, size_t len, int *used_default) {
    *used_default = 0;
    if (len > 0 && len <= CTX_TENANT_ID_MAX) {
        size_t mask = rt->nb - 1;
        for (size_t i = hash_id(id, len) & mask; rt->bucket[i] >= 0; i = (i + 1) & mask) {
            const omt_route_ent_t *e = &rt->ent[rt->bucket[i]];
            if (strlen(e->t->id) == len && memcmp(e->t->id, id, len) == 0) return e;
        }
    }
    *used_default = rt->dflt != NULL;
    return rt->dflt;
}

static void route_free(void *p) {
    omt_route_t *rt = p;
    if (rt == NULL) return;
    ctx_tenants_free(rt->set);
    omt_rules_release(rt->rules);
    free(rt->ent);
    free(rt->bucket);
    free(rt);
}

/* the snapshot for set and rules (references taken); ots[i] is tenant i's pipeline */
static omt_route_t *route_new(ctx_tenants_t *set, omt_rules_t *rules, omt_tenant_t **ots) {
    omt_route_t *rt = calloc(1, sizeof *rt);
    size_t n = ctx_tenants_count(set), nb = 8;
    while (nb < 2 * n) nb *= 2;
    if (rt == NULL || (rt->ent = calloc(n + 1, sizeof *rt->ent)) == NULL ||
        (rt->bucket = malloc(nb * sizeof *rt->bucket)) == NULL) {
        route_free(rt);
        return NULL;
    }
    rt->set = ctx_tenants_ref(set);
    rt->rules = omt_rules_ref(rules);
    rt->n = n;
    rt->nb = nb;
    for (size_t i = 0; i < nb; i++) rt->bucket[i] = -1;
    for (size_t i = 0; i < n; i++) {
        omt_route_ent_t *e = &rt->ent[i];
        e->t = ctx_tenants_at(set, i);
        e->ot = ots[i];
        e->set = ctx_redact_for_tenant(rules->r, e->t->redaction ? e->t->redaction : e->t->id);
        e->kind = e->t->transport == CTX_TRANSPORT_HTTPS ? CTX_OUTREC_JSON : CTX_OUTREC_SYSLOG;
        if (strcmp(e->t->id, "default") == 0) rt->dflt = e;
        size_t b = hash_id(e->t->id, strlen(e->t->id)) & (nb - 1);
        while (rt->bucket[b] >= 0) b = (b + 1) & (nb - 1);
        rt->bucket[b] = (int32_t)i;
    }
    return rt;
}

/* ---------------------------------------------------------------- tenant pipelines */

static void dest_log(void *arg, int sev, const char *line) {
    (void)arg;
    if (sev <= CTX_DEST_LOG_ERR)
        LogError(0, RS_RET_ERR, "omtenant: %s", line);
    else
        LogMsg(0, RS_RET_OK, sev, "omtenant: %s", line);
}

static int level_for(ctx_encoding_t enc, int level) {
    if (enc == CTX_ENC_GZIP) return level >= 1 && level <= 9 ? level : 6;
    return enc == CTX_ENC_ZSTD ? level : 0;
}

static ctx_dest_config_t dest_config(const instanceData *pData, const ctx_tenant_t *t) {
    ctx_dest_config_t c;
    memset(&c, 0, sizeof c);
    c.format = t->body;
    c.fmt_opts = t->fmt_opts;
    c.limits = t->batch;
    c.encoding = t->encoding;
    c.level = level_for(t->encoding, pData->level);
    c.spool_max_bytes = t->spool_max_bytes;
    c.spool_when_full = t->spool_when_full;
    return c;
}

static omt_tenant_t *tenant_find(instanceData *pData, const char *id) {
    for (omt_tenant_t *ot = __atomic_load_n(&pData->tenants, __ATOMIC_ACQUIRE); ot != NULL; ot = ot->next)
        if (strcmp(ot->id, id) == 0) return ot;
    return NULL;
}

/* a new pipeline for t (its spool is opened and drained from now on) */
static omt_tenant_t *tenant_new(instanceData *pData, const ctx_tenant_t *t, char *err, size_t errlen) {
    char spool[4096], dl[4096], why[CTX_ERRLEN];
    ctx_dest_opts_t o;
    memset(&o, 0, sizeof o);
    snprintf(spool, sizeof spool, "%s/%s", pData->spool_dir, t->id);
    snprintf(dl, sizeof dl, "%s/%s.deadletter", pData->deadletter_dir, t->id);
    if (omt_transport_new(pData, t, &o.transport, why, sizeof why) != 0) {
        snprintf(err, errlen, "tenant '%s': %s", t->id, why);
        return NULL;
    }
    omt_tenant_t *ot = calloc(1, sizeof *ot);
    if (ot == NULL) {
        if (o.transport.free) o.transport.free(o.transport.arg);
        snprintf(err, errlen, "tenant '%s': out of memory", t->id);
        return NULL;
    }
    snprintf(ot->id, sizeof ot->id, "%s", t->id);
    ot->body = t->body;
    if (omt_stamp_before_open(pData, t, spool, ot->stamp, sizeof ot->stamp) != 0) {
        if (o.transport.free) o.transport.free(o.transport.arg);
        snprintf(err, errlen, "tenant '%s': its spool cannot be checked", t->id);
        free(ot);
        return NULL;
    }
    o.tenant = t->id;
    o.spool_dir = spool;
    o.deadletter_path = dl;
    o.deadletter_max_bytes = pData->deadletter_max_bytes;
    o.hold_max_bytes = pData->hold_max_bytes;
    o.deadletter_keep = (unsigned)pData->deadletter_keep;
    o.cfg = dest_config(pData, t);
    o.max_pending = (unsigned)pData->max_pending;
    o.write_ahead = pData->write_ahead;
    o.backoff_initial_ms = (uint64_t)pData->backoff_initial_ms;
    o.backoff_max_ms = (uint64_t)pData->backoff_max_ms;
    o.shutdown_ms = pData->shutdown_timeout_ms > 0 ? (unsigned)pData->shutdown_timeout_ms : 1;
    o.log = dest_log;
    if (ctx_dest_new(&o, &ot->dest, why, sizeof why) != 0) {
        snprintf(err, errlen, "tenant '%s': %s", t->id, why);
        free(ot);
        return NULL;
    }
    omt_stamp_after_open(t, spool, ot->stamp);
    snprintf(ot->fmt_stamp[t->body & 15], sizeof ot->fmt_stamp[0], "%s", ot->stamp);
    if (omt_stats_tenant(pData, ot) != RS_RET_OK)
        LogError(0, RS_RET_ERR, "omtenant: tenant '%s': cannot register its statistics", t->id);
    pthread_mutex_lock(&pData->mu);
    ot->next = pData->tenants;
    __atomic_store_n(&pData->tenants, ot, __ATOMIC_RELEASE);
    pthread_mutex_unlock(&pData->mu);
    return ot;
}

/* For every tenant of set: its existing pipeline with a new transport prepared
 * (applied only if every tenant succeeds), or a new pipeline. Fills ots[]. */
static int prepare(instanceData *pData, ctx_tenants_t *set, omt_tenant_t **ots, ctx_dest_transport_t *trs,
                   char *err, size_t errlen) {
    size_t n = ctx_tenants_count(set);
    for (size_t i = 0; i < n; i++) {
        const ctx_tenant_t *t = ctx_tenants_at(set, i);
        char why[CTX_ERRLEN];
        if ((ots[i] = tenant_find(pData, t->id)) == NULL) {
            if ((ots[i] = tenant_new(pData, t, err, errlen)) == NULL) return -1;
        } else if (omt_stamp_reload_check(ots[i], t, err, errlen) != 0) {
            return -1;
        } else if (omt_transport_new(pData, t, &trs[i], why, sizeof why) != 0) {
            snprintf(err, errlen, "tenant '%s': %s", t->id, why);
            return -1;
        }
    }
    return 0;
}

static void apply(instanceData *pData, ctx_tenants_t *set, omt_tenant_t **ots, ctx_dest_transport_t *trs) {
    for (size_t i = 0; i < ctx_tenants_count(set); i++) {
        if (trs[i].send == NULL) continue; /* new pipeline: already configured */
        const ctx_tenant_t *t = ctx_tenants_at(set, i);
        ctx_dest_config_t c = dest_config(pData, t);
        int rc = ctx_dest_reconfigure(ots[i]->dest, NULL, &c);
        if (rc == CTX_EAGAIN) /* the timer retries them every tick until they apply (reconfig.retries) */
            LogMsg(0, RS_RET_OK, LOG_INFO, "omtenant: tenant '%s': its open batch kept filling during the HUP: the new "
                   "batch settings are applied as soon as it is sealed (reconfig.pending)", t->id);
        else if (rc != 0)
            LogError(0, RS_RET_ERR, "omtenant: tenant '%s': cannot apply its new batch settings", t->id);
        ctx_dest_set_transport(ots[i]->dest, trs[i]);
        trs[i].send = NULL;
        omt_stamp_reload_apply(pData, ots[i], t);
    }
}

/* builds the snapshot of set + rules (references taken) and makes it current */
static int install(instanceData *pData, ctx_tenants_t *set, omt_rules_t *rules, char *err, size_t errlen) {
    size_t n = ctx_tenants_count(set);
    omt_tenant_t **ots = calloc(n + 1, sizeof *ots);
    ctx_dest_transport_t *trs = calloc(n + 1, sizeof *trs);
    omt_route_t *rt = NULL;
    int rc = (ots && trs) ? prepare(pData, set, ots, trs, err, errlen) : -1;
    if (rc == 0 && (rt = route_new(set, rules, ots)) == NULL) rc = -1;
    if (rc == 0) {
        apply(pData, set, ots, trs);
        if (ctx_slot_set(pData->route, rt) != 0) { /* out of memory: the old snapshot stays */
            route_free(rt);
            rc = -1;
        }
    }
    if (rc != 0 && err[0] == '\0') snprintf(err, errlen, "out of memory");
    for (size_t i = 0; trs && i < n; i++)
        if (trs[i].send != NULL && trs[i].free) trs[i].free(trs[i].arg);
    free(ots);
    free(trs);
    return rc;
}

/* ---------------------------------------------------------------- timer */

/* how often quiet tenants are looked at: a quarter of the smallest max_delay_ms */
static unsigned tick_ms(const ctx_tenants_t *set) {
    uint64_t min = 1000;
    for (size_t i = 0; i < ctx_tenants_count(set); i++) {
        uint64_t d = ctx_tenants_at(set, i)->batch.max_delay_ms;
        if (d < min) min = d;
    }
    min /= 4;
    return (unsigned)(min < 10 ? 10 : min > 200 ? 200 : min);
}

static void *timer_main(void *arg) {
    instanceData *pData = arg;
    sigset_t all;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, NULL);
    ctx_batch_encoder_t *enc = NULL;
    if (ctx_batch_encoder_new(&enc) != 0) return NULL;
    while (!__atomic_load_n(&pData->stop, __ATOMIC_ACQUIRE)) {
        ctx_slot_ref_t *route = ctx_slot_acquire(pData->route);
        const omt_route_t *rt = ctx_slot_obj(route);
        unsigned tick = rt ? tick_ms(rt->set) : 200;
        ctx_slot_release(route);
        struct timespec ts = {0, (long)tick * 1000000L};
        nanosleep(&ts, NULL);
        uint64_t now = ctx_batch_now_ms();
        for (omt_tenant_t *ot = __atomic_load_n(&pData->tenants, __ATOMIC_ACQUIRE); ot != NULL; ot = ot->next)
            ctx_dest_flush_due(ot->dest, enc, now);
    }
    ctx_batch_encoder_free(enc);
    return NULL;
}

/* ---------------------------------------------------------------- life cycle */

/* the spool or dead-letter directory: created 0700, or an existing one checked */
static int make_dir(const char *param, const char *dir) {
    struct stat st;
    char why[160];
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        LogError(errno, RS_RET_ERR, "omtenant: parameter '%s': cannot create directory '%s'", param, dir);
        return -1;
    }
    if (lstat(dir, &st) != 0) {
        LogError(errno, RS_RET_ERR, "omtenant: parameter '%s': cannot examine directory '%s'", param, dir);
        return -1;
    }
    int verdict = ctx_private_dir_check(&st, geteuid(), why, sizeof why);
    if (verdict == CTX_SECRET_REFUSE) {
        LogError(0, RS_RET_ERR, "omtenant: parameter '%s': '%s' cannot hold tenants' data: %s", param, dir, why);
        return -1;
    }
    if (verdict == CTX_SECRET_WARN)
        LogMsg(0, RS_RET_OK, LOG_WARNING, "omtenant: warning: parameter '%s': '%s' is %s", param, dir, why);
    return 0;
}

rsRetVal omt_start(instanceData *pData, char *why, size_t whylen) {
    char err[CTX_ERRLEN] = "";
    DEFiRet;
    if (pData->started) FINALIZE;
    if (make_dir("spool.directory", pData->spool_dir) != 0) {
        ctx_errf(why, whylen, "spool.directory '%s' refused (above)", pData->spool_dir);
        ABORT_FINALIZE(RS_RET_ERR);
    }
    if (make_dir("deadletter.directory", pData->deadletter_dir) != 0) {
        ctx_errf(why, whylen, "deadletter.directory '%s' refused (above)", pData->deadletter_dir);
        ABORT_FINALIZE(RS_RET_ERR);
    }
    if (omt_stats_module(pData) != RS_RET_OK || omt_stats_rules(pData, pData->loaded_rules) != RS_RET_OK) {
        ctx_errf(why, whylen, "cannot register its impstats counters");
        ABORT_FINALIZE(RS_RET_ERR);
    }
    if (pData->route == NULL && ctx_slot_new(route_free, &pData->route) != 0) {
        ctx_errf(why, whylen, "out of memory");
        ABORT_FINALIZE(RS_RET_OUT_OF_MEMORY);
    }
    if (install(pData, pData->loaded, pData->loaded_rules, err, sizeof err) != 0) {
        LogError(0, RS_RET_ERR, "omtenant: %s", err);
        ctx_errf(why, whylen, "cannot set up its tenants (above)");
        ABORT_FINALIZE(RS_RET_ERR);
    }
    pData->started = 1;
    int prc = pthread_create(&pData->timer, NULL, timer_main, pData); /* returns its error, errno is stale */
    pData->timer_running = prc == 0;
    if (!pData->timer_running)
        LogError(prc, RS_RET_ERR, "omtenant(%s): cannot start the batch timer thread (batches are sealed only when "
                 "full)", pData->name);
finalize_it:
    RETiRet;
}

void omt_stop(instanceData *pData) {
    if (!pData->started) return;
    __atomic_store_n(&pData->stop, 1, __ATOMIC_RELEASE);
    if (pData->timer_running) pthread_join(pData->timer, NULL);
    pData->timer_running = 0;
    ctx_slot_free(pData->route);
    pData->route = NULL;
    for (omt_tenant_t *ot = pData->tenants, *next; ot != NULL; ot = next) {
        next = ot->next;
        omt_stats_destruct(&ot->stats);
        ctx_dest_free(ot->dest, NULL);
        free(ot);
    }
    pData->tenants = NULL;
    pData->started = 0;
}

void omt_reload(instanceData *pData) {
    char err[CTX_ERRLEN] = "";
    ctx_tenants_t *set = NULL;
    omt_rules_t *rules = NULL;
    if (!pData->started) return;
    if (ctx_tenants_load(pData->tenants_path, &set, err, sizeof err) != 0 ||
        omt_check_formats(pData, set, err, sizeof err) != 0) {
        LogError(0, RS_RET_CONFIG_ERROR, "omtenant: HUP: %s; the running tenants file stays in use", err);
    } else if ((rules = omt_rules_load(pData, err, sizeof err)) == NULL) {
        LogError(0, RS_RET_CONFIG_ERROR, "omtenant: HUP: redaction rules: %s; the running rules stay in use", err);
    } else if (omt_stats_rules(pData, rules) != RS_RET_OK || install(pData, set, rules, err, sizeof err) != 0) {
        LogError(0, RS_RET_CONFIG_ERROR, "omtenant: HUP: %s; the running tenants file stays in use", err);
    } else {
        for (size_t i = 0; i < ctx_tenants_warning_count(set); i++)
            LogMsg(0, RS_RET_OK, LOG_WARNING, "omtenant: %s", ctx_tenants_warning(set, i));
        if (omt_template_view_warning(pData, set, err, sizeof err))
            LogMsg(0, RS_RET_OK, LOG_WARNING, "omtenant: %s", err);
        omt_rules_check_views(pData, set, rules);
        LogMsg(0, RS_RET_OK, LOG_INFO, "omtenant: HUP: reloaded %s (%zu tenants)", pData->tenants_path,
               ctx_tenants_count(set));
        omt_add(&pData->mctr_val[OMT_MC_RELOADS], 1);
        ctx_tenants_free(set);
        omt_rules_release(rules);
        return;
    }
    omt_add(&pData->mctr_val[OMT_MC_RELOAD_ERRORS], 1);
    ctx_tenants_free(set);
    omt_rules_release(rules);
}
