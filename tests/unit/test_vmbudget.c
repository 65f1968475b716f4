/* test_vmbudget.c: per-interface packets/s and bytes/s budgets with a clock driven by
 * hand: exact burst sizes, refill at the rate, interfaces independent, counters,
 * forgetting, argument checks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include "check.h"
#include <stdio.h>

#include "ctxlog_common.h"
#include "vmbudget.h"

#define MS 1000000ull
#define T0 (5000 * MS) /* a monotonic clock does not start at 0 */

static int take_n(ctx_vmbudget_t *b, const char *ifn, size_t bytes, uint64_t now, int n) {
    int ok = 0;
    for (int i = 0; i < n; i++) ok += ctx_vmbudget_take(b, ifn, bytes, now);
    return ok;
}

static void packets_per_second(void **state) {
    (void)state;
    ctx_vmbudget_t *b = NULL;
    assert_int_equal(ctx_vmbudget_new(1000, 0, 1000, &b), 0);
    /* a burst of one second's worth at once, then nothing */
    assert_int_equal(take_n(b, "vnet1", 100, T0, 1500), 1000);
    assert_int_equal(ctx_vmbudget_refused(b, "vnet1"), 500);
    /* 10 ms later: 10 packets' worth */
    assert_int_equal(take_n(b, "vnet1", 100, T0 + 10 * MS, 50), 10);
    /* another interface is not touched by vnet1's flood */
    assert_int_equal(take_n(b, "vnet2", 100, T0 + 10 * MS, 1000), 1000);
    assert_int_equal(ctx_vmbudget_refused(b, "vnet2"), 0);
    /* at the rate for 5 s: every packet passes */
    int ok = 0;
    for (uint64_t t = T0 + 11 * MS; t < T0 + 5011 * MS; t += MS) ok += ctx_vmbudget_take(b, "vnet1", 100, t);
    assert_int_equal(ok, 5000);
    /* idle for a minute: the burst comes back whole, not more */
    assert_int_equal(take_n(b, "vnet1", 100, T0 + 70000 * MS, 2000), 1000);
    ctx_vmbudget_free(b);
}

static void bytes_per_second(void **state) {
    (void)state;
    ctx_vmbudget_t *b = NULL;
    assert_int_equal(ctx_vmbudget_new(0, 100000, 1000, &b), 0);
    assert_int_equal(take_n(b, "tap0", 1000, T0, 200), 100);        /* 100 kB at once */
    assert_int_equal(take_n(b, "tap0", 1000, T0 + 100 * MS, 200), 10); /* 10 kB per 100 ms */
    assert_int_equal(take_n(b, "tap0", 10, T0 + 100 * MS, 1), 0);      /* even small ones wait */
    assert_int_equal(ctx_vmbudget_take(b, "tap1", 200000, T0), 0);    /* larger than a burst: never */
    assert_int_equal(ctx_vmbudget_refused(b, "tap1"), 1);
    ctx_vmbudget_free(b);
    /* both limits: the first one reached refuses */
    assert_int_equal(ctx_vmbudget_new(10, 1000, 1000, &b), 0);
    assert_int_equal(take_n(b, "v", 1, T0, 20), 10);
    assert_int_equal(take_n(b, "w", 500, T0, 20), 2);
    ctx_vmbudget_free(b);
}

static void forget_and_names(void **state) {
    (void)state;
    ctx_vmbudget_t *b = NULL;
    assert_int_equal(ctx_vmbudget_new(10, 0, 1000, &b), 0);
    for (int i = 0; i < 600; i++) { /* more interfaces than hash buckets */
        char n[16];
        snprintf(n, sizeof n, "vnet%d", i);
        assert_int_equal(take_n(b, n, 1, T0, 11), 10);
    }
    assert_int_equal(ctx_vmbudget_refused(b, "vnet599"), 1);
    ctx_vmbudget_forget(b, "vnet599");
    assert_int_equal(ctx_vmbudget_refused(b, "vnet599"), 0);
    assert_int_equal(take_n(b, "vnet599", 1, T0, 11), 10); /* a reused name starts afresh */
    /* names are cut at 15 bytes, like the kernel's */
    assert_int_equal(take_n(b, "0123456789abcdefXX", 1, T0, 5), 5);
    assert_int_equal(take_n(b, "0123456789abcdeYY", 1, T0, 6), 5);
    ctx_vmbudget_forget(b, "unknown");
    assert_int_equal(ctx_vmbudget_take(NULL, "x", 1, T0), 1);
    assert_int_equal(ctx_vmbudget_refused(NULL, "x"), 0);
    ctx_vmbudget_free(b);
    ctx_vmbudget_free(NULL);
}

static void arguments(void **state) {
    (void)state;
    ctx_vmbudget_t *b = (ctx_vmbudget_t *)1;
    assert_int_equal(ctx_vmbudget_new(0, 0, 1000, &b), CTX_EINVAL);
    assert_null(b);
    assert_int_equal(ctx_vmbudget_new(1, 0, 0, &b), CTX_EINVAL);
    assert_int_equal(ctx_vmbudget_new(1, 0, 1000, NULL), CTX_EINVAL);
}

CTX_TEST_MAIN(NULL, NULL,
    cmocka_unit_test(packets_per_second),
    cmocka_unit_test(bytes_per_second),
    cmocka_unit_test(forget_and_names),
    cmocka_unit_test(arguments))
