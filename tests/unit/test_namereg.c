/* test_namereg.c: the bounded name registry: slots in order, a name keeps its slot,
 * `created` once per slot, refusal beyond the bound (and nothing registered then),
 * a zero bound, argument checks, and threads racing for the same names. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include "check.h"
#include <pthread.h>
#include <stdio.h>

#include "ctxlog_common.h"
#include "namereg.h"

static void slots_in_order(void **state) {
    (void)state;
    ctx_namereg_t *r = NULL;
    int created = -1;
    assert_int_equal(ctx_namereg_new(3, &r), 0);
    assert_int_equal(ctx_namereg_get(r, "acme/web", &created), 0);
    assert_int_equal(created, 1);
    assert_int_equal(ctx_namereg_get(r, "globex/db", &created), 1);
    assert_int_equal(created, 1);
    assert_int_equal(ctx_namereg_get(r, "acme/web", &created), 0); /* keeps its slot */
    assert_int_equal(created, 0);
    assert_int_equal(ctx_namereg_get(r, "x", NULL), 2);
    assert_int_equal(ctx_namereg_get(r, "y", &created), CTX_EFULL); /* the bound */
    assert_int_equal(created, 0);
    assert_int_equal(ctx_namereg_get(r, "y", &created), CTX_EFULL); /* still refused, not remembered */
    assert_int_equal(ctx_namereg_get(r, "globex/db", &created), 1); /* known names still found */
    assert_int_equal(ctx_namereg_count(r), 3);
    assert_string_equal(ctx_namereg_name(r, 1), "globex/db");
    assert_null(ctx_namereg_name(r, 3));
    ctx_namereg_free(r);
}

static void zero_bound_and_arguments(void **state) {
    (void)state;
    ctx_namereg_t *r = NULL;
    assert_int_equal(ctx_namereg_new(0, &r), 0);
    assert_int_equal(ctx_namereg_get(r, "a", NULL), CTX_EFULL);
    assert_int_equal(ctx_namereg_count(r), 0);
    assert_int_equal(ctx_namereg_get(r, NULL, NULL), CTX_EINVAL);
    assert_int_equal(ctx_namereg_get(NULL, "a", NULL), CTX_EINVAL);
    assert_int_equal(ctx_namereg_new(1, NULL), CTX_EINVAL);
    assert_int_equal(ctx_namereg_count(NULL), 0);
    assert_null(ctx_namereg_name(NULL, 0));
    ctx_namereg_free(r);
    ctx_namereg_free(NULL);
}

#define THREADS 4
#define NAMES 50
struct race {
    ctx_namereg_t *r;
    int created; /* slots this thread registered */
    int slot[NAMES];
};

static void *racer(void *arg) {
    struct race *x = arg;
    char name[16];
    for (int i = 0; i < NAMES; i++) {
        int c = 0;
        snprintf(name, sizeof name, "vm%d", i);
        x->slot[i] = ctx_namereg_get(x->r, name, &c);
        x->created += c;
    }
    return NULL;
}

/* every thread sees the same slot for a name, each slot is created once, the bound holds */
static void threads_agree(void **state) {
    (void)state;
    ctx_namereg_t *r = NULL;
    assert_int_equal(ctx_namereg_new(40, &r), 0);
    struct race x[THREADS] = {0};
    pthread_t t[THREADS];
    for (int i = 0; i < THREADS; i++) {
        x[i].r = r;
        assert_int_equal(pthread_create(&t[i], NULL, racer, &x[i]), 0);
    }
    int created = 0, full = 0;
    for (int i = 0; i < THREADS; i++) {
        pthread_join(t[i], NULL);
        created += x[i].created;
    }
    for (int n = 0; n < NAMES; n++) {
        for (int i = 1; i < THREADS; i++) assert_int_equal(x[i].slot[n], x[0].slot[n]);
        full += x[0].slot[n] == CTX_EFULL;
    }
    assert_int_equal(created, 40);
    assert_int_equal(full, NAMES - 40);
    assert_int_equal(ctx_namereg_count(r), 40);
    ctx_namereg_free(r);
}

CTX_TEST_MAIN(NULL, NULL,
    cmocka_unit_test(slots_in_order),
    cmocka_unit_test(zero_bound_and_arguments),
    cmocka_unit_test(threads_agree))
