/* batch.c: per-tenant batch builder (NDJSON / JSON array / octet-counted) and the
 * batch codec (zstd, gzip, none). See batch.h for the contracts.
 *
 * Concurrency: no locks. A ctx_batch_t is used by one thread at a time (the
 * caller's per-tenant lock); a ctx_batch_encoder_t is per thread. The decoder
 * keeps no state.
 */
#include "batch.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zlib.h>
#include <zstd.h>

#include "clock.h"
#include "batch_int.h"
#include "ctxlog_common.h"
#include "grow.h"

#define ZSTD_DEFAULT_LEVEL 3
#define ZSTD_MIN_LEVEL (-5)
#define ZSTD_MAX_LEVEL 19
#define GZIP_DEFAULT_LEVEL 6


struct ctx_batch_encoder {
    ZSTD_CCtx *zctx;   /* reused across calls; made on first zstd encode */
    z_stream zs;       /* deflate stream, valid if zs_ready */
    int zs_ready;      /* deflateInit2 done */
    int zs_level;      /* level zs was made with */
    unsigned char *out; /* output buffer, reused */
    size_t out_cap;
    ctx_fmt_scratch_t *fmt; /* the record formats' working memory (ctx_batch_seal), reused */
    uint64_t bytes_in, bytes_out, batches; /* counters */
};

uint64_t ctx_batch_now_ms(void) {
    return ctx_clock_ms();
}

const char *ctx_encoding_name(ctx_encoding_t enc) {
    switch (enc) {
        case CTX_ENC_NONE: return "none";
        case CTX_ENC_ZSTD: return "zstd";
        case CTX_ENC_GZIP: return "gzip";
    }
    return "?";
}

/* ---------------------------------------------------------------- builder */

static size_t empty_len(ctx_batch_format_t fmt) {
    return fmt == CTX_BATCH_JSON_ARRAY ? 2 : 0;
}

void ctx_batch_reset(ctx_batch_t *b) {
    b->len = empty_len(b->fmt);
    memcpy(b->buf, "[]", b->len);
    b->buf[b->len] = '\0';
    b->count = 0;
    b->opened_ms = 0;
    batch_rec_reset(b);
}

int ctx_batch_new(ctx_batch_format_t fmt, const ctx_batch_limits_t *limits, ctx_batch_t **out) {
    if (out == NULL)
        return CTX_EINVAL;
    *out = NULL;
    if (limits == NULL || (unsigned)fmt > CTX_BATCH_SPLUNK_HEC)
        return CTX_EINVAL;
    ctx_batch_t *b = calloc(1, sizeof *b);
    if (b == NULL)
        return CTX_ENOMEM;
    b->cap = 4096;
    b->buf = malloc(b->cap);
    if (b->buf == NULL) {
        free(b);
        return CTX_ENOMEM;
    }
    b->fmt = fmt;
    b->limits = *limits;
    ctx_batch_reset(b);
    *out = b;
    return CTX_OK;
}

void ctx_batch_free(ctx_batch_t *b) {
    if (b == NULL)
        return;
    batch_rec_free(b);
    free(b->buf);
    free(b);
}

static int reserve(ctx_batch_t *b, size_t need) {
    if (need <= b->cap)
        return CTX_OK;
    size_t cap = b->cap;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    char *p = ctx_resize(b->buf, &b->cap, cap);
    if (p == NULL)
        return CTX_ENOMEM;
    b->buf = p;
    return CTX_OK;
}

/* bytes the body grows by when a message of len bytes is appended; *prefix gets
 * the text written before the message */
static size_t framed_growth(const ctx_batch_t *b, size_t len, char *prefix, size_t *plen) {
    switch (b->fmt) {
        case CTX_BATCH_NDJSON:
            *plen = 0;
            return len + 1;
        case CTX_BATCH_JSON_ARRAY:
            *plen = b->count ? 1 : 0;
            prefix[0] = ',';
            return len + *plen;
        case CTX_BATCH_OCTET_COUNTED:
        default:
            *plen = (size_t)snprintf(prefix, 24, "%zu ", len);
            return len + *plen;
    }
}

static int validate_msg(const ctx_batch_t *b, const char *msg, size_t *len) {
    if (msg == NULL)
        return CTX_EINVAL;
    if (*len > 0 && msg[*len - 1] == '\n')
        (*len)--;
    if (*len == 0)
        return CTX_EINVAL;
    if (b->fmt == CTX_BATCH_NDJSON && memchr(msg, '\n', *len) != NULL)
        return CTX_EINVAL;
    return CTX_OK;
}

int ctx_batch_append(ctx_batch_t *b, const char *msg, size_t len) {
    if (b == NULL || ctx_batch_is_records(b->fmt) || validate_msg(b, msg, &len) != CTX_OK)
        return CTX_EINVAL;
    char prefix[24];
    size_t plen;
    size_t grow = framed_growth(b, len, prefix, &plen);
    if (b->count > 0) {
        if (b->limits.max_messages && b->count >= b->limits.max_messages)
            return CTX_EFULL;
        if (b->limits.max_bytes && b->len + grow > b->limits.max_bytes)
            return CTX_EFULL;
    }
    if (len > SIZE_MAX - 64 - b->len || reserve(b, b->len + grow + 1) != CTX_OK)
        return CTX_ENOMEM;
    char *p = b->buf + b->len;
    if (b->fmt == CTX_BATCH_JSON_ARRAY)
        p--; /* overwrite the closing ']' */
    memcpy(p, prefix, plen);
    memcpy(p + plen, msg, len);
    p += plen + len;
    *p++ = b->fmt == CTX_BATCH_NDJSON ? '\n' : (b->fmt == CTX_BATCH_JSON_ARRAY ? ']' : '\0');
    b->len += grow;
    b->buf[b->len] = '\0';
    if (b->count++ == 0)
        b->opened_ms = ctx_batch_now_ms();
    return CTX_OK;
}

int ctx_batch_is_full(const ctx_batch_t *b) {
    if (b->limits.max_messages && b->count >= b->limits.max_messages)
        return 1;
    return b->count > 0 && b->limits.max_bytes && ctx_batch_size(b) >= b->limits.max_bytes;
}

int ctx_batch_due(const ctx_batch_t *b, uint64_t now_ms) {
    if (b->count == 0)
        return 0;
    if (ctx_batch_is_full(b))
        return 1;
    return now_ms >= b->opened_ms && now_ms - b->opened_ms >= b->limits.max_delay_ms;
}

size_t ctx_batch_count(const ctx_batch_t *b) {
    return b->count;
}

const char *ctx_batch_body(const ctx_batch_t *b, size_t *len) {
    if (len)
        *len = b->len;
    return b->buf;
}

uint64_t ctx_batch_opened_ms(const ctx_batch_t *b) {
    return b->opened_ms;
}

ctx_batch_format_t ctx_batch_format(const ctx_batch_t *b) {
    return b->fmt;
}

/* ---------------------------------------------------------------- encoder */

int ctx_batch_encoder_new(ctx_batch_encoder_t **out) {
    if (out == NULL)
        return CTX_EINVAL;
    *out = calloc(1, sizeof **out);
    return *out ? CTX_OK : CTX_ENOMEM;
}

void ctx_batch_encoder_free(ctx_batch_encoder_t *e) {
    if (e == NULL)
        return;
    ZSTD_freeCCtx(e->zctx);
    if (e->zs_ready)
        deflateEnd(&e->zs);
    free(e->out);
    ctx_fmt_scratch_free(e->fmt);
    free(e);
}

ctx_fmt_scratch_t **batch_encoder_scratch(ctx_batch_encoder_t *e) {
    return e != NULL ? &e->fmt : NULL;
}

static int out_reserve(ctx_batch_encoder_t *e, size_t need) {
    if (need <= e->out_cap)
        return CTX_OK;
    unsigned char *p = ctx_resize(e->out, &e->out_cap, need);
    if (p == NULL)
        return CTX_ENOMEM;
    e->out = p;
    return CTX_OK;
}

static int encode_zstd(ctx_batch_encoder_t *e, int level, const void *in, size_t inlen, size_t *outlen) {
    if (level == 0)
        level = ZSTD_DEFAULT_LEVEL;
    if (level < ZSTD_MIN_LEVEL || level > ZSTD_MAX_LEVEL)
        return CTX_EINVAL;
    if (e->zctx == NULL && (e->zctx = ZSTD_createCCtx()) == NULL)
        return CTX_ENOMEM;
    size_t bound = ZSTD_compressBound(inlen);
    if (ZSTD_isError(bound) || out_reserve(e, bound) != CTX_OK)
        return CTX_ENOMEM;
    ZSTD_CCtx_reset(e->zctx, ZSTD_reset_session_and_parameters);
    if (ZSTD_isError(ZSTD_CCtx_setParameter(e->zctx, ZSTD_c_compressionLevel, level)) ||
        ZSTD_isError(ZSTD_CCtx_setParameter(e->zctx, ZSTD_c_checksumFlag, 1)))
        return CTX_EIO;
    size_t n = ZSTD_compress2(e->zctx, e->out, bound, in, inlen);
    if (ZSTD_isError(n))
        return CTX_EIO;
    *outlen = n;
    return CTX_OK;
}

static int deflate_ready(ctx_batch_encoder_t *e, int level) {
    if (e->zs_ready && e->zs_level == level)
        return deflateReset(&e->zs) == Z_OK ? CTX_OK : CTX_EIO;
    if (e->zs_ready)
        deflateEnd(&e->zs);
    e->zs_ready = 0;
    memset(&e->zs, 0, sizeof e->zs);
    int rc = deflateInit2(&e->zs, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
    if (rc != Z_OK)
        return rc == Z_MEM_ERROR ? CTX_ENOMEM : CTX_EIO;
    e->zs_ready = 1;
    e->zs_level = level;
    return CTX_OK;
}

static int encode_gzip(ctx_batch_encoder_t *e, int level, const void *in, size_t inlen, size_t *outlen) {
    if (level == 0)
        level = GZIP_DEFAULT_LEVEL;
    if (level < 1 || level > 9 || inlen > UINT32_MAX)
        return CTX_EINVAL;
    int rc = deflate_ready(e, level);
    if (rc != CTX_OK)
        return rc;
    uLong bound = deflateBound(&e->zs, (uLong)inlen);
    if (out_reserve(e, bound) != CTX_OK)
        return CTX_ENOMEM;
    e->zs.next_in = (Bytef *)(uintptr_t)in;
    e->zs.avail_in = (uInt)inlen;
    e->zs.next_out = e->out;
    e->zs.avail_out = (uInt)bound;
    if (deflate(&e->zs, Z_FINISH) != Z_STREAM_END)
        return CTX_EIO;
    *outlen = bound - e->zs.avail_out;
    return CTX_OK;
}

int ctx_batch_encode(ctx_batch_encoder_t *e, ctx_encoding_t enc, int level, const void *in, size_t inlen,
                     const void **out, size_t *outlen) {
    if (e == NULL || out == NULL || outlen == NULL || (in == NULL && inlen > 0))
        return CTX_EINVAL;
    int rc;
    size_t n = 0;
    switch (enc) {
        case CTX_ENC_NONE:
            *out = in;
            n = inlen;
            rc = CTX_OK;
            break;
        case CTX_ENC_ZSTD:
            rc = encode_zstd(e, level, in ? in : "", inlen, &n);
            *out = e->out;
            break;
        case CTX_ENC_GZIP:
            rc = encode_gzip(e, level, in ? in : "", inlen, &n);
            *out = e->out;
            break;
        default:
            rc = CTX_EINVAL;
    }
    if (rc != CTX_OK) {
        *out = NULL;
        *outlen = 0;
        return rc;
    }
    *outlen = n;
    e->bytes_in += inlen;
    e->bytes_out += n;
    e->batches++;
    return CTX_OK;
}

void ctx_batch_encoder_stats(const ctx_batch_encoder_t *e, uint64_t *bytes_in, uint64_t *bytes_out,
                             uint64_t *batches) {
    if (bytes_in)
        *bytes_in = e->bytes_in;
    if (bytes_out)
        *bytes_out = e->bytes_out;
    if (batches)
        *batches = e->batches;
}

/* ---------------------------------------------------------------- decoder */

typedef struct {
    unsigned char *p;
    size_t len, cap, max;
} dbuf_t;

/* makes room for at least `want` more bytes plus the NUL, up to max + 1 data bytes:
 * the byte past max is how an oversized result is detected */
static int dbuf_grow(dbuf_t *d, size_t want) {
    if (d->len > d->max)
        return CTX_EFULL;
    size_t limit = d->max + 2;
    if (d->len + want + 1 <= d->cap || d->cap >= limit)
        return CTX_OK;
    size_t cap = d->cap ? d->cap : 65536;
    while (cap < d->len + want + 1 && cap < limit)
        cap = cap > SIZE_MAX / 2 ? limit : cap * 2;
    if (cap > limit)
        cap = limit;
    unsigned char *p = ctx_resize(d->p, &d->cap, cap);
    if (p == NULL)
        return CTX_ENOMEM;
    d->p = p;
    return CTX_OK;
}

static size_t dbuf_room(const dbuf_t *d) {
    return d->cap - d->len - 1;
}

static int decode_zstd(const void *in, size_t inlen, dbuf_t *d) {
    ZSTD_DStream *ds = ZSTD_createDStream();
    if (ds == NULL)
        return CTX_ENOMEM;
    ZSTD_inBuffer ib = {in, inlen, 0};
    size_t rc = 1;
    int err = CTX_OK;
    while (err == CTX_OK && rc != 0) {
        if ((err = dbuf_grow(d, ZSTD_DStreamOutSize())) != CTX_OK)
            break;
        ZSTD_outBuffer ob = {d->p + d->len, dbuf_room(d), 0};
        size_t before_in = ib.pos;
        rc = ZSTD_decompressStream(ds, &ob, &ib);
        d->len += ob.pos;
        if (ZSTD_isError(rc))
            err = CTX_EPARSE;
        else if (rc != 0 && ib.pos == inlen && ob.pos == 0 && before_in == ib.pos)
            err = CTX_EPARSE; /* truncated: no progress and input exhausted */
    }
    ZSTD_freeDStream(ds);
    if (err == CTX_OK && ib.pos != inlen)
        err = CTX_EPARSE;
    return err;
}

static int decode_gzip(const void *in, size_t inlen, dbuf_t *d) {
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    if (inlen > UINT32_MAX)
        return CTX_EINVAL;
    if (inflateInit2(&zs, 15 + 16) != Z_OK)
        return CTX_ENOMEM;
    zs.next_in = (Bytef *)(uintptr_t)in;
    zs.avail_in = (uInt)inlen;
    int rc = Z_OK, err = CTX_OK;
    while (rc != Z_STREAM_END) {
        if ((err = dbuf_grow(d, 65536)) != CTX_OK)
            break;
        size_t room = dbuf_room(d);
        zs.next_out = d->p + d->len;
        zs.avail_out = room > UINT32_MAX ? UINT32_MAX : (uInt)room;
        uInt before = zs.avail_out;
        rc = inflate(&zs, Z_NO_FLUSH);
        d->len += before - zs.avail_out;
        if (rc != Z_OK && rc != Z_STREAM_END) {
            err = rc == Z_MEM_ERROR ? CTX_ENOMEM : CTX_EPARSE; /* Z_BUF_ERROR: truncated */
            break;
        }
    }
    if (err == CTX_OK && zs.avail_in != 0)
        err = CTX_EPARSE;
    inflateEnd(&zs);
    return err;
}

int ctx_batch_decode(ctx_encoding_t enc, const void *in, size_t inlen, size_t max_out, unsigned char **out,
                     size_t *outlen) {
    if (out == NULL || outlen == NULL)
        return CTX_EINVAL;
    *out = NULL;
    *outlen = 0;
    if (in == NULL && inlen > 0)
        return CTX_EINVAL;
    dbuf_t d = {NULL, 0, 0, max_out > SIZE_MAX - 2 ? SIZE_MAX - 2 : max_out};
    int rc;
    switch (enc) {
        case CTX_ENC_NONE:
            rc = inlen > max_out ? CTX_EFULL : dbuf_grow(&d, inlen);
            if (rc == CTX_OK && inlen) {
                memcpy(d.p, in, inlen);
                d.len = inlen;
            }
            break;
        case CTX_ENC_ZSTD: rc = decode_zstd(in, inlen, &d); break;
        case CTX_ENC_GZIP: rc = decode_gzip(in, inlen, &d); break;
        default: rc = CTX_EINVAL;
    }
    if (rc == CTX_OK && d.len > d.max)
        rc = CTX_EFULL;
    if (rc == CTX_OK && d.p == NULL)
        rc = dbuf_grow(&d, 0);
    if (rc != CTX_OK) {
        free(d.p);
        return rc;
    }
    d.p[d.len] = '\0';
    *out = d.p;
    *outlen = d.len;
    return CTX_OK;
}
