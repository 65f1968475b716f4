/* fmt_otlp.c: a batch of records as one OTLP ExportLogsServiceRequest, protobuf or OTLP/JSON
 * (fmt.h; docs/omtenant.md#otlp lists every field and attribute).
 *
 * Grouping, so that nothing proportional to a context's size happens per record:
 * - each record's ctx text is looked up first by its address (records that share one text, as
 *   outrec's memo gives them, cost one hash-table probe), then by content (length, hash, bytes);
 * - each distinct text is parsed once (fmt_otlp_ctx.c) into its resource attributes and its
 *   per-message attributes ($!ctx!capture, ...), both encoded once;
 * - distinct texts whose resource attributes encode to the same bytes share one ResourceLogs
 *   (the texts of one VM differ only by per-message members);
 * - the records are then written group by group, in order of first appearance, each copying
 *   its text's encoded per-message attributes.
 *
 * Memory: the tables and the attribute buffers live in a ctx_fmt_scratch_t the caller keeps
 * between batches (one per sealing thread), or in the call when it has none.
 *
 * Concurrency: no state of its own; a scratch is used by one thread at a time.
 */
#include "fmt.h"

#include <stdlib.h>
#include <string.h>

#include "ctxlog_common.h"
#include "fmt_otlp_int.h"
#ifdef HAVE_CONFIG_H
#include "ctxlog-config.h"
#endif
#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "unknown"
#endif

#define SCOPE_NAME "ctxlog"

typedef struct { /* one distinct ctx text */
    const char *p;
    size_t n;
    uint64_t h;
    uint32_t res;      /* its resource */
    size_t moff, mlen; /* its per-message attributes, in the batch's mbuf */
} ot_text_t;

typedef struct {   /* one distinct resource */
    uint64_t h;
    size_t off, len; /* its attributes, in the batch's rbuf */
    size_t first;    /* its first record in order[] */
    size_t count;
} ot_res_t;

typedef struct { /* an address a text was seen at */
    const char *p;
    size_t n;
    uint32_t text; /* index + 1; 0: empty slot */
} ot_addr_t;

typedef struct {
    const ctx_fmt_rec_t *recs;
    size_t n, ntext, nres, tmask;
    ot_text_t *text;
    ot_res_t *res;
    uint32_t *rec_text;                /* per record: its text */
    ot_addr_t *ptab;                   /* texts by address */
    uint32_t *ctab, *rtab;             /* texts by content, resources: index + 1, 0 empty */
    size_t *order;                     /* record indices, grouped by resource */
    ctx_fmt_buf_t rbuf, mbuf;
    int json;
} ot_batch_t;

static uint64_t hash_bytes(const void *p, size_t n) { /* FNV-1a */
    const unsigned char *s = p;
    uint64_t h = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < n; i++) h = (h ^ s[i]) * 0x100000001b3ULL;
    return h;
}

static uint64_t hash_ptr(const void *p, size_t n) {
    uint64_t h = ((uint64_t)(uintptr_t)p ^ ((uint64_t)n << 32)) * 0x9e3779b97f4a7c15ULL;
    return h ^ (h >> 29);
}

struct ctx_fmt_scratch {
    unsigned char *block; /* the tables of the largest batch so far */
    size_t cap;
    ctx_fmt_buf_t rbuf, mbuf;
};

void ctx_fmt_scratch_free(ctx_fmt_scratch_t *s) {
    if (s == NULL) return;
    free(s->block);
    free(s->rbuf.buf), free(s->mbuf.buf);
    free(s);
}

/* hands the buffers back to the scratch (they may have grown), or frees them without one */
static void batch_free(ot_batch_t *b, ctx_fmt_scratch_t *s) {
    if (s != NULL) {
        s->rbuf = b->rbuf, s->mbuf = b->mbuf;
        return;
    }
    free(b->text); /* the one block of every table */
    free(b->rbuf.buf), free(b->mbuf.buf);
}

/* a block of sz bytes: the scratch's (grown when too small: its old content is not
 * needed, so free and malloc rather than realloc's copy) or a new one */
static unsigned char *block_of(ctx_fmt_scratch_t *s, size_t sz) {
    if (s == NULL) return malloc(sz);
    if (s->cap < sz) {
        free(s->block);
        s->cap = 0;
        if ((s->block = malloc(sz)) == NULL) return NULL;
        s->cap = sz;
    }
    return s->block;
}

/* the tables, in one block (one allocation, or none with a grown scratch) */
static int batch_alloc(ot_batch_t *b, const ctx_fmt_rec_t *recs, size_t n, int json, ctx_fmt_scratch_t *s) {
    memset(b, 0, sizeof(*b));
    b->recs = recs, b->n = n, b->json = json;
    size_t t = 16;
    while (t < 2 * n) t *= 2;
    b->tmask = t - 1;
    size_t sz = n * (sizeof *b->text + sizeof *b->res + sizeof *b->order + sizeof *b->rec_text) +
                t * (sizeof *b->ptab + 2 * sizeof(uint32_t));
    if (s != NULL) {
        b->rbuf = s->rbuf, b->mbuf = s->mbuf;
        b->rbuf.len = b->mbuf.len = 0;
        s->rbuf = s->mbuf = (ctx_fmt_buf_t){0}; /* the batch holds them until batch_free */
    }
    unsigned char *p = block_of(s, sz); /* in order of alignment: the uint32_t tables last */
    if (p == NULL) return CTX_ENOMEM;
    memset(p + n * (sizeof *b->text + sizeof *b->res + sizeof *b->order), 0, t * sizeof *b->ptab); /* the hash */
    memset(p + sz - 2 * t * sizeof(uint32_t), 0, 2 * t * sizeof(uint32_t));                     /* tables */
    b->text = (ot_text_t *)p, p += n * sizeof *b->text;
    b->res = (ot_res_t *)p, p += n * sizeof *b->res;
    b->order = (size_t *)p, p += n * sizeof *b->order;
    b->ptab = (ot_addr_t *)p, p += t * sizeof *b->ptab;
    b->rec_text = (uint32_t *)p, p += n * sizeof *b->rec_text;
    b->ctab = (uint32_t *)p, p += t * sizeof(uint32_t);
    b->rtab = (uint32_t *)p;
    /* never NULL, so that an empty one's offsets are offsets into something */
    if (ctx_fmt_buf_reserve(&b->rbuf, 256) != 0 || ctx_fmt_buf_reserve(&b->mbuf, 256) != 0) return CTX_ENOMEM;
    return 0;
}

/* the resource of the attributes just written at rbuf[off..]: an existing one (they are
 * dropped from rbuf) or a new one */
static uint32_t resource_of(ot_batch_t *b, size_t off) {
    size_t len = b->rbuf.len - off;
    uint64_t h = hash_bytes(b->rbuf.buf + off, len);
    size_t s = (size_t)h & b->tmask;
    for (; b->rtab[s] != 0; s = (s + 1) & b->tmask) {
        ot_res_t *r = &b->res[b->rtab[s] - 1];
        if (r->h == h && r->len == len && memcmp(b->rbuf.buf + r->off, b->rbuf.buf + off, len) == 0) {
            b->rbuf.len = off;
            return b->rtab[s] - 1;
        }
    }
    b->res[b->nres] = (ot_res_t){.h = h, .off = off, .len = len}; /* count 0: the table is not zeroed */
    b->rtab[s] = (uint32_t)++b->nres;
    return b->rtab[s] - 1;
}

/* a new distinct text: its attributes encoded, its resource found */
static int text_add(ot_batch_t *b, const char *p, size_t n, uint64_t h, uint32_t *idx) {
    ot_text_t *t = &b->text[b->ntext];
    ot_w_t wr = {&b->rbuf, b->json, 0}, wm = {&b->mbuf, b->json, 0};
    size_t roff = b->rbuf.len;
    t->p = p, t->n = n, t->h = h, t->moff = b->mbuf.len;
    int rc = ot_ctx_attrs(p, n, &wr, OT_RES_ATTRIBUTES, &wm);
    if (rc != 0) return rc;
    t->mlen = b->mbuf.len - t->moff;
    t->res = resource_of(b, roff);
    *idx = (uint32_t)b->ntext++;
    return 0;
}

/* the text of record i (by address, else by content; new if unseen) */
static int text_of(ot_batch_t *b, size_t i, uint32_t *idx) {
    const ctx_fmt_str_t *c = &b->recs[i].ctx;
    const char *p = c->n ? c->p : "";
    size_t ps = (size_t)hash_ptr(p, c->n) & b->tmask;
    for (; b->ptab[ps].text != 0; ps = (ps + 1) & b->tmask) {
        if (b->ptab[ps].p == p && b->ptab[ps].n == c->n) {
            *idx = b->ptab[ps].text - 1;
            return 0;
        }
    }
    uint64_t h = hash_bytes(p, c->n);
    size_t cs = (size_t)h & b->tmask;
    for (; b->ctab[cs] != 0; cs = (cs + 1) & b->tmask) {
        ot_text_t *t = &b->text[b->ctab[cs] - 1];
        if (t->h == h && t->n == c->n && memcmp(t->p, p, c->n) == 0) break;
    }
    if (b->ctab[cs] != 0) {
        *idx = b->ctab[cs] - 1;
    } else {
        int rc = text_add(b, p, c->n, h, idx);
        if (rc != 0) return rc;
        b->ctab[cs] = *idx + 1;
    }
    b->ptab[ps] = (ot_addr_t){p, c->n, *idx + 1}; /* at most one address per record: the table holds n */
    return 0;
}

static int group(ot_batch_t *b) {
    for (size_t i = 0; i < b->n; i++) {
        uint32_t t;
        int rc = text_of(b, i, &t);
        if (rc != 0) return rc;
        b->rec_text[i] = t;
        b->res[b->text[t].res].count++;
    }
    size_t at = 0;
    for (size_t r = 0; r < b->nres; r++) {
        b->res[r].first = at;
        at += b->res[r].count;
        b->res[r].count = 0;
    }
    for (size_t i = 0; i < b->n; i++) {
        ot_res_t *r = &b->res[b->text[b->rec_text[i]].res];
        b->order[r->first + r->count++] = i;
    }
    return 0;
}

/* OTel logs data model, appendix B: syslog severity 0..7 -> SeverityNumber */
static const unsigned SEV_NUMBER[8] = {21, 19, 18, 17, 13, 10, 9, 5};
static const char *const SEV_TEXT[8] = {"emerg", "alert", "crit", "err", "warning", "notice", "info", "debug"};
static const unsigned char SEV_TEXT_LEN[8] = {5, 5, 4, 3, 7, 6, 4, 5};

static void rec_attrs(ot_w_t *w, const ctx_fmt_rec_t *r, const ot_text_t *t, const ot_batch_t *b) {
    if (r->app.n) OT_KV_STR_LIT(w, OT_LR_ATTRIBUTES, "syslog.appname", r->app.p, r->app.n);
    if (r->procid.n) OT_KV_STR_LIT(w, OT_LR_ATTRIBUTES, "syslog.procid", r->procid.p, r->procid.n);
    if (r->msgid.n) OT_KV_STR_LIT(w, OT_LR_ATTRIBUTES, "syslog.msgid", r->msgid.p, r->msgid.n);
    if (r->facility >= 0 && r->facility <= 23) ot_kv_int(w, OT_LR_ATTRIBUTES, "syslog.facility", r->facility);
    if (r->host.n) OT_KV_STR_LIT(w, OT_LR_ATTRIBUTES, "syslog.hostname", r->host.p, r->host.n);
    if (r->sd.n) ot_sd_attr(w, r->sd.p, r->sd.n);
    ot_raw(w, b->mbuf.buf + t->moff, t->mlen);
}

static void rec_pb(ot_w_t *w, const ctx_fmt_rec_t *r, const ot_text_t *t, const ot_batch_t *b) {
    size_t lr = ot_pb_open2(w, OT_SL_LOG_RECORDS);
    if (r->severity >= 0 && r->severity <= 7) {
        ot_pb_key(w, OT_LR_SEVERITY_NUMBER, OT_WT_VARINT);
        ot_pb_varint(w, SEV_NUMBER[r->severity]);
        ot_pb_str(w, OT_LR_SEVERITY_TEXT, SEV_TEXT[r->severity], SEV_TEXT_LEN[r->severity]);
    }
    rec_attrs(w, r, t, b);
    ot_pb_anystr(w, OT_LR_BODY, r->msg.p, r->msg.n);
    if (r->time_unix_nano) ot_pb_fixed64(w, OT_LR_TIME, r->time_unix_nano);
    if (r->observed_unix_nano) ot_pb_fixed64(w, OT_LR_OBSERVED_TIME, r->observed_unix_nano);
    ot_pb_close2(w, lr);
}

static void rec_json(ot_w_t *w, const ctx_fmt_rec_t *r, const ot_text_t *t, const ot_batch_t *b) {
    ot_raw(w, ",{\"body\":{\"stringValue\":", 24);
    ot_js_str(w, r->msg.p, r->msg.n);
    ot_raw(w, "}", 1);
    if (r->time_unix_nano) {
        ot_lit(w, ",\"timeUnixNano\":\"");
        ot_js_u64(w, r->time_unix_nano);
        ot_raw(w, "\"", 1);
    }
    if (r->observed_unix_nano) {
        ot_lit(w, ",\"observedTimeUnixNano\":\"");
        ot_js_u64(w, r->observed_unix_nano);
        ot_raw(w, "\"", 1);
    }
    if (r->severity >= 0 && r->severity <= 7) {
        ot_lit(w, ",\"severityNumber\":");
        ot_js_u64(w, SEV_NUMBER[r->severity]);
        ot_lit(w, ",\"severityText\":\"");
        ot_lit(w, SEV_TEXT[r->severity]);
        ot_raw(w, "\"", 1);
    }
    ot_lit(w, ",\"attributes\":");
    size_t a = ot_jlist_open(w);
    rec_attrs(w, r, t, b);
    ot_jlist_close(w, a);
    ot_raw(w, "}", 1);
}

static void resource_pb(ot_w_t *w, const ot_batch_t *b, const ot_res_t *res) {
    size_t rl = ot_pb_open(w, OT_REQ_RESOURCE_LOGS);
    size_t rs = ot_pb_open(w, OT_RL_RESOURCE);
    ot_raw(w, b->rbuf.buf + res->off, res->len);
    ot_pb_close(w, rs);
    size_t sl = ot_pb_open(w, OT_RL_SCOPE_LOGS);
    size_t sc = ot_pb_open(w, OT_SL_SCOPE);
    ot_pb_str(w, OT_SCOPE_NAME, SCOPE_NAME, strlen(SCOPE_NAME));
    ot_pb_str(w, OT_SCOPE_VERSION, PACKAGE_VERSION, strlen(PACKAGE_VERSION));
    ot_pb_close(w, sc);
    for (size_t k = 0; k < res->count; k++) {
        size_t i = b->order[res->first + k];
        rec_pb(w, &b->recs[i], &b->text[b->rec_text[i]], b);
    }
    ot_pb_close(w, sl);
    ot_pb_close(w, rl);
}

static void resource_json(ot_w_t *w, const ot_batch_t *b, const ot_res_t *res) {
    ot_lit(w, ",{\"resource\":{\"attributes\":");
    size_t a = ot_jlist_open(w);
    ot_raw(w, b->rbuf.buf + res->off, res->len);
    ot_jlist_close(w, a);
    ot_lit(w, "},\"scopeLogs\":[{\"scope\":{\"name\":\"" SCOPE_NAME "\",\"version\":");
    ot_js_str(w, PACKAGE_VERSION, strlen(PACKAGE_VERSION));
    ot_lit(w, "},\"logRecords\":");
    size_t l = ot_jlist_open(w);
    for (size_t k = 0; k < res->count; k++) {
        size_t i = b->order[res->first + k];
        rec_json(w, &b->recs[i], &b->text[b->rec_text[i]], b);
    }
    ot_jlist_close(w, l);
    ot_lit(w, "}]}");
}

int ctx_fmt_otlp_encode(const ctx_fmt_rec_t *recs, size_t n, int json, ctx_fmt_buf_t *out) {
    return ctx_fmt_otlp_encode_s(recs, n, json, out, NULL);
}

int ctx_fmt_otlp_encode_s(const ctx_fmt_rec_t *recs, size_t n, int json, ctx_fmt_buf_t *out,
                          ctx_fmt_scratch_t **scratch) {
    if (recs == NULL || n == 0 || out == NULL || n >= UINT32_MAX / 2) return CTX_EINVAL;
    if (scratch != NULL && *scratch == NULL) *scratch = calloc(1, sizeof **scratch); /* NULL: as without */
    ctx_fmt_scratch_t *s = scratch != NULL ? *scratch : NULL;
    ot_batch_t b;
    int rc = batch_alloc(&b, recs, n, json ? 1 : 0, s);
    if (rc == 0) rc = group(&b);
    if (rc != 0) {
        batch_free(&b, s);
        return rc;
    }
    size_t start = out->len;
    ot_w_t w = {out, b.json, 0};
    size_t l = 0;
    if (b.json) {
        ot_lit(&w, "{\"resourceLogs\":");
        l = ot_jlist_open(&w);
    }
    for (size_t r = 0; r < b.nres; r++) {
        if (b.json)
            resource_json(&w, &b, &b.res[r]);
        else
            resource_pb(&w, &b, &b.res[r]);
    }
    if (b.json) {
        ot_jlist_close(&w, l);
        ot_lit(&w, "}");
    }
    batch_free(&b, s);
    if (w.err) out->len = start;
    return w.err;
}
