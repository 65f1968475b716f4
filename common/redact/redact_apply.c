/* redact_apply.c: the per-thread context and ctx_redact_apply(): prefilter pass, then the regex of
 * each rule that can match, from its first trigger on; spans go to redact_output.c.
 * Nothing is allocated on the path where nothing matches (the span array and output buffer grow
 * only when used, and are kept for the next message).
 *
 * Concurrency: a ctx belongs to one thread at a time; the rules and sets it reads are immutable.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ctxlog_common.h"
#include "redact_int.h"

#define MATCH_LIMIT 5000000u
#define JIT_STACK_MAX (1024 * 1024)
#define FAIL_CLOSED "[REDACTED:match-error]"

ctx_redact_ctx *ctx_redact_ctx_new(const ctx_redact_rules *rules) {
    if (rules == NULL) return NULL;
    ctx_redact_ctx *c = calloc(1, sizeof *c);
    if (c == NULL) return NULL;
    c->rules = rules;
    uint32_t maxcap = 0;
    for (int i = 0; i < rules->nrules; i++) {
        uint32_t n = 0, n2 = 0;
        pcre2_pattern_info(rules->rule[i].code, PCRE2_INFO_CAPTURECOUNT, &n);
        if (rules->rule[i].code2 != NULL) pcre2_pattern_info(rules->rule[i].code2, PCRE2_INFO_CAPTURECOUNT, &n2);
        if (n2 > n) n = n2;
        if (n > maxcap) maxcap = n;
    }
    c->md = pcre2_match_data_create(maxcap + 1, NULL);
    c->mctx = pcre2_match_context_create(NULL);
    c->jstack = pcre2_jit_stack_create(32 * 1024, JIT_STACK_MAX, NULL);
    c->first = malloc(((size_t)rules->nrules + 1) * sizeof *c->first);
    c->count = calloc((size_t)rules->nrules + 1, sizeof *c->count);
    c->spancap = 64;
    c->span = malloc(c->spancap * sizeof *c->span);
    c->mac = rx_mac_new(rules);
    if (c->md == NULL || c->mctx == NULL || c->jstack == NULL || c->first == NULL || c->count == NULL ||
        c->span == NULL || (rules->key != NULL && c->mac == NULL)) {
        ctx_redact_ctx_free(c);
        return NULL;
    }
    pcre2_jit_stack_assign(c->mctx, NULL, c->jstack);
    pcre2_set_match_limit(c->mctx, MATCH_LIMIT);
    pcre2_set_callout(c->mctx, rx_callout, c);
    return c;
}

void ctx_redact_ctx_free(ctx_redact_ctx *c) {
    if (c == NULL) return;
    pcre2_match_data_free(c->md);
    pcre2_match_context_free(c->mctx);
    pcre2_jit_stack_free(c->jstack);
    rx_mac_free(c->mac);
    free(c->first);
    free(c->count);
    free(c->span);
    free(c->out);
    free(c->sdout);
    free(c->tmp);
    free(c->dec);
    free(c->map);
    free(c);
}

const uint64_t *ctx_redact_ctx_counters(const ctx_redact_ctx *c) { return c ? c->count : NULL; }

void ctx_redact_ctx_set_counting(ctx_redact_ctx *c, int on) {
    if (c != NULL) c->uncounted = !on;
}

void ctx_redact_ctx_save_counters(const ctx_redact_ctx *c, uint64_t *dst) {
    if (c == NULL || dst == NULL) return;
    memcpy(dst, c->count, (size_t)c->rules->nrules * sizeof *dst);
    dst[c->rules->nrules] = c->errors;
}

void ctx_redact_ctx_restore_counters(ctx_redact_ctx *c, const uint64_t *src) {
    if (c == NULL || src == NULL) return;
    memcpy(c->count, src, (size_t)c->rules->nrules * sizeof *src);
    c->errors = src[c->rules->nrules];
}

void ctx_redact_ctx_add_counts(ctx_redact_ctx *c, const uint32_t *add) {
    if (c == NULL || add == NULL || c->uncounted) return;
    for (int i = 0; i < c->rules->nrules; i++) c->count[i] += add[i];
}

uint64_t ctx_redact_ctx_take_counters(ctx_redact_ctx *c, uint64_t *dst) {
    if (c == NULL) return 0;
    for (int i = 0; i < c->rules->nrules; i++) {
        if (dst != NULL) dst[i] += c->count[i];
        c->count[i] = 0;
    }
    uint64_t e = c->errors;
    c->errors = 0;
    return e;
}

int rx_add_span(ctx_redact_ctx *c, size_t s, size_t e, uint32_t rule) {
    if (c->nspan == c->spancap) {
        struct rx_span *n = realloc(c->span, 2 * c->spancap * sizeof *n);
        if (n == NULL) return CTX_ENOMEM;
        c->span = n;
        c->spancap *= 2;
    }
    c->span[c->nspan++] = (struct rx_span){s, e, rule};
    return 0;
}

/* the span a match replaces: its group, the first group set (RX_GROUP_ANY) or the whole match */
static void match_span(const struct rx_rule *r, const PCRE2_SIZE *ov, int rc, size_t *s, size_t *e) {
    *s = ov[0];
    *e = ov[1];
    int g = r->group;
    if (g == RX_GROUP_ANY) {
        for (g = 1; g < rc && ov[2 * g] == PCRE2_UNSET; g++) {
        }
    }
    if (g > 0 && g < rc && ov[2 * g] != PCRE2_UNSET) {
        *s = ov[2 * g];
        *e = ov[2 * g + 1];
    }
}

/* a case-insensitive "mysql" or "mariadb" in p[0..n) */
static int has_mysql(const char *p, size_t n) {
    for (size_t i = 0; i + 5 <= n; i++)
        if ((p[i] | 0x20) == 'm' && (strncasecmp(p + i, "mysql", 5) == 0 ||
                                     (i + 7 <= n && strncasecmp(p + i, "mariadb", 7) == 0)))
            return 1;
    return 0;
}

/* kv-secret's second pattern may match: an element '<' after off, or a mysql / mariadb command */
static int extra_wanted(const char *in, size_t len, size_t off) {
    return memchr(in + off, '<', len - off) != NULL || has_mysql(in, len);
}

static int run_code(ctx_redact_ctx *c, uint32_t id, const pcre2_code *code, int jit, const char *in, size_t len,
                    size_t off);

static int run_rule(ctx_redact_ctx *c, uint32_t id, const char *in, size_t len, size_t start) {
    const struct rx_rule *r = &c->rules->rule[id];
    c->cur_group = r->group;
    c->cur_validator = r->validator;
    int rc = run_code(c, id, r->code, r->jit, in, len, start > r->back ? start - r->back : 0);
    size_t off2 = start > r->back2 ? start - r->back2 : 0;
    if (rc == 0 && r->code2 != NULL && extra_wanted(in, len, off2)) rc = run_code(c, id, r->code2, r->jit2, in, len, off2);
    return rc;
}

static int run_code(ctx_redact_ctx *c, uint32_t id, const pcre2_code *code, int jit, const char *in, size_t len,
                    size_t off) {
    while (off <= len) {
        int rc = jit ? pcre2_jit_match(code, (PCRE2_SPTR)in, len, off, 0, c->md, c->mctx)
                     : pcre2_match(code, (PCRE2_SPTR)in, len, off, 0, c->md, c->mctx);
        if (rc == PCRE2_ERROR_NOMATCH) return 0;
        if (rc <= 0) return CTX_EINVAL;
        const PCRE2_SIZE *ov = pcre2_get_ovector_pointer(c->md);
        size_t s, e;
        match_span(&c->rules->rule[id], ov, rc, &s, &e);
        off = ov[1] > ov[0] ? ov[1] : ov[0] + 1;
        if (c->vmap != NULL) { /* decoded view: a match without an escape in it was seen in the original */
            if (c->vmap[ov[1]] - c->vmap[ov[0]] == ov[1] - ov[0] || e > len) continue;
            s = c->vmap[s];
            e = c->vmap[e];
        }
        c->count[id] += !c->uncounted;
        if (e > s && rx_add_span(c, s, e, id) < 0) return CTX_ENOMEM;
    }
    return 0;
}

int rx_whole_value(ctx_redact_ctx *c, const ctx_redact_set *set, const char *s, size_t len, const char **out,
                   size_t *outlen) {
    uint32_t kv = (uint32_t)c->rules->kv_rule;
    if (!set->on[kv]) return 0;
    if (rx_buf_reserve(&c->out, &c->outcap, len + RX_MAX_REPL + 1) < 0) return CTX_ENOMEM;
    c->count[kv] += !c->uncounted;
    c->outlen = rx_replacement(c, set, kv, s, len, c->out);
    c->out[c->outlen] = '\0';
    *out = c->out;
    *outlen = c->outlen;
    return 1;
}

static int fail_closed(ctx_redact_ctx *c, const char **out, size_t *outlen) {
    c->errors += !c->uncounted;
    if (rx_buf_reserve(&c->out, &c->outcap, sizeof FAIL_CLOSED) < 0) return CTX_ENOMEM;
    memcpy(c->out, FAIL_CLOSED, sizeof FAIL_CLOSED);
    c->outlen = sizeof FAIL_CLOSED - 1;
    *out = c->out;
    *outlen = c->outlen;
    return 1;
}

/* the prefilter, then each rule that can match, over one view of the message (spans appended) */
static int run_view(ctx_redact_ctx *c, const ctx_redact_set *set, const char *text, size_t len, int *esc) {
    for (size_t i = 0; i < set->nactive; i++) c->first[set->active[i]] = RX_NONE;
    *esc = rx_prefilter_scan(set, (const uint8_t *)text, len, c->first);
    for (size_t i = 0; i < set->nalways; i++) c->first[set->always[i]] = 0;
    for (size_t i = 0; i < set->nactive; i++) {
        uint32_t id = set->active[i];
        if (c->first[id] == RX_NONE) continue;
        int rc = run_rule(c, id, text, len, c->first[id]);
        if (rc < 0) return rc;
    }
    return 0;
}

/* the original, then its decoded view if it has escapes, then (cut) its tail */
static int find_spans(ctx_redact_ctx *c, const ctx_redact_set *set, const char *in, size_t len, int cut) {
    size_t dn = 0;
    int esc = 0;
    c->nspan = 0;
    c->vmap = NULL;
    int rc = run_view(c, set, in, len, &esc);
    if (rc == 0 && esc) rc = rx_decode_view(c, in, len, &dn);
    if (rc == 0 && dn > 0) {
        c->vmap = c->map;
        rc = run_view(c, set, c->dec, dn, &esc);
        c->vmap = NULL;
    }
    if (rc == 0 && cut) rc = rx_cut_tail(c, set, in, len);
    return rc;
}

static int apply(ctx_redact_ctx *c, const ctx_redact_set *set, const char *in, size_t len, int cut, const char **out,
                 size_t *outlen) {
    if (out != NULL) *out = NULL;
    if (c == NULL || set == NULL || out == NULL || outlen == NULL || (in == NULL && len > 0) || set->rules != c->rules)
        return CTX_EINVAL;
    if (in == NULL) in = "";
    int rc = find_spans(c, set, in, len, cut);
    if (rc == CTX_ENOMEM) return rc;
    if (rc < 0) return fail_closed(c, out, outlen);
    int sanitize = c->rules->utf8_replace && !ctx_redact_utf8_valid(in, len);
    if (c->nspan == 0 && !sanitize) {
        *out = in;
        *outlen = len;
        return 0;
    }
    if (rx_render(c, set, in, len, sanitize) < 0) return CTX_ENOMEM;
    *out = c->out;
    *outlen = c->outlen;
    return 1;
}

int ctx_redact_apply(ctx_redact_ctx *c, const ctx_redact_set *set, const char *in, size_t len, const char **out,
                     size_t *outlen) {
    return apply(c, set, in, len, 0, out, outlen);
}

int ctx_redact_apply_cut(ctx_redact_ctx *c, const ctx_redact_set *set, const char *in, size_t len, const char **out,
                         size_t *outlen) {
    return apply(c, set, in, len, 1, out, outlen);
}
