/* cmcache.h: the compute-manager context cache of mmctxenrich.
 *
 * Keyed by VM identity: the uuid when it is non-empty, else the name (callers pass the
 * same identity on lookup and store). Each entry holds two parts, STATIC (host_ip,
 * guest_os, ...; fetched once, long TTL) and DYNAMIC (averages; refreshed every TTL),
 * each an immutable, refcounted cmctx_t with fetched_at and TTL, plus its own fetch
 * state (pending flag, negative cache, backoff).
 *
 * A worker's lookup never touches the network: a part with no data enqueues ONE fetch
 * request (concurrent misses coalesce on the part's pending flag) and answers PENDING;
 * a part whose data is past its TTL is served as STALE while one refresh runs; a part
 * whose fetch failed is negatively cached with exponential backoff and jitter
 * (UNAVAILABLE while no data); a 404 marks the VM unknown for unknown_ttl_ms.
 * The request queue is drained by the background fetcher (cmfetch.h), which reports
 * back with cmcache_store() / cmcache_fail() / cmcache_done().
 *
 * Time is injected: every call takes now_ms, a monotonic clock in milliseconds. The
 * module and cmfetch use cmcache_clock_ms(); unit tests pass any numbers they like.
 *
 * Thread-safety: every function may be called from any thread at any time, except
 * cmcache_free() (no other call may run or follow). One mutex guards the table, LRU
 * list and queue; it is held only for in-memory work, never across I/O.
 */
#ifndef CTXLOG_CMCACHE_H
#define CTXLOG_CMCACHE_H

#include <stddef.h>
#include <stdint.h>

struct fjson_object;

/* ---- cmctx_t: an immutable, refcounted context object ---------------------------
 * Wraps a JSON object that nobody modifies or serializes after cmctx_new(): libfastjson
 * caches serializations inside objects, so a shared object must not be handed to
 * msgAddJSON() or fjson_object_to_json_string(). Readers get their own deep copy with
 * cmctx_to_json(). References may be taken and dropped from any thread. */
typedef struct cmctx cmctx_t;

/* Takes ownership of obj (one fjson reference; the caller must not modify obj or keep
 * using it). Returns a context with one reference, or NULL (obj is then released) if
 * obj is NULL or memory is short. */
cmctx_t *cmctx_new(struct fjson_object *obj);
/* Adds a reference; returns c. c may be NULL. */
cmctx_t *cmctx_ref(cmctx_t *c);
/* Drops a reference (frees on the last one). NULL is a no-op. */
void cmctx_unref(cmctx_t *c);
/* A fresh deep copy of the JSON (caller owns it: fjson_object_put() or hand it to
 * msgAddJSON). NULL if c is NULL or memory is short. */
struct fjson_object *cmctx_to_json(const cmctx_t *c);
/* The wrapped object, borrowed and read-only: typed getters (get_int64, get_double,
 * get_boolean, get_string on string values) and iteration only; never serialize it. */
struct fjson_object *cmctx_peek(const cmctx_t *c);

/* ---- the cache -------------------------------------------------------------------- */
typedef struct cmcache cmcache_t;

typedef enum { CM_PART_STATIC = 0, CM_PART_DYNAMIC = 1, CM_NPARTS = 2 } cm_part_t;
#define CM_MASK_STATIC (1u << CM_PART_STATIC)
#define CM_MASK_DYNAMIC (1u << CM_PART_DYNAMIC)
#define CM_MASK_ALL (CM_MASK_STATIC | CM_MASK_DYNAMIC)

/* ordered from best to worst: a lookup's overall status is the worst of its parts */
typedef enum { CM_OK = 0, CM_STALE = 1, CM_PENDING = 2, CM_UNAVAILABLE = 3 } cm_status_t;
/* "ok", "stale", "pending", "unavailable" (static strings; "?" for a bad value) */
const char *cm_status_str(cm_status_t s);

#define CM_UUID_MAX 64  /* longest uuid (incl. NUL) the cache accepts */
#define CM_NAME_MAX 256 /* longest name (incl. NUL) */

typedef enum { CM_REQ_STATIC = CM_PART_STATIC, CM_REQ_DYNAMIC = CM_PART_DYNAMIC, CM_REQ_BULK = 2 } cm_req_kind_t;

/* One queued fetch: plain data, copied in and out of the queue. */
typedef struct cm_request {
    cm_req_kind_t kind;
    char uuid[CM_UUID_MAX]; /* "" for BULK or when the VM has no uuid */
    char name[CM_NAME_MAX]; /* "" for BULK or when the VM has no name */
} cm_request_t;

typedef struct cmcache_conf {
    size_t max_entries;        /* cache.maxEntries, default 4096, >= 1 */
    size_t queue_max;          /* cache.queueMax: queued requests, default 1024, >= 1 */
    int64_t static_ttl_ms;     /* cache.staticTTL: default 3600000 (1 h), >= 1000 */
    int64_t dynamic_ttl_ms;    /* cache.dynamicTTL: default 300000 (5 min), >= 1000 */
    int64_t unknown_ttl_ms;    /* cache.unknownTTL: after a 404, default 600000 */
    int64_t backoff_min_ms;    /* cache.backoffMin: first failure, default 1000, >= 10 */
    int64_t backoff_max_ms;    /* cache.backoffMax: cap, default 300000, >= backoff_min */
    int jitter_pct;            /* cache.jitter: 0..100, delay shortened by up to this %, default 50 */
    int64_t idle_expire_ms;    /* cache.idleExpire: drop entries not looked up this long, default 3600000 */
    int64_t max_stale_ms;      /* cache.maxStale: serve data at most this long past its TTL, 0 = forever;
                                  default 86400000 (1 day) */
    int64_t pending_timeout_ms;/* a request not answered in this time is forgotten, default 120000 */
    uint64_t seed;             /* jitter PRNG seed; 0 = from the clock */
} cmcache_conf_t;

/* Fills every field with its default. */
void cmcache_conf_defaults(cmcache_conf_t *conf);
/* Pure validation: 0, or CTX_EINVAL with one line in err naming the key, e.g.
 * "cache.maxEntries: must be >= 1 (got 0)". */
int cmcache_conf_check(const cmcache_conf_t *conf, char *err, size_t errlen);

/* Creates a cache (conf is copied). 0 and *out set, CTX_EINVAL (err filled) or
 * CTX_ENOMEM / CTX_EIO (eventfd failed; err filled). */
int cmcache_new(cmcache_t **out, const cmcache_conf_t *conf, char *err, size_t errlen);
/* Frees everything (entries' references dropped). NULL is a no-op. */
void cmcache_free(cmcache_t *c);

/* The clock the module and cmfetch use for now_ms: CLOCK_MONOTONIC in ms. */
int64_t cmcache_clock_ms(void);

/* What a lookup hands back. Each non-NULL ctx[] is a reference the caller owns:
 * release all with cmcache_result_release(). */
typedef struct cmcache_result {
    cm_status_t status;                /* worst of the requested parts */
    cm_status_t part_status[CM_NPARTS];/* CM_UNAVAILABLE for parts not requested */
    cmctx_t *ctx[CM_NPARTS];           /* data (fresh or stale) or NULL */
    int64_t fetched_at_ms[CM_NPARTS];  /* now_ms clock of the fetch (0 if no data) */
    int64_t age_ms[CM_NPARTS];         /* now_ms - fetched_at_ms; wall time of the fetch
                                          = realtime now - age (-1 if no data) */
} cmcache_result_t;

/* Looks up the parts in mask (CM_MASK_*) for a VM; uuid and/or name non-empty (either
 * may be NULL). Never blocks on I/O; may enqueue fetches (one per part, coalesced) and
 * wake the fetcher. Per part: fresh data -> OK; data past TTL -> STALE (+ a refresh
 * unless one is pending or the part is in backoff); no data and never failed ->
 * PENDING; no data after a failure or a 404 -> UNAVAILABLE (a retry is enqueued once
 * the backoff has passed). The lookup marks the VM as seen (LRU, idle expiry), may
 * evict the least recently seen entry and drops idle ones. Counts hits (status ok),
 * stale (status stale) or misses (pending / unavailable).
 * Returns 0 (out filled), CTX_EINVAL (no identity, identity too long, mask 0; out is
 * then UNAVAILABLE with no data) or CTX_ENOMEM (likewise). */
int cmcache_lookup(cmcache_t *c, const char *uuid, const char *name, unsigned mask, int64_t now_ms,
                   cmcache_result_t *out);
/* Drops the references in r and clears it. NULL is a no-op. */
void cmcache_result_release(cmcache_result_t *r);

/* Stores data for a part (from a reply to a request or from a bulk listing), creating
 * the entry if needed (a new entry counts as seen now). Takes ownership of one reference
 * of ctx, even on failure. ttl_ms 0 = the conf TTL of the part. Clears the part's
 * pending flag, failure count and unknown mark.
 * Returns 0, CTX_EINVAL (no identity / too long / ctx NULL / bad part), CTX_ENOMEM. */
int cmcache_store(cmcache_t *c, const char *uuid, const char *name, cm_part_t part, cmctx_t *ctx, int64_t ttl_ms,
                  int64_t now_ms);

/* Records that req failed. http_status: 404 or 410 = VM unknown (its data of that part is
 * dropped, UNAVAILABLE for unknown_ttl_ms); anything else (429, 5xx, other 4xx, 0 for a
 * transport error, timeout or bad reply) = exponential backoff with jitter, data kept and
 * served stale. retry_after_ms (from a Retry-After header, 0 if none) lengthens the
 * delay, capped at backoff_max_ms. Returns 0, or CTX_ENOENT if the entry is gone. */
int cmcache_fail(cmcache_t *c, const cm_request_t *req, int http_status, int64_t retry_after_ms, int64_t now_ms);

/* Called by the fetcher after a successful reply was handed to the module: if the
 * module did not store the requested part, that counts as a failure (backoff), so a
 * pending flag never sticks. For BULK it clears the bulk backoff. Returns 0, or 1 if
 * the part had not been stored (recorded as a failure), or CTX_ENOENT. */
int cmcache_done(cmcache_t *c, const cm_request_t *req, int64_t now_ms);

/* Clears req's pending flag without a failure (fetcher shutting down). */
void cmcache_abandon(cmcache_t *c, const cm_request_t *req);

/* Enqueues one BULK request (coalesced, with its own backoff). Returns 0 (queued),
 * 1 (one already pending), CTX_EAGAIN (in backoff after a failure), CTX_EFULL. */
int cmcache_request_bulk(cmcache_t *c, int64_t now_ms);

/* Requests in the queue now. */
size_t cmcache_queue_len(cmcache_t *c);

/* A reference to the data of one part of a VM (fresh or stale), without counting a
 * lookup, marking the VM seen or queueing anything; NULL if none. For filling URL
 * placeholders from another part. */
cmctx_t *cmcache_peek(cmcache_t *c, const char *uuid, const char *name, cm_part_t part);

/* Until until_ms, or until a bulk request completes or fails, a lookup that finds no
 * static data answers PENDING without queueing a per-VM static request: the bulk
 * listing about to come will fill it (no per-VM burst at start-up). */
void cmcache_hold_static(cmcache_t *c, int64_t until_ms);

/* For the fetcher: pops the oldest request into *out. Returns 1, or 0 if none. */
int cmcache_pop_request(cmcache_t *c, cm_request_t *out);
/* An eventfd, readable after requests were enqueued; the fetcher polls it and reads it
 * (8 bytes) to reset it. Owned by the cache; valid until cmcache_free(). */
int cmcache_notify_fd(const cmcache_t *c);

/* Drops entries not looked up for idle_expire_ms (the lookup does a few of these per
 * call; call this from a housekeeping thread to do all). Returns how many. */
int cmcache_sweep(cmcache_t *c, int64_t now_ms);

typedef struct cmcache_stats {
    uint64_t hits;       /* lookups answered ok */
    uint64_t misses;     /* lookups answered pending or unavailable */
    uint64_t stale;      /* lookups answered stale */
    uint64_t evictions;  /* entries dropped because max_entries was reached */
    uint64_t expired;    /* entries dropped because idle_expire_ms passed */
    uint64_t negative;   /* lookups answered unavailable from the negative cache (subset of misses) */
    uint64_t enqueued;   /* fetch requests queued */
    uint64_t coalesced;  /* part misses that found a request already pending */
    uint64_t queue_full; /* fetches not queued because the queue was full */
    uint64_t failures;   /* cmcache_fail() calls recorded (and cmcache_done() on missing parts) */
    uint64_t entries;    /* gauge: entries now */
    uint64_t queued;     /* gauge: requests in the queue now */
} cmcache_stats_t;

/* Reads the counters (each read atomically; the set is not one snapshot). */
void cmcache_get_stats(cmcache_t *c, cmcache_stats_t *out);

#endif
