/* mmctxenrich_msg.c: what mmctxenrich does to one message.
 *
 *  1. read $!ctx!vm {name, uuid, tenant}, severity, facility, APP-NAME and MSG;
 *  2. evaluate the policy rulebase (ctx_policy_eval: no allocation);
 *  3. drop: set $!ctx!drop = 1 (rsyslog 8.2302 gives an action no way to discard a
 *     message: execAct() in runtime/ruleset.c ignores the action's return code, so
 *     the config follows the action with `if $!ctx!drop == 1 then stop`);
 *  4. otherwise attach the groups' context: $!ctx!cm (standard), $!ctx!host
 *     (verbose; host-wide figures only with the hostwide action), $!ctx!vm!process
 *     (debug), $!ctx!tags (rules' tag actions), and
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
#include <strings.h>
#include <time.h>

#include <json.h>

#include "msg.h"

#include "jsonfreeze.h"
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
static ctx_policy *worker_policy(mmx_wrkr *w) { return ctx_slot_read(w->inst->policy, &w->pol); }

/* the bulk listing is re-requested static TTL / 2 after the last one that succeeded (the
 * fetcher sets next_bulk_ms then); until one succeeds, a request is tried each second
 * (coalesced with one pending, held back by the cache's backoff after a failure) */
static void maybe_request_bulk(mmx_inst *inst, int64_t now) {
    int64_t next = __atomic_load_n(&inst->next_bulk_ms, __ATOMIC_RELAXED);
    if (inst->cache == NULL || inst->bulk_url == NULL || now < next) return;
    if (!__atomic_compare_exchange_n(&inst->next_bulk_ms, &next, now + 1000, 0, __ATOMIC_RELAXED, __ATOMIC_RELAXED))
        return;
    cmcache_request_bulk(inst->cache, now);
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

/* sets (or, with v NULL, removes) member k (a literal) of o */
static void put(struct fjson_object *o, const char *k, struct fjson_object *v) {
    if (member(o, k) != NULL) fjson_object_object_del(o, k);
    if (v != NULL) fjson_object_object_add_ex(o, k, v, FJSON_OBJECT_KEY_IS_CONSTANT | FJSON_OBJECT_ADD_KEY_IS_NEW);
}

/* $!ctx of the message, created when missing (caller holds pMsg->mut) */
static struct fjson_object *ctx_node(smsg_t *pMsg) {
    if (pMsg->json == NULL && (pMsg->json = fjson_object_new_object()) == NULL) return NULL;
    struct fjson_object *ctx = member(pMsg->json, "ctx");
    if (ctx == NULL) {
        if ((ctx = fjson_object_new_object()) == NULL) return NULL;
        put(pMsg->json, "ctx", ctx);
    }
    return ctx;
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
    put(p, "app", fjson_object_new_string(getAPPNAME(pMsg, MUTEX_ALREADY_LOCKED)));
    put(p, "pid", fjson_object_new_string(getPROCID(pMsg, MUTEX_ALREADY_LOCKED)));
    return p;
}

/* The members of $!ctx this module reads or replaces, found in one pass over $!ctx. */
struct ctx_view {
    struct fjson_object *vm;
    unsigned has; /* HAS_* bits: members present before this module ran */
};
#define HAS_CM 1u
#define HAS_HOST 2u
#define HAS_TAGS 4u
#define HAS_DROP 8u
#define HAS_CAPTURE 16u

static void scan_ctx(struct fjson_object *ctx, struct ctx_view *cv) {
    static const struct { const char *k; unsigned bit; } T[] = {
        {"cm", HAS_CM}, {"host", HAS_HOST}, {"tags", HAS_TAGS}, {"drop", HAS_DROP}, {"capture", HAS_CAPTURE}};
    struct fjson_object_iterator it = fjson_object_iter_begin(ctx), end = fjson_object_iter_end(ctx);
    cv->vm = NULL;
    cv->has = 0;
    for (; !fjson_object_iter_equal(&it, &end); fjson_object_iter_next(&it)) {
        const char *k = fjson_object_iter_peek_name(&it);
        if (strcasecmp(k, "vm") == 0) {
            struct fjson_object *v = fjson_object_iter_peek_value(&it);
            if (v != NULL && fjson_object_is_type(v, fjson_type_object)) cv->vm = v;
            continue;
        }
        for (size_t i = 0; i < sizeof T / sizeof T[0]; i++)
            if (strcasecmp(k, T[i].k) == 0) cv->has |= T[i].bit;
    }
}

/* sets member k (a literal) of ctx to v, or removes it (v NULL); `had`: it existed */
static void set_member(struct fjson_object *ctx, const char *k, struct fjson_object *v, int had) {
    if (had) fjson_object_object_del(ctx, k);
    if (v != NULL) fjson_object_object_add_ex(ctx, k, v, FJSON_OBJECT_KEY_IS_CONSTANT | FJSON_OBJECT_ADD_KEY_IS_NEW);
}

static const char *const standard_keys[] = {"ip", "mac", "vnic", "match"};

static int is_standard_key(const char *k) {
    for (size_t i = 0; i < sizeof standard_keys / sizeof standard_keys[0]; i++)
        if (strcmp(k, standard_keys[i]) == 0) return 1;
    return 0;
}

/* a new object with references to vm's members, without the standard keys when prune */
static struct fjson_object *vm_copy(struct fjson_object *vm, int prune) {
    struct fjson_object *c = fjson_object_new_object();
    if (c == NULL) return NULL;
    struct fjson_object_iterator it = fjson_object_iter_begin(vm), end = fjson_object_iter_end(vm);
    for (; !fjson_object_iter_equal(&it, &end); fjson_object_iter_next(&it)) {
        const char *k = fjson_object_iter_peek_name(&it);
        if (prune && is_standard_key(k)) continue;
        fjson_object_object_add(c, k, fjson_object_get(fjson_object_iter_peek_value(&it)));
    }
    return c;
}

/* imctxcap's $!ctx!vm is shared by many messages (frozen): never edited, replaced in this
 * message's $!ctx by a copy. Below standard, the pruned copy is itself shared (one per
 * source object and worker); with debug, a per-message copy carries process. */
static void replace_shared_vm(mmx_wrkr *w, smsg_t *pMsg, struct fjson_object *ctx, struct fjson_object *vm,
                              unsigned groups) {
    int prune = !(groups & CTX_POLICY_G_STANDARD), debug = (groups & CTX_POLICY_G_DEBUG) != 0;
    struct fjson_object *nv = NULL;
    if (debug) {
        if ((nv = vm_copy(vm, prune)) != NULL) put(nv, "process", process_object(pMsg));
    } else if (prune) {
        uintptr_t k[MMX_SHARE_KEY] = {(uintptr_t)vm, 'v'};
        if ((nv = mmx_share_get(w->vm_share, k)) == NULL)
            nv = mmx_share_put_src(&w->vm_share, k, vm_copy(vm, 1), vm);
    } else {
        return; /* standard or verbose: the shared object as it is */
    }
    if (nv != NULL) set_member(ctx, "vm", nv, 1);
}

/* removes what the groups do not include; adds process (debug) */
static void prune_vm(mmx_wrkr *w, smsg_t *pMsg, struct fjson_object *ctx, const struct ctx_view *cv,
                     unsigned groups) {
    struct fjson_object *vm = cv->vm;
    if (!(groups & CTX_POLICY_G_DEBUG) && (cv->has & HAS_CAPTURE)) fjson_object_object_del(ctx, "capture");
    if (vm != NULL && ctx_json_is_frozen(vm)) {
        replace_shared_vm(w, pMsg, ctx, vm, groups);
        return;
    }
    if (vm != NULL && !(groups & CTX_POLICY_G_STANDARD))
        for (size_t i = 0; i < sizeof standard_keys / sizeof standard_keys[0]; i++) put(vm, standard_keys[i], NULL);
    if (groups & CTX_POLICY_G_DEBUG) {
        if (vm == NULL && (vm = fjson_object_new_object()) != NULL) put(ctx, "vm", vm);
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

/* a bounded copy of a string member of vm ("" if none) */
static void copy_str(char *dst, size_t len, struct fjson_object *vm, const char *k) {
    const char *s = vm_str(vm, k);
    size_t n = strnlen(s, len - 1);
    memcpy(dst, s, n);
    dst[n] = '\0';
}

static void read_vm(struct fjson_object *vm, struct msg_view *v) {
    v->has_vm = vm != NULL;
    copy_str(v->name, sizeof v->name, vm, "name");
    copy_str(v->uuid, sizeof v->uuid, vm, "uuid");
    v->tenant = vm_str(vm, "tenant");
}

static void enrich(mmx_wrkr *w, smsg_t *pMsg, struct fjson_object *ctx, const struct ctx_view *cv,
                   const struct msg_view *v, const ctx_policy_result *r, int64_t now) {
    unsigned g = r->groups;
    set_member(ctx, "cm", (g & CTX_POLICY_G_STANDARD) ? mmx_cm_object(w, g, v->uuid, v->name, now) : NULL,
               cv->has & HAS_CM);
    int hostwide = (g & CTX_POLICY_G_HOSTWIDE) != 0;
    set_member(ctx, "host",
               (g & CTX_POLICY_G_VERBOSE) ? mmx_host_object(w, v->uuid, v->tenant, v->name, hostwide) : NULL,
               cv->has & HAS_HOST);
    set_member(ctx, "tags", tags_object(r), cv->has & HAS_TAGS);
    if (cv->has & HAS_DROP) fjson_object_object_del(ctx, "drop");
    prune_vm(w, pMsg, ctx, cv, g);
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
    struct ctx_view cv;
    struct fjson_object *ctx = ctx_node(pMsg);
    if (ctx == NULL) goto out;
    scan_ctx(ctx, &cv);
    read_vm(cv.vm, &v);
    if (!v.has_vm || (v.uuid[0] == '\0' && v.name[0] == '\0')) mmx_inc(inst, MMX_CTR_NOVM);
    ctx_policy_msg m = {pMsg->iSeverity, pMsg->iFacility, v.tenant, v.name, v.uuid,
                        getAPPNAME(pMsg, MUTEX_ALREADY_LOCKED), (const char *)getMSG(pMsg), (size_t)getMSGLen(pMsg)};
    ctx_policy_eval(pol, &m, w->scratch, &r);
    if (r.defaulted) mmx_inc(inst, MMX_CTR_DEFAULTED);
    if (r.drop) {
        set_member(ctx, "drop", fjson_object_new_int(1), cv.has & HAS_DROP);
        mmx_inc(inst, MMX_CTR_DROPPED);
    } else {
        enrich(w, pMsg, ctx, &cv, &v, &r, now);
    }
out:
    pthread_mutex_unlock(&pMsg->mut);
    return RS_RET_OK;
}
