/* redact_sd.c: redact RFC 5424 STRUCTURED-DATA ([id name="value" ...]...). Each PARAM-VALUE is
 * unescaped, redacted as text (or whole, if its PARAM-NAME is a secret key name), and written back
 * escaped ('"', '\' and ']' get a backslash), so replacements such as "[REDACTED:jwt]" keep the
 * STRUCTURED-DATA valid. A value that did not change is copied byte for byte.
 *
 * Concurrency: uses the caller's per-thread ctx.
 */
#include <string.h>

#include "ctxlog_common.h"
#include "redact_int.h"

struct sd {
    ctx_redact_ctx *ctx;
    const ctx_redact_set *set;
    const char *in;
    size_t len, pos;
    int changed;
};

static int put(struct sd *p, const char *s, size_t n) {
    ctx_redact_ctx *c = p->ctx;
    if (rx_buf_reserve(&c->sdout, &c->sdcap, c->sdlen + n + 1) < 0) return CTX_ENOMEM;
    memcpy(c->sdout + c->sdlen, s, n);
    c->sdlen += n;
    return 0;
}

static int put_escaped(struct sd *p, const char *s, size_t n) {
    for (size_t i = 0; i < n; i++) {
        if ((s[i] == '"' || s[i] == '\\' || s[i] == ']') && put(p, "\\", 1) < 0) return CTX_ENOMEM;
        if (put(p, s + i, 1) < 0) return CTX_ENOMEM;
    }
    return 0;
}

/* SD-NAME: 1..32 printable US-ASCII except '=', ' ', ']', '"' */
static size_t sd_name(const struct sd *p) {
    size_t i = p->pos;
    while (i < p->len && i - p->pos < 32) {
        unsigned char c = (unsigned char)p->in[i];
        if (c <= 32 || c >= 127 || c == '=' || c == ']' || c == '"') break;
        i++;
    }
    return i - p->pos;
}

/* the value starting at p->pos (after the opening quote): unescape into ctx->tmp, redact */
static int sd_value(struct sd *p, const char *name, size_t namelen) {
    ctx_redact_ctx *c = p->ctx;
    size_t start = p->pos, n = 0;
    if (rx_buf_reserve(&c->tmp, &c->tmpcap, p->len - start + 1) < 0) return CTX_ENOMEM;
    while (p->pos < p->len && p->in[p->pos] != '"') {
        char ch = p->in[p->pos];
        char nx = p->pos + 1 < p->len ? p->in[p->pos + 1] : '\0';
        if (ch == '\\' && (nx == '"' || nx == '\\' || nx == ']')) ch = p->in[++p->pos];
        c->tmp[n++] = ch;
        p->pos++;
    }
    if (p->pos >= p->len) return CTX_EPARSE;
    const char *out = NULL;
    size_t outlen = 0;
    int rc = rx_key_is_secret(c->rules, name, namelen) ? rx_whole_value(c, p->set, c->tmp, n, &out, &outlen) : 0;
    if (rc == 0) rc = ctx_redact_apply(c, p->set, c->tmp, n, &out, &outlen);
    if (rc < 0) return rc;
    p->changed |= rc;
    rc = rc ? put_escaped(p, out, outlen) : put(p, p->in + start, p->pos - start);
    p->pos++; /* closing quote */
    return rc < 0 ? rc : put(p, "\"", 1);
}

static int sd_element(struct sd *p) {
    if (p->in[p->pos] != '[') return CTX_EPARSE;
    p->pos++;
    size_t n = sd_name(p);
    if (n == 0 || put(p, p->in + p->pos - 1, n + 1) < 0) return n == 0 ? CTX_EPARSE : CTX_ENOMEM;
    p->pos += n;
    while (p->pos < p->len && p->in[p->pos] == ' ') {
        p->pos++;
        size_t nl = sd_name(p);
        const char *name = p->in + p->pos;
        if (nl == 0 || p->pos + nl + 2 > p->len || name[nl] != '=' || name[nl + 1] != '"') return CTX_EPARSE;
        if (put(p, name - 1, nl + 3) < 0) return CTX_ENOMEM;
        p->pos += nl + 2;
        int rc = sd_value(p, name, nl);
        if (rc < 0) return rc;
    }
    if (p->pos >= p->len || p->in[p->pos] != ']') return CTX_EPARSE;
    p->pos++;
    return put(p, "]", 1);
}

/* malformed: redact as plain text, copied to sdout so that the contract of *out holds */
static int as_text(struct sd *p, const char **out, size_t *outlen) {
    ctx_redact_ctx *c = p->ctx;
    const char *o = NULL;
    size_t ol = 0;
    int rc = ctx_redact_apply(c, p->set, p->in, p->len, &o, &ol);
    if (rc <= 0) {
        *out = rc == 0 ? p->in : NULL;
        *outlen = rc == 0 ? p->len : 0;
        return rc;
    }
    c->sdlen = 0;
    if (put(p, o, ol) < 0) return CTX_ENOMEM;
    c->sdout[c->sdlen] = '\0';
    *out = c->sdout;
    *outlen = c->sdlen;
    return 1;
}

int ctx_redact_sd(ctx_redact_ctx *ctx, const ctx_redact_set *set, const char *in, size_t len, const char **out,
                  size_t *outlen) {
    if (out != NULL) *out = NULL;
    if (ctx == NULL || set == NULL || out == NULL || outlen == NULL || (in == NULL && len > 0) ||
        set->rules != ctx->rules)
        return CTX_EINVAL;
    struct sd p = {ctx, set, in ? in : "", len, 0, 0};
    if (len == 0 || (len == 1 && in[0] == '-')) {
        *out = p.in;
        *outlen = len;
        return 0;
    }
    ctx->sdlen = 0;
    int rc = 0;
    while (rc == 0 && p.pos < len) rc = sd_element(&p);
    if (rc == CTX_EPARSE) return as_text(&p, out, outlen);
    if (rc < 0) return rc;
    if (!p.changed) {
        *out = in;
        *outlen = len;
        return 0;
    }
    ctx->sdout[ctx->sdlen] = '\0';
    *out = ctx->sdout;
    *outlen = ctx->sdlen;
    return 1;
}
