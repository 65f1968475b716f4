/* mmctxenrich_cm.c: the compute-manager side of mmctxenrich.
 *
 * Fetcher callbacks (on the fetcher threads): map a reply with the field mapping and
 * store it in the cache: per-VM static ("vm" section, cm.url), per-VM dynamic
 * ("stats", cm.statsUrl), the bulk listing ("bulk", cm.bulkUrl: one static part per
 * listed VM) and the host part ("host", cm.hostUrl: a second cache with one entry
 * keyed by cm.hostName, fetched by a second fetcher as its "dynamic" part).
 *
 * Per message (worker threads): look the parts up (never waiting for the network;
 * a miss queues one coalesced fetch) and build $!ctx!cm from copies of the cached
 * values, plus status and fetched_at. The host part is host-wide: it goes into
 * $!ctx!cm!host, and only for a message whose policy said hostwide.
 *
 * Concurrency: the mapping is immutable; the caches are thread-safe; cached objects
 * are read with typed getters only (never serialized: see cmcache.h). The problem-log
 * limiter is guarded by inst->log_lock.
 */
#include "config.h"
#include "rsyslog.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json.h>

#include "errmsg.h"

#include "mmctxenrich.h"

#define PROBLEM_LOG_MS 10000

/* ---- fetcher side ----------------------------------------------------------------- */

/* counts mapping problems and logs the first of a reply, at most one line per 10 s */
static void note_problems(mmx_inst *inst, ctx_fm_section s, const ctx_fm_problems *pr, const char *vm,
                          int64_t now) {
    char line[512];
    unsigned suppressed;
    if (pr == NULL || pr->n == 0) return;
    mmx_add(inst, MMX_CTR_CM_MAP_PROBLEMS, pr->n);
    pthread_mutex_lock(&inst->log_lock);
    int log = now >= inst->log_next_ms;
    if (log) {
        inst->log_next_ms = now + PROBLEM_LOG_MS;
        suppressed = inst->log_suppressed;
        inst->log_suppressed = 0;
    } else {
        inst->log_suppressed++;
    }
    pthread_mutex_unlock(&inst->log_lock);
    if (!log) return;
    ctx_fieldmap_problem_str(inst->map, s, &pr->p[0], line, sizeof line);
    LogMsg(0, NO_ERRCODE, LOG_WARNING, "mmctxenrich(%s): compute-manager reply for '%s': %zu field(s) not mapped, "
           "first: %s (%u similar suppressed)", inst->name, vm, pr->n, line, suppressed);
}

static const char *vm_label(const cm_request_t *req) { return req->uuid[0] ? req->uuid : req->name; }

/* maps one reply section and stores it; -1 (request failed) when nothing could be mapped */
static int map_and_store(mmx_inst *inst, cmcache_t *cache, ctx_fm_section s, const cm_request_t *req,
                         const char *uuid, const char *name, cm_part_t part, struct fjson_object *reply,
                         int64_t now) {
    ctx_fm_problems pr;
    struct fjson_object *fields = NULL;
    int n = ctx_fieldmap_apply(inst->map, s, reply, &fields, &pr);
    if (n < 0) return -1;
    note_problems(inst, s, &pr, vm_label(req), now);
    if (n == 0) {
        fjson_object_put(fields);
        return -1;
    }
    return cmcache_store(cache, uuid, name, part, cmctx_new(fields), 0, now) == 0 ? 0 : -1;
}

struct bulk_ctx {
    mmx_inst *inst;
    ctx_profiles_t *prof; /* held for the reply */
    int by_name;
    int64_t now;
    uint64_t *keys;       /* by_name: hashes of every key of the listing (first pass), then sorted */
    size_t nkeys, cap;
    int oom;
};

/* first pass of a listing keyed by name: remember every key */
static int bulk_key(void *ud, const char *key, struct fjson_object *fields, const ctx_fm_problems *pr) {
    struct bulk_ctx *b = ud;
    (void)pr;
    fjson_object_put(fields);
    if (b->nkeys == b->cap) {
        size_t cap = b->cap ? 2 * b->cap : 256;
        uint64_t *k = realloc(b->keys, cap * sizeof *k);
        if (k == NULL) return b->oom = 1;
        b->keys = k;
        b->cap = cap;
    }
    b->keys[b->nkeys++] = mmx_name_hash(key);
    return 0;
}

/* 1 if the listing has name more than once (or two names share a hash: refused alike) */
static int listed_twice(const struct bulk_ctx *b, const char *name) {
    uint64_t h = mmx_name_hash(name);
    const uint64_t *k = bsearch(&h, b->keys, b->nkeys, sizeof h, mmx_cmp_u64);
    if (k == NULL) return 0;
    return (k > b->keys && k[-1] == h) || (k + 1 < b->keys + b->nkeys && k[1] == h);
}

/* A bulk listing keyed by name. A name is a key only within one tenant, and the listing
 * does not say whose VM an item is: so an item is stored only for the one profile with that
 * name, under its uuid (and name), when no other profile of any tenant has that name and the
 * listing has it once; otherwise it is refused and counted (cm.bulk.name.conflicts). An item
 * no profile names is not stored (a name without a profile has no tenant). */
static int bulk_store_by_name(struct bulk_ctx *b, const char *name, cmctx_t *c) {
    const ctx_profile_t *one = NULL;
    size_t n = 0;
    for (size_t i = 0; i < ctx_profiles_count(b->prof); i++) {
        const ctx_profile_t *p = ctx_profiles_at(b->prof, i);
        if (strcmp(p->name, name) == 0 && n++ == 0) one = p;
    }
    if (n > 1 || (n == 1 && listed_twice(b, name)))
        mmx_inc(b->inst, MMX_CTR_CM_BULK_NAME_CONFLICTS);
    else if (n == 1)
        cmcache_store(b->inst->cache, one->uuid, one->name, CM_PART_STATIC, cmctx_ref(c), 0, b->now);
    cmctx_unref(c);
    return 0;
}

static int bulk_one(void *ud, const char *key, struct fjson_object *fields, const ctx_fm_problems *pr) {
    struct bulk_ctx *b = ud;
    note_problems(b->inst, CTX_FM_BULK, pr, key, b->now);
    if (fjson_object_object_length(fields) == 0) {
        fjson_object_put(fields);
        return 0;
    }
    cmctx_t *c = cmctx_new(fields);
    if (c == NULL) return 0;
    if (b->by_name) return bulk_store_by_name(b, key, c);
    cmcache_store(b->inst->cache, key, NULL, CM_PART_STATIC, c, 0, b->now);
    return 0;
}

static int on_bulk(mmx_inst *inst, struct fjson_object *reply, int64_t now) {
    size_t skipped = 0;
    struct bulk_ctx b = {inst, ctx_profiles_current(inst->profiles),
                         ctx_fieldmap_bulk_key_kind(inst->map) == CTX_FM_KEY_NAME, now, NULL, 0, 0, 0};
    int n = 0;
    if (b.by_name) { /* every key first: a name listed twice is refused */
        n = ctx_fieldmap_apply_bulk(inst->map, reply, bulk_key, &b, NULL);
        if (b.oom) n = CTX_ENOMEM;
        qsort(b.keys, b.nkeys, sizeof *b.keys, mmx_cmp_u64);
    }
    if (n >= 0) n = ctx_fieldmap_apply_bulk(inst->map, reply, bulk_one, &b, &skipped);
    ctx_profiles_unref(b.prof);
    free(b.keys);
    if (n == CTX_ENOMEM) return -1;
    if (n < 0) {
        LogMsg(0, NO_ERRCODE, LOG_WARNING, "mmctxenrich(%s): bulk listing: the field mapping's \"items\" %s",
               inst->name, n == CTX_ENOENT ? "was not found in the reply" : "is neither an array nor an object");
        return -1;
    }
    dbgprintf("mmctxenrich(%s): bulk listing: %d VMs, %zu skipped\n", inst->name, n, skipped);
    __atomic_store_n(&inst->next_bulk_ms, now + inst->bulk_period_ms, __ATOMIC_RELAXED);
    return 0;
}

int mmx_cm_on_reply(void *arg, const cm_request_t *req, struct fjson_object *reply, int64_t now_ms) {
    mmx_inst *inst = arg;
    if (req->kind == CM_REQ_BULK) return on_bulk(inst, reply, now_ms);
    ctx_fm_section s = req->kind == CM_REQ_STATIC ? CTX_FM_VM : CTX_FM_STATS;
    return map_and_store(inst, inst->cache, s, req, req->uuid, req->name, (cm_part_t)req->kind, reply, now_ms);
}

/* the host fetcher: "static" = this host's ids (section hostid), "dynamic" = the host part */
int mmx_cm_on_host_reply(void *arg, const cm_request_t *req, struct fjson_object *reply, int64_t now_ms) {
    mmx_inst *inst = arg;
    if (req->kind == CM_REQ_STATIC)
        return map_and_store(inst, inst->hcache, CTX_FM_HOSTID, req, NULL, inst->host_name, CM_PART_STATIC, reply,
                             now_ms);
    return map_and_store(inst, inst->hcache, CTX_FM_HOST, req, NULL, inst->host_name, CM_PART_DYNAMIC, reply,
                         now_ms);
}

/* field (first flen bytes of f) of a cached part as text */
static int field_text(cmctx_t *c, const char *f, size_t flen, char *out, size_t outlen) {
    char key[128];
    struct fjson_object *v = NULL;
    if (c == NULL || flen >= sizeof key) return CTX_ENOENT;
    memcpy(key, f, flen);
    key[flen] = '\0';
    if (!fjson_object_object_get_ex(cmctx_peek(c), key, &v) || v == NULL) return CTX_ENOENT;
    int n;
    if (fjson_object_is_type(v, fjson_type_string))
        n = snprintf(out, outlen, "%s", fjson_object_get_string(v));
    else if (fjson_object_is_type(v, fjson_type_int))
        n = snprintf(out, outlen, "%lld", (long long)fjson_object_get_int64(v));
    else
        return CTX_ENOENT;
    return n < 0 ? CTX_ENOENT : (size_t)n >= outlen ? CTX_EFULL : n;
}

int mmx_cm_resolve(void *arg, const cm_request_t *req, const char *name, size_t n, char *out, size_t outlen,
                   int64_t now_ms) {
    mmx_inst *inst = arg;
    const char *dot = memchr(name, '.', n);
    if (dot == NULL) return CTX_ENOENT;
    int s = ctx_fieldmap_section_by_name(name, (size_t)(dot - name));
    cmctx_t *c = NULL;
    if (s == CTX_FM_HOSTID && inst->hcache != NULL) {
        c = cmcache_peek(inst->hcache, NULL, inst->host_name, CM_PART_STATIC);
        if (c == NULL) { /* not fetched yet: ask for it (coalesced, with the cache's backoff) */
            cmcache_result_t r;
            cmcache_lookup(inst->hcache, NULL, inst->host_name, CM_MASK_STATIC, now_ms, &r);
            cmcache_result_release(&r);
        }
    } else if ((s == CTX_FM_BULK || s == CTX_FM_VM) && req->kind != CM_REQ_BULK && inst->cache != NULL) {
        c = cmcache_peek(inst->cache, req->uuid, req->name, CM_PART_STATIC);
    }
    int rc = field_text(c, dot + 1, n - (size_t)(dot - name) - 1, out, outlen);
    cmctx_unref(c);
    return rc;
}

void mmx_cm_on_log(void *arg, const char *line) {
    mmx_inst *inst = arg;
    LogMsg(0, NO_ERRCODE, LOG_WARNING, "mmctxenrich(%s): %s", inst->name, line);
}

/* ---- worker side ------------------------------------------------------------------ */

/* the oldest fetch time of the parts added, copied: a later part's mmx_flat_get may evict
 * (free) an earlier part's flattened copy from the worker's memo */
struct oldest_part {
    int have;
    int64_t at;
    char text[32];
};

/* Adds a cached part's fields (all, or only the standard group's) to obj, from the
 * worker's flattened copy (mmctxenrich_flat.c). *first: no field is in obj yet. */
static void add_part(mmx_wrkr *w, struct fjson_object *obj, cmctx_t *c, int64_t fetched_at, int all, int *first,
                     struct oldest_part *oldest) {
    const struct mmx_flat *fl = mmx_flat_get(w, c, fetched_at);
    if (fl == NULL) return;
    if (mmx_flat_add(obj, fl, all, !*first && w->inst->cm_overlap) > 0) {
        *first = 0;
        if (!oldest->have || mmx_flat_fetched_at(fl) < oldest->at) {
            oldest->have = 1;
            oldest->at = mmx_flat_fetched_at(fl);
            snprintf(oldest->text, sizeof oldest->text, "%s", mmx_flat_fetched_at_text(fl));
        }
    }
}

static cm_status_t worse(cm_status_t a, cm_status_t b) { return a > b ? a : b; }

/* the cached parts a message asks for (references held until cm_parts_release) */
struct cm_parts {
    cmcache_result_t vm, host;
    int has_vm, has_host;
    cm_status_t st;
};

static void cm_parts_lookup(mmx_wrkr *w, unsigned need, const char *uuid, const char *name, int64_t now,
                            struct cm_parts *p) {
    unsigned mask = ((need & MMX_NEED_VM_STATIC) ? CM_MASK_STATIC : 0) |
                    ((need & MMX_NEED_VM_DYNAMIC) ? CM_MASK_DYNAMIC : 0);
    memset(p, 0, sizeof *p);
    p->st = CM_OK;
    if (need & (MMX_NEED_VM_STATIC | MMX_NEED_VM_DYNAMIC)) {
        if (uuid[0] == '\0' && name[0] == '\0') { /* no identity: nothing to ask */
            p->st = CM_UNAVAILABLE;
        } else if (uuid[0] == '\0' && mmx_name_shared(w, name)) { /* the name is no key: two VMs have it */
            p->st = CM_UNAVAILABLE;
            mmx_inc(w->inst, MMX_CTR_CM_NAME_CONFLICTS);
        } else {
            cmcache_lookup(w->inst->cache, uuid[0] ? uuid : NULL, name[0] ? name : NULL, mask, now, &p->vm);
            p->has_vm = 1;
            p->st = worse(p->st, p->vm.status);
        }
    }
    if (need & MMX_NEED_HOST) {
        cmcache_lookup(w->inst->hcache, NULL, w->inst->host_name, CM_MASK_DYNAMIC, now, &p->host);
        p->has_host = 1;
        p->st = worse(p->st, p->host.status);
    }
}

static void cm_parts_release(struct cm_parts *p) {
    if (p->has_vm) cmcache_result_release(&p->vm);
    if (p->has_host) cmcache_result_release(&p->host);
}

static void add_const(struct fjson_object *o, const char *k, struct fjson_object *v) {
    fjson_object_object_add_ex(o, k, v, FJSON_OBJECT_KEY_IS_CONSTANT | FJSON_OBJECT_ADD_KEY_IS_NEW);
}

/* a new $!ctx!cm object from the parts */
static struct fjson_object *cm_build(mmx_wrkr *w, const struct cm_parts *p, int verbose) {
    int first = 1;
    struct oldest_part oldest = {0, 0, ""};
    struct fjson_object *obj = fjson_object_new_object();
    if (obj == NULL) return NULL;
    if (p->has_vm && p->vm.ctx[CM_PART_STATIC])
        add_part(w, obj, p->vm.ctx[CM_PART_STATIC], p->vm.fetched_at_ms[CM_PART_STATIC], 1, &first, &oldest);
    if (p->has_vm && p->vm.ctx[CM_PART_DYNAMIC])
        add_part(w, obj, p->vm.ctx[CM_PART_DYNAMIC], p->vm.fetched_at_ms[CM_PART_DYNAMIC], verbose, &first, &oldest);
    if (p->has_host && p->host.ctx[CM_PART_DYNAMIC]) { /* host-wide: its own object, "host" */
        struct fjson_object *h = fjson_object_new_object();
        int hfirst = 1;
        if (h != NULL)
            add_part(w, h, p->host.ctx[CM_PART_DYNAMIC], p->host.fetched_at_ms[CM_PART_DYNAMIC], 1, &hfirst, &oldest);
        if (h != NULL && !hfirst)
            fjson_object_object_add(obj, "host", h);
        else
            fjson_object_put(h);
    }
    /* the mapping refuses these two names, so they are new keys */
    add_const(obj, "status", fjson_object_new_string(cm_status_str(p->st)));
    if (oldest.have) add_const(obj, "fetched_at", fjson_object_new_string(oldest.text));
    return obj;
}

/* the message's $!ctx!cm: the worker's frozen object for the same parts, status and
 * level (a reference), built and frozen on a miss (mmctxenrich_share.c) */
struct fjson_object *mmx_cm_object(mmx_wrkr *w, unsigned groups, const char *uuid, const char *name, int64_t now) {
    mmx_inst *inst = w->inst;
    int verbose = (groups & CTX_POLICY_G_VERBOSE) != 0;
    unsigned need = verbose ? inst->need_verbose : inst->need_standard;
    if (!(groups & CTX_POLICY_G_HOSTWIDE)) need &= ~MMX_NEED_HOST; /* host-wide: only when asked */
    struct cm_parts p;
    struct fjson_object *obj;
    if (need == 0) return NULL; /* no compute manager, or nothing this group shows */
    cm_parts_lookup(w, need, uuid, name, now, &p);
    mmx_inc(inst, MMX_CTR_ST_OK + (enum mmx_ctr)p.st);
    if (!inst->share_cm) {
        obj = cm_build(w, &p, verbose);
    } else {
        cmctx_t *held[3] = {p.has_vm ? p.vm.ctx[CM_PART_STATIC] : NULL, p.has_vm ? p.vm.ctx[CM_PART_DYNAMIC] : NULL,
                            p.has_host ? p.host.ctx[CM_PART_DYNAMIC] : NULL};
        uintptr_t k[MMX_SHARE_KEY] = {(uintptr_t)held[0], (uintptr_t)held[1], (uintptr_t)held[2],
                                      (uintptr_t)p.st | (uintptr_t)verbose << 8 | (uintptr_t)need << 16};
        if ((obj = mmx_share_get(w->cm_share, k)) == NULL)
            obj = mmx_share_put(&w->cm_share, k, cm_build(w, &p, verbose), held);
    }
    cm_parts_release(&p);
    return obj;
}
