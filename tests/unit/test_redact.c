/* test_redact.c: the redaction engine: every built-in rule, replacement modes, HMAC, tenants,
 * UTF-8 at cut points, JSON trees, structured data, counters, fail-closed, threads.
 * The rules-file errors are in test_redact_errors.c, the corpora in test_redact_corpus.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "check.h"
#include <json.h>
#include <openssl/hmac.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ctxlog_common.h"
#include "redact.h"
#include "redact_int.h" /* rx_prefilter_scan(), rx_scan_use_simd() */

static ctx_redact_rules *load(const char *text, const char *key_path) {
    ctx_redact_rules *r = NULL;
    char err[CTX_ERRLEN];
    int rc = ctx_redact_rules_load_string(&r, text, strlen(text), "t.rules", key_path, err, sizeof err);
    if (rc != 0) fail_msg("load failed: %s", err);
    return r;
}

/* redact s with the global view of r; returns a malloc'd copy of the result */
static char *redact(ctx_redact_rules *r, const char *tenant, const char *s, int *changed) {
    ctx_redact_ctx *c = ctx_redact_ctx_new(r);
    const char *out = NULL;
    size_t outlen = 0;
    assert_non_null(c);
    int rc = ctx_redact_apply(c, ctx_redact_for_tenant(r, tenant), s, strlen(s), &out, &outlen);
    assert_true(rc == 0 || rc == 1);
    if (changed) *changed = rc;
    if (rc == 0) assert_ptr_equal(out, s);
    char *copy = strndup(out, outlen);
    assert_int_equal(strlen(copy), outlen);
    assert_true(ctx_redact_utf8_valid(copy, outlen));
    ctx_redact_ctx_free(c);
    return copy;
}

static void expect(ctx_redact_rules *r, const char *in, const char *want) {
    char *got = redact(r, NULL, in, NULL);
    if (strcmp(got, want) != 0) fail_msg("in:   %s\ngot:  %s\nwant: %s", in, got, want);
    free(got);
}

static void expect_cut(ctx_redact_rules *r, const char *in, const char *want) {
    ctx_redact_ctx *c = ctx_redact_ctx_new(r);
    const char *out = NULL;
    size_t outlen = 0;
    ASSERT_GE(ctx_redact_apply_cut(c, ctx_redact_for_tenant(r, NULL), in, strlen(in), &out, &outlen), 0);
    if (strlen(want) != outlen || memcmp(out, want, outlen) != 0)
        fail_msg("in:   %s\ngot:  %.*s\nwant: %s", in, (int)outlen, out, want);
    ctx_redact_ctx_free(c);
}

static void names_and_defaults(void **state) {
    (void)state;
    static const char *const names[] = {
        "kv-secret",      "url-userinfo",   "auth-header",  "jwt",          "pem-private-key",
        "aws-access-key", "aws-secret-key", "github-token", "gitlab-token", "slack-token",
        "google-api-key", "card",           "email",        "ipv4",         "ipv6"};
    ctx_redact_rules *r = NULL;
    char err[CTX_ERRLEN];
    assert_int_equal(ctx_redact_rules_new(&r, err, sizeof err), 0);
    assert_int_equal(ctx_redact_rules_count(r), 15);
    const ctx_redact_set *g = ctx_redact_for_tenant(r, NULL);
    for (int i = 0; i < 15; i++) {
        assert_string_equal(ctx_redact_rules_name(r, i), names[i]);
        assert_int_equal(ctx_redact_rules_find(r, names[i]), i);
        assert_int_equal(ctx_redact_set_enabled(g, i), i < 12);
    }
    assert_null(ctx_redact_rules_name(r, 15));
    assert_null(ctx_redact_rules_name(r, -1));
    assert_int_equal(ctx_redact_rules_find(r, "nope"), CTX_ENOENT);
    assert_ptr_equal(ctx_redact_for_tenant(r, "anyone"), g);
    assert_int_equal(ctx_redact_has_view(r, "anyone"), 0);
    assert_int_equal(ctx_redact_rules_warnings(r, err, sizeof err), 0);
    assert_string_equal(err, "");
    ctx_redact_rules_free(r);
    ctx_redact_rules_free(NULL);
    ctx_redact_ctx_free(NULL);
}

static void kv_shapes(void **state) {
    (void)state;
    ctx_redact_rules *r = load("", NULL);
    expect(r, "user=bob password=hunter2 ok", "user=bob password=[REDACTED:kv-secret] ok");
    expect(r, "password=hunter2", "password=[REDACTED:kv-secret]");
    expect(r, "db_password = \"a b\\\"c\" x", "db_password = \"[REDACTED:kv-secret]\" x");
    expect(r, "secret='s3 cr3t' x", "secret='[REDACTED:kv-secret]' x");
    expect(r, "{\"api_key\": \"k1\", \"n\": 1}", "{\"api_key\": \"[REDACTED:kv-secret]\", \"n\": 1}");
    expect(r, "X-Api-Key: abc123", "X-Api-Key: [REDACTED:kv-secret]");
    expect(r, "run --password hunter2 -v", "run --password [REDACTED:kv-secret] -v");
    expect(r, "GET /x?user=a&token=t0k3n&y=1", "GET /x?user=a&token=[REDACTED:kv-secret]&y=1");
    expect(r, "q=%22password%22%3A%22pw1%22%2C", "q=%22password%22%3A%22[REDACTED:kv-secret]%22%2C");
    expect(r, "m=\"{\\\"passwd\\\":\\\"pw2\\\"}\"", "m=\"{\\\"passwd\\\":\\\"[REDACTED:kv-secret]\\\"}\"");
    expect(r, "password=\"unterminated", "password=\"[REDACTED:kv-secret]");
    expect(r, "pwd=x1 PWD=/home/bob", "pwd=[REDACTED:kv-secret] PWD=/home/bob");
    /* not secrets: no separator, other key names, ':' not followed by a space */
    expect(r, "Failed password for root", "Failed password for root");
    expect(r, "max_tokens=5 token_count=3 password_policy=strong", "max_tokens=5 token_count=3 password_policy=strong");
    expect(r, "pam_unix(passwd:chauthtok): ok", "pam_unix(passwd:chauthtok): ok");
    expect(r, "password=\"\"", "password=\"\"");
    ctx_redact_rules_free(r);
}

static void secret_keys_extend_and_replace(void **state) {
    (void)state;
    ctx_redact_rules *r = load("secret_keys += session_id, =PIN\n", NULL);
    expect(r, "session_id=abc pin=1234 PIN=5678 password=x",
           "session_id=[REDACTED:kv-secret] pin=1234 "
           "PIN=[REDACTED:kv-secret] password=[REDACTED:kv-secret]");
    ctx_redact_rules_free(r);
    r = load("secret_keys = cookie\n", NULL);
    expect(r, "cookie: sid=1; password=x", "cookie: [REDACTED:kv-secret]; password=x");
    ctx_redact_rules_free(r);
    r = load("secret_keys = ab\n", NULL); /* shorter than a trigram: the rule runs on every message */
    expect(r, "ab=1 xab: 2", "ab=[REDACTED:kv-secret] xab: [REDACTED:kv-secret]");
    ctx_redact_rules_free(r);
}

static void token_rules(void **state) {
    (void)state;
    ctx_redact_rules *r = load("", NULL);
    expect(r, "dsn postgres://app:pw%21x@db:5432/a", "dsn postgres://app:[REDACTED:url-userinfo]@db:5432/a");
    expect(r, "redis://:pw@h/0 and http://host:8080/a@b",
           "redis://:[REDACTED:url-userinfo]@h/0 and http://host:8080/a@b");
    expect(r, "Authorization: Basic dXNlcjpwYXNz", "Authorization: Basic [REDACTED:auth-header]");
    expect(r, "\"authorization\":\"Bearer abc.DEF-123\"", "\"authorization\":\"Bearer [REDACTED:auth-header]\"");
    expect(r, "got bearer abc123def456 back", "got bearer [REDACTED:auth-header] back");
    expect(r, "Basic authentication uses bearer tokens", "Basic authentication uses bearer tokens");
    expect(r, "t=eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.sig-_x y", "t=[REDACTED:jwt] y");
    expect(r, "k -----BEGIN EC PRIVATE KEY-----\\nMHcCAQ\\n-----END EC PRIVATE KEY----- z",
           "k [REDACTED:pem-private-key] z");
    expect(r, "k -----BEGIN PRIVATE KEY----- MIIEvQ", "k [REDACTED:pem-private-key]");
    expect(r, "-----BEGIN CERTIFICATE----- MIIB", "-----BEGIN CERTIFICATE----- MIIB");
    expect(r, "id AKIAIOSFODNN7EXAMPLE, ASIAY34FZKBOKMUTVV7A",
           "id [REDACTED:aws-access-key], [REDACTED:aws-access-key]");
    expect(r, "AKIAIOSFODNN7EXAMPLEX AKIA", "AKIAIOSFODNN7EXAMPLEX AKIA");
    expect(r, "\"SecretAccessKey\":\"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\"",
           "\"SecretAccessKey\":\"[REDACTED:kv-secret]\"");
    expect(r, "AKIAIOSFODNN7EXAMPLE:wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
           "[REDACTED:aws-access-key]:[REDACTED:aws-secret-key]");
    expect(r, "use ghp_0123456789abcdefghijABCDEFGHIJ012345 now", "use [REDACTED:github-token] now");
    expect(r, "ghp_short", "ghp_short");
    expect(r, "t glpat-0123456789abcdefABCD", "t [REDACTED:gitlab-token]");
    expect(r, "xoxb-123456-abcdefghij and https://hooks.slack.com/services/T000/B000/XXXX",
           "[REDACTED:slack-token] and https://hooks.slack.com/[REDACTED:slack-token]");
    expect(r, "key=AIzaSyA-1234567890abcdefghijklmnopqrstu&x", "key=[REDACTED:google-api-key]&x");
    ctx_redact_rules_free(r);
}

static void cards_luhn(void **state) {
    (void)state;
    ctx_redact_rules *r = load("", NULL);
    expect(r, "cc 4111111111111111 ok", "cc [REDACTED:card] ok");
    expect(r, "cc 4111 1111 1111 1111.", "cc [REDACTED:card].");
    expect(r, "cc 5555-5555-5555-4444 12/29", "cc [REDACTED:card] 12/29");
    expect(r, "amex 378282246310005", "amex [REDACTED:card]");
    expect(r, "order 4111111111111112 ok", "order 4111111111111112 ok");                             /* not Luhn */
    expect(r, "ts 1700000000000 ns 1700000000000000000", "ts 1700000000000 ns 1700000000000000000"); /* starts 1 */
    expect(r, "v 3.4111111111111111", "v 3.4111111111111111");                                       /* decimals */
    expect(r, "id ORD-4111111111111111", "id ORD-4111111111111111");
    expect(r, "uuid 12345678-1234-1234-1234-123456789012", "uuid 12345678-1234-1234-1234-123456789012");
    /* a shorter Luhn-valid number inside a longer run is found by backtracking */
    expect(r, "n 4111 1111 1111 1111 9", "n [REDACTED:card] 9");
    ctx_redact_rules_free(r);
}

/* issuer ranges with their lengths; identifiers, signed numbers and labelled numbers are not cards */
static void cards_issuers(void **state) {
    (void)state;
    ctx_redact_rules *r = load("", NULL);
    expect(r, "v13 4222222222222 v19 4111111111111111110", "v13 [REDACTED:card] v19 [REDACTED:card]");
    expect(r, "mc2 2223003122003222 jcb 3530111333300000", "mc2 [REDACTED:card] jcb [REDACTED:card]");
    expect(r, "diners 30569309025904 up 6200000000000005", "diners [REDACTED:card] up [REDACTED:card]");
    expect(r, "disc 6011000990139424 amex 3782 822463 10005", "disc [REDACTED:card] amex [REDACTED:card]");
    expect(r, "dots 4111.1111.1111.1111 end", "dots [REDACTED:card] end");
    /* Luhn-valid, but no network issues that prefix with that length */
    expect(r, "visa14 41111111111114 mc19 5555555555554444000", "visa14 41111111111114 mc19 5555555555554444000");
    expect(r, "amex16 3782822463100052 x 2000000000000000008", "amex16 3782822463100052 x 2000000000000000008");
    /* HDFS block ids, signed longs, identifiers */
    expect(r, "blk_-4111111111111111 blk_4111111111111111 -4111111111111111 x.4111111111111111 a_4111111111111111",
           "blk_-4111111111111111 blk_4111111111111111 -4111111111111111 x.4111111111111111 a_4111111111111111");
    /* a number labelled as another kind of number */
    expect(r, "offset 4111111111111111 seed=4111111111111111 \"id\":4111111111111111 (id)=(4111111111111111)",
           "offset 4111111111111111 seed=4111111111111111 \"id\":4111111111111111 (id)=(4111111111111111)");
    expect(r, "channel_id 4111111111111111 shardId=4111111111111111 paid 4111111111111111",
           "channel_id 4111111111111111 shardId=4111111111111111 paid [REDACTED:card]");
    /* columns of numbers are not one grouped card */
    expect(r, "REPORT : 4111 111 111111 1", "REPORT : 4111 111 111111 1");
    ctx_redact_rules_free(r);
}

/* the bypass classes of issue 16, and what must stay */
static void bypass_forms(void **state) {
    (void)state;
    ctx_redact_rules *r = load("", NULL);
    expect(r, "a password:hunter2 b", "a password:[REDACTED:kv-secret] b");
    expect(r, "pam_unix(passwd:chauthtok): ok; http://token:80/", "pam_unix(passwd:chauthtok): ok; http://token:80/");
    expect(r, "{:password => 'x1', 'api_key'=>\"y2\"}", "{:password => '[REDACTED:kv-secret]', 'api_key'=>\"[REDACTED:kv-secret]\"}");
    expect(r, "<password>x1</password><ns:db_password a=\"b\">y2</ns:db_password>",
           "<password>[REDACTED:kv-secret]</password><ns:db_password a=\"b\">[REDACTED:kv-secret]</ns:db_password>");
    expect(r, "<password_policy>strong</password_policy><password/>", "<password_policy>strong</password_policy><password/>");
    expect(r, "mysql -u root -h db -P 3306 -phunter2 shop", "mysql -u root -h db -P 3306 -p[REDACTED:kv-secret] shop");
    expect(r, "/usr/bin/mysqldump --opt -p'a b' shop", "/usr/bin/mysqldump --opt -p'[REDACTED:kv-secret]' shop");
    /* prose, a prompt, another program */
    expect(r, "mysql here: ssh -p2222 h; mysql -u root -p shop; ssh -phunter2",
           "mysql here: ssh -p2222 h; mysql -u root -p shop; ssh -phunter2");
    expect(r, "https://u:p@ss@host/x https://v:w@h2", "https://u:[REDACTED:url-userinfo]@host/x https://v:[REDACTED:url-userinfo]@h2");
    ctx_redact_rules_free(r);
}

/* the rules see what a receiver that JSON- or URL-decodes reads; the escapes' bytes are replaced */
static void decoded_view(void **state) {
    (void)state;
    ctx_redact_rules *r = load("", NULL);
    expect(r, "{\"pass\\u0077ord\":\"x1\"}", "{\"pass\\u0077ord\":\"[REDACTED:kv-secret]\"}");
    expect(r, "k \\u0041KIAIOSFODNN7EXAMPLE.", "k [REDACTED:aws-access-key].");
    expect(r, "k \\\\u0041KIAIOSFODNN7EXAMPLE", "k [REDACTED:aws-access-key]");
    expect(r, "q pass%77ord=x1&a=1", "q pass%77ord=[REDACTED:kv-secret]&a=1");
    expect(r, "n https%3A%2F%2Fu%3Ap1%40host%2F", "n https%3A%2F%2Fu%3A[REDACTED:url-userinfo]%40host%2F");
    expect(r, "k %41KIAIOSFODNN7EXAMPLE", "k [REDACTED:aws-access-key]");
    /* escapes that decode to nothing secret change nothing; non-ASCII escapes are not decoded */
    expect(r, "100%25 done, \\u00e9t\\u00e9, a%20b, 50% off, C:\\\\users", "100%25 done, \\u00e9t\\u00e9, a%20b, 50% off, C:\\\\users");
    /* a match seen in both views counts once */
    ctx_redact_ctx *c = ctx_redact_ctx_new(r);
    const char *out;
    size_t outlen;
    const char *in = "password=a%20b";
    assert_int_equal(ctx_redact_apply(c, ctx_redact_for_tenant(r, NULL), in, strlen(in), &out, &outlen), 1);
    assert_string_equal(out, "password=[REDACTED:kv-secret]");
    assert_int_equal(ctx_redact_ctx_counters(c)[0], 1);
    ctx_redact_ctx_free(c);
    ctx_redact_rules_free(r);
}

/* a cut message: the tail from the start of a secret's possible beginning */
static void cut_tail(void **state) {
    (void)state;
    ctx_redact_rules *r = load("", NULL);
    expect_cut(r, "using key AKIAIOSFODN", "using key [REDACTED:aws-access-key]");
    expect_cut(r, "to postgres://app:hunte", "to postgres[REDACTED:url-userinfo]");
    expect_cut(r, "pan 4111 1111 11", "pan [REDACTED:card]");
    expect_cut(r, "saw passw", "saw [REDACTED:kv-secret]");
    /* shorter than 4 bytes, or nothing that could start a secret: unchanged */
    expect_cut(r, "ok AKI", "ok AKI");
    expect_cut(r, "the message ends here.", "the message ends here.");
    /* the same texts, not cut: unchanged (no rule matches them whole) */
    expect(r, "using key AKIAIOSFODN", "using key AKIAIOSFODN");
    expect(r, "pan 4111 1111 11", "pan 4111 1111 11");
    /* complete matches are found as in apply */
    expect_cut(r, "password=x1 and more text", "password=[REDACTED:kv-secret] and more text");
    ctx_redact_rules_free(r);
}

/* object dumps after a key name are not secrets (Android framework logs) */
static void keys_object_dumps(void **state) {
    (void)state;
    ctx_redact_rules *r = load("", NULL);
    expect(r, "wtoken = AppWindowToken{9f4ef63 token=Token{a64f992 ActivityRecord{de9231d u0 a/.B t761}}}",
           "wtoken = AppWindowToken{9f4ef63 token=Token{a64f992 ActivityRecord{de9231d u0 a/.B t761}}}");
    expect(r, "Bad activity token: android.os.BinderProxy@2bd79ce", "Bad activity token: android.os.BinderProxy@2bd79ce");
    expect(r, "token=null password=None secret: undefined", "token=null password=None secret: undefined");
    /* but a secret shaped almost like one still goes */
    expect(r, "token=Token{secret} password=android.os.BinderProxy@2bd79cez token=nullx",
           "token=[REDACTED:kv-secret]} password=[REDACTED:kv-secret] token=[REDACTED:kv-secret]");
    ctx_redact_rules_free(r);
}

static void optional_rules(void **state) {
    (void)state;
    ctx_redact_rules *r = load("", NULL);
    expect(r, "from a@example.com 10.0.0.1 2001:db8::1", "from a@example.com 10.0.0.1 2001:db8::1");
    ctx_redact_rules_free(r);
    r = load("enable = email, ipv4, ipv6\n", NULL);
    expect(r, "from a.b+c@example.co.uk 10.0.0.1 [2001:db8::1]:443",
           "from [REDACTED:email] [REDACTED:ipv4] [[REDACTED:ipv6]]:443");
    expect(r, "v1.2.3 256.1.1.1 1.2.3.4.5 10:23:45 00:1a:2b:3c:4d:5e std::vector Foo::Bar",
           "v1.2.3 256.1.1.1 1.2.3.4.5 10:23:45 00:1a:2b:3c:4d:5e std::vector Foo::Bar");
    expect(r, "::ffff:192.0.2.1 fe80::1", "[REDACTED:ipv6] [REDACTED:ipv6]");
    ctx_redact_rules_free(r);
}

static void modes_mask_and_redact(void **state) {
    (void)state;
    ctx_redact_rules *r = load("replace.card = mask\nreplace.kv-secret = mask:2\n", NULL);
    expect(r, "cc 4111-1111-1111-1111 x", "cc ****-****-****-1111 x");
    expect(r, "cc 5555555555554444", "cc ************4444");
    expect(r, "password=p@ss-w0rd!", "password=*@**-**rd!");
    expect(r, "password=\xc3\xa9t\xc3\xa9x9", "password=***x9");
    ctx_redact_rules_free(r);
    r = load("replace.card = mask:0\n", NULL);
    expect(r, "cc 4111111111111111", "cc ****************");
    ctx_redact_rules_free(r);
}

static char *write_key(const char *content, mode_t mode) {
    char *path = strdup("/tmp/test_redact_keyXXXXXX");
    int fd = mkstemp(path);
    ASSERT_GE(fd, 0);
    assert_int_equal(write(fd, content, strlen(content)), (ssize_t)strlen(content));
    close(fd);
    chmod(path, mode);
    return path;
}

static void hash_tag(const char *key, const char *msg, int hexlen, char *out) {
    unsigned char md[32];
    unsigned int mdlen = 0;
    HMAC(EVP_sha256(), key, (int)strlen(key), (const unsigned char *)msg, strlen(msg), md, &mdlen);
    for (int i = 0; i < hexlen; i++) sprintf(out + i, "%x", (md[i / 2] >> ((i & 1) ? 0 : 4)) & 0xF);
}

static void hmac_stable_and_keyed(void **state) {
    (void)state;
    char *k1 = write_key("0123456789abcdef-key-one\n", 0600), *k2 = write_key("0123456789abcdef-key-two", 0600);
    ctx_redact_rules *r1 = load("replace.kv-secret = hash\n", k1), *r2 = load("replace.kv-secret = hash\n", k2);
    char want[64], tag[16] = {0};
    hash_tag("0123456789abcdef-key-one", "hunter2", 8, tag); /* the trailing newline is not part of the key */
    snprintf(want, sizeof want, "a password=[H:%s] b token=[H:%s]", tag, tag);
    expect(r1, "a password=hunter2 b token=hunter2", want);
    char *a = redact(r1, NULL, "password=hunter2", NULL), *b = redact(r1, NULL, "password=hunter2", NULL);
    char *c = redact(r2, NULL, "password=hunter2", NULL), *d = redact(r1, NULL, "password=hunter3", NULL);
    assert_string_equal(a, b);
    assert_string_not_equal(a, c);
    assert_string_not_equal(a, d);
    assert_int_equal(strlen(c), strlen("password=[H:12345678]"));
    free(a), free(b), free(c), free(d);
    ctx_redact_rules_free(r1);
    r1 = load("hash_length = 12\nreplace.kv-secret = hash\n", k1);
    hash_tag("0123456789abcdef-key-one", "hunter2", 12, tag);
    snprintf(want, sizeof want, "password=[H:%s]", tag);
    expect(r1, "password=hunter2", want);
    assert_int_equal(ctx_redact_rules_warnings(r1, NULL, 0), 0);
    ctx_redact_rules_free(r1);
    ctx_redact_rules_free(r2);
    unlink(k1), unlink(k2);
    free(k1), free(k2);
}

static void key_file_warnings_and_relative_path(void **state) {
    (void)state;
    char *k = write_key("0123456789abcdef0123", 0644), msg[CTX_ERRLEN], want[CTX_ERRLEN];
    ctx_redact_rules *r = load("replace.card = hash\n", k);
    assert_int_equal(ctx_redact_rules_warnings(r, msg, sizeof msg), CTX_REDACT_WARN_KEY_WORLD_READABLE);
    snprintf(want, sizeof want, "key file %s is readable by every user (mode 0644): expected 0600", k);
    assert_string_equal(msg, want);
    ctx_redact_rules_free(r);
    /* key_file relative to the rules file's directory */
    char rules_path[] = "/tmp/test_redact_rulesXXXXXX";
    int fd = mkstemp(rules_path);
    const char *base = strrchr(k, '/') + 1;
    dprintf(fd, "key_file = %s\nreplace.card = hash\n", base);
    close(fd);
    char err[CTX_ERRLEN];
    assert_int_equal(ctx_redact_rules_load_file(&r, rules_path, NULL, err, sizeof err), 0);
    char *out = redact(r, NULL, "4111111111111111", NULL);
    assert_int_equal(strncmp(out, "[H:", 3), 0);
    assert_int_equal(strlen(out), 12);
    free(out);
    ctx_redact_rules_free(r);
    unlink(rules_path);
    unlink(k);
    free(k);
}

static void custom_rules_and_tenants(void **state) {
    (void)state;
    const char *text =
        "# custom rules\n"
        "[rule ssn]\n"
        "pattern = \\b(\\d{3})-(\\d{2})-(\\d{4})\\b\n"
        "group = 0\n"
        "trigger = -\n"
        "[rule acme-id]\n"
        "pattern = ACME-([0-9]{6})\n"
        "group = 1\n"
        "replace = mask:2\n"
        "trigger_nocase = acme-\n"
        "tenants = acme\n"
        "[tenant acme]\n"
        "enable = email\n"
        "disable = card\n"
        "[tenant globex]\n"
        "replace.ssn = mask:4\n";
    ctx_redact_rules *r = NULL;
    char err[CTX_ERRLEN];
    int rc = ctx_redact_rules_load_string(&r, text, strlen(text), "t.rules", NULL, err, sizeof err);
    assert_int_equal(rc, CTX_EPARSE); /* trigger too short */
    assert_string_equal(err, "t.rules:5: [rule ssn] trigger '-' too short, expected at least 3 bytes");
    char *fixed = strdup(text);
    char *t = strstr(fixed, "trigger = -\n");
    memcpy(t, "#rigger", 7);
    r = load(fixed, NULL);
    free(fixed);
    assert_int_equal(ctx_redact_rules_count(r), 17);
    assert_string_equal(ctx_redact_rules_name(r, 15), "ssn");
    const char *in = "ssn 123-45-6789 id ACME-123456 mail a@b.example card 4111111111111111";
    char *g = redact(r, NULL, in, NULL), *a = redact(r, "acme", in, NULL), *x = redact(r, "globex", in, NULL);
    assert_string_equal(g, "ssn [REDACTED:ssn] id ACME-123456 mail a@b.example card [REDACTED:card]");
    assert_string_equal(a, "ssn [REDACTED:ssn] id ACME-****56 mail [REDACTED:email] card 4111111111111111");
    assert_string_equal(x, "ssn ***-**-6789 id ACME-123456 mail a@b.example card [REDACTED:card]");
    assert_ptr_not_equal(ctx_redact_for_tenant(r, "acme"), ctx_redact_for_tenant(r, NULL));
    assert_ptr_equal(ctx_redact_for_tenant(r, "initech"), ctx_redact_for_tenant(r, NULL));
    assert_int_equal(ctx_redact_has_view(r, "acme"), 1);
    assert_int_equal(ctx_redact_has_view(r, "globex"), 1);
    assert_int_equal(ctx_redact_has_view(r, "initech"), 0);
    assert_int_equal(ctx_redact_has_view(r, NULL), 0);
    assert_int_equal(ctx_redact_set_enabled(ctx_redact_for_tenant(r, "acme"), 16), 1);
    assert_int_equal(ctx_redact_set_enabled(ctx_redact_for_tenant(r, NULL), 16), 0);
    free(g), free(a), free(x);
    ctx_redact_rules_free(r);
}

static void utf8_cut_points(void **state) {
    (void)state;
    /* a rule that matches one byte inside a character: the span grows to the whole character */
    ctx_redact_rules *r = load("[rule mid]\npattern = \\xA9\n", NULL);
    expect(r, "caf\xc3\xa9 ok", "caf[REDACTED:mid] ok");
    ctx_redact_rules_free(r);
    r = load("[rule mid]\npattern = \\xE2\\x82\nreplace = mask:0\n", NULL);
    expect(r, "x\xe2\x82\xacy", "x*y");
    ctx_redact_rules_free(r);
    /* invalid UTF-8 becomes U+FFFD (replace, the default) or stays (keep) */
    r = load("", NULL);
    int changed = -1;
    char *o = redact(r, NULL,
                     "a\xff"
                     "b\xc3",
                     &changed);
    assert_int_equal(changed, 1);
    assert_string_equal(o,
                        "a\xef\xbf\xbd"
                        "b\xef\xbf\xbd");
    free(o);
    o = redact(r, NULL, "\xed\xa0\x80 \xc0\xaf \xf4\x90\x80\x80", &changed); /* surrogate, overlong, > U+10FFFF */
    assert_int_equal(changed, 1);
    assert_true(ctx_redact_utf8_valid(o, strlen(o)));
    assert_null(strchr(o, '\xed'));
    free(o);
    o = redact(r, NULL, "\xe2\x82\xac \xf0\x9f\x98\x80", &changed);
    assert_int_equal(changed, 0);
    free(o);
    ctx_redact_rules_free(r);
    r = load("invalid_utf8 = keep\n", NULL);
    ctx_redact_ctx *c = ctx_redact_ctx_new(r);
    const char *out;
    size_t outlen;
    assert_int_equal(ctx_redact_apply(c, ctx_redact_for_tenant(r, NULL), "a\xff", 2, &out, &outlen), 0);
    ctx_redact_ctx_free(c);
    ctx_redact_rules_free(r);
    assert_int_equal(ctx_redact_utf8_valid("", 0), 1);
    assert_int_equal(ctx_redact_utf8_valid("\xe0\x80\x80", 3), 0);
}

static void json_tree(void **state) {
    (void)state;
    ctx_redact_rules *r = load("", NULL);
    ctx_redact_ctx *c = ctx_redact_ctx_new(r);
    const ctx_redact_set *g = ctx_redact_for_tenant(r, NULL);
    struct fjson_object *o = fjson_tokener_parse(
        "{\"vm\":{\"name\":\"db1\",\"Password\":\"pw\\\"1\",\"pin_token\":1234,\"api_key\":null},"
        "\"msgs\":[\"ok\",\"auth token=abc\",{\"card\":4111111111111111,\"n\":4111111111111112}],"
        "\"note\":\"Authorization: Basic dXNlcjpwYXNz\",\"flag\":true}");
    assert_non_null(o);
    assert_int_equal(ctx_redact_json(c, g, o), 5);
    assert_string_equal(fjson_object_to_json_string_ext(o, FJSON_TO_STRING_PLAIN),
                        "{\"vm\":{\"name\":\"db1\",\"Password\":\"[REDACTED:kv-secret]\","
                        "\"pin_token\":\"[REDACTED:kv-secret]\",\"api_key\":null},"
                        "\"msgs\":[\"ok\",\"auth token=[REDACTED:kv-secret]\",{\"card\":\"[REDACTED:card]\","
                        "\"n\":4111111111111112}],\"note\":\"Authorization: Basic [REDACTED:auth-header]\","
                        "\"flag\":true}");
    const uint64_t *cnt = ctx_redact_ctx_counters(c);
    assert_int_equal(cnt[0], 3);
    assert_int_equal(cnt[2], 1);
    assert_int_equal(cnt[11], 1);
    fjson_object_put(o);
    assert_int_equal(ctx_redact_json(c, g, NULL), 0);
    /* 70 levels of arrays: refused, not walked */
    char deep[200] = {0};
    memset(deep, '[', 70);
    memset(deep + 70, ']', 70);
    struct fjson_tokener *tok = fjson_tokener_new_ex(200);
    o = fjson_tokener_parse_ex(tok, deep, 140);
    fjson_tokener_free(tok);
    assert_non_null(o);
    assert_int_equal(ctx_redact_json(c, g, o), CTX_EINVAL);
    fjson_object_put(o);
    ctx_redact_ctx_free(c);
    ctx_redact_rules_free(r);
}

static void sd_expect(ctx_redact_rules *r, const char *in, int want_rc, const char *want) {
    ctx_redact_ctx *c = ctx_redact_ctx_new(r);
    const char *out = NULL;
    size_t outlen = 0;
    int rc = ctx_redact_sd(c, ctx_redact_for_tenant(r, NULL), in, strlen(in), &out, &outlen);
    assert_int_equal(rc, want_rc);
    if (rc == 0) assert_ptr_equal(out, in);
    assert_int_equal(strlen(out), outlen);
    if (strcmp(out, want) != 0) fail_msg("in:   %s\ngot:  %s\nwant: %s", in, out, want);
    ctx_redact_ctx_free(c);
}

static void structured_data(void **state) {
    (void)state;
    ctx_redact_rules *r = load("", NULL);
    sd_expect(r, "-", 0, "-");
    sd_expect(r, "[a@1 x=\"1\\]\"][b@2 y=\"\\\\q\"]", 0, "[a@1 x=\"1\\]\"][b@2 y=\"\\\\q\"]");
    sd_expect(r, "[auth@1 user=\"bob\" password=\"p\\\"w\\]\" x=\"y\"]", 1,
              "[auth@1 user=\"bob\" password=\"[REDACTED:kv-secret\\]\" x=\"y\"]");
    sd_expect(r, "[m@1 msg=\"jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.c2ln\"][n@2 c=\"4111111111111111\"]", 1,
              "[m@1 msg=\"jwt [REDACTED:jwt\\]\"][n@2 c=\"[REDACTED:card\\]\"]");
    /* malformed: redacted as text */
    sd_expect(r, "[m@1 password=\"x", 1, "[m@1 password=\"[REDACTED:kv-secret]");
    sd_expect(r, "[m@1 a=b] token=zz", 1, "[m@1 a=b] token=[REDACTED:kv-secret]");
    ctx_redact_rules_free(r);
}

static void counters_and_errors(void **state) {
    (void)state;
    ctx_redact_rules *r = load("[rule slow]\npattern = (?:a+)+$\n", NULL);
    ctx_redact_ctx *c = ctx_redact_ctx_new(r);
    const ctx_redact_set *g = ctx_redact_for_tenant(r, NULL);
    const char *out;
    size_t outlen;
    const char *in = "password=1 password=2 4111111111111111";
    assert_int_equal(ctx_redact_apply(c, g, in, strlen(in), &out, &outlen), 1);
    assert_string_equal(out, "password=[REDACTED:kv-secret] password=[REDACTED:kv-secret] [REDACTED:card]");
    char slow[64];
    memset(slow, 'a', 40);
    strcpy(slow + 40, "b");
    assert_int_equal(ctx_redact_apply(c, g, slow, strlen(slow), &out, &outlen), 1);
    assert_string_equal(out, "[REDACTED:match-error]");
    assert_int_equal(outlen, strlen("[REDACTED:match-error]"));
    uint64_t sum[17] = {0};
    assert_int_equal(ctx_redact_ctx_take_counters(c, sum), 1);
    assert_int_equal(sum[0], 2);
    assert_int_equal(sum[11], 1);
    assert_int_equal(sum[1], 0);
    assert_int_equal(ctx_redact_ctx_counters(c)[0], 0);
    assert_int_equal(ctx_redact_ctx_take_counters(c, sum), 0);
    assert_int_equal(sum[0], 2);
    /* arguments */
    assert_int_equal(ctx_redact_apply(c, g, NULL, 1, &out, &outlen), CTX_EINVAL);
    assert_int_equal(ctx_redact_apply(c, g, NULL, 0, &out, &outlen), 0);
    assert_int_equal(outlen, 0);
    ctx_redact_rules *other = load("", NULL);
    assert_int_equal(ctx_redact_apply(c, ctx_redact_for_tenant(other, NULL), "x", 1, &out, &outlen), CTX_EINVAL);
    assert_null(out);
    ctx_redact_rules_free(other);
    ctx_redact_ctx_free(c);
    ctx_redact_rules_free(r);
}

struct thr {
    ctx_redact_rules *r;
    int ok;
};

static void *thread_main(void *arg) {
    struct thr *t = arg;
    ctx_redact_ctx *c = ctx_redact_ctx_new(t->r);
    const ctx_redact_set *g = ctx_redact_for_tenant(t->r, NULL);
    char in[128];
    t->ok = c != NULL;
    for (int i = 0; i < 2000 && t->ok; i++) {
        const char *out;
        size_t outlen;
        int n = snprintf(in, sizeof in, "i=%d password=pw%d card 4111111111111111 ok", i, i);
        char want[160];
        snprintf(want, sizeof want, "i=%d password=[REDACTED:kv-secret] card [REDACTED:card] ok", i);
        t->ok = ctx_redact_apply(c, g, in, (size_t)n, &out, &outlen) == 1 && strcmp(out, want) == 0;
    }
    t->ok = t->ok && ctx_redact_ctx_counters(c)[0] == 2000 && ctx_redact_ctx_counters(c)[11] == 2000;
    ctx_redact_ctx_free(c);
    return NULL;
}

static void threads_share_rules(void **state) {
    (void)state;
    ctx_redact_rules *r = load("", NULL);
    pthread_t th[4];
    struct thr t[4];
    for (int i = 0; i < 4; i++) {
        t[i] = (struct thr){r, 0};
        assert_int_equal(pthread_create(&th[i], NULL, thread_main, &t[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        assert_true(t[i].ok);
    }
    ctx_redact_rules_free(r);
}

/* the SIMD prefilter finds the same first chance of every rule as the scalar one, on random
 * messages made of trigger fragments, digits, separators and noise, at every length up to 300 */
static void prefilter_simd_equals_scalar(void **state) {
    (void)state;
    static const char *const frag[] = {"password", "PaSsWd",   "pwd",    "PWD",    "token", "eyJ", "ey",         "AKIA",
                                       "ASIA",     "://",      "@",      ".",      ":",     "::",  "-----BEGIN", "ghp_",
                                       "glpat-",   "xox",      "AIza",   "4111",   " ",     "-",   "0",          "9",
                                       "x",        "\xc3\xa9", "secret", "bearer", "ya29."};
    ctx_redact_rules *r = load("enable = email, ipv4, ipv6\n[rule c]\npattern = zz\ntrigger_nocase = Zz9\n", NULL);
    const ctx_redact_set *g = ctx_redact_for_tenant(r, NULL);
    int n = ctx_redact_rules_count(r), simd = rx_scan_use_simd(1);
    size_t a[32], b[32];
    char msg[400];
    unsigned seed = 12345;
    for (int iter = 0; iter < 20000; iter++) {
        size_t len = 0, want = (size_t)(iter % 300);
        while (len < want) {
            seed = seed * 1103515245u + 12345u;
            const char *f = frag[(seed >> 16) % (sizeof frag / sizeof frag[0])];
            size_t fl = strlen(f);
            if (len + fl > want) fl = want - len;
            memcpy(msg + len, f, fl);
            len += fl;
        }
        for (int i = 0; i < n; i++) a[i] = b[i] = RX_NONE;
        rx_scan_use_simd(1);
        rx_prefilter_scan(g, (const uint8_t *)msg, len, a);
        rx_scan_use_simd(0);
        rx_prefilter_scan(g, (const uint8_t *)msg, len, b);
        for (int i = 0; i < n; i++)
            if (a[i] != b[i])
                fail_msg("rule %d: simd %zd scalar %zd on %.*s", i, (ssize_t)a[i], (ssize_t)b[i], (int)len, msg);
    }
    rx_scan_use_simd(1);
    print_message("prefilter: %s compared with scalar on 20000 messages\n", simd ? "SIMD" : "scalar (no SSSE3)");
    ctx_redact_rules_free(r);
}

CTX_TEST_MAIN(NULL, NULL,
    cmocka_unit_test(names_and_defaults),
    cmocka_unit_test(kv_shapes),
    cmocka_unit_test(secret_keys_extend_and_replace),
    cmocka_unit_test(token_rules),
    cmocka_unit_test(cards_luhn),
    cmocka_unit_test(cards_issuers),
    cmocka_unit_test(keys_object_dumps),
    cmocka_unit_test(bypass_forms),
    cmocka_unit_test(decoded_view),
    cmocka_unit_test(cut_tail),
    cmocka_unit_test(optional_rules),
    cmocka_unit_test(modes_mask_and_redact),
    cmocka_unit_test(hmac_stable_and_keyed),
    cmocka_unit_test(key_file_warnings_and_relative_path),
    cmocka_unit_test(custom_rules_and_tenants),
    cmocka_unit_test(utf8_cut_points),
    cmocka_unit_test(json_tree),
    cmocka_unit_test(structured_data),
    cmocka_unit_test(counters_and_errors),
    cmocka_unit_test(threads_share_rules),
    cmocka_unit_test(prefilter_simd_equals_scalar))
