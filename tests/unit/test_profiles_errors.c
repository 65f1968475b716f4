/* test_profiles_errors.c: the VM profiles store's validation: every message (exact text and
 * line) for documents, the sample files an operator might write, NUL bytes and odd arguments,
 * unreadable files, and the fuzz corpus replayed. The store at work: test_profiles.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "check.h"
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctxlog_common.h"
#include "profiles.h"
#include "profiles_fx.h"

struct bad_doc {
    const char *doc;
    const char *err;
};

/* Every validation message, exactly, with its line. */
static const struct bad_doc bad_docs[] = {
    {"", "p.json: line 1: the file is empty (expected a JSON object with a \"vms\" array)"},
    {" \n\t", "p.json: line 1: the file is empty (expected a JSON object with a \"vms\" array)"},
    {"{\"vms\":[\n]} x", "p.json: line 2, column 4: unexpected data after the end of the JSON document"},
    {"{\"vms\":[]}{}", "p.json: line 1, column 11: unexpected data after the end of the JSON document"},
    {"{\"vms\":[\n  1,\n]}", "p.json: line 3, column 1: JSON syntax error: unexpected character"},
    {"{\"vms\":[\n", "p.json: line 2, column 1: JSON syntax error: unexpected end of file (an object, array or "
                   "string is not closed)"},
    {"{\"vms\":['a']}", "p.json: line 1, column 9: JSON syntax error: unexpected character"},
    {"{\"vms\":[],\n'vms':[]}", "p.json: line 2: top level: key \"vms\" appears twice (lines 1 and 2)"},
    {"{\"vms\":[], /* c */}", "p.json: line 1, column 12: JSON syntax error: quoted object property name expected"},
    {"[]", "p.json: line 1: top level: expected an object, got an array"},
    {"\"x\"", "p.json: line 1: top level: expected an object, got \"x\""},
    {"{}", "p.json: line 1: top level: missing key \"vms\" (an array of VM objects)"},
    {"{\"vms\":[],\n\"vms\":[]}", "p.json: line 2: top level: key \"vms\" appears twice (lines 1 and 2)"},
    {"{\"vms\":[],\n \"VMs\":[]}", "p.json: line 2: top level: unknown key \"VMs\" (expected version, defaults, vms; "
                                 "keys starting with \"_\" are ignored)"},
    {"{\"vms\":{}}", "p.json: line 1: vms: expected an array of VM objects, got an object"},
    {"{\"vms\":[],\"version\":2}", "p.json: line 1: version: expected 1, got 2"},
    {"{\"vms\":[],\"version\":\"1\"}", "p.json: line 1: version: expected 1, got \"1\""},
    {"{\"vms\":[],\"defaults\":[]}", "p.json: line 1: defaults: expected an object, got an array"},
    {"{\"vms\":[],\"defaults\":{\"cgroup\":\"/x\"}}", "p.json: line 1: defaults: unknown key \"cgroup\" (expected "
                                                   "tenant, user; keys starting with \"_\" are ignored)"},
    {"{\"vms\":[],\"defaults\":{\"tenant\":\"..\"}}", "p.json: line 1: defaults.tenant: expected 1 to 64 characters "
                                                     "of A-Z a-z 0-9 . _ - (not \".\" or \"..\"), got \"..\""},
    {"{\"vms\":[],\"defaults\":{\"user\":7}}", "p.json: line 1: defaults.user: expected a string, got 7"},
    {"{\"vms\":[\n{\"name\":\"a\",\"tenant\":\"t\"},\n\"b\"]}", "p.json: line 3: vms[1]: expected an object, got \"b\""},
    {"{\"vms\":[{\"tenant\":\"t\"}]}", "p.json: line 1: vms[0]: missing key \"name\""},
    {"{\"vms\":[{\"name\":\"a\"}]}", "p.json: line 1: vms[0]: missing key \"tenant\" (and no \"tenant\" in "
                                   "\"defaults\")"},
    {"{\"vms\":[{\"name\":\"\",\"tenant\":\"t\"}]}", "p.json: line 1: vms[0].name: expected 1 to 255 bytes of UTF-8 "
                                                 "text without control characters, got \"\""},
    {"{\"vms\":[{\"name\":\"a\\nb\",\"tenant\":\"t\"}]}", "p.json: line 1: vms[0].name: expected 1 to 255 bytes of "
                                                      "UTF-8 text without control characters, got \"a\\x0ab\""},
    {"{\"vms\":[{\"name\":\"\xc3\",\"tenant\":\"t\"}]}", "p.json: line 1: vms[0].name: expected 1 to 255 bytes of "
                                                     "UTF-8 text without control characters, got \"\\xc3\""},
    {"{\"vms\":[{\"name\":\"\xed\xa0\x80\",\"tenant\":\"t\"}]}", "p.json: line 1: vms[0].name: expected 1 to 255 "
                                                      "bytes of UTF-8 text without control characters, got "
                                                      "\"\\xed\\xa0\\x80\""},
    {"{\"vms\":[{\"name\":\"\\u0085\",\"tenant\":\"t\"}]}", "p.json: line 1: vms[0].name: expected 1 to 255 bytes "
                                                        "of UTF-8 text without control characters, got "
                                                        "\"\\xc2\\x85\""},
    {"{\"vms\":[{\"name\":\"a\\u0000\",\"tenant\":\"t\"}]}", "p.json: line 1: vms[0].name: contains a NUL character "
                                                         "(\\u0000)"},
    {"{\"vms\":[{\"name\":[\"a\"],\"tenant\":\"t\"}]}", "p.json: line 1: vms[0].name: expected a string, got an "
                                                    "array"},
    {"{\"vms\":[{\"name\":\"a\",\"tenant\":\"acme corp\"}]}", "p.json: line 1: vms[0].tenant: expected 1 to 64 "
                                                          "characters of A-Z a-z 0-9 . _ - (not \".\" or \"..\"), "
                                                          "got \"acme corp\""},
    {"{\"vms\":[{\"name\":\"a\",\"tenant\":\"default\"}]}", "p.json: line 1: vms[0].tenant: \"default\" is "
                                                         "reserved (omtenant's destination for tenants it has no "
                                                         "entry for), expected another tenant id"},
    {"{\"vms\":[],\"defaults\":{\"tenant\":\"unknown\"}}", "p.json: line 1: defaults.tenant: \"unknown\" is "
                                                          "reserved (the tenant of messages no profile claims), "
                                                          "expected another tenant id"},
    {"{\"vms\":[{\"name\":\"a\",\"tenant\":\"t\",\"user\":null}]}", "p.json: line 1: vms[0].user: expected a "
                                                                "string, got null"},
    {"{\"vms\":[{\"name\":\"a\",\"tenant\":\"t\",\"uuid\":\"6f1c2a4e0b7d4c1e9a8f2d3b4c5d6e7f\"}]}",
     "p.json: line 1: vms[0].uuid: expected a UUID like \"6f1c2a4e-0b7d-4c1e-9a8f-2d3b4c5d6e7f\", got "
     "\"6f1c2a4e0b7d4c1e9a8f2d3b4c5d6e7f\""},
    {"{\"vms\":[{\"name\":\"a\",\"tenant\":\"t\",\"mac\":\"zz\"}]}", "p.json: line 1: vms[0].mac: expected "
                                                                 "\"xx:xx:xx:xx:xx:xx\", got \"zz\""},
    {"{\"vms\":[{\"name\":\"a\",\"tenant\":\"t\",\"mac\":\"52-54-00-ab-cd-01\"}]}",
     "p.json: line 1: vms[0].mac: expected \"xx:xx:xx:xx:xx:xx\", got \"52-54-00-ab-cd-01\""},
    {"{\"vms\":[{\"name\":\"a\",\"tenant\":\"t\",\"mac\":\"01:00:5e:00:00:01\"}]}",
     "p.json: line 1: vms[0].mac: \"01:00:5e:00:00:01\" is a multicast address, not a VM's source MAC"},
    {"{\"vms\":[{\"name\":\"a\",\"tenant\":\"t\",\"mac\":\"00:00:00:00:00:00\"}]}",
     "p.json: line 1: vms[0].mac: \"00:00:00:00:00:00\" is not a valid source MAC"},
    {"{\"vms\":[{\"name\":\"a\",\"tenant\":\"t\",\"mac\":{}}]}", "p.json: line 1: vms[0].mac: expected a string or "
                                                             "an array of strings, got an object"},
    {"{\"vms\":[{\"name\":\"a\",\"tenant\":\"t\",\n\"ipv4\":[\"10.0.0.1\",\n true]}]}",
     "p.json: line 3: vms[0].ipv4[1]: expected a string, got true"},
    {"{\"vms\":[{\"name\":\"a\",\"tenant\":\"t\",\"ipv4\":\"10.0.0\"}]}", "p.json: line 1: vms[0].ipv4: expected an "
                                                                      "IPv4 address like \"192.0.2.10\", got "
                                                                      "\"10.0.0\""},
    {"{\"vms\":[{\"name\":\"a\",\"tenant\":\"t\",\"ipv4\":\"2001:db8::1\"}]}", "p.json: line 1: vms[0].ipv4: "
                                                                           "expected an IPv4 address like "
                                                                           "\"192.0.2.10\", got \"2001:db8::1\""},
    {"{\"vms\":[{\"name\":\"a\",\"tenant\":\"t\",\"ipv4\":\"0.0.0.0\"}]}", "p.json: line 1: vms[0].ipv4: "
                                                                       "\"0.0.0.0\" is not a unicast address"},
    {"{\"vms\":[{\"name\":\"a\",\"tenant\":\"t\",\"ipv4\":\"255.255.255.255\"}]}",
     "p.json: line 1: vms[0].ipv4: \"255.255.255.255\" is not a unicast address"},
    {"{\"vms\":[{\"name\":\"a\",\"tenant\":\"t\",\"ipv6\":\"fe80::1%vnet0\"}]}", "p.json: line 1: vms[0].ipv6: "
                                                                             "expected an IPv6 address like "
                                                                             "\"2001:db8::10\", got "
                                                                             "\"fe80::1%vnet0\""},
    {"{\"vms\":[{\"name\":\"a\",\"tenant\":\"t\",\"ipv6\":\"::ffff:10.0.0.1\"}]}",
     "p.json: line 1: vms[0].ipv6: \"::ffff:10.0.0.1\" is an IPv4-mapped address: list it under \"ipv4\""},
    {"{\"vms\":[{\"name\":\"a\",\"tenant\":\"t\",\"ipv6\":[\"ff02::1\"]}]}", "p.json: line 1: vms[0].ipv6[0]: "
                                                                         "\"ff02::1\" is not a unicast address"},
    {"{\"vms\":[{\"name\":\"a\",\"tenant\":\"t\",\"ipv6\":\"::\"}]}", "p.json: line 1: vms[0].ipv6: \"::\" is not a "
                                                                  "unicast address"},
    {"{\"vms\":[{\"name\":\"a\",\"tenant\":\"t\",\"vnic\":\"eth0:1\"}]}", "p.json: line 1: vms[0].vnic: \"eth0:1\": "
                                                                      "character ':' at offset 4 is not allowed in "
                                                                      "an interface name"},
    {"{\"vms\":[{\"name\":\"a\",\"tenant\":\"t\",\"vnic\":[\"\"]}]}", "p.json: line 1: vms[0].vnic[0]: \"\": empty "
                                                                  "pattern"},
    {"{\"vms\":[{\"name\":\"a\",\"tenant\":\"t\",\"cgroup\":\"machine.slice\"}]}",
     "p.json: line 1: vms[0].cgroup: expected an absolute path (starting with \"/\", at most 4095 bytes, no \"..\" "
     "component, no control characters), got \"machine.slice\""},
    {"{\"vms\":[{\"name\":\"a\",\"tenant\":\"t\",\"cgroup\":\"/sys/fs/cgroup/..\"}]}",
     "p.json: line 1: vms[0].cgroup: expected an absolute path (starting with \"/\", at most 4095 bytes, no \"..\" "
     "component, no control characters), got \"/sys/fs/cgroup/..\""},
    {"{\"vms\":[{\"name\":\"a\",\"tenant\":\"t\",\"pid\":0}]}", "p.json: line 1: vms[0].pid: expected an integer "
                                                            "from 1 to 4194304, got 0"},
    {"{\"vms\":[{\"name\":\"a\",\"tenant\":\"t\",\"pid\":4194305}]}", "p.json: line 1: vms[0].pid: expected an "
                                                                  "integer from 1 to 4194304, got 4194305"},
    {"{\"vms\":[{\"name\":\"a\",\"tenant\":\"t\",\"pid\":\"12\"}]}", "p.json: line 1: vms[0].pid: expected an "
                                                                 "integer from 1 to 4194304, got \"12\""},
    /* duplicates across and within VMs */
    {"{\"vms\":[{\"name\":\"a\",\"tenant\":\"t\",\"uuid\":\"6f1c2a4e-0b7d-4c1e-9a8f-2d3b4c5d6e7f\"},\n"
     "{\"name\":\"b\",\"tenant\":\"t\",\"uuid\":\"6F1C2A4E-0B7D-4C1E-9A8F-2D3B4C5D6E7F\"}]}",
     "p.json: line 2: vms[1].uuid: \"6f1c2a4e-0b7d-4c1e-9a8f-2d3b4c5d6e7f\" is already used by vms[0] (\"a\", line "
     "1)"},
    {"{\"vms\":[{\"name\":\"a\",\"tenant\":\"t\",\"mac\":\"52:54:00:AB:CD:01\"},\n"
     "{\"name\":\"b\",\"tenant\":\"t\",\"mac\":[\"52:54:00:ab:cd:02\",\n\"52:54:00:ab:cd:01\"]}]}",
     "p.json: line 3: vms[1].mac[1]: \"52:54:00:ab:cd:01\" is already used by vms[0] (\"a\", line 1)"},
    {"{\"vms\":[{\"name\":\"a\",\"tenant\":\"t\",\"ipv6\":\"2001:db8::1\"},\n"
     "{\"name\":\"b\",\"tenant\":\"t\",\"ipv4\":\"10.1.1.1\",\"ipv6\":\"2001:DB8:0::1\"}]}",
     "p.json: line 2: vms[1].ipv6: \"2001:db8::1\" is already used by vms[0] (\"a\", line 1)"},
    {"{\"vms\":[{\"name\":\"a\",\"tenant\":\"t\",\"ipv4\":[\"10.1.1.1\",\"10.1.1.2\",\"10.1.1.1\"]}]}",
     "p.json: line 1: vms[0].ipv4[2]: \"10.1.1.1\" appears twice in this VM"},
    {"{\"vms\":[{\"name\":\"a\",\"tenant\":\"t\",\"vnic\":\"vnet1\"},{\"name\":\"b\",\"tenant\":\"t\",\"vnic\":"
     "\"vnet1\"}]}",
     "p.json: line 1: vms[1].vnic: \"vnet1\" is already used by vms[0] (\"a\", line 1)"},
    {"{\"vms\":[{\"name\":\"a\",\"tenant\":\"t\",\"vnic\":[\"tap*\",\"tap*\"]}]}",
     "p.json: line 1: vms[0].vnic[1]: \"tap*\" appears twice in this VM"},
    {"{\"vms\":[{\"name\":\"a\",\n\"tenant\":\"t\",\n\"name\":\"b\"}]}", "p.json: line 3: vms[0]: key \"name\" "
                                                                      "appears twice (lines 1 and 3)"},
    {"{\"vms\":[{\"name\":\"a\",\"tenant\":\"t\",\n\"mac \":\"x\"}]}", "p.json: line 2: vms[0]: unknown key \"mac \" "
                                                                   "(expected name, uuid, tenant, user, ipv4, ipv6, "
                                                                   "mac, vnic, cgroup, pid; keys starting with \"_\" "
                                                                   "are ignored)"},
};

static void rejects_with_one_exact_line(void **state) {
    (void)state;
    for (size_t i = 0; i < sizeof bad_docs / sizeof *bad_docs; i++) {
        const struct bad_doc *c = &bad_docs[i];
        ctx_profiles_t *p = (ctx_profiles_t *)1;
        char err[CTX_ERRLEN] = "";
        int r = ctx_profiles_load_buffer(c->doc, strlen(c->doc), "p.json", &p, err, sizeof err);
        if (r != CTX_EPARSE || p != NULL || strcmp(err, c->err) != 0)
            fail_msg("case %zu: got %d\n  \"%s\"\nexpected\n  \"%s\"", i, r, err, c->err);
        assert_null(strchr(err, '\n'));
    }
}

static void nul_byte_and_odd_arguments(void **state) {
    (void)state;
    ctx_profiles_t *p = NULL;
    char err[CTX_ERRLEN];
    static const char doc[] = "{\"vms\":[\n{\"name\":\"a\0\"}]}";
    assert_int_equal(ctx_profiles_load_buffer(doc, sizeof doc - 1, "p.json", &p, err, sizeof err), CTX_EPARSE);
    assert_string_equal(err, "p.json: line 2, column 11: NUL byte in the file");
    /* the name defaults to "profiles"; a buffer need not be NUL-terminated */
    static const char cut[] = "{\"vms\":[]}GARBAGE";
    assert_int_equal(ctx_profiles_load_buffer(cut, 10, NULL, &p, err, sizeof err), 0);
    assert_string_equal(ctx_profiles_source(p), "profiles");
    ctx_profiles_unref(p);
    assert_int_equal(ctx_profiles_load_buffer(cut, 11, NULL, &p, err, sizeof err), CTX_EPARSE);
    assert_string_equal(err, "profiles: line 1, column 11: unexpected data after the end of the JSON document");
    /* a short error buffer is cut, not overrun; no buffer at all is fine */
    char small[16];
    assert_int_equal(ctx_profiles_load_buffer("{}", 2, "p.json", &p, small, sizeof small), CTX_EPARSE);
    assert_string_equal(small, "p.json: line 1:");
    assert_int_equal(ctx_profiles_load_buffer("{}", 2, "p.json", &p, NULL, 0), CTX_EPARSE);
    assert_int_equal(ctx_profiles_load_buffer(NULL, 0, "p.json", &p, err, sizeof err), CTX_EPARSE);
    assert_int_equal(ctx_profiles_load_buffer(NULL, 5, "p.json", &p, err, sizeof err), CTX_EINVAL);
    assert_int_equal(ctx_profiles_load_buffer("{}", 2, "p.json", NULL, err, sizeof err), CTX_EINVAL);
}

struct bad_file {
    const char *file;
    const char *err; /* after "<path>: " */
};

/* The sample files an operator might write, with the message they get. */
static void bad_sample_files(void **state) {
    (void)state;
    static const struct bad_file cases[] = {
        {"bad-mac.json", "line 11: vms[1].mac: expected \"xx:xx:xx:xx:xx:xx\", got \"52:54:00:zz:01\""},
        {"bad-dup-ip.json", "line 10: vms[2].ipv4[1]: \"192.0.2.11\" is already used by vms[1] (\"web-2\", line 5)"},
        {"bad-dup-key.json", "line 8: vms[0]: key \"mac\" appears twice (lines 6 and 8)"},
        {"bad-dup-vnic.json", "line 6: vms[2].vnic: \"tap3f*\" is already used by vms[0] (\"web-1\", line 4)"},
        {"bad-tenant.json", "line 4: vms[1].tenant: expected 1 to 64 characters of A-Z a-z 0-9 . _ - (not \".\" or "
                            "\"..\"), got \"acme corp\""},
        {"bad-trailing-comma.json", "line 5, column 3: JSON syntax error: unexpected character"},
        {"bad-unclosed.json", "line 4, column 1: JSON syntax error: unexpected end of file (an object, array or "
                              "string is not closed)"},
        {"bad-unknown-key.json", "line 6: vms[0]: unknown key \"ipv4s\" (expected name, uuid, tenant, user, ipv4, "
                                 "ipv6, mac, vnic, cgroup, pid; keys starting with \"_\" are ignored)"},
        {"bad-vnic.json", "line 4: vms[0].vnic[1]: \"tap[3\": '[' at offset 3 is not closed"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char rel[256], path[4096], want[5000], err[CTX_ERRLEN];
        ctx_profiles_t *p = (ctx_profiles_t *)1;
        snprintf(rel, sizeof rel, "tests/data/profiles/%s", cases[i].file);
        data_path(path, sizeof path, rel);
        snprintf(want, sizeof want, "%s: %s", path, cases[i].err);
        int r = ctx_profiles_load_file(path, &p, err, sizeof err);
        if (r != CTX_EPARSE || p != NULL || strcmp(err, want) != 0)
            fail_msg("%s: got %d\n  \"%s\"\nexpected\n  \"%s\"", cases[i].file, r, err, want);
    }
}

static void file_errors(void **state) {
    (void)state;
    ctx_profiles_t *p = (ctx_profiles_t *)1;
    char path[4096], want[5000], err[CTX_ERRLEN];
    data_path(path, sizeof path, "tests/data/profiles/no-such-file.json");
    assert_int_equal(ctx_profiles_load_file(path, &p, err, sizeof err), CTX_EIO);
    assert_null(p);
    snprintf(want, sizeof want, "%s: cannot read: No such file or directory", path);
    assert_string_equal(err, want);
    data_path(path, sizeof path, "tests/data/profiles");
    assert_int_equal(ctx_profiles_load_file(path, &p, err, sizeof err), CTX_EIO);
    snprintf(want, sizeof want, "%s: cannot read: not a regular file", path);
    assert_string_equal(err, want);
    assert_int_equal(ctx_profiles_load_file(NULL, &p, err, sizeof err), CTX_EINVAL);
}

/* Every input kept under tests/fuzz/corpus/profiles/ loads or fails cleanly with one line. */
static void fuzz_corpus_replay(void **state) {
    (void)state;
    char dir[4096];
    data_path(dir, sizeof dir, "tests/fuzz/corpus/profiles");
    DIR *d = opendir(dir);
    if (d == NULL) fail_msg("no corpus at %s", dir);
    struct dirent *e;
    unsigned files = 0;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.') continue;
        char path[8192], err[CTX_ERRLEN] = "";
        ctx_profiles_t *p = NULL;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        int r = ctx_profiles_load_file(path, &p, err, sizeof err);
        if (r == 0) {
            assert_non_null(p);
            ctx_profiles_unref(p);
        } else {
            assert_null(p);
            assert_memory_equal(err, path, strlen(path));
            assert_null(strchr(err, '\n'));
        }
        files++;
    }
    closedir(d);
    ASSERT_GT(files, 0);
}

CTX_TEST_MAIN(NULL, NULL,
    cmocka_unit_test(rejects_with_one_exact_line),
    cmocka_unit_test(nul_byte_and_odd_arguments),
    cmocka_unit_test(bad_sample_files),
    cmocka_unit_test(file_errors),
    cmocka_unit_test(fuzz_corpus_replay))
