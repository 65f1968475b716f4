/* cmcache.c: compute-manager context cache (see cmcache.h for the rules).
 *
 * Concurrency: conf and the eventfd are read-only after cmcache_new(). One mutex
 * (c->mu) guards the hash table, the LRU list, every entry's part state, the bulk
 * state, the request ring and the PRNG; it is held only for in-memory work. The
 * eventfd write (waking the fetcher) and dropping context references happen after
 * unlocking. Counters are C11 atomics, updated without the lock. cmctx_t objects are
 * immutable after cmctx_new(); their refcount is atomic.
 */
#include "cmcache.h"

#include <errno.h>
#include <json.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "counters.h"
#include "ctxlog_common.h"

/* ---- cmctx_t ---------------------------------------------------------------------- */
struct cmctx {
    atomic_uint refs;
    struct fjson_object *obj; /* read-only after cmctx_new() */
};

cmctx_t *cmctx_new(struct fjson_object *obj) {
    if (obj == NULL) return NULL;
    cmctx_t *c = malloc(sizeof *c);
    if (c == NULL) {
        fjson_object_put(obj);
        return NULL;
    }
    atomic_init(&c->refs, 1);
    c->obj = obj;
    return c;
}

cmctx_t *cmctx_ref(cmctx_t *c) {
    if (c != NULL) atomic_fetch_add_explicit(&c->refs, 1, memory_order_relaxed);
    return c;
}

void cmctx_unref(cmctx_t *c) {
    if (c == NULL) return;
    if (atomic_fetch_sub_explicit(&c->refs, 1, memory_order_acq_rel) != 1) return;
    fjson_object_put(c->obj);
    free(c);
}

struct fjson_object *cmctx_peek(const cmctx_t *c) { return c == NULL ? NULL : c->obj; }

/* Deep copy using typed getters only: they read without touching the object's
 * serialization cache, so concurrent copies of one object are safe. */
static struct fjson_object *json_copy(struct fjson_object *o) {
    if (o == NULL) return NULL;
    switch (fjson_object_get_type(o)) {
    case fjson_type_boolean: return fjson_object_new_boolean(fjson_object_get_boolean(o));
    case fjson_type_double: { /* keep the shortest text that reads back: 12.3, not 12.300000000000001 */
        char t[32];
        double d = fjson_object_get_double(o);
        snprintf(t, sizeof t, "%.15g", d);
        if (strtod(t, NULL) != d) snprintf(t, sizeof t, "%.17g", d);
        return fjson_object_new_double_s(d, t);
    }
    case fjson_type_int: return fjson_object_new_int64(fjson_object_get_int64(o));
    case fjson_type_string:
        return fjson_object_new_string_len(fjson_object_get_string(o), fjson_object_get_string_len(o));
    case fjson_type_array: {
        struct fjson_object *a = fjson_object_new_array();
        int n = fjson_object_array_length(o);
        for (int i = 0; a != NULL && i < n; i++) {
            struct fjson_object *e = fjson_object_array_get_idx(o, i);
            struct fjson_object *ce = json_copy(e);
            if (e != NULL && ce == NULL) { fjson_object_put(a); return NULL; }
            fjson_object_array_add(a, ce);
        }
        return a;
    }
    case fjson_type_object: {
        struct fjson_object *r = fjson_object_new_object();
        struct fjson_object_iterator it = fjson_object_iter_begin(o);
        struct fjson_object_iterator end = fjson_object_iter_end(o);
        for (; r != NULL && !fjson_object_iter_equal(&it, &end); fjson_object_iter_next(&it)) {
            struct fjson_object *v = fjson_object_iter_peek_value(&it);
            struct fjson_object *cv = json_copy(v);
            if (v != NULL && cv == NULL) { fjson_object_put(r); return NULL; }
            fjson_object_object_add(r, fjson_object_iter_peek_name(&it), cv);
        }
        return r;
    }
    default: return NULL;
    }
}

struct fjson_object *cmctx_to_json(const cmctx_t *c) { return c == NULL ? NULL : json_copy(c->obj); }

const char *cm_status_str(cm_status_t s) {
    switch (s) {
    case CM_OK: return "ok";
    case CM_STALE: return "stale";
    case CM_PENDING: return "pending";
    case CM_UNAVAILABLE: return "unavailable";
    }
    return "?";
}

/* ---- the cache -------------------------------------------------------------------- */

/* One part of an entry. Invariants: pending => a request for it is queued or in flight
 * (or was, less than pending_timeout_ms ago); unknown => ctx == NULL. */
struct part {
    cmctx_t *ctx;          /* data or NULL */
    int64_t fetched_at;    /* when ctx was stored */
    int64_t ttl;           /* TTL of ctx */
    int64_t retry_at;      /* no fetch before this (backoff or 404) */
    int64_t pending_since; /* when the pending request was queued */
    unsigned fails;        /* consecutive failures */
    bool pending;          /* a request is queued or in flight */
    bool unknown;          /* the compute manager said 404 */
};

/* An entry: in one hash chain and in the LRU list (head = most recently seen). */
struct entry {
    struct entry *hnext;            /* hash chain */
    struct entry *prev, *next;      /* LRU neighbours */
    uint32_t hash;                  /* of key */
    int64_t last_seen;              /* last lookup (or insertion) */
    char uuid[CM_UUID_MAX];
    char name[CM_NAME_MAX];
    const char *key;                /* uuid if non-empty, else name */
    struct part part[CM_NPARTS];
};

struct cmcache {
    cmcache_conf_t conf;            /* read-only */
    int efd;                        /* eventfd, read-only */
    pthread_mutex_t mu;
    struct entry **buckets;         /* guarded by mu */
    size_t nbuckets;                /* power of two, read-only */
    size_t count;                   /* guarded */
    struct entry *lru_head, *lru_tail; /* guarded */
    cm_request_t *ring;             /* guarded: queue_max slots */
    size_t ring_head, ring_len;     /* guarded */
    struct part bulk;               /* guarded: bulk request state (ctx unused) */
    int64_t hold_static_until;      /* guarded: cmcache_hold_static() */
    uint64_t rng;                   /* guarded: xorshift64 state */
    cmcache_stats_t st; /* counters.h (entries and queued: read under mu) */
};

#define INC(c, f) CTX_CTR_INC((c)->st, f)

int64_t cmcache_clock_ms(void) {
    return (int64_t)ctx_clock_ms();
}

void cmcache_conf_defaults(cmcache_conf_t *conf) {
    memset(conf, 0, sizeof *conf);
    conf->max_entries = 4096;
    conf->queue_max = 1024;
    conf->static_ttl_ms = 3600000;
    conf->dynamic_ttl_ms = 300000;
    conf->unknown_ttl_ms = 600000;
    conf->backoff_min_ms = 1000;
    conf->backoff_max_ms = 300000;
    conf->jitter_pct = 50;
    conf->idle_expire_ms = 3600000;
    conf->max_stale_ms = 86400000;
    conf->pending_timeout_ms = 120000;
}

#define CHECK_MIN(val, min, key)                                                         \
    do {                                                                                 \
        long long v_ = (long long)(val), m_ = (long long)(min);                          \
        if (v_ < m_) {                                                                   \
            snprintf(err, errlen, "%s: must be >= %lld (got %lld)", key, m_, v_);        \
            return CTX_EINVAL;                                                           \
        }                                                                                \
    } while (0)

int cmcache_conf_check(const cmcache_conf_t *conf, char *err, size_t errlen) {
    if (conf->max_entries > (size_t)1 << 24) {
        snprintf(err, errlen, "cache.maxEntries: must be <= 16777216 (got %zu)", conf->max_entries);
        return CTX_EINVAL;
    }
    CHECK_MIN(conf->max_entries, 1, "cache.maxEntries");
    CHECK_MIN(conf->queue_max, 1, "cache.queueMax");
    CHECK_MIN(conf->static_ttl_ms, 1000, "cache.staticTTL");
    CHECK_MIN(conf->dynamic_ttl_ms, 1000, "cache.dynamicTTL");
    CHECK_MIN(conf->unknown_ttl_ms, 1000, "cache.unknownTTL");
    CHECK_MIN(conf->backoff_min_ms, 10, "cache.backoffMin");
    CHECK_MIN(conf->backoff_max_ms, conf->backoff_min_ms, "cache.backoffMax");
    CHECK_MIN(conf->jitter_pct, 0, "cache.jitter");
    if (conf->jitter_pct > 100) {
        snprintf(err, errlen, "cache.jitter: must be <= 100 (got %d)", conf->jitter_pct);
        return CTX_EINVAL;
    }
    CHECK_MIN(conf->idle_expire_ms, 1000, "cache.idleExpire");
    CHECK_MIN(conf->max_stale_ms, 0, "cache.maxStale");
    CHECK_MIN(conf->pending_timeout_ms, 1000, "cache.pendingTimeout");
    return CTX_OK;
}

int cmcache_new(cmcache_t **out, const cmcache_conf_t *conf, char *err, size_t errlen) {
    *out = NULL;
    int rc = cmcache_conf_check(conf, err, errlen);
    if (rc < 0) return rc;
    cmcache_t *c = calloc(1, sizeof *c);
    if (c == NULL) goto nomem;
    c->conf = *conf;
    c->efd = -1;
    for (c->nbuckets = 16; c->nbuckets < conf->max_entries; c->nbuckets <<= 1) {}
    c->buckets = calloc(c->nbuckets, sizeof *c->buckets);
    c->ring = calloc(conf->queue_max, sizeof *c->ring);
    if (c->buckets == NULL || c->ring == NULL) goto nomem;
    c->rng = conf->seed != 0 ? conf->seed : (uint64_t)cmcache_clock_ms() * 0x9E3779B97F4A7C15ULL + 1;
    c->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (c->efd < 0) {
        snprintf(err, errlen, "cache: eventfd() failed: %s", strerror(errno));
        cmcache_free(c);
        return CTX_EIO;
    }
    pthread_mutex_init(&c->mu, NULL);
    *out = c;
    return CTX_OK;
nomem:
    snprintf(err, errlen, "cache: out of memory (cache.maxEntries=%zu, cache.queueMax=%zu)", conf->max_entries,
             conf->queue_max);
    cmcache_free(c);
    return CTX_ENOMEM;
}

static void entry_free(struct entry *e) {
    for (int p = 0; p < CM_NPARTS; p++) cmctx_unref(e->part[p].ctx);
    free(e);
}

void cmcache_free(cmcache_t *c) {
    if (c == NULL) return;
    for (struct entry *e = c->lru_head, *n; e != NULL; e = n) {
        n = e->next;
        entry_free(e);
    }
    if (c->efd >= 0) {
        pthread_mutex_destroy(&c->mu);
        close(c->efd);
    }
    free(c->buckets);
    free(c->ring);
    free(c);
}

/* ---- table and LRU (all under c->mu) ------------------------------------------------ */

static uint32_t hash_str(const char *s) {
    uint32_t h = 2166136261u;
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

static struct entry *find(cmcache_t *c, const char *key, uint32_t h) {
    for (struct entry *e = c->buckets[h & (c->nbuckets - 1)]; e != NULL; e = e->hnext)
        if (e->hash == h && strcmp(e->key, key) == 0) return e;
    return NULL;
}

static void lru_unlink(cmcache_t *c, struct entry *e) {
    if (e->prev) e->prev->next = e->next; else c->lru_head = e->next;
    if (e->next) e->next->prev = e->prev; else c->lru_tail = e->prev;
    e->prev = e->next = NULL;
}

static void lru_push_head(cmcache_t *c, struct entry *e) {
    e->prev = NULL;
    e->next = c->lru_head;
    if (c->lru_head) c->lru_head->prev = e; else c->lru_tail = e;
    c->lru_head = e;
}

/* Unlinks e from table and LRU; its references go to the caller's release list
 * (dropped after unlocking) by handing back the entry. */
static struct entry *remove_entry(cmcache_t *c, struct entry *e) {
    struct entry **pp = &c->buckets[e->hash & (c->nbuckets - 1)];
    while (*pp != e) pp = &(*pp)->hnext;
    *pp = e->hnext;
    lru_unlink(c, e);
    c->count--;
    e->hnext = NULL;
    return e;
}

/* Removes up to max entries idle since idle_expire_ms, appending them to *dead. */
static int expire_idle(cmcache_t *c, int64_t now, int max, struct entry **dead) {
    int n = 0;
    while (n < max && c->lru_tail != NULL && now - c->lru_tail->last_seen >= c->conf.idle_expire_ms) {
        struct entry *e = remove_entry(c, c->lru_tail);
        e->hnext = *dead;
        *dead = e;
        n++;
    }
    if (n) CTX_CTR_ADD(c->st, expired, n);
    return n;
}

static void free_dead(struct entry *dead) {
    while (dead != NULL) {
        struct entry *n = dead->hnext;
        entry_free(dead);
        dead = n;
    }
}

/* Identity checks: key = uuid if non-empty, else name; both must fit. */
static const char *pick_key(const char *uuid, const char *name) {
    if (uuid == NULL) uuid = "";
    if (name == NULL) name = "";
    if (strlen(uuid) >= CM_UUID_MAX || strlen(name) >= CM_NAME_MAX) return NULL;
    if (*uuid) return uuid;
    return *name ? name : NULL;
}

/* Finds or inserts (evicting the LRU tail when full) the entry for key. */
static struct entry *get_entry(cmcache_t *c, const char *uuid, const char *name, const char *key, int64_t now,
                               struct entry **dead) {
    uint32_t h = hash_str(key);
    struct entry *e = find(c, key, h);
    if (e != NULL) {
        if (uuid && *uuid && !*e->uuid) snprintf(e->uuid, sizeof e->uuid, "%s", uuid);
        if (name && *name && !*e->name) snprintf(e->name, sizeof e->name, "%s", name);
        return e;
    }
    e = calloc(1, sizeof *e);
    if (e == NULL) return NULL;
    snprintf(e->uuid, sizeof e->uuid, "%s", uuid ? uuid : "");
    snprintf(e->name, sizeof e->name, "%s", name ? name : "");
    e->key = *e->uuid ? e->uuid : e->name;
    e->hash = h;
    e->last_seen = now;
    if (c->count >= c->conf.max_entries) {
        struct entry *victim = remove_entry(c, c->lru_tail);
        victim->hnext = *dead;
        *dead = victim;
        INC(c, evictions);
    }
    size_t b = h & (c->nbuckets - 1);
    e->hnext = c->buckets[b];
    c->buckets[b] = e;
    lru_push_head(c, e);
    c->count++;
    return e;
}

/* ---- queue (under c->mu) --------------------------------------------------------------- */

static int enqueue(cmcache_t *c, cm_req_kind_t kind, const struct entry *e) {
    if (c->ring_len >= c->conf.queue_max) {
        INC(c, queue_full);
        return CTX_EFULL;
    }
    cm_request_t *r = &c->ring[(c->ring_head + c->ring_len) % c->conf.queue_max];
    memset(r, 0, sizeof *r);
    r->kind = kind;
    if (e != NULL) {
        memcpy(r->uuid, e->uuid, sizeof r->uuid);
        memcpy(r->name, e->name, sizeof r->name);
    }
    c->ring_len++;
    INC(c, enqueued);
    return CTX_OK;
}

int cmcache_pop_request(cmcache_t *c, cm_request_t *out) {
    pthread_mutex_lock(&c->mu);
    int got = c->ring_len > 0;
    if (got) {
        *out = c->ring[c->ring_head];
        c->ring_head = (c->ring_head + 1) % c->conf.queue_max;
        c->ring_len--;
    }
    pthread_mutex_unlock(&c->mu);
    return got;
}

int cmcache_notify_fd(const cmcache_t *c) { return c->efd; }

static void notify(cmcache_t *c) {
    uint64_t one = 1;
    ssize_t r = write(c->efd, &one, sizeof one); /* EAGAIN: counter saturated, still readable */
    (void)r;
}

/* ---- backoff ---------------------------------------------------------------------------- */

static uint64_t rng_next(cmcache_t *c) {
    uint64_t x = c->rng;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return c->rng = x;
}

/* backoff_min * 2^(fails-1), capped, shortened by a random 0..jitter_pct %, then at
 * least retry_after (still capped at backoff_max). */
static int64_t backoff_delay(cmcache_t *c, unsigned fails, int64_t retry_after) {
    int64_t d = c->conf.backoff_min_ms;
    for (unsigned i = 1; i < fails && d < c->conf.backoff_max_ms; i++) d *= 2;
    if (d > c->conf.backoff_max_ms) d = c->conf.backoff_max_ms;
    int64_t span = d * c->conf.jitter_pct / 100;
    if (span > 0) d -= (int64_t)(rng_next(c) % (uint64_t)(span + 1));
    if (retry_after > d) d = retry_after < c->conf.backoff_max_ms ? retry_after : c->conf.backoff_max_ms;
    return d;
}

/* ---- lookup -------------------------------------------------------------------------------- */

static int64_t part_ttl(const cmcache_t *c, int p) {
    return p == CM_PART_STATIC ? c->conf.static_ttl_ms : c->conf.dynamic_ttl_ms;
}

/* Decides one part's status; may enqueue a fetch (sets *woke). Drops over-age data into
 * *drop (unreferenced by the caller after unlocking). */
static cm_status_t part_lookup(cmcache_t *c, struct entry *e, int p, int64_t now, bool *woke, cmctx_t **drop) {
    struct part *pt = &e->part[p];
    if (pt->pending && now - pt->pending_since >= c->conf.pending_timeout_ms) pt->pending = false;
    if (pt->ctx != NULL && c->conf.max_stale_ms > 0 && now - pt->fetched_at >= pt->ttl + c->conf.max_stale_ms) {
        *drop = pt->ctx;
        pt->ctx = NULL;
    }
    if (pt->ctx != NULL && now - pt->fetched_at < pt->ttl) return CM_OK;
    bool failed = pt->fails > 0 || pt->unknown;
    cm_status_t st = pt->ctx != NULL ? CM_STALE : failed ? CM_UNAVAILABLE : CM_PENDING;
    if (p == CM_PART_STATIC && pt->ctx == NULL && now < c->hold_static_until) {
        INC(c, coalesced); /* the bulk listing about to come answers it */
    } else if (pt->pending) {
        INC(c, coalesced);
    } else if (now >= pt->retry_at) {
        if (enqueue(c, (cm_req_kind_t)p, e) == CTX_OK) {
            pt->pending = true;
            pt->pending_since = now;
            *woke = true;
        }
    } else if (st == CM_UNAVAILABLE) {
        INC(c, negative);
    }
    return st;
}

static void result_empty(cmcache_result_t *out) {
    memset(out, 0, sizeof *out);
    out->status = CM_UNAVAILABLE;
    for (int p = 0; p < CM_NPARTS; p++) {
        out->part_status[p] = CM_UNAVAILABLE;
        out->age_ms[p] = -1;
    }
}

static void count_status(cmcache_t *c, cm_status_t st) {
    if (st == CM_OK) INC(c, hits);
    else if (st == CM_STALE) INC(c, stale);
    else INC(c, misses);
}

int cmcache_lookup(cmcache_t *c, const char *uuid, const char *name, unsigned mask, int64_t now_ms,
                   cmcache_result_t *out) {
    result_empty(out);
    const char *key = pick_key(uuid, name);
    if (key == NULL || (mask & CM_MASK_ALL) == 0) return CTX_EINVAL;
    struct entry *dead = NULL;
    cmctx_t *drop[CM_NPARTS] = {NULL, NULL};
    bool woke = false;
    pthread_mutex_lock(&c->mu);
    expire_idle(c, now_ms, 2, &dead);
    struct entry *e = get_entry(c, uuid, name, key, now_ms, &dead);
    if (e == NULL) {
        pthread_mutex_unlock(&c->mu);
        free_dead(dead);
        INC(c, misses);
        return CTX_ENOMEM;
    }
    e->last_seen = now_ms;
    lru_unlink(c, e);
    lru_push_head(c, e);
    cm_status_t worst = CM_OK;
    for (int p = 0; p < CM_NPARTS; p++) {
        if (!(mask & (1u << p))) continue;
        cm_status_t st = part_lookup(c, e, p, now_ms, &woke, &drop[p]);
        out->part_status[p] = st;
        if (e->part[p].ctx != NULL) {
            out->ctx[p] = cmctx_ref(e->part[p].ctx);
            out->fetched_at_ms[p] = e->part[p].fetched_at;
            out->age_ms[p] = now_ms - e->part[p].fetched_at;
        }
        if (st > worst) worst = st;
    }
    out->status = worst;
    pthread_mutex_unlock(&c->mu);
    count_status(c, worst);
    if (woke) notify(c);
    for (int p = 0; p < CM_NPARTS; p++) cmctx_unref(drop[p]);
    free_dead(dead);
    return CTX_OK;
}

void cmcache_result_release(cmcache_result_t *r) {
    if (r == NULL) return;
    for (int p = 0; p < CM_NPARTS; p++) cmctx_unref(r->ctx[p]);
    result_empty(r);
}

/* ---- results from the fetcher ---------------------------------------------------------- */

int cmcache_store(cmcache_t *c, const char *uuid, const char *name, cm_part_t part, cmctx_t *ctx, int64_t ttl_ms,
                  int64_t now_ms) {
    const char *key = pick_key(uuid, name);
    if (key == NULL || ctx == NULL || (int)part < 0 || part >= CM_NPARTS || ttl_ms < 0) {
        cmctx_unref(ctx);
        return CTX_EINVAL;
    }
    struct entry *dead = NULL;
    pthread_mutex_lock(&c->mu);
    struct entry *e = get_entry(c, uuid, name, key, now_ms, &dead);
    cmctx_t *old = ctx;
    if (e != NULL) {
        struct part *pt = &e->part[part];
        old = pt->ctx;
        pt->ctx = ctx;
        pt->fetched_at = now_ms;
        pt->ttl = ttl_ms > 0 ? ttl_ms : part_ttl(c, part);
        pt->pending = pt->unknown = false;
        pt->fails = 0;
        pt->retry_at = 0;
    }
    pthread_mutex_unlock(&c->mu);
    cmctx_unref(old);
    free_dead(dead);
    return e != NULL ? CTX_OK : CTX_ENOMEM;
}

/* Records a failure of part pt (under c->mu). */
static void part_fail(cmcache_t *c, struct part *pt, int http_status, int64_t retry_after, int64_t now,
                      cmctx_t **drop) {
    pt->pending = false;
    INC(c, failures);
    if (http_status == 404 || http_status == 410) {
        pt->unknown = true;
        pt->fails = 0;
        pt->retry_at = now + c->conf.unknown_ttl_ms;
        *drop = pt->ctx;
        pt->ctx = NULL;
        return;
    }
    if (pt->fails < 64) pt->fails++;
    pt->retry_at = now + backoff_delay(c, pt->fails, retry_after);
}

/* Finds req's part (under c->mu): the bulk state, the entry's part, or NULL. */
static struct part *req_part(cmcache_t *c, const cm_request_t *req) {
    if (req->kind == CM_REQ_BULK) return &c->bulk;
    if ((int)req->kind < 0 || (int)req->kind >= CM_NPARTS) return NULL;
    const char *key = pick_key(req->uuid, req->name);
    if (key == NULL) return NULL;
    struct entry *e = find(c, key, hash_str(key));
    return e != NULL ? &e->part[req->kind] : NULL;
}

int cmcache_fail(cmcache_t *c, const cm_request_t *req, int http_status, int64_t retry_after_ms, int64_t now_ms) {
    cmctx_t *drop = NULL;
    pthread_mutex_lock(&c->mu);
    struct part *pt = req_part(c, req);
    if (req->kind == CM_REQ_BULK) c->hold_static_until = 0;
    if (pt != NULL) part_fail(c, pt, http_status, retry_after_ms, now_ms, &drop);
    pthread_mutex_unlock(&c->mu);
    cmctx_unref(drop);
    return pt != NULL ? CTX_OK : CTX_ENOENT;
}

int cmcache_done(cmcache_t *c, const cm_request_t *req, int64_t now_ms) {
    int rc = CTX_ENOENT;
    pthread_mutex_lock(&c->mu);
    struct part *pt = req_part(c, req);
    if (pt != NULL && req->kind == CM_REQ_BULK) {
        c->hold_static_until = 0;
        pt->pending = false;
        pt->fails = 0;
        pt->retry_at = 0;
        rc = 0;
    } else if (pt != NULL) {
        rc = pt->pending ? 1 : 0;
        cmctx_t *none = NULL; /* status 0 never drops data */
        if (pt->pending) part_fail(c, pt, 0, 0, now_ms, &none);
    }
    pthread_mutex_unlock(&c->mu);
    return rc;
}

void cmcache_abandon(cmcache_t *c, const cm_request_t *req) {
    pthread_mutex_lock(&c->mu);
    struct part *pt = req_part(c, req);
    if (pt != NULL) pt->pending = false;
    pthread_mutex_unlock(&c->mu);
}

size_t cmcache_queue_len(cmcache_t *c) {
    pthread_mutex_lock(&c->mu);
    size_t n = c->ring_len;
    pthread_mutex_unlock(&c->mu);
    return n;
}

cmctx_t *cmcache_peek(cmcache_t *c, const char *uuid, const char *name, cm_part_t part) {
    const char *key = pick_key(uuid, name);
    if (key == NULL || (int)part < 0 || part >= CM_NPARTS) return NULL;
    pthread_mutex_lock(&c->mu);
    struct entry *e = find(c, key, hash_str(key));
    cmctx_t *r = e != NULL ? cmctx_ref(e->part[part].ctx) : NULL;
    pthread_mutex_unlock(&c->mu);
    return r;
}

void cmcache_hold_static(cmcache_t *c, int64_t until_ms) {
    pthread_mutex_lock(&c->mu);
    c->hold_static_until = until_ms;
    pthread_mutex_unlock(&c->mu);
}

int cmcache_request_bulk(cmcache_t *c, int64_t now_ms) {
    int rc;
    pthread_mutex_lock(&c->mu);
    struct part *pt = &c->bulk;
    if (pt->pending && now_ms - pt->pending_since >= c->conf.pending_timeout_ms) pt->pending = false;
    if (pt->pending) {
        rc = 1;
    } else if (now_ms < pt->retry_at) {
        rc = CTX_EAGAIN;
    } else {
        rc = enqueue(c, CM_REQ_BULK, NULL);
        if (rc == CTX_OK) {
            pt->pending = true;
            pt->pending_since = now_ms;
        }
    }
    pthread_mutex_unlock(&c->mu);
    if (rc == CTX_OK) notify(c);
    return rc;
}

int cmcache_sweep(cmcache_t *c, int64_t now_ms) {
    struct entry *dead = NULL;
    pthread_mutex_lock(&c->mu);
    int n = expire_idle(c, now_ms, 1 << 30, &dead);
    pthread_mutex_unlock(&c->mu);
    free_dead(dead);
    return n;
}

void cmcache_get_stats(cmcache_t *c, cmcache_stats_t *out) {
    ctx_counters_read(out, &c->st, sizeof *out);
    pthread_mutex_lock(&c->mu);
    out->entries = c->count;
    out->queued = c->ring_len;
    pthread_mutex_unlock(&c->mu);
}
