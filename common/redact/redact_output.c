/* redact_output.c: build the redacted text from the spans the rules found: move each span out to
 * UTF-8 character boundaries, merge overlapping spans (the earliest-starting rule names the merged
 * one, so no byte of any match survives), render each replacement and, with invalid_utf8 = replace,
 * turn invalid UTF-8 in the kept text into U+FFFD.
 *
 * Concurrency: works on one per-thread ctx.
 */
#include <stdlib.h>
#include <string.h>

#include "ctxlog_common.h"
#include "redact_int.h"

int rx_buf_reserve(char **buf, size_t *cap, size_t need) {
    if (need <= *cap) return 0;
    size_t nc = *cap ? *cap : 256;
    while (nc < need) nc *= 2;
    char *b = realloc(*buf, nc);
    if (b == NULL) return CTX_ENOMEM;
    *buf = b;
    *cap = nc;
    return 0;
}

/* length of the well-formed UTF-8 sequence at s, or 0 (Unicode 15, table 3-7) */
static size_t utf8_seq(const uint8_t *s, size_t n) {
    uint8_t c = s[0];
    if (c < 0x80) return 1;
    size_t need;
    uint8_t lo = 0x80, hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF)
        need = 2;
    else if (c >= 0xE0 && c <= 0xEF) {
        need = 3;
        if (c == 0xE0) lo = 0xA0;
        if (c == 0xED) hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        need = 4;
        if (c == 0xF0) lo = 0x90;
        if (c == 0xF4) hi = 0x8F;
    } else
        return 0;
    if (n < need || s[1] < lo || s[1] > hi) return 0;
    for (size_t i = 2; i < need; i++)
        if ((s[i] & 0xC0) != 0x80) return 0;
    return need;
}

static int all_ascii(const uint8_t *s, size_t n) {
    size_t i = 0;
    uint64_t acc = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, s + i, 8);
        acc |= w;
    }
    for (; i < n; i++) acc |= s[i];
    return (acc & 0x8080808080808080ull) == 0;
}

int ctx_redact_utf8_valid(const char *str, size_t n) {
    const uint8_t *s = (const uint8_t *)str;
    if (s == NULL) return n == 0;
    if (all_ascii(s, n)) return 1;
    for (size_t i = 0; i < n;) {
        size_t l = utf8_seq(s + i, n - i);
        if (l == 0) return 0;
        i += l;
    }
    return 1;
}

size_t rx_utf8_copy_sanitized(char *dst, const char *src, size_t n) {
    const uint8_t *s = (const uint8_t *)src;
    size_t o = 0;
    for (size_t i = 0; i < n;) {
        size_t l = utf8_seq(s + i, n - i);
        if (l == 0) {
            memcpy(dst + o, "\xEF\xBF\xBD", 3);
            o += 3;
            i++;
        } else {
            memcpy(dst + o, s + i, l);
            o += l;
            i += l;
        }
    }
    return o;
}

static int is_alnum(unsigned char c) { return (unsigned)((c | 32) - 'a') < 26u || (unsigned)(c - '0') < 10u; }

static size_t mask(const char *s, size_t len, int keep, char *dst) {
    int alnum_left = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        alnum_left += is_alnum(c);
    }
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x80) {
            if ((c & 0xC0) != 0x80) dst[o++] = '*'; /* one '*' per character */
        } else if (is_alnum(c)) {
            dst[o++] = alnum_left-- <= keep ? (char)c : '*';
        } else {
            dst[o++] = (char)c;
        }
    }
    return o;
}

size_t rx_replacement(ctx_redact_ctx *ctx, const ctx_redact_set *set, uint32_t rule, const char *s, size_t len,
                      char *dst) {
    const struct ctx_redact_rules *rules = ctx->rules;
    const char *name = rules->rule[rule].name;
    size_t nl = strlen(name);
    if (set->mode[rule] == RX_MASK) return mask(s, len, set->mask_keep[rule], dst);
    if (set->mode[rule] == RX_HASH) {
        char hex[RX_HASH_MAX + 1];
        if (rx_mac_tag(ctx->mac, rules, s, len, hex, rules->hash_len) == 0) {
            memcpy(dst, "[H:", 3);
            memcpy(dst + 3, hex, (size_t)rules->hash_len);
            dst[3 + rules->hash_len] = ']';
            return 4 + (size_t)rules->hash_len;
        }
    }
    memcpy(dst, "[REDACTED:", 10);
    memcpy(dst + 10, name, nl);
    dst[10 + nl] = ']';
    return 11 + nl;
}

static int cmp_span(const void *a, const void *b) {
    const struct rx_span *x = a, *y = b;
    if (x->s != y->s) return x->s < y->s ? -1 : 1;
    if (x->e != y->e) return x->e > y->e ? -1 : 1;
    return x->rule < y->rule ? -1 : x->rule > y->rule;
}

/* snap to character boundaries, sort, merge overlaps; returns the number of merged spans */
static size_t merge_spans(ctx_redact_ctx *ctx, const uint8_t *in, size_t len) {
    struct rx_span *sp = ctx->span;
    for (size_t i = 0; i < ctx->nspan; i++) {
        for (int k = 0; k < 3 && sp[i].s > 0 && (in[sp[i].s] & 0xC0) == 0x80; k++) sp[i].s--;
        for (int k = 0; k < 3 && sp[i].e < len && (in[sp[i].e] & 0xC0) == 0x80; k++) sp[i].e++;
    }
    qsort(sp, ctx->nspan, sizeof *sp, cmp_span);
    size_t m = 0;
    for (size_t i = 0; i < ctx->nspan; i++) {
        if (m > 0 && sp[i].s < sp[m - 1].e) {
            if (sp[i].e > sp[m - 1].e) sp[m - 1].e = sp[i].e;
        } else {
            sp[m++] = sp[i];
        }
    }
    return m;
}

static size_t copy_text(char *dst, const char *src, size_t n, int sanitize) {
    if (sanitize) return rx_utf8_copy_sanitized(dst, src, n);
    memcpy(dst, src, n);
    return n;
}

int rx_render(ctx_redact_ctx *ctx, const ctx_redact_set *set, const char *in, size_t len, int sanitize) {
    size_t m = merge_spans(ctx, (const uint8_t *)in, len);
    size_t bound = (sanitize ? 3 * len : len) + m * RX_MAX_REPL + 1;
    if (rx_buf_reserve(&ctx->out, &ctx->outcap, bound) < 0) return CTX_ENOMEM;
    char *o = ctx->out;
    size_t pos = 0, n = 0;
    for (size_t i = 0; i < m; i++) {
        const struct rx_span *sp = &ctx->span[i];
        n += copy_text(o + n, in + pos, sp->s - pos, sanitize);
        n += rx_replacement(ctx, set, sp->rule, in + sp->s, sp->e - sp->s, o + n);
        pos = sp->e;
    }
    n += copy_text(o + n, in + pos, len - pos, sanitize);
    o[n] = '\0';
    ctx->outlen = n;
    return 0;
}
