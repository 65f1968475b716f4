/* test_gcra.c: common/base/gcra.h, the one rate limiter, on a clock driven by hand: the
 * burst after a quiet spell, one event per cost after it, the wait it announces (exactly
 * when the next event passes), no credit saved beyond the burst, a cost over the burst,
 * and the compute-manager fetcher's use of it (cm.ratePerSec=5, cm.burst=1: the six
 * requests that test_cmfetch_limits sends on the real clock, here to the microsecond). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include "check.h"

#include "gcra.h"

#define T0 5000000u /* a monotonic clock does not start at 0 */

static void burst_then_one_per_cost(void **state) {
    (void)state;
    uint64_t tat = 0, cost = 100, burst = 300; /* 3 back to back, then one per 100 */
    for (int i = 0; i < 3; i++) assert_int_equal(ctx_gcra_take(&tat, cost, T0, burst), 1);
    assert_int_equal(ctx_gcra_take(&tat, cost, T0, burst), 0);
    assert_int_equal(tat, T0 + 300); /* a refusal leaves the bucket as it was */
    assert_int_equal(ctx_gcra_wait(tat, cost, T0, burst), 100);
    assert_int_equal(ctx_gcra_wait(tat, cost, T0 + 99, burst), 1);
    assert_int_equal(ctx_gcra_take(&tat, cost, T0 + 99, burst), 0);
    assert_int_equal(ctx_gcra_wait(tat, cost, T0 + 100, burst), 0);
    assert_int_equal(ctx_gcra_take(&tat, cost, T0 + 100, burst), 1);
    assert_int_equal(ctx_gcra_take(&tat, cost, T0 + 100, burst), 0);
    /* a long quiet spell gives back the burst, never more */
    uint64_t later = T0 + 1000000;
    int n = 0;
    while (ctx_gcra_take(&tat, cost, later, burst)) n++;
    assert_int_equal(n, 3);
}

static void next_commits_only_when_asked(void **state) {
    (void)state;
    uint64_t tat = T0 + 50, next = 0;
    assert_int_equal(ctx_gcra_next(tat, 100, T0, 200, &next), 1);
    assert_int_equal(next, T0 + 150);
    assert_int_equal(ctx_gcra_next(tat, 200, T0, 200, &next), 0); /* 250 ahead: over */
    assert_int_equal(tat, T0 + 50);
    assert_int_equal(ctx_gcra_next(0, 200, T0, 200, &next), 1); /* exactly the burst */
}

static void cost_over_burst_never_passes(void **state) {
    (void)state;
    uint64_t tat = 0;
    assert_int_equal(ctx_gcra_take(&tat, 301, T0, 300), 0);
    assert_int_equal(ctx_gcra_wait(tat, 301, T0, 300), UINT64_MAX);
    assert_int_equal(ctx_gcra_wait(0, 0, T0, 0), 0); /* free events always pass */
}

/* cmfetch: cost 1e6/5 us, burst 1 request; it starts a request when the wait is 0 and
 * otherwise sleeps the announced wait (rounded up to the ms): six queued requests go out
 * 200 ms apart, the first at once, on the clock the fetcher would read. */
static void fetcher_schedule(void **state) {
    (void)state;
    const uint64_t cost = 200000, burst = 200000;
    uint64_t tat = 0, now = T0, sent[6];
    for (int i = 0; i < 6; i++) {
        uint64_t w = ctx_gcra_wait(tat, cost, now, burst);
        now += w;
        assert_int_equal(ctx_gcra_take(&tat, cost, now, burst), 1);
        sent[i] = now;
    }
    for (int i = 1; i < 6; i++) assert_int_equal(sent[i] - sent[i - 1], 200000);
    assert_int_equal(sent[0], T0);
}

CTX_TEST_MAIN(NULL, NULL,
    cmocka_unit_test(burst_then_one_per_cost),
    cmocka_unit_test(next_commits_only_when_asked),
    cmocka_unit_test(cost_over_burst_never_passes),
    cmocka_unit_test(fetcher_schedule))
