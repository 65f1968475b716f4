/* omtenant_stats.c: omtenant's impstats objects: one per tenant ("omtenant(<tenant>)"),
 * one for the action ("omtenant(<name>)") and one with a counter per redaction rule
 * ("omtenant(<name>)-redaction"). The counters live in the pipelines and in atomics;
 * each object's read notifier copies them when impstats reads. docs/omtenant.md
 * lists every counter.
 *
 * Concurrency: objects are made on the config / HUP thread; notifiers run on the
 * impstats thread and only read (ctx_dest_stats and atomics).
 */
#include "config.h"
#include "rsyslog.h"

#include <stdio.h>
#include <string.h>

#include "errmsg.h"
#include "module-template.h"
#include "statsobj.h"

#include "omtenant.h"
#include "statsctr.h"

const char *const omt_tenant_counter_names[OMT_TC_COUNT] = {
    "msgs",           "batches",         "bytes.raw",         "bytes.compressed", "redactions",
    "delivered.batches", "delivered.msgs", "delivered.bytes", "retries",          "tls.failures",
    "spooled.batches", "spooled.bytes",  "spool.batches",     "spool.bytes",      "spool.dropped",
    "spool.full",     "spool.errors",    "deadletter.batches", "deadletter.msgs",
    "deadletter.bytes", "deadletter.rotations", "deadletter.dropped", "refused", "dropped.blocked",
    "invalid",        "lost.msgs",       "blocked",           "ctx.withheld",      "reconfig.retries",
    "reconfig.pending", "partial.batches",  "partial.retried",   "partial.rejected",
    "reply.unreadable"};

const char *const omt_module_counter_names[OMT_MC_COUNT] = {
    "msgs",           "dropped.notenant",      "routed.default",    "redact.errors", "tenants.reloads",
    "tenants.reload.errors", "spool.quarantined", "ctxmemo.hits",   "ctxmemo.misses", "multiline.opened",
    "multiline.closed", "multiline.lines",  "multiline.evicted", "multiline.timeouts", "multiline.overlong",
    "multiline.open"};

/* deprecated names, emitted until 0.3 (docs/omtenant.md) */
static const statsctr_alias_t module_aliases[2] = {{"reloads", OMT_MC_RELOADS}, {"reload.errors", OMT_MC_RELOAD_ERRORS}};

static int tenant_gauge(int i) {
    return i == OMT_TC_SPOOL_BATCHES || i == OMT_TC_SPOOL_BYTES || i == OMT_TC_BLOCKED || i == OMT_TC_RECONFIG_PENDING;
}

static statsobj_if_t *so;

void omt_stats_set_obj(statsobj_if_t *statsobj_if) {
    so = statsobj_if;
}

void omt_stats_destruct(statsobj_t **s) {
    if (s != NULL && *s != NULL && so != NULL) so->Destruct(s);
}

static uint64_t get(uint64_t *v) {
    return __atomic_load_n(v, __ATOMIC_RELAXED);
}

static void tenant_notify(statsobj_t *s, void *arg) {
    (void)s;
    omt_tenant_t *ot = arg;
    ctx_dest_stats_t st;
    ctx_dest_stats(ot->dest, &st);
    const uint64_t v[OMT_TC_COUNT] = {
        get(&ot->msgs),      st.batches_sealed,  st.bytes_raw,         st.bytes_encoded,  get(&ot->redactions),
        st.batches_delivered, st.msgs_delivered, st.bytes_delivered,   st.retries,        st.tls_failures,
        st.spooled_batches,  st.spooled_bytes,   st.spool_records,     st.spool_bytes,    st.spool_dropped,
        st.spool_full,       st.spool_errors,    st.deadletter_batches, st.deadletter_msgs,
        st.deadletter_bytes, st.deadletter_rotations, st.deadletter_dropped_msgs, get(&ot->refused), st.dropped_blocked,
        get(&ot->invalid),   st.lost_msgs,       st.blocked,          get(&ot->withheld),  st.reconfig_retries,
        st.reconfig_pending, st.partial_batches, st.partial_retried_msgs, st.partial_rejected_msgs,
        st.replies_unread};
    for (int i = 0; i < OMT_TC_COUNT; i++) {
        if (tenant_gauge(i))
            statsctr_gauge(&ot->ctr[i], v[i]);
        else
            statsctr_publish(&ot->ctr[i], &ot->ctr_last[i], v[i]);
    }
}

static int module_gauge(int i) {
    return i == OMT_MC_ML_OPEN;
}

static void module_notify(statsobj_t *s, void *arg) {
    (void)s;
    instanceData *pData = arg;
    ctx_redact_multi_stats_t ml;
    ctx_redact_multi_stats(pData->multi, &ml); /* totals of the tracker: copied, not added */
    const uint64_t mlv[] = {ml.opened, ml.closed, ml.lines, ml.evicted, ml.timeouts, ml.overlong};
    for (int i = 0; i < 6; i++) __atomic_store_n(&pData->mctr_val[OMT_MC_ML_OPENED + i], mlv[i], __ATOMIC_RELAXED);
    statsctr_gauge(&pData->mctr[OMT_MC_ML_OPEN], ml.open);
    for (int i = 0; i < OMT_MC_COUNT; i++)
        if (!module_gauge(i)) statsctr_publish(&pData->mctr[i], &pData->mctr_last[i], get(&pData->mctr_val[i]));
    for (int i = 0; i < 2; i++)
        statsctr_publish(&pData->mctr_alias[i], &pData->mctr_alias_last[i], get(&pData->mctr_val[module_aliases[i].idx]));
}

static void rules_notify(statsobj_t *s, void *arg) {
    (void)s;
    omt_rules_t *r = arg;
    for (int i = 0; i < r->nrules; i++) statsctr_publish(&r->ctr[i], &r->ctr_last[i], get(&r->hits[i]));
}

/* a stats object named name with the counters names[0..n) backed by ctrs (gauge(i): never reset; NULL: none),
 * then the deprecated names aliases[0..nalias) backed by alias_ctrs */
static rsRetVal make(statsobj_t **out, const char *name, const char *const *names, int n, intctr_t *ctrs,
                     int (*gauge)(int), const statsctr_alias_t *aliases, int nalias, intctr_t *alias_ctrs,
                     statsobj_read_notifier_t notify, void *arg) {
    statsobj_t *s = NULL;
    DEFiRet;
    if (so == NULL) ABORT_FINALIZE(RS_RET_ERR);
    CHKiRet(so->Construct(&s));
    CHKiRet(so->SetName(s, (uchar *)name));
    CHKiRet(so->SetOrigin(s, (uchar *)"omtenant"));
    CHKiRet(so->SetReadNotifier(s, notify, arg));
    for (int i = 0; i < n; i++) CHKiRet(STATSCTR_ADD(so, s, names[i], gauge != NULL && gauge(i), &ctrs[i]));
    for (int i = 0; i < nalias; i++) CHKiRet(STATSCTR_ADD(so, s, aliases[i].old_name, 0, &alias_ctrs[i]));
    CHKiRet(so->ConstructFinalize(s));
    *out = s;
    s = NULL;
finalize_it:
    if (s != NULL) so->Destruct(&s);
    RETiRet;
}

rsRetVal omt_stats_tenant(instanceData *pData, omt_tenant_t *ot) {
    char name[256];
    if (strcmp(pData->name, "omtenant") == 0)
        snprintf(name, sizeof name, "omtenant(%s)", ot->id);
    else
        snprintf(name, sizeof name, "omtenant(%s:%s)", pData->name, ot->id);
    return make(&ot->stats, name, omt_tenant_counter_names, OMT_TC_COUNT, ot->ctr, tenant_gauge, NULL, 0, NULL,
                tenant_notify, ot);
}

rsRetVal omt_stats_module(instanceData *pData) {
    char name[256];
    snprintf(name, sizeof name, "omtenant(%s)", pData->name);
    return make(&pData->stats, name, omt_module_counter_names, OMT_MC_COUNT, pData->mctr, module_gauge, module_aliases, 2,
                pData->mctr_alias, module_notify, pData);
}

/* (re)makes the per-rule object for generation r; the previous generation's goes */
rsRetVal omt_stats_rules(instanceData *pData, omt_rules_t *r) {
    char name[256];
    const char *names[r->nrules + 1];
    for (int i = 0; i < r->nrules; i++) names[i] = ctx_redact_rules_name(r->r, i);
    snprintf(name, sizeof name, "omtenant(%s)-redaction", pData->name);
    omt_stats_destruct(&pData->rules_stats);
    omt_rules_release(pData->rules_shown);
    pData->rules_shown = omt_rules_ref(r);
    return make(&pData->rules_stats, name, names, r->nrules, r->ctr, NULL, NULL, 0, NULL, rules_notify, r);
}

void omt_stats_free_all(instanceData *pData) {
    omt_stats_destruct(&pData->rules_stats);
    omt_rules_release(pData->rules_shown);
    pData->rules_shown = NULL;
    omt_stats_destruct(&pData->stats);
}
