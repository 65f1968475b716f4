/* mmctxenrich_msg.c: what mmctxenrich does to one message.
 *
 *  1. read $!ctx!vm {name, uuid, tenant}, severity, facility, APP-NAME and MSG;
 *  2. evaluate the policy rulebase (ctx_policy_eval: no allocation);
 *  3. drop: set $!ctx!drop = 1 (rsyslog 8.2302 gives an action no way to discard a
 *     message: execAct() in runtime/ruleset.c ignores the action's return code, so
 *     the config follows the action with `if $!ctx!drop == 1 then stop`);
 *  4. otherwise attach the groups' context: $!ctx!cm (standard), $!ctx!host
 *     (verbose), $!ctx!vm!process (debug), $!ctx!tags (rules' tag actions), and
 *     remove $!ctx fields the groups do not include (docs/policy.md): $!ctx!vm ip,
 *     mac, vnic, match below standard, $!ctx!capture below debug.
 *
 * Concurrency: runs on a worker thread with that worker's mmx_wrkr. The message's
 * JSON tree is read and changed under the message's own mutex (pMsg->mut, the lock
 * msgAddJSON takes), held once per message and never across I/O: the cache lookups
 * and snapshot reads done meanwhile take only short in-memory locks.
 */
#include "config.h"
#include "rsyslog.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include <json.h>

#include "msg.h"

#include "mmctxenrich.h"

int mmx_process(mmx_wrkr *w, smsg_t *pMsg);

int mmx_fmt_time_ms(int64_t wall_ms, char *buf, size_t len) {
    struct tm tm;
    time_t t = (time_t)(wall_ms / 1000);
    gmtime_r(&t, &tm);
    return snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                    tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(wall_ms % 1000));
}

/* the worker's policy, re-held only when a HUP swapped it */
static ctx_policy *worker_policy(mmx_wrkr *w) {
    mmx_inst *inst = w->inst;
    uint64_t gen = __atomic_load_n(&inst->pol_gen, __ATOMIC_ACQUIRE);
    if (w->pol == NULL || gen != w->pol_gen) {
        pthread_mutex_lock(&inst->pol_lock);
        ctx_policy *p = ctx_policy_hold(inst->policy);
        w->pol_gen = inst->pol_gen;
        pthread_mutex_unlock(&inst->pol_lock);
        ctx_policy_free(w->pol);
        w->pol = p;
    }
    return w->pol;
}

/* the bulk listing is re-requested every static TTL / 2 (and each second while in backoff) */
static void maybe_request_bulk(mmx_inst *inst, int64_t now) {
    int64_t next = __atomic_load_n(&inst->next_bulk_ms, __ATOMIC_RELAXED);
    if (inst->cache == NULL || inst->bulk_url == NULL || now < next) return;
    if (!__atomic_compare_exchange_n(&inst->next_bulk_ms, &next, now + inst->bulk_period_ms, 0, __ATOMIC_RELAXED,
                                     __ATOMIC_RELAXED))
        return;
    if (cmcache_request_bulk(inst->cache, now) == CTX_EAGAIN)
        __atomic_store_n(&inst->next_bulk_ms, now + 1000, __ATOMIC_RELAXED);
}

static struct fjson_object *member(struct fjson_object *o, const char *k) {
    struct fjson_object *v = NULL;
    if (o == NULL || !fjson_object_is_type(o, fjson_type_object)) return NULL;
    return fjson_object_object_get_ex(o, k, &v) ? v : NULL;
}

/* a string member of vm, or "" */
static const char *vm_str(struct fjson_object *vm, const char *k) {
    struct fjson_object *v = member(vm, k);
    return (v != NULL && fjson_object_is_type(v, fjson_type_string)) ? fjson_object_get_string(v) : "";
}

/* $!ctx of the message, created when missing (caller holds pMsg->mut) */
static struct fjson_object *ctx_node(smsg_t *pMsg) {
    if (pMsg->json == NULL && (pMsg->json = fjson_object_new_object()) == NULL) return NULL;
    struct fjson_object *ctx = member(pMsg->json, "ctx");
    if (ctx == NULL) {
        if ((ctx = fjson_object_new_object()) == NULL) return NULL;
        fjson_object_object_add(pMsg->json, "ctx", ctx);
    }
    return ctx;
}

/* sets (or, with v NULL, removes) member k of o */
static void put(struct fjson_object *o, const char *k, struct fjson_object *v) {
    if (v != NULL)
        fjson_object_object_add(o, k, v);
    else if (member(o, k) != NULL)
        fjson_object_object_del(o, k);
}

static struct fjson_object *tags_object(const ctx_policy_result *r) {
    if (r->ntags == 0) return NULL;
    struct fjson_object *t = fjson_object_new_object();
    for (size_t i = 0; t != NULL && i < r->ntags; i++)
        fjson_object_object_add(t, r->tags[i].key, fjson_object_new_string(r->tags[i].value));
    return t;
}

static struct fjson_object *process_object(smsg_t *pMsg) {
    struct fjson_object *p = fjson_object_new_object();
    if (p == NULL) return NULL;
    fjson_object_object_add_ex(p, "app", fjson_object_new_string(getAPPNAME(pMsg, MUTEX_ALREADY_LOCKED)),
                               FJSON_OBJECT_KEY_IS_CONSTANT);
    fjson_object_object_add_ex(p, "pid", fjson_object_new_string(getPROCID(pMsg, MUTEX_ALREADY_LOCKED)),
                               FJSON_OBJECT_KEY_IS_CONSTANT);
    return p;
}

/* removes what the groups do not include; adds process (debug) */
static void prune_vm(smsg_t *pMsg, struct fjson_object *ctx, unsigned groups) {
    static const char *const standard_keys[] = {"ip", "mac", "vnic", "match"};
    struct fjson_object *vm = member(ctx, "vm");
    if (!(groups & CTX_POLICY_G_DEBUG)) put(ctx, "capture", NULL);
    if (vm != NULL && !(groups & CTX_POLICY_G_STANDARD))
        for (size_t i = 0; i < sizeof standard_keys / sizeof standard_keys[0]; i++) put(vm, standard_keys[i], NULL);
    if (groups & CTX_POLICY_G_DEBUG) {
        if (vm == NULL && (vm = fjson_object_new_object()) != NULL) fjson_object_object_add(ctx, "vm", vm);
        if (vm != NULL) put(vm, "process", process_object(pMsg));
    } else if (vm != NULL) {
        put(vm, "process", NULL);
    }
}

struct msg_view {
    char name[256], uuid[64];
    const char *tenant;
    int has_vm;
};

static void read_vm(struct fjson_object *ctx, struct msg_view *v) {
    struct fjson_object *vm = member(ctx, "vm");
    v->has_vm = vm != NULL;
    snprintf(v->name, sizeof v->name, "%s", vm_str(vm, "name"));
    snprintf(v->uuid, sizeof v->uuid, "%s", vm_str(vm, "uuid"));
    v->tenant = vm_str(vm, "tenant");
}

static void enrich(mmx_wrkr *w, smsg_t *pMsg, struct fjson_object *ctx, const struct msg_view *v,
                   const ctx_policy_result *r, int64_t now) {
    unsigned g = r->groups;
    put(ctx, "cm", (g & CTX_POLICY_G_STANDARD) ? mmx_cm_object(w, g, v->uuid, v->name, now) : NULL);
    put(ctx, "host", (g & CTX_POLICY_G_VERBOSE) ? mmx_host_object(w, v->uuid, v->name) : NULL);
    put(ctx, "tags", tags_object(r));
    put(ctx, "drop", NULL);
    prune_vm(pMsg, ctx, g);
}

int mmx_process(mmx_wrkr *w, smsg_t *pMsg) {
    mmx_inst *inst = w->inst;
    struct msg_view v;
    ctx_policy_result r;
    int64_t now = cmcache_clock_ms();
    ctx_policy *pol = worker_policy(w);
    mmx_stats_maybe_copy(inst, now);
    maybe_request_bulk(inst, now);
    mmx_inc(inst, MMX_CTR_PROCESSED);
    pthread_mutex_lock(&pMsg->mut);
    struct fjson_object *ctx = ctx_node(pMsg);
    if (ctx == NULL) goto out;
    read_vm(ctx, &v);
    if (!v.has_vm || (v.uuid[0] == '\0' && v.name[0] == '\0')) mmx_inc(inst, MMX_CTR_NOVM);
    ctx_policy_msg m = {pMsg->iSeverity, pMsg->iFacility, v.tenant, v.name, v.uuid,
                        getAPPNAME(pMsg, MUTEX_ALREADY_LOCKED), (const char *)getMSG(pMsg), (size_t)getMSGLen(pMsg)};
    ctx_policy_eval(pol, &m, w->scratch, &r);
    if (r.defaulted) mmx_inc(inst, MMX_CTR_DEFAULTED);
    if (r.drop) {
        put(ctx, "drop", fjson_object_new_int(1));
        mmx_inc(inst, MMX_CTR_DROPPED);
    } else {
        enrich(w, pMsg, ctx, &v, &r, now);
    }
out:
    pthread_mutex_unlock(&pMsg->mut);
    return RS_RET_OK;
}
