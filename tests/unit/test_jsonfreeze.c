/* test_jsonfreeze.c: frozen subtrees serialize exactly as unfrozen ones, inside a parent
 * and from many threads at once, and stay intact while messages come and go. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include "check.h"
#include <json.h>
#include <json_object_private.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "ctxlog_common.h"
#include "jsonfreeze.h"

/* a $!ctx!host-like group: numbers with source text, an array of objects, strings */
static struct fjson_object *group(int vm) {
    char name[32];
    struct fjson_object *o = fjson_object_new_object(), *disks = fjson_object_new_array();
    struct fjson_object *d = fjson_object_new_object();
    snprintf(name, sizeof name, "vm-%d \"q\" \\ \xc3\xa9", vm);
    fjson_object_object_add(o, "name", fjson_object_new_string(name));
    fjson_object_object_add(o, "host_cpu_pct", fjson_object_new_double_s(23.4, "23.4"));
    fjson_object_object_add(o, "vm_mem_bytes", fjson_object_new_int64(2147483648LL + vm));
    fjson_object_object_add(o, "ratio", fjson_object_new_double(0.1 * vm));
    fjson_object_object_add(o, "ok", fjson_object_new_boolean(vm & 1));
    fjson_object_object_add(d, "path", fjson_object_new_string("/"));
    fjson_object_object_add(d, "free_pct", fjson_object_new_double_s(31.4, "31.4"));
    fjson_object_array_add(disks, d);
    fjson_object_object_add(o, "disks", disks);
    return o;
}

/* {"seq": n, "g": g}: a message's private $!ctx holding a shared group */
static struct fjson_object *parent(struct fjson_object *g, int n) {
    struct fjson_object *p = fjson_object_new_object();
    fjson_object_object_add(p, "seq", fjson_object_new_int(n));
    fjson_object_object_add(p, "g", fjson_object_get(g));
    return p;
}

static char *text(struct fjson_object *o, int flags) { return strdup(fjson_object_to_json_string_ext(o, flags)); }

static void same_text_as_unfrozen(void **state) {
    (void)state;
    static const int flags[] = {FJSON_TO_STRING_SPACED, FJSON_TO_STRING_PLAIN, FJSON_TO_STRING_PRETTY};
    for (size_t f = 0; f < sizeof flags / sizeof flags[0]; f++) {
        struct fjson_object *plain = group(3), *frozen = group(3);
        struct fjson_object *p1 = parent(plain, 7);
        char *want = text(p1, flags[f]);
        assert_int_equal(ctx_json_freeze(frozen), 0);
        assert_true(ctx_json_is_frozen(frozen));
        assert_false(ctx_json_is_frozen(plain));
        struct fjson_object *p2 = parent(frozen, 7);
        char *got = text(p2, flags[f]);
        assert_string_equal(got, want);
        free(got);
        free(want);
        fjson_object_put(p1);
        fjson_object_put(p2);
        fjson_object_put(plain);
        fjson_object_put(frozen);
    }
}

static void frozen_text_and_arrays(void **state) {
    (void)state;
    struct fjson_object *g = group(1), *a = fjson_object_new_array();
    char *want = text(g, FJSON_TO_STRING_SPACED);
    assert_int_equal(ctx_json_freeze(g), 0);
    assert_int_equal(ctx_json_freeze(g), 0); /* twice: no-op */
    size_t n = 0;
    const char *t = ctx_json_frozen_text(g, &n);
    assert_non_null(t);
    assert_int_equal(n, strlen(want));
    assert_memory_equal(t, want, n);
    fjson_object_array_add(a, fjson_object_new_string("x"));
    fjson_object_array_add(a, fjson_object_new_int(5));
    assert_int_equal(ctx_json_freeze(a), 0);
    struct fjson_object *p = fjson_object_new_object();
    fjson_object_object_add(p, "a", fjson_object_get(a));
    assert_string_equal(fjson_object_to_json_string(p), "{ \"a\": [ \"x\", 5 ] }");
    assert_null(ctx_json_frozen_text(p, &n));
    fjson_object_put(p);
    fjson_object_put(a);
    fjson_object_put(g);
    free(want);
}

static void scalars_and_null_refused(void **state) {
    (void)state;
    struct fjson_object *s = fjson_object_new_string("x"), *i = fjson_object_new_int(1);
    assert_int_equal(ctx_json_freeze(NULL), CTX_EINVAL);
    assert_int_equal(ctx_json_freeze(s), CTX_EINVAL);
    assert_int_equal(ctx_json_freeze(i), CTX_EINVAL);
    assert_false(ctx_json_is_frozen(s));
    assert_false(ctx_json_is_frozen(NULL));
    fjson_object_put(s);
    fjson_object_put(i);
}

#define THREADS 4
#define ROUNDS 20000
struct shared {
    struct fjson_object *g[3];
    char *want[3]; /* the parent's text with seq 0 */
};

/* each thread: messages of three VMs taking references, serialized and freed */
static void *worker(void *arg) {
    struct shared *sh = arg;
    long bad = 0;
    for (int i = 0; i < ROUNDS; i++) {
        int v = i % 3;
        struct fjson_object *p = parent(sh->g[v], 0);
        if (strcmp(fjson_object_to_json_string(p), sh->want[v]) != 0) bad++;
        fjson_object_put(p);
    }
    return (void *)bad;
}

static void many_threads_share_groups(void **state) {
    (void)state;
    struct shared sh;
    pthread_t t[THREADS];
    for (int v = 0; v < 3; v++) {
        struct fjson_object *plain = group(v), *p = parent(plain, 0);
        sh.want[v] = text(p, FJSON_TO_STRING_SPACED);
        fjson_object_put(p);
        fjson_object_put(plain);
        sh.g[v] = group(v);
        assert_int_equal(ctx_json_freeze(sh.g[v]), 0);
    }
    for (int i = 0; i < THREADS; i++) assert_int_equal(pthread_create(&t[i], NULL, worker, &sh), 0);
    for (int i = 0; i < THREADS; i++) {
        void *bad;
        pthread_join(t[i], &bad);
        assert_int_equal((long)bad, 0);
    }
    for (int v = 0; v < 3; v++) {
        size_t n;
        assert_non_null(ctx_json_frozen_text(sh.g[v], &n)); /* still frozen, refcount back to 1 */
        assert_int_equal(fjson_object_put(sh.g[v]), 1);   /* the last reference frees it */
        free(sh.want[v]);
    }
}

/* another module's copy of jsonfreeze.c installs its own serializer: still frozen here */
static int other_module_serializer(struct fjson_object *o, struct printbuf *pb, int level, int flags) {
    (void)o, (void)pb, (void)level, (void)flags;
    return 0;
}

static void frozen_by_another_module(void **state) {
    (void)state;
    struct fjson_object *o = fjson_object_new_object(), *a = fjson_object_new_array(), *plain = fjson_object_new_object();
    fjson_object_object_add(o, "k", fjson_object_new_string("v"));
    fjson_object_to_json_string_fn *orig_o = o->_to_json_string, *orig_a = a->_to_json_string;
    o->_to_json_string = other_module_serializer;
    a->_to_json_string = other_module_serializer;
    assert_int_equal(ctx_json_is_frozen(o), 1);
    assert_int_equal(ctx_json_is_frozen(a), 1);
    assert_int_equal(ctx_json_is_frozen(plain), 0);
    assert_int_equal(ctx_json_freeze(o), 0); /* already frozen: left as it is */
    assert_ptr_equal(o->_to_json_string, other_module_serializer);
    o->_to_json_string = orig_o; /* the defaults back before freeing */
    a->_to_json_string = orig_a;
    fjson_object_put(o);
    fjson_object_put(a);
    fjson_object_put(plain);
}

CTX_TEST_MAIN(NULL, NULL,
    cmocka_unit_test(same_text_as_unfrozen),
    cmocka_unit_test(frozen_text_and_arrays),
    cmocka_unit_test(scalars_and_null_refused),
    cmocka_unit_test(many_threads_share_groups),
    cmocka_unit_test(frozen_by_another_module))
