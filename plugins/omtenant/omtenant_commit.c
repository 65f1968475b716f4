/* omtenant_commit.c: one rsyslog transaction: route each message by its tenant, build
 * and redact its record, add it to the tenant's open batch.
 *
 * A blocked tenant (its spool full under "block", or a disk error) never stalls
 * another. An action that serves one tenant takes a transaction whole or not at all:
 * if the tenant is blocked, nothing is taken and rsyslog is told to retry
 * (RS_RET_SUSPENDED), so rsyslog's queue holds its messages (back-pressure, nothing
 * lost). An action that serves several tenants always takes the transaction: a
 * blocked tenant's messages go into memory up to blocked.maxMemory, and past that are
 * dropped and counted (dropped.blocked); every other tenant's go through.
 *
 * Concurrency: runs on an rsyslog worker thread with that worker's omt_wrk_t (its record
 * builder and $!ctx memo are the worker's own); the routing snapshot is a reference taken
 * for the transaction.
 */
#include "config.h"
#include "rsyslog.h"

#include <stdlib.h>
#include <string.h>

#include "errmsg.h"
#include "module-template.h"

#include "clock.h"
#include "omtenant.h"


omt_wrk_t *omt_wrk_new(void) {
    omt_wrk_t *w = calloc(1, sizeof *w);
    if (w == NULL) return NULL;
    if (ctx_batch_encoder_new(&w->enc) != 0 || ctx_outrec_new(&w->rec) != 0) {
        omt_wrk_free(w);
        return NULL;
    }
    return w;
}

void omt_wrk_free(omt_wrk_t *w) {
    if (w == NULL) return;
    ctx_batch_encoder_free(w->enc);
    ctx_outrec_free(w->rec);
    ctx_redact_ctx_free(w->rx);
    omt_rules_release(w->rx_rules);
    free(w->scratch);
    free(w->ents);
    free(w);
}

/* the worker's redaction context must belong to the snapshot's rules */
static rsRetVal bind_rules(const instanceData *pData, omt_wrk_t *w, omt_rules_t *r) {
    if (w->rx_rules == r) return RS_RET_OK;
    ctx_redact_ctx *rx = ctx_redact_ctx_new(r->r);
    uint64_t *scratch = calloc((size_t)r->nrules + 1, sizeof *scratch);
    if (rx == NULL || scratch == NULL) {
        ctx_redact_ctx_free(rx);
        free(scratch);
        return RS_RET_OUT_OF_MEMORY;
    }
    /* the record builder's $!ctx memo (common/deliver/outrec_memo.c), emptied: no entry outlives its rules */
    if (ctx_outrec_memo_set(w->rec, (unsigned)pData->memo_entries, r->nrules) != 0)
        (void)ctx_outrec_memo_set(w->rec, 0, r->nrules); /* off; the records stay right */
    ctx_redact_ctx_free(w->rx);
    omt_rules_release(w->rx_rules);
    free(w->scratch);
    w->rx = rx;
    w->scratch = scratch;
    w->rx_rules = omt_rules_ref(r);
    w->pem_rule = ctx_redact_rules_find(r->r, "pem-private-key");
    return RS_RET_OK;
}

/* per-rule match counts of the last record into the rule counters; returns their sum */
static uint64_t take_counts(instanceData *pData, omt_wrk_t *w) {
    omt_rules_t *r = w->rx_rules;
    memset(w->scratch, 0, (size_t)r->nrules * sizeof *w->scratch);
    uint64_t errors = ctx_redact_ctx_take_counters(w->rx, w->scratch), sum = 0;
    for (int i = 0; i < r->nrules; i++) {
        if (w->scratch[i] == 0) continue;
        omt_add(&r->hits[i], w->scratch[i]);
        sum += w->scratch[i];
    }
    if (errors) omt_add(&pData->mctr_val[OMT_MC_REDACT_ERRORS], errors);
    return sum;
}

#define TPL(p, slot) (const char *)(p)[slot].param, (p)[slot].lenStr

/* an operator template's message and sender (OMT_TPL_TMETA, OMT_TPL_TMSG) */
static void tpl_msg(actWrkrIParams_t *p, ctx_outrec_tplmsg_t *tm) {
    const char *f[4] = {"", "", "", ""}, *s = (const char *)p[OMT_TPL_TMETA].param;
    size_t n[4] = {0, 0, 0, 0}, len = s ? p[OMT_TPL_TMETA].lenStr : 0;
    for (int i = 0; i < 4 && s != NULL; i++) {
        const char *q = i < 3 ? memchr(s, CTX_OUTREC_SEP, len) : NULL;
        f[i] = s;
        n[i] = q ? (size_t)(q - s) : len;
        if (q == NULL) break;
        len -= n[i] + 1;
        s = q + 1;
    }
    memset(tm, 0, sizeof *tm);
    tm->msg = (const char *)p[OMT_TPL_TMSG].param;
    tm->msglen = p[OMT_TPL_TMSG].lenStr;
    tm->cut = n[0] == 4 && memcmp(f[0], "true", 4) == 0;
    tm->who = (ctx_outrec_sender_t){f[1], f[2], f[3], n[1], n[2], n[3]};
}

/* the record of message p (its templates' strings); rc as ctx_outrec_build. A record
 * format gets its fields (*r, rec set to 1), the others their text (*out). */
static int build(instanceData *pData, omt_wrk_t *w, const omt_route_ent_t *e, actWrkrIParams_t *p, const char **out,
                 size_t *outlen, ctx_fmt_rec_t *r, int *rec) {
    *rec = 0;
    unsigned kinds = (w->pem_rule >= 0 && ctx_redact_set_enabled(e->set, w->pem_rule) ? CTX_MULTI_PEM : 0) |
                     (pData->ml_begin != NULL ? CTX_MULTI_PAIR : 0);
    ctx_outrec_set_multi(w->rec, pData->multi, kinds, e->t->id, w->now_ms); /* per tenant, VM and app */
    if (pData->template_name != NULL) { /* never with a record format (omt_check_formats) */
        ctx_outrec_tplmsg_t tm;
        tpl_msg(p, &tm);
        return ctx_outrec_custom_msg(w->rec, w->rx, e->set, TPL(p, OMT_TPL_CUSTOM), &tm, out, outlen);
    }
    ctx_outrec_fields_t f = {TPL(p, OMT_TPL_HDR), TPL(p, OMT_TPL_MSG), TPL(p, OMT_TPL_SD), TPL(p, OMT_TPL_CTX)};
    ctx_outrec_set_hostwide(w->rec, e->t->context_host_full); /* the tenant's view (docs/threat-model.md) */
    int rc;
    if (e->t->transport == CTX_TRANSPORT_HTTPS && ctx_fmt_grouping(e->t->format)) {
        *rec = 1;
        rc = ctx_outrec_fmtrec(w->rec, w->rx, e->set, &f, r);
    } else {
        rc = ctx_outrec_build(w->rec, e->kind, w->rx, e->set, &f, out, outlen);
    }
    if (rc >= 0 && ctx_outrec_withheld(w->rec) > 0) omt_add(&e->ot->withheld, 1);
    return rc;
}

static void one(instanceData *pData, omt_wrk_t *w, const omt_route_t *rt, const omt_route_ent_t *e,
                actWrkrIParams_t *p) {
    const char *out = NULL;
    size_t outlen = 0;
    ctx_fmt_rec_t r;
    int is_rec;
    omt_add(&pData->mctr_val[OMT_MC_MSGS], 1);
    if (e == NULL) {
        omt_add(&pData->mctr_val[OMT_MC_NO_TENANT], 1);
        return;
    }
    if (e == rt->dflt && !(p[OMT_TPL_TENANT].lenStr == 7 && memcmp(p[OMT_TPL_TENANT].param, "default", 7) == 0))
        omt_add(&pData->mctr_val[OMT_MC_DEFAULT], 1);
    int rc = build(pData, w, e, p, &out, &outlen, &r, &is_rec);
    if (rc < 0) { /* never send what could not be redacted */
        omt_add(&pData->mctr_val[OMT_MC_REDACT_ERRORS], 1);
        return;
    }
    if (rc > 0) omt_add(&e->ot->redactions, take_counts(pData, w) + ctx_outrec_multi_spans(w->rec));
    rc = is_rec ? ctx_dest_add_rec(e->ot->dest, w->enc, &r) : ctx_dest_add(e->ot->dest, w->enc, out, outlen);
    if (rc == CTX_EFULL) return; /* blocked, hold full: counted by the dest (dropped.blocked) */
    omt_add(rc == 0 ? &e->ot->msgs : &e->ot->invalid, 1);
}

static rsRetVal grow(omt_wrk_t *w, unsigned n) {
    if (n <= w->nents) return RS_RET_OK;
    const omt_route_ent_t **p = realloc(w->ents, n * sizeof *p);
    if (p == NULL) return RS_RET_OUT_OF_MEMORY;
    w->ents = p;
    w->nents = n;
    return RS_RET_OK;
}

/* the memo's counts since the last transaction into the action's counters */
static void memo_counts(instanceData *pData, omt_wrk_t *w) {
    ctx_outrec_memo_stats_t st;
    ctx_outrec_memo_stats(w->rec, &st);
    uint64_t hits = st.doc_hits + st.hits, misses = st.doc_misses + st.misses;
    if (hits != w->memo_hits) omt_add(&pData->mctr_val[OMT_MC_MEMO_HITS], hits - w->memo_hits);
    if (misses != w->memo_misses) omt_add(&pData->mctr_val[OMT_MC_MEMO_MISSES], misses - w->memo_misses);
    w->memo_hits = hits;
    w->memo_misses = misses;
}

/* messages i.. of the transaction that go to the same tenant as e (refused with it) */
static unsigned count_for(const omt_route_t *rt, actWrkrIParams_t *pParams, int ntpl, unsigned i, unsigned nParams,
                          const omt_route_ent_t *e) {
    unsigned n = 0;
    for (; i < nParams; i++) {
        actWrkrIParams_t *p = &actParam(pParams, ntpl, i, 0);
        int used_default;
        n += omt_route_find(rt, TPL(p, OMT_TPL_TENANT), &used_default) == e;
    }
    return n;
}

/* spool.writeAhead: every tenant of the transaction seals its open batch, which is
 * written to its spool (fsync) before rsyslog is told the transaction is done */
static void seal_touched(omt_wrk_t *w, unsigned n) {
    omt_tenant_t *seen[32];
    unsigned nseen = 0;
    for (unsigned i = 0; i < n; i++) {
        if (w->ents[i] == NULL) continue;
        omt_tenant_t *ot = w->ents[i]->ot;
        unsigned j = 0;
        while (j < nseen && seen[j] != ot) j++;
        if (j < nseen) continue;
        if (nseen < sizeof seen / sizeof seen[0]) seen[nseen++] = ot;
        (void)ctx_dest_flush(ot->dest, w->enc); /* a seal that fails is retried by the timer */
    }
}

rsRetVal omt_commit(instanceData *pData, omt_wrk_t *w, actWrkrIParams_t *pParams, unsigned nParams) {
    const int ntpl = omt_num_templates(pData);
    ctx_slot_ref_t *route = ctx_slot_acquire(pData->route);
    omt_route_t *rt = ctx_slot_obj(route);
    DEFiRet;
    if (rt == NULL) ABORT_FINALIZE(RS_RET_SUSPENDED); /* not started: the start-up error was logged */
    CHKiRet(bind_rules(pData, w, rt->rules));
    CHKiRet(grow(w, nParams));
    for (unsigned i = 0; i < nParams; i++) {
        actWrkrIParams_t *p = &actParam(pParams, ntpl, i, 0);
        int used_default; /* counted in one(), once the transaction is taken */
        const omt_route_ent_t *e = omt_route_find(rt, TPL(p, OMT_TPL_TENANT), &used_default);
        if (rt->n == 1 && e != NULL && !ctx_dest_accepting(e->ot->dest)) { /* one tenant: back-pressure */
            w->blocked_on = e->ot;
            omt_add(&e->ot->refused, count_for(rt, pParams, ntpl, i, nParams, e));
            ABORT_FINALIZE(RS_RET_SUSPENDED);
        }
        w->ents[i] = e;
    }
    w->blocked_on = NULL;
    w->now_ms = ctx_clock_ms();
    for (unsigned i = 0; i < nParams; i++) one(pData, w, rt, w->ents[i], &actParam(pParams, ntpl, i, 0));
    memo_counts(pData, w);
    if (pData->write_ahead) seal_touched(w, nParams);
finalize_it:
    ctx_slot_release(route);
    RETiRet;
}

rsRetVal omt_try_resume(omt_wrk_t *w) {
    if (w != NULL && w->blocked_on != NULL && !ctx_dest_accepting(w->blocked_on->dest)) return RS_RET_SUSPENDED;
    return RS_RET_OK;
}
