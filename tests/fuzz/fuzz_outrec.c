/* fuzz_outrec: arbitrary message fields through omtenant's record builder (common/deliver/outrec.h)
 * with the default redaction rules. Must not crash; the JSON record must parse as one JSON
 * object and be valid UTF-8; the RFC 5424 frame must carry exactly the JSON object after its
 * header; an operator template's output redacted as JSON must still parse; the record built
 * with the $!ctx memo (three times: a miss, the admission, a hit) is the same bytes, return
 * value and per-rule counts as without it.
 * Input: the fields separated by 0x00 bytes: header (0x1f-separated), msg, sd, ctx.
 */
#include <json.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctxlog_common.h"
#include "outrec.h"
#include "outrec_int.h"
#include "redact.h"

static ctx_redact_rules *rules;
static ctx_redact_ctx *rx;
static ctx_outrec_t *b;
static ctx_outrec_t *bm; /* with the $!ctx memo */
static ctx_redact_ctx *rxm;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc;
    (void)argv;
    char err[CTX_ERRLEN];
    if (ctx_redact_rules_new(&rules, err, sizeof err) != 0 || (rx = ctx_redact_ctx_new(rules)) == NULL ||
        ctx_outrec_new(&b) != 0 || ctx_outrec_new(&bm) != 0 || (rxm = ctx_redact_ctx_new(rules)) == NULL ||
        ctx_outrec_memo_set(bm, 16, ctx_redact_rules_count(rules)) != 0)
        abort();
    return 0;
}

static int parses(const char *s, size_t n, int want_object) {
    struct fjson_tokener *tok = fjson_tokener_new();
    struct fjson_object *o = fjson_tokener_parse_ex(tok, s, (int)n);
    int ok = o != NULL && fjson_tokener_get_error(tok) == fjson_tokener_success && (size_t)tok->char_offset == n &&
             (!want_object || fjson_object_is_type(o, fjson_type_object));
    fjson_object_put(o);
    fjson_tokener_free(tok);
    return ok;
}

/* the next 0x00-terminated field of data[*pos..size) */
static const char *field(const uint8_t *data, size_t size, size_t *pos, size_t *len) {
    const char *start = (const char *)data + *pos;
    const uint8_t *z = *pos < size ? memchr(data + *pos, 0, size - *pos) : NULL;
    size_t end = z ? (size_t)(z - data) : size;
    *len = end - (*pos < size ? *pos : size);
    *pos = z ? end + 1 : size;
    return *len ? start : "";
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    size_t pos = 0;
    ctx_outrec_fields_t f;
    f.hdr = field(data, size, &pos, &f.hdrlen);
    f.msg = field(data, size, &pos, &f.msglen);
    f.sd = field(data, size, &pos, &f.sdlen);
    f.ctx = field(data, size, &pos, &f.ctxlen);
    const ctx_redact_set *set = ctx_redact_for_tenant(rules, NULL);
    const char *out;
    size_t n;
    if (ctx_outrec_build(b, CTX_OUTREC_JSON, rx, set, &f, &out, &n) >= 0) {
        if (!parses(out, n, 1) || !ctx_redact_utf8_valid(out, n)) {
            fprintf(stderr, "bad JSON record: %.*s\n", (int)n, out);
            abort();
        }
    }
    /* the memo gives the same record and counts */
    {
        int nr = ctx_redact_rules_count(rules);
        uint64_t c1[nr + 1], c2[nr + 1];
        const char *o1;
        size_t n1;
        for (int i = 0; i < 3; i++) {
            memset(c1, 0, sizeof c1), memset(c2, 0, sizeof c2);
            ctx_redact_ctx_take_counters(rx, NULL);
            int r1 = ctx_outrec_build(b, CTX_OUTREC_JSON, rx, set, &f, &o1, &n1);
            uint64_t e1 = ctx_redact_ctx_take_counters(rx, c1);
            int r2 = ctx_outrec_build(bm, CTX_OUTREC_JSON, rxm, set, &f, &out, &n);
            uint64_t e2 = ctx_redact_ctx_take_counters(rxm, c2);
            if (r1 != r2 || e1 != e2 || (r1 >= 0 && (n1 != n || memcmp(o1, out, n) != 0)) ||
                memcmp(c1, c2, sizeof c1) != 0) {
                fprintf(stderr, "memo differs (%d/%d), round %d:\n%.*s\n%.*s\n", r1, r2, i, (int)n1, o1, (int)n, out);
                abort();
            }
        }
    }
    /* the frame ends with " " and the JSON object without "sd" (= the JSON record of the message without SD) */
    ctx_outrec_fields_t nosd = f;
    nosd.sd = "-", nosd.sdlen = 1;
    char *obj = NULL;
    size_t objlen = 0;
    if (ctx_outrec_build(b, CTX_OUTREC_JSON, rx, set, &nosd, &out, &n) >= 0 && (obj = malloc(n + 1)) != NULL) {
        memcpy(obj, out, n);
        objlen = n;
    }
    if (obj != NULL && ctx_outrec_build(b, CTX_OUTREC_SYSLOG, rx, set, &f, &out, &n) >= 0) {
        if (n <= objlen || out[n - objlen - 1] != ' ' || memcmp(out + n - objlen, obj, objlen) != 0 ||
            memcmp(out, "<", 1) != 0) {
            fprintf(stderr, "bad syslog record: %.*s\n", (int)n, out);
            abort();
        }
    }
    free(obj);
    /* the fast path calls a document clean only if the tree path would change nothing */
    static char *scratch;
    static size_t cap;
    if (f.ctxlen > 0 && outrec_json_clean(rx, set, f.ctx, f.ctxlen, &scratch, &cap)) {
        struct fjson_tokener *tok = fjson_tokener_new();
        struct fjson_object *o = fjson_tokener_parse_ex(tok, f.ctx, (int)f.ctxlen);
        if (o == NULL || fjson_tokener_get_error(tok) != fjson_tokener_success || ctx_redact_json(rx, set, o) != 0) {
            fprintf(stderr, "fast path called clean: %.*s\n", (int)f.ctxlen, f.ctx);
            abort();
        }
        fjson_object_put(o);
        fjson_tokener_free(tok);
    }
    if (ctx_outrec_custom(b, rx, set, f.ctx, f.ctxlen, &out, &n) > 0 && f.ctxlen > 0 &&
        (f.ctx[0] == '{' || f.ctx[0] == '[') && parses(f.ctx, f.ctxlen, 0) && !parses(out, n, 0)) {
        fprintf(stderr, "redacted JSON template output does not parse: %.*s\n", (int)n, out);
        abort();
    }
    return 0;
}
