/* outrec_json.c: the fast path of the record builder for JSON text ($!ctx, an operator's
 * JSON template output): decides, without building a tree, that redacting the document
 * value by value (ctx_redact_json) would change nothing, so the text can be copied as it
 * is. Parsing and walking a libfastjson tree costs several microseconds a message; this
 * scan runs the same text rules on the same bytes:
 *  - every string value and every integer is given to ctx_redact_apply exactly as the
 *    tree walk gives it (the text must contain no backslash, so a JSON string's bytes are
 *    its value);
 *  - every member with a scalar value is written as "key=x" on a line of a scratch text
 *    that is redacted once: the key-name rule (kv-secret) matches there exactly when
 *    the tree walk would replace that member's value because of its key.
 * Anything else (an escape, a nesting deeper than the tree walk allows, a syntax the scan
 * does not expect, or any change or match at all) sends the document to the tree path.
 * The scan counts nothing (ctx_redact_ctx_set_counting): a document it finds dirty is
 * redacted, and its matches counted once, by the tree path.
 * A "clean" verdict is therefore only given when the tree path would change nothing;
 * tests/unit/test_outrec.c and tests/fuzz/fuzz_outrec.c check that property.
 *
 * Concurrency: uses the caller's redaction context and scratch buffer (one thread).
 */
#include <string.h>

#include "ctxlog_common.h"
#include "outrec_int.h"

#define MAX_DEPTH 64 /* ctx_redact_json refuses deeper documents */

typedef struct {
    const char *p, *end;
    ctx_redact_ctx *rx;
    const ctx_redact_set *set;
    char **kv;          /* scratch: "key=x\n" lines */
    size_t *kvlen, *kvcap;
    int dirty;          /* 1: take the tree path */
} scan_t;

static void ws(scan_t *s) {
    while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' || *s->p == '\n' || *s->p == '\r')) s->p++;
}

/* a string token at s->p (no escapes possible): its bytes, s->p after the closing quote */
static int string_tok(scan_t *s, const char **v, size_t *n) {
    if (s->p >= s->end || *s->p != '"') return -1;
    const char *q = memchr(s->p + 1, '"', (size_t)(s->end - s->p - 1));
    if (q == NULL) return -1;
    *v = s->p + 1;
    *n = (size_t)(q - s->p - 1);
    s->p = q + 1;
    return 0;
}

static int changes(scan_t *s, const char *v, size_t n) {
    const char *out;
    size_t outn;
    return ctx_redact_apply(s->rx, s->set, v, n, &out, &outn) != 0;
}

static int kv_line(scan_t *s, const char *key, size_t n) {
    if (*s->kvcap - *s->kvlen < n + 4) {
        if (outrec_reserve(s->kv, s->kvlen, s->kvcap, n + 4) != 0) return -1;
    }
    memcpy(*s->kv + *s->kvlen, key, n);
    memcpy(*s->kv + *s->kvlen + n, "=x\n", 3);
    *s->kvlen += n + 3;
    return 0;
}

static int value(scan_t *s, int depth);

static int digits(scan_t *s) {
    const char *st = s->p;
    while (s->p < s->end && *s->p >= '0' && *s->p <= '9') s->p++;
    return s->p > st ? 0 : -1;
}

/* a JSON number (strictly as the grammar says); *is_int: without fraction or exponent */
static int number(scan_t *s, int *is_int) {
    if (s->p < s->end && *s->p == '-') s->p++;
    if (s->p < s->end && *s->p == '0')
        s->p++;
    else if (digits(s) != 0)
        return -1;
    *is_int = 1;
    if (s->p < s->end && *s->p == '.') {
        s->p++;
        if (digits(s) != 0) return -1;
        *is_int = 0;
    }
    if (s->p < s->end && (*s->p == 'e' || *s->p == 'E')) {
        s->p++;
        if (s->p < s->end && (*s->p == '+' || *s->p == '-')) s->p++;
        if (digits(s) != 0) return -1;
        *is_int = 0;
    }
    return 0;
}

static int literal(scan_t *s, const char *word) {
    size_t n = strlen(word);
    if ((size_t)(s->end - s->p) < n || memcmp(s->p, word, n) != 0) return -1;
    s->p += n;
    return 0;
}

/* a scalar: string, number, true, false, null; integers are redacted as the tree walk does */
static int scalar(scan_t *s) {
    const char *v, *st = s->p;
    size_t n;
    int is_int = 0;
    switch (*s->p) {
    case '"':
        if (string_tok(s, &v, &n) != 0) return -1;
        if (changes(s, v, n)) s->dirty = 1;
        return 0;
    case 't':
        return literal(s, "true");
    case 'f':
        return literal(s, "false");
    case 'n':
        return literal(s, "null");
    default:
        if (number(s, &is_int) != 0) return -1;
        if (is_int && changes(s, st, (size_t)(s->p - st))) s->dirty = 1;
        return 0;
    }
}

static int object(scan_t *s, int depth) {
    s->p++; /* '{' */
    ws(s);
    if (s->p < s->end && *s->p == '}') return s->p++, 0;
    for (;;) {
        const char *k;
        size_t kn;
        ws(s);
        if (string_tok(s, &k, &kn) != 0) return -1;
        ws(s);
        if (s->p >= s->end || *s->p != ':') return -1;
        s->p++;
        ws(s);
        if (s->p >= s->end) return -1;
        if (*s->p != '{' && *s->p != '[' && kv_line(s, k, kn) != 0) return -1;
        if (value(s, depth + 1) != 0) return -1;
        ws(s);
        if (s->p < s->end && *s->p == ',') {
            s->p++;
            continue;
        }
        if (s->p < s->end && *s->p == '}') return s->p++, 0;
        return -1;
    }
}

static int array(scan_t *s, int depth) {
    s->p++; /* '[' */
    ws(s);
    if (s->p < s->end && *s->p == ']') return s->p++, 0;
    for (;;) {
        if (value(s, depth + 1) != 0) return -1;
        ws(s);
        if (s->p < s->end && *s->p == ',') {
            s->p++;
            ws(s);
            continue;
        }
        if (s->p < s->end && *s->p == ']') return s->p++, 0;
        return -1;
    }
}

static int value(scan_t *s, int depth) {
    if (depth > MAX_DEPTH || s->p >= s->end) return -1;
    if (*s->p == '{') return object(s, depth);
    if (*s->p == '[') return array(s, depth);
    return scalar(s);
}

int outrec_json_clean(ctx_redact_ctx *rx, const ctx_redact_set *set, const char *text, size_t n, char **scratch,
                      size_t *scratch_cap) {
    if (rx == NULL || set == NULL) return 1; /* no redaction: nothing can change */
    if (memchr(text, '\\', n) != NULL) return 0;
    size_t kvlen = 0;
    scan_t s = {text, text + n, rx, set, scratch, &kvlen, scratch_cap, 0};
    int clean = 0;
    ctx_redact_ctx_set_counting(rx, 0);
    ws(&s);
    if (s.p < s.end && (*s.p == '{' || *s.p == '[') && value(&s, 0) == 0 && !s.dirty) {
        ws(&s);
        clean = s.p == s.end && (kvlen == 0 || !changes(&s, *scratch, kvlen));
    }
    ctx_redact_ctx_set_counting(rx, 1);
    return clean;
}
