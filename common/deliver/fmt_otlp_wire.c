/* fmt_otlp_wire.c: the two encodings of OTLP, protobuf and OTLP/JSON, written by one set of
 * calls (fmt_otlp_int.h). Protobuf is encoded by hand. Where the length of a field is known
 * before its content (a string, a string body, a KeyValue with a string or integer value:
 * every field of every record but the LogRecord itself) header and content are written once;
 * a message of unknown length (ot_pb_open: a LogRecord, a kvlist, a resource) reserves one or
 * two bytes for its length and ot_pb_close() moves the content when the length needs another
 * number (so nothing takes a sizing pass). Strings must be valid UTF-8 in both encodings
 * (proto3 `string`, JSON text): an invalid byte becomes U+FFFD.
 *
 * Concurrency: no state; a writer belongs to its caller.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctxlog_common.h"
#include "utf8.h"
#include "fmt_otlp_int.h"

void ot_raw_grow(ot_w_t *w, const void *p, size_t n) {
    if (w->err == 0 && ctx_fmt_buf_append(w->b, p, n) != 0) w->err = CTX_ENOMEM;
}

void ot_lit(ot_w_t *w, const char *s) {
    ot_raw(w, s, strlen(s));
}

void ot_pb_varint(ot_w_t *w, uint64_t v) {
    unsigned char t[10];
    size_t n = 0;
    while (v >= 0x80) {
        t[n++] = (unsigned char)(v | 0x80);
        v >>= 7;
    }
    t[n++] = (unsigned char)v;
    ot_raw(w, t, n);
}

void ot_pb_key(ot_w_t *w, unsigned field, unsigned wt) {
    ot_pb_varint(w, ((uint64_t)field << 3) | wt);
}

void ot_pb_fixed64(ot_w_t *w, unsigned field, uint64_t v) {
    unsigned char t[8];
    for (int i = 0; i < 8; i++) t[i] = (unsigned char)(v >> (8 * i));
    ot_pb_key(w, field, OT_WT_I64);
    ot_raw(w, t, 8);
}

#define HI8 0x8080808080808080ull

/* the length of s's leading ASCII run, found 32 and 8 bytes at a time (most texts are all
 * ASCII: their last bytes are read as one overlapping word) */
static size_t ascii_run(const unsigned char *s, size_t n) {
    size_t i = 0;
    uint64_t a, b, c, d;
    for (; i + 32 <= n; i += 32) {
        memcpy(&a, s + i, 8), memcpy(&b, s + i + 8, 8), memcpy(&c, s + i + 16, 8), memcpy(&d, s + i + 24, 8);
        if (((a | b | c | d) & HI8) != 0) break;
    }
    for (; i + 8 <= n; i += 8) {
        memcpy(&a, s + i, 8);
        if ((a & HI8) != 0) break;
    }
    if (i < n && n >= 8 && i + 8 > n) { /* the tail as the last word */
        memcpy(&a, s + n - 8, 8);
        if ((a & HI8) == 0) return n;
    }
    while (i < n && s[i] < 0x80) i++;
    return i;
}

/* bytes of s once every invalid byte is replaced by U+FFFD (3 bytes) */
static size_t utf8_fixed_len(const unsigned char *s, size_t n) {
    size_t out = 0;
    for (size_t i = 0; i < n;) {
        if (s[i] < 0x80) {
            size_t r = ascii_run(s + i, n - i);
            i += r, out += r;
            continue;
        }
        size_t q = ctx_utf8_seq(s + i, n - i);
        out += q ? q : 3;
        i += q ? q : 1;
    }
    return out;
}

/* appends s with invalid bytes replaced (ASCII and valid sequences copied in runs) */
static void put_utf8(ot_w_t *w, const unsigned char *s, size_t n) {
    size_t i = 0, run = 0, q;
    while (i + run < n) {
        if (s[i + run] < 0x80) {
            run++;
        } else if ((q = ctx_utf8_seq(s + i + run, n - i - run)) > 0) {
            run += q;
        } else {
            ot_raw(w, s + i, run);
            ot_raw(w, "\xef\xbf\xbd", 3);
            i += run + 1, run = 0;
        }
    }
    ot_raw(w, s + i, run);
}

static size_t varint_len(uint64_t v) {
    size_t n = 1;
    while (v >= 0x80) v >>= 7, n++;
    return n;
}

static unsigned char *put_varint(unsigned char *q, uint64_t v) {
    for (; v >= 0x80; v >>= 7) *q++ = (unsigned char)(v | 0x80);
    *q++ = (unsigned char)v;
    return q;
}

/* ---- fields whose length is known before their content: header and content written at
 * once, with no byte reserved and no content moved (strings are measured after their UTF-8
 * repair first) */

/* a string's content, fixed bytes once repaired */
static void str_content(ot_w_t *w, const char *p, size_t n, size_t fixed) {
    if (fixed == n)
        ot_raw(w, p, n);
    else
        put_utf8(w, (const unsigned char *)p, n);
}

/* room for a header of at most 40 bytes (keys and lengths); NULL on error (sticky) */
static inline unsigned char *hdr_begin(ot_w_t *w) {
    if (w->err == 0 && w->b->cap - w->b->len < 40 && ctx_fmt_buf_reserve(w->b, 40) != 0) w->err = CTX_ENOMEM;
    return w->err ? NULL : w->b->buf + w->b->len;
}

static void hdr_end(ot_w_t *w, const unsigned char *q) {
    w->b->len = (size_t)(q - w->b->buf);
}

void ot_pb_str(ot_w_t *w, unsigned field, const char *p, size_t n) {
    size_t fixed = utf8_fixed_len((const unsigned char *)p, n);
    unsigned char *q = hdr_begin(w);
    if (q == NULL) return;
    q = put_varint(q, (uint64_t)field << 3 | OT_WT_LEN);
    hdr_end(w, put_varint(q, fixed));
    str_content(w, p, n, fixed);
}

/* field `field` of type AnyValue holding the string p[0..n) */
void ot_pb_anystr(ot_w_t *w, unsigned field, const char *p, size_t n) {
    size_t fixed = utf8_fixed_len((const unsigned char *)p, n);
    unsigned char *q = hdr_begin(w);
    if (q == NULL) return;
    q = put_varint(q, (uint64_t)field << 3 | OT_WT_LEN);
    q = put_varint(q, 1 + varint_len(fixed) + fixed);
    *q++ = OT_AV_STRING << 3 | OT_WT_LEN;
    hdr_end(w, put_varint(q, fixed));
    str_content(w, p, n, fixed);
}

/* a KeyValue (element of `field`) up to its AnyValue's content of `av` bytes, key written;
 * kf: the key's length once repaired (kn for the encoder's own ASCII keys) */
static void kv_head(ot_w_t *w, unsigned field, const char *k, size_t kn, size_t kf, size_t av) {
    unsigned char *q = hdr_begin(w);
    if (q == NULL) return;
    q = put_varint(q, (uint64_t)field << 3 | OT_WT_LEN);
    q = put_varint(q, 1 + varint_len(kf) + kf + 1 + varint_len(av) + av);
    *q++ = OT_KV_KEY << 3 | OT_WT_LEN;
    hdr_end(w, put_varint(q, kf));
    str_content(w, k, kn, kf);
    if ((q = hdr_begin(w)) == NULL) return;
    *q++ = OT_KV_VALUE << 3 | OT_WT_LEN;
    hdr_end(w, put_varint(q, av));
}

/* writes the length of the content at [mark, len) into the `reserved` bytes before it,
 * moving the content when the length takes another number of bytes */
static void close_len(ot_w_t *w, size_t mark, size_t reserved) {
    if (w->err) return;
    size_t len = w->b->len - mark, vl = varint_len(len);
    if (vl > reserved) { /* make room: the content moves on */
        unsigned char pad[10] = {0};
        ot_raw(w, pad, vl - reserved);
        if (w->err) return;
        memmove(w->b->buf + mark + vl - reserved, w->b->buf + mark, len);
    } else if (vl < reserved) { /* the content moves back */
        memmove(w->b->buf + mark - reserved + vl, w->b->buf + mark, len);
        w->b->len -= reserved - vl;
    }
    unsigned char *p = w->b->buf + mark - reserved;
    for (size_t i = 0; i < vl; i++, len >>= 7) p[i] = (unsigned char)((len & 0x7f) | (i + 1 < vl ? 0x80 : 0));
}

size_t ot_pb_open(ot_w_t *w, unsigned field) {
    ot_pb_key(w, field, OT_WT_LEN);
    ot_raw(w, "", 1); /* one byte reserved for the length */
    return w->b->len;
}

void ot_pb_close(ot_w_t *w, size_t mark) {
    close_len(w, mark, 1);
}

size_t ot_pb_open2(ot_w_t *w, unsigned field) {
    ot_pb_key(w, field, OT_WT_LEN);
    ot_raw(w, "\0", 2);
    return w->b->len;
}

void ot_pb_close2(ot_w_t *w, size_t mark) {
    close_len(w, mark, 2);
}

void ot_js_str(ot_w_t *w, const char *p, size_t n) {
    const unsigned char *s = (const unsigned char *)p;
    ot_raw(w, "\"", 1);
    for (size_t i = 0; i < n;) {
        size_t run = 0;
        while (i + run < n && s[i + run] >= 0x20 && s[i + run] < 0x80 && s[i + run] != '"' && s[i + run] != '\\')
            run++;
        if (run > 0) {
            ot_raw(w, s + i, run);
            i += run;
            continue;
        }
        char esc[8];
        size_t used, en = ctx_json_escape_char(s + i, n - i, esc, &used);
        ot_raw(w, esc, en);
        i += used;
    }
    ot_raw(w, "\"", 1);
}

void ot_js_u64(ot_w_t *w, uint64_t v) {
    char t[24];
    size_t n = sizeof(t);
    do {
        t[--n] = (char)('0' + v % 10);
        v /= 10;
    } while (v > 0);
    ot_raw(w, t + n, sizeof(t) - n);
}

size_t ot_jlist_open(ot_w_t *w) {
    return w->b->len;
}

void ot_jlist_close(ot_w_t *w, size_t mark) {
    if (w->err) return;
    if (w->b->len == mark) {
        ot_raw(w, "[]", 2);
        return;
    }
    w->b->buf[mark] = '['; /* the first element's ',' */
    ot_raw(w, "]", 1);
}

ot_mark_t ot_kv_begin(ot_w_t *w, unsigned field, const char *k, size_t kn) {
    ot_mark_t m = {0, 0};
    if (w->json) {
        ot_raw(w, ",{\"key\":", 8);
        ot_js_str(w, k, kn);
        ot_raw(w, ",\"value\":{", 10);
        return m;
    }
    m.kv = ot_pb_open(w, field);
    ot_pb_str(w, OT_KV_KEY, k, kn);
    m.av = ot_pb_open(w, OT_KV_VALUE);
    return m;
}

void ot_kv_end(ot_w_t *w, ot_mark_t m) {
    if (w->json) {
        ot_raw(w, "}}", 2);
        return;
    }
    ot_pb_close(w, m.av);
    ot_pb_close(w, m.kv);
}

void ot_av_str(ot_w_t *w, const char *p, size_t n) {
    if (w->json) {
        ot_raw(w, "\"stringValue\":", 14);
        ot_js_str(w, p, n);
    } else {
        ot_pb_str(w, OT_AV_STRING, p, n);
    }
}

void ot_av_int(ot_w_t *w, int64_t v) {
    if (!w->json) {
        ot_pb_key(w, OT_AV_INT, OT_WT_VARINT);
        ot_pb_varint(w, (uint64_t)v); /* int64: two's complement, 10 bytes when negative */
        return;
    }
    ot_raw(w, "\"intValue\":\"", 12); /* proto3 JSON: 64-bit integers are strings */
    if (v < 0) ot_raw(w, "-", 1);
    ot_js_u64(w, v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v);
    ot_raw(w, "\"", 1);
}

void ot_av_double(ot_w_t *w, double v) {
    if (!w->json) {
        uint64_t u;
        memcpy(&u, &v, 8);
        ot_pb_fixed64(w, OT_AV_DOUBLE, u);
        return;
    }
    char t[40];
    if (isnan(v)) {
        snprintf(t, sizeof(t), "\"NaN\"");
    } else if (isinf(v)) {
        snprintf(t, sizeof(t), v > 0 ? "\"Infinity\"" : "\"-Infinity\"");
    } else { /* the shortest of %.15g / %.17g that reads back the same */
        snprintf(t, sizeof(t), "%.15g", v);
        if (strtod(t, NULL) != v) snprintf(t, sizeof(t), "%.17g", v);
    }
    ot_raw(w, "\"doubleValue\":", 14);
    ot_lit(w, t);
}

void ot_av_bool(ot_w_t *w, int v) {
    if (w->json) {
        ot_lit(w, v ? "\"boolValue\":true" : "\"boolValue\":false");
        return;
    }
    ot_pb_key(w, OT_AV_BOOL, OT_WT_VARINT);
    ot_pb_varint(w, v ? 1 : 0);
}

size_t ot_av_kvlist_open(ot_w_t *w) {
    if (!w->json) return ot_pb_open(w, OT_AV_KVLIST);
    ot_raw(w, "\"kvlistValue\":{\"values\":", 24);
    return ot_jlist_open(w);
}

void ot_av_kvlist_close(ot_w_t *w, size_t mark) {
    if (!w->json) {
        ot_pb_close(w, mark);
        return;
    }
    ot_jlist_close(w, mark);
    ot_raw(w, "}", 1);
}

size_t ot_av_array_open(ot_w_t *w) {
    if (!w->json) return ot_pb_open(w, OT_AV_ARRAY);
    ot_raw(w, "\"arrayValue\":{\"values\":", 23);
    return ot_jlist_open(w);
}

void ot_av_array_close(ot_w_t *w, size_t mark) {
    ot_av_kvlist_close(w, mark); /* the same closing in both encodings */
}

size_t ot_elem_begin(ot_w_t *w) {
    if (!w->json) return ot_pb_open(w, OT_ARRAY_VALUES);
    ot_raw(w, ",{", 2);
    return 0;
}

void ot_elem_end(ot_w_t *w, size_t mark) {
    if (!w->json)
        ot_pb_close(w, mark);
    else
        ot_raw(w, "}", 1);
}

static void kv_str(ot_w_t *w, unsigned field, const char *k, size_t kn, size_t kf, const char *v, size_t vn) {
    if (w->json) {
        ot_mark_t m = ot_kv_begin(w, field, k, kn);
        ot_av_str(w, v, vn);
        ot_kv_end(w, m);
        return;
    }
    size_t fixed = utf8_fixed_len((const unsigned char *)v, vn);
    kv_head(w, field, k, kn, kf, 1 + varint_len(fixed) + fixed);
    unsigned char *q = hdr_begin(w);
    if (q == NULL) return;
    *q++ = OT_AV_STRING << 3 | OT_WT_LEN;
    hdr_end(w, put_varint(q, fixed));
    str_content(w, v, vn, fixed);
}

void ot_kv_str(ot_w_t *w, unsigned field, const char *k, const char *v, size_t vn) {
    size_t kn = strlen(k);
    kv_str(w, field, k, kn, w->json ? kn : utf8_fixed_len((const unsigned char *)k, kn), v, vn);
}

void ot_kv_str_ascii(ot_w_t *w, unsigned field, const char *k, size_t kn, const char *v, size_t vn) {
    kv_str(w, field, k, kn, kn, v, vn);
}

void ot_kv_int(ot_w_t *w, unsigned field, const char *k, int64_t v) {
    size_t kn = strlen(k);
    if (w->json) {
        ot_mark_t m = ot_kv_begin(w, field, k, kn);
        ot_av_int(w, v);
        ot_kv_end(w, m);
        return;
    }
    kv_head(w, field, k, kn, utf8_fixed_len((const unsigned char *)k, kn), 1 + varint_len((uint64_t)v));
    unsigned char *q = hdr_begin(w);
    if (q == NULL) return;
    *q++ = OT_AV_INT << 3 | OT_WT_VARINT;
    hdr_end(w, put_varint(q, (uint64_t)v)); /* int64: two's complement, 10 bytes when negative */
}
