/* Unit tests of common/context/cmcache.c: coalescing, TTL, stale, backoff, 404, eviction,
 * idle expiry, queue bound, counters, config errors, cmctx deep copies, threads. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include "check.h"
#include <json.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cmcache.h"
#include "conftab.h"
#include "ctxlog_common.h"

static cmcache_conf_t test_conf(void) {
    cmcache_conf_t c;
    cmcache_conf_defaults(&c);
    c.static_ttl_ms = 10000;
    c.dynamic_ttl_ms = 2000;
    c.unknown_ttl_ms = 60000;
    c.backoff_min_ms = 1000;
    c.backoff_max_ms = 8000;
    c.jitter_pct = 0;
    c.idle_expire_ms = 100000;
    c.max_stale_ms = 0;
    c.seed = 42;
    return c;
}

static cmcache_t *make(const cmcache_conf_t *conf) {
    cmcache_t *c = NULL;
    char err[CTX_ERRLEN] = "";
    assert_int_equal(cmcache_new(&c, conf, err, sizeof err), 0);
    assert_non_null(c);
    return c;
}

static cm_status_t look(cmcache_t *c, const char *uuid, unsigned mask, int64_t now) {
    cmcache_result_t r;
    assert_int_equal(cmcache_lookup(c, uuid, NULL, mask, now, &r), 0);
    cm_status_t st = r.status;
    cmcache_result_release(&r);
    return st;
}

static int queued(cmcache_t *c) {
    cmcache_stats_t s;
    cmcache_get_stats(c, &s);
    return (int)s.queued;
}

static cmctx_t *ctx_with(const char *key, int64_t v) {
    struct fjson_object *o = fjson_object_new_object();
    fjson_object_object_add(o, key, fjson_object_new_int64(v));
    return cmctx_new(o);
}

static int64_t ctx_int(const cmctx_t *x, const char *key) {
    struct fjson_object *v = NULL;
    assert_true(fjson_object_object_get_ex(cmctx_peek(x), key, &v));
    return fjson_object_get_int64(v);
}

/* Pops one request and checks what it is. */
static void expect_request(cmcache_t *c, cm_req_kind_t kind, const char *uuid, const char *name) {
    cm_request_t req;
    assert_int_equal(cmcache_pop_request(c, &req), 1);
    assert_int_equal(req.kind, kind);
    assert_string_equal(req.uuid, uuid);
    assert_string_equal(req.name, name);
}

static void miss_coalesces_into_one_request(void **state) {
    (void)state;
    cmcache_conf_t conf = test_conf();
    cmcache_t *c = make(&conf);
    cmcache_result_t r;
    assert_int_equal(cmcache_lookup(c, "u-1", "web01", CM_MASK_ALL, 1000, &r), 0);
    assert_int_equal(r.status, CM_PENDING);
    assert_int_equal(r.part_status[CM_PART_STATIC], CM_PENDING);
    assert_int_equal(r.part_status[CM_PART_DYNAMIC], CM_PENDING);
    assert_null(r.ctx[0]);
    assert_int_equal(r.age_ms[0], -1);
    cmcache_result_release(&r);
    for (int i = 0; i < 50; i++) assert_int_equal(look(c, "u-1", CM_MASK_ALL, 1001 + i), CM_PENDING);
    assert_int_equal(queued(c), 2);
    uint64_t ev;
    assert_int_equal(read(cmcache_notify_fd(c), &ev, sizeof ev), (ssize_t)sizeof ev);
    assert_int_equal(ev, 1); /* one wake-up per lookup that enqueued */
    expect_request(c, CM_REQ_STATIC, "u-1", "web01");
    expect_request(c, CM_REQ_DYNAMIC, "u-1", "web01");
    cm_request_t req;
    assert_int_equal(cmcache_pop_request(c, &req), 0);
    cmcache_stats_t s;
    cmcache_get_stats(c, &s);
    assert_int_equal(s.misses, 51);
    assert_int_equal(s.hits, 0);
    assert_int_equal(s.enqueued, 2);
    assert_int_equal(s.coalesced, 100);
    assert_int_equal(s.entries, 1);
    cmcache_free(c);
}

static void store_then_ttl_then_stale_refresh(void **state) {
    (void)state;
    cmcache_conf_t conf = test_conf();
    cmcache_t *c = make(&conf);
    assert_int_equal(look(c, "u-1", CM_MASK_STATIC, 0), CM_PENDING);
    expect_request(c, CM_REQ_STATIC, "u-1", "");
    assert_int_equal(cmcache_store(c, "u-1", "", CM_PART_STATIC, ctx_with("host_ip", 7), 0, 500), 0);
    cmcache_result_t r;
    assert_int_equal(cmcache_lookup(c, "u-1", NULL, CM_MASK_STATIC, 600, &r), 0);
    assert_int_equal(r.status, CM_OK);
    assert_int_equal(ctx_int(r.ctx[CM_PART_STATIC], "host_ip"), 7);
    assert_int_equal(r.fetched_at_ms[CM_PART_STATIC], 500);
    assert_int_equal(r.age_ms[CM_PART_STATIC], 100);
    assert_null(r.ctx[CM_PART_DYNAMIC]);
    assert_int_equal(r.part_status[CM_PART_DYNAMIC], CM_UNAVAILABLE); /* not asked */
    cmcache_result_release(&r);
    assert_int_equal(look(c, "u-1", CM_MASK_STATIC, 10499), CM_OK);
    assert_int_equal(queued(c), 0);
    /* TTL (10 s) passed: stale, one refresh however many lookups */
    assert_int_equal(cmcache_lookup(c, "u-1", NULL, CM_MASK_STATIC, 10500, &r), 0);
    assert_int_equal(r.status, CM_STALE);
    assert_int_equal(ctx_int(r.ctx[CM_PART_STATIC], "host_ip"), 7);
    cmcache_result_release(&r);
    for (int i = 0; i < 10; i++) assert_int_equal(look(c, "u-1", CM_MASK_STATIC, 10600 + i), CM_STALE);
    assert_int_equal(queued(c), 1);
    expect_request(c, CM_REQ_STATIC, "u-1", "");
    /* a stale reference stays valid after the entry's data is replaced */
    assert_int_equal(cmcache_lookup(c, "u-1", NULL, CM_MASK_STATIC, 10700, &r), 0);
    assert_int_equal(cmcache_store(c, "u-1", NULL, CM_PART_STATIC, ctx_with("host_ip", 8), 30000, 11000), 0);
    assert_int_equal(ctx_int(r.ctx[CM_PART_STATIC], "host_ip"), 7);
    cmcache_result_release(&r);
    assert_int_equal(look(c, "u-1", CM_MASK_STATIC, 40999), CM_OK); /* explicit TTL 30 s */
    assert_int_equal(look(c, "u-1", CM_MASK_STATIC, 41000), CM_STALE);
    cmcache_stats_t s;
    cmcache_get_stats(c, &s);
    assert_int_equal(s.hits, 3);
    assert_int_equal(s.stale, 13);
    assert_int_equal(s.misses, 1);
    cmcache_free(c);
}

/* status = worst part; each part has its own TTL */
static void parts_have_own_ttl_and_worst_wins(void **state) {
    (void)state;
    cmcache_conf_t conf = test_conf();
    cmcache_t *c = make(&conf);
    assert_int_equal(cmcache_store(c, "u-2", "db", CM_PART_STATIC, ctx_with("a", 1), 0, 0), 0);
    cmcache_result_t r;
    assert_int_equal(cmcache_lookup(c, "u-2", "db", CM_MASK_ALL, 100, &r), 0);
    assert_int_equal(r.part_status[CM_PART_STATIC], CM_OK);
    assert_int_equal(r.part_status[CM_PART_DYNAMIC], CM_PENDING);
    assert_int_equal(r.status, CM_PENDING);
    assert_non_null(r.ctx[CM_PART_STATIC]);
    cmcache_result_release(&r);
    expect_request(c, CM_REQ_DYNAMIC, "u-2", "db");
    assert_int_equal(cmcache_store(c, "u-2", "db", CM_PART_DYNAMIC, ctx_with("b", 2), 0, 200), 0);
    assert_int_equal(look(c, "u-2", CM_MASK_ALL, 2199), CM_OK);
    assert_int_equal(cmcache_lookup(c, "u-2", "db", CM_MASK_ALL, 2200, &r), 0); /* dynamic TTL 2 s */
    assert_int_equal(r.part_status[CM_PART_STATIC], CM_OK);
    assert_int_equal(r.part_status[CM_PART_DYNAMIC], CM_STALE);
    assert_int_equal(r.status, CM_STALE);
    cmcache_result_release(&r);
    expect_request(c, CM_REQ_DYNAMIC, "u-2", "db");
    cmcache_free(c);
}

/* Looks up at t-1 (must not enqueue) and t (must enqueue), pops the request. */
static void expect_retry_at(cmcache_t *c, const char *uuid, int64_t t) {
    assert_int_equal(look(c, uuid, CM_MASK_STATIC, t - 1), CM_UNAVAILABLE);
    assert_int_equal(queued(c), 0);
    assert_int_equal(look(c, uuid, CM_MASK_STATIC, t), CM_UNAVAILABLE);
    assert_int_equal(queued(c), 1);
    cm_request_t req;
    assert_int_equal(cmcache_pop_request(c, &req), 1);
}

static void failure_backs_off_exponentially(void **state) {
    (void)state;
    cmcache_conf_t conf = test_conf();
    cmcache_t *c = make(&conf);
    cm_request_t req = {.kind = CM_REQ_STATIC, .uuid = "u-3"};
    assert_int_equal(look(c, "u-3", CM_MASK_STATIC, 0), CM_PENDING);
    assert_int_equal(cmcache_pop_request(c, &req), 1);
    assert_int_equal(cmcache_fail(c, &req, 500, 0, 100), 0);
    expect_retry_at(c, "u-3", 1100); /* 1 s */
    assert_int_equal(cmcache_fail(c, &req, 503, 0, 1200), 0);
    expect_retry_at(c, "u-3", 3200); /* 2 s */
    assert_int_equal(cmcache_fail(c, &req, 0, 0, 3300), 0);
    expect_retry_at(c, "u-3", 7300); /* 4 s */
    assert_int_equal(cmcache_fail(c, &req, 429, 0, 7400), 0);
    expect_retry_at(c, "u-3", 15400); /* 8 s = cap */
    assert_int_equal(cmcache_fail(c, &req, 500, 0, 15500), 0);
    expect_retry_at(c, "u-3", 23500); /* still the cap */
    /* Retry-After beyond the backoff wins (capped at backoff_max) */
    assert_int_equal(cmcache_store(c, "u-3", NULL, CM_PART_STATIC, ctx_with("x", 1), 1000, 23600), 0);
    assert_int_equal(look(c, "u-3", CM_MASK_STATIC, 24600), CM_STALE);
    assert_int_equal(cmcache_pop_request(c, &req), 1);
    assert_int_equal(cmcache_fail(c, &req, 429, 5000, 24700), 0); /* backoff 1 s, Retry-After 5 s */
    assert_int_equal(look(c, "u-3", CM_MASK_STATIC, 29699), CM_STALE);
    assert_int_equal(queued(c), 0);
    assert_int_equal(look(c, "u-3", CM_MASK_STATIC, 29700), CM_STALE);
    assert_int_equal(queued(c), 1);
    cmcache_stats_t s;
    cmcache_get_stats(c, &s);
    assert_int_equal(s.failures, 6);
    assert_int_equal(s.negative, 5); /* the t-1 probes */
    cmcache_free(c);
}

static void jitter_stays_within_bounds(void **state) {
    (void)state;
    cmcache_conf_t conf = test_conf();
    conf.jitter_pct = 50;
    cmcache_t *c = make(&conf);
    cm_request_t req = {.kind = CM_REQ_STATIC, .uuid = "u-j"};
    int64_t t = 0, base = 1000;
    assert_int_equal(look(c, "u-j", CM_MASK_STATIC, t), CM_PENDING);
    int varied = 0, first = -1;
    for (int i = 0; i < 40; i++) {
        assert_int_equal(cmcache_pop_request(c, &req), 1);
        assert_int_equal(cmcache_fail(c, &req, 500, 0, t), 0);
        int64_t d = i < 3 ? base << i : 8000;
        int64_t lo = d - d / 2;
        assert_int_equal(look(c, "u-j", CM_MASK_STATIC, t + lo - 1), CM_UNAVAILABLE);
        assert_int_equal(queued(c), 0);
        int64_t k = lo;
        while (queued(c) == 0 && k <= d) assert_int_equal(look(c, "u-j", CM_MASK_STATIC, t + k++), CM_UNAVAILABLE);
        assert_int_equal(queued(c), 1); /* at the latest at t + d */
        if (i >= 3 && first < 0) first = (int)k;
        if (i >= 3 && (int)k != first) varied = 1;
        t += k;
    }
    assert_true(varied); /* jitter changes the delay */
    cmcache_free(c);
}

static void not_found_marks_unknown_for_ttl(void **state) {
    (void)state;
    cmcache_conf_t conf = test_conf();
    cmcache_t *c = make(&conf);
    cm_request_t req;
    assert_int_equal(cmcache_store(c, "u-4", NULL, CM_PART_STATIC, ctx_with("x", 1), 1000, 0), 0);
    assert_int_equal(look(c, "u-4", CM_MASK_STATIC, 1000), CM_STALE);
    assert_int_equal(cmcache_pop_request(c, &req), 1);
    assert_int_equal(cmcache_fail(c, &req, 404, 0, 1500), 0);
    cmcache_result_t r;
    assert_int_equal(cmcache_lookup(c, "u-4", NULL, CM_MASK_STATIC, 1600, &r), 0);
    assert_int_equal(r.status, CM_UNAVAILABLE);
    assert_null(r.ctx[CM_PART_STATIC]); /* data dropped */
    cmcache_result_release(&r);
    assert_int_equal(look(c, "u-4", CM_MASK_STATIC, 61499), CM_UNAVAILABLE);
    assert_int_equal(queued(c), 0);
    assert_int_equal(look(c, "u-4", CM_MASK_STATIC, 61500), CM_UNAVAILABLE); /* retry, still no data */
    assert_int_equal(queued(c), 1);
    assert_int_equal(cmcache_pop_request(c, &req), 1);
    assert_int_equal(cmcache_fail(c, &req, 410, 0, 61600), 0);
    assert_int_equal(look(c, "u-4", CM_MASK_STATIC, 121599), CM_UNAVAILABLE);
    assert_int_equal(queued(c), 0);
    cmcache_free(c);
}

static void stale_served_through_failures_until_max_stale(void **state) {
    (void)state;
    cmcache_conf_t conf = test_conf();
    conf.max_stale_ms = 20000;
    cmcache_t *c = make(&conf);
    cm_request_t req;
    assert_int_equal(cmcache_store(c, "u-5", NULL, CM_PART_STATIC, ctx_with("x", 1), 0, 0), 0);
    assert_int_equal(look(c, "u-5", CM_MASK_STATIC, 10000), CM_STALE);
    assert_int_equal(cmcache_pop_request(c, &req), 1);
    assert_int_equal(cmcache_fail(c, &req, 500, 0, 10100), 0);
    assert_int_equal(look(c, "u-5", CM_MASK_STATIC, 10200), CM_STALE);
    assert_int_equal(look(c, "u-5", CM_MASK_STATIC, 29999), CM_STALE);
    assert_int_equal(cmcache_pop_request(c, &req), 1);
    cmcache_result_t r;
    assert_int_equal(cmcache_lookup(c, "u-5", NULL, CM_MASK_STATIC, 30000, &r), 0); /* TTL + max_stale */
    assert_int_equal(r.status, CM_UNAVAILABLE); /* failed before, request pending */
    assert_null(r.ctx[CM_PART_STATIC]);
    cmcache_result_release(&r);
    cmcache_free(c);
}

static void lru_evicts_least_recently_seen(void **state) {
    (void)state;
    cmcache_conf_t conf = test_conf();
    conf.max_entries = 3;
    cmcache_t *c = make(&conf);
    const char *ids[] = {"a", "b", "c"};
    for (int i = 0; i < 3; i++)
        assert_int_equal(cmcache_store(c, ids[i], NULL, CM_PART_STATIC, ctx_with("i", i), 0, i), 0);
    assert_int_equal(look(c, "a", CM_MASK_STATIC, 10), CM_OK); /* order now: a c b */
    assert_int_equal(look(c, "d", CM_MASK_STATIC, 11), CM_PENDING); /* evicts b */
    cmcache_stats_t s;
    cmcache_get_stats(c, &s);
    assert_int_equal(s.evictions, 1);
    assert_int_equal(s.entries, 3);
    assert_int_equal(look(c, "a", CM_MASK_STATIC, 12), CM_OK);
    assert_int_equal(look(c, "c", CM_MASK_STATIC, 13), CM_OK);
    assert_int_equal(look(c, "b", CM_MASK_STATIC, 14), CM_PENDING); /* gone: evicts d */
    assert_int_equal(look(c, "a", CM_MASK_STATIC, 15), CM_OK);
    cmcache_get_stats(c, &s);
    assert_int_equal(s.evictions, 2);
    /* a reply for an evicted VM is stored again (evicting the LRU one, c) */
    assert_int_equal(cmcache_store(c, "d", NULL, CM_PART_STATIC, ctx_with("i", 9), 0, 16), 0);
    assert_int_equal(look(c, "c", CM_MASK_STATIC, 17), CM_PENDING);
    cmcache_get_stats(c, &s);
    assert_int_equal(s.evictions, 4);
    cmcache_free(c);
}

static void idle_entries_expire(void **state) {
    (void)state;
    cmcache_conf_t conf = test_conf();
    conf.idle_expire_ms = 5000;
    conf.static_ttl_ms = 100000;
    cmcache_t *c = make(&conf);
    for (int i = 0; i < 5; i++) {
        char id[8];
        snprintf(id, sizeof id, "v%d", i);
        assert_int_equal(cmcache_store(c, id, NULL, CM_PART_STATIC, ctx_with("i", i), 0, i * 1000), 0);
    }
    assert_int_equal(look(c, "v0", CM_MASK_STATIC, 4000), CM_OK); /* seen again at 4000 */
    assert_int_equal(cmcache_sweep(c, 7000), 2);                 /* v1 (1000), v2 (2000) */
    cmcache_stats_t s;
    cmcache_get_stats(c, &s);
    assert_int_equal(s.expired, 2);
    assert_int_equal(s.entries, 3);
    assert_int_equal(look(c, "v3", CM_MASK_STATIC, 7100), CM_OK);
    assert_int_equal(look(c, "v1", CM_MASK_STATIC, 7200), CM_PENDING);
    /* a lookup also drops idle entries at the LRU tail: v4 (4000) then v0 (4000) */
    assert_int_equal(look(c, "v3", CM_MASK_STATIC, 9000), CM_OK);
    cmcache_get_stats(c, &s);
    assert_int_equal(s.expired, 4);
    assert_int_equal(s.entries, 2);
    cmcache_free(c);
}

static void queue_bound_and_retry_when_room(void **state) {
    (void)state;
    cmcache_conf_t conf = test_conf();
    conf.queue_max = 2;
    cmcache_t *c = make(&conf);
    assert_int_equal(look(c, "q1", CM_MASK_STATIC, 0), CM_PENDING);
    assert_int_equal(look(c, "q2", CM_MASK_STATIC, 0), CM_PENDING);
    assert_int_equal(look(c, "q3", CM_MASK_STATIC, 0), CM_PENDING); /* not queued */
    cmcache_stats_t s;
    cmcache_get_stats(c, &s);
    assert_int_equal(s.queue_full, 1);
    assert_int_equal(s.queued, 2);
    expect_request(c, CM_REQ_STATIC, "q1", "");
    assert_int_equal(look(c, "q3", CM_MASK_STATIC, 1), CM_PENDING); /* now queued */
    expect_request(c, CM_REQ_STATIC, "q2", "");
    expect_request(c, CM_REQ_STATIC, "q3", "");
    cmcache_free(c);
}

static void done_without_store_is_a_failure(void **state) {
    (void)state;
    cmcache_conf_t conf = test_conf();
    cmcache_t *c = make(&conf);
    cm_request_t req;
    assert_int_equal(look(c, "u-6", CM_MASK_STATIC, 0), CM_PENDING);
    assert_int_equal(cmcache_pop_request(c, &req), 1);
    assert_int_equal(cmcache_done(c, &req, 100), 1);
    assert_int_equal(look(c, "u-6", CM_MASK_STATIC, 200), CM_UNAVAILABLE);
    expect_retry_at(c, "u-6", 1100);
    assert_int_equal(cmcache_store(c, "u-6", NULL, CM_PART_STATIC, ctx_with("x", 1), 0, 1200), 0);
    assert_int_equal(cmcache_done(c, &req, 1200), 0);
    assert_int_equal(look(c, "u-6", CM_MASK_STATIC, 1300), CM_OK);
    cm_request_t gone = {.kind = CM_REQ_STATIC, .uuid = "nope"};
    assert_int_equal(cmcache_done(c, &gone, 1300), CTX_ENOENT);
    assert_int_equal(cmcache_fail(c, &gone, 500, 0, 1300), CTX_ENOENT);
    cmcache_free(c);
}

static void pending_request_times_out(void **state) {
    (void)state;
    cmcache_conf_t conf = test_conf();
    conf.pending_timeout_ms = 30000;
    cmcache_t *c = make(&conf);
    cm_request_t req;
    assert_int_equal(look(c, "u-7", CM_MASK_STATIC, 0), CM_PENDING);
    assert_int_equal(cmcache_pop_request(c, &req), 1); /* ... and lost */
    assert_int_equal(look(c, "u-7", CM_MASK_STATIC, 29999), CM_PENDING);
    assert_int_equal(queued(c), 0);
    assert_int_equal(look(c, "u-7", CM_MASK_STATIC, 30000), CM_PENDING);
    assert_int_equal(queued(c), 1);
    assert_int_equal(cmcache_pop_request(c, &req), 1);
    cmcache_abandon(c, &req); /* fetcher shutdown: no backoff */
    assert_int_equal(look(c, "u-7", CM_MASK_STATIC, 30001), CM_PENDING);
    assert_int_equal(queued(c), 1);
    cmcache_free(c);
}

static void bulk_requests_coalesce_and_back_off(void **state) {
    (void)state;
    cmcache_conf_t conf = test_conf();
    cmcache_t *c = make(&conf);
    cm_request_t req;
    assert_int_equal(cmcache_request_bulk(c, 0), 0);
    assert_int_equal(cmcache_request_bulk(c, 1), 1);
    expect_request(c, CM_REQ_BULK, "", "");
    assert_int_equal(cmcache_pop_request(c, &req), 0);
    req.kind = CM_REQ_BULK;
    req.uuid[0] = req.name[0] = '\0';
    assert_int_equal(cmcache_fail(c, &req, 500, 0, 100), 0);
    assert_int_equal(cmcache_request_bulk(c, 1099), CTX_EAGAIN);
    assert_int_equal(cmcache_request_bulk(c, 1100), 0);
    assert_int_equal(cmcache_pop_request(c, &req), 1);
    /* the bulk reply preloads VMs never looked up */
    assert_int_equal(cmcache_store(c, "p1", "vm-p1", CM_PART_STATIC, ctx_with("n", 1), 0, 1200), 0);
    assert_int_equal(cmcache_store(c, "p2", "vm-p2", CM_PART_STATIC, ctx_with("n", 2), 0, 1200), 0);
    assert_int_equal(cmcache_done(c, &req, 1200), 0);
    assert_int_equal(cmcache_request_bulk(c, 1300), 0);
    assert_int_equal(look(c, "p2", CM_MASK_STATIC, 1400), CM_OK);
    cmcache_stats_t s;
    cmcache_get_stats(c, &s);
    assert_int_equal(s.misses, 0);
    assert_int_equal(s.hits, 1);
    cmcache_free(c);
}

static void name_keys_and_bad_identities(void **state) {
    (void)state;
    cmcache_conf_t conf = test_conf();
    cmcache_t *c = make(&conf);
    cmcache_result_t r;
    assert_int_equal(cmcache_store(c, NULL, "byname", CM_PART_STATIC, ctx_with("x", 5), 0, 0), 0);
    assert_int_equal(cmcache_lookup(c, "", "byname", CM_MASK_STATIC, 1, &r), 0);
    assert_int_equal(r.status, CM_OK);
    cmcache_result_release(&r);
    assert_int_equal(cmcache_lookup(c, NULL, NULL, CM_MASK_STATIC, 1, &r), CTX_EINVAL);
    assert_int_equal(r.status, CM_UNAVAILABLE);
    assert_int_equal(cmcache_lookup(c, "x", NULL, 0, 1, &r), CTX_EINVAL);
    char longid[CM_UUID_MAX + 1];
    memset(longid, 'u', sizeof longid - 1);
    longid[CM_UUID_MAX] = '\0';
    assert_int_equal(cmcache_lookup(c, longid, NULL, CM_MASK_STATIC, 1, &r), CTX_EINVAL);
    assert_int_equal(cmcache_store(c, longid, NULL, CM_PART_STATIC, ctx_with("x", 1), 0, 1), CTX_EINVAL);
    assert_int_equal(cmcache_store(c, "ok", NULL, CM_PART_STATIC, NULL, 0, 1), CTX_EINVAL);
    assert_int_equal(cmcache_store(c, "ok", NULL, (cm_part_t)2, ctx_with("x", 1), 0, 1), CTX_EINVAL);
    cmcache_result_release(NULL);
    cmcache_free(NULL);
    assert_string_equal(cm_status_str(CM_OK), "ok");
    assert_string_equal(cm_status_str(CM_STALE), "stale");
    assert_string_equal(cm_status_str(CM_PENDING), "pending");
    assert_string_equal(cm_status_str(CM_UNAVAILABLE), "unavailable");
    assert_string_equal(cm_status_str((cm_status_t)9), "?");
    cmcache_free(c);
}

static void expect_conf_error(cmcache_conf_t conf, const char *msg) {
    char err[CTX_ERRLEN] = "";
    cmcache_t *c = (cmcache_t *)1;
    assert_int_equal(cmcache_new(&c, &conf, err, sizeof err), CTX_EINVAL);
    assert_null(c);
    assert_string_equal(err, msg);
}

/* one bad value per key: the error names the key, the bound and the value given */
static const conftab_row_t cache_bad[] = {
    CONFTAB_NUM(cmcache_conf_t, max_entries, 0, CTX_EINVAL, "cache.maxEntries: must be >= 1 (got 0)"),
    CONFTAB_NUM(cmcache_conf_t, max_entries, 20000000, CTX_EINVAL, "cache.maxEntries: must be <= 16777216 (got 20000000)"),
    CONFTAB_NUM(cmcache_conf_t, queue_max, 0, CTX_EINVAL, "cache.queueMax: must be >= 1 (got 0)"),
    CONFTAB_NUM(cmcache_conf_t, static_ttl_ms, 999, CTX_EINVAL, "cache.staticTTL: must be >= 1000 (got 999)"),
    CONFTAB_NUM(cmcache_conf_t, dynamic_ttl_ms, 5, CTX_EINVAL, "cache.dynamicTTL: must be >= 1000 (got 5)"),
    CONFTAB_NUM(cmcache_conf_t, unknown_ttl_ms, 0, CTX_EINVAL, "cache.unknownTTL: must be >= 1000 (got 0)"),
    CONFTAB_NUM(cmcache_conf_t, backoff_min_ms, 1, CTX_EINVAL, "cache.backoffMin: must be >= 10 (got 1)"),
    CONFTAB_NUM(cmcache_conf_t, backoff_max_ms, 500, CTX_EINVAL, "cache.backoffMax: must be >= 1000 (got 500)"),
    CONFTAB_NUM(cmcache_conf_t, jitter_pct, 101, CTX_EINVAL, "cache.jitter: must be <= 100 (got 101)"),
    CONFTAB_NUM(cmcache_conf_t, jitter_pct, -1, CTX_EINVAL, "cache.jitter: must be >= 0 (got -1)"),
    CONFTAB_NUM(cmcache_conf_t, idle_expire_ms, 10, CTX_EINVAL, "cache.idleExpire: must be >= 1000 (got 10)"),
    CONFTAB_NUM(cmcache_conf_t, max_stale_ms, -1, CTX_EINVAL, "cache.maxStale: must be >= 0 (got -1)"),
    CONFTAB_NUM(cmcache_conf_t, pending_timeout_ms, 0, CTX_EINVAL, "cache.pendingTimeout: must be >= 1000 (got 0)"),
};

static void conf_errors_name_the_key(void **state) {
    (void)state;
    cmcache_conf_t d;
    cmcache_conf_defaults(&d);
    char err[CTX_ERRLEN] = "";
    assert_int_equal(cmcache_conf_check(&d, err, sizeof err), 0);
    for (size_t i = 0; i < CONFTAB_LEN(cache_bad); i++) {
        cmcache_conf_t c = d;
        conftab_set(&c, &cache_bad[i]);
        expect_conf_error(c, cache_bad[i].msg);
    }
}

static void cmctx_copies_are_deep(void **state) {
    (void)state;
    const char *src = "{\"s\":\"x y\",\"i\":-9007199254740993,\"d\":1.5,\"b\":true,\"n\":null,"
                      "\"a\":[1,\"two\",{\"k\":false}],\"o\":{\"p\":{\"q\":\"r\"}}}";
    struct fjson_object *o = fjson_tokener_parse(src);
    assert_non_null(o);
    cmctx_t *x = cmctx_new(o);
    assert_non_null(x);
    assert_ptr_equal(cmctx_ref(x), x);
    struct fjson_object *copy = cmctx_to_json(x);
    assert_non_null(copy);
    assert_ptr_not_equal(copy, cmctx_peek(x));
    assert_string_equal(fjson_object_to_json_string_ext(copy, FJSON_TO_STRING_PLAIN),
                        "{\"s\":\"x y\",\"i\":-9007199254740993,\"d\":1.5,\"b\":true,\"n\":null,"
                        "\"a\":[1,\"two\",{\"k\":false}],\"o\":{\"p\":{\"q\":\"r\"}}}");
    struct fjson_object *inner = NULL;
    assert_true(fjson_object_object_get_ex(copy, "o", &inner));
    fjson_object_object_add(inner, "added", fjson_object_new_int(1));
    struct fjson_object *orig_o = NULL;
    assert_true(fjson_object_object_get_ex(cmctx_peek(x), "o", &orig_o));
    assert_int_equal(fjson_object_object_length(orig_o), 1); /* original untouched */
    fjson_object_put(copy);
    cmctx_unref(x);
    cmctx_unref(x);
    cmctx_unref(NULL);
    assert_null(cmctx_new(NULL));
    assert_null(cmctx_to_json(NULL));
    /* a number the field mapping rounded (kept with its text) copies as that text */
    struct fjson_object *r = fjson_object_new_object();
    fjson_object_object_add(r, "pct", fjson_object_new_double_s(12.3, "12.3"));
    cmctx_t *y = cmctx_new(r);
    struct fjson_object *ry = cmctx_to_json(y);
    assert_string_equal(fjson_object_to_json_string_ext(ry, FJSON_TO_STRING_PLAIN), "{\"pct\":12.3}");
    fjson_object_put(ry);
    cmctx_unref(y);
}

/* ---- threads: many workers, one fetcher: exactly one request per VM ---------------- */
#define NVMS 64
struct race {
    cmcache_t *c;
    int64_t now;
    int bad; /* failed checks on the fetcher thread (cmocka asserts only on the main thread) */
};

static void *worker(void *arg) {
    struct race *r = arg;
    for (int round = 0; round < 200; round++)
        for (int v = 0; v < NVMS; v++) {
            char id[16];
            snprintf(id, sizeof id, "vm-%d", v);
            cmcache_result_t res;
            if (cmcache_lookup(r->c, id, NULL, CM_MASK_STATIC, r->now, &res) == 0) cmcache_result_release(&res);
        }
    return NULL;
}

static void *fetcher(void *arg) {
    struct race *r = arg;
    int stored = 0;
    while (stored < NVMS) {
        cm_request_t req;
        if (!cmcache_pop_request(r->c, &req)) {
            struct pollfd p = {.fd = cmcache_notify_fd(r->c), .events = POLLIN};
            poll(&p, 1, 10);
            uint64_t v;
            ssize_t n = read(p.fd, &v, sizeof v);
            (void)n;
            continue;
        }
        if (cmcache_store(r->c, req.uuid, req.name, CM_PART_STATIC, ctx_with("v", stored), 0, r->now) != 0) r->bad++;
        if (cmcache_done(r->c, &req, r->now) != 0) r->bad++;
        stored++;
    }
    return NULL;
}

static void concurrent_lookups_make_one_request_per_vm(void **state) {
    (void)state;
    cmcache_conf_t conf = test_conf();
    cmcache_t *c = make(&conf);
    struct race r = {c, 1000, 0};
    pthread_t w[4], f;
    assert_int_equal(pthread_create(&f, NULL, fetcher, &r), 0);
    for (int i = 0; i < 4; i++) assert_int_equal(pthread_create(&w[i], NULL, worker, &r), 0);
    for (int i = 0; i < 4; i++) pthread_join(w[i], NULL);
    worker(&r); /* make sure every VM was asked at least once */
    pthread_join(f, NULL);
    assert_int_equal(r.bad, 0);
    cmcache_stats_t s;
    cmcache_get_stats(c, &s);
    assert_int_equal(s.enqueued, NVMS);
    assert_int_equal(s.entries, NVMS);
    assert_int_equal(s.hits + s.misses, 5 * 200 * NVMS);
    assert_int_equal(s.queued, 0);
    cmcache_free(c);
}

CTX_TEST_MAIN(NULL, NULL,
    cmocka_unit_test(miss_coalesces_into_one_request),
    cmocka_unit_test(store_then_ttl_then_stale_refresh),
    cmocka_unit_test(parts_have_own_ttl_and_worst_wins),
    cmocka_unit_test(failure_backs_off_exponentially),
    cmocka_unit_test(jitter_stays_within_bounds),
    cmocka_unit_test(not_found_marks_unknown_for_ttl),
    cmocka_unit_test(stale_served_through_failures_until_max_stale),
    cmocka_unit_test(lru_evicts_least_recently_seen),
    cmocka_unit_test(idle_entries_expire),
    cmocka_unit_test(queue_bound_and_retry_when_room),
    cmocka_unit_test(done_without_store_is_a_failure),
    cmocka_unit_test(pending_request_times_out),
    cmocka_unit_test(bulk_requests_coalesce_and_back_off),
    cmocka_unit_test(name_keys_and_bad_identities),
    cmocka_unit_test(conf_errors_name_the_key),
    cmocka_unit_test(cmctx_copies_are_deep),
    cmocka_unit_test(concurrent_lookups_make_one_request_per_vm))
