/* test_tenants_errors: every error message of the tenants file, with its exact text, line
 * and key path: structure and ids, formats and their keys, files under tests/data/tenants,
 * each transport's keys, headers and auth, context, TLS, batch and spool. The rest of the
 * tenants file: test_tenants.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include "check.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctxlog_common.h"
#include "tenants.h"
#include "tenants_fx.h"

static void expect_error(const char *text, const char *want) {
    ctx_tenants_t *t = (ctx_tenants_t *)1;
    int rc = ctx_tenants_parse(text, strlen(text), "t.json", tmp, &t, err, sizeof err);
    if (rc == 0 || strcmp(err, want) != 0)
        print_message("text: %s\nwant: %s\ngot:  %s (rc %d)\n", text, want, err, rc);
    assert_int_equal(rc, CTX_EPARSE);
    assert_null(t);
    assert_string_equal(err, want);
}

#define T1(body) "{\"tenants\": {\"a\": {" body "}}}"
#define TLS_T(body) T1("\"transport\": \"syslog-tls\", \"host\": \"h\", " body)
#define HTTPS_T(body) T1("\"transport\": \"https\", \"url\": \"https://x.example/\", " body)

/* "format" and each format's keys (tenants_fmt.c) */
static void format_keys(void **state) {
    (void)state;
    char e[CTX_ERRLEN];
    ctx_tenants_t *t = NULL;
    const char *es = HTTPS_T("\"format\": \"elasticsearch\", \"elasticsearch\": {\"index\": \"ctxlog-a\"}");
    assert_int_equal(ctx_tenants_parse(es, strlen(es), "t.json", NULL, &t, e, sizeof e), 0);
    const ctx_tenant_t *a = ctx_tenants_get(t, "a", 1);
    assert_int_equal(a->format, CTX_FMT_ELASTICSEARCH);
    assert_int_equal(a->body, CTX_BATCH_ELASTICSEARCH);
    assert_int_equal(a->encoding, CTX_ENC_GZIP); /* the default for elasticsearch */
    assert_string_equal(a->url, "https://x.example/ctxlog-a/_bulk");
    ctx_tenants_free(t);
    const char *lk = HTTPS_T("\"format\": \"loki\", \"loki\": {\"labels\": [\"vm.name\", \"severity\", \"cm.guest_os\"]}");
    assert_int_equal(ctx_tenants_parse(lk, strlen(lk), "t.json", NULL, &t, e, sizeof e), 0);
    a = ctx_tenants_get(t, "a", 1);
    assert_string_equal(a->url, "https://x.example/loki/api/v1/push");
    assert_int_equal(a->fmt_opts.nlabels, 3);
    assert_string_equal(a->fmt_opts.label_name[2], "cm_guest_os");
    assert_string_equal(a->fmt_opts.label_key[2], "cm.guest_os");
    ctx_tenants_free(t);
    const char *nd = HTTPS_T("\"body\": \"json-array\"");
    assert_int_equal(ctx_tenants_parse(nd, strlen(nd), "t.json", NULL, &t, e, sizeof e), 0);
    assert_int_equal(ctx_tenants_get(t, "a", 1)->body, CTX_BATCH_JSON_ARRAY);
    assert_int_equal(ctx_tenants_warning_count(t), 1);
    assert_string_equal(ctx_tenants_warning(t, 0), "t.json:1: tenants.a.body: deprecated: use \"format\": \"json-array\"");
    ctx_tenants_free(t);
    expect_error(HTTPS_T("\"format\": \"xml\""),
                 "t.json:1: tenants.a.format: expected \"ndjson\", \"json-array\", \"otlp\", \"otlp-json\", "
                 "\"elasticsearch\", \"loki\" or \"splunk-hec\", got \"xml\"");
    expect_error(HTTPS_T("\"format\": \"ndjson\", \"body\": \"ndjson\""),
                 "t.json:1: tenants.a.body: the older name of \"format\": give only \"format\"");
    expect_error(HTTPS_T("\"format\": \"elasticsearch\", \"content_encoding\": \"zstd\", \"elasticsearch\": {\"index\": \"x\"}"),
                 "t.json:1: tenants.a.content_encoding: \"zstd\" is not accepted by Elasticsearch's bulk API (it takes "
                 "gzip request bodies only): use \"gzip\" or \"none\"");
    expect_error(HTTPS_T("\"format\": \"loki\", \"content_encoding\": \"zstd\""),
                 "t.json:1: tenants.a.content_encoding: \"zstd\" is not accepted by Loki's push API (it takes gzip "
                 "request bodies only): use \"gzip\" or \"none\"");
    expect_error(HTTPS_T("\"format\": \"elasticsearch\""),
                 "t.json:1: tenants.a: \"elasticsearch\" is required for format \"elasticsearch\": {\"index\": NAME} or "
                 "{\"data_stream\": NAME}");
    expect_error(HTTPS_T("\"format\": \"elasticsearch\", \"elasticsearch\": {\"index\": \"a\", \"data_stream\": \"b\"}"),
                 "t.json:1: tenants.a.elasticsearch: expected exactly one of \"index\" or \"data_stream\": where the "
                 "documents go");
    expect_error(HTTPS_T("\"format\": \"elasticsearch\", \"elasticsearch\": {\"index\": \"Logs\"}"),
                 "t.json:1: tenants.a.elasticsearch.index: \"Logs\": must be lowercase");
    expect_error(T1("\"transport\": \"https\", \"url\": \"https://x/_bulk\", \"format\": \"elasticsearch\", "
                    "\"elasticsearch\": {\"index\": \"a\"}"),
                 "t.json:1: tenants.a.url: expected the cluster's URL (e.g. https://es.example:9200): omtenant posts to "
                 "<url>/<index or data_stream>/_bulk itself");
    expect_error(HTTPS_T("\"format\": \"ndjson\", \"loki\": {}"),
                 "t.json:1: tenants.a.loki: valid only with \"format\": \"loki\" (this tenant's format is \"ndjson\")");
    expect_error(HTTPS_T("\"format\": \"loki\", \"loki\": {\"labels\": [\"vm.name\", \"capture.sport\"]}"),
                 "t.json:1: tenants.a.loki.labels[1]: \"capture.sport\" changes with every message or sample: a Loki "
                 "label must have few values (each label set is a stream Loki indexes); it is sent as structured "
                 "metadata instead");
    expect_error(HTTPS_T("\"format\": \"loki\", \"loki\": {\"labels\": [\"msg\"]}"),
                 "t.json:1: tenants.a.loki.labels[0]: \"msg\" is different for (almost) every message: a Loki label "
                 "must have few values (each label set is a stream Loki indexes); it is sent as structured metadata "
                 "instead");
    expect_error(HTTPS_T("\"format\": \"loki\", \"loki\": {\"labels\": [\"colour\"]}"),
                 "t.json:1: tenants.a.loki.labels[0]: \"colour\" unknown: expected \"hostname\", \"app\", "
                 "\"severity\", \"facility\", or a context key under \"vm.\", \"cm.\" or \"tags.\" such as \"vm.name\"");
    expect_error(HTTPS_T("\"format\": \"loki\", \"loki\": {\"labels\": []}"),
                 "t.json:1: tenants.a.loki.labels: expected 1..8 keys (Loki wants few labels), got 0");
    expect_error(HTTPS_T("\"format\": \"splunk-hec\""),
                 "t.json:1: tenants.a: \"splunk_hec\" with \"token_file\" is required for format \"splunk-hec\"");
    expect_error(HTTPS_T("\"format\": \"splunk-hec\", \"splunk_hec\": {\"source\": \"x\"}"),
                 "t.json:1: tenants.a.splunk_hec: \"token_file\" is required: the file holding the HEC token");
    expect_error(HTTPS_T("\"format\": \"splunk-hec\", \"splunk_hec\": {\"token_file\": \"/nonexistent/t\"}"),
                 "t.json:1: tenants.a.splunk_hec.token_file: cannot read \"/nonexistent/t\": No such file or directory");
}

static void errors_structure_and_ids(void **state) {
    (void)state;
    expect_error("", "t.json:1:1: invalid JSON: unexpected end of file");
    expect_error("{\n  \"tenants\": {\n    \"a\": 1,\n  }\n}", "t.json:4:3: invalid JSON: unexpected character");
    expect_error("{} x", "t.json:1:4: invalid JSON: unexpected character");
    expect_error("[]", "t.json:1: expected a JSON object {\"tenants\": {...}}, got an array");
    expect_error("{}", "t.json:1: \"tenants\" is required: an object of tenant id -> destination");
    expect_error("{\"tenants\": {}, \"x\": 1}", "t.json:1: x: unknown key; expected one of: tenants");
    expect_error("{\"tenants\": []}", "t.json:1: tenants: expected an object, got an array");
    const char *id_msg = ": a tenant id is 1..64 characters A-Z a-z 0-9 . _ - and not \".\" or \"..\" (it names the "
                         "tenant's spool directory)";
    const char *bad_ids[] = {"..", ".", "a/b", "", "a b", "\\u00e9"};
    const char *shown_ids[] = {"..", ".", "a/b", "", "a b", "\\xc3\\xa9"};
    for (size_t i = 0; i < sizeof bad_ids / sizeof bad_ids[0]; i++) {
        char text[256], want[512];
        snprintf(text, sizeof text, "{\"tenants\": {\"%s\": {\"transport\": \"syslog-tls\", \"host\": \"h\"}}}",
                 bad_ids[i]);
        snprintf(want, sizeof want, "t.json:1: tenants.%s%s", shown_ids[i], id_msg);
        expect_error(text, want);
    }
    char text[256], want[512];
    snprintf(text, sizeof text, "{\"tenants\": {\"%065d\": {}}}", 0);
    snprintf(want, sizeof want, "t.json:1: tenants.%064d...%s", 0, id_msg);
    expect_error(text, want);
    expect_error("{\"tenants\": {\"a\": []}}", "t.json:1: tenants.a: expected an object, got an array");
    expect_error(T1(""), "t.json:1: tenants.a: \"transport\" is required: \"syslog-tls\", \"https\" or \"plain-tcp\"");
    expect_error(T1("\"transport\": \"udp\""),
                 "t.json:1: tenants.a.transport: expected \"syslog-tls\", \"https\" or \"plain-tcp\", got \"udp\"");
    expect_error(T1("\"transport\": 5"),
                 "t.json:1: tenants.a.transport: expected \"syslog-tls\", \"https\" or \"plain-tcp\", got a number");
}

static void errors_files_from_data_dir(void **state) {
    (void)state;
    struct {
        const char *file, *msg;
    } cases[] = {
        {"syntax_error.json", "5:7: invalid JSON: object value separator ',' expected"},
        {"duplicate_tenant.json", "5: tenants.acme: duplicate key (first at line 3)"},
        {"path_traversal.json", "4: tenants.../../etc: a tenant id is 1..64 characters A-Z a-z 0-9 . _ - and not "
                                "\".\" or \"..\" (it names the tenant's spool directory)"},
        {"deep_error.json", "8: tenants.acme.tls.min_version: expected \"1.2\" or \"1.3\", got \"1.1\""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char p[512], want[1024];
        snprintf(p, sizeof p, "%s/%s", DATA, cases[i].file);
        snprintf(want, sizeof want, "%s:%s", p, cases[i].msg);
        ctx_tenants_t *t = (ctx_tenants_t *)1;
        assert_int_equal(ctx_tenants_load(p, &t, err, sizeof err), CTX_EPARSE);
        assert_null(t);
        assert_string_equal(err, want);
    }
    ctx_tenants_t *t;
    assert_int_equal(ctx_tenants_load(DATA "/nope.json", &t, err, sizeof err), CTX_EIO);
    assert_string_equal(err, DATA "/nope.json: cannot read: No such file or directory");
    assert_int_equal(ctx_tenants_load(DATA, &t, err, sizeof err), CTX_EIO);
    assert_string_equal(err, DATA ": cannot read: not a regular file");
}

static void errors_transports(void **state) {
    (void)state;
    /* each transport's keys: a file with tenant "a" as given, and the one error it gets */
    static const struct {
        const char *text, *err;
    } cases[] = {
        {T1("\"transport\": \"plain-tcp\", \"host\": \"h\""),
         "t.json:1: tenants.a.transport: \"plain-tcp\" sends logs unencrypted: set \"allow_plaintext\": true "
          "to allow it"},
        {T1("\"transport\": \"plain-tcp\", \"allow_plaintext\": 1, \"host\": \"h\""),
         "t.json:1: tenants.a.allow_plaintext: expected true or false, got a number"},
        {T1("\"transport\": \"plain-tcp\", \"allow_plaintext\": true, \"host\": \"h\", \"tls\": {}"),
         "t.json:1: tenants.a.tls: not valid for transport \"plain-tcp\" (no TLS, no HTTP)"},
        {T1("\"transport\": \"syslog-tls\""), "t.json:1: tenants.a: \"host\" is required for transport \"syslog-tls\""},
        {TLS_T("\"port\": 0"), "t.json:1: tenants.a.port: expected an integer from 1 to 65535, got 0"},
        {TLS_T("\"port\": 65536"), "t.json:1: tenants.a.port: expected an integer from 1 to 65535, got 65536"},
        {TLS_T("\"port\": \"514\""), "t.json:1: tenants.a.port: expected an integer from 1 to 65535, got a string"},
        {TLS_T("\"port\": 514.5"),
         "t.json:1: tenants.a.port: expected an integer from 1 to 65535, got a number with a fraction or " "exponent"},
        {T1("\"transport\": \"syslog-tls\", \"host\": \"a/b\""),
         "t.json:1: tenants.a.host: expected a host name or IP address (letters, digits, \".-:_%\")"},
        {T1("\"transport\": \"syslog-tls\", \"host\": \"\""), "t.json:1: tenants.a.host: expected a non-empty string"},
        {TLS_T("\"url\": \"https://x/\""), "t.json:1: tenants.a.url: not valid for transport \"syslog-tls\""},
        {TLS_T("\"compression\": \"lz4\""),
         "t.json:1: tenants.a.compression: expected \"none\", \"zstd\" or \"gzip\", got \"lz4\""},
        {TLS_T("\"colour\": \"blue\""),
         "t.json:1: tenants.a.colour: unknown key; expected one of: transport, allow_plaintext, tls, batch, "
          "spool, redaction, context, host, port, compression"},
        {T1("\"transport\": \"https\""), "t.json:1: tenants.a: \"url\" is required for transport \"https\""},
        {HTTPS_T("\"host\": \"h\""), "t.json:1: tenants.a.host: not valid for transport \"https\""},
        {T1("\"transport\": \"https\", \"url\": \"ftp://x/\""), "t.json:1: tenants.a.url: expected an https:// URL"},
        {T1("\"transport\": \"https\", \"url\": \"https:///bulk\""),
         "t.json:1: tenants.a.url: expected a URL with a host and no spaces"},
        {T1("\"transport\": \"https\", \"url\": \"https://a b/\""),
         "t.json:1: tenants.a.url: expected a URL with a host and no spaces"},
        {T1("\"transport\": \"https\", \"url\": \"http://x/\""),
         "t.json:1: tenants.a.url: http:// sends logs unencrypted: use https:// or set \"allow_plaintext\": " "true"},
        {T1("\"transport\": \"https\", \"allow_plaintext\": true, \"url\": \"http://x/\", \"tls\": {}"),
         "t.json:1: tenants.a.tls: not valid with an http:// url"},
        {HTTPS_T("\"body\": \"xml\""), "t.json:1: tenants.a.body: expected \"ndjson\" or \"json-array\", got \"xml\""},
        {T1("\"transport\": \"syslog-tls\", \"host\": \"h\", \"format\": \"loki\""),
         "t.json:1: tenants.a.format: not valid for transport \"syslog-tls\""},
        {HTTPS_T("\"content_encoding\": \"br\""),
         "t.json:1: tenants.a.content_encoding: expected \"none\", \"zstd\" or \"gzip\", got \"br\""},
        {HTTPS_T("\"redaction\": \"a/b\""),
         "t.json:1: tenants.a.redaction: expected a rule set name of 1..64 characters A-Z a-z 0-9 . _ -"},
        {HTTPS_T("\"redaction\": \"a\\u0000b\""),
         "t.json:1: tenants.a.redaction: expected a string without NUL characters"},
        {HTTPS_T("\"redaction\": \"a\\tb\""),
         "t.json:1: tenants.a.redaction: expected a string without control characters"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) expect_error(cases[i].text, cases[i].err);
}

/* "context": {"host": ...}: vm-only unless "full" is written; every wrong shape is an error */
static void context_host(void **state) {
    (void)state;
    static const struct { const char *body; int full; } ok[] = {
        {"\"batch\": {}", 0},
        {"\"context\": {}", 0},
        {"\"context\": {\"host\": \"vm-only\"}", 0},
        {"\"context\": {\"host\": \"full\"}", 1},
    };
    for (size_t k = 0; k < sizeof ok / sizeof ok[0]; k++) {
        char text[512], why[CTX_ERRLEN] = "";
        snprintf(text, sizeof text, "{\"tenants\": {\"a\": {\"transport\": \"https\", \"url\": \"https://x.example/\", %s}}}",
                 ok[k].body);
        ctx_tenants_t *t = NULL;
        assert_int_equal(ctx_tenants_parse(text, strlen(text), "t.json", tmp, &t, why, sizeof why), 0);
        assert_int_equal(ctx_tenants_get(t, "a", 1)->context_host_full, ok[k].full);
        ctx_tenants_free(t);
    }
    expect_error(HTTPS_T("\"context\": {\"host\": \"all\"}"),
                 "t.json:1: tenants.a.context.host: expected \"vm-only\" or \"full\", got \"all\"");
    expect_error(HTTPS_T("\"context\": {\"host\": true}"),
                 "t.json:1: tenants.a.context.host: expected \"vm-only\" or \"full\", got a boolean");
    expect_error(HTTPS_T("\"context\": {\"cm\": \"full\"}"),
                 "t.json:1: tenants.a.context.cm: unknown key; expected one of: host");
    expect_error(HTTPS_T("\"context\": \"full\""), "t.json:1: tenants.a.context: expected an object, got a string");
    expect_error(T1("\"transport\": \"plain-tcp\", \"allow_plaintext\": true, \"host\": \"h\", \"context\": 1"),
                 "t.json:1: tenants.a.context: expected an object, got a number");
}

static void errors_headers_auth(void **state) {
    (void)state;
    put_file(tmp, "token", "t0k3n\n", 0600);
    expect_error(HTTPS_T("\"headers\": [\"a\"]"), "t.json:1: tenants.a.headers: expected an object, got an array");
    expect_error(HTTPS_T("\"headers\": {\"X Bad\": \"v\"}"),
                 "t.json:1: tenants.a.headers.X Bad: expected a header name (letters, digits, !#$%&'*+-.^_`|~)");
    expect_error(HTTPS_T("\"headers\": {\"content-length\": \"5\"}"),
                 "t.json:1: tenants.a.headers.content-length: set by omtenant itself; it cannot be configured");
    expect_error(HTTPS_T("\"headers\": {\"X-A\": \"a\\r\\nInjected: 1\"}"),
                 "t.json:1: tenants.a.headers.X-A: expected a string without control characters");
    expect_error(HTTPS_T("\"headers\": {\"X-A\": 1}"),
                 "t.json:1: tenants.a.headers.X-A: expected a string, got a number");
    expect_error(HTTPS_T("\"auth\": {\"type\": \"bearer\", \"token_file\": \"token\"}, "
                         "\"headers\": {\"authorization\": \"x\"}"),
                 "t.json:1: tenants.a.headers.authorization: conflicts with \"auth\"");
    expect_error(HTTPS_T("\"auth\": {}"), "t.json:1: tenants.a.auth: \"type\" is required: \"bearer\" or \"basic\"");
    expect_error(HTTPS_T("\"auth\": {\"type\": \"digest\"}"),
                 "t.json:1: tenants.a.auth.type: expected \"bearer\" or \"basic\", got \"digest\"");
    expect_error(HTTPS_T("\"auth\": {\"type\": \"bearer\"}"),
                 "t.json:1: tenants.a.auth: \"token_file\" is required for auth type \"bearer\"");
    expect_error(HTTPS_T("\"auth\": {\"type\": \"bearer\", \"token_file\": \"token\", \"user\": \"u\"}"),
                 "t.json:1: tenants.a.auth.user: not valid for auth type \"bearer\"");
    expect_error(HTTPS_T("\"auth\": {\"type\": \"basic\", \"token_file\": \"token\"}"),
                 "t.json:1: tenants.a.auth.token_file: not valid for auth type \"basic\"");
    expect_error(HTTPS_T("\"auth\": {\"type\": \"basic\", \"password_file\": \"token\"}"),
                 "t.json:1: tenants.a.auth: \"user\" is required for auth type \"basic\"");
    expect_error(HTTPS_T("\"auth\": {\"type\": \"basic\", \"user\": \"a:b\", \"password_file\": \"token\"}"),
                 "t.json:1: tenants.a.auth.user: a basic-auth user name cannot contain \":\"");
    expect_error(HTTPS_T("\"auth\": {\"type\": \"basic\", \"user\": \"u\", \"password\": \"hunter2\"}"),
                 "t.json:1: tenants.a.auth.password: unknown key; expected one of: type, token_file, user, "
                 "password_file");
    char want[512];
    snprintf(want, sizeof want,
             "t.json:1: tenants.a.auth.token_file: cannot read \"%s/missing\": No such file or directory", tmp);
    expect_error(HTTPS_T("\"auth\": {\"type\": \"bearer\", \"token_file\": \"missing\"}"), want);
    snprintf(want, sizeof want, "t.json:1: tenants.a.auth.token_file: \"%s/adir\" is not a regular file", tmp);
    expect_error(HTTPS_T("\"auth\": {\"type\": \"bearer\", \"token_file\": \"adir\"}"), want);
}

static void errors_tls_batch_spool(void **state) {
    (void)state;
    put_file(tmp, "key.pem", "k\n", 0600);
    put_file(tmp, "ca.pem", "c\n", 0644);
    expect_error(TLS_T("\"tls\": true"), "t.json:1: tenants.a.tls: expected an object, got a boolean");
    expect_error(TLS_T("\"tls\": {\"verify\": false}"),
                 "t.json:1: tenants.a.tls.verify: unknown key; expected one of: ca_file, cert_file, key_file, "
                 "server_name, min_version, ciphers, ciphersuites, verify_peer, verify_hostname");
    expect_error(TLS_T("\"tls\": {\"key_file\": \"key.pem\"}"),
                 "t.json:1: tenants.a.tls.key_file: cert_file and key_file must be given together");
    expect_error(TLS_T("\"tls\": {\"cert_file\": \"ca.pem\"}"),
                 "t.json:1: tenants.a.tls.cert_file: cert_file and key_file must be given together");
    expect_error(TLS_T("\"tls\": {\"min_version\": 1.2}"),
                 "t.json:1: tenants.a.tls.min_version: expected \"1.2\" or \"1.3\", got a number with a fraction or "
                 "exponent");
    expect_error(TLS_T("\"tls\": {\"ciphers\": \"NO-SUCH-CIPHER\"}"),
                 "t.json:1: tenants.a.tls.ciphers: OpenSSL knows no cipher in this list");
    expect_error(TLS_T("\"tls\": {\"ciphersuites\": \"TLS_NOPE\"}"),
                 "t.json:1: tenants.a.tls.ciphersuites: OpenSSL knows no cipher suite in this list");
    char want[512];
    snprintf(want, sizeof want,
             "t.json:1: tenants.a.tls.ca_file: cannot read \"%s/none.pem\": No such file or directory", tmp);
    expect_error(TLS_T("\"tls\": {\"ca_file\": \"none.pem\"}"), want);
    expect_error(TLS_T("\"tls\": {\"ca_file\": \"/nonexistent/ca.pem\"}"),
                 "t.json:1: tenants.a.tls.ca_file: cannot read \"/nonexistent/ca.pem\": No such file or directory");
    expect_error(TLS_T("\"batch\": {\"max_messages\": 0}"),
                 "t.json:1: tenants.a.batch.max_messages: expected an integer from 1 to 1000000, got 0");
    expect_error(TLS_T("\"batch\": {\"max_bytes\": 100}"),
                 "t.json:1: tenants.a.batch.max_bytes: expected an integer from 1024 to 67108864, got 100");
    expect_error(TLS_T("\"batch\": {\"max_delay_ms\": \"5\"}"),
                 "t.json:1: tenants.a.batch.max_delay_ms: expected an integer from 1 to 3600000, got a string");
    expect_error(TLS_T("\"batch\": {\"max_delay\": 5}"),
                 "t.json:1: tenants.a.batch.max_delay: unknown key; expected one of: max_messages, max_bytes, "
                 "max_delay_ms");
    expect_error(TLS_T("\"spool\": {\"when_full\": \"drop-newest\"}"),
                 "t.json:1: tenants.a.spool.when_full: expected \"block\" or \"drop-oldest\", got \"drop-newest\"");
    expect_error(TLS_T("\"spool\": {\"max_bytes\": 99999999999999999999}"),
                 "t.json:1: tenants.a.spool.max_bytes: expected an integer from 1048576 to 1125899906842624, got "
                 "9223372036854775807");
    expect_error(TLS_T("\"batch\": {\"max_bytes\": 1048576}, \"spool\": {\"max_bytes\": 2000000}"),
                 "t.json:1: tenants.a.spool.max_bytes: expected at least 2 x batch.max_bytes (2097152), got 2000000");
}

static void errors_name_the_right_line(void **state) {
    (void)state;
    /* the same key name at several places: the line of the one meant */
    const char *text = "{\n"
                       "  \"tenants\": {\n"
                       "    \"a\": {\n"
                       "      \"transport\": \"syslog-tls\", \"host\": \"h\",\n"
                       "      \"batch\": {\"max_bytes\": 4096},\n"
                       "      \"spool\": {\n"
                       "        \"when_full\": \"block\",\n"
                       "        \"max_bytes\": 5\n"
                       "      }\n"
                       "    }\n"
                       "  }\n"
                       "}\n";
    expect_error(text, "t.json:8: tenants.a.spool.max_bytes: expected an integer from 1048576 to 1125899906842624, "
                       "got 5");
    /* a duplicate inside a tenant, and keys that differ only after unescaping */
    expect_error("{\"tenants\": {\"a\": {\"transport\": \"syslog-tls\",\n\"host\": \"h\",\n\"host\": \"i\"}}}",
                 "t.json:3: tenants.a.host: duplicate key (first at line 2)");
    expect_error("{\"tenants\": {\"a\": {\"transport\": \"syslog-tls\",\n\"host\": \"h\",\n\"\\u0068ost\": \"i\"}}}",
                 "t.json:3: tenants.a.host: duplicate key (first at line 2)");
    /* the same key in two different objects is not a duplicate */
    const char *ok = "{\"tenants\": {\"a\": {\"transport\": \"syslog-tls\", \"host\": \"h\"},"
                     "\"b\": {\"transport\": \"syslog-tls\", \"host\": \"h\"}}}";
    ctx_tenants_t *t;
    assert_int_equal(ctx_tenants_parse(ok, strlen(ok), "t.json", NULL, &t, err, sizeof err), 0);
    assert_int_equal(ctx_tenants_count(t), 2);
    ctx_tenants_free(t);
}

CTX_TEST_MAIN(setup, teardown,
    cmocka_unit_test(errors_structure_and_ids),
    cmocka_unit_test(format_keys),
    cmocka_unit_test(errors_files_from_data_dir),
    cmocka_unit_test(errors_transports),
    cmocka_unit_test(errors_headers_auth),
    cmocka_unit_test(context_host),
    cmocka_unit_test(errors_tls_batch_spool),
    cmocka_unit_test(errors_name_the_right_line))
