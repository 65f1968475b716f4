#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "check.h"
#include <string.h>

#include "backoff.h"
#include "ctxlog_common.h"

static void delay_bounds_and_doubling(void **state) {
    (void)state;
    /* rnd = max gives the ceiling: base * 2^attempt, capped at max */
    assert_int_equal(ctx_backoff_delay_ms(0, 100, 10000, 0, UINT64_MAX), 100);
    assert_int_equal(ctx_backoff_delay_ms(0, 100, 10000, 1, UINT64_MAX), 200);
    assert_int_equal(ctx_backoff_delay_ms(0, 100, 10000, 6, UINT64_MAX), 6400);
    assert_int_equal(ctx_backoff_delay_ms(0, 100, 10000, 7, UINT64_MAX), 10000);
    assert_int_equal(ctx_backoff_delay_ms(0, 100, 10000, 4000000000u, UINT64_MAX), 10000);
    /* rnd = 0 gives the floor */
    assert_int_equal(ctx_backoff_delay_ms(0, 100, 10000, 5, 0), 0);
    assert_int_equal(ctx_backoff_delay_ms(50, 100, 10000, 5, 0), 50);
    /* rnd = 2^63: the middle of [min, ceil]: floor((ceil - min + 1) / 2) + min */
    assert_int_equal(ctx_backoff_delay_ms(0, 100, 10000, 0, 1ULL << 63), 50);
    assert_int_equal(ctx_backoff_delay_ms(50, 100, 10000, 0, 1ULL << 63), 75);
    /* degenerate bounds */
    assert_int_equal(ctx_backoff_delay_ms(500, 100, 400, 3, UINT64_MAX), 500);
    assert_int_equal(ctx_backoff_delay_ms(20, 0, 400, 3, UINT64_MAX), 20);
    assert_int_equal(ctx_backoff_delay_ms(300, 100, 10000, 0, UINT64_MAX), 300); /* ceil 100 < min */
    /* no overflow near the top of the range */
    assert_int_equal(ctx_backoff_delay_ms(0, UINT64_MAX / 2 + 1, UINT64_MAX, 5, UINT64_MAX), UINT64_MAX);
    assert_int_equal(ctx_backoff_delay_ms(1, UINT64_MAX / 3, UINT64_MAX - 1, 63, 0), 1);
}

typedef struct {
    const uint64_t *v;
    size_t n, i;
} seq_t;

static uint64_t from_seq(void *arg) {
    seq_t *s = arg;
    return s->v[s->i++ % s->n];
}

static void object_counts_attempts_and_resets(void **state) {
    (void)state;
    const uint64_t vals[] = {UINT64_MAX, UINT64_MAX, 0, UINT64_MAX, 1ULL << 63};
    seq_t s = {vals, 5, 0};
    ctx_backoff_t *b;
    assert_int_equal(ctx_backoff_new(10, 100, 1000, from_seq, &s, &b), 0);
    assert_int_equal(ctx_backoff_attempts(b), 0);
    assert_int_equal(ctx_backoff_next_ms(b), 100);  /* attempt 0: ceil 100 */
    assert_int_equal(ctx_backoff_next_ms(b), 200);  /* attempt 1: ceil 200 */
    assert_int_equal(ctx_backoff_next_ms(b), 10);   /* attempt 2: floor */
    assert_int_equal(ctx_backoff_next_ms(b), 800);  /* attempt 3: ceil 800 */
    assert_int_equal(ctx_backoff_next_ms(b), 505);  /* attempt 4: ceil 1000 (capped), middle of [10, 1000] */
    assert_int_equal(ctx_backoff_attempts(b), 5);
    assert_int_equal(s.i, 5);
    ctx_backoff_reset(b);
    assert_int_equal(ctx_backoff_attempts(b), 0);
    assert_int_equal(ctx_backoff_next_ms(b), 100); /* back to attempt 0 */
    ctx_backoff_free(b);
    ctx_backoff_free(NULL);
}

static void rejects_bad_bounds(void **state) {
    (void)state;
    ctx_backoff_t *b = (ctx_backoff_t *)1;
    assert_int_equal(ctx_backoff_new(0, 100, 0, NULL, NULL, &b), CTX_EINVAL);
    assert_null(b);
    b = (ctx_backoff_t *)1;
    assert_int_equal(ctx_backoff_new(200, 100, 1000, NULL, NULL, &b), CTX_EINVAL);
    assert_null(b);
    assert_int_equal(ctx_backoff_new(0, 2000, 1000, NULL, NULL, &b), CTX_EINVAL);
    assert_int_equal(ctx_backoff_new(0, 1, 1, NULL, NULL, NULL), CTX_EINVAL);
}

static void default_random_is_jittered_and_bounded(void **state) {
    (void)state;
    ctx_backoff_t *b;
    assert_int_equal(ctx_backoff_new(0, 1000, 1000, NULL, NULL, &b), 0);
    unsigned low = 0, high = 0;
    for (int i = 0; i < 2000; i++) {
        uint64_t d = ctx_backoff_next_ms(b);
        ASSERT_LE(d, 1000);
        low += d < 250;
        high += d > 750;
    }
    /* uniform on [0, 1000]: about 500 each; 300 is far below any plausible sample */
    ASSERT_GT(low, 300);
    ASSERT_GT(high, 300);
    ctx_backoff_free(b);
}

CTX_TEST_MAIN(NULL, NULL,
    cmocka_unit_test(delay_bounds_and_doubling),
    cmocka_unit_test(object_counts_attempts_and_resets),
    cmocka_unit_test(rejects_bad_bounds),
    cmocka_unit_test(default_random_is_jittered_and_bounded))
