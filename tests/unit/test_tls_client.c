/* test_tls_client.c: the RFC 5425 client against an in-process TLS server with
 * certificates made here: delivery of exact bytes, every refusal with its message
 * (untrusted CA, wrong name, expired, TLS 1.1-only server, missing client
 * certificate, minimum version), reconnection after the server closed, plain TCP,
 * and bad files at creation.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include "check.h"

#include "ctxlog_common.h"
#include "tlsserver.h"
#include "tls_client.h"

static tt_pki_t pki;

static int setup(void **state) {
    (void)state;
    signal(SIGPIPE, SIG_IGN);
    if (tt_pki_make(&pki, "test_tls_client") != 0) return -1;
    return 0;
}

static int teardown(void **state) {
    (void)state;
    return tt_pki_free(&pki);
}

static ctx_tls_opts_t opts_for(int port) {
    ctx_tls_opts_t o;
    memset(&o, 0, sizeof o);
    o.host = "127.0.0.1";
    o.port = (unsigned)port;
    o.tls.ca_file = pki.ca_pem;
    o.tls.server_name = "localhost";
    o.tls.verify_peer = 1;
    o.tls.verify_hostname = 1;
    o.connect_timeout_ms = 3000;
    o.io_timeout_ms = 3000;
    return o;
}

/* runs one pki.client against a server configured by sctx; returns the send result, err */
static int run(tt_srv_t *s, ctx_tls_opts_t *o, const char *data, char *err, size_t errlen) {
    tt_srv_start(s);
    o->port = (unsigned)s->port;
    ctx_tls_client_t *c = NULL;
    int rc = ctx_tls_client_new(o, &c, err, errlen);
    assert_int_equal(rc, 0);
    rc = ctx_tls_client_send(c, data, strlen(data), err, errlen);
    if (rc != 0) assert_int_equal(ctx_tls_client_connected(c), 0);
    ctx_tls_client_free(c);
    tt_srv_stop(s);
    return rc;
}

static void delivers_exact_bytes_over_tls13(void **state) {
    (void)state;
    static tt_srv_t s;
    memset(&s, 0, sizeof s);
    s.ctx = tt_server_ctx(&pki.srv, NULL, NULL, 0, 0);
    tt_srv_start(&s);
    ctx_tls_opts_t o = opts_for(s.port);
    ctx_tls_client_t *c;
    char err[CTX_ERRLEN] = "";
    assert_int_equal(ctx_tls_client_new(&o, &c, err, sizeof err), 0);
    const char *frames = "11 <13>1 - - a\n12 <14>1 - - bc\n";
    assert_int_equal(ctx_tls_client_send(c, frames, strlen(frames), err, sizeof err), 0);
    assert_string_equal(ctx_tls_client_protocol(c), "TLSv1.3");
    assert_int_equal(ctx_tls_client_send(c, "3 xyz", 5, err, sizeof err), 0); /* same connection */
    assert_int_equal(ctx_tls_client_failure(c), CTX_TLS_FAIL_NONE);
    ctx_tls_client_free(c);
    tt_srv_stop(&s);
    SSL_CTX_free(s.ctx);
    assert_int_equal(s.conns, 1);
    assert_int_equal(s.handshakes_ok, 1);
    assert_int_equal(s.len, strlen(frames) + 5);
    assert_memory_equal(s.buf, "11 <13>1 - - a\n12 <14>1 - - bc\n3 xyz", s.len);
}

static void refuses_untrusted_ca(void **state) {
    (void)state;
    static tt_srv_t s;
    memset(&s, 0, sizeof s);
    s.ctx = tt_server_ctx(&pki.srv_evil, NULL, NULL, 0, 0);
    ctx_tls_opts_t o = opts_for(0);
    char err[CTX_ERRLEN] = "";
    assert_int_equal(run(&s, &o, "1 a", err, sizeof err), CTX_EIO);
    SSL_CTX_free(s.ctx);
    char want[200];
    snprintf(want, sizeof want, "TLS handshake with 127.0.0.1:%d failed: certificate verify failed: unable to get "
                                "local issuer certificate", s.port);
    assert_string_equal(err, want);
    assert_int_equal(s.len, 0);
}

static void refuses_wrong_host_name(void **state) {
    (void)state;
    static tt_srv_t s;
    memset(&s, 0, sizeof s);
    s.ctx = tt_server_ctx(&pki.srv_other, NULL, NULL, 0, 0);
    ctx_tls_opts_t o = opts_for(0);
    char err[CTX_ERRLEN] = "";
    assert_int_equal(run(&s, &o, "1 a", err, sizeof err), CTX_EIO);
    SSL_CTX_free(s.ctx);
    assert_non_null(strstr(err, "failed: certificate verify failed: the server's certificate is not for \"localhost\""));
    assert_int_equal(s.len, 0);
    /* the name check alone (verify_peer off) still refuses */
    memset(&s, 0, sizeof s);
    s.ctx = tt_server_ctx(&pki.srv_other, NULL, NULL, 0, 0);
    o = opts_for(0);
    o.tls.verify_peer = 0;
    assert_int_equal(run(&s, &o, "1 a", err, sizeof err), CTX_EIO);
    SSL_CTX_free(s.ctx);
    assert_non_null(strstr(err, "the server's certificate is not for \"localhost\""));
}

static void refuses_expired_certificate(void **state) {
    (void)state;
    static tt_srv_t s;
    memset(&s, 0, sizeof s);
    s.ctx = tt_server_ctx(&pki.srv_expired, NULL, NULL, 0, 0);
    ctx_tls_opts_t o = opts_for(0);
    char err[CTX_ERRLEN] = "";
    assert_int_equal(run(&s, &o, "1 a", err, sizeof err), CTX_EIO);
    SSL_CTX_free(s.ctx);
    assert_non_null(strstr(err, "failed: certificate verify failed: certificate has expired"));
}

static void accepts_untrusted_when_verification_is_off(void **state) {
    (void)state;
    static tt_srv_t s;
    memset(&s, 0, sizeof s);
    s.ctx = tt_server_ctx(&pki.srv_evil, NULL, NULL, 0, 0);
    ctx_tls_opts_t o = opts_for(0);
    o.tls.verify_peer = 0;
    o.tls.verify_hostname = 0;
    char err[CTX_ERRLEN] = "";
    assert_int_equal(run(&s, &o, "5 hello", err, sizeof err), 0);
    SSL_CTX_free(s.ctx);
    assert_int_equal(s.len, 7);
}

static void refuses_tls11_only_server(void **state) {
    (void)state;
    static tt_srv_t s;
    memset(&s, 0, sizeof s);
    s.ctx = tt_server_ctx(&pki.srv, NULL, NULL, TLS1_1_VERSION, TLS1_1_VERSION);
    ctx_tls_opts_t o = opts_for(0);
    char err[CTX_ERRLEN] = "";
    assert_int_equal(run(&s, &o, "1 a", err, sizeof err), CTX_EIO);
    SSL_CTX_free(s.ctx);
    assert_non_null(strstr(err, "the server offers no TLS version this client accepts (minimum TLS 1.2)"));
    /* and a TLS 1.2 server when 1.3 is the minimum */
    memset(&s, 0, sizeof s);
    s.ctx = tt_server_ctx(&pki.srv, NULL, NULL, TLS1_2_VERSION, TLS1_2_VERSION);
    o = opts_for(0);
    o.tls.min_version = 0x0304;
    assert_int_equal(run(&s, &o, "1 a", err, sizeof err), CTX_EIO);
    SSL_CTX_free(s.ctx);
    assert_non_null(strstr(err, "(minimum TLS 1.3)"));
}

static void mtls_without_and_with_client_certificate(void **state) {
    (void)state;
    static tt_srv_t s;
    for (int v = 0; v < 2; v++) { /* TLS 1.3 (refusal after the handshake) and TLS 1.2 (during it) */
        memset(&s, 0, sizeof s);
        s.ctx = tt_server_ctx(&pki.srv, NULL, &pki.ca, 0, v ? TLS1_2_VERSION : 0);
        ctx_tls_opts_t o = opts_for(0);
        char err[CTX_ERRLEN] = "";
        assert_int_equal(run(&s, &o, "1 a", err, sizeof err), CTX_EIO);
        assert_non_null(strstr(err, "the server requires a client certificate (mutual TLS) and none is configured"));
        assert_int_equal(s.len, 0);
        memset(&s.buf, 0, 16);
        int conns = s.conns;
        s.conns = 0, s.len = 0;
        o.tls.cert_file = pki.client_pem;
        o.tls.key_file = pki.client_key;
        assert_int_equal(run(&s, &o, "5 hello", err, sizeof err), 0);
        SSL_CTX_free(s.ctx);
        assert_int_equal(conns, 1);
        assert_int_equal(s.handshakes_ok, 1);
        assert_memory_equal(s.buf, "5 hello", 7);
    }
}

static void reconnects_after_server_closed(void **state) {
    (void)state;
    static tt_srv_t s;
    memset(&s, 0, sizeof s);
    s.ctx = tt_server_ctx(&pki.srv, NULL, NULL, 0, 0);
    s.max_conns = 2;
    s.close_after = 5; /* the server drops each connection after its first 5 bytes */
    tt_srv_start(&s);
    ctx_tls_opts_t o = opts_for(s.port);
    ctx_tls_client_t *c;
    char err[CTX_ERRLEN] = "";
    assert_int_equal(ctx_tls_client_new(&o, &c, err, sizeof err), 0);
    assert_int_equal(ctx_tls_client_send(c, "3 one", 5, err, sizeof err), 0);
    assert_true(tt_srv_wait_closed(&s, 1, 10000)); /* the first connection is closed: close_notify sent */
    assert_int_equal(ctx_tls_client_send(c, "3 two", 5, err, sizeof err), 0);
    ctx_tls_client_free(c);
    tt_srv_stop(&s);
    SSL_CTX_free(s.ctx);
    assert_int_equal(s.conns, 2);
    assert_int_equal(s.len, 10);
    assert_memory_equal(s.buf, "3 one3 two", 10);
}

static void plain_tcp_and_connect_refused(void **state) {
    (void)state;
    static tt_srv_t s;
    memset(&s, 0, sizeof s);
    ctx_tls_opts_t o = opts_for(0);
    o.plaintext = 1;
    char err[CTX_ERRLEN] = "";
    assert_int_equal(run(&s, &o, "5 hello", err, sizeof err), 0);
    assert_int_equal(s.len, 7);
    assert_memory_equal(s.buf, "5 hello", 7);
    /* the listener is closed now: refused */
    ctx_tls_client_t *c;
    o.port = (unsigned)s.port;
    assert_int_equal(ctx_tls_client_new(&o, &c, err, sizeof err), 0);
    assert_int_equal(ctx_tls_client_send(c, "1 a", 3, err, sizeof err), CTX_EIO);
    assert_int_equal(ctx_tls_client_failure(c), CTX_TLS_FAIL_CONNECT);
    char want[100];
    snprintf(want, sizeof want, "cannot connect to 127.0.0.1:%d: Connection refused", s.port);
    assert_string_equal(err, want);
    ctx_tls_client_free(c);
}

static void bad_files_are_reported_at_creation(void **state) {
    (void)state;
    ctx_tls_opts_t o = opts_for(6514);
    ctx_tls_client_t *c = (ctx_tls_client_t *)1;
    char err[CTX_ERRLEN] = "";
    o.tls.ca_file = "/nonexistent/ca.pem";
    assert_int_equal(ctx_tls_client_new(&o, &c, err, sizeof err), CTX_EIO);
    assert_null(c);
    assert_non_null(strstr(err, "cannot load CA file \"/nonexistent/ca.pem\": "));
    o = opts_for(6514);
    o.tls.cert_file = pki.client_pem;
    assert_int_equal(ctx_tls_client_new(&o, &c, err, sizeof err), CTX_EINVAL);
    assert_string_equal(err, "a client certificate needs both cert_file and key_file");
    tt_id_t other = tt_make("x", NULL, NULL, -1, 1, 0);
    char other_key[512];
    tt_write(pki.dir, "other", &other, NULL, other_key);
    tt_free(&other);
    o.tls.key_file = other_key;
    assert_int_equal(ctx_tls_client_new(&o, &c, err, sizeof err), CTX_EINVAL);
    assert_non_null(strstr(err, "does not match certificate"));
    o = opts_for(6514);
    o.tls.ciphers = "NO-SUCH-CIPHER";
    assert_int_equal(ctx_tls_client_new(&o, &c, err, sizeof err), CTX_EINVAL);
    assert_string_equal(err, "ciphers: OpenSSL knows no cipher in \"NO-SUCH-CIPHER\"");
    o = opts_for(0);
    assert_int_equal(ctx_tls_client_new(&o, &c, err, sizeof err), CTX_EINVAL);
    ctx_tls_client_free(NULL);
}

CTX_TEST_MAIN(setup, teardown,
    cmocka_unit_test(delivers_exact_bytes_over_tls13),
    cmocka_unit_test(refuses_untrusted_ca),
    cmocka_unit_test(refuses_wrong_host_name),
    cmocka_unit_test(refuses_expired_certificate),
    cmocka_unit_test(accepts_untrusted_when_verification_is_off),
    cmocka_unit_test(refuses_tls11_only_server),
    cmocka_unit_test(mtls_without_and_with_client_certificate),
    cmocka_unit_test(reconnects_after_server_closed),
    cmocka_unit_test(plain_tcp_and_connect_refused),
    cmocka_unit_test(bad_files_are_reported_at_creation))
