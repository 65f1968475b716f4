/* test_fmt.c: the body formats of common/deliver (fmt*.c): the Elasticsearch bulk body,
 * its reply parser (hostile replies: truncated at every length, wrong item counts, items
 * without a status, huge, not JSON) and item selection; what a bulk reply with partial
 * failures turns into (fmt_reply.c); Loki's push body (streams by label set, sorted per
 * stream, metadata without the labels); Splunk HEC events; what every format makes of a
 * 2xx reply, hostile ones included (OTLP: delivered but counted when unreadable, a warning,
 * partial_success; the formats whose replies say nothing); record batches (one copy of a
 * shared context, the body built at seal time); RFC 3339 parsing; context lookups. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include "check.h"
#include <json.h>

#include "batch.h"
#include "ctxlog_common.h"
#include "delivery.h"
#include "fmt.h"
#include "fmt_reply.h"

#define S(lit) ((ctx_fmt_str_t){lit, sizeof(lit) - 1})
#define T0 1764658851123456789ull /* 2025-12-02T07:00:51.123456789Z */

static const char CTX_A[] = "{\"vm\":{\"name\":\"web-a\",\"tenant\":\"acme\",\"uuid\":\"u-1\"},\"host\":{\"vm_cpu_pct\":1.5}}";
static const char CTX_B[] = "{\"vm\":{\"name\":\"db-b\",\"tenant\":\"acme\"}}";

static ctx_fmt_rec_t rec(uint64_t t, const char *msg, const char *ctx) {
    ctx_fmt_rec_t r;
    memset(&r, 0, sizeof r);
    r.time_unix_nano = t, r.observed_unix_nano = t + 1000;
    r.facility = 1, r.severity = 6;
    r.host = S("h1"), r.app = S("sshd");
    r.msg.p = msg, r.msg.n = strlen(msg);
    if (ctx) r.ctx.p = ctx, r.ctx.n = strlen(ctx);
    return r;
}

static char *body_of(ctx_fmt_buf_t *b) {
    assert_int_equal(ctx_fmt_buf_append(b, "", 1), 0);
    return (char *)b->buf;
}

/* ---------------------------------------------------------------- elasticsearch */

static void es_body_exact(void **state) {
    (void)state;
    ctx_fmt_rec_t r[2] = {rec(T0, "hello \"x\"\n", CTX_A), rec(0, "two", NULL)};
    r[1].sd = S("[a b=\"c\"]"), r[1].facility = -1, r[1].severity = -1, r[1].host.n = 0, r[1].app.n = 0;
    ctx_fmt_buf_t b = {0};
    assert_int_equal(ctx_fmt_es_encode(r, 2, &b), 0);
    const char *want =
        "{\"create\":{}}\n"
        "{\"@timestamp\":\"2025-12-02T07:00:51.123456789Z\",\"event\":{\"created\":\"2025-12-02T07:00:51.123457789Z\"},"
        "\"host\":{\"name\":\"h1\"},\"log\":{\"syslog\":{\"facility\":{\"code\":1,\"name\":\"user\"},\"severity\":{\"code\":6,"
        "\"name\":\"info\"},\"appname\":\"sshd\"}},\"message\":\"hello \\\"x\\\"\\n\",\"ctx\":"
        "{\"vm\":{\"name\":\"web-a\",\"tenant\":\"acme\",\"uuid\":\"u-1\"},\"host\":{\"vm_cpu_pct\":1.5}}}\n"
        "{\"create\":{}}\n"
        "{\"@timestamp\":\"1970-01-01T00:00:00.000001000Z\",\"event\":{\"created\":\"1970-01-01T00:00:00.000001000Z\"},"
        "\"log\":{\"syslog\":{}},\"sd\":\"[a b=\\\"c\\\"]\",\"message\":\"two\"}\n";
    assert_string_equal(body_of(&b), want);
    free(b.buf);
    assert_int_equal(ctx_fmt_es_encode(r, 0, &b), CTX_EINVAL);
}

static void es_reply_good_and_partial(void **state) {
    (void)state;
    ctx_fmt_item_t it[3];
    char err[160];
    const char *ok = "{\"took\":3,\"errors\":false,\"items\":[{\"create\":{\"status\":201}},{\"create\":{\"status\":201}},"
                     "{\"create\":{\"status\":200}}]}";
    assert_int_equal(ctx_fmt_es_reply(ok, strlen(ok), 3, it, err, sizeof err), 0);
    const char *noitems = "{\"took\":3,\"errors\":false}";
    assert_int_equal(ctx_fmt_es_reply(noitems, strlen(noitems), 3, it, err, sizeof err), 0);
    const char *part = "{\"errors\":true,\"items\":[{\"create\":{\"status\":429,\"error\":{\"type\":\"es_rejected_execution_"
                       "exception\",\"reason\":\"busy\"}}},{\"create\":{\"status\":201}},{\"index\":{\"status\":400,"
                       "\"error\":{\"type\":\"mapper_parsing_exception\",\"reason\":\"bad\\nfield\"}}}]}";
    assert_int_equal(ctx_fmt_es_reply(part, strlen(part), 3, it, err, sizeof err), 2);
    assert_int_equal(it[0].status, 429);
    assert_string_equal(it[0].reason, "es_rejected_execution_exception: busy");
    assert_int_equal(it[1].status, 201);
    assert_string_equal(it[1].reason, "");
    assert_int_equal(it[2].status, 400);
    assert_string_equal(it[2].reason, "mapper_parsing_exception: bad field"); /* no control characters */
}

static void es_reply_hostile(void **state) {
    (void)state;
    ctx_fmt_item_t it[2];
    char err[160];
    const char *good = "{\"errors\":true,\"items\":[{\"create\":{\"status\":201}},{\"create\":{\"status\":500,"
                       "\"error\":\"old style\"}}]}";
    assert_int_equal(ctx_fmt_es_reply(good, strlen(good), 2, it, err, sizeof err), 1);
    assert_string_equal(it[1].reason, "old style");
    for (size_t n = 0; n < strlen(good); n++) { /* every truncation: refused, never read past n */
        char *cut = malloc(n ? n : 1);
        memcpy(cut, good, n);
        assert_int_equal(ctx_fmt_es_reply(cut, n, 2, it, err, sizeof err), CTX_EPARSE);
        free(cut);
    }
    static const char *const bad[] = {
        "[]", "\"x\"", "{\"items\":{}}", "{\"items\":[{\"create\":{\"status\":201}}]}", /* 1 item for 2 */
        "{\"items\":[{\"create\":{\"status\":201}},{\"create\":{\"status\":201}},{\"create\":{\"status\":201}}]}",
        "{\"items\":[{\"create\":{}},{\"create\":{\"status\":201}}]}",           /* no status */
        "{\"items\":[{\"create\":{\"status\":\"201\"}},{\"create\":{\"status\":201}}]}", /* a string */
        "{\"items\":[{\"create\":{\"status\":99999}},{\"create\":{\"status\":201}}]}",
        "{\"items\":[1,2]}", "{\"items\":[{},{}]}", "{\"items\":[{\"a\":{\"status\":201},\"b\":{}},{\"c\":{\"status\":201}}]}",
        "{\"errors\":true}", "{\"errors\":false,\"items\":null}", "not json", "{\"items\":[]} trailing"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int rc = ctx_fmt_es_reply(bad[i], strlen(bad[i]), 2, it, err, sizeof err);
        if (rc != CTX_EPARSE) print_message("accepted: %s\n", bad[i]);
        assert_int_equal(rc, CTX_EPARSE);
        ASSERT_GT(strlen(err), 0);
    }
    /* huge: 200,000 items for a request of 2, and deep nesting */
    size_t n = 200000, cap = n * 30 + 64, len = 0;
    char *big = malloc(cap);
    len += (size_t)snprintf(big, cap, "{\"items\":[");
    for (size_t i = 0; i < n; i++) len += (size_t)snprintf(big + len, cap - len, "%s{\"create\":{\"status\":201}}", i ? "," : "");
    len += (size_t)snprintf(big + len, cap - len, "]}");
    assert_int_equal(ctx_fmt_es_reply(big, len, 2, it, err, sizeof err), CTX_EPARSE);
    memset(big, '[', 100000);
    assert_int_equal(ctx_fmt_es_reply(big, 100000, 2, it, err, sizeof err), CTX_EPARSE);
    free(big);
    assert_int_equal(ctx_fmt_es_reply("", 0, 2, it, err, sizeof err), CTX_EPARSE);
}

static void es_select(void **state) {
    (void)state;
    const char *body = "{\"create\":{}}\n{\"message\":\"0\"}\n{\"create\":{}}\n{\"message\":\"1\"}\n"
                       "{\"create\":{}}\n{\"message\":\"2\"}\n";
    unsigned char keep[3] = {1, 0, 1};
    ctx_fmt_buf_t b = {0};
    assert_int_equal(ctx_fmt_es_select(body, strlen(body), 3, keep, &b), 2);
    assert_string_equal(body_of(&b),
                        "{\"create\":{}}\n{\"message\":\"0\"}\n{\"create\":{}}\n{\"message\":\"2\"}\n");
    b.len = 0;
    assert_int_equal(ctx_fmt_es_select(body, strlen(body), 2, keep, &b), CTX_EPARSE); /* 3 items, not 2 */
    assert_int_equal(ctx_fmt_es_select(body, strlen(body) - 1, 3, keep, &b), CTX_EPARSE); /* torn */
    assert_int_equal(ctx_fmt_es_select(body, strlen(body), 4, keep, &b), CTX_EPARSE);
    assert_int_equal(b.len, 0);
    free(b.buf);
}

/* a bulk reply with 429s and two kinds of 400: a new body of the 429 items, one dead-letter group per reason */
static void es_partial_result(void **state) {
    (void)state;
    ctx_fmt_rec_t r[5];
    const char *msgs[5] = {"m0", "m1", "m2", "m3", "m4"};
    for (int i = 0; i < 5; i++) r[i] = rec(T0 + (uint64_t)i, msgs[i], CTX_B);
    ctx_fmt_buf_t raw = {0};
    assert_int_equal(ctx_fmt_es_encode(r, 5, &raw), 0);
    ctx_batch_encoder_t *enc;
    assert_int_equal(ctx_batch_encoder_new(&enc), 0);
    const void *gz;
    size_t gzlen;
    assert_int_equal(ctx_batch_encode(enc, CTX_ENC_GZIP, 6, raw.buf, raw.len, &gz, &gzlen), 0);
    unsigned char *body = malloc(gzlen);
    memcpy(body, gz, gzlen);
    uint32_t tag = CTX_DEST_TAG(CTX_ENC_GZIP, CTX_BATCH_ELASTICSEARCH, 5);
    const char *reply = "{\"errors\":true,\"items\":["
                        "{\"create\":{\"status\":201}},"
                        "{\"create\":{\"status\":429,\"error\":{\"type\":\"es_rejected_execution_exception\",\"reason\":\"busy\"}}},"
                        "{\"create\":{\"status\":400,\"error\":{\"type\":\"mapper_parsing_exception\",\"reason\":\"a\"}}},"
                        "{\"create\":{\"status\":503,\"error\":{\"type\":\"unavailable\",\"reason\":\"x\"}}},"
                        "{\"create\":{\"status\":400,\"error\":{\"type\":\"mapper_parsing_exception\",\"reason\":\"b\"}}}]}";
    ctx_send_info_t info;
    memset(&info, 0, sizeof info);
    assert_int_equal(ctx_fmt_reply(CTX_FMT_ELASTICSEARCH, reply, strlen(reply), 0, body, gzlen, tag, enc, 6, &info),
                     CTX_SEND_PARTIAL);
    assert_string_equal(info.err, "elasticsearch bulk reply: 4 of 5 items failed");
    assert_non_null(info.retry_body);
    assert_int_equal(CTX_DEST_TAG_MSGS(info.retry_tag), 2);
    assert_int_equal(CTX_DEST_TAG_FMT(info.retry_tag), CTX_BATCH_ELASTICSEARCH);
    unsigned char *dec;
    size_t declen;
    assert_int_equal(ctx_batch_decode(CTX_ENC_GZIP, info.retry_body, info.retry_len, 1 << 20, &dec, &declen), 0);
    assert_non_null(strstr((char *)dec, "\"message\":\"m1\"") );
    assert_non_null(strstr((char *)dec, "\"message\":\"m3\""));
    assert_null(strstr((char *)dec, "\"message\":\"m0\""));
    free(dec);
    assert_int_equal(info.nrejects, 2);
    assert_string_equal(info.rejects[0].reason, "elasticsearch item status 400: mapper_parsing_exception: a");
    assert_string_equal(info.rejects[1].reason, "elasticsearch item status 400: mapper_parsing_exception: b");
    assert_int_equal(CTX_DEST_TAG_MSGS(info.rejects[0].tag), 1);
    assert_int_equal(ctx_batch_decode(CTX_ENC_GZIP, info.rejects[1].body, info.rejects[1].len, 1 << 20, &dec, &declen), 0);
    assert_non_null(strstr((char *)dec, "\"message\":\"m4\""));
    free(dec);
    ctx_send_info_clear(&info);
    /* every item fine: OK; a reply that cannot be read: the whole batch dead-lettered (REJECT) */
    const char *fine = "{\"errors\":false,\"items\":[{\"create\":{\"status\":201}},{\"create\":{\"status\":201}},"
                       "{\"create\":{\"status\":201}},{\"create\":{\"status\":201}},{\"create\":{\"status\":201}}]}";
    assert_int_equal(ctx_fmt_reply(CTX_FMT_ELASTICSEARCH, fine, strlen(fine), 0, body, gzlen, tag, enc, 6, &info),
                     CTX_SEND_OK);
    assert_int_equal(ctx_fmt_reply(CTX_FMT_ELASTICSEARCH, reply, 20, 0, body, gzlen, tag, enc, 6, &info),
                     CTX_SEND_REJECT);
    assert_non_null(strstr(info.err, "not understood"));
    assert_int_equal(ctx_fmt_reply(CTX_FMT_ELASTICSEARCH, fine, strlen(fine), 1, body, gzlen, tag, enc, 6, &info),
                     CTX_SEND_REJECT); /* truncated at the transport's limit */
    assert_null(info.retry_body);
    free(body);
    free(raw.buf);
    ctx_batch_encoder_free(enc);
}

/* OTLP's reply to a 2xx, as a delivery result: the status decides delivery; a body that is
 * not an ExportLogsServiceResponse is counted (reply_unread), never taken as a rejection nor
 * resent; partial_success dead-letters the batch with the count (clamped to the batch) */
static ctx_send_result_t otlp_result(ctx_fmt_t f, const char *reply, size_t len, int truncated, size_t n,
                                     ctx_send_info_t *info) {
    ctx_send_info_clear(info);
    memset(info, 0, sizeof *info);
    uint32_t tag = CTX_DEST_TAG(CTX_ENC_ZSTD, f == CTX_FMT_OTLP ? CTX_BATCH_OTLP : CTX_BATCH_OTLP_JSON, n);
    return ctx_fmt_reply(f, reply, len, truncated, "body", 4, tag, NULL, 0, info);
}

static void otlp_reply_results(void **state) {
    (void)state;
    ctx_send_info_t info;
    memset(&info, 0, sizeof info);
    /* full success: empty body, {} or an empty protobuf message */
    assert_int_equal(otlp_result(CTX_FMT_OTLP, "", 0, 0, 10, &info), CTX_SEND_OK);
    assert_int_equal(info.reply_unread, 0);
    assert_string_equal(info.err, "");
    assert_int_equal(otlp_result(CTX_FMT_OTLP_JSON, "{}\n", 3, 0, 10, &info), CTX_SEND_OK);
    assert_int_equal(info.reply_unread, 0);
    assert_string_equal(info.err, "");
    /* hostile bodies: delivered, counted, said why */
    static const char *const bad_json[] = {"<html>502 Bad Gateway</html>", "ok", "{\"partialSuccess\":[]}",
                                          "{\"partialSuccess\":{\"rejectedLogRecords\":-1}}",
                                          "{\"partialSuccess\":{\"rejectedLogRecords\":\"1e3\"}}",
                                          "{\"partialSuccess\":{\"errorMessage\":7}}", "{\"partialSuccess\":{", "[]"};
    for (size_t i = 0; i < sizeof bad_json / sizeof *bad_json; i++) {
        assert_int_equal(otlp_result(CTX_FMT_OTLP_JSON, bad_json[i], strlen(bad_json[i]), 0, 10, &info), CTX_SEND_OK);
        assert_int_equal(info.reply_unread, 1);
        assert_non_null(strstr(info.err, "not an OTLP/JSON ExportLogsServiceResponse"));
        assert_int_equal(info.nrejects, 0);
    }
    static const char bad_pb[][4] = {{'\xff', '\xff', '\xff', '\xff'}, {0x0a, 0x05, 0x08, 0x01}, {0x0a, 0x02, 0x08, '\x80'},
                                     {0x00, 0x00, 0x00, 0x00}, {0x0b, 0x00, 0x00, 0x00}};
    for (size_t i = 0; i < sizeof bad_pb / sizeof *bad_pb; i++) {
        assert_int_equal(otlp_result(CTX_FMT_OTLP, bad_pb[i], 4, 0, 10, &info), CTX_SEND_OK);
        assert_int_equal(info.reply_unread, 1);
        assert_non_null(strstr(info.err, "not a protobuf ExportLogsServiceResponse"));
    }
    assert_int_equal(otlp_result(CTX_FMT_OTLP, "", 0, 1, 10, &info), CTX_SEND_OK); /* cut at the limit */
    assert_int_equal(info.reply_unread, 1);
    assert_non_null(strstr(info.err, "larger than its limit"));
    /* a warning: rejected 0 with a message */
    const char *warn = "{\"partialSuccess\":{\"errorMessage\":\"attribute cut\"}}";
    assert_int_equal(otlp_result(CTX_FMT_OTLP_JSON, warn, strlen(warn), 0, 10, &info), CTX_SEND_OK);
    assert_int_equal(info.reply_unread, 0);
    assert_string_equal(info.err, "OTLP partial_success warning (0 records rejected): attribute cut");
    /* partial success, protobuf (rejected 2, message "x") and JSON (more than the batch: clamped) */
    static const char pb[] = {0x0a, 0x05, 0x08, 0x02, 0x12, 0x01, 'x'};
    assert_int_equal(otlp_result(CTX_FMT_OTLP, pb, sizeof pb, 0, 10, &info), CTX_SEND_PARTIAL);
    assert_int_equal(info.nrejects, 1);
    assert_null(info.rejects[0].body);
    assert_int_equal(CTX_DEST_TAG_MSGS(info.rejects[0].tag), 2);
    assert_string_equal(info.rejects[0].reason, "OTLP partial_success: 2 of 10 log records rejected: x");
    const char *many = "{\"partialSuccess\":{\"rejectedLogRecords\":\"99\"}}";
    assert_int_equal(otlp_result(CTX_FMT_OTLP_JSON, many, strlen(many), 0, 10, &info), CTX_SEND_PARTIAL);
    assert_int_equal(CTX_DEST_TAG_MSGS(info.rejects[0].tag), 10);
    /* formats whose 2xx replies say nothing (the status is the answer): OK whatever the body */
    static const ctx_fmt_t quiet[] = {CTX_FMT_NDJSON, CTX_FMT_JSON_ARRAY, CTX_FMT_LOKI, CTX_FMT_SPLUNK_HEC};
    for (size_t i = 0; i < sizeof quiet / sizeof *quiet; i++) {
        ctx_send_info_clear(&info);
        memset(&info, 0, sizeof info);
        assert_int_equal(ctx_fmt_reply(quiet[i], "\xff", 1, 1, "b", 1, CTX_DEST_TAG(0, 0, 1), NULL, 0, &info),
                         CTX_SEND_OK);
        assert_int_equal(info.reply_unread, 0);
    }
    ctx_send_info_clear(&info);
}

/* ---------------------------------------------------------------- loki */

static fjson_object *parse(const char *s) {
    fjson_object *o = fjson_tokener_parse(s);
    assert_non_null(o);
    return o;
}

static void loki_streams_sorted(void **state) {
    (void)state;
    ctx_fmt_opts_t o;
    memset(&o, 0, sizeof o);
    o.nlabels = 2;
    strcpy(o.label_key[0], "vm.name"), strcpy(o.label_name[0], "vm_name");
    strcpy(o.label_key[1], "severity"), strcpy(o.label_name[1], "severity");
    ctx_fmt_rec_t r[5] = {rec(T0 + 30, "a3", CTX_A), rec(T0 + 10, "b1", CTX_B), rec(T0 + 10, "a1", CTX_A),
                          rec(T0 + 20, "a2", CTX_A), rec(T0 + 5, "none", NULL)};
    ctx_fmt_buf_t b = {0};
    assert_int_equal(ctx_fmt_loki_encode(&o, r, 5, &b), 0);
    const char *want =
        "{\"streams\":["
        "{\"stream\":{\"vm_name\":\"web-a\",\"severity\":\"info\"},\"values\":["
        "[\"1764658851123456799\",\"a1\",{\"hostname\":\"h1\",\"app\":\"sshd\",\"facility\":\"user\",\"vm_tenant\":\"acme\","
        "\"vm_uuid\":\"u-1\",\"host_vm_cpu_pct\":\"1.5\",\"observed_time\":\"1764658851123457799\"}],"
        "[\"1764658851123456809\",\"a2\",{\"hostname\":\"h1\",\"app\":\"sshd\",\"facility\":\"user\",\"vm_tenant\":\"acme\","
        "\"vm_uuid\":\"u-1\",\"host_vm_cpu_pct\":\"1.5\",\"observed_time\":\"1764658851123457809\"}],"
        "[\"1764658851123456819\",\"a3\",{\"hostname\":\"h1\",\"app\":\"sshd\",\"facility\":\"user\",\"vm_tenant\":\"acme\","
        "\"vm_uuid\":\"u-1\",\"host_vm_cpu_pct\":\"1.5\",\"observed_time\":\"1764658851123457819\"}]]},"
        "{\"stream\":{\"vm_name\":\"db-b\",\"severity\":\"info\"},\"values\":["
        "[\"1764658851123456799\",\"b1\",{\"hostname\":\"h1\",\"app\":\"sshd\",\"facility\":\"user\",\"vm_tenant\":\"acme\","
        "\"observed_time\":\"1764658851123457799\"}]]},"
        "{\"stream\":{\"severity\":\"info\"},\"values\":["
        "[\"1764658851123456794\",\"none\",{\"hostname\":\"h1\",\"app\":\"sshd\",\"facility\":\"user\","
        "\"observed_time\":\"1764658851123457794\"}]]}]}";
    assert_string_equal(body_of(&b), want);
    fjson_object_put(parse((char *)b.buf)); /* valid JSON */
    /* no label present at all: Loki needs one */
    o.nlabels = 1;
    b.len = 0;
    assert_int_equal(ctx_fmt_loki_encode(&o, &r[4], 1, &b), 0);
    assert_non_null(strstr(body_of(&b), "{\"stream\":{\"service_name\":\"ctxlog\"}"));
    free(b.buf);
}

/* ---------------------------------------------------------------- splunk hec */

static void hec_events(void **state) {
    (void)state;
    ctx_fmt_opts_t o;
    memset(&o, 0, sizeof o);
    strcpy(o.source, "ctxlog"), strcpy(o.sourcetype, "ctxlog:syslog");
    ctx_fmt_rec_t r[2] = {rec(T0, "x", CTX_A), rec(T0, "y", NULL)};
    ctx_fmt_buf_t b = {0};
    assert_int_equal(ctx_fmt_hec_encode(&o, r, 2, &b), 0);
    const char *want =
        "{\"time\":1764658851.123456,\"host\":\"web-a\",\"source\":\"ctxlog\",\"sourcetype\":\"ctxlog:syslog\","
        "\"event\":{\"message\":\"x\",\"severity\":\"info\",\"facility\":\"user\",\"hostname\":\"h1\",\"app\":\"sshd\"},"
        "\"fields\":{\"vm_name\":\"web-a\",\"vm_tenant\":\"acme\",\"vm_uuid\":\"u-1\",\"host_vm_cpu_pct\":\"1.5\"}}\n"
        "{\"time\":1764658851.123456,\"host\":\"h1\",\"source\":\"ctxlog\",\"sourcetype\":\"ctxlog:syslog\","
        "\"event\":{\"message\":\"y\",\"severity\":\"info\",\"facility\":\"user\",\"hostname\":\"h1\",\"app\":\"sshd\"}}\n";
    assert_string_equal(body_of(&b), want);
    free(b.buf);
}

/* a context text cut at every length, or nested deeper than the flattening goes: the encoders
 * never read past it and their JSON stays valid */
static void hostile_context(void **state) {
    (void)state;
    ctx_fmt_opts_t o;
    memset(&o, 0, sizeof o);
    o.nlabels = 1;
    strcpy(o.label_key[0], "vm.name"), strcpy(o.label_name[0], "vm_name");
    size_t n = strlen(CTX_A);
    for (size_t cut = 0; cut <= n; cut++) {
        char *c = malloc(cut ? cut : 1); /* exactly cut bytes: ASan sees any over-read */
        memcpy(c, CTX_A, cut);
        ctx_fmt_rec_t r = rec(T0, "m", NULL);
        r.ctx.p = c, r.ctx.n = cut;
        ctx_fmt_buf_t b = {0};
        assert_int_equal(ctx_fmt_loki_encode(&o, &r, 1, &b), 0);
        fjson_object_put(parse(body_of(&b)));
        b.len = 0;
        assert_int_equal(ctx_fmt_hec_encode(&o, &r, 1, &b), 0);
        ASSERT_GT(b.len, 0);
        assert_int_equal(b.buf[b.len - 1], '\n');
        b.buf[b.len - 1] = '\0';
        fjson_object_put(parse((char *)b.buf));
        free(b.buf);
        free(c);
    }
    char deep[4096];
    size_t d = 0;
    for (int i = 0; i < 500; i++) d += (size_t)snprintf(deep + d, sizeof deep - d, "{\"k\":");
    d += (size_t)snprintf(deep + d, sizeof deep - d, "1");
    for (int i = 0; i < 500; i++) deep[d++] = '}';
    ctx_fmt_rec_t r = rec(T0, "m", NULL);
    r.ctx.p = deep, r.ctx.n = d;
    ctx_fmt_buf_t b = {0};
    assert_int_equal(ctx_fmt_loki_encode(&o, &r, 1, &b), 0);
    assert_null(strstr(body_of(&b), "k_k_k_k_k_k_k")); /* flattened 6 levels at most */
    free(b.buf);
}

static void hec_ack_replies(void **state) {
    (void)state;
    uint64_t id = 99;
    const char *r = "{\"text\":\"Success\",\"code\":0,\"ackId\":7}";
    assert_int_equal(ctx_fmt_hec_ack_id(r, strlen(r), &id), 1);
    assert_int_equal(id, 7);
    r = "{\"text\":\"Success\",\"code\":0}";
    assert_int_equal(ctx_fmt_hec_ack_id(r, strlen(r), &id), 0);
    static const char *const bad_id[] = {"", "[]", "{\"ackId\":\"7\"}", "{\"ackId\":-1}", "{\"ackId\":null}", "{\"ackId\":7",
                                         "nonsense"};
    for (size_t i = 0; i < sizeof bad_id / sizeof bad_id[0]; i++)
        assert_int_equal(ctx_fmt_hec_ack_id(bad_id[i], strlen(bad_id[i]), &id), CTX_EPARSE);
    r = "{\"acks\":{\"7\":true,\"8\":false}}";
    assert_int_equal(ctx_fmt_hec_ack_done(r, strlen(r), 7), 1);
    assert_int_equal(ctx_fmt_hec_ack_done(r, strlen(r), 8), 0);
    assert_int_equal(ctx_fmt_hec_ack_done(r, strlen(r), 9), CTX_EPARSE); /* not in the reply */
    for (size_t cut = 0; cut < strlen(r); cut++) {
        char *c = malloc(cut ? cut : 1);
        memcpy(c, r, cut);
        assert_int_equal(ctx_fmt_hec_ack_done(c, cut, 7), CTX_EPARSE);
        free(c);
    }
    static const char *const bad_ack[] = {"{\"acks\":[true]}", "{\"acks\":{\"7\":1}}", "{}", "{\"acks\":null}"};
    for (size_t i = 0; i < sizeof bad_ack / sizeof bad_ack[0]; i++)
        assert_int_equal(ctx_fmt_hec_ack_done(bad_ack[i], strlen(bad_ack[i]), 7), CTX_EPARSE);
}

/* ---------------------------------------------------------------- record batches */

static void record_batch_shares_context(void **state) {
    (void)state;
    ctx_batch_limits_t l = {100, 0, 1000};
    ctx_batch_t *b;
    assert_int_equal(ctx_batch_new(CTX_BATCH_ELASTICSEARCH, &l, &b), 0);
    assert_int_equal(ctx_batch_append(b, "x", 1), CTX_EINVAL); /* a record format takes records */
    char a2[sizeof CTX_A];
    memcpy(a2, CTX_A, sizeof CTX_A); /* equal text, other memory */
    ctx_fmt_rec_t r[3] = {rec(T0, "one", CTX_A), rec(T0, "two", a2), rec(T0, "three", CTX_B)};
    for (int i = 0; i < 3; i++) assert_int_equal(ctx_batch_append_rec(b, &r[i]), 0);
    size_t est = ctx_batch_size(b);
    assert_int_equal(est, 3 * 64 + 3 * 6 + 3 + 3 + 5 + strlen(CTX_A) + strlen(CTX_B)); /* CTX_A once */
    const char *body;
    size_t len;
    assert_int_equal(ctx_batch_seal(b, NULL, &body, &len), 0);
    ctx_fmt_buf_t direct = {0};
    assert_int_equal(ctx_fmt_es_encode(r, 3, &direct), 0);
    assert_int_equal(len, direct.len);
    assert_memory_equal(body, direct.buf, len);
    free(direct.buf);
    /* the byte limit: a record that would pass it is refused (the batch is full) */
    ctx_batch_free(b);
    ctx_batch_limits_t small = {0, 300, 1000};
    assert_int_equal(ctx_batch_new(CTX_BATCH_LOKI, &small, &b), 0);
    assert_int_equal(ctx_batch_append_rec(b, &r[0]), 0);
    assert_int_equal(ctx_batch_append_rec(b, &r[1]), 0); /* same context: only its record counts */
    assert_int_equal(ctx_batch_append_rec(b, &r[2]), CTX_EFULL);
    ctx_batch_reset(b);
    assert_int_equal(ctx_batch_count(b), 0);
    assert_int_equal(ctx_batch_size(b), 0);
    assert_int_equal(ctx_batch_seal(b, NULL, &body, &len), CTX_EINVAL);
    ctx_batch_free(b);
}

/* ---------------------------------------------------------------- shared pieces */

static void rfc3339(void **state) {
    (void)state;
    uint64_t ns;
    assert_int_equal(ctx_fmt_parse_rfc3339("2025-12-02T07:00:51.123456789Z", 30, &ns), 0);
    assert_int_equal(ns, T0);
    assert_int_equal(ctx_fmt_parse_rfc3339("2025-12-02T08:00:51.123456+01:00", 32, &ns), 0);
    assert_int_equal(ns, T0 - 789);
    assert_int_equal(ctx_fmt_parse_rfc3339("1970-01-01T00:00:00Z", 20, &ns), 0);
    assert_int_equal(ns, 0);
    static const char *const bad[] = {"", "2025-12-02", "2025-12-02T07:00:51", "2025-13-02T07:00:51Z",
                                      "2025-12-02T07:00:51.Z", "2025-12-02T07:00:51+0100", "Dec  2 07:00:51",
                                      "2025-12-02T07:00:51Zx", "1969-12-31T23:59:59Z"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(ctx_fmt_parse_rfc3339(bad[i], strlen(bad[i]), &ns), CTX_EPARSE);
        assert_int_equal(ns, 0);
    }
    ctx_fmt_buf_t b = {0};
    assert_int_equal(ctx_fmt_json_time(&b, T0), 0);
    assert_string_equal(body_of(&b), "\"2025-12-02T07:00:51.123456789Z\"");
    free(b.buf);
}

/* through the cache, every text parses as without it, whatever came before */
static void rfc3339_cached(void **state) {
    (void)state;
    static const char *const seq[] = {
        "2025-12-02T07:00:51.123456789Z", "2025-12-02T07:00:52.5Z", "2025-12-02T07:00:52Z",
        "2025-12-02T07:00:60.000001Z",    "2025-12-02T07:00:61Z",   "2025-12-02T07:00:5xZ",
        "2025-12-02T07:00:51.Z",          "2025-12-02T07:00:51Zx",  "2025-12-02T07:00:51+01:00",
        "2025-12-02T07:00:59.9-00:30",    "2025-12-02T07:00:59.9-00:3", "2025-12-02T07:00:59.9-00:30x",
        "2025-12-02T07:00:00.1234567891Z", "2025-12-02T07:01:00Z",  "2025-12-02t07:01:00z",
        "1970-01-01T00:00:30+00:01",      "1970-01-01T00:00:30+00:00", "1970-01-01T00:00:30+00:01",
        "2025-12-02T07:01",               "",                       "2025-12-02T07:01:00Z"};
    ctx_fmt_tscache_t c;
    memset(&c, 0, sizeof c);
    for (size_t i = 0; i < sizeof seq / sizeof seq[0]; i++) {
        uint64_t a = 1, b = 2;
        int ra = ctx_fmt_parse_rfc3339(seq[i], strlen(seq[i]), &a);
        int rb = ctx_fmt_parse_rfc3339_c(&c, seq[i], strlen(seq[i]), &b);
        if (ra != rb || a != b) fail_msg("%s: %d %llu without the cache, %d %llu with", seq[i], ra,
                                         (unsigned long long)a, rb, (unsigned long long)b);
    }
    uint64_t ns;
    assert_int_equal(ctx_fmt_parse_rfc3339_c(&c, "2025-12-02T07:00:52.5Z", 22, &ns), 0);
    assert_int_equal(ns, 1764658852500000000ull);
}

static void ctx_lookup(void **state) {
    (void)state;
    const char *v;
    size_t n;
    int is_str;
    assert_int_equal(ctx_fmt_ctx_get(CTX_A, strlen(CTX_A), "vm.name", &v, &n, &is_str), 1);
    assert_true(is_str && n == 5 && !memcmp(v, "web-a", 5));
    assert_int_equal(ctx_fmt_ctx_get(CTX_A, strlen(CTX_A), "host.vm_cpu_pct", &v, &n, &is_str), 1);
    assert_true(!is_str && n == 3 && !memcmp(v, "1.5", 3));
    assert_int_equal(ctx_fmt_ctx_get(CTX_A, strlen(CTX_A), "vm", &v, &n, &is_str), 0); /* an object */
    assert_int_equal(ctx_fmt_ctx_get(CTX_A, strlen(CTX_A), "vm.nope", &v, &n, &is_str), 0);
    for (size_t cut = 0; cut < strlen(CTX_A); cut++) /* truncated text: found or not, never past the end */
        if (ctx_fmt_ctx_get(CTX_A, cut, "vm.uuid", &v, &n, &is_str)) assert_true(v + n <= CTX_A + cut);
    assert_int_equal(ctx_fmt_ctx_get("\"str\"", 5, "vm.name", &v, &n, &is_str), 0);
    ctx_fmt_buf_t b = {0};
    assert_int_equal(ctx_fmt_ctx_flat(&b, "{\"a\":{\"b\":\"c\",\"n\":null,\"l\":[1]},\"d\":true}", 40, NULL), 0);
    assert_string_equal(body_of(&b), ",\"a_b\":\"c\",\"d\":\"true\"");
    free(b.buf);
    assert_string_equal(ctx_fmt_name(CTX_FMT_SPLUNK_HEC), "splunk-hec");
    assert_string_equal(ctx_fmt_content_type(CTX_FMT_ELASTICSEARCH), "application/x-ndjson");
    assert_string_equal(ctx_fmt_content_type(CTX_FMT_LOKI), "application/json");
}

CTX_TEST_MAIN(NULL, NULL,
    cmocka_unit_test(es_body_exact),       cmocka_unit_test(es_reply_good_and_partial),
    cmocka_unit_test(es_reply_hostile),    cmocka_unit_test(es_select),
    cmocka_unit_test(es_partial_result),   cmocka_unit_test(loki_streams_sorted),
    cmocka_unit_test(hec_events),          cmocka_unit_test(record_batch_shares_context),
    cmocka_unit_test(hostile_context),    cmocka_unit_test(hec_ack_replies),
    cmocka_unit_test(rfc3339), cmocka_unit_test(rfc3339_cached),             cmocka_unit_test(ctx_lookup),
    cmocka_unit_test(otlp_reply_results))
