/* Unit tests of common/context/cmfetch.c's bounds, against the test server of cmfetch_fx.h:
 * a 429's Retry-After holds every request, at most maxInFlight transfers, the request rate,
 * a timeout counted as one, and a prompt shutdown while the server hangs. The rest of
 * cmfetch: test_cmfetch.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "check.h"
#include <string.h>

#include "cmcache.h"
#include "cmfetch.h"
#include "ctxlog_common.h"
#include "cmfetch_fx.h"

static void throttle_holds_all_requests(void **state) {
    (void)state;
    struct env e = {.srv = srv_start()};
    char url[256];
    cmfetch_conf_t fc = base_conf(e.srv, url, sizeof url);
    env_start(&e, &fc);
    assert_int_equal(look(&e, "busy-1", NULL, CM_MASK_STATIC), CM_PENDING);
    wait_completed(e.f, 1);
    assert_int_equal(look(&e, "ok-after", NULL, CM_MASK_STATIC), CM_PENDING);
    wait_completed(e.f, 2);
    cmfetch_stats_t s;
    cmfetch_get_stats(e.f, &s);
    assert_int_equal(s.throttled, 1);
    assert_int_equal(s.ok, 1);
    assert_int_equal(srv_count(e.srv), 2);
    int64_t gap = srv_seen(e.srv, 1).at - srv_seen(e.srv, 0).at;
    ASSERT_GE(gap, 1900); /* Retry-After: 2 */
    ASSERT_LT(gap, 4000);
    env_stop(&e);
}

static void bounds_requests_in_flight(void **state) {
    (void)state;
    struct env e = {.srv = srv_start()};
    char url[256];
    cmfetch_conf_t fc = base_conf(e.srv, url, sizeof url);
    fc.max_inflight = 2;
    env_start(&e, &fc);
    const char *ids[] = {"slow-a", "slow-b", "slow-c", "slow-d", "slow-e", "slow-f"};
    uint64_t t0 = cmcache_clock_ms();
    for (int i = 0; i < 6; i++) assert_int_equal(look(&e, ids[i], NULL, CM_MASK_STATIC), CM_PENDING);
    wait_completed(e.f, 6);
    uint64_t took = cmcache_clock_ms() - t0;
    /* Each slow reply takes 300 ms. With at most 2 transfers in flight, 6 of them take
     * at least 3 rounds (900 ms); with 3 in flight they would be done after 2 rounds.
     * A loaded machine only makes it slower, so this cannot fail spuriously. (The
     * server's own "active" count is not used: the client starts the next request as
     * soon as it has read a reply, before the server thread notes that it is done.) */
    ASSERT_GE(took, 880);
    ASSERT_GE(srv_max_active(e.srv), 2);
    assert_int_equal(srv_count(e.srv), 6);
    for (int i = 0; i < 6; i++) assert_int_equal(look(&e, ids[i], NULL, CM_MASK_STATIC), CM_OK);
    env_stop(&e);
}

static void bounds_request_rate(void **state) {
    (void)state;
    struct env e = {.srv = srv_start()};
    char url[256];
    cmfetch_conf_t fc = base_conf(e.srv, url, sizeof url);
    fc.rate_per_sec = 5;
    fc.burst = 1;
    env_start(&e, &fc);
    char id[16];
    for (int i = 0; i < 6; i++) {
        snprintf(id, sizeof id, "ok-%d", i);
        assert_int_equal(look(&e, id, NULL, CM_MASK_STATIC), CM_PENDING);
    }
    wait_completed(e.f, 6);
    assert_int_equal(srv_count(e.srv), 6);
    int64_t lo = INT64_MAX, hi = 0;
    for (int i = 0; i < 6; i++) {
        if (srv_seen(e.srv, i).at < lo) lo = srv_seen(e.srv, i).at;
        if (srv_seen(e.srv, i).at > hi) hi = srv_seen(e.srv, i).at;
    }
    /* 5 gaps of 200 ms: never fewer, as a loaded machine only makes it slower. The upper
     * bound only catches a stalled fetcher: the schedule itself is checked to the
     * microsecond on a hand-driven clock in test_gcra (fetcher_schedule). */
    ASSERT_GE(hi - lo, 950);
    ASSERT_LT(hi - lo, 10000);
    env_stop(&e);
}

static void timeout_is_counted(void **state) {
    (void)state;
    struct env e = {.srv = srv_start()};
    char url[256];
    cmfetch_conf_t fc = base_conf(e.srv, url, sizeof url);
    fc.timeout_ms = 300;
    env_start(&e, &fc);
    int64_t t0 = cmcache_clock_ms();
    assert_int_equal(look(&e, "hang-1", NULL, CM_MASK_STATIC), CM_PENDING);
    wait_completed(e.f, 1);
    ASSERT_LT(cmcache_clock_ms() - t0, 2000);
    cmfetch_stats_t s;
    cmfetch_get_stats(e.f, &s);
    assert_int_equal(s.timeouts, 1);
    assert_int_equal(s.errors, 0);
    assert_int_equal(look(&e, "hang-1", NULL, CM_MASK_STATIC), CM_UNAVAILABLE);
    pthread_mutex_lock(&e.mu);
    assert_int_equal(e.nlog, 1);
    assert_non_null(strstr(e.log[0], "/vm/hang-1?name= failed: timeout (Timeout was reached)"));
    pthread_mutex_unlock(&e.mu);
    env_stop(&e);
}

static void shutdown_with_hanging_server_is_prompt(void **state) {
    (void)state;
    struct env e = {.srv = srv_start()};
    char url[256];
    cmfetch_conf_t fc = base_conf(e.srv, url, sizeof url);
    fc.timeout_ms = 60000;
    env_start(&e, &fc);
    assert_int_equal(look(&e, "hang-2", NULL, CM_MASK_STATIC), CM_PENDING);
    for (int i = 0; i < 400 && srv_max_active(e.srv) == 0; i++) sleep_ms(5);
    assert_int_equal(srv_max_active(e.srv), 1);
    int64_t t0 = cmcache_clock_ms();
    cmfetch_free(e.f);
    e.f = NULL;
    ASSERT_LT(cmcache_clock_ms() - t0, 1000);
    /* the request was abandoned, not failed: the next lookup queues it again */
    assert_int_equal(look(&e, "hang-2", NULL, CM_MASK_STATIC), CM_PENDING);
    cmcache_stats_t cs;
    cmcache_get_stats(e.cache, &cs);
    assert_int_equal(cs.enqueued, 2);
    assert_int_equal(cs.failures, 0);
    env_stop(&e);
}

CTX_TEST_MAIN(NULL, NULL,
    cmocka_unit_test(throttle_holds_all_requests),
    cmocka_unit_test(bounds_requests_in_flight),
    cmocka_unit_test(bounds_request_rate),
    cmocka_unit_test(timeout_is_counted),
    cmocka_unit_test(shutdown_with_hanging_server_is_prompt))
