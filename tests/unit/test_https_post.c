/* test_https_post.c: the HTTPS batch POST client against an in-process HTTPS
 * server: request line, headers and body as sent, keep-alive, status classes and
 * their messages, Retry-After, TLS refusals, server_name, plain HTTP opt-in.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "check.h"

#include "ctxlog_common.h"
#include "https_post.h"
#include "tlsserver.h"

static tt_pki_t pki;
static char token_file[512], pw_file[512];

static void write_file(const char *path, const char *text) {
    FILE *f = fopen(path, "w");
    fputs(text, f);
    fclose(f);
}

static int setup(void **state) {
    (void)state;
    signal(SIGPIPE, SIG_IGN);
    if (ctx_https_global_init() != 0) return -1;
    if (tt_pki_make(&pki, "test_https_post") != 0) return -1;
    snprintf(token_file, sizeof token_file, "%s/token", pki.dir);
    write_file(token_file, "s3cr3t-token\n");
    snprintf(pw_file, sizeof pw_file, "%s/pw", pki.dir);
    write_file(pw_file, "pa:ss\r\n");
    return 0;
}

static int teardown(void **state) {
    (void)state;
    return tt_pki_free(&pki);
}

static char url[256];

static ctx_https_opts_t opts_for(int port) {
    ctx_https_opts_t o;
    memset(&o, 0, sizeof o);
    snprintf(url, sizeof url, "https://127.0.0.1:%d/bulk?x=1", port);
    o.url = url;
    o.tls.ca_file = pki.ca_pem;
    o.tls.verify_peer = 1;
    o.tls.verify_hostname = 1;
    o.connect_timeout_ms = 3000;
    o.timeout_ms = 5000;
    return o;
}

static tt_srv_t s;

static void start(SSL_CTX *ctx, int status, const char *extra, const char *body) {
    memset(&s, 0, sizeof s);
    s.ctx = ctx;
    s.http = 1;
    s.status = status;
    s.extra = extra;
    s.resp_body = body;
    tt_srv_start(&s);
}

static void stop(void) {
    tt_srv_stop(&s);
    SSL_CTX_free(s.ctx);
}

/* one POST; returns its rc; *status set */
static int post_once(ctx_https_opts_t *o, const char *body, long *status, unsigned long *ra, char *err, size_t errlen) {
    ctx_https_t *h = NULL;
    int rc = ctx_https_new(o, &h, err, errlen);
    assert_int_equal(rc, 0);
    rc = ctx_https_post(h, body, strlen(body), status, ra, err, errlen);
    ctx_https_free(h);
    return rc;
}

static void posts_body_and_headers_on_one_connection(void **state) {
    (void)state;
    start(tt_server_ctx(&pki.srv, NULL, NULL, 0, 0), 200, NULL, "ok");
    ctx_https_opts_t o = opts_for(s.port);
    ctx_https_header_t hdrs[] = {{"X-Scope-OrgID", "acme"}, {"Content-Type", "application/x-custom"}};
    o.headers = hdrs;
    o.nheaders = 2;
    o.content_encoding = "zstd";
    o.auth = CTX_HTTPS_AUTH_BEARER;
    o.auth_file = token_file;
    ctx_https_t *h;
    char err[CTX_ERRLEN] = "x";
    long status = 0;
    assert_int_equal(ctx_https_new(&o, &h, err, sizeof err), 0);
    assert_int_equal(ctx_https_post(h, "{\"a\":1}\n", 8, &status, NULL, err, sizeof err), 0);
    assert_int_equal(status, 200);
    assert_string_equal(err, "");
    assert_int_equal(ctx_https_post(h, "B2", 2, &status, NULL, err, sizeof err), 0);
    ctx_https_free(h);
    stop();
    assert_int_equal(s.conns, 1);
    assert_int_equal(s.requests, 2);
    assert_memory_equal(s.buf, "POST /bulk?x=1 HTTP/1.1\r\n", 25);
    assert_non_null(strstr(s.buf, "\r\nContent-Encoding: zstd\r\n"));
    assert_non_null(strstr(s.buf, "\r\nX-Scope-OrgID: acme\r\n"));
    assert_non_null(strstr(s.buf, "\r\nAuthorization: Bearer s3cr3t-token\r\n"));
    assert_non_null(strstr(s.buf, "\r\nContent-Length: 8\r\n"));
    assert_null(strstr(s.buf, "Expect:"));
    /* the configured Content-Type replaces the default one */
    assert_non_null(strstr(s.buf, "\r\nContent-Type: application/x-custom\r\n"));
    assert_null(strstr(s.buf, "x-ndjson"));
    assert_non_null(strstr(s.buf, "\r\n\r\n{\"a\":1}\nPOST /bulk"));
    assert_int_equal(memcmp(s.buf + s.len - 4, "\r\nB2", 4), 0);
}

static void basic_auth_from_file(void **state) {
    (void)state;
    start(tt_server_ctx(&pki.srv, NULL, NULL, 0, 0), 204, NULL, NULL);
    ctx_https_opts_t o = opts_for(s.port);
    o.auth = CTX_HTTPS_AUTH_BASIC;
    o.auth_user = "ctxlog";
    o.auth_file = pw_file;
    long status;
    char err[CTX_ERRLEN];
    assert_int_equal(post_once(&o, "x", &status, NULL, err, sizeof err), 0);
    stop();
    assert_int_equal(status, 204);
    assert_non_null(strstr(s.buf, "\r\nAuthorization: Basic Y3R4bG9nOnBhOnNz\r\n")); /* ctxlog:pa:ss */
    assert_non_null(strstr(s.buf, "\r\nContent-Type: application/x-ndjson\r\n"));
}

static void status_classes_and_messages(void **state) {
    (void)state;
    long status;
    unsigned long ra = 7;
    char err[CTX_ERRLEN], want[200];
    start(tt_server_ctx(&pki.srv, NULL, NULL, 0, 0), 400, NULL, "bad request: field x\nmore");
    ctx_https_opts_t o = opts_for(s.port);
    assert_int_equal(post_once(&o, "x", &status, &ra, err, sizeof err), 0);
    stop();
    assert_int_equal(status, 400);
    assert_int_equal(ra, 0);
    assert_int_equal(ctx_https_classify(status), CTX_HTTPS_REJECTED);
    snprintf(want, sizeof want, "POST to https://127.0.0.1:%d/bulk: HTTP 400: bad request: field x", s.port);
    assert_string_equal(err, want);
    start(tt_server_ctx(&pki.srv, NULL, NULL, 0, 0), 429, "Retry-After: 3\r\n", NULL);
    o = opts_for(s.port);
    assert_int_equal(post_once(&o, "x", &status, &ra, err, sizeof err), 0);
    stop();
    assert_int_equal(status, 429);
    assert_int_equal(ra, 3000);
    snprintf(want, sizeof want, "POST to https://127.0.0.1:%d/bulk: HTTP 429", s.port);
    assert_string_equal(err, want);
    long delivered[] = {200, 201, 204, 299}, retry[] = {408, 429, 500, 502, 503, 599, 301, 308, 100},
         rejected[] = {400, 401, 403, 404, 413, 499};
    for (size_t i = 0; i < 4; i++) assert_int_equal(ctx_https_classify(delivered[i]), CTX_HTTPS_DELIVERED);
    for (size_t i = 0; i < 9; i++) assert_int_equal(ctx_https_classify(retry[i]), CTX_HTTPS_RETRY);
    for (size_t i = 0; i < 6; i++) assert_int_equal(ctx_https_classify(rejected[i]), CTX_HTTPS_REJECTED);
}

/* a TLS refusal: CTX_EIO, failure kind TLS, err contains `expect` */
static void expect_tls_refusal(SSL_CTX *ctx, ctx_https_opts_t *o, const char *expect) {
    start(ctx, 200, NULL, NULL);
    snprintf(url, sizeof url, "https://127.0.0.1:%d/bulk", s.port);
    ctx_https_t *h;
    char err[CTX_ERRLEN] = "";
    long status = 1;
    assert_int_equal(ctx_https_new(o, &h, err, sizeof err), 0);
    assert_int_equal(ctx_https_post(h, "x", 1, &status, NULL, err, sizeof err), CTX_EIO);
    if (ctx_https_failure(h) != CTX_HTTPS_FAIL_TLS) fail_msg("not a TLS failure: %s", err);
    ctx_https_free(h);
    stop();
    assert_int_equal(status, 0);
    assert_int_equal(s.requests, 0);
    if (strstr(err, expect) == NULL) fail_msg("'%s' not in '%s'", expect, err);
}

static void tls_refusals(void **state) {
    (void)state;
    ctx_https_opts_t o = opts_for(0);
    expect_tls_refusal(tt_server_ctx(&pki.srv_evil, NULL, NULL, 0, 0), &o, "unable to get local issuer certificate");
    expect_tls_refusal(tt_server_ctx(&pki.srv_expired, NULL, NULL, 0, 0), &o, "certificate has expired");
    expect_tls_refusal(tt_server_ctx(&pki.srv_other, NULL, NULL, 0, 0), &o, "127.0.0.1");
    expect_tls_refusal(tt_server_ctx(&pki.srv, NULL, NULL, TLS1_1_VERSION, TLS1_1_VERSION), &o,
                       "protocol version (the server offers no TLS version this client accepts: minimum TLS 1.2)");
    expect_tls_refusal(tt_server_ctx(&pki.srv, NULL, &pki.ca, 0, 0), &o,
                       "(the server requires a client certificate (mutual TLS) and none is configured)");
    o.tls.min_version = 0x0304;
    expect_tls_refusal(tt_server_ctx(&pki.srv, NULL, NULL, TLS1_2_VERSION, TLS1_2_VERSION), &o, "minimum TLS 1.3)");
}

static void mtls_and_server_name(void **state) {
    (void)state;
    start(tt_server_ctx(&pki.srv, NULL, &pki.ca, 0, 0), 200, NULL, NULL);
    ctx_https_opts_t o = opts_for(s.port);
    o.tls.cert_file = pki.client_pem;
    o.tls.key_file = pki.client_key;
    o.tls.server_name = "localhost"; /* connect to 127.0.0.1, verify and send "localhost" */
    long status;
    char err[CTX_ERRLEN];
    assert_int_equal(post_once(&o, "hello", &status, NULL, err, sizeof err), 0);
    stop();
    assert_int_equal(status, 200);
    assert_int_equal(s.handshakes_ok, 1);
    char host[64];
    snprintf(host, sizeof host, "\r\nHost: localhost:%d\r\n", s.port);
    assert_non_null(strstr(s.buf, host));
}

static void plaintext_only_when_opted_in(void **state) {
    (void)state;
    ctx_https_opts_t o = opts_for(0);
    ctx_https_t *h = (ctx_https_t *)1;
    char err[CTX_ERRLEN];
    o.url = "http://127.0.0.1:1/x";
    assert_int_equal(ctx_https_new(&o, &h, err, sizeof err), CTX_EINVAL);
    assert_null(h);
    assert_string_equal(err, "url: expected an https:// URL (http:// only with allow_plaintext), got \"http://127.0.0.1:1/x\"");
    o.url = "not a url";
    assert_int_equal(ctx_https_new(&o, &h, err, sizeof err), CTX_EINVAL);
    start(NULL, 202, NULL, NULL);
    o = opts_for(s.port);
    snprintf(url, sizeof url, "http://127.0.0.1:%d/in", s.port);
    o.allow_plaintext = 1;
    long status;
    assert_int_equal(post_once(&o, "abc", &status, NULL, err, sizeof err), 0);
    stop();
    assert_int_equal(status, 202);
    assert_memory_equal(s.buf, "POST /in HTTP/1.1\r\n", 19);
    /* nobody listens now */
    assert_int_equal(ctx_https_new(&o, &h, err, sizeof err), 0);
    assert_int_equal(ctx_https_post(h, "abc", 3, &status, NULL, err, sizeof err), CTX_EIO);
    assert_int_equal(ctx_https_failure(h), CTX_HTTPS_FAIL_CONNECT);
    assert_non_null(strstr(err, "POST to http://127.0.0.1:"));
    ctx_https_free(h);
}

static void auth_file_errors(void **state) {
    (void)state;
    ctx_https_opts_t o = opts_for(1);
    ctx_https_t *h;
    char err[CTX_ERRLEN];
    o.auth = CTX_HTTPS_AUTH_BEARER;
    o.auth_file = "/nonexistent/token";
    assert_int_equal(ctx_https_new(&o, &h, err, sizeof err), CTX_EIO);
    assert_string_equal(err, "cannot read \"/nonexistent/token\": No such file or directory");
    char empty[600];
    snprintf(empty, sizeof empty, "%s/empty", pki.dir);
    write_file(empty, "");
    o.auth_file = empty;
    assert_int_equal(ctx_https_new(&o, &h, err, sizeof err), CTX_EINVAL);
    assert_non_null(strstr(err, "is empty: expected the credential on its first line"));
    ctx_https_free(NULL);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(posts_body_and_headers_on_one_connection),
        cmocka_unit_test(basic_auth_from_file),
        cmocka_unit_test(status_classes_and_messages),
        cmocka_unit_test(tls_refusals),
        cmocka_unit_test(mtls_and_server_name),
        cmocka_unit_test(plaintext_only_when_opted_in),
        cmocka_unit_test(auth_file_errors),
    };
    int rc = cmocka_run_group_tests(tests, setup, teardown);
    return rc;
}
