/* test_tenants: the tenants file: every field of a full example, lookups and the default
 * route, warnings, the shipped example, reference counting, the fuzz corpus. Every error
 * message (exact text, line and key path): test_tenants_errors.c. */
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
#include <sys/stat.h>

#include "ctxlog_common.h"
#include "corpusdir.h"
#include "tenants.h"
#include "tenants_fx.h"

/* ---------------------------------------------------------------- the full example */

static ctx_tenants_t *load_full(void) {
    char certs[256];
    snprintf(certs, sizeof certs, "%s/certs", tmp);
    copy_in(DATA, tmp, "full.json", 0644);
    copy_in(DATA "/certs", certs, "ca.pem", 0644);
    copy_in(DATA "/certs", certs, "client.pem", 0644);
    copy_in(DATA "/certs", certs, "client.key", 0644);      /* world-readable: a warning */
    copy_in(DATA "/certs", certs, "acme.token", 0600);      /* fine */
    copy_in(DATA "/certs", certs, "globex.password", 0604); /* world-readable: a warning */
    char p[256];
    snprintf(p, sizeof p, "%s/full.json", tmp);
    ctx_tenants_t *t = NULL;
    int rc = ctx_tenants_load(p, &t, err, sizeof err);
    if (rc != 0)
        print_message("%s\n", err);
    assert_int_equal(rc, 0);
    assert_non_null(t);
    return t;
}

static const char *in_tmp(const char *rel) {
    static char buf[4][300];
    static int k;
    k = (k + 1) % 4;
    snprintf(buf[k], sizeof buf[k], "%s/%s", tmp, rel);
    return buf[k];
}

static void full_example_fields(void **state) {
    (void)state;
    ctx_tenants_t *t = load_full();
    assert_int_equal(ctx_tenants_count(t), 5);
    const char *ids[] = {"acme", "globex", "initech.prod", "lab_1", "default"};
    const int lines[] = {3, 22, 27, 39, 45};
    for (size_t i = 0; i < 5; i++) {
        assert_string_equal(ctx_tenants_at(t, i)->id, ids[i]);
        assert_int_equal(ctx_tenants_at(t, i)->line, lines[i]);
    }
    assert_null(ctx_tenants_at(t, 5));

    const ctx_tenant_t *a = ctx_tenants_get(t, "acme", 4);
    assert_int_equal(a->transport, CTX_TRANSPORT_HTTPS);
    assert_string_equal(a->url, "https://logs.acme.example:8443/bulk?pipeline=ctx");
    assert_null(a->host);
    assert_int_equal(a->port, 0);
    assert_int_equal(a->body, CTX_BATCH_JSON_ARRAY);
    assert_int_equal(a->encoding, CTX_ENC_GZIP);
    assert_int_equal(a->nheaders, 2);
    assert_string_equal(a->headers[0].name, "X-Scope-OrgID");
    assert_string_equal(a->headers[0].value, "acme");
    assert_string_equal(a->headers[1].name, "Content-Type");
    assert_string_equal(a->headers[1].value, "application/json");
    assert_int_equal(a->auth, CTX_AUTH_BEARER);
    assert_string_equal(a->auth_file, in_tmp("certs/acme.token"));
    assert_null(a->auth_user);
    assert_string_equal(a->tls.ca_file, in_tmp("certs/ca.pem"));
    assert_null(a->tls.cert_file);
    assert_int_equal(a->tls.min_version, CTX_TLS_1_3);
    assert_string_equal(a->tls.ciphersuites, "TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256");
    assert_null(a->tls.ciphers);
    assert_int_equal(a->tls.verify_peer, 1);
    assert_int_equal(a->tls.verify_hostname, 1);
    assert_int_equal(a->batch.max_messages, 500);
    assert_int_equal(a->batch.max_bytes, 262144);
    assert_int_equal(a->batch.max_delay_ms, 250);
    assert_int_equal(a->spool_max_bytes, 104857600);
    assert_int_equal(a->spool_when_full, CTX_SPOOL_DROP_OLDEST);
    assert_string_equal(a->redaction, "strict-pii");
    assert_int_equal(a->allow_plaintext, 0);

    const ctx_tenant_t *g = ctx_tenants_get(t, "globex", 6);
    assert_int_equal(g->body, CTX_BATCH_NDJSON);  /* defaults */
    assert_int_equal(g->encoding, CTX_ENC_ZSTD);
    assert_int_equal(g->nheaders, 0);
    assert_int_equal(g->auth, CTX_AUTH_BASIC);
    assert_string_equal(g->auth_user, "ctxlog");
    assert_string_equal(g->auth_file, in_tmp("certs/globex.password"));
    assert_null(g->tls.ca_file);
    assert_int_equal(g->tls.min_version, CTX_TLS_1_2);
    assert_int_equal(g->batch.max_messages, 1000);
    assert_int_equal(g->batch.max_bytes, 1048576);
    assert_int_equal(g->batch.max_delay_ms, 1000);
    assert_int_equal(g->spool_max_bytes, 1073741824);
    assert_int_equal(g->spool_when_full, CTX_SPOOL_BLOCK);
    assert_null(g->redaction);

    const ctx_tenant_t *i = ctx_tenants_get(t, "initech.prod", 12);
    assert_int_equal(i->transport, CTX_TRANSPORT_SYSLOG_TLS);
    assert_string_equal(i->host, "syslog.initech.example");
    assert_int_equal(i->port, 6514);
    assert_int_equal(i->body, CTX_BATCH_OCTET_COUNTED);
    assert_int_equal(i->encoding, CTX_ENC_NONE); /* syslog-tls: off unless declared */
    assert_null(i->url);
    assert_string_equal(i->tls.cert_file, in_tmp("certs/client.pem"));
    assert_string_equal(i->tls.key_file, in_tmp("certs/client.key"));
    assert_string_equal(i->tls.server_name, "central.initech.example");
    assert_string_equal(i->tls.ciphers, "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384");
    assert_int_equal(i->tls.verify_hostname, 0);
    assert_int_equal(i->tls.verify_peer, 1);

    const ctx_tenant_t *l = ctx_tenants_get(t, "lab_1", 5);
    assert_int_equal(l->transport, CTX_TRANSPORT_PLAIN_TCP);
    assert_int_equal(l->allow_plaintext, 1);
    assert_string_equal(l->host, "10.0.0.7");
    assert_int_equal(l->port, 10514);

    const ctx_tenant_t *d = ctx_tenants_get(t, "default", 7);
    assert_int_equal(d->port, 6515);
    assert_int_equal(d->encoding, CTX_ENC_ZSTD); /* declared */
    assert_string_equal(ctx_transport_name(d->transport), "syslog-tls");
    ctx_tenants_free(t);
}

static void full_example_warnings(void **state) {
    (void)state;
    ctx_tenants_t *t = load_full();
    char want[4][512];
    snprintf(want[0], 512,
             "%s/full.json:25: tenants.globex.auth.password_file: \"%s/certs/globex.password\" is readable by every "
             "user (mode 0604): expected 0600",
             tmp, tmp);
    snprintf(want[1], 512,
             "%s/full.json:33: tenants.initech.prod.tls.key_file: \"%s/certs/client.key\" is readable by every user "
             "(mode 0644): expected 0600",
             tmp, tmp);
    snprintf(want[2], 512,
             "%s/full.json:36: tenants.initech.prod.tls.verify_hostname: false: the server's certificate name is NOT "
             "checked for tenant initech.prod",
             tmp);
    snprintf(want[3], 512,
             "%s/full.json:40: tenants.lab_1.transport: logs of tenant lab_1 are sent unencrypted (allow_plaintext)",
             tmp);
    assert_int_equal(ctx_tenants_warning_count(t), 4);
    for (size_t i = 0; i < 4; i++)
        assert_string_equal(ctx_tenants_warning(t, i), want[i]);
    assert_null(ctx_tenants_warning(t, 4));
    ctx_tenants_free(t);
}

/* ---------------------------------------------------------------- lookups */

static void lookup(void **state) {
    (void)state;
    ctx_tenants_t *t = load_full();
    /* ids need not be NUL-terminated; prefixes and extensions do not match */
    assert_string_equal(ctx_tenants_get(t, "acmeXYZ", 4)->id, "acme");
    assert_null(ctx_tenants_get(t, "acm", 3));
    assert_null(ctx_tenants_get(t, "acme2", 5));
    assert_null(ctx_tenants_get(t, "", 0));
    assert_null(ctx_tenants_get(NULL, "acme", 4));
    ctx_tenants_free(t);
    ctx_tenants_free(NULL);
}

static void many_tenants_hash(void **state) {
    (void)state;
    size_t cap = 2000 * 80 + 64, o = 0;
    char *text = malloc(cap);
    o += (size_t)snprintf(text + o, cap - o, "{\"tenants\": {");
    for (int i = 0; i < 2000; i++)
        o += (size_t)snprintf(text + o, cap - o, "%s\"t%d\": {\"transport\": \"syslog-tls\", \"host\": \"h%d\"}",
                              i ? "," : "", i, i);
    o += (size_t)snprintf(text + o, cap - o, "}}");
    ctx_tenants_t *t;
    assert_int_equal(ctx_tenants_parse(text, o, "t.json", NULL, &t, err, sizeof err), 0);
    assert_int_equal(ctx_tenants_count(t), 2000);
    for (int i = 0; i < 2000; i++) {
        char id[16], host[16];
        snprintf(id, sizeof id, "t%d", i);
        snprintf(host, sizeof host, "h%d", i);
        const ctx_tenant_t *e = ctx_tenants_get(t, id, strlen(id));
        assert_non_null(e);
        assert_string_equal(e->host, host);
    }
    assert_null(ctx_tenants_get(t, "t2000", 5));
    ctx_tenants_free(t);
    free(text);
}

static void tenant_ids(void **state) {
    (void)state;
    assert_int_equal(ctx_tenants_id_ok("acme", 4), 1);
    assert_int_equal(ctx_tenants_id_ok("A.b_c-9", 7), 1);
    assert_int_equal(ctx_tenants_id_ok("...", 3), 1);
    char id[66];
    memset(id, 'a', sizeof id);
    assert_int_equal(ctx_tenants_id_ok(id, 64), 1);
    assert_int_equal(ctx_tenants_id_ok(id, 65), 0);
    assert_int_equal(ctx_tenants_id_ok("", 0), 0);
    assert_int_equal(ctx_tenants_id_ok(".", 1), 0);
    assert_int_equal(ctx_tenants_id_ok("..", 2), 0);
    assert_int_equal(ctx_tenants_id_ok("../x", 4), 0);
    assert_int_equal(ctx_tenants_id_ok("a/b", 3), 0);
    assert_int_equal(ctx_tenants_id_ok("a b", 3), 0);
    assert_int_equal(ctx_tenants_id_ok("a\0b", 3), 0);
    assert_int_equal(ctx_tenants_id_ok("é", 2), 0);
    assert_int_equal(ctx_tenants_id_ok(NULL, 1), 0);
}

static void warnings_verify_off_and_empty(void **state) {
    (void)state;
    const char *text = "{\"tenants\": {\"a\": {\"transport\": \"https\", \"url\": \"https://x/\",\n"
                       "\"tls\": {\"verify_peer\": false, \"verify_hostname\": false}}}}";
    ctx_tenants_t *t;
    assert_int_equal(ctx_tenants_parse(text, strlen(text), "t.json", NULL, &t, err, sizeof err), 0);
    assert_int_equal(ctx_tenants_warning_count(t), 2);
    assert_string_equal(ctx_tenants_warning(t, 0), "t.json:2: tenants.a.tls.verify_peer: false: the server's "
                                                   "certificate chain and dates are NOT checked for tenant a");
    assert_string_equal(ctx_tenants_warning(t, 1), "t.json:2: tenants.a.tls.verify_hostname: false: the server's "
                                                   "certificate name is NOT checked for tenant a");
    assert_int_equal(ctx_tenants_at(t, 0)->tls.verify_peer, 0);
    ctx_tenants_free(t);
    text = "\xef\xbb\xbf{\"tenants\": {}}"; /* with a UTF-8 BOM */
    assert_int_equal(ctx_tenants_parse(text, strlen(text), "t.json", NULL, &t, err, sizeof err), 0);
    assert_int_equal(ctx_tenants_count(t), 0);
    assert_int_equal(ctx_tenants_warning_count(t), 1);
    assert_string_equal(ctx_tenants_warning(t, 0), "t.json:1: tenants: no tenant is defined: every message will be "
                                                   "dropped");
    assert_null(ctx_tenants_get(t, "a", 1));
    ctx_tenants_free(t);
}

/* the operator example loads, once its /etc/ctxlog paths exist */
static void conf_example_is_valid(void **state) {
    (void)state;
    FILE *f = fopen(CTX_SRCDIR "/conf-examples/tenants.json", "r");
    assert_non_null(f);
    static char text[65536], out[70000];
    size_t n = fread(text, 1, sizeof text - 1, f);
    text[n] = '\0';
    fclose(f);
    size_t o = 0;
    for (const char *p = text; *p;) { /* /etc/ctxlog/ -> TMP/ */
        if (strncmp(p, "/etc/ctxlog/", 12) == 0) {
            o += (size_t)snprintf(out + o, sizeof out - o, "%s/", tmp);
            p += 12;
        } else {
            out[o++] = *p++;
        }
    }
    out[o] = '\0';
    const char *files[] = {"tls/ca.pem", "tls/client.pem", "tls/client.key", "secrets/acme.token",
                           "secrets/globex.password", "secrets/piedpiper.token", "secrets/umbrella.password",
                           "secrets/wonka.hec-token"};
    char d[300];
    snprintf(d, sizeof d, "%s/tls", tmp);
    mkdir(d, 0700);
    snprintf(d, sizeof d, "%s/secrets", tmp);
    mkdir(d, 0700);
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++)
        put_file(tmp, files[i], "x\n", 0600);
    ctx_tenants_t *t;
    int rc = ctx_tenants_parse(out, o, "tenants.json", NULL, &t, err, sizeof err);
    if (rc != 0)
        print_message("%s\n", err);
    assert_int_equal(rc, 0);
    ASSERT_GE(ctx_tenants_count(t), 3);
    assert_non_null(ctx_tenants_get(t, "default", 7));
    assert_int_equal(ctx_tenants_warning_count(t), 0);
    ctx_tenants_free(t);
}

/* ---------------------------------------------------------------- references and HUP */

/* a reference held by a reader outlives the loader's: the set is freed with the last */
static void references(void **state) {
    (void)state;
    const char *text = "{\"tenants\": {\"acme\": {\"transport\": \"https\", \"url\": \"https://a.example/0\"}}}";
    ctx_tenants_t *t;
    assert_int_equal(ctx_tenants_parse(text, strlen(text), "t.json", NULL, &t, err, sizeof err), 0);
    ctx_tenants_t *held = ctx_tenants_ref(t);
    assert_ptr_equal(held, t);
    ctx_tenants_free(t); /* the loader's reference */
    assert_string_equal(ctx_tenants_get(held, "acme", 4)->url, "https://a.example/0");
    ctx_tenants_free(held); /* the last: freed (ASan checks) */
    assert_null(ctx_tenants_ref(NULL));
    ctx_tenants_free(NULL);
}

static void load_file(const char *path, void *arg) {
    (void)arg;
    ctx_tenants_t *t = NULL;
    int rc = ctx_tenants_load(path, &t, err, sizeof err);
    assert_true(rc == 0 || rc == CTX_EPARSE || rc == CTX_EIO);
    assert_true(rc == 0 ? t != NULL : (t == NULL && err[0] != '\0' && strchr(err, '\n') == NULL));
    ctx_tenants_free(t);
}

/* inputs the fuzzer found interesting: each must load or fail cleanly */
static void fuzz_corpus_replay(void **state) {
    (void)state;
    corpus_each("tenants", load_file, NULL);
}

CTX_TEST_MAIN(setup, teardown,
    cmocka_unit_test(full_example_fields),
    cmocka_unit_test(full_example_warnings),
    cmocka_unit_test(lookup),
    cmocka_unit_test(many_tenants_hash),
    cmocka_unit_test(tenant_ids),
    cmocka_unit_test(warnings_verify_off_and_empty),
    cmocka_unit_test(conf_example_is_valid),
    cmocka_unit_test(references),
    cmocka_unit_test(fuzz_corpus_replay))
