/* test_outrec.c: omtenant's outgoing record: the default JSON object and RFC 5424
 * frame built from raw fields, exact bytes; redaction of the message text, the
 * structured data, the header fields (host, app-name, procid, msgid), a cut message's tail,
 * and every value of $!ctx (also non-string values of secret keys
 * and escaped URLs that a scan of the serialised text would miss); an operator's
 * template output redacted as JSON or as text; JSON escaping and invalid UTF-8.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "check.h"
#include <stdlib.h>
#include <string.h>

#include <dirent.h>
#include <json.h>
#include <stdio.h>

#include "ctxlog_common.h"
#include "corpusdir.h"
#include "fmt.h"
#include "outrec.h"
#include "outrec_int.h"
#include "redact.h"

#include "outrec_fx.h"

#define HDR(pri, ts, host, app, pid, mid) pri "\x1f" ts "\x1f" host "\x1f" app "\x1f" pid "\x1f" mid

static ctx_outrec_fields_t fields(const char *hdr, const char *msg, const char *sd, const char *ctx) {
    ctx_outrec_fields_t f = {hdr, strlen(hdr), msg, strlen(msg), sd, strlen(sd), ctx, strlen(ctx)};
    return f;
}

static void default_json_object_exact(void **state) {
    fx_t *fx = *state;
    const char *out;
    size_t n;
    ctx_outrec_fields_t f = fields(HDR("11", "2026-11-27T06:13:44.123456+00:00", "web-1", "nginx", "42", "ID7"),
                                   "GET /index.html \"ok\"", "[m@1 a=\"b\"]",
                                   "{ \"vm\": { \"name\": \"web-1\", \"tenant\": \"acme\" } }");
    assert_int_equal(ctx_outrec_build(fx->b, CTX_OUTREC_JSON, fx->rx, fx->set, &f, &out, &n), 0);
    const char *want = "{\"time\":\"2026-11-27T06:13:44.123456+00:00\",\"host\":\"web-1\",\"facility\":\"user\","
                       "\"severity\":\"err\",\"app\":\"nginx\",\"procid\":\"42\",\"msgid\":\"ID7\",\"sd\":\"[m@1 a=\\\"b\\\"]\","
                       "\"msg\":\"GET /index.html \\\"ok\\\"\",\"ctx\":{ \"vm\": { \"name\": \"web-1\", \"tenant\": \"acme\" } }}";
    assert_string_equal(out, want);
    assert_int_equal(n, strlen(want));
}

static void nil_fields_are_left_out(void **state) {
    fx_t *fx = *state;
    const char *out;
    size_t n;
    ctx_outrec_fields_t f = fields(HDR("134", "2026-01-01T00:00:00Z", "h", "-", "-", "-"), "hello", "-", "");
    assert_int_equal(ctx_outrec_build(fx->b, CTX_OUTREC_JSON, fx->rx, fx->set, &f, &out, &n), 0);
    assert_string_equal(out, "{\"time\":\"2026-01-01T00:00:00Z\",\"host\":\"h\",\"facility\":\"local0\",\"severity\":\"info\","
                             "\"msg\":\"hello\"}");
    /* a $!ctx that is not an object is carried as a string; a broken header gives user.notice */
    f = fields("x", "m", "", "not json");
    assert_int_equal(ctx_outrec_build(fx->b, CTX_OUTREC_JSON, fx->rx, fx->set, &f, &out, &n), 0);
    assert_string_equal(out, "{\"time\":\"\",\"host\":\"\",\"facility\":\"user\",\"severity\":\"notice\",\"msg\":\"m\","
                             "\"ctx\":\"not json\"}");
}

static void redacts_text_sd_and_every_ctx_value(void **state) {
    fx_t *fx = *state;
    const char *out;
    size_t n;
    ctx_outrec_fields_t f = fields(HDR("14", "T", "h", "app", "-", "-"), "login user=bob password=hunter2 ok",
                                   "[x@1 password=\"abc\" user=\"bob\"]",
                                   "{\"vm\":{\"name\":\"web-1\"},\"cm\":{\"password\":12345,\"url\":\"https:\\/\\/u:pw@h\\/x\"}}");
    int rc = ctx_outrec_build(fx->b, CTX_OUTREC_JSON, fx->rx, fx->set, &f, &out, &n);
    assert_int_equal(rc, 4); /* sd, msg, and two $!ctx values */
    assert_non_null(strstr(out, "\"sd\":\"[x@1 password=\\\"[REDACTED:kv-secret\\\\]\\\" user=\\\"bob\\\"]\""));
    assert_non_null(strstr(out, "\"msg\":\"login user=bob password=[REDACTED:kv-secret] ok\""));
    assert_non_null(strstr(out, "\"cm\":{\"password\":\"[REDACTED:kv-secret]\""));
    assert_non_null(strstr(out, "u:[REDACTED:url-userinfo]@h"));
    assert_null(strstr(out, "hunter2"));
    assert_null(strstr(out, "12345"));
    assert_null(strstr(out, "pw@"));
    /* the redacted $!ctx is still an object of the record */
    assert_non_null(strstr(out, ",\"ctx\":{\"vm\":{\"name\":\"web-1\"}"));
}

/* host, app-name, procid and msgid leave the host: redacted in the object and in the RFC 5424 header,
 * counted per rule */
static void header_fields_redacted(void **state) {
    fx_t *fx = *state;
    const char *out;
    size_t n;
    uint64_t sums[32] = {0};
    ctx_redact_ctx_take_counters(fx->rx, NULL);
    ctx_outrec_fields_t f = fields(HDR("13", "T", "token=abc1", "password=hunter2", "pwd=p1d", "secret:m5g"), "hello",
                                   "-", "");
    assert_int_equal(ctx_outrec_build(fx->b, CTX_OUTREC_JSON, fx->rx, fx->set, &f, &out, &n), 4);
    assert_string_equal(out, "{\"time\":\"T\",\"host\":\"token=[REDACTED:kv-secret]\",\"facility\":\"user\","
                             "\"severity\":\"notice\",\"app\":\"password=[REDACTED:kv-secret]\","
                             "\"procid\":\"pwd=[REDACTED:kv-secret]\",\"msgid\":\"secret:[REDACTED:kv-secret]\","
                             "\"msg\":\"hello\"}");
    ctx_redact_ctx_take_counters(fx->rx, sums);
    assert_int_equal(sums[0], 4); /* kv-secret, once per field */
    /* the syslog frame: header tokens and the object, redacted once each field (counted once) */
    assert_int_equal(ctx_outrec_build(fx->b, CTX_OUTREC_SYSLOG, fx->rx, fx->set, &f, &out, &n), 4);
    assert_string_equal(out, "<13>1 T token=[REDACTED:kv-secret] password=[REDACTED:kv-secret] pwd=[REDACTED:kv-secret] "
                             "secret:[REDACTED:kv-secret] - {\"time\":\"T\",\"host\":\"token=[REDACTED:kv-secret]\","
                             "\"facility\":\"user\",\"severity\":\"notice\",\"app\":\"password=[REDACTED:kv-secret]\","
                             "\"procid\":\"pwd=[REDACTED:kv-secret]\",\"msgid\":\"secret:[REDACTED:kv-secret]\","
                             "\"msg\":\"hello\"}");
    memset(sums, 0, sizeof sums);
    ctx_redact_ctx_take_counters(fx->rx, sums);
    assert_int_equal(sums[0], 4);
    assert_null(strstr(out, "hunter2"));
    /* ordinary header fields are copied as they were */
    f = fields(HDR("13", "T", "web-1", "sshd", "42", "ID7"), "hello", "-", "");
    assert_int_equal(ctx_outrec_build(fx->b, CTX_OUTREC_SYSLOG, fx->rx, fx->set, &f, &out, &n), 0);
    assert_memory_equal(out, "<13>1 T web-1 sshd 42 ID7 - {", 29);
}

/* a message $!ctx marks as cut: its text's tail is checked for a secret's start */
static void cut_message_tail(void **state) {
    fx_t *fx = *state;
    const char *out;
    size_t n;
    ctx_outrec_fields_t f = fields(HDR("13", "T", "h", "app", "-", "-"), "using key AKIAIOSFODN", "-",
                                   "{\"capture\":{\"truncated\" : true}}");
    assert_int_equal(ctx_outrec_build(fx->b, CTX_OUTREC_JSON, fx->rx, fx->set, &f, &out, &n), 1);
    assert_non_null(strstr(out, "\"msg\":\"using key [REDACTED:aws-access-key]\""));
    f = fields(HDR("13", "T", "h", "app", "-", "-"), "using key AKIAIOSFODN", "-", "{\"capture\":{\"truncated\":false}}");
    assert_int_equal(ctx_outrec_build(fx->b, CTX_OUTREC_JSON, fx->rx, fx->set, &f, &out, &n), 0);
    assert_non_null(strstr(out, "\"msg\":\"using key AKIAIOSFODN\""));
}

static void syslog_frame_exact(void **state) {
    fx_t *fx = *state;
    const char *out;
    size_t n;
    ctx_outrec_fields_t f = fields(HDR("165", "2026-11-27T06:13:44Z", "my host", "app", "-", "ID47"),
                                   "token=abc", "[x@1 password=\"abc\"]", "");
    assert_int_equal(ctx_outrec_build(fx->b, CTX_OUTREC_SYSLOG, fx->rx, fx->set, &f, &out, &n), 2);
    assert_string_equal(out, "<165>1 2026-11-27T06:13:44Z my_host app - ID47 [x@1 password=\"[REDACTED:kv-secret\\]\"] "
                             "{\"time\":\"2026-11-27T06:13:44Z\",\"host\":\"my host\",\"facility\":\"local4\","
                             "\"severity\":\"notice\",\"app\":\"app\",\"msgid\":\"ID47\",\"msg\":\"token=[REDACTED:kv-secret]\"}");
    f = fields(HDR("13", "-", "", "", "", ""), "x", "-", "");
    assert_int_equal(ctx_outrec_build(fx->b, CTX_OUTREC_SYSLOG, fx->rx, fx->set, &f, &out, &n), 0);
    assert_memory_equal(out, "<13>1 - - - - - - {", 19);
}

static void custom_template_output(void **state) {
    fx_t *fx = *state;
    const char *out;
    size_t n;
    const char *json = "{\"m\":\"a\\/b password=x\",\"pin\":{\"password\":true}}\n";
    assert_int_equal(ctx_outrec_custom(fx->b, fx->rx, fx->set, json, strlen(json), &out, &n), 2);
    assert_string_equal(out, "{\"m\":\"a\\/b password=[REDACTED:kv-secret]\",\"pin\":{\"password\":\"[REDACTED:kv-secret]\"}}");
    const char *clean = " {\"m\": \"a\\/b\"} \n";
    assert_int_equal(ctx_outrec_custom(fx->b, fx->rx, fx->set, clean, strlen(clean), &out, &n), 0);
    assert_string_equal(out, " {\"m\": \"a\\/b\"} "); /* unchanged: verbatim, one newline dropped */
    const char *text = "<13>1 - h a - - - Authorization: Bearer abc.def.ghi\n";
    assert_int_equal(ctx_outrec_custom(fx->b, fx->rx, fx->set, text, strlen(text), &out, &n), 1);
    assert_null(strstr(out, "abc.def.ghi"));
    assert_int_equal(out[n - 1] != '\n', 1);
    /* no redaction at all (rx NULL): verbatim */
    assert_int_equal(ctx_outrec_custom(fx->b, NULL, NULL, "a=b", 3, &out, &n), 0);
    assert_string_equal(out, "a=b");
    assert_int_equal(ctx_outrec_custom(fx->b, NULL, NULL, "", 0, &out, &n), 0);
    assert_string_equal(out, "");
}

static void escaping_and_invalid_utf8(void **state) {
    (void)state;
    char *b = NULL;
    size_t used = 0, cap = 0;
    const char in[] = "q\"b\\s/\n\r\t\x01\x7f\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80 bad:\xff\xc3 end\xed\xa0\x80.";
    assert_int_equal(ctx_json_escape_append(&b, &used, &cap, in, sizeof in - 1), 0);
    const char want[] = "q\\\"b\\\\s/\\n\\r\\t\\u0001\x7f\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80 bad:\xef\xbf\xbd\xef\xbf\xbd"
                        " end\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd.";
    assert_int_equal(used, sizeof want - 1);
    assert_memory_equal(b, want, used);
    /* every byte alone: as it is, a short escape, \u00XX, or U+FFFD (a lone byte >= 0x80) */
    for (int c = 0; c < 256; c++) {
        char one = (char)c, exp[8];
        used = 0;
        assert_int_equal(ctx_json_escape_append(&b, &used, &cap, &one, 1), 0);
        if (c == '"' || c == '\\') snprintf(exp, sizeof exp, "\\%c", c);
        else if (c == '\n' || c == '\r' || c == '\t') snprintf(exp, sizeof exp, "\\%c", c == '\n' ? 'n' : c == '\r' ? 'r' : 't');
        else if (c < 0x20) snprintf(exp, sizeof exp, "\\u%04x", c);
        else if (c < 0x80) snprintf(exp, sizeof exp, "%c", c);
        else snprintf(exp, sizeof exp, "\xef\xbf\xbd");
        assert_int_equal(used, strlen(exp));
        assert_memory_equal(b, exp, used);
        /* the same byte at every position of plain words (the 8-byte fast path): only it
         * changes, the 'a's around it are copied as they are */
        for (size_t pos = 0; pos < 16; pos++) {
            char in24[24], want24[40];
            memset(in24, 'a', sizeof in24);
            in24[pos] = one;
            int wn = snprintf(want24, sizeof want24, "%.*s%s%.*s", (int)pos, in24, exp, (int)(23 - pos), in24 + pos + 1);
            used = 0;
            assert_int_equal(ctx_json_escape_append(&b, &used, &cap, in24, sizeof in24), 0);
            assert_int_equal(used, (size_t)wn);
            assert_memory_equal(b, want24, used);
        }
    }
    free(b);
    assert_string_equal(ctx_facility_name(23), "local7");
    assert_string_equal(ctx_facility_name(24), "?");
    assert_string_equal(ctx_severity_name(7), "debug");
    assert_string_equal(ctx_severity_name(-1), "?");
}

/* the tree path's verdict on doc: values redaction would change (or -1: not JSON / error) */
static int tree_changes(fx_t *fx, const char *doc) {
    struct fjson_object *o = fjson_tokener_parse(doc);
    if (o == NULL) return -1;
    int rc = ctx_redact_json(fx->rx, fx->set, o);
    fjson_object_put(o);
    return rc;
}

/* the fast path may call a document clean only when the tree path would change nothing */
static void fast_path_agrees_with_tree(void **state) {
    fx_t *fx = *state;
    char *scratch = NULL;
    size_t cap = 0;
    static const char *const dirty[] = {
        "{\"password\": 12345}", "{\"a\": {\"db_password\": true}}", "{\"token\": \"abc\"}",
        "{\"x\": [\"user:pw@h\", \"https://u:pw@host/x\"]}", "{\"card\": 4111111111111111}",
        "{\"n\": \"4111 1111 1111 1111\"}", "{\"pwd\": 1.5}", "{\"a\": \"x\\/y\"}", "{\"a\": 1} x",
        "{\"Authorization\": \"Bearer abcdefghijklmnop\"}", "{\"a\": tru}", "{\"a\": 01}",
    };
    for (size_t i = 0; i < sizeof dirty / sizeof *dirty; i++)
        if (outrec_json_clean(fx->rx, fx->set, dirty[i], strlen(dirty[i]), &scratch, &cap))
            fail_msg("called clean: %s", dirty[i]);
    static const char *const clean[] = {
        "{ \"vm\": { \"name\": \"web-1\", \"tenant\": \"acme\" }, \"host\": { \"cpu\": 12.5, \"n\": 3 } }",
        "[]", "{}", "{\"a\": [1, 2, {\"b\": null}], \"PWD\": null, \"ok\": false}",
    };
    for (size_t i = 0; i < sizeof clean / sizeof *clean; i++) {
        assert_int_equal(tree_changes(fx, clean[i]), 0);
        if (!outrec_json_clean(fx->rx, fx->set, clean[i], strlen(clean[i]), &scratch, &cap))
            fail_msg("called dirty: %s", clean[i]);
    }
    /* random documents from a vocabulary of keys and values, secret and not */
    static const char *const keys[] = {"name", "password", "db_password", "pwd", "PWD", "token", "x", "user",
                                       "api_key", "note", "tokenizer", "password_hint"};
    static const char *const vals[] = {"\"web-1\"", "\"hunter2\"", "\"4111111111111111\"",
                                       "\"https://u:p@h/x\"", "12345", "4111111111111111", "true", "null",
                                       "1.5", "\"AKIAIOSFODNN7EXAMPLE\"", "\"10.1.2.3\"", "\"\"", "-7", "0"};
    unsigned seed = 12345;
    int agreed_clean = 0;
    for (int round = 0; round < 3000; round++) {
        char doc[2048];
        size_t n = 0;
        int members = 1 + (int)((seed = seed * 1103515245u + 12345u) >> 16) % 4;
        n += (size_t)snprintf(doc + n, sizeof doc - n, "{");
        for (int m = 0; m < members; m++) {
            unsigned r = (seed = seed * 1103515245u + 12345u) >> 8;
            const char *k = keys[r % 12], *v = vals[(r / 12) % 14];
            if ((r / 200) % 5 == 0)
                n += (size_t)snprintf(doc + n, sizeof doc - n, "%s\"%s\": {\"in\": %s, \"arr\": [%s]}", m ? ", " : "", k, v, v);
            else
                n += (size_t)snprintf(doc + n, sizeof doc - n, "%s\"%s\": %s", m ? ", " : "", k, v);
        }
        snprintf(doc + n, sizeof doc - n, "}");
        int fast = outrec_json_clean(fx->rx, fx->set, doc, strlen(doc), &scratch, &cap);
        int tree = tree_changes(fx, doc);
        if (fast && tree != 0) fail_msg("fast path calls clean what the tree path changes (%d): %s", tree, doc);
        agreed_clean += fast;
    }
    ASSERT_GT(agreed_clean, 100); /* the fast path does take documents */
    free(scratch);
    uint64_t sink[64];
    ctx_redact_ctx_take_counters(fx->rx, sink);
}

struct replay {
    fx_t *fx;
    int files;
};

/* one corpus file: fields separated by 0x00, as fuzz_outrec.c reads them */
static void build_file(const char *path, void *arg) {
    struct replay *r = arg;
    char buf[65536];
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    size_t size = fread(buf, 1, sizeof buf, f), pos = 0;
    fclose(f);
    const char *part[4];
    size_t len[4];
    for (int i = 0; i < 4; i++) {
        const char *z = pos < size ? memchr(buf + pos, 0, size - pos) : NULL;
        size_t end = z ? (size_t)(z - buf) : size;
        part[i] = buf + (pos < size ? pos : size), len[i] = end - (pos < size ? pos : size);
        pos = z ? end + 1 : size;
    }
    ctx_outrec_fields_t fl = {part[0], len[0], part[1], len[1], part[2], len[2], part[3], len[3]};
    const char *out;
    size_t n;
    ASSERT_GE(ctx_outrec_build(r->fx->b, CTX_OUTREC_JSON, r->fx->rx, r->fx->set, &fl, &out, &n), 0);
    assert_true(ctx_redact_utf8_valid(out, n));
    struct fjson_object *o = fjson_tokener_parse(out);
    if (o == NULL || !fjson_object_is_type(o, fjson_type_object)) fail_msg("%s: not a JSON object: %s", path, out);
    fjson_object_put(o);
    r->files++;
}

/* the fuzz corpus (tests/fuzz/corpus/outrec): every record parses as one JSON object and
 * is valid UTF-8 */
static void replays_fuzz_corpus(void **state) {
    struct replay r = {*state, 0};
    corpus_each("outrec", build_file, &r);
    ASSERT_GE(r.files, 2);
}


/* a secret inside $!ctx counts once per record: the fast scan that finds it dirty counts
 * nothing, the tree path that redacts it counts it (it counted twice before) */
static void ctx_secret_counted_once(void **state) {
    fx_t *fx = *state;
    const char *out;
    size_t n;
    int kv = ctx_redact_rules_find(fx->rules, "kv-secret");
    uint64_t sums[64] = {0};
    assert_true(kv >= 0 && ctx_redact_rules_count(fx->rules) < 64);
    ctx_redact_ctx_take_counters(fx->rx, NULL);
    for (int i = 0; i < 3; i++) {
        ctx_outrec_fields_t f = fields(HDR("13", "2026-11-27T10:00:00Z", "h", "a", "-", "-"), "plain text", "-",
                                       "{ \"cm\": { \"compute_host\": \"c1 password=hunter2\", \"vcpus\": 2 } }");
        assert_int_equal(ctx_outrec_build(fx->b, CTX_OUTREC_JSON, fx->rx, fx->set, &f, &out, &n), 1);
        assert_null(strstr(out, "hunter2"));
    }
    assert_int_equal(ctx_redact_ctx_take_counters(fx->rx, sums), 0);
    assert_int_equal(sums[kv], 3);
}


/* ---------------------------------------------------------------- the $!ctx memo */

typedef struct {
    ctx_outrec_t *m;   /* memo on */
    ctx_redact_ctx *rx; /* its own counters */
    int nrules;
} memo_fx_t;

static void memo_open(fx_t *fx, memo_fx_t *mf, unsigned slots) {
    mf->nrules = ctx_redact_rules_count(fx->rules);
    assert_int_equal(ctx_outrec_new(&mf->m), 0);
    assert_non_null(mf->rx = ctx_redact_ctx_new(fx->rules));
    assert_int_equal(ctx_outrec_memo_set(mf->m, slots, mf->nrules), 0);
    ctx_redact_ctx_take_counters(fx->rx, NULL);
}

static void memo_close(memo_fx_t *mf) {
    ctx_outrec_free(mf->m);
    ctx_redact_ctx_free(mf->rx);
}

/* one record through both builders: same bytes, same return, same per-rule counts */
static void memo_same(fx_t *fx, memo_fx_t *mf, const char *ctx) {
    ctx_outrec_fields_t f = fields(HDR("13", "2026-11-27T10:00:00Z", "h", "a", "-", "-"), "text", "-", ctx);
    const char *o1, *o2;
    size_t n1, n2;
    uint64_t c1[65] = {0}, c2[65] = {0};
    int r1 = ctx_outrec_build(fx->b, CTX_OUTREC_JSON, fx->rx, fx->set, &f, &o1, &n1);
    int r2 = ctx_outrec_build(mf->m, CTX_OUTREC_JSON, mf->rx, fx->set, &f, &o2, &n2);
    ASSERT_LT(mf->nrules, 64);
    assert_int_equal(ctx_redact_ctx_take_counters(fx->rx, c1), ctx_redact_ctx_take_counters(mf->rx, c2));
    if (r1 != r2 || n1 != n2 || memcmp(o1, o2, n1) != 0)
        fail_msg("memo differs (%d/%d) on %s:\n%.*s\n%.*s", r1, r2, ctx, (int)n1, o1, (int)n2, o2);
    for (int i = 0; i < mf->nrules; i++)
        if (c1[i] != c2[i]) fail_msg("rule %d counted %llu/%llu on %s", i, (unsigned long long)c1[i],
                                     (unsigned long long)c2[i], ctx);
}

static const char *const mkeys[] = {"name", "password", "db_password", "pwd", "token", "x", "user", "note", "url"};
static const char *const mvals[] = {"\"web-1\"", "\"hunter2\"", "\"4111111111111111\"", "\"https://u:p@h/x\"",
                                    "12345", "4111111111111111", "true", "null", "1.5", "\"AKIAIOSFODNN7EXAMPLE\"",
                                    "\"10.1.2.3\"", "\"\"", "-7", "\"\\/usr\\/bin\"", "\"caf\xc3\xa9\"",
                                    "\"bad\xff\"", "[1, \"password=x\"]", "{ }"};

/* a random group { "k": v, ... } (libfastjson's spaced printing, as rsyslog renders $!ctx) */
static size_t rand_group(char *doc, size_t cap, unsigned *seed) {
    size_t n = (size_t)snprintf(doc, cap, "{ ");
    int members = 1 + (int)((*seed = *seed * 1103515245u + 12345u) >> 16) % 4;
    for (int m = 0; m < members; m++) {
        unsigned r = (*seed = *seed * 1103515245u + 12345u) >> 8;
        n += (size_t)snprintf(doc + n, cap - n, "%s\"%s%d\": %s", m ? ", " : "", mkeys[r % 9], m,
                              mvals[(r / 9) % 18]);
    }
    return n + (size_t)snprintf(doc + n, cap - n, " }");
}

/* memo hits give the bytes and counts of the memo-less path, for random documents whose
 * per-VM groups repeat and whose per-message group does not */
static void memo_identical_to_uncached(void **state) {
    fx_t *fx = *state;
    memo_fx_t mf;
    memo_open(fx, &mf, 256);
    enum { VMS = 40 };
    char vm[VMS][512], host[VMS][512];
    unsigned seed = 777;
    for (int i = 0; i < VMS; i++) {
        rand_group(vm[i], sizeof vm[i], &seed);
        rand_group(host[i], sizeof host[i], &seed);
    }
    for (int round = 0; round < 4000; round++) {
        unsigned r = (seed = seed * 1103515245u + 12345u) >> 8;
        char cap[512], doc[2048];
        rand_group(cap, sizeof cap, &seed);
        int v = (int)(r % VMS);
        if (r / VMS % 7 == 0)
            snprintf(doc, sizeof doc, "{ \"vm\": %s, \"capture\": { \"t\": %u } }", vm[v], round);
        else
            snprintf(doc, sizeof doc, "{ \"vm\": %s, \"host\": %s, \"capture\": %s, \"tags\": [ \"a\" ] }", vm[v],
                     host[v], r / VMS % 5 ? "{ \"ts\": \"2026\", \"port\": 514 }" : cap);
        memo_same(fx, &mf, doc);
    }
    /* what takes the whole path still agrees */
    static const char *const odd[] = {"{ \"a\": 1, \"a\": \"password=x\" }", "{ \"p\\u0061ssword\": \"x\" }",
                                      "{ \"a\": 1, }"};
    ctx_outrec_memo_stats_t st, st0;
    for (size_t i = 0; i < sizeof odd / sizeof *odd; i++) {
        ctx_outrec_memo_stats(mf.m, &st0);
        memo_same(fx, &mf, odd[i]);
        ctx_outrec_memo_stats(mf.m, &st);
        if (st.whole != st0.whole + 1) fail_msg("not the whole path: %s", odd[i]);
    }
    memo_same(fx, &mf, "{ \"a\": [ 1, 2 ] } ");
    memo_same(fx, &mf, "{}");
    ctx_outrec_memo_stats(mf.m, &st);
    print_message("documents found %llu, not %llu; members found %llu, not %llu; whole path %llu\n",
                  (unsigned long long)st.doc_hits, (unsigned long long)st.doc_misses, (unsigned long long)st.hits,
                  (unsigned long long)st.misses, (unsigned long long)st.whole);
    ASSERT_GT(st.doc_hits, 2000); /* both paths are taken */
    ASSERT_GT(st.hits, 1000);
    memo_close(&mf);
}

/* two contexts that differ in one byte (same length) never share an entry */
static void memo_never_shares_contexts(void **state) {
    fx_t *fx = *state;
    memo_fx_t mf;
    memo_open(fx, &mf, 8);
    for (int i = 0; i < 50; i++) {
        char doc[256];
        const char *out;
        size_t n;
        snprintf(doc, sizeof doc, "{ \"vm\": { \"name\": \"vm-%d\", \"token\": \"s3cr3t-%d\" } }", i % 2, i % 2);
        ctx_outrec_fields_t f = fields(HDR("13", "2026", "h", "a", "-", "-"), "t", "-", doc);
        assert_int_equal(ctx_outrec_build(mf.m, CTX_OUTREC_JSON, mf.rx, fx->set, &f, &out, &n), 1);
        char want[32];
        snprintf(want, sizeof want, "\"vm-%d\"", i % 2);
        assert_non_null(strstr(out, want));
        snprintf(want, sizeof want, "\"vm-%d\"", 1 - i % 2);
        assert_null(strstr(out, want));
        assert_null(strstr(out, "s3cr3t"));
    }
    ctx_outrec_memo_stats_t st;
    ctx_outrec_memo_stats(mf.m, &st);
    assert_int_equal(st.inserts, 4); /* two documents, two members */
    assert_int_equal(st.doc_hits, 46);
    memo_close(&mf);
}

/* more contexts than slots: entries are evicted, the output stays right */
static void memo_evicts_under_pressure(void **state) {
    fx_t *fx = *state;
    memo_fx_t mf;
    memo_open(fx, &mf, 4);
    for (int round = 0; round < 3; round++)
        for (int i = 0; i < 64; i++) {
            char doc[256];
            snprintf(doc, sizeof doc, "{ \"vm\": { \"name\": \"vm-%d\", \"password\": \"pw%d\" } }", i, i);
            memo_same(fx, &mf, doc);
        }
    ctx_outrec_memo_stats_t st, st2;
    ctx_outrec_memo_stats(mf.m, &st);
    ASSERT_GT(st.evictions, 0);
    ASSERT_GT(st.inserts, 4);
    /* a text past the size cap is never remembered */
    char *big = malloc(6000);
    assert_non_null(big);
    int n = snprintf(big, 6000, "{ \"vm\": { \"note\": \"");
    memset(big + n, 'a', 5000);
    strcpy(big + n + 5000, "\" } }");
    for (int i = 0; i < 3; i++) memo_same(fx, &mf, big);
    ctx_outrec_memo_stats(mf.m, &st2);
    assert_int_equal(st2.inserts, st.inserts);
    assert_int_equal(st2.hits + st2.doc_hits, st.hits + st.doc_hits);
    free(big);
    memo_close(&mf);
}

/* ctx_outrec_memo_set (omtenant calls it when the rules change) empties the memo */
static void memo_rules_change_invalidates(void **state) {
    fx_t *fx = *state;
    memo_fx_t mf;
    memo_open(fx, &mf, 64);
    const char *doc = "{ \"vm\": { \"name\": \"web-1\", \"token\": \"abc\" } }";
    ctx_outrec_memo_stats_t st;
    for (int i = 0; i < 3; i++) memo_same(fx, &mf, doc);
    ctx_outrec_memo_stats(mf.m, &st);
    assert_int_equal(st.doc_hits, 1);
    assert_int_equal(ctx_outrec_memo_set(mf.m, 64, mf.nrules), 0);
    memo_same(fx, &mf, doc);
    ctx_outrec_memo_stats(mf.m, &st);
    assert_int_equal(st.doc_hits, 1); /* a miss after the change */
    assert_int_equal(st.doc_misses, 3);
    assert_int_equal(st.hits, 0);
    memo_close(&mf);
}

/* documents with a per-message member are soon no longer looked up whole, their members are */
static void memo_stops_probing_unique_documents(void **state) {
    fx_t *fx = *state;
    memo_fx_t mf;
    memo_open(fx, &mf, 64);
    for (int i = 0; i < 640; i++) {
        char doc[256];
        snprintf(doc, sizeof doc, "{ \"vm\": { \"name\": \"web-1\" }, \"capture\": { \"seq\": %d } }", i);
        memo_same(fx, &mf, doc);
    }
    ctx_outrec_memo_stats_t st;
    ctx_outrec_memo_stats(mf.m, &st);
    assert_int_equal(st.doc_hits, 0);
    assert_int_equal(st.doc_misses, 64 + (640 - 64) / 64);
    assert_int_equal(st.hits, 638); /* "vm": from the third document on */
    memo_close(&mf);
}
/* a PEM key one line per message: every line up to END redacted, per tenant, VM and app */
static void multiline_secret_over_records(void **state) {
    fx_t *fx = *state;
    const char *out;
    size_t n;
    ctx_redact_multi *m = NULL;
    char err[CTX_ERRLEN];
    assert_int_equal(ctx_redact_multi_new(&m, NULL, err, sizeof err), 0);
    const char *vm1 = "{\"vm\":{\"uuid\":\"u-1\",\"tenant\":\"t1\"}}", *vm2 = "{\"vm\":{\"uuid\":\"u-2\"}}";
    ctx_outrec_set_multi(fx->b, m, CTX_MULTI_PEM, "t1", 1000);
    ctx_outrec_fields_t f = fields(HDR("13", "T", "h", "app", "-", "-"), "password=x -----BEGIN PRIVATE KEY-----", "-", vm1);
    assert_int_equal(ctx_outrec_build(fx->b, CTX_OUTREC_JSON, fx->rx, fx->set, &f, &out, &n), 2);
    assert_non_null(strstr(out, "\"msg\":\"password=[REDACTED:kv-secret] [REDACTED:pem-private-key]\""));
    assert_int_equal(ctx_outrec_multi_spans(fx->b), 1);
    f = fields(HDR("13", "T", "h", "app", "-", "-"), "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC", "-", vm2); /* another VM */
    assert_int_equal(ctx_outrec_build(fx->b, CTX_OUTREC_JSON, fx->rx, fx->set, &f, &out, &n), 0);
    assert_non_null(strstr(out, "\"msg\":\"MIIEvQIBADANBgkqhkiG9w0BAQEFAASC\""));
    ctx_outrec_set_multi(fx->b, m, CTX_MULTI_PEM, "t2", 1001); /* another tenant, same VM */
    f = fields(HDR("13", "T", "h", "app", "-", "-"), "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC", "-", vm1);
    assert_int_equal(ctx_outrec_build(fx->b, CTX_OUTREC_JSON, fx->rx, fx->set, &f, &out, &n), 0);
    ctx_outrec_set_multi(fx->b, m, CTX_MULTI_PEM, "t1", 1002);
    assert_int_equal(ctx_outrec_build(fx->b, CTX_OUTREC_JSON, fx->rx, fx->set, &f, &out, &n), 1);
    assert_non_null(strstr(out, "\"msg\":\"[REDACTED:pem-private-key]\""));
    struct ctx_fmt_rec r; /* the record formats take the same path */
    assert_int_equal(ctx_outrec_fmtrec(fx->b, fx->rx, fx->set, &f, &r), 1);
    f = fields(HDR("13", "T", "h", "app", "-", "-"), "-----END PRIVATE KEY----- token=abc", "-", vm1);
    assert_int_equal(ctx_outrec_build(fx->b, CTX_OUTREC_JSON, fx->rx, fx->set, &f, &out, &n), 2);
    assert_non_null(strstr(out, "\"msg\":\"[REDACTED:pem-private-key] token=[REDACTED:kv-secret]\""));
    f = fields(HDR("13", "T", "h", "app", "-", "-"), "after the end", "-", vm1);
    assert_int_equal(ctx_outrec_build(fx->b, CTX_OUTREC_JSON, fx->rx, fx->set, &f, &out, &n), 0);
    assert_int_equal(ctx_outrec_multi_spans(fx->b), 0);
    ctx_redact_multi_stats_t st;
    ctx_redact_multi_stats(m, &st);
    assert_int_equal(st.opened, 1);
    assert_int_equal(st.closed, 1);
    assert_int_equal(st.lines, 3);
    ctx_outrec_set_multi(fx->b, NULL, 0, NULL, 0);
    ctx_redact_multi_free(m);
}

/* an operator template: a cut message's tail and a multi-line secret replaced inside its output */
static void template_cut_and_multiline(void **state) {
    fx_t *fx = *state;
    const char *out;
    size_t n;
    const char *msg = "using key AKIAIOSFODN";
    ctx_outrec_tplmsg_t tm = {msg, strlen(msg), {"u-1", "h", "app", 3, 1, 3}, 1};
    const char *text = "h app: using key AKIAIOSFODN";
    assert_int_equal(ctx_outrec_custom_msg(fx->b, fx->rx, fx->set, text, strlen(text), &tm, &out, &n), 1);
    assert_string_equal(out, "h app: using key [REDACTED:aws-access-key]");
    tm.cut = 0;
    assert_int_equal(ctx_outrec_custom_msg(fx->b, fx->rx, fx->set, text, strlen(text), &tm, &out, &n), 0);
    assert_string_equal(out, text);
    ctx_redact_multi *m = NULL;
    char err[CTX_ERRLEN];
    assert_int_equal(ctx_redact_multi_new(&m, NULL, err, sizeof err), 0);
    ctx_outrec_set_multi(fx->b, m, CTX_MULTI_PEM, "t1", 0);
    tm.msg = "-----BEGIN PRIVATE KEY-----", tm.msglen = strlen(tm.msg);
    const char *j1 = "{\"msg\":\"-----BEGIN PRIVATE KEY-----\"}";
    assert_int_equal(ctx_outrec_custom_msg(fx->b, fx->rx, fx->set, j1, strlen(j1), &tm, &out, &n), 2);
    assert_string_equal(out, "{\"msg\":\"[REDACTED:pem-private-key]\"}");
    tm.msg = "MIIEv/QIBADAN\"x", tm.msglen = strlen(tm.msg); /* found JSON-escaped, with "\/" */
    const char *j2 = "{\"msg\":\"MIIEv\\/QIBADAN\\\"x\",\"n\":1}";
    assert_int_equal(ctx_outrec_custom_msg(fx->b, fx->rx, fx->set, j2, strlen(j2), &tm, &out, &n), 1);
    assert_string_equal(out, "{\"msg\":\"[REDACTED:pem-private-key]\",\"n\":1}");
    assert_int_equal(ctx_outrec_multi_spans(fx->b), 1);
    const char *j3 = "{\"msg\":\"MIIEv...\"}"; /* the template changed it: not found, withheld */
    tm.msg = "MIIEvQIBADAN", tm.msglen = strlen(tm.msg);
    assert_int_equal(ctx_outrec_custom_msg(fx->b, fx->rx, fx->set, j3, strlen(j3), &tm, &out, &n), CTX_EINVAL);
    ctx_outrec_set_multi(fx->b, NULL, 0, NULL, 0);
    ctx_redact_multi_free(m);
}

CTX_TEST_MAIN(outrec_fx_setup, outrec_fx_teardown,
    cmocka_unit_test(default_json_object_exact),
    cmocka_unit_test(ctx_secret_counted_once),
    cmocka_unit_test(nil_fields_are_left_out),
    cmocka_unit_test(redacts_text_sd_and_every_ctx_value),
    cmocka_unit_test(syslog_frame_exact),
    cmocka_unit_test(header_fields_redacted),
    cmocka_unit_test(cut_message_tail),
    cmocka_unit_test(multiline_secret_over_records),
    cmocka_unit_test(template_cut_and_multiline),
    cmocka_unit_test(custom_template_output),
    cmocka_unit_test(escaping_and_invalid_utf8),
    cmocka_unit_test(replays_fuzz_corpus),
    cmocka_unit_test(fast_path_agrees_with_tree),
    cmocka_unit_test(memo_identical_to_uncached),
    cmocka_unit_test(memo_never_shares_contexts),
    cmocka_unit_test(memo_evicts_under_pressure),
    cmocka_unit_test(memo_rules_change_invalidates),
    cmocka_unit_test(memo_stops_probing_unique_documents))
