/* fmt_loki.c: Grafana Loki's push API in JSON (POST /loki/api/v1/push; fmt.h):
 *
 *   {"streams":[{"stream":{"vm_name":"web1"},
 *                "values":[["1764658851123456789","the message",{"app":"sshd","vm_uuid":"..."}],...]}]}
 *
 * One stream per distinct label set (labels: the tenant's configured keys; a stream
 * with none of them present gets {"service_name":"ctxlog"}, as Loki needs a label);
 * entries sorted by time within a stream (Loki refuses out-of-order entries of a
 * stream); the third element of a value is Loki 3's structured metadata: the record's
 * other fields and every scalar of the context not used as a label, keys flattened
 * with '_'. A context's metadata is rendered once per distinct context text of the
 * batch (records of one VM share theirs), not per record.
 *
 * Concurrency: pure functions.
 */
#include "fmt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctxlog_common.h"
#include "jsonpos.h"
#include "outrec.h"

#define PUT(b, lit) ctx_fmt_buf_append((b), (lit), sizeof(lit) - 1)

typedef struct {
    size_t off, len; /* the rendered "stream" object in the scratch buffer */
    uint64_t hash;
} span_t;

typedef struct {
    const ctx_fmt_opts_t *o;
    const ctx_fmt_rec_t *recs;
    size_t n;
    ctx_fmt_buf_t lab;   /* label objects of every record, back to back */
    span_t *ls;          /* per record: its label object */
    size_t *grp;         /* per record: its stream */
    size_t ngrp;
    ctx_fmt_buf_t meta;  /* rendered context metadata of distinct contexts */
    const char **mctx;   /* the distinct ctx pointers seen ... */
    span_t *mspan;       /* ... and their metadata */
    size_t nm;
} loki_t;

static uint64_t fnv(const unsigned char *p, size_t n) {
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 1099511628211ull;
    return h;
}

/* the record field a label key names, if it is one */
static int rec_field(const ctx_fmt_rec_t *r, const char *key, ctx_fmt_str_t *v) {
    if (!strcmp(key, "hostname")) return *v = r->host, 1;
    if (!strcmp(key, "app")) return *v = r->app, 1;
    if (!strcmp(key, "severity")) {
        const char *s = ctx_severity_name(r->severity);
        v->p = r->severity >= 0 ? s : NULL, v->n = r->severity >= 0 ? strlen(s) : 0;
        return 1;
    }
    if (!strcmp(key, "facility")) {
        const char *s = ctx_facility_name(r->facility);
        v->p = r->facility >= 0 ? s : NULL, v->n = r->facility >= 0 ? strlen(s) : 0;
        return 1;
    }
    return 0;
}

/* "name":"value" of label i for record r, when present; *first as in a list */
static int one_label(ctx_fmt_buf_t *b, const ctx_fmt_opts_t *o, unsigned i, const ctx_fmt_rec_t *r, int *first) {
    ctx_fmt_str_t v = {NULL, 0};
    int is_str = 1, escaped = 0;
    if (!rec_field(r, o->label_key[i], &v)) {
        if (!ctx_fmt_ctx_get(r->ctx.p, r->ctx.n, o->label_key[i], &v.p, &v.n, &is_str)) return 0;
        if (!is_str && v.n == 4 && memcmp(v.p, "null", 4) == 0) return 0;
        escaped = 1; /* JSON text as written: already escaped */
    }
    if (v.n == 0) return 0;
    if ((!*first && PUT(b, ",") != 0) || ctx_fmt_json_str(b, o->label_name[i], strlen(o->label_name[i])) != 0 ||
        PUT(b, ":") != 0)
        return CTX_ENOMEM;
    *first = 0;
    if (!escaped) return ctx_fmt_json_str(b, v.p, v.n);
    return (PUT(b, "\"") != 0 || ctx_fmt_buf_append(b, v.p, v.n) != 0 || PUT(b, "\"") != 0) ? CTX_ENOMEM : 0;
}

static int labels_of(loki_t *L, size_t r) {
    size_t start = L->lab.len;
    int first = 1;
    if (PUT(&L->lab, "{") != 0) return CTX_ENOMEM;
    for (unsigned i = 0; i < L->o->nlabels && i < CTX_FMT_LABELS_MAX; i++)
        if (one_label(&L->lab, L->o, i, &L->recs[r], &first) != 0) return CTX_ENOMEM;
    if (first && PUT(&L->lab, "\"service_name\":\"ctxlog\"") != 0) return CTX_ENOMEM;
    if (PUT(&L->lab, "}") != 0) return CTX_ENOMEM;
    L->ls[r].off = start, L->ls[r].len = L->lab.len - start;
    L->ls[r].hash = fnv(L->lab.buf + start, L->ls[r].len);
    return 0;
}

/* groups records by label set; group ids in order of first appearance */
static int group(loki_t *L) {
    size_t *first = malloc(L->n * sizeof *first); /* group -> its first record */
    if (first == NULL) return CTX_ENOMEM;
    for (size_t r = 0; r < L->n; r++) {
        if (labels_of(L, r) != 0) {
            free(first);
            return CTX_ENOMEM;
        }
        size_t g = 0;
        for (; g < L->ngrp; g++) {
            const span_t *a = &L->ls[first[g]], *b = &L->ls[r];
            if (a->hash == b->hash && a->len == b->len && !memcmp(L->lab.buf + a->off, L->lab.buf + b->off, a->len))
                break;
        }
        if (g == L->ngrp) first[L->ngrp++] = r;
        L->grp[r] = g;
    }
    free(first);
    return 0;
}

/* ---------------------------------------------------------------- metadata */

/* the metadata members of a context (each ",k":"v"), rendered once per distinct text */
static int ctx_meta(loki_t *L, const ctx_fmt_rec_t *r, span_t *out) {
    out->off = out->len = 0;
    if (r->ctx.n == 0) return 0;
    for (size_t i = 0; i < L->nm; i++)
        if (L->mctx[i] == r->ctx.p && L->mspan[i].hash == r->ctx.n) return *out = L->mspan[i], 0;
    size_t start = L->meta.len;
    if (ctx_fmt_ctx_flat(&L->meta, r->ctx.p, r->ctx.n, L->o) != 0) return CTX_ENOMEM;
    out->off = start, out->len = L->meta.len - start, out->hash = r->ctx.n;
    if (L->nm < L->n) { /* at most one per record */
        L->mctx[L->nm] = r->ctx.p;
        L->mspan[L->nm++] = *out;
    }
    return 0;
}

static int meta_field(ctx_fmt_buf_t *b, const ctx_fmt_opts_t *o, const char *key, ctx_fmt_str_t v) {
    if (v.n == 0 || ctx_fmt_is_label(o, key)) return 0;
    if (PUT(b, ",") != 0 || ctx_fmt_json_str(b, key, strlen(key)) != 0 || PUT(b, ":") != 0) return CTX_ENOMEM;
    return ctx_fmt_json_str(b, v.p, v.n);
}

static int entry(loki_t *L, ctx_fmt_buf_t *b, const ctx_fmt_rec_t *r) {
    char ts[32];
    uint64_t t = r->time_unix_nano ? r->time_unix_nano : r->observed_unix_nano;
    int tn = snprintf(ts, sizeof ts, "[\"%llu\",", (unsigned long long)t);
    if (ctx_fmt_buf_append(b, ts, (size_t)tn) != 0 || ctx_fmt_json_str(b, r->msg.p, r->msg.n) != 0) return CTX_ENOMEM;
    if (PUT(b, ",{") != 0) return CTX_ENOMEM;
    size_t mstart = b->len;
    ctx_fmt_str_t sev = {NULL, 0}, fac = {NULL, 0};
    rec_field(r, "severity", &sev), rec_field(r, "facility", &fac);
    span_t cm;
    if (meta_field(b, L->o, "hostname", r->host) != 0 || meta_field(b, L->o, "app", r->app) != 0 ||
        meta_field(b, L->o, "procid", r->procid) != 0 || meta_field(b, L->o, "msgid", r->msgid) != 0 ||
        meta_field(b, L->o, "severity", sev) != 0 || meta_field(b, L->o, "facility", fac) != 0 ||
        meta_field(b, L->o, "sd", r->sd) != 0 || ctx_meta(L, r, &cm) != 0 ||
        ctx_fmt_buf_append(b, L->meta.buf + cm.off, cm.len) != 0)
        return CTX_ENOMEM;
    if (r->observed_unix_nano) {
        char o[48];
        int on = snprintf(o, sizeof o, ",\"observed_time\":\"%llu\"", (unsigned long long)r->observed_unix_nano);
        if (ctx_fmt_buf_append(b, o, (size_t)on) != 0) return CTX_ENOMEM;
    }
    if (b->len == mstart) {
        b->len -= 2; /* no metadata: no third element */
    } else { /* every member began with ',': drop the first one's */
        memmove(b->buf + mstart, b->buf + mstart + 1, b->len - mstart - 1);
        b->len--;
        if (PUT(b, "}") != 0) return CTX_ENOMEM;
    }
    return PUT(b, "]");
}

/* ---------------------------------------------------------------- streams */

static int by_time(const void *a, const void *b, void *arg) {
    const ctx_fmt_rec_t *recs = arg;
    size_t i = *(const size_t *)a, j = *(const size_t *)b;
    const ctx_fmt_rec_t *x = &recs[i], *y = &recs[j];
    uint64_t tx = x->time_unix_nano ? x->time_unix_nano : x->observed_unix_nano;
    uint64_t ty = y->time_unix_nano ? y->time_unix_nano : y->observed_unix_nano;
    if (tx != ty) return tx < ty ? -1 : 1;
    return i < j ? -1 : i > j; /* stable: input order among equal times */
}

static int streams(loki_t *L, ctx_fmt_buf_t *out) {
    size_t *idx = malloc(L->n * sizeof *idx);
    if (idx == NULL) return CTX_ENOMEM;
    int rc = PUT(out, "{\"streams\":[");
    for (size_t g = 0; rc == 0 && g < L->ngrp; g++) {
        size_t k = 0;
        for (size_t r = 0; r < L->n; r++)
            if (L->grp[r] == g) idx[k++] = r;
        qsort_r(idx, k, sizeof *idx, by_time, (void *)L->recs);
        const span_t *ls = &L->ls[idx[0]];
        rc = (g && PUT(out, ",") != 0) || PUT(out, "{\"stream\":") != 0 ||
             ctx_fmt_buf_append(out, L->lab.buf + ls->off, ls->len) != 0 || PUT(out, ",\"values\":[") != 0;
        for (size_t i = 0; rc == 0 && i < k; i++)
            rc = (i && PUT(out, ",") != 0) || entry(L, out, &L->recs[idx[i]]) != 0;
        if (rc == 0) rc = PUT(out, "]}");
    }
    if (rc == 0) rc = PUT(out, "]}");
    free(idx);
    return rc ? CTX_ENOMEM : 0;
}

int ctx_fmt_loki_encode(const ctx_fmt_opts_t *opts, const ctx_fmt_rec_t *recs, size_t n, ctx_fmt_buf_t *out) {
    if (opts == NULL || recs == NULL || n == 0 || out == NULL) return CTX_EINVAL;
    loki_t L = {.o = opts, .recs = recs, .n = n};
    L.ls = calloc(n, sizeof *L.ls);
    L.grp = calloc(n, sizeof *L.grp);
    L.mctx = calloc(n, sizeof *L.mctx);
    L.mspan = calloc(n, sizeof *L.mspan);
    size_t start = out->len;
    int rc = (L.ls && L.grp && L.mctx && L.mspan) ? group(&L) : CTX_ENOMEM;
    if (rc == 0) rc = streams(&L, out);
    if (rc != 0) out->len = start;
    free(L.ls), free(L.grp), free(L.mctx), free(L.mspan), free(L.lab.buf), free(L.meta.buf);
    return rc;
}
