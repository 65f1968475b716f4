/* test_outrec_view.c: what of $!ctx a tenant's record carries (common/deliver/outrec_view.c).
 * A tenant that may not see host-wide fields gets none, whatever the spacing, case, escaping
 * or order of the keys, with and without the $!ctx memo, and the memo never hands one view's
 * text to the other; a tenant allowed them gets $!ctx as it is. Hostile texts (truncated,
 * deep, wrong types) give a record without host-wide fields or the text unchanged, never a
 * crash. Random documents never leak one.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include "check.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <json.h>

#include "ctxlog_common.h"
#include "outrec.h"
#include "outrec_int.h"
#include "redact.h"

#include "outrec_fx.h"

#define HDR "13\x1f" "2026-11-27T10:00:00Z\x1f" "h\x1f" "a\x1f" "-\x1f" "-"

/* the record's "ctx" text for $!ctx text ctx, built by b with view hostwide; *withheld */
static char *record_ctx(fx_t *fx, ctx_outrec_t *b, int hostwide, const char *ctx, unsigned *withheld) {
    ctx_outrec_fields_t f = {HDR, strlen(HDR), "m", 1, "-", 1, ctx, strlen(ctx)};
    const char *out;
    size_t n;
    ctx_outrec_set_hostwide(b, hostwide);
    ASSERT_GE(ctx_outrec_build(b, CTX_OUTREC_JSON, fx->rx, fx->set, &f, &out, &n), 0);
    ctx_redact_ctx_take_counters(fx->rx, NULL);
    if (withheld) *withheld = ctx_outrec_withheld(b);
    const char *c = strstr(out, ",\"ctx\":");
    if (c == NULL) return strdup("");
    return strndup(c + 7, n - (size_t)(c + 7 - out) - 1);
}

static const char *const HOSTWIDE[] = {"host_cpu_pct", "host_mem_pct", "load1", "load5", "load15",
                                       "disk_free_pct", "disks", "free_bytes", "host_ip", "avg_host_cpu_pct",
                                       "avg_host_mem_pct", "running_vms", NULL};

static void assert_no_hostwide(const char *text) {
    for (int i = 0; HOSTWIDE[i]; i++)
        if (strcasestr(text, HOSTWIDE[i]) != NULL) fail_msg("'%s' in %s", HOSTWIDE[i], text);
}

/* mmctxenrich's shape of a verbose message with the host-wide group, as rsyslog prints it */
static const char DOC[] =
    "{ \"vm\": { \"name\": \"web-1\", \"tenant\": \"acme\" }, "
    "\"host\": { \"host_cpu_pct\": 12.5, \"host_mem_pct\": 40.0, \"load1\": 0.5, \"load5\": 0.4, \"load15\": 0.3, "
    "\"disk_free_pct\": 71.2, \"disks\": [ { \"path\": \"\\/\", \"free_pct\": 71.2, \"free_bytes\": 1000 } ], "
    "\"vm_cpu_pct\": 3.0, \"vm_mem_bytes\": 1048576, \"vm_mem_pct\": 12.0, \"sampled_at\": \"2026-11-27T10:00:00.000Z\" }, "
    "\"cm\": { \"guest_os\": \"debian-12\", \"avg_vm_cpu_pct\": 4.0, "
    "\"host\": { \"host_ip\": \"192.0.2.1\", \"avg_host_cpu_pct\": 25, \"running_vms\": 10 }, "
    "\"status\": \"ok\" } }";

static void vm_only_leaves_out_hostwide(void **state) {
    fx_t *fx = *state;
    unsigned w;
    for (int memo = 0; memo < 2; memo++) {
        for (int round = 0; round < 3; round++) { /* the memo admits on the second miss, hits on the third */
            char *c = record_ctx(fx, memo ? fx->memo : fx->b, 0, DOC, &w);
            assert_no_hostwide(c);
            assert_int_equal(w, 8); /* 7 of host, cm.host */
            assert_string_equal(c, "{\"vm\": { \"name\": \"web-1\", \"tenant\": \"acme\" },\"host\": {"
                                   "\"vm_cpu_pct\": 3.0,\"vm_mem_bytes\": 1048576,\"vm_mem_pct\": 12.0,"
                                   "\"sampled_at\": \"2026-11-27T10:00:00.000Z\"},\"cm\": {\"guest_os\": "
                                   "\"debian-12\",\"avg_vm_cpu_pct\": 4.0,\"status\": \"ok\"}}");
            free(c);
        }
    }
}

static void full_gets_it_as_it_is(void **state) {
    fx_t *fx = *state;
    unsigned w;
    for (int memo = 0; memo < 2; memo++) {
        for (int round = 0; round < 3; round++) {
            char *c = record_ctx(fx, memo ? fx->memo : fx->b, 1, DOC, &w);
            assert_string_equal(c, DOC);
            assert_int_equal(w, 0);
            free(c);
        }
    }
}

/* the memo holds both views of one text apart, in any order */
static void memo_never_mixes_views(void **state) {
    fx_t *fx = *state;
    for (int i = 0; i < 20; i++) {
        int hw = (i * 7 / 3) % 2;
        char *c = record_ctx(fx, fx->memo, hw, DOC, NULL);
        if (hw)
            assert_string_equal(c, DOC);
        else
            assert_no_hostwide(c);
        free(c);
    }
    ctx_outrec_memo_stats_t st;
    ctx_outrec_memo_stats(fx->memo, &st);
    ASSERT_GT(st.doc_hits, 0);
}

/* a $!ctx without host-wide members is the same text, not a copy with changes */
static void nothing_to_leave_out(void **state) {
    fx_t *fx = *state;
    static const char *const docs[] = {
        "{ \"vm\": { \"name\": \"a\" } }", "{}", "{ }", "{ \"host\": { } }",
        "{ \"host\": { \"vm_cpu_pct\": 1 }, \"cm\": { \"status\": \"pending\" } }",
        "{ \"hostname\": \"x\", \"cmx\": { \"host\": 1 } }", /* only host and cm are looked into */
        "{ \"host\": \"a string\" }",                       /* not an object: carried */
    };
    for (size_t i = 0; i < sizeof docs / sizeof docs[0]; i++) {
        unsigned w;
        char *c = record_ctx(fx, fx->b, 0, docs[i], &w);
        assert_string_equal(c, docs[i]);
        assert_int_equal(w, 0);
        free(c);
    }
}

/* case, escapes, duplicates and odd spacing do not hide a host-wide member */
static void keys_in_disguise(void **state) {
    fx_t *fx = *state;
    static const char *const docs[] = {
        "{\"HOST\":{\"Host_CPU_Pct\":1,\"vm_cpu_pct\":2}}",
        "{\"h\\u006fst\":{\"host_cpu_pct\":1}}",                   /* escaped top key: parse path */
        "{\"host\":{\"h\\u006fst_cpu_pct\":1,\"vm_cpu_pct\":2}}",  /* escaped inner key */
        "{\"host\":{\"vm_cpu_pct\":2},\"host\":{\"load1\":1}}",     /* duplicate */
        "{\n\t\"cm\" :\r{ \"host\" : { \"host_ip\" : \"192.0.2.1\" } , \"host_ip\":\"192.0.2.9\" }\n}",
        "{\"Cm\":{\"AVG_HOST_MEM_PCT\":3}}",
        "{\"host\":{\"disks\":[{\"free_bytes\":1},{\"free_bytes\":2}],\"vm_error\":\"x\"}}",
    };
    for (size_t i = 0; i < sizeof docs / sizeof docs[0]; i++) {
        for (int memo = 0; memo < 2; memo++) {
            unsigned w;
            char *c = record_ctx(fx, memo ? fx->memo : fx->b, 0, docs[i], &w);
            assert_no_hostwide(c);
            struct fjson_object *o = fjson_tokener_parse(c); /* still valid JSON */
            assert_non_null(o);
            ASSERT_GT(w, 0);
            fjson_object_put(o);
            free(c);
        }
    }
    unsigned w; /* the escaped key is decoded by the parse path: "host" */
    char *c = record_ctx(fx, fx->b, 0, "{\"h\\u006fst\":{\"host_cpu_pct\":1}}", &w);
    assert_string_equal(c, "{\"host\":{}}");
    assert_int_equal(w, 1);
    free(c);
}

/* hostile texts: never a crash, never a host-wide member in a record that parses */
static void hostile_texts(void **state) {
    fx_t *fx = *state;
    char deep[4096];
    size_t n = 0;
    n += (size_t)snprintf(deep + n, sizeof deep - n, "{\"host\":");
    for (int i = 0; i < 600; i++) deep[n++] = '[';
    for (int i = 0; i < 600; i++) deep[n++] = ']';
    n += (size_t)snprintf(deep + n, sizeof deep - n, ",\"cm\":{\"host\":1}}");
    char many[8192];
    n = (size_t)snprintf(many, sizeof many, "{\"host\":{");
    for (int i = 0; i < 100; i++) n += (size_t)snprintf(many + n, sizeof many - n, "%s\"k%d\":%d", i ? "," : "", i, i);
    snprintf(many + n, sizeof many - n, "}}");
    const char *docs[] = {"{\"host\":{\"load1\":1", "{\"host\"", "{\"host\":}", "{\"host\":{\"load1\":1}} x",
                          "{\"cm\":{\"host\":{\"host_ip\":\"a\"}", "{\"\":1}", "{,}", "{\"host\":{\"a\":\"\\\"}}",
                          deep, many, "[{\"host\":{\"load1\":1}}]", "{\"host\":{\"load1\":1},}"};
    for (size_t i = 0; i < sizeof docs / sizeof docs[0]; i++) {
        for (int memo = 0; memo < 2; memo++) {
            char *c = record_ctx(fx, memo ? fx->memo : fx->b, 0, docs[i], NULL);
            struct fjson_object *o = fjson_tokener_parse(c);
            if (o != NULL && fjson_object_is_type(o, fjson_type_object)) assert_no_hostwide(c);
            if (i == 9) assert_string_equal(c, "{\"host\":{}}"); /* 100 members: every one left out */
            fjson_object_put(o);
            free(c);
        }
    }
}

/* random documents: the record's host and cm objects never hold a host-wide member */
static void random_documents_never_leak(void **state) {
    fx_t *fx = *state;
    static const char *const keys[] = {"host", "cm", "vm", "HOST", "load1", "vm_cpu_pct", "host_ip", "sampled_at",
                                       "disks", "x", "Avg_Host_Cpu_Pct", "status"};
    static const char *const vals[] = {"1", "\"s\"", "[1,{\"load1\":2}]", "null", "{\"host\":{\"load5\":1}}",
                                       "{\"vm_mem_pct\":1,\"host_mem_pct\":2}", "{}", "true"};
    unsigned seed = 7;
    for (int k = 0; k < 2000; k++) {
        char doc[2048];
        size_t n = (size_t)snprintf(doc, sizeof doc, "{");
        int m = (int)((seed = seed * 1103515245u + 12345u) >> 16) % 6;
        for (int i = 0; i < m; i++) {
            unsigned r = (seed = seed * 1103515245u + 12345u) >> 8;
            n += (size_t)snprintf(doc + n, sizeof doc - n, "%s \"%s\": %s", i ? "," : "", keys[r % 12],
                                  vals[(r / 12) % 8]);
        }
        snprintf(doc + n, sizeof doc - n, " }");
        char *c = record_ctx(fx, fx->b, 0, doc, NULL);
        struct fjson_object *o = fjson_tokener_parse(c);
        if (o == NULL) fail_msg("not JSON: %s -> %s", doc, c);
        struct fjson_object_iterator it = fjson_object_iter_begin(o), end = fjson_object_iter_end(o);
        for (; !fjson_object_iter_equal(&it, &end); fjson_object_iter_next(&it)) {
            const char *key = fjson_object_iter_peek_name(&it);
            struct fjson_object *v = fjson_object_iter_peek_value(&it);
            if (strcasecmp(key, "host") == 0 && fjson_object_is_type(v, fjson_type_object))
                assert_null(strcasestr(fjson_object_to_json_string(v), "load"));
            if (strcasecmp(key, "cm") == 0 && fjson_object_is_type(v, fjson_type_object)) {
                struct fjson_object *h;
                assert_false(fjson_object_object_get_ex(v, "host", &h));
                assert_false(fjson_object_object_get_ex(v, "host_ip", &h));
            }
        }
        fjson_object_put(o);
        free(c);
    }
}

/* the memo (documents remembered before the view, members after it) prints what the plain
 * path prints, with the same count of members left out, for both views in any order */
static void memo_matches_plain(void **state) {
    fx_t *fx = *state;
    static const char *const docs[] = {
        DOC,
        "{\"vm\":{\"name\":\"a\"},\"host\":{\"vm_cpu_pct\":1,\"load1\":2}}",
        "{\"vm\":{\"name\":\"b\"},\"cm\":{\"host_ip\":\"192.0.2.3\",\"status\":\"ok\"}}",
        "{\"vm\":{\"name\":\"c\"}}",
        "{\"vm\":{\"name\":\"d\",\"note\":\"password=hunter2\"},\"host\":{\"load5\":1}}",
    };
    const size_t nd = sizeof docs / sizeof docs[0];
    for (int i = 0; i < 60; i++) {
        const char *d = docs[(size_t)(i * 7) % nd];
        int hw = (i / 5) % 2;
        unsigned wp, wm;
        char *p = record_ctx(fx, fx->b, hw, d, &wp);
        char *m = record_ctx(fx, fx->memo, hw, d, &wm);
        assert_string_equal(m, p);
        assert_int_equal(wm, wp);
        free(p);
        free(m);
    }
    ctx_outrec_memo_stats_t st;
    ctx_outrec_memo_stats(fx->memo, &st);
    ASSERT_GT(st.doc_hits, 0);
}

CTX_TEST_MAIN(outrec_fx_setup, outrec_fx_teardown,
    cmocka_unit_test(vm_only_leaves_out_hostwide),
    cmocka_unit_test(memo_matches_plain),
    cmocka_unit_test(full_gets_it_as_it_is),
    cmocka_unit_test(memo_never_mixes_views),
    cmocka_unit_test(nothing_to_leave_out),
    cmocka_unit_test(keys_in_disguise),
    cmocka_unit_test(hostile_texts),
    cmocka_unit_test(random_documents_never_leak))
