/* mmctxenrich_stats.c: impstats counters of mmctxenrich (one statsobj per action,
 * named "mmctxenrich(<name>)"; docs/mmctxenrich.md lists every counter).
 *
 * Counters of the glue (msgs.*, cm.status.*, policy.defaulted, hup.*) are updated
 * live. Those the cache, the fetchers and the sampler keep are copied into the
 * cells here by a worker at most every 250 ms while messages flow, and after each
 * impstats read (statsobj's read notifier) when idle. rule.<name> counters point at
 * the policy's own cells and are re-registered when a HUP loads a new rulebase.
 * All counters are cumulative (not reset by impstats' resetCounters).
 *
 * Concurrency: cells are uint64 written with atomic builtins. mmx_stats_setup runs on
 * the activation thread, mmx_stats_policy on it or the HUP thread (statsobj guards
 * its counter list with its own mutex), mmx_stats_copy on any thread.
 */
#include "config.h"
#include "rsyslog.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errmsg.h"
#include "statsobj.h"

#include "mmctxenrich.h"
#include "counters.h"
#include "profsrc.h"
#include "statsctr.h"

#define COPY_EVERY_MS 250

static statsobj_if_t *S; /* the statsobj interface, from modInit */

const char *const mmx_counter_names[MMX_CTR_COUNT] = {
    "msgs.processed", "msgs.dropped", "policy.defaulted", "msgs.novm", "cm.status.ok", "cm.status.stale",
    "cm.status.pending", "cm.status.unavailable", "cache.hits", "cache.misses", "cache.stale", "cache.evictions",
    "cache.expired", "cache.coalesced", "cache.queue.full", "cache.entries", "cm.requests", "cm.ok", "cm.errors",
    "cm.timeouts", "cm.bytes", "cm.http.errors", "cm.transport.errors", "cm.parse.errors", "cm.toolarge",
    "cm.rejected", "cm.throttled", "cm.unauthenticated", "cm.unresolved", "cm.auth.retries401",
    "cm.auth.requests", "cm.auth.failures", "cm.auth.renewals",
    "cm.mapping.problems", "cm.bulk.name.conflicts", "cm.name.conflicts",
    "host.vm.errors", "host.errors", "host.passes", "host.name.conflicts",
    "policy.regex.errors", "policy.reloads", "policy.reload.errors", "profiles.reloads",
    "profiles.reload.errors", "profiles.libvirt.events", "profiles.libvirt.updates", "profiles.libvirt.errors",
    "profiles.libvirt.reconnects", "profiles.libvirt.connected", "profiles.libvirt.domains",
};

/* the names before 0.2, emitted as deprecated aliases until 0.3 (docs/mmctxenrich.md) */
static const statsctr_alias_t aliases[MMX_ALIAS_COUNT] = {
    {"cache.queue_full", MMX_CTR_CACHE_QFULL},          {"cm.http_errors", MMX_CTR_CM_HTTP_ERRORS},
    {"cm.transport_errors", MMX_CTR_CM_TRANSPORT_ERRORS}, {"cm.parse_errors", MMX_CTR_CM_PARSE_ERRORS},
    {"cm.too_big", MMX_CTR_CM_TOO_BIG},                 {"cm.mapping_problems", MMX_CTR_CM_MAP_PROBLEMS},
    {"host.vm_errors", MMX_CTR_HOST_VM_ERRORS},         {"host.host_errors", MMX_CTR_HOST_ERRORS},
    {"policy.regex_errors", MMX_CTR_POLICY_REGEX_ERR},  {"policy.reload_errors", MMX_CTR_POLICY_RELOAD_ERRORS},
    {"profiles.reload_errors", MMX_CTR_PROFILES_RELOAD_ERRORS},
};

static int is_gauge(int i) { return i == MMX_CTR_CACHE_ENTRIES || i == MMX_CTR_LV_CONNECTED || i == MMX_CTR_LV_DOMAINS ||
                                i == MMX_CTR_HOST_NAME_CONFLICTS; }

/* the totals into the statsobj's cells: counters as what they gained, gauges as they are */
static void publish(mmx_inst *inst) {
    for (int i = 0; i < MMX_CTR_COUNT; i++) {
        uint64_t v = __atomic_load_n(&inst->ctr[i], __ATOMIC_RELAXED);
        if (is_gauge(i))
            statsctr_gauge(&inst->cell[i], v);
        else
            statsctr_publish(&inst->cell[i], &inst->cell_last[i], v);
    }
    for (int i = 0; i < MMX_ALIAS_COUNT; i++)
        statsctr_publish(&inst->alias_cell[i], &inst->alias_last[i],
                         __atomic_load_n(&inst->ctr[aliases[i].idx], __ATOMIC_RELAXED));
}

void mmx_stats_use(void *statsobj_if) { S = statsobj_if; }

/* where each copied counter comes from: a snapshot of a common/ unit's statistics (a struct of
 * uint64_t, counters.h) and the member's index in it; SRC_NONE: kept by the glue */
enum { SRC_NONE, SRC_CACHE, SRC_FETCH, SRC_AUTH, SRC_PROFSRC, SRC_COUNT };
#define AT(type, member) (offsetof(type, member) / sizeof(uint64_t))
static const struct {
    unsigned char src, at;
} copied[MMX_CTR_COUNT] = {
    [MMX_CTR_CACHE_HITS] = {SRC_CACHE, AT(cmcache_stats_t, hits)},
    [MMX_CTR_CACHE_MISSES] = {SRC_CACHE, AT(cmcache_stats_t, misses)},
    [MMX_CTR_CACHE_STALE] = {SRC_CACHE, AT(cmcache_stats_t, stale)},
    [MMX_CTR_CACHE_EVICTIONS] = {SRC_CACHE, AT(cmcache_stats_t, evictions)},
    [MMX_CTR_CACHE_EXPIRED] = {SRC_CACHE, AT(cmcache_stats_t, expired)},
    [MMX_CTR_CACHE_COALESCED] = {SRC_CACHE, AT(cmcache_stats_t, coalesced)},
    [MMX_CTR_CACHE_QFULL] = {SRC_CACHE, AT(cmcache_stats_t, queue_full)},
    [MMX_CTR_CACHE_ENTRIES] = {SRC_CACHE, AT(cmcache_stats_t, entries)},
    [MMX_CTR_CM_REQUESTS] = {SRC_FETCH, AT(cmfetch_stats_t, requests)},
    [MMX_CTR_CM_OK] = {SRC_FETCH, AT(cmfetch_stats_t, ok)},
    [MMX_CTR_CM_ERRORS] = {SRC_FETCH, AT(cmfetch_stats_t, errors)},
    [MMX_CTR_CM_TIMEOUTS] = {SRC_FETCH, AT(cmfetch_stats_t, timeouts)},
    [MMX_CTR_CM_BYTES] = {SRC_FETCH, AT(cmfetch_stats_t, bytes)},
    [MMX_CTR_CM_HTTP_ERRORS] = {SRC_FETCH, AT(cmfetch_stats_t, http_errors)},
    [MMX_CTR_CM_TRANSPORT_ERRORS] = {SRC_FETCH, AT(cmfetch_stats_t, transport_errors)},
    [MMX_CTR_CM_PARSE_ERRORS] = {SRC_FETCH, AT(cmfetch_stats_t, parse_errors)},
    [MMX_CTR_CM_TOO_BIG] = {SRC_FETCH, AT(cmfetch_stats_t, too_big)},
    [MMX_CTR_CM_REJECTED] = {SRC_FETCH, AT(cmfetch_stats_t, reply_rejected)},
    [MMX_CTR_CM_THROTTLED] = {SRC_FETCH, AT(cmfetch_stats_t, throttled)},
    [MMX_CTR_CM_UNAUTH] = {SRC_FETCH, AT(cmfetch_stats_t, unauthenticated)},
    [MMX_CTR_CM_UNRESOLVED] = {SRC_FETCH, AT(cmfetch_stats_t, unresolved)},
    [MMX_CTR_CM_RETRY401] = {SRC_FETCH, AT(cmfetch_stats_t, retried_401)},
    [MMX_CTR_AUTH_REQUESTS] = {SRC_AUTH, AT(cmauth_stats_t, requests)},
    [MMX_CTR_AUTH_FAILURES] = {SRC_AUTH, AT(cmauth_stats_t, failures)},
    [MMX_CTR_AUTH_RENEWALS] = {SRC_AUTH, AT(cmauth_stats_t, renewals)},
    [MMX_CTR_LV_EVENTS] = {SRC_PROFSRC, AT(ctx_profsrc_stats_t, events)},
    [MMX_CTR_LV_UPDATES] = {SRC_PROFSRC, AT(ctx_profsrc_stats_t, lv_updates)},
    [MMX_CTR_LV_ERRORS] = {SRC_PROFSRC, AT(ctx_profsrc_stats_t, lv_errors)},
    [MMX_CTR_LV_RECONNECTS] = {SRC_PROFSRC, AT(ctx_profsrc_stats_t, reconnects)},
    [MMX_CTR_LV_CONNECTED] = {SRC_PROFSRC, AT(ctx_profsrc_stats_t, connected)},
    [MMX_CTR_LV_DOMAINS] = {SRC_PROFSRC, AT(ctx_profsrc_stats_t, domains)},
};

static void add_fetch(cmfetch_t *f, cmfetch_stats_t *sum) {
    cmfetch_stats_t s;
    if (f == NULL) return;
    cmfetch_get_stats(f, &s);
    ctx_counters_sum(sum, &s, sizeof s);
}

/* the counters the cache, both fetchers, the login and the profile source keep (those that
 * exist) into ctr[] */
static void copy_units(mmx_inst *inst) {
    cmcache_stats_t cache;
    cmfetch_stats_t fetch;
    cmauth_stats_t auth;
    ctx_profsrc_stats_t prof;
    const uint64_t *snap[SRC_COUNT] = {NULL};
    if (inst->cache != NULL) {
        cmcache_get_stats(inst->cache, &cache);
        snap[SRC_CACHE] = (const uint64_t *)&cache;
    }
    memset(&fetch, 0, sizeof fetch);
    add_fetch(inst->fetch, &fetch);
    add_fetch(inst->hfetch, &fetch);
    snap[SRC_FETCH] = (const uint64_t *)&fetch;
    if (inst->auth != NULL) {
        cmauth_get_stats(inst->auth, &auth);
        snap[SRC_AUTH] = (const uint64_t *)&auth;
    }
    if (inst->psrc != NULL) {
        ctx_profsrc_stats(inst->psrc, &prof);
        snap[SRC_PROFSRC] = (const uint64_t *)&prof;
    }
    for (int i = 0; i < MMX_CTR_COUNT; i++)
        if (copied[i].src != SRC_NONE && snap[copied[i].src] != NULL)
            mmx_set(inst, (enum mmx_ctr)i, snap[copied[i].src][copied[i].at]);
}

/* the first VM with an error in s, for the log line */
static const hs_vm_t *first_failed(const hs_snapshot_t *s) {
    for (size_t i = 0; i < s->n_vms; i++)
        if (s->vms[i].err != HS_VM_OK) return &s->vms[i];
    return NULL;
}

/* counters of the latest snapshot; a pass with new VM errors is logged (at most one line per
 * copy, so at most one per 250 ms while messages flow, and only when the count rises) */
static void copy_host(mmx_inst *inst) {
    if (inst->hs == NULL) return;
    const hs_snapshot_t *s = hostsample_acquire(inst->hs);
    if (s == NULL) return;
    uint64_t before = __atomic_exchange_n(&inst->ctr[MMX_CTR_HOST_VM_ERRORS], s->vm_errors, __ATOMIC_RELAXED);
    mmx_set(inst, MMX_CTR_HOST_ERRORS, s->host_errors);
    mmx_set(inst, MMX_CTR_HOST_PASSES, s->seq);
    mmx_set(inst, MMX_CTR_HOST_NAME_CONFLICTS,
            s->name_conflicts + __atomic_load_n(&inst->host_tmpl_refused, __ATOMIC_RELAXED));
    const hs_vm_t *v = s->vm_errors > before ? first_failed(s) : NULL;
    if (v != NULL && (before == 0 || s->seq % 12 == 0))
        LogMsg(0, NO_ERRCODE, LOG_WARNING,
               "mmctxenrich(%s): host sampling: VM '%s': %s (%llu failed VM samples so far)",
               inst->name, v->name[0] ? v->name : v->uuid, hs_vm_strerror(v->err), (unsigned long long)s->vm_errors);
    hs_snapshot_release(s);
}

void mmx_stats_copy(mmx_inst *inst) {
    copy_units(inst);
    copy_host(inst);
    ctx_slot_ref_t *pol = ctx_slot_acquire(inst->policy);
    mmx_set(inst, MMX_CTR_POLICY_REGEX_ERR, ctx_policy_regex_errors(ctx_slot_obj(pol)));
    ctx_slot_release(pol);
    publish(inst);
}

void mmx_stats_maybe_copy(mmx_inst *inst, int64_t now_ms) {
    int64_t next = __atomic_load_n(&inst->next_copy_ms, __ATOMIC_RELAXED);
    if (now_ms < next) return;
    if (__atomic_compare_exchange_n(&inst->next_copy_ms, &next, now_ms + COPY_EVERY_MS, 0, __ATOMIC_RELAXED,
                                    __ATOMIC_RELAXED))
        mmx_stats_copy(inst);
}

static void read_notifier(statsobj_t __attribute__((unused)) * o, void *arg) { mmx_stats_copy(arg); }

int mmx_stats_setup(mmx_inst *inst) {
    char name[300];
    statsobj_t *st = NULL;
    DEFiRet;
    if (S == NULL || inst->stats != NULL) FINALIZE;
    snprintf(name, sizeof name, "mmctxenrich(%s)", inst->name);
    CHKiRet(S->Construct(&st));
    CHKiRet(S->SetName(st, (uchar *)name));
    CHKiRet(S->SetOrigin(st, (uchar *)"mmctxenrich"));
    CHKiRet(S->SetReadNotifier(st, read_notifier, inst));
    mmx_stats_copy(inst);
    for (int i = 0; i < MMX_CTR_COUNT; i++) CHKiRet(STATSCTR_ADD(S, st, mmx_counter_names[i], is_gauge(i), &inst->cell[i]));
    for (int i = 0; i < MMX_ALIAS_COUNT; i++) CHKiRet(STATSCTR_ADD(S, st, aliases[i].old_name, 0, &inst->alias_cell[i]));
    CHKiRet(S->ConstructFinalize(st));
    inst->stats = st;
    st = NULL;
    ctx_slot_ref_t *pol = ctx_slot_acquire(inst->policy);
    mmx_stats_policy(inst, ctx_slot_obj(pol));
    ctx_slot_release(pol);
finalize_it:
    if (st != NULL) S->Destruct(&st);
    RETiRet;
}

static void drop_rule_ctrs(mmx_inst *inst) {
    for (size_t i = 0; i < inst->n_rule_ctrs; i++) S->DestructCounter(inst->stats, inst->rule_ctrs[i]);
    free(inst->rule_ctrs);
    inst->rule_ctrs = NULL;
    inst->n_rule_ctrs = 0;
    ctx_policy_free(inst->ctr_policy);
    inst->ctr_policy = NULL;
}

void mmx_stats_policy(mmx_inst *inst, ctx_policy *p) {
    char name[100];
    if (inst->stats == NULL || p == NULL) return;
    size_t n = ctx_policy_nrules(p);
    void **ctrs = calloc(n ? n : 1, sizeof *ctrs);
    if (ctrs == NULL) return;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        ctr_t *c = NULL;
        snprintf(name, sizeof name, "rule.%s", ctx_policy_rule_name(p, i));
        if (S->AddManagedCounter(inst->stats, (uchar *)name, ctrType_IntCtr, CTR_FLAG_RESETTABLE,
                                 ctx_policy_rule_hits_ctr(p, i), &c, 1) == RS_RET_OK)
            ctrs[k++] = c;
    }
    drop_rule_ctrs(inst); /* the old rulebase's counters, after the new ones exist */
    inst->rule_ctrs = ctrs;
    inst->n_rule_ctrs = k;
    inst->ctr_policy = ctx_policy_hold(p);
}

void mmx_stats_destroy(mmx_inst *inst) {
    if (inst->stats == NULL) return;
    drop_rule_ctrs(inst);
    statsobj_t *st = inst->stats;
    S->Destruct(&st);
    inst->stats = NULL;
}
