/* test_slot.c: the reload slot (common/base/slot.h): generations, who destroys what
 * and when, the reader's cache, and readers racing a writer (ASan catches a version
 * used after its last reference; the counts catch a leak or a double destroy). */
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "check.h"

#include "ctxlog_common.h"
#include "slot.h"

#define MAGIC 0x51a7c0deu

struct obj {
    unsigned magic;
    uint64_t id;   /* the order it was made in: the writer sets them in this order */
};

static int made, destroyed; /* atomics */

static struct obj *obj_new(uint64_t id) {
    struct obj *o = malloc(sizeof *o);
    assert_non_null(o);
    o->magic = MAGIC;
    o->id = id;
    __atomic_add_fetch(&made, 1, __ATOMIC_RELAXED);
    return o;
}

static void obj_destroy(void *p) {
    struct obj *o = p;
    if (o->magic != MAGIC) abort(); /* destroyed twice: may run on a reader thread, no cmocka assert there */
    o->magic = 0;
    __atomic_add_fetch(&destroyed, 1, __ATOMIC_RELAXED);
    free(o);
}

static int reset(void **state) {
    (void)state;
    made = destroyed = 0;
    return 0;
}

static void test_args(void **state) {
    (void)state;
    ctx_slot_t *s = (ctx_slot_t *)1;
    assert_int_equal(ctx_slot_new(NULL, &s), CTX_EINVAL);
    assert_null(s);
    assert_int_equal(ctx_slot_new(obj_destroy, NULL), CTX_EINVAL);
    assert_int_equal(ctx_slot_set(NULL, NULL), CTX_EINVAL);
    assert_null(ctx_slot_acquire(NULL));
    assert_int_equal(ctx_slot_generation(NULL), 0);
    assert_null(ctx_slot_obj(NULL));
    assert_int_equal(ctx_slot_ref_generation(NULL), 0);
    assert_null(ctx_slot_ref_hold(NULL));
    ctx_slot_release(NULL);
    ctx_slot_free(NULL);
    assert_null(ctx_slot_read(NULL, NULL));
    ctx_slot_reader_drop(NULL);
    assert_int_equal(ctx_slot_reader_generation(NULL), 0);
}

static void test_empty(void **state) {
    (void)state;
    ctx_slot_t *s = NULL;
    assert_int_equal(ctx_slot_new(obj_destroy, &s), 0);
    assert_int_equal(ctx_slot_generation(s), 0);
    assert_null(ctx_slot_acquire(s));
    ctx_slot_reader_t rd = CTX_SLOT_READER_INIT;
    assert_null(ctx_slot_read(s, &rd));
    assert_int_equal(ctx_slot_reader_generation(&rd), 0);
    ctx_slot_free(s);
    assert_int_equal(made, 0);
    assert_int_equal(destroyed, 0);
}

/* the writer swaps; a version lives while a reference to it does, and no longer */
static void test_swap_and_last_reference(void **state) {
    (void)state;
    ctx_slot_t *s = NULL;
    assert_int_equal(ctx_slot_new(obj_destroy, &s), 0);
    struct obj *a = obj_new(1), *b = obj_new(2);
    assert_int_equal(ctx_slot_set(s, a), 0);
    assert_int_equal(ctx_slot_generation(s), 1);
    ctx_slot_ref_t *ra = ctx_slot_acquire(s);
    assert_ptr_equal(ctx_slot_obj(ra), a);
    assert_int_equal(ctx_slot_ref_generation(ra), 1);
    ctx_slot_ref_t *ra2 = ctx_slot_ref_hold(ra);
    assert_ptr_equal(ra2, ra);

    assert_int_equal(ctx_slot_set(s, b), 0);
    assert_int_equal(ctx_slot_generation(s), 2);
    assert_int_equal(destroyed, 0); /* a still held twice */
    ctx_slot_ref_t *rb = ctx_slot_acquire(s);
    assert_ptr_equal(ctx_slot_obj(rb), b);
    assert_int_equal(ctx_slot_ref_generation(rb), 2);
    assert_int_equal(a->magic, MAGIC);
    ctx_slot_release(ra);
    assert_int_equal(destroyed, 0);
    ctx_slot_release(ra2); /* the last reference to a */
    assert_int_equal(destroyed, 1);

    assert_int_equal(ctx_slot_set(s, NULL), 0); /* emptied: b lives on in rb */
    assert_int_equal(ctx_slot_generation(s), 3);
    assert_null(ctx_slot_acquire(s));
    assert_int_equal(destroyed, 1);
    assert_int_equal(((struct obj *)ctx_slot_obj(rb))->magic, MAGIC);
    ctx_slot_release(rb);
    assert_int_equal(destroyed, 2);
    ctx_slot_free(s);
    assert_int_equal(made, 2);
}

/* freeing the slot leaves readers' references valid */
static void test_free_with_readers(void **state) {
    (void)state;
    ctx_slot_t *s = NULL;
    assert_int_equal(ctx_slot_new(obj_destroy, &s), 0);
    assert_int_equal(ctx_slot_set(s, obj_new(7)), 0);
    ctx_slot_reader_t rd = CTX_SLOT_READER_INIT;
    struct obj *o = ctx_slot_read(s, &rd);
    ctx_slot_free(s);
    assert_int_equal(destroyed, 0);
    assert_int_equal(o->magic, MAGIC);
    assert_int_equal(o->id, 7);
    ctx_slot_reader_drop(&rd);
    assert_null(rd.ref);
    assert_int_equal(destroyed, 1);
}

/* the reader re-acquires only when the generation changed */
static void test_reader_cache(void **state) {
    (void)state;
    ctx_slot_t *s = NULL;
    assert_int_equal(ctx_slot_new(obj_destroy, &s), 0);
    struct obj *a = obj_new(1), *b = obj_new(2);
    assert_int_equal(ctx_slot_set(s, a), 0);
    ctx_slot_reader_t rd = CTX_SLOT_READER_INIT;
    assert_ptr_equal(ctx_slot_read(s, &rd), a);
    ctx_slot_ref_t *held = rd.ref;
    assert_ptr_equal(ctx_slot_read(s, &rd), a);
    assert_ptr_equal(rd.ref, held); /* same reference: nothing taken again */
    assert_int_equal(ctx_slot_reader_generation(&rd), 1);

    assert_int_equal(ctx_slot_set(s, b), 0);
    assert_int_equal(destroyed, 0); /* the reader still holds a */
    assert_ptr_equal(ctx_slot_read(s, &rd), b);
    assert_int_equal(destroyed, 1); /* its old reference went */
    assert_int_equal(ctx_slot_reader_generation(&rd), 2);

    assert_int_equal(ctx_slot_set(s, NULL), 0);
    assert_null(ctx_slot_read(s, &rd));
    assert_int_equal(destroyed, 2);
    assert_null(rd.ref);
    ctx_slot_reader_drop(&rd);
    ctx_slot_free(s);
}

/* ---- readers racing a writer ---- */

#define READERS 4
#define SWAPS 2000

struct race {
    ctx_slot_t *s;
    int stop;           /* atomic */
    int started;        /* atomic: readers that have read once (the writer waits for all) */
    uint64_t reads[READERS];
    int bad[READERS];   /* a dead object seen, or versions going backwards */
};

struct reader_arg {
    struct race *race;
    int i;
};

static void *reader_main(void *p) {
    struct reader_arg *ra = p;
    struct race *race = ra->race;
    ctx_slot_reader_t rd = CTX_SLOT_READER_INIT;
    uint64_t last_id = 0, last_gen = 0;
    while (!__atomic_load_n(&race->stop, __ATOMIC_ACQUIRE)) {
        struct obj *o = ctx_slot_read(race->s, &rd); /* the per-message path */
        if (o != NULL) {
            uint64_t g = ctx_slot_reader_generation(&rd);
            if (o->magic != MAGIC || o->id < last_id || g < last_gen) race->bad[ra->i]++;
            last_id = o->id;
            last_gen = g;
        }
        ctx_slot_ref_t *r = ctx_slot_acquire(race->s); /* the per-transaction path */
        struct obj *q = ctx_slot_obj(r);
        if (q != NULL && (q->magic != MAGIC || q->id < last_id)) race->bad[ra->i]++;
        ctx_slot_release(r);
        if (race->reads[ra->i]++ == 0) __atomic_add_fetch(&race->started, 1, __ATOMIC_RELEASE);
    }
    ctx_slot_reader_drop(&rd);
    return NULL;
}

static void test_race(void **state) {
    (void)state;
    struct race race = {0};
    struct reader_arg args[READERS];
    pthread_t th[READERS];
    assert_int_equal(ctx_slot_new(obj_destroy, &race.s), 0);
    assert_int_equal(ctx_slot_set(race.s, obj_new(1)), 0);
    for (int i = 0; i < READERS; i++) {
        args[i] = (struct reader_arg){&race, i};
        assert_int_equal(pthread_create(&th[i], NULL, reader_main, &args[i]), 0);
    }
    /* on a loaded machine a reader may not run before the writer is done: wait for each
     * to read once, so every one of them races the swaps below */
    while (__atomic_load_n(&race.started, __ATOMIC_ACQUIRE) < READERS) sched_yield();
    for (uint64_t id = 2; id <= SWAPS + 1; id++) {
        struct obj *o = obj_new(id);
        assert_int_equal(ctx_slot_set(race.s, o), 0);
        if (id % 500 == 0) assert_int_equal(ctx_slot_set(race.s, NULL), 0); /* readers see an empty slot too */
        if (id % 64 == 0) sched_yield();
    }
    __atomic_store_n(&race.stop, 1, __ATOMIC_RELEASE);
    for (int i = 0; i < READERS; i++) {
        assert_int_equal(pthread_join(th[i], NULL), 0);
        assert_int_equal(race.bad[i], 0);
        ASSERT_GT(race.reads[i], 0);
    }
    assert_int_equal(ctx_slot_generation(race.s), SWAPS + 1 + SWAPS / 500);
    assert_int_equal(destroyed, made - 1); /* only the current one is left */
    ctx_slot_free(race.s);
    assert_int_equal(destroyed, made);
    assert_int_equal(made, SWAPS + 1);
}

CTX_TEST_MAIN(NULL, NULL,
    cmocka_unit_test_setup(test_args, reset),
    cmocka_unit_test_setup(test_empty, reset),
    cmocka_unit_test_setup(test_swap_and_last_reference, reset),
    cmocka_unit_test_setup(test_free_with_readers, reset),
    cmocka_unit_test_setup(test_reader_cache, reset),
    cmocka_unit_test_setup(test_race, reset))
