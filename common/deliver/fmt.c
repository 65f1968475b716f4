/* fmt.c: what every body format shares (fmt.h): the output buffer, names and content
 * types, the dispatch to the encoders, and the JSON pieces they all write (strings,
 * timestamps, context lookups).
 *
 * Concurrency: pure functions; a ctx_fmt_buf_t belongs to its caller.
 */
#include "fmt.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctxlog_common.h"
#include "jsonpos.h"
#include "outrec.h"

int ctx_fmt_buf_append(ctx_fmt_buf_t *b, const void *p, size_t n) {
    if (n == 0) return 0;
    if (ctx_fmt_buf_reserve(b, n) != 0) return CTX_ENOMEM;
    memcpy(b->buf + b->len, p, n);
    b->len += n;
    return 0;
}

int ctx_fmt_buf_reserve(ctx_fmt_buf_t *b, size_t n) {
    if (b->cap - b->len < n) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap - b->len < n) {
            if (cap > SIZE_MAX / 2) return CTX_ENOMEM;
            cap *= 2;
        }
        unsigned char *nb = realloc(b->buf, cap);
        if (nb == NULL) return CTX_ENOMEM;
        b->buf = nb;
        b->cap = cap;
    }
    return 0;
}

static const char *const names[] = {"ndjson", "json-array", "otlp", "otlp-json", "elasticsearch", "loki", "splunk-hec"};

const char *ctx_fmt_name(ctx_fmt_t f) {
    return (unsigned)f < sizeof names / sizeof names[0] ? names[f] : "?";
}

const char *ctx_fmt_content_type(ctx_fmt_t f) {
    switch (f) {
    case CTX_FMT_NDJSON:
    case CTX_FMT_ELASTICSEARCH: return "application/x-ndjson";
    case CTX_FMT_OTLP: return "application/x-protobuf";
    default: return "application/json";
    }
}

int ctx_fmt_grouping(ctx_fmt_t f) {
    return f >= CTX_FMT_OTLP && f <= CTX_FMT_SPLUNK_HEC;
}

int ctx_fmt_encode(ctx_fmt_t f, const ctx_fmt_opts_t *opts, const ctx_fmt_rec_t *recs, size_t n,
                   ctx_fmt_buf_t *out, ctx_fmt_scratch_t **scratch) {
    static const ctx_fmt_opts_t none;
    if (recs == NULL || n == 0 || out == NULL) return CTX_EINVAL;
    if (opts == NULL) opts = &none;
    switch (f) {
    case CTX_FMT_OTLP: return ctx_fmt_otlp_encode_s(recs, n, 0, out, scratch);
    case CTX_FMT_OTLP_JSON: return ctx_fmt_otlp_encode_s(recs, n, 1, out, scratch);
    case CTX_FMT_ELASTICSEARCH: return ctx_fmt_es_encode(recs, n, out);
    case CTX_FMT_LOKI: return ctx_fmt_loki_encode(opts, recs, n, out);
    case CTX_FMT_SPLUNK_HEC: return ctx_fmt_hec_encode(opts, recs, n, out);
    default: return CTX_EINVAL;
    }
}

int ctx_fmt_json_str(ctx_fmt_buf_t *b, const char *s, size_t n) {
    char *p = (char *)b->buf;
    if (ctx_fmt_buf_append(b, "\"", 1) != 0) return CTX_ENOMEM;
    p = (char *)b->buf;
    int rc = ctx_json_escape_append(&p, &b->len, &b->cap, s ? s : "", s ? n : 0);
    b->buf = (unsigned char *)p;
    return rc != 0 ? rc : ctx_fmt_buf_append(b, "\"", 1);
}

/* days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil) */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = (unsigned)(y - era * 400);
    const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int *y, unsigned *m, unsigned *d) {
    z += 719468;
    const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const unsigned doe = (unsigned)(z - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int)((int64_t)yoe + era * 400 + (*m <= 2));
}

int ctx_fmt_json_time(ctx_fmt_buf_t *b, uint64_t ns) {
    char s[48];
    uint64_t secs = ns / 1000000000u;
    int y;
    unsigned mo, d, sod = (unsigned)(secs % 86400);
    civil_from_days((int64_t)(secs / 86400), &y, &mo, &d);
    int n = snprintf(s, sizeof s, "\"%04d-%02u-%02uT%02u:%02u:%02u.%09uZ\"", y, mo, d, sod / 3600, sod / 60 % 60,
                     sod % 60, (unsigned)(ns % 1000000000u));
    return ctx_fmt_buf_append(b, s, (size_t)n);
}

/* n decimal digits at s into *v; 0 or -1 */
static int digits(const char *s, size_t avail, size_t n, unsigned *v) {
    if (avail < n) return -1;
    *v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') return -1;
        *v = *v * 10 + (unsigned)(s[i] - '0');
    }
    return 0;
}

/* the fraction at s[*i] (after the seconds, '.' and 1+ digits; none is 0) in ns; 0 or -1 */
static int frac_ns(const char *s, size_t n, size_t *i, uint64_t *frac) {
    *frac = 0;
    if (*i >= n || s[*i] != '.') return 0;
    size_t j = *i + 1, nd = 0;
    uint64_t f = 0;
    for (; j < n && s[j] >= '0' && s[j] <= '9'; j++, nd++)
        if (nd < 9) f = f * 10 + (uint64_t)(s[j] - '0');
    if (nd == 0) return -1;
    static const uint32_t SCALE[10] = {1000000000, 100000000, 10000000, 1000000, 100000, 10000, 1000, 100, 10, 1};
    *frac = f * SCALE[nd < 9 ? nd : 9];
    *i = j;
    return 0;
}

/* the zone at s[*i..n): 'Z' or +hh:mm / -hh:mm, ending the text; its offset east in s */
static int zone_secs(const char *s, size_t n, size_t i, int64_t *east) {
    unsigned oh, om;
    *east = 0;
    if (i + 1 == n && (s[i] == 'Z' || s[i] == 'z')) return 0;
    if (i + 6 != n || (s[i] != '+' && s[i] != '-') || digits(s + i + 1, 2, 2, &oh) || s[i + 3] != ':' ||
        digits(s + i + 4, 2, 2, &om) || oh > 23 || om > 59)
        return -1;
    *east = (s[i] == '+' ? 1 : -1) * (int64_t)(oh * 3600 + om * 60);
    return 0;
}

/* the seconds of s (at 17, after the minute) when the rest equals the cached text's: date
 * and time to the minute, zone */
static int from_cache(const ctx_fmt_tscache_t *c, const char *s, size_t n, uint64_t *ns) {
    unsigned se;
    uint64_t frac;
    size_t i = 19;
    if (c == NULL || !c->valid || n < 20 || memcmp(s, c->head, sizeof c->head) != 0 || s[16] != ':' ||
        digits(s + 17, 2, 2, &se) || se > 60 || frac_ns(s, n, &i, &frac) != 0 || n - i != c->zn ||
        memcmp(s + i, c->zone, c->zn) != 0)
        return -1;
    *ns = (uint64_t)(c->minute + se) * 1000000000u + frac;
    return 0;
}

int ctx_fmt_parse_rfc3339_c(ctx_fmt_tscache_t *c, const char *s, size_t n, uint64_t *ns) {
    unsigned y, mo, d, h, mi, se;
    uint64_t frac;
    int64_t east;
    *ns = 0;
    if (s == NULL) return CTX_EPARSE;
    if (from_cache(c, s, n, ns) == 0) return 0;
    if (digits(s, n, 4, &y) || n < 19 || s[4] != '-' || digits(s + 5, 2, 2, &mo) || s[7] != '-' ||
        digits(s + 8, 2, 2, &d) || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') || digits(s + 11, 2, 2, &h) ||
        s[13] != ':' || digits(s + 14, 2, 2, &mi) || s[16] != ':' || digits(s + 17, 2, 2, &se))
        return CTX_EPARSE;
    if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 60) return CTX_EPARSE;
    size_t i = 19;
    if (frac_ns(s, n, &i, &frac) != 0 || i >= n) return CTX_EPARSE;
    size_t zi = i;
    if (zone_secs(s, n, zi, &east) != 0) return CTX_EPARSE;
    int64_t minute = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 - east;
    if (minute + se < 0) return CTX_EPARSE;
    *ns = (uint64_t)(minute + se) * 1000000000u + frac;
    if (c != NULL && minute >= 0) {
        memcpy(c->head, s, sizeof c->head);
        c->zn = (unsigned char)(n - zi);
        memcpy(c->zone, s + zi, c->zn);
        c->minute = minute;
        c->valid = 1;
    }
    return 0;
}

int ctx_fmt_parse_rfc3339(const char *s, size_t n, uint64_t *ns) {
    return ctx_fmt_parse_rfc3339_c(NULL, s, n, ns);
}

int ctx_fmt_ctx_get(const char *ctx, size_t n, const char *path, const char **val, size_t *vlen, int *is_str) {
    size_t obj = ctx ? ctx_jpos_ws(ctx, n, 0) : n;
    if (obj >= n || ctx[obj] != '{') return 0;
    const char *p = path;
    for (;;) {
        const char *dot = strchr(p, '.');
        size_t kl = dot ? (size_t)(dot - p) : strlen(p);
        char key[CTX_FMT_PATH_MAX];
        if (kl == 0 || kl >= sizeof key) return 0;
        memcpy(key, p, kl);
        key[kl] = '\0';
        struct ctx_jmember m;
        if (!ctx_jpos_find_member(ctx, n, obj, key, &m)) return 0;
        if (dot == NULL) {
            size_t end = ctx_jpos_skip(ctx, n, m.val);
            if (end > n || end <= m.val) return 0;
            *is_str = ctx[m.val] == '"';
            if (*is_str && (end - m.val < 2 || ctx[end - 1] != '"')) return 0;
            *val = ctx + m.val + (*is_str ? 1 : 0);
            *vlen = end - m.val - (*is_str ? 2 : 0);
            return ctx[m.val] != '{' && ctx[m.val] != '[';
        }
        if (ctx[m.val] != '{') return 0;
        obj = m.val;
        p = dot + 1;
    }
}

int ctx_fmt_is_label(const ctx_fmt_opts_t *o, const char *key) {
    for (unsigned i = 0; o != NULL && i < o->nlabels && i < CTX_FMT_LABELS_MAX; i++)
        if (!strcmp(o->label_key[i], key)) return 1;
    return 0;
}

#define FLAT_DEPTH 6

/* the scalars of the object at c[obj], path the dotted key so far (plen bytes) */
static int flatten(ctx_fmt_buf_t *b, const char *c, size_t n, size_t obj, char *path, size_t plen, int depth,
                   const ctx_fmt_opts_t *skip) {
    struct ctx_jmember m;
    size_t pos = obj + 1;
    while (ctx_jpos_member_next(c, n, &pos, &m)) {
        size_t kl = m.key_end - m.key - 2, end = ctx_jpos_skip(c, n, m.val), nl = plen + (plen ? 1 : 0) + kl;
        if (kl == 0 || m.key_end > n || nl + 1 > CTX_FMT_PATH_MAX || end > n || end <= m.val) continue;
        if (plen) path[plen] = '.';
        memcpy(path + nl - kl, c + m.key + 1, kl);
        path[nl] = '\0';
        char v = c[m.val];
        int q = v == '"', rc = 0;
        if (v == '{') {
            if (depth < FLAT_DEPTH) rc = flatten(b, c, n, m.val, path, nl, depth + 1, skip);
        } else if (v != '[' && !(v == 'n' && end - m.val == 4) && !(q && end - m.val < 2) &&
                   !ctx_fmt_is_label(skip, path)) {
            rc = ctx_fmt_buf_append(b, ",\"", 2);
            for (size_t i = 0; rc == 0 && i < nl; i++) rc = ctx_fmt_buf_append(b, path[i] == '.' ? "_" : &path[i], 1);
            if (rc == 0) rc = ctx_fmt_buf_append(b, "\":\"", 3);
            if (rc == 0) rc = ctx_fmt_buf_append(b, c + m.val + q, end - m.val - 2 * (size_t)q);
            if (rc == 0) rc = ctx_fmt_buf_append(b, "\"", 1);
        }
        if (rc != 0) return CTX_ENOMEM;
        path[plen] = '\0';
    }
    return 0;
}

int ctx_fmt_ctx_flat(ctx_fmt_buf_t *b, const char *ctx, size_t n, const ctx_fmt_opts_t *skip) {
    size_t obj = ctx ? ctx_jpos_ws(ctx, n, 0) : n;
    char path[CTX_FMT_PATH_MAX] = "";
    if (obj >= n || ctx[obj] != '{') return 0;
    return flatten(b, ctx, n, obj, path, 0, 0, skip);
}
