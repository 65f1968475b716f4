/* test_fieldmap_errors.c: mapping-file validation, every error message: JSON syntax, the
 * structure, each field spec, headers and the hostid section, repeated keys, files that
 * cannot be read. The mappings at work: test_fieldmap.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include "check.h"

#include <libfastjson/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctxlog_common.h"
#include "fieldmap.h"
#include "fieldmap_fx.h"
#include "jsonpos.h"

static void expect_err(const char *text, const char *msg) {
    char err[CTX_ERRLEN] = "";
    ctx_fieldmap *m = (ctx_fieldmap *)&err;
    assert_int_equal(ctx_fieldmap_parse(text, strlen(text), "m.json", &m, err, sizeof err), CTX_EPARSE);
    assert_null(m);
    assert_string_equal(err, msg);
}

/* ------------------------------------------------------------------ mapping errors */

#define PW "a JSON pointer string (\"\" or \"/a/b\"; ~0 for ~, ~1 for /)"

static void json_syntax_errors(void **state) {
    (void)state;
    expect_err("", "m.json:1: expected valid JSON, got end of file");
    expect_err("{\"vm\": {\n  \"fields\": {", "m.json:2: expected valid JSON, got end of file");
    expect_err("{\n\"vm\":\n  x}", "m.json:3: expected valid JSON, got \"x}\" (unexpected character)");
    expect_err("{\"vm\" 1}", "m.json:1: expected valid JSON, got \"1}\" (object property name separator ':' expected)");
    expect_err("{\"vm\": {\"fields\": {\"a\": {\"pointer\": \"\", \"type\": \"string\"}}}}\n\nnext",
               "m.json:3: expected the end of the JSON document, got \"next\"");
    expect_err("[1]", "m.json: (root): expected an object, got [1]");
    expect_err("{}", "m.json: (root): expected at least one section (vm, bulk, stats, host, hostid), got none");
    expect_err("{\"description\": \"only words\"}",
               "m.json: (root): expected at least one section (vm, bulk, stats, host, hostid), got none");
}

/* "headers" and the "hostid" section: shapes and hostile values */
static void headers_and_hostid(void **state) {
    (void)state;
    ctx_fieldmap *m = map_text("{\"headers\": {\"OpenStack-API-Version\": \"compute 2.53\", \"X-A\": \"\"},"
                               " \"hostid\": {\"path\": \"/h?n={host}\", \"fields\": {\"id\": {\"pointer\": \"/0/host\","
                               " \"type\": \"string\"}}}}");
    assert_int_equal(ctx_fieldmap_nheaders(m), 2);
    assert_string_equal(ctx_fieldmap_headers(m)[0], "OpenStack-API-Version: compute 2.53");
    assert_string_equal(ctx_fieldmap_headers(m)[1], "X-A: ");
    assert_true(ctx_fieldmap_has(m, CTX_FM_HOSTID));
    struct fjson_object *reply = fjson_tokener_parse("[{\"host\": \"host-12\", \"name\": \"esx\"}]"), *out = NULL;
    assert_int_equal(ctx_fieldmap_apply(m, CTX_FM_HOSTID, reply, &out, NULL), 1);
    assert_string_equal(fjson_object_to_json_string_ext(out, FJSON_TO_STRING_PLAIN), "{\"id\":\"host-12\"}");
    fjson_object_put(out);
    fjson_object_put(reply);
    assert_int_equal(ctx_fieldmap_section_by_name("hostid", 6), CTX_FM_HOSTID);
    assert_int_equal(ctx_fieldmap_section_by_name("hostidx", 7), -1);
    assert_int_equal(ctx_fieldmap_field_index(m, CTX_FM_HOSTID, "idx", 2), 0);
    assert_int_equal(ctx_fieldmap_field_index(m, CTX_FM_HOSTID, "idx", 3), -1);
    assert_int_equal(ctx_fieldmap_field_index(m, CTX_FM_VM, "id", 2), -1);
    ctx_fieldmap_free(m);
    const char *sec = ", \"vm\": {\"fields\": {\"a\": {\"pointer\": \"/a\", \"type\": \"string\"}}}}";
    char text[4096];
    static const struct { const char *headers, *msg; } bad[] = {
        {"[]", "m.json: /headers: expected an object of request headers {\"Name\": \"value\"}, got []"},
        {"{\"\": \"x\"}", "m.json: /headers: expected a header name (letters, digits, -, at most 64), got \"\""},
        {"{\"A B\": \"x\"}", "m.json: /headers: expected a header name (letters, digits, -, at most 64), got \"A B\""},
        {"{\"A:B\": \"x\"}", "m.json: /headers: expected a header name (letters, digits, -, at most 64), got \"A:B\""},
        {"{\"X-Auth-Token\": \"x\"}", "m.json: /headers: expected a header ctxlog does not set itself (not "
                                     "Authorization, X-Auth-Token, vmware-api-session-id, Accept, Content-Type, "
                                     "Content-Length, Host), got \"X-Auth-Token\""},
        {"{\"authorization\": \"x\"}", NULL},
        {"{\"A\": 1}", "m.json: /headers/A: expected a string, got 1"},
        {"{\"A\": \"x\\r\\nEvil: 1\"}", "m.json: /headers/A: expected a value without control characters, got "
                                          "\"x\\x0d\\x0aEvil: 1\""},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf(text, sizeof text, "{\"headers\": %s%s", bad[i].headers, sec);
        char err[CTX_ERRLEN] = "";
        ctx_fieldmap *x = NULL;
        assert_int_equal(ctx_fieldmap_parse(text, strlen(text), "m.json", &x, err, sizeof err), CTX_EPARSE);
        assert_null(x);
        if (bad[i].msg != NULL) assert_string_equal(err, bad[i].msg);
    }
    /* 17 headers: one too many; an oversized value */
    size_t n = (size_t)snprintf(text, sizeof text, "{\"headers\": {");
    for (int i = 0; i < 17; i++) n += (size_t)snprintf(text + n, sizeof text - n, "%s\"H%d\": \"v\"", i ? ", " : "", i);
    snprintf(text + n, sizeof text - n, "}%s", sec);
    expect_err(text, "m.json: /headers: expected at most 16 headers, got more");
    n = (size_t)snprintf(text, sizeof text, "{\"headers\": {\"H\": \"");
    memset(text + n, 'v', 1100);
    snprintf(text + n + 1100, sizeof text - n - 1100, "\"}%s", sec);
    char err[CTX_ERRLEN];
    ctx_fieldmap *x = NULL;
    assert_int_equal(ctx_fieldmap_parse(text, strlen(text), "m.json", &x, err, sizeof err), CTX_EPARSE);
    assert_non_null(strstr(err, "expected a value of at most 1024 bytes"));
}

static void structure_errors(void **state) {
    (void)state;
    expect_err("{\"vms\": {}}", "m.json: /vms: expected a known key (description, headers, vm, bulk, stats, host, hostid), got \"vms\"");
    expect_err("{\"a/b~\": 1}",
               "m.json: /a~1b~0: expected a known key (description, headers, vm, bulk, stats, host, hostid), got \"a/b~\"");
    expect_err("{\"description\": 5, \"vm\": {}}", "m.json: /description: expected a string, got 5");
    expect_err("{\"vm\": \"x\"}", "m.json: /vm: expected an object {\"fields\": {...}}, got \"x\"");
    expect_err("{\"bulk\": []}",
               "m.json: /bulk: expected an object {\"items\": ..., \"key_is\": ..., \"fields\": {...}}, got []");
    expect_err("{\"vm\": {\"items\": \"/x\"}}",
               "m.json: /vm/items: expected a known key (path, fields), got \"items\"");
    expect_err("{\"bulk\": {\"url\": \"/x\"}}",
               "m.json: /bulk/url: expected a known key (path, fields, items, key, key_is), got \"url\"");
    expect_err("{\"stats\": {\"path\": 1}}", "m.json: /stats/path: expected a string, got 1");
    expect_err("{\"stats\": {\"path\": \"/s\"}}", "m.json: /stats/fields: expected an object of fields, got nothing");
    expect_err(
        "{\"host\": {\"fields\": []}}",
        "m.json: /host/fields: expected an object of fields {\"name\": {\"pointer\": ..., \"type\": ...}}, got []");
    expect_err("{\"host\": {\"fields\": {}}}", "m.json: /host/fields: expected at least one field, got {}");
    const char *f1 = "{\"fields\": {\"a\": {\"pointer\": \"/a\", \"type\": \"string\"}}";
    char text[512];
    snprintf(text, sizeof text, "{\"bulk\": %s, \"key_is\": \"uuid\"}}", f1);
    expect_err(text, "m.json: /bulk/items: expected " PW ", got nothing");
    snprintf(text, sizeof text, "{\"bulk\": %s, \"items\": \"/s\"}}", f1);
    expect_err(text, "m.json: /bulk/key_is: expected \"uuid\" or \"name\", got nothing");
    snprintf(text, sizeof text, "{\"bulk\": %s, \"items\": \"/s\", \"key_is\": \"id\"}}", f1);
    expect_err(text, "m.json: /bulk/key_is: expected \"uuid\" or \"name\", got \"id\"");
    snprintf(text, sizeof text, "{\"bulk\": %s, \"items\": \"s\", \"key_is\": \"name\"}}", f1);
    expect_err(text, "m.json: /bulk/items: expected " PW ", got \"s\"");
    snprintf(text, sizeof text, "{\"bulk\": %s, \"items\": \"/s\", \"key\": 3, \"key_is\": \"name\"}}", f1);
    expect_err(text, "m.json: /bulk/key: expected " PW ", got 3");
    /* 65 fields */
    char big[8192];
    size_t o = (size_t)snprintf(big, sizeof big, "{\"vm\": {\"fields\": {");
    for (int i = 0; i < 65; i++)
        o += (size_t)snprintf(big + o, sizeof big - o, "%s\"f%d\": {\"pointer\": \"/x\", \"type\": \"string\"}",
                              i ? ", " : "", i);
    snprintf(big + o, sizeof big - o, "}}}");
    expect_err(big, "m.json: /vm/fields: expected at most 64 fields, got 65 fields");
    char err[CTX_ERRLEN];
    ctx_fieldmap *m;
    assert_int_equal(ctx_fieldmap_parse(big, CTX_FM_MAX_FILE + 1, "m.json", &m, err, sizeof err), CTX_EPARSE);
    assert_string_equal(err, "m.json: (root): expected a mapping of at most 1048576 bytes, got more");
}

/* One field spec inside {"vm": {"fields": {<name>: <spec>}}} */
static void field_err(const char *name, const char *spec, const char *msg) {
    char text[1024];
    snprintf(text, sizeof text, "{\"vm\": {\"fields\": {\"%s\": %s}}}", name, spec);
    expect_err(text, msg);
}

static void field_errors(void **state) {
    (void)state;
    field_err("Host-IP", "{}",
              "m.json: /vm/fields/Host-IP: expected a field name (a-z, 0-9, '_', starting with a "
              "letter, at most 63), got \"Host-IP\"");
    field_err("9x", "{}",
              "m.json: /vm/fields/9x: expected a field name (a-z, 0-9, '_', starting with a "
              "letter, at most 63), got \"9x\"");
    field_err("status", "{}",
              "m.json: /vm/fields/status: expected a field name other than status and fetched_at "
              "(the module sets those), got \"status\"");
    field_err("fetched_at", "{}",
              "m.json: /vm/fields/fetched_at: expected a field name other than status and "
              "fetched_at (the module sets those), got \"fetched_at\"");
    field_err("x", "\"/a\"", "m.json: /vm/fields/x: expected an object {\"pointer\": ..., \"type\": ...}, got \"/a\"");
    field_err("x", "{\"ptr\": \"/a\"}",
              "m.json: /vm/fields/x/ptr: expected a known key (pointer, type, array, "
              "reduce, per, scale, decimals), got \"ptr\"");
    field_err("x", "{\"type\": \"string\"}", "m.json: /vm/fields/x/pointer: expected " PW ", got nothing");
    field_err("x", "{\"pointer\": \"a/b\"}", "m.json: /vm/fields/x/pointer: expected " PW ", got \"a/b\"");
    field_err("x", "{\"pointer\": \"/a~2\"}", "m.json: /vm/fields/x/pointer: expected " PW ", got \"/a~2\"");
    field_err("x", "{\"pointer\": 5}", "m.json: /vm/fields/x/pointer: expected " PW ", got 5");
    field_err("x", "{\"pointer\": \"/a\"}",
              "m.json: /vm/fields/x/type: expected one of \"string\", \"number\", \"integer\", \"bool\", got nothing");
    field_err(
        "x", "{\"pointer\": \"/a\", \"type\": \"float\"}",
        "m.json: /vm/fields/x/type: expected one of \"string\", \"number\", \"integer\", \"bool\", got \"float\"");
    field_err("host_ip", "{\"pointer\": \"/a\", \"type\": \"number\"}",
              "m.json: /vm/fields/host_ip/type: expected \"string\" (host_ip is a string field), got \"number\"");
    field_err("avg_vm_cpu_pct", "{\"pointer\": \"/a\", \"type\": \"string\"}",
              "m.json: /vm/fields/avg_vm_cpu_pct/type: expected \"number\" or \"integer\" (avg_vm_cpu_pct is a "
              "numeric field), got \"string\"");
    field_err("x", "{\"pointer\": \"/a\", \"type\": \"string\", \"scale\": 2}",
              "m.json: /vm/fields/x/type: expected \"number\" or \"integer\" (array, per and scale compute numbers), "
              "got \"string\"");
    field_err("x", "{\"pointer\": \"/a\", \"type\": \"integer\", \"decimals\": 2}",
              "m.json: /vm/fields/x/type: expected \"number\" (decimals round numbers), got \"integer\"");
    field_err(
        "x", "{\"pointer\": \"/a\", \"type\": \"number\", \"array\": \"/l\"}",
        "m.json: /vm/fields/x/reduce: expected one of \"avg\", \"sum\", \"min\", \"max\" with array, got nothing");
    field_err("x", "{\"pointer\": \"/a\", \"type\": \"number\", \"reduce\": \"avg\"}",
              "m.json: /vm/fields/x/array: expected " PW " with reduce, got nothing");
    field_err("x", "{\"pointer\": \"/a\", \"type\": \"number\", \"array\": \"/l\", \"reduce\": \"mean\"}",
              "m.json: /vm/fields/x/reduce: expected one of \"avg\", \"sum\", \"min\", \"max\", got \"mean\"");
    field_err("x", "{\"pointer\": \"/a\", \"type\": \"number\", \"per\": []}",
              "m.json: /vm/fields/x/per: expected a JSON pointer string or an array of 1 to 4 of them, got []");
    field_err("x", "{\"pointer\": \"/a\", \"type\": \"number\", \"per\": [\"/a\", \"/b\", \"/c\", \"/d\", \"/e\"]}",
              "m.json: /vm/fields/x/per: expected a JSON pointer string or an array of 1 to 4 of them, got "
              "[\"\\/a\",\"\\/b\",\"\\/c\",\"\\/d\",\"\\/e\"]");
    field_err("x", "{\"pointer\": \"/a\", \"type\": \"number\", \"per\": [\"/a\", 3]}",
              "m.json: /vm/fields/x/per/1: expected " PW ", got 3");
    field_err("x", "{\"pointer\": \"/a\", \"type\": \"number\", \"scale\": 0}",
              "m.json: /vm/fields/x/scale: expected a non-zero number, got 0");
    field_err("x", "{\"pointer\": \"/a\", \"type\": \"number\", \"scale\": \"100\"}",
              "m.json: /vm/fields/x/scale: expected a non-zero number, got \"100\"");
    field_err("x", "{\"pointer\": \"/a\", \"type\": \"number\", \"decimals\": 10}",
              "m.json: /vm/fields/x/decimals: expected an integer from 0 to 9, got 10");
    field_err("x", "{\"pointer\": \"/a\", \"type\": \"number\", \"decimals\": 1.5}",
              "m.json: /vm/fields/x/decimals: expected an integer from 0 to 9, got 1.5");
}

/* a repeated key is an error, as in the other files (it used to be: the last one wins) */
static void duplicate_keys(void **state) {
    (void)state;
    char err[CTX_ERRLEN];
    ctx_fieldmap *m = NULL;
    const char *t = "{\"vm\": {\"fields\": {\n\"guest_os\": \"/a\",\n\"guest_os\": \"/b\"}}}";
    assert_int_equal(ctx_fieldmap_parse(t, strlen(t), "m.json", &m, err, sizeof err), CTX_EPARSE);
    assert_null(m);
    assert_string_equal(err, "m.json:3: expected keys that appear once in their object, got \"\\\"guest_os\\\": \\\"/b\\\"\" "
                             "(the same key on line 2)");
    size_t a = 0, b = 0;
    const char *ok = "{\"a\": {\"x\": 1}, \"b\": {\"x\": \"{\\\"x\\\":1, \\\"x\\\":2}\"}}"; /* a key repeated in other objects, or in a string */
    assert_int_equal(ctx_jpos_dup_key(ok, strlen(ok), &a, &b), 0);
    const char *deep = "[1, {\"k\": [{\"z\": 1, \"y\": 2, \"z\": 3}]}]";
    assert_int_equal(ctx_jpos_dup_key(deep, strlen(deep), &a, &b), 1);
    assert_int_equal(a, 12);
    assert_int_equal(b, 28);
}

static void load_errors(void **state) {
    (void)state;
    char err[CTX_ERRLEN];
    ctx_fieldmap *m = NULL;
    assert_int_equal(ctx_fieldmap_load(DATA "bad-type.json", &m, err, sizeof err), CTX_EPARSE);
    assert_null(m);
    assert_string_equal(err, DATA
                        "bad-type.json: /stats/fields/avg_vm_mem_pct/type: expected one of \"string\", "
                        "\"number\", \"integer\", \"bool\", got \"percent\"");
    assert_int_equal(ctx_fieldmap_load(DATA "bad-syntax.json", &m, err, sizeof err), CTX_EPARSE);
    assert_string_equal(err, DATA "bad-syntax.json:4: expected valid JSON, got \"string}\" (unexpected character)");
    assert_int_equal(ctx_fieldmap_load(DATA "missing.json", &m, err, sizeof err), CTX_EIO);
    assert_string_equal(err, DATA "missing.json: cannot read: No such file or directory");
    assert_int_equal(ctx_fieldmap_load(DATA, &m, err, sizeof err), CTX_EIO);
    assert_string_equal(err, DATA ": cannot read: not a regular file");
    assert_int_equal(ctx_fieldmap_load(NULL, &m, err, sizeof err), CTX_EINVAL);
}

CTX_TEST_MAIN(NULL, NULL,
    cmocka_unit_test(duplicate_keys),     cmocka_unit_test(json_syntax_errors),
    cmocka_unit_test(structure_errors),   cmocka_unit_test(field_errors),
    cmocka_unit_test(load_errors),        cmocka_unit_test(headers_and_hostid))
