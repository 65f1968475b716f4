/* Unit tests of common/context/cmauth.c without a network: the reply parsers with good and
 * hostile bodies (truncated, wrong types, oversized, control characters), the config checks
 * and the secret files' rules; and cmfetch_next_placeholder's grammar. The login flows run
 * against tests/lib/cmserver.py in tests/system/mmctxenrich_cmauth.sh. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include "check.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmauth.h"
#include "cmfetch.h"
#include "ctxlog_common.h"

static int expiry(const char *body, int64_t *t, const char **why) {
    return cmauth_keystone_expiry(body, strlen(body), t, why);
}

static void keystone_expiry_parses_and_refuses(void **state) {
    (void)state;
    int64_t t = 0;
    const char *why = NULL;
    assert_int_equal(expiry("{\"token\": {\"expires_at\": \"2016-03-07T21:26:52.999747Z\"}}", &t, &why), 0);
    assert_int_equal(t, 1457386012999LL);
    assert_int_equal(expiry("{\"token\": {\"expires_at\": \"2016-03-07T21:26:52+01:00\"}}", &t, &why), 0);
    assert_int_equal(t, 1457382412000LL);
    assert_int_equal(expiry("{\"token\": {\"expires_at\": \"2016-03-07T21:26:52Z\"}}", &t, &why), 0);
    static const char *const bad[] = {
        "", "{", "{\"token\": {\"expires_at\": \"2016-03-07T21:26:5", "[]", "\"x\"", "{\"token\": 1}",
        "{\"token\": {}}", "{\"token\": {\"expires_at\": 1457386012}}", "{\"token\": {\"expires_at\": null}}",
        "{\"token\": {\"expires_at\": \"yesterday\"}}", "{\"token\": {\"expires_at\": \"2016-13-07T21:26:52Z\"}}",
        "{\"token\": {\"expires_at\": \"2016-03-07T21:26:52\"}}", "{\"token\": {\"expires_at\": \"2016-03-07T21:26:52.Z\"}}",
        "{\"token\": {\"expires_at\": \"2016-03-07T21:26:52Zjunk\"}}", "{\"token\": {\"expires_at\": \"1969-03-07T21:26:52Z\"}}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        why = NULL;
        assert_int_equal(expiry(bad[i], &t, &why), CTX_EPARSE);
        assert_non_null(why);
    }
    assert_int_equal(cmauth_keystone_expiry(NULL, 0, &t, &why), CTX_EPARSE);
    /* a huge, deeply nested body is just not a token */
    size_t n = 1 << 20;
    char *big = malloc(n + 1);
    assert_non_null(big);
    memset(big, '[', n);
    big[n] = '\0';
    assert_int_equal(cmauth_keystone_expiry(big, n, &t, &why), CTX_EPARSE);
    free(big);
}

static int session(const char *body, char *out, size_t outlen, const char **why) {
    return cmauth_vcenter_session(body, strlen(body), out, outlen, why);
}

static void vcenter_session_parses_and_refuses(void **state) {
    (void)state;
    char sid[64];
    const char *why = NULL;
    assert_int_equal(session("\"b00a0d3b5c8c9f0e\"", sid, sizeof sid, &why), 16);
    assert_string_equal(sid, "b00a0d3b5c8c9f0e");
    assert_int_equal(session("{\"value\": \"abc\"}", sid, sizeof sid, &why), 3); /* the older /rest API */
    static const char *const bad[] = {"", "\"abc", "\"\"", "\"a b\"", "\"a\\r\\nX-Evil: 1\"", "\"a\\u0000b\"",
                                      "42", "null", "[\"abc\"]", "{\"value\": 1}", "{}", "\"\\u00e9t\u00e9\""};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        why = NULL;
        assert_int_equal(session(bad[i], sid, sizeof sid, &why), CTX_EPARSE);
        assert_non_null(why);
    }
    assert_int_equal(session("\"0123456789abcdef0123\"", sid, 8, &why), CTX_EFULL);
}

static void reasons_are_extracted_and_cleaned(void **state) {
    (void)state;
    char r[64];
    const char *ks = "{\"error\": {\"code\": 401, \"message\": \"The request you have made requires authentication.\"}}";
    cmauth_reason(ks, strlen(ks), r, sizeof r);
    assert_string_equal(r, "The request you have made requires authentication.");
    const char *vc = "{\"error_type\": \"UNAUTHENTICATED\", \"messages\": [{\"default_message\": \"Authentication "
                     "required.\"}]}";
    cmauth_reason(vc, strlen(vc), r, sizeof r);
    assert_string_equal(r, "Authentication required.");
    const char *et = "{\"error_type\": \"UNAUTHENTICATED\", \"messages\": []}";
    cmauth_reason(et, strlen(et), r, sizeof r);
    assert_string_equal(r, "UNAUTHENTICATED");
    const char *ctl = "{\"error\": {\"message\": \"a\\nb\\u001bc\"}}";
    cmauth_reason(ctl, strlen(ctl), r, sizeof r);
    assert_string_equal(r, "a b c");
    cmauth_reason("<html>", 6, r, sizeof r);
    assert_string_equal(r, "");
    cmauth_reason("{\"error\": {\"message\": 5}}", 25, r, sizeof r);
    assert_string_equal(r, "");
    char small[8];
    cmauth_reason(ks, strlen(ks), small, sizeof small);
    assert_string_equal(small, "The req");
}

static char dir[] = "/tmp/test_cmauth.XXXXXX";

static const char *secret_file(const char *name, mode_t mode) {
    static char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("s3cret\n", f);
    fclose(f);
    assert_int_equal(chmod(path, mode), 0);
    return path;
}

static void expect_new(const cmauth_conf_t *c, int rc, const char *msg) {
    cmauth_t *a = NULL;
    char err[CTX_ERRLEN] = "";
    assert_int_equal(cmauth_new(&a, c, NULL, NULL, err, sizeof err), rc);
    if (rc == 0) {
        assert_non_null(a);
        cmauth_free(a);
    } else {
        assert_null(a);
        if (strstr(err, msg) == NULL) fail_msg("error '%s' lacks '%s'", err, msg);
    }
}

static void conf_and_secret_files_are_checked(void **state) {
    (void)state;
    assert_non_null(mkdtemp(dir));
    char good[256];
    snprintf(good, sizeof good, "%s", secret_file("pw", 0600));
    cmauth_conf_t c;
    cmauth_conf_defaults(&c);
    c.type = CM_AUTH_KEYSTONE;
    expect_new(&c, CTX_EINVAL, "cm.authUrl: required with cm.auth=\"keystone\"");
    c.url = "http://keystone:5000/v3/auth/tokens";
    c.user = "u";
    c.password_file = good;
    expect_new(&c, CTX_EINVAL, "cm.authUrl: 'http://keystone:5000/v3/auth/tokens' would send the credentials in clear");
    c.allow_insecure = 1;
    expect_new(&c, 0, "");
    c.url = "ftp://k/";
    expect_new(&c, CTX_EINVAL, "must start with https://");
    c.url = "https://keystone:5000/v3/auth/tokens";
    expect_new(&c, 0, "");
    c.password_file = secret_file("pw-g", 0640);
    expect_new(&c, CTX_EINVAL, "cm.passwordFile: '");
    expect_new(&c, CTX_EINVAL, "pw-g' cannot hold a secret: readable by its group (mode 0640): expected 0600");
    c.password_file = secret_file("pw-o", 0604);
    expect_new(&c, CTX_EINVAL, "readable by every user (mode 0604)");
    c.password_file = "/nonexistent/pw";
    expect_new(&c, CTX_EIO, "cm.passwordFile: cannot read '/nonexistent/pw'");
    char empty[300];
    snprintf(empty, sizeof empty, "%s/empty", dir);
    FILE *f = fopen(empty, "w");
    fclose(f);
    chmod(empty, 0600);
    c.password_file = empty;
    expect_new(&c, CTX_EPARSE, "first line is empty");
    c.password_file = NULL;
    expect_new(&c, CTX_EINVAL, "cm.passwordFile: required");
    c.user = NULL;
    c.appcred_id = "ac";
    expect_new(&c, CTX_EINVAL, "cm.appCredSecretFile: required with cm.appCredId");
    c.appcred_secret_file = good;
    expect_new(&c, 0, "");
    c.user = "u";
    expect_new(&c, CTX_EINVAL, "cm.appCredId: cannot be combined with cm.user");
    cmauth_conf_defaults(&c);
    c.type = CM_AUTH_VCENTER;
    c.url = "https://vc/api/session";
    c.user = "svc";
    c.password_file = good;
    expect_new(&c, 0, "");
    c.project = "p";
    expect_new(&c, CTX_EINVAL, "cm.project: only with cm.auth=\"keystone\"");
    c.type = 7;
    expect_new(&c, CTX_EINVAL, "cm.auth: expected");
    assert_int_equal(cmauth_type_parse("keystone"), CM_AUTH_KEYSTONE);
    assert_int_equal(cmauth_type_parse("vcenter"), CM_AUTH_VCENTER);
    assert_int_equal(cmauth_type_parse("Keystone"), -1);
    assert_int_equal(cmauth_type_parse(NULL), -1);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

static void placeholders_have_a_grammar(void **state) {
    (void)state;
    const char *t = "https://vc/sdk/VirtualMachine/{bulk.vm_moid}/summary?h={host}&u={uuid}";
    size_t pos = 0, n;
    const char *name;
    assert_int_equal(cmfetch_next_placeholder(t, &pos, &name, &n), 1);
    assert_int_equal(n, 12);
    assert_memory_equal(name, "bulk.vm_moid", 12);
    assert_int_equal(cmfetch_next_placeholder(t, &pos, &name, &n), 1);
    assert_memory_equal(name, "host", 4);
    assert_int_equal(cmfetch_next_placeholder(t, &pos, &name, &n), 1);
    assert_memory_equal(name, "uuid", 4);
    assert_int_equal(cmfetch_next_placeholder(t, &pos, &name, &n), 0);
    static const char *const bad[] = {"x{", "x{}", "x{a", "x{.a}", "x{a.}", "x{a.b.c}", "x{a b}", "x{a-b}",
                                      "x{aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa}"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        pos = 0;
        assert_int_equal(cmfetch_next_placeholder(bad[i], &pos, &name, &n), CTX_EINVAL);
        assert_int_equal(pos, 1);
    }
    char out[64];
    assert_int_equal(cmfetch_expand("/vm/{bulk.x}", "u", "n", out, sizeof out), CTX_EINVAL);
    assert_int_equal(cmfetch_expand("/vm/{name}/{uuid}", "u 1", "n/2", out, sizeof out), 15);
    assert_string_equal(out, "/vm/n%2F2/u%201");
}

CTX_TEST_MAIN(NULL, NULL,
    cmocka_unit_test(keystone_expiry_parses_and_refuses),
    cmocka_unit_test(vcenter_session_parses_and_refuses),
    cmocka_unit_test(reasons_are_extracted_and_cleaned),
    cmocka_unit_test(conf_and_secret_files_are_checked),
    cmocka_unit_test(placeholders_have_a_grammar))
