/* test_jsonintern.c: shared short strings: one object per text while it stays in the
 * table, references that outlive the table and replaced slots, long texts not shared,
 * and shared objects read from many threads at once. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <json.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "jsonintern.h"

static void same_text_same_object(void **state) {
    (void)state;
    ctx_json_intern_t *t = ctx_json_intern_new(64);
    assert_non_null(t);
    struct fjson_object *a = ctx_json_intern_str(t, "10.231.1.2"), *b = ctx_json_intern_str(t, "10.231.1.2");
    struct fjson_object *c = ctx_json_intern_str(t, "10.231.1.1");
    assert_ptr_equal(a, b);
    assert_ptr_not_equal(a, c);
    assert_string_equal(fjson_object_get_string(a), "10.231.1.2");
    assert_string_equal(fjson_object_get_string(c), "10.231.1.1");
    assert_int_equal(fjson_object_get_string_len(c), 10);
    unsigned long long hits, lookups;
    ctx_json_intern_stats(t, &hits, &lookups);
    assert_int_equal(hits, 1);
    assert_int_equal(lookups, 3);
    fjson_object_put(a);
    fjson_object_put(b);
    ctx_json_intern_free(t); /* c outlives the table */
    assert_string_equal(fjson_object_get_string(c), "10.231.1.1");
    fjson_object_put(c);
}

/* a table of one slot: every other text replaces the occupant; the old objects live on */
static void replaced_slot_keeps_held_objects(void **state) {
    (void)state;
    ctx_json_intern_t *t = ctx_json_intern_new(1);
    struct fjson_object *held[50];
    char s[32];
    for (int i = 0; i < 50; i++) {
        snprintf(s, sizeof s, "fd42:c7:0:%d::2", i % 5);
        held[i] = ctx_json_intern_str(t, s);
        assert_non_null(held[i]);
    }
    for (int i = 0; i < 50; i++) {
        snprintf(s, sizeof s, "fd42:c7:0:%d::2", i % 5);
        assert_string_equal(fjson_object_get_string(held[i]), s);
    }
    unsigned long long hits, lookups;
    ctx_json_intern_stats(t, &hits, &lookups);
    assert_int_equal(hits, 0); /* i % 5 changes on every call: always replaced */
    ctx_json_intern_free(t);
    for (int i = 0; i < 50; i++) fjson_object_put(held[i]);
}

static void long_text_not_shared(void **state) {
    (void)state;
    ctx_json_intern_t *t = ctx_json_intern_new(8);
    char s[CTX_JSON_INTERN_MAXLEN + 1];
    memset(s, 'x', sizeof s - 1);
    s[sizeof s - 1] = '\0';
    struct fjson_object *a = ctx_json_intern_str(t, s), *b = ctx_json_intern_str(t, s);
    assert_ptr_not_equal(a, b);
    assert_string_equal(fjson_object_get_string(a), s);
    s[CTX_JSON_INTERN_MAXLEN - 1] = '\0'; /* 47 bytes: shared */
    struct fjson_object *c = ctx_json_intern_str(t, s), *d = ctx_json_intern_str(t, s);
    assert_ptr_equal(c, d);
    assert_string_equal(fjson_object_get_string(c), s);
    struct fjson_object *e = ctx_json_intern_str(t, ""); /* empty: shared too */
    assert_string_equal(fjson_object_get_string(e), "");
    for (struct fjson_object **o = (struct fjson_object *[]){a, b, c, d, e, NULL}; *o != NULL; o++) fjson_object_put(*o);
    ctx_json_intern_free(t);
}

static void bad_sizes(void **state) {
    (void)state;
    assert_null(ctx_json_intern_new(0));
    assert_null(ctx_json_intern_new(3));
    assert_null(ctx_json_intern_new(131072));
    ctx_json_intern_free(NULL);
}

/* messages holding a shared string, made by one thread, serialized and freed by others */
#define READERS 4
#define ROUNDS 20000
struct shared_q {
    struct fjson_object *obj[READERS];
    int bad;
};

static void *reader(void *arg) {
    struct fjson_object *s = arg;
    int bad = 0;
    for (int i = 0; i < ROUNDS; i++) {
        struct fjson_object *p = fjson_object_new_object();
        fjson_object_object_add(p, "src", fjson_object_get(s));
        if (strcmp(fjson_object_to_json_string_ext(p, FJSON_TO_STRING_SPACED), "{ \"src\": \"10.231.1.2\" }") != 0) bad++;
        if (strcmp(fjson_object_get_string(s), "10.231.1.2") != 0) bad++;
        fjson_object_put(p);
    }
    fjson_object_put(s);
    return (void *)(intptr_t)bad;
}

static void shared_across_threads(void **state) {
    (void)state;
    ctx_json_intern_t *t = ctx_json_intern_new(16);
    pthread_t th[READERS];
    for (int i = 0; i < READERS; i++) assert_int_equal(pthread_create(&th[i], NULL, reader, ctx_json_intern_str(t, "10.231.1.2")), 0);
    ctx_json_intern_free(t); /* the readers' references keep it */
    for (int i = 0; i < READERS; i++) {
        void *bad;
        assert_int_equal(pthread_join(th[i], &bad), 0);
        assert_int_equal((int)(intptr_t)bad, 0);
    }
}

CTX_TEST_MAIN(NULL, NULL,
    cmocka_unit_test(same_text_same_object),   cmocka_unit_test(replaced_slot_keeps_held_objects),
    cmocka_unit_test(long_text_not_shared),    cmocka_unit_test(bad_sizes),
    cmocka_unit_test(shared_across_threads))
