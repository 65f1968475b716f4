/* test_fieldmap.c: the shipped Nova and vCenter mappings on replies of their real shape, bulk
 * listings, RFC 6901 pointers, type conversions and computed numbers, problem strings,
 * garbage. Mapping-file validation (every error message): test_fieldmap_errors.c. */
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

/* Applies section s of m to the reply in file, returns the result as plain JSON text (static). */
/* the fields the mapping gives for section s of the reply in file: want (plain JSON), with
 * nprob problems (in *pr) */
static void expect_fields(const ctx_fieldmap *m, ctx_fm_section s, const char *file, const char *want, size_t nprob,
                          ctx_fm_problems *pr) {
    struct fjson_object *reply = load_json(file), *res = NULL;
    int n = ctx_fieldmap_apply(m, s, reply, &res, pr);
    ASSERT_GE(n, 0);
    assert_int_equal(n, fjson_object_object_length(res));
    assert_string_equal(fjson_object_to_json_string_ext(res, FJSON_TO_STRING_PLAIN), want);
    assert_int_equal(pr->n, nprob);
    fjson_object_put(res);
    fjson_object_put(reply);
}

/* ------------------------------------------------------------------ shipped mappings */

static void nova_mapping(void **state) {
    (void)state;
    ctx_fieldmap *m = map_file(CONF "cm-nova.json");
    ctx_fm_problems pr;
    char line[256];
    assert_string_equal(ctx_fieldmap_path(m, CTX_FM_VM), "/servers/{uuid}");
    assert_string_equal(ctx_fieldmap_path(m, CTX_FM_STATS), "/servers/{uuid}/diagnostics");
    assert_string_equal(ctx_fieldmap_path(m, CTX_FM_HOST), "/os-hypervisors/{hostid.hypervisor_id}");
    assert_int_equal(ctx_fieldmap_nheaders(m), 1);
    assert_string_equal(ctx_fieldmap_headers(m)[0], "OpenStack-API-Version: compute 2.53");
    assert_int_equal(ctx_fieldmap_nfields(m, CTX_FM_VM), 8);
    assert_string_equal(ctx_fieldmap_field_name(m, CTX_FM_VM, 0), "guest_os");
    assert_int_equal(ctx_fieldmap_field_type(m, CTX_FM_VM, 6), CTX_FM_INTEGER);
    assert_int_equal(ctx_fieldmap_bulk_key_kind(m), CTX_FM_KEY_UUID);
    expect_fields(m, CTX_FM_VM, DATA "nova-server.json",
                  "{\"guest_os\":\"ubuntu\",\"vm_state\":\"active\",\"compute_host\":\"compute-07\","
                  "\"hypervisor_name\":\"compute-07.dc1.example.net\","
                  "\"project_id\":\"6f70656e737461636b20342065766572\",\"flavor\":\"m1.medium\",\"vcpus\":2,"
                  "\"ram_mb\":4096}",
                  0, &pr);
    /* cpu: the average over vCPUs that report (the null one is skipped); memory: used / maximum */
    expect_fields(m, CTX_FM_STATS, DATA "nova-diagnostics.json",
                  "{\"avg_vm_cpu_pct\":22.5,\"avg_vm_mem_pct\":25,\"uptime_s\":46664}",
                  0, &pr);
    expect_fields(m, CTX_FM_HOST, DATA "nova-hypervisor.json",
                  "{\"host_ip\":\"192.0.2.17\",\"avg_host_cpu_pct\":41.7,\"avg_host_mem_pct\":37.5,"
                  "\"running_vms\":3,\"hypervisor_state\":\"up\"}",
                  0, &pr);
    /* microversion 2.88 dropped the usage fields: three problems, counted, named */
    expect_fields(m, CTX_FM_HOST, DATA "nova-hypervisor-2.88.json",
                  "{\"host_ip\":\"192.0.2.17\",\"hypervisor_state\":\"up\"}",
                  3, &pr);
    assert_int_equal(pr.count[CTX_FM_MISSING], 3);
    assert_int_equal(pr.p[0].field, 1);
    assert_int_equal(pr.p[2].field, 3);
    assert_int_equal(ctx_fieldmap_problem_str(m, CTX_FM_HOST, &pr.p[0], line, sizeof line),
                     (int)strlen("avg_host_cpu_pct (/hypervisor/vcpus_used): missing"));
    assert_string_equal(line, "avg_host_cpu_pct (/hypervisor/vcpus_used): missing");
    ctx_fieldmap_free(m);
}

struct collected {
    int n;
    char keys[8][64];
    char json[8][512];
    size_t nprob[8];
    int stop_after;
};

static int collect(void *ud, const char *key, struct fjson_object *fields, const ctx_fm_problems *pr) {
    struct collected *c = ud;
    snprintf(c->keys[c->n], sizeof c->keys[0], "%s", key);
    snprintf(c->json[c->n], sizeof c->json[0], "%s", fjson_object_to_json_string_ext(fields, FJSON_TO_STRING_PLAIN));
    c->nprob[c->n] = pr->n;
    c->n++;
    fjson_object_put(fields);
    return c->stop_after > 0 && c->n >= c->stop_after;
}

static void nova_bulk(void **state) {
    (void)state;
    ctx_fieldmap *m = map_file(CONF "cm-nova.json");
    struct fjson_object *reply = load_json(DATA "nova-servers-detail.json");
    struct collected c = {0};
    size_t skipped = 99;
    assert_int_equal(ctx_fieldmap_apply_bulk(m, reply, collect, &c, &skipped), 2);
    assert_int_equal(skipped, 1); /* the server without an id */
    assert_int_equal(c.n, 2);
    assert_string_equal(c.keys[0], "0c1a7e52-93d4-4f0e-8b6a-2d5c9e1f3a77"); /* uuids are lower-cased */
    assert_string_equal(c.json[0],
                        "{\"guest_os\":\"ubuntu\",\"vm_state\":\"active\",\"compute_host\":\"compute-07\","
                        "\"hypervisor_name\":\"compute-07.dc1.example.net\","
                        "\"project_id\":\"6f70656e737461636b20342065766572\",\"flavor\":\"m1.medium\","
                        "\"vcpus\":2,\"ram_mb\":4096}");
    assert_int_equal(c.nprob[0], 0);
    assert_string_equal(c.keys[1], "9e8d7c6b-5a4f-4e3d-8c2b-1a0f9e8d7c6b");
    /* numbers as strings convert; a numeric tenant id becomes a string; os_distro is missing */
    assert_string_equal(c.json[1],
                        "{\"vm_state\":\"stopped\",\"compute_host\":\"compute-07\","
                        "\"hypervisor_name\":\"compute-07.dc1.example.net\",\"project_id\":\"42\","
                        "\"flavor\":\"m1.small\",\"vcpus\":1,\"ram_mb\":2048}");
    assert_int_equal(c.nprob[1], 1);
    /* the callback can stop the walk */
    struct collected one = {.stop_after = 1};
    assert_int_equal(ctx_fieldmap_apply_bulk(m, reply, collect, &one, NULL), 1);
    assert_int_equal(one.n, 1);
    fjson_object_put(reply);
    ctx_fieldmap_free(m);
}

static void vcenter_mapping(void **state) {
    (void)state;
    ctx_fieldmap *m = map_file(CONF "cm-vcenter.json");
    ctx_fm_problems pr;
    /* no "vm" section: a per-VM request needs the moid only the bulk listing gives */
    assert_false(ctx_fieldmap_has(m, CTX_FM_VM));
    assert_string_equal(ctx_fieldmap_path(m, CTX_FM_STATS), "/sdk/vim25/8.0.1.0/VirtualMachine/{bulk.vm_moid}/summary");
    assert_string_equal(ctx_fieldmap_path(m, CTX_FM_HOSTID), "/api/vcenter/host?names={host}");
    assert_int_equal(ctx_fieldmap_field_index(m, CTX_FM_BULK, "vm_moid", 7), 0);
    assert_int_equal(ctx_fieldmap_nheaders(m), 0);
    /* 1250 of 4988 MHz; 1638 of 4096 MB */
    expect_fields(m, CTX_FM_STATS, DATA "vcenter-vm-summary.json",
                  "{\"guest_os\":\"Ubuntu Linux (64-bit)\",\"instance_uuid\":\"5010b1d5-6f8c-4a2e-8b9f-7d6c5b4a3f2e\","
                  "\"avg_vm_cpu_pct\":25.1,\"avg_vm_mem_pct\":40}",
                  0, &pr);
    /* 9576 MHz of 16 x 2394 MHz; 65536 MB of 128 GiB (bytes) */
    expect_fields(m, CTX_FM_HOST, DATA "vcenter-host-summary.json",
                  "{\"host_ip\":\"192.0.2.31\",\"avg_host_cpu_pct\":25,\"avg_host_mem_pct\":50,"
                  "\"host_uptime_s\":8035200}",
                  0, &pr);
    struct fjson_object *list = load_json(DATA "vcenter-vm-list.json");
    struct collected c = {0};
    size_t skipped = 99;
    assert_int_equal(ctx_fieldmap_bulk_key_kind(m), CTX_FM_KEY_NAME);
    assert_int_equal(ctx_fieldmap_apply_bulk(m, list, collect, &c, &skipped), 3);
    assert_int_equal(skipped, 0);
    assert_string_equal(c.keys[0], "web-1");
    assert_string_equal(c.json[0],
                        "{\"vm_moid\":\"vm-1042\",\"power_state\":\"POWERED_ON\",\"vcpus\":2,\"mem_mb\":4096}");
    assert_string_equal(c.keys[1], "web-2");
    assert_string_equal(c.json[1], "{\"vm_moid\":\"vm-1043\",\"power_state\":\"POWERED_OFF\"}");
    assert_int_equal(c.nprob[1], 2);
    assert_string_equal(c.keys[2], "db-1");
    fjson_object_put(list);
    ctx_fieldmap_free(m);
}

static void bulk_object_items_and_bad_items(void **state) {
    (void)state;
    ctx_fieldmap *m = map_text(
        "{\"bulk\": {\"items\": \"/vms\", \"key_is\": \"name\","
        " \"fields\": {\"ip\": {\"pointer\": \"/ip\", \"type\": \"string\"}}}}");
    struct fjson_object *r = fjson_tokener_parse("{\"vms\": {\"a\": {\"ip\": \"10.0.0.1\"}, \"b\": {}, \"\": {}}}");
    struct collected c = {0};
    size_t skipped;
    /* no "key": the member names are the keys; the empty name is skipped */
    assert_int_equal(ctx_fieldmap_apply_bulk(m, r, collect, &c, &skipped), 2);
    assert_int_equal(skipped, 1);
    assert_string_equal(c.keys[0], "a");
    assert_string_equal(c.json[0], "{\"ip\":\"10.0.0.1\"}");
    assert_string_equal(c.keys[1], "b");
    assert_string_equal(c.json[1], "{}");
    fjson_object_put(r);
    r = fjson_tokener_parse("{\"vms\": 5}");
    assert_int_equal(ctx_fieldmap_apply_bulk(m, r, collect, &c, NULL), CTX_EINVAL);
    fjson_object_put(r);
    r = fjson_tokener_parse("{\"other\": []}");
    assert_int_equal(ctx_fieldmap_apply_bulk(m, r, collect, &c, NULL), CTX_ENOENT);
    fjson_object_put(r);
    assert_int_equal(ctx_fieldmap_apply_bulk(m, NULL, collect, &c, NULL), CTX_ENOENT);
    /* an array without a key pointer: every item is skipped */
    r = fjson_tokener_parse("{\"vms\": [{\"ip\": \"x\"}, {}]}");
    assert_int_equal(ctx_fieldmap_apply_bulk(m, r, collect, &c, &skipped), 0);
    assert_int_equal(skipped, 2);
    fjson_object_put(r);
    /* sections that are absent, bulk through apply */
    struct fjson_object *out = (struct fjson_object *)&c;
    assert_int_equal(ctx_fieldmap_apply(m, CTX_FM_VM, NULL, &out, NULL), CTX_ENOENT);
    assert_null(out);
    assert_int_equal(ctx_fieldmap_apply(m, CTX_FM_BULK, NULL, &out, NULL), CTX_EINVAL);
    assert_int_equal(ctx_fieldmap_has(m, CTX_FM_VM), 0);
    assert_null(ctx_fieldmap_path(m, CTX_FM_BULK));
    ctx_fieldmap_free(m);
    /* keys: integers, non-strings, uuid case */
    m = map_text(
        "{\"bulk\": {\"items\": \"\", \"key\": \"/k\", \"key_is\": \"uuid\","
        " \"fields\": {\"n\": {\"pointer\": \"/n\", \"type\": \"integer\"}}}}");
    r = fjson_tokener_parse(
        "[{\"k\": 17, \"n\": 1}, {\"k\": true}, {\"k\": \"AbC\"}, {\"k\": null}, 3, {\"k\": \"\"}]");
    char longkey[CTX_FM_MAX_KEY + 2];
    memset(longkey, 'k', sizeof longkey - 1);
    longkey[sizeof longkey - 1] = '\0';
    struct fjson_object *item = fjson_object_new_object();
    fjson_object_object_add(item, "k", fjson_object_new_string(longkey)); /* 256 bytes: skipped */
    fjson_object_array_add(r, item);
    item = fjson_object_new_object();
    longkey[CTX_FM_MAX_KEY] = '\0';
    fjson_object_object_add(item, "k", fjson_object_new_string(longkey)); /* 255 bytes: fine */
    fjson_object_array_add(r, item);
    memset(&c, 0, sizeof c);
    assert_int_equal(ctx_fieldmap_apply_bulk(m, r, collect, &c, &skipped), 3);
    assert_int_equal(skipped, 5);
    assert_int_equal(strlen(c.keys[2]), 63); /* collect() keeps 63 of the 255 bytes */
    assert_string_equal(c.keys[0], "17");
    assert_string_equal(c.keys[1], "abc");
    assert_int_equal(c.nprob[1], 1);
    fjson_object_put(r);
    ctx_fieldmap_free(m);
    ctx_fieldmap_free(NULL);
}

/* ------------------------------------------------------------------ pointers */

static void rfc6901_pointers(void **state) {
    (void)state;
    /* the example document of RFC 6901, section 5 */
    struct fjson_object *doc = fjson_tokener_parse(
        "{\"foo\": [\"bar\", \"baz\"], \"\": 0, \"a/b\": 1, \"c%d\": 2, \"e^f\": 3, \"g|h\": 4, \"i\\\\j\": 5,"
        " \"k\\\"l\": 6, \" \": 7, \"m~n\": 8, \"nul\": null}");
    struct {
        const char *ptr;
        const char *want; /* JSON text, or NULL for not found */
    } cases[] = {{"/foo", "[\"bar\",\"baz\"]"},
                 {"/foo/0", "\"bar\""},
                 {"/foo/1", "\"baz\""},
                 {"/", "0"},
                 {"/a~1b", "1"},
                 {"/c%d", "2"},
                 {"/e^f", "3"},
                 {"/g|h", "4"},
                 {"/i\\j", "5"},
                 {"/k\"l", "6"},
                 {"/ ", "7"},
                 {"/m~0n", "8"},
                 {"/foo/2", NULL},
                 {"/foo/01", NULL},
                 {"/foo/-", NULL},
                 {"/foo/0/x", NULL},
                 {"/bar", NULL},
                 {"/a/b", NULL},
                 {"/m~1n", NULL},
                 {"/nul/x", NULL}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct fjson_object *v = (struct fjson_object *)doc;
        int rc = ctx_json_pointer_get(doc, cases[i].ptr, &v);
        if (cases[i].want == NULL) {
            assert_int_equal(rc, CTX_ENOENT);
            continue;
        }
        assert_int_equal(rc, 0);
        assert_string_equal(fjson_object_to_json_string_ext(v, FJSON_TO_STRING_PLAIN), cases[i].want);
    }
    struct fjson_object *v;
    assert_int_equal(ctx_json_pointer_get(doc, "", &v), 0);
    assert_ptr_equal(v, doc);
    assert_int_equal(ctx_json_pointer_get(doc, "/nul", &v), 0); /* found, and null */
    assert_null(v);
    assert_int_equal(ctx_json_pointer_get(doc, "foo", &v), CTX_EINVAL);
    assert_int_equal(ctx_json_pointer_get(doc, "/~2", &v), CTX_EINVAL);
    assert_int_equal(ctx_json_pointer_get(doc, "/a~", &v), CTX_EINVAL);
    assert_int_equal(ctx_json_pointer_get(NULL, "/foo", &v), CTX_ENOENT);
    fjson_object_put(doc);
}

/* ------------------------------------------------------------------ conversions */

/* Maps {"v": <value>} through a one-field mapping of the given spec. Returns the output member as
 * JSON text, or "problem:<kind>:<got type>". */
static const char *convert(const char *spec, const char *value) {
    static char out[256];
    char map[512], reply[512];
    snprintf(map, sizeof map, "{\"vm\": {\"fields\": {\"f\": %s}}}", spec);
    snprintf(reply, sizeof reply, "{\"v\": %s, \"w\": [%s, 2, \"x\"], \"zero\": 0, \"two\": 2}", value, value);
    ctx_fieldmap *m = map_text(map);
    struct fjson_object *r = fjson_tokener_parse(reply), *res = NULL, *f = NULL;
    if (r == NULL) fail_msg("bad test reply %s", reply);
    ctx_fm_problems pr;
    int n = ctx_fieldmap_apply(m, CTX_FM_VM, r, &res, &pr);
    assert_int_equal(n + (int)pr.n, 1);
    if (n == 1) {
        assert_true(fjson_object_object_get_ex(res, "f", &f));
        snprintf(out, sizeof out, "%s", fjson_object_to_json_string_ext(f, FJSON_TO_STRING_PLAIN));
    } else {
        snprintf(out, sizeof out, "problem:%s:%d", ctx_fm_problem_name(pr.p[0].kind), pr.p[0].got);
        assert_int_equal(pr.count[pr.p[0].kind], 1);
    }
    fjson_object_put(res);
    fjson_object_put(r);
    ctx_fieldmap_free(m);
    return out;
}

#define STR "{\"pointer\": \"/v\", \"type\": \"string\"}"
#define NUM "{\"pointer\": \"/v\", \"type\": \"number\"}"
#define INT "{\"pointer\": \"/v\", \"type\": \"integer\"}"
#define BOOL "{\"pointer\": \"/v\", \"type\": \"bool\"}"

static void type_conversions(void **state) {
    (void)state;
    /* libfastjson types in problems: 0 null, 1 boolean, 2 double, 3 int, 4 object, 5 array, 6 string */
    assert_string_equal(convert(STR, "\"abc\""), "\"abc\"");
    assert_string_equal(convert(STR, "12"), "\"12\"");
    assert_string_equal(convert(STR, "-12.5"), "\"-12.5\"");
    assert_string_equal(convert(STR, "0.1"), "\"0.1\"");
    assert_string_equal(convert(STR, "true"), "\"true\"");
    assert_string_equal(convert(STR, "null"), "problem:null:0");
    assert_string_equal(convert(STR, "{}"), "problem:wrong type:4");
    assert_string_equal(convert(STR, "[1]"), "problem:wrong type:5");
    assert_string_equal(convert("{\"pointer\": \"/nope\", \"type\": \"string\"}", "1"), "problem:missing:0");

    assert_string_equal(convert(NUM, "12"), "12");
    assert_string_equal(convert(NUM, "12.5"), "12.5");
    assert_string_equal(convert(NUM, "33.333333"), "33.33");
    assert_string_equal(convert(NUM, "-0.001"), "0");
    assert_string_equal(convert(NUM, "\"12.5\""), "12.5");
    assert_string_equal(convert(NUM, "\" 7 \""), "7");
    assert_string_equal(convert(NUM, "\"1e3\""), "1000");
    assert_string_equal(convert(NUM, "\"-.5\""), "-0.5");
    assert_string_equal(convert(NUM, "\"abc\""), "problem:wrong type:6");
    assert_string_equal(convert(NUM, "\"0x10\""), "problem:wrong type:6");
    assert_string_equal(convert(NUM, "\"inf\""), "problem:wrong type:6");
    assert_string_equal(convert(NUM, "\"nan\""), "problem:wrong type:6");
    assert_string_equal(convert(NUM, "\"1e\""), "problem:wrong type:6");
    assert_string_equal(convert(NUM, "\"\""), "problem:wrong type:6");
    assert_string_equal(convert(NUM, "\"1e999\""), "problem:out of range:6");
    assert_string_equal(convert(NUM, "1e400"), "problem:out of range:2");
    assert_string_equal(convert(NUM, "true"), "problem:wrong type:1");
    assert_string_equal(convert(NUM, "null"), "problem:null:0");
    assert_string_equal(convert(NUM, "[]"), "problem:wrong type:5");
    assert_string_equal(convert("{\"pointer\": \"/v\", \"type\": \"number\", \"decimals\": 0}", "2.5"), "3");
    assert_string_equal(convert("{\"pointer\": \"/v\", \"type\": \"number\", \"decimals\": 0}", "-2.5"), "-3");
    assert_string_equal(convert("{\"pointer\": \"/v\", \"type\": \"number\", \"decimals\": 1}", "31.25"), "31.3");
    assert_string_equal(convert(NUM, "1e300"), "1e+300"); /* past 1e15: shortest exact form */
    assert_string_equal(convert(NUM, "123456789012345678"), "1.2345678901234568e+17");
    assert_string_equal(convert(NUM, "999999999999999.5"), "999999999999999.5");
    assert_string_equal(convert("{\"pointer\": \"/v\", \"type\": \"number\", \"decimals\": 4}", "0.123456"), "0.1235");

    assert_string_equal(convert(INT, "42"), "42");
    assert_string_equal(convert(INT, "9007199254740993"), "9007199254740993"); /* exact, not via double */
    assert_string_equal(convert(INT, "42.5"), "43");
    assert_string_equal(convert(INT, "-42.5"), "-43");
    assert_string_equal(convert(INT, "\"17\""), "17");
    assert_string_equal(convert(INT, "\"17.4\""), "17");
    assert_string_equal(convert(INT, "1e19"), "problem:out of range:2");
    assert_string_equal(convert(INT, "\"abc\""), "problem:wrong type:6");
    assert_string_equal(convert(INT, "false"), "problem:wrong type:1");

    assert_string_equal(convert(BOOL, "true"), "true");
    assert_string_equal(convert(BOOL, "0"), "false");
    assert_string_equal(convert(BOOL, "1"), "true");
    assert_string_equal(convert(BOOL, "\"TRUE\""), "true");
    assert_string_equal(convert(BOOL, "\"false\""), "false");
    assert_string_equal(convert(BOOL, "2"), "problem:wrong type:3");
    assert_string_equal(convert(BOOL, "\"no\""), "problem:wrong type:6");
    assert_string_equal(convert(BOOL, "1.0"), "problem:wrong type:2");
    assert_string_equal(convert(BOOL, "null"), "problem:null:0");
}

static void computed_numbers(void **state) {
    (void)state;
    const char *per = "{\"pointer\": \"/v\", \"per\": \"/two\", \"scale\": 10, \"type\": \"number\"}";
    assert_string_equal(convert(per, "5"), "25");
    assert_string_equal(convert(per, "\"5\""), "25");
    assert_string_equal(convert("{\"pointer\": \"/v\", \"per\": [\"/two\", \"/two\"], \"type\": \"integer\"}", "10"),
                        "3"); /* 2.5 rounds away from zero */
    assert_string_equal(convert("{\"pointer\": \"/v\", \"per\": \"/zero\", \"type\": \"number\"}", "5"),
                        "problem:out of range:0");
    assert_string_equal(convert("{\"pointer\": \"/v\", \"per\": \"/none\", \"type\": \"number\"}", "5"),
                        "problem:missing:0");
    assert_string_equal(convert("{\"pointer\": \"/v\", \"per\": \"/w\", \"type\": \"number\"}", "5"),
                        "problem:wrong type:5");
    assert_string_equal(convert(per, "\"x\""), "problem:wrong type:6");
    assert_string_equal(convert("{\"pointer\": \"/v\", \"scale\": 1e300, \"type\": \"number\"}", "1e300"),
                        "problem:out of range:0");
    /* "w" is [v, 2, "x"]: reduce over the elements themselves (pointer "") */
#define REDUCE_SPEC "{\"array\": \"/w\", \"pointer\": \"\", \"reduce\": \"%s\", \"type\": \"number\"}"
    char spec[256];
    const char *want[][2] = {{"avg", "4"}, {"sum", "8"}, {"min", "2"}, {"max", "6"}};
    for (int i = 0; i < 4; i++) {
        snprintf(spec, sizeof spec, REDUCE_SPEC, want[i][0]);
        assert_string_equal(convert(spec, "6"), want[i][1]); /* "x" is skipped */
    }
    snprintf(spec, sizeof spec, REDUCE_SPEC, "avg");
    assert_string_equal(convert(spec, "null"), "2");
    assert_string_equal(
        convert("{\"array\": \"/v\", \"pointer\": \"\", \"reduce\": \"avg\", \"type\": \"number\"}", "6"),
        "problem:wrong type:3");
    assert_string_equal(convert("{\"array\": \"/v\", \"pointer\": \"\", \"reduce\": \"avg\", \"type\": \"number\"}",
                                "[\"a\", null, {}]"),
                        "problem:missing:0");
    assert_string_equal(convert("{\"array\": \"/v\", \"pointer\": \"/x\", \"reduce\": \"max\", \"type\": \"integer\"}",
                                "[{\"x\": 1.4}, {\"x\": \"7\"}, {\"y\": 99}]"),
                        "7");
    assert_string_equal(
        convert("{\"array\": \"/v\", \"pointer\": \"\", \"reduce\": \"sum\", \"type\": \"number\"}", "[1e308, 1e308]"),
        "problem:out of range:5");
}

static void problem_strings(void **state) {
    (void)state;
    ctx_fieldmap *m = map_text(
        "{\"stats\": {\"fields\": {\"avg_vm_cpu_pct\": {\"pointer\": \"/cpu/0/u\","
        " \"type\": \"number\"}, \"up\": {\"pointer\": \"/up\", \"type\": \"integer\"}}}}");
    struct fjson_object *r = fjson_tokener_parse("{\"cpu\": [{\"u\": {\"a\": 1}}], \"up\": 1e30}"), *res;
    ctx_fm_problems pr;
    char line[256];
    assert_int_equal(ctx_fieldmap_apply(m, CTX_FM_STATS, r, &res, &pr), 0);
    assert_string_equal(fjson_object_to_json_string_ext(res, FJSON_TO_STRING_PLAIN), "{}");
    assert_int_equal(pr.n, 2);
    assert_int_equal(pr.count[CTX_FM_WRONG_TYPE], 1);
    assert_int_equal(pr.count[CTX_FM_RANGE], 1);
    ctx_fieldmap_problem_str(m, CTX_FM_STATS, &pr.p[0], line, sizeof line);
    assert_string_equal(line, "avg_vm_cpu_pct (/cpu/0/u): wrong type (expected number, got object)");
    ctx_fieldmap_problem_str(m, CTX_FM_STATS, &pr.p[1], line, sizeof line);
    assert_string_equal(line, "up (/up): out of range (expected integer, got number)");
    assert_int_equal(ctx_fieldmap_problem_str(m, CTX_FM_STATS, &pr.p[1], line, 8), 7);
    assert_string_equal(line, "up (/up");
    assert_int_equal(ctx_fieldmap_problem_str(m, CTX_FM_VM, &pr.p[1], line, sizeof line), CTX_EINVAL);
    assert_string_equal(ctx_fm_problem_name(CTX_FM_NULL), "null");
    /* strings longer than CTX_FM_MAX_STRING are out of range, the limit itself is fine */
    ctx_fieldmap *ms = map_text("{\"vm\": {\"fields\": {\"s\": {\"pointer\": \"/s\", \"type\": \"string\"}}}}");
    char *big = malloc(CTX_FM_MAX_STRING + 2);
    memset(big, 'x', CTX_FM_MAX_STRING + 1);
    big[CTX_FM_MAX_STRING + 1] = '\0';
    struct fjson_object *rs = fjson_object_new_object(), *out;
    fjson_object_object_add(rs, "s", fjson_object_new_string(big));
    assert_int_equal(ctx_fieldmap_apply(ms, CTX_FM_VM, rs, &out, &pr), 0);
    assert_int_equal(pr.count[CTX_FM_RANGE], 1);
    fjson_object_put(out);
    big[CTX_FM_MAX_STRING] = '\0';
    fjson_object_object_add(rs, "s", fjson_object_new_string(big));
    assert_int_equal(ctx_fieldmap_apply(ms, CTX_FM_VM, rs, &out, &pr), 1);
    fjson_object_put(out);
    fjson_object_put(rs);
    free(big);
    ctx_fieldmap_free(ms);
    assert_string_equal(ctx_fm_problem_name(9), "?");
    fjson_object_put(res);
    fjson_object_put(r);
    ctx_fieldmap_free(m);
}

/* ------------------------------------------------------------------ garbage replies */

static unsigned rnd_state = 12345;
static unsigned rnd(void) {
    rnd_state = rnd_state * 1103515245u + 12345u;
    return (rnd_state >> 16) & 0x7fff;
}

static const char *const rnd_keys[] = {
    "server", "hypervisor", "cpu_details", "memory_details", "used",  "maximum", "utilisation",
    "config", "quickStats", "hardware",    "runtime",        "0",     "1",       "id",
    "name",   "servers",    "metadata",    "flavor",         "vcpus", "host_ip"};

static struct fjson_object *rnd_json(int depth) {
    switch (rnd() % (depth > 4 ? 6 : 8)) {
        case 0:
            return NULL;
        case 1:
            return fjson_object_new_boolean((fjson_bool)(rnd() & 1));
        case 2:
            return fjson_object_new_int64((int64_t)rnd() - 16000);
        case 3:
            return fjson_object_new_double((double)rnd() / 7.0 - 1000.0);
        case 4:
            return fjson_object_new_string(rnd_keys[rnd() % 20]);
        case 5:
            return fjson_object_new_string(rnd() & 1 ? "12.5" : "");
        case 6: {
            struct fjson_object *o = fjson_object_new_object();
            for (unsigned i = 0, n = rnd() % 5; i < n; i++)
                fjson_object_object_add(o, rnd_keys[rnd() % 20], rnd_json(depth + 1));
            return o;
        }
        default: {
            struct fjson_object *a = fjson_object_new_array();
            for (unsigned i = 0, n = rnd() % 4; i < n; i++) fjson_object_array_add(a, rnd_json(depth + 1));
            return a;
        }
    }
}

static int count_cb(void *ud, const char *key, struct fjson_object *fields, const ctx_fm_problems *pr) {
    (void)key;
    (void)pr;
    (*(int *)ud)++;
    fjson_object_put(fields);
    return 0;
}

/* Thousands of random trees through both shipped mappings: never a crash; every field is either
 * set or reported. */
static void garbage_replies(void **state) {
    (void)state;
    ctx_fieldmap *maps[2] = {map_file(CONF "cm-nova.json"), map_file(CONF "cm-vcenter.json")};
    for (int iter = 0; iter < 3000; iter++) {
        struct fjson_object *r = rnd_json(0);
        for (int k = 0; k < 2; k++) {
            for (int s = 0; s < CTX_FM_NSECTIONS; s++) {
                struct fjson_object *res = NULL;
                ctx_fm_problems pr;
                if (s == CTX_FM_BULK) {
                    int n = 0;
                    size_t skipped = 0;
                    int rc = ctx_fieldmap_apply_bulk(maps[k], r, count_cb, &n, &skipped);
                    assert_true(rc == CTX_ENOENT || rc == CTX_EINVAL || rc == n);
                    continue;
                }
                int n = ctx_fieldmap_apply(maps[k], (ctx_fm_section)s, r, &res, &pr);
                if (!ctx_fieldmap_has(maps[k], (ctx_fm_section)s)) { /* cm-vcenter.json has no "vm" */
                    assert_int_equal(n, CTX_ENOENT);
                    continue;
                }
                ASSERT_GE(n, 0);
                assert_int_equal((size_t)n + pr.n, ctx_fieldmap_nfields(maps[k], (ctx_fm_section)s));
                assert_int_equal(pr.count[0] + pr.count[1] + pr.count[2] + pr.count[3], pr.n);
                fjson_object_put(res);
            }
        }
        fjson_object_put(r);
    }
    /* a reply that is not an object at all, and no reply */
    ctx_fm_problems pr;
    struct fjson_object *res;
    struct fjson_object *html = fjson_object_new_string("<html><body>502 Bad Gateway</body></html>");
    assert_int_equal(ctx_fieldmap_apply(maps[0], CTX_FM_HOST, html, &res, &pr), 0);
    assert_int_equal(pr.count[CTX_FM_MISSING], 5);
    fjson_object_put(res);
    assert_int_equal(ctx_fieldmap_apply(maps[0], CTX_FM_VM, NULL, &res, &pr), 0);
    assert_int_equal(pr.count[CTX_FM_MISSING], 8);
    fjson_object_put(res);
    fjson_object_put(html);
    ctx_fieldmap_free(maps[0]);
    ctx_fieldmap_free(maps[1]);
}

CTX_TEST_MAIN(NULL, NULL,
    cmocka_unit_test(nova_mapping),     cmocka_unit_test(nova_bulk),
    cmocka_unit_test(vcenter_mapping),  cmocka_unit_test(bulk_object_items_and_bad_items),
    cmocka_unit_test(rfc6901_pointers), cmocka_unit_test(type_conversions),
    cmocka_unit_test(computed_numbers), cmocka_unit_test(problem_strings),
    cmocka_unit_test(garbage_replies))
