/* batch_rec.c: the batch of a record format (otlp, otlp-json, elasticsearch, loki,
 * splunk-hec; batch.h): records are kept as their fields, and the body is built once,
 * at seal time, by the format's encoder (fmt.h).
 *
 * The records' strings live in one growable buffer (offsets, so that it may move); a
 * context text equal to one already in the batch (records of one VM: outrec's memo
 * gives them byte-identical texts) is stored once, and every record of that VM points
 * at the same bytes, which is what lets encoders group by context cheaply.
 *
 * Concurrency: as batch.c (the caller's per-tenant lock).
 */
#include <stdlib.h>
#include <string.h>

#include "batch_int.h"
#include "clock.h"
#include "ctxlog_common.h"

#define REC_OVERHEAD 64 /* bytes the limits count for a record besides its strings */

ctx_batch_format_t ctx_batch_format_of(ctx_fmt_t f) {
    switch (f) {
    case CTX_FMT_JSON_ARRAY: return CTX_BATCH_JSON_ARRAY;
    case CTX_FMT_OTLP: return CTX_BATCH_OTLP;
    case CTX_FMT_OTLP_JSON: return CTX_BATCH_OTLP_JSON;
    case CTX_FMT_ELASTICSEARCH: return CTX_BATCH_ELASTICSEARCH;
    case CTX_FMT_LOKI: return CTX_BATCH_LOKI;
    case CTX_FMT_SPLUNK_HEC: return CTX_BATCH_SPLUNK_HEC;
    default: return CTX_BATCH_NDJSON;
    }
}

ctx_fmt_t ctx_batch_fmt(ctx_batch_format_t bf) {
    switch (bf) {
    case CTX_BATCH_JSON_ARRAY: return CTX_FMT_JSON_ARRAY;
    case CTX_BATCH_OTLP: return CTX_FMT_OTLP;
    case CTX_BATCH_OTLP_JSON: return CTX_FMT_OTLP_JSON;
    case CTX_BATCH_ELASTICSEARCH: return CTX_FMT_ELASTICSEARCH;
    case CTX_BATCH_LOKI: return CTX_FMT_LOKI;
    case CTX_BATCH_SPLUNK_HEC: return CTX_FMT_SPLUNK_HEC;
    default: return CTX_FMT_NDJSON;
    }
}

int ctx_batch_is_records(ctx_batch_format_t bf) {
    return bf >= CTX_BATCH_OTLP && bf <= CTX_BATCH_SPLUNK_HEC;
}

void ctx_batch_set_opts(ctx_batch_t *b, const ctx_fmt_opts_t *opts) {
    if (b == NULL) return;
    if (opts != NULL) b->opts = *opts;
    else memset(&b->opts, 0, sizeof b->opts);
}

void batch_rec_reset(ctx_batch_t *b) {
    b->strs_len = 0;
    b->nctx = 0;
    b->est = 0;
}

void batch_rec_free(ctx_batch_t *b) {
    free(b->recs);
    free(b->strs);
    free(b->ctxs);
    free(b->view);
}

size_t ctx_batch_size(const ctx_batch_t *b) {
    return ctx_batch_is_records(b->fmt) ? b->est : b->len;
}

static int grow(void **p, size_t *cap, size_t need, size_t elem) {
    if (need <= *cap) return 0;
    size_t c = *cap ? *cap : 16;
    while (c < need) {
        if (c > SIZE_MAX / 2 / elem) return CTX_ENOMEM;
        c *= 2;
    }
    void *q = realloc(*p, c * elem);
    if (q == NULL) return CTX_ENOMEM;
    *p = q;
    *cap = c;
    return 0;
}

/* copies s into strs; its offset in *off */
static int put(ctx_batch_t *b, ctx_fmt_str_t s, size_t *off, size_t *len) {
    *off = b->strs_len, *len = s.n;
    if (s.n == 0) return 0;
    void *p = b->strs;
    if (grow(&p, &b->strs_cap, b->strs_len + s.n, 1) != 0) return CTX_ENOMEM;
    b->strs = p;
    memcpy(b->strs + b->strs_len, s.p, s.n);
    b->strs_len += s.n;
    return 0;
}

/* a record's context text, hashed 8 bytes at a time (a lookup key among the batch's
 * contexts, confirmed by memcmp: speed over quality; FNV-1a byte by byte cost ~3.5
 * instructions a byte of every record's ~300-byte $!ctx) */
static uint64_t text_hash(const char *p, size_t n) {
    uint64_t h = 1469598103934665603ull ^ n, v;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        memcpy(&v, p + i, 8);
        h = (h ^ v) * 0x9e3779b97f4a7c15ull;
        h ^= h >> 29;
    }
    for (; i < n; i++) h = (h ^ (unsigned char)p[i]) * 1099511628211ull;
    return h;
}

/* the index of the record's context among the batch's distinct ones (added if new):
 * *added the bytes it adds; UINT32_MAX if none */
static int find_ctx(ctx_batch_t *b, ctx_fmt_str_t c, uint32_t *idx, size_t *added) {
    *idx = UINT32_MAX, *added = 0;
    if (c.n == 0) return 0;
    if (b->nctx > 0) { /* the latest, compared without hashing: records of one VM come in runs */
        const batch_ctx_t *x = &b->ctxs[b->nctx - 1];
        if (x->len == c.n && memcmp(b->strs + x->off, c.p, c.n) == 0) return *idx = (uint32_t)(b->nctx - 1), 0;
    }
    uint64_t h = text_hash(c.p, c.n);
    for (size_t i = b->nctx; i-- > 0;) { /* the latest first: records of one VM come in runs */
        const batch_ctx_t *x = &b->ctxs[i];
        if (x->hash == h && x->len == c.n && memcmp(b->strs + x->off, c.p, c.n) == 0) return *idx = (uint32_t)i, 0;
    }
    void *p = b->ctxs;
    if (b->nctx >= UINT32_MAX - 1 || grow(&p, &b->ctxs_cap, b->nctx + 1, sizeof *b->ctxs) != 0) return CTX_ENOMEM;
    b->ctxs = p;
    batch_ctx_t *x = &b->ctxs[b->nctx];
    if (put(b, c, &x->off, &x->len) != 0) return CTX_ENOMEM;
    x->hash = h;
    *idx = (uint32_t)b->nctx++;
    *added = c.n;
    return 0;
}

static size_t rec_bytes(const ctx_fmt_rec_t *r) {
    return REC_OVERHEAD + r->host.n + r->app.n + r->procid.n + r->msgid.n + r->sd.n + r->msg.n;
}

int ctx_batch_append_rec(ctx_batch_t *b, const ctx_fmt_rec_t *r) {
    if (b == NULL || r == NULL || !ctx_batch_is_records(b->fmt) || (r->msg.n == 0 && r->ctx.n == 0)) return CTX_EINVAL;
    size_t need = rec_bytes(r) + r->ctx.n; /* a context already in the batch costs nothing: checked below */
    if (b->count > 0) {
        if (b->limits.max_messages && b->count >= b->limits.max_messages) return CTX_EFULL;
        if (b->limits.max_bytes && b->est + need > b->limits.max_bytes) {
            uint32_t dummy;
            size_t strs = b->strs_len, nctx = b->nctx, added;
            if (find_ctx(b, r->ctx, &dummy, &added) != 0) return CTX_ENOMEM;
            b->strs_len = strs, b->nctx = nctx; /* only looked */
            if (added == 0 ? b->est + rec_bytes(r) > b->limits.max_bytes : 1) return CTX_EFULL;
        }
    }
    void *p = b->recs;
    if (grow(&p, &b->recs_cap, b->count + 1, sizeof *b->recs) != 0) return CTX_ENOMEM;
    b->recs = p;
    batch_rec_t *x = &b->recs[b->count];
    size_t strs = b->strs_len, nctx = b->nctx, added = 0;
    const ctx_fmt_str_t f[6] = {r->host, r->app, r->procid, r->msgid, r->sd, r->msg};
    int rc = find_ctx(b, r->ctx, &x->ctx, &added);
    for (int i = 0; rc == 0 && i < 6; i++) rc = put(b, f[i], &x->off[i], &x->len[i]);
    if (rc != 0) {
        b->strs_len = strs, b->nctx = nctx;
        return CTX_ENOMEM;
    }
    x->time_ns = r->time_unix_nano, x->observed_ns = r->observed_unix_nano;
    x->facility = (int16_t)r->facility, x->severity = (int16_t)r->severity;
    b->est += rec_bytes(r) + added;
    if (b->count++ == 0) b->opened_ms = ctx_batch_now_ms();
    return 0;
}

static ctx_fmt_str_t at(const ctx_batch_t *b, size_t off, size_t len) {
    ctx_fmt_str_t s = {len ? b->strs + off : NULL, len};
    return s;
}

int ctx_batch_seal(ctx_batch_t *b, ctx_batch_encoder_t *enc, const char **body, size_t *len) {
    if (b == NULL || body == NULL || len == NULL || b->count == 0) return CTX_EINVAL;
    if (!ctx_batch_is_records(b->fmt)) {
        *body = ctx_batch_body(b, len);
        return 0;
    }
    void *vp = b->view;
    if (grow(&vp, &b->view_cap, b->count, sizeof *b->view) != 0) return CTX_ENOMEM;
    ctx_fmt_rec_t *v = b->view = vp;
    for (size_t i = 0; i < b->count; i++) {
        const batch_rec_t *x = &b->recs[i];
        v[i].time_unix_nano = x->time_ns, v[i].observed_unix_nano = x->observed_ns;
        v[i].facility = x->facility, v[i].severity = x->severity;
        v[i].host = at(b, x->off[0], x->len[0]), v[i].app = at(b, x->off[1], x->len[1]);
        v[i].procid = at(b, x->off[2], x->len[2]), v[i].msgid = at(b, x->off[3], x->len[3]);
        v[i].sd = at(b, x->off[4], x->len[4]), v[i].msg = at(b, x->off[5], x->len[5]);
        v[i].ctx = x->ctx == UINT32_MAX ? at(b, 0, 0) : at(b, b->ctxs[x->ctx].off, b->ctxs[x->ctx].len);
    }
    ctx_fmt_buf_t out = {(unsigned char *)b->buf, 0, b->cap};
    int rc = ctx_fmt_encode(ctx_batch_fmt(b->fmt), &b->opts, v, b->count, &out, batch_encoder_scratch(enc));
    if (rc == 0) rc = ctx_fmt_buf_append(&out, "", 1); /* a NUL after the body, as batch.c keeps */
    b->buf = (char *)out.buf, b->cap = out.cap;
    if (rc != 0) return rc;
    b->len = out.len - 1;
    *body = b->buf;
    *len = b->len;
    return 0;
}
