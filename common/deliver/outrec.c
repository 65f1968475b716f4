/* outrec.c: omtenant's outgoing record of one message, redacted. Contract in outrec.h.
 *
 * Concurrency: a ctx_outrec_t is used by one thread; the tables are constant.
 */
#include "outrec.h"
#include "utf8.h"

#include <json.h>
#include <stdlib.h>
#include <string.h>

#include "ctxlog_common.h"
#include "fmt.h"
#include "outrec_int.h"

typedef struct {
    const char *p;
    size_t n;
} span_t;

enum { H_PRI, H_TS, H_HOST, H_APP, H_PROCID, H_MSGID, H_RCVD, H_COUNT };

static const char *const fac_names[24] = {"kern",   "user",   "mail",   "daemon", "auth",   "syslog",
                                          "lpr",    "news",   "uucp",   "cron",   "authpriv", "ftp",
                                          "ntp",    "audit",  "alert",  "clock",  "local0", "local1",
                                          "local2", "local3", "local4", "local5", "local6", "local7"};
static const char *const sev_names[8] = {"emerg", "alert", "crit", "err", "warning", "notice", "info", "debug"};

const char *ctx_facility_name(int fac) {
    return fac >= 0 && fac < 24 ? fac_names[fac] : "?";
}

const char *ctx_severity_name(int sev) {
    return sev >= 0 && sev < 8 ? sev_names[sev] : "?";
}

int ctx_outrec_new(ctx_outrec_t **out) {
    if (out == NULL) return CTX_EINVAL;
    ctx_outrec_t *b = calloc(1, sizeof *b);
    if (b == NULL || (b->tok = fjson_tokener_new()) == NULL) {
        free(b);
        *out = NULL;
        return CTX_ENOMEM;
    }
    *out = b;
    return 0;
}

void ctx_outrec_free(ctx_outrec_t *b) {
    if (b == NULL) return;
    fjson_tokener_free(b->tok);
    outrec_memo_free(b);
    free(b->buf);
    free(b->scratch);
    free(b->hdr);
    free(b->view);
    free(b->mtext);
    free(b);
}

/* ---------------------------------------------------------------- buffer */

int outrec_reserve(char **buf, size_t *used, size_t *cap, size_t more) {
    if (*cap - *used >= more) return 0;
    size_t ncap = *cap ? *cap : 512;
    while (ncap - *used < more) ncap *= 2;
    char *p = realloc(*buf, ncap);
    if (p == NULL) return CTX_ENOMEM;
    *buf = p;
    *cap = ncap;
    return 0;
}

int outrec_put(ctx_outrec_t *b, const char *s, size_t n) {
    if (outrec_reserve(&b->buf, &b->len, &b->cap, n + 1) != 0) return CTX_ENOMEM;
    memcpy(b->buf + b->len, s, n);
    b->len += n;
    return 0;
}

static int puts_(ctx_outrec_t *b, const char *s) {
    return outrec_put(b, s, strlen(s));
}

#define ROW_PLAIN 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1
#define ROW_ESC 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0
/* 1: a byte JSON carries as it is (printable ASCII but '"' and '\\'); one lookup per byte */
static const unsigned char json_plain[256] = {
    ROW_ESC, ROW_ESC,                                         /* 0x00-0x1f: controls */
    1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,           /* 0x20-0x2f: '"' */
    ROW_PLAIN, ROW_PLAIN,                                     /* 0x30-0x4f */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1,           /* 0x50-0x5f: '\\' */
    ROW_PLAIN, ROW_PLAIN,                                     /* 0x60-0x7f */
    ROW_ESC, ROW_ESC, ROW_ESC, ROW_ESC, ROW_ESC, ROW_ESC, ROW_ESC, ROW_ESC, /* 0x80-0xff: UTF-8 checked */
};

/* 1 if all 8 bytes of v are plain (json_plain): none >= 0x80, < 0x20, '"' or '\\' (SWAR:
 * a message's text is checked 8 bytes an operation, not one) */
static inline int word_plain(uint64_t v) {
    const uint64_t ones = 0x0101010101010101ull, high = 0x8080808080808080ull;
    uint64_t q = v ^ (ones * '"'), b = v ^ (ones * '\\');
    uint64_t bad = v | ((v - ones * 0x20) & ~v) | ((q - ones) & ~q) | ((b - ones) & ~b);
    return (bad & high) == 0;
}

/* the length of the run of plain bytes at p (at most n) */
static size_t plain_run(const unsigned char *p, size_t n) {
    size_t run = 0;
    uint64_t v;
    while (run + 8 <= n && (memcpy(&v, p + run, 8), word_plain(v))) run += 8;
    while (run < n && json_plain[p[run]]) run++;
    return run;
}

int ctx_json_escape_append(char **buf, size_t *used, size_t *cap, const char *s, size_t len) {
    if (outrec_reserve(buf, used, cap, len + 1) != 0) return CTX_ENOMEM;
    const unsigned char *p = (const unsigned char *)s;
    for (size_t i = 0; i < len;) {
        size_t run = plain_run(p + i, len - i);
        if (run > 0) {
            if (outrec_reserve(buf, used, cap, run + 1) != 0) return CTX_ENOMEM;
            memcpy(*buf + *used, p + i, run);
            *used += run;
            i += run;
            continue;
        }
        char esc[8];
        size_t seq, en = ctx_json_escape_char(p + i, len - i, esc, &seq);
        if (outrec_reserve(buf, used, cap, en + 1) != 0) return CTX_ENOMEM;
        memcpy(*buf + *used, esc, en);
        *used += en;
        i += seq;
    }
    return 0;
}

/* appends JSON text (valid JSON, so any byte >= 0x80 is inside a string or key) with every
 * invalid UTF-8 sequence replaced by U+FFFD: the text stays valid JSON and becomes valid UTF-8 */
int outrec_put_utf8_fixed(ctx_outrec_t *b, const char *s, size_t n) {
    const unsigned char *p = (const unsigned char *)s;
    for (size_t i = 0; i < n;) {
        size_t run = 0, seq = 0;
        while (i + run < n && (p[i + run] < 0x80 || (seq = ctx_utf8_seq(p + i + run, n - i - run)) > 0))
            run += p[i + run] < 0x80 ? 1 : seq;
        if (run > 0 && outrec_put(b, s + i, run) != 0) return CTX_ENOMEM;
        i += run;
        if (i < n) {
            if (outrec_put(b, "\xef\xbf\xbd", 3) != 0) return CTX_ENOMEM;
            i++;
        }
    }
    return 0;
}

static int put_str(ctx_outrec_t *b, const char *s, size_t n) {
    if (outrec_put(b, "\"", 1) != 0 || ctx_json_escape_append(&b->buf, &b->len, &b->cap, s, n) != 0) return CTX_ENOMEM;
    return outrec_put(b, "\"", 1);
}

/* ,"key":"value" */
static int put_member(ctx_outrec_t *b, const char *key, const char *s, size_t n) {
    if (outrec_put(b, ",\"", 2) != 0 || puts_(b, key) != 0 || outrec_put(b, "\":", 2) != 0) return CTX_ENOMEM;
    return put_str(b, s, n);
}

/* ---------------------------------------------------------------- fields */

static void split_hdr(const ctx_outrec_fields_t *f, span_t h[H_COUNT]) {
    const char *p = f->hdr ? f->hdr : "", *end = p + (f->hdr ? f->hdrlen : 0);
    for (int i = 0; i < H_COUNT; i++) {
        const char *q = i == H_COUNT - 1 ? NULL : memchr(p, CTX_OUTREC_SEP, (size_t)(end - p));
        if (q == NULL) q = end;
        h[i].p = p;
        h[i].n = (size_t)(q - p);
        p = q < end ? q + 1 : end;
    }
}

static int nil(span_t s) {
    return s.n == 0 || (s.n == 1 && s.p[0] == '-');
}

static int parse_pri(span_t s) {
    int v = 0;
    if (s.n == 0 || s.n > 3) return 13; /* user.notice, rsyslog's default */
    for (size_t i = 0; i < s.n; i++) {
        if (s.p[i] < '0' || s.p[i] > '9') return 13;
        v = v * 10 + (s.p[i] - '0');
    }
    return v <= 191 ? v : 13;
}

/* ---------------------------------------------------------------- redaction */

static int redact_text(ctx_redact_ctx *rx, const ctx_redact_set *set, const char *in, size_t n, const char **out,
                       size_t *outn) {
    *out = in, *outn = n;
    if (rx == NULL || set == NULL) return 0;
    int rc = ctx_redact_apply(rx, set, in, n, out, outn);
    return rc < 0 ? CTX_EINVAL : rc;
}

static int redact_sd(ctx_redact_ctx *rx, const ctx_redact_set *set, const char *in, size_t n, const char **out,
                     size_t *outn) {
    *out = in, *outn = n;
    if (rx == NULL || set == NULL) return 0;
    int rc = ctx_redact_sd(rx, set, in, n, out, outn);
    return rc < 0 ? CTX_EINVAL : rc;
}

/* host, app-name, procid and msgid leave the host too (an app-name "password=hunter2" is a tag-less
 * message's first word): each is redacted as text, and h[] then points at the redacted values
 * (in b->hdr). Returns the number of fields changed or CTX_E*. */
static int redact_header(ctx_outrec_t *b, span_t h[H_COUNT], ctx_redact_ctx *rx, const ctx_redact_set *set) {
    size_t off[H_COUNT] = {0};
    int changed = 0, rc;
    b->hdr_len = 0;
    for (int i = H_HOST; i <= H_MSGID; i++) {
        const char *r;
        size_t rn;
        if (nil(h[i]) || (rc = redact_text(rx, set, h[i].p, h[i].n, &r, &rn)) == 0) {
            off[i] = (size_t)-1;
            continue;
        }
        if (rc < 0) return rc;
        if (outrec_reserve(&b->hdr, &b->hdr_len, &b->hdr_cap, rn + 1) != 0) return CTX_ENOMEM;
        memcpy(b->hdr + b->hdr_len, r, rn);
        off[i] = b->hdr_len;
        b->hdr_len += rn;
        h[i].n = rn;
        changed++;
    }
    for (int i = H_HOST; i <= H_MSGID; i++)
        if (off[i] != (size_t)-1) h[i].p = b->hdr + off[i];
    return changed;
}

/* $!ctx says the message was cut ("truncated": true, imctxcap's $!ctx!capture!truncated): its text's
 * tail is checked for a secret's start. Any member of that name counts (more redaction, never less). */
static int ctx_says_cut(const ctx_outrec_fields_t *f) {
    static const char key[] = "\"truncated\"";
    const char *p = f->ctx, *end = f->ctx ? f->ctx + f->ctxlen : NULL;
    while (p != NULL && (p = memmem(p, (size_t)(end - p), key, sizeof key - 1)) != NULL) {
        p += sizeof key - 1;
        const char *q = p;
        while (q < end && (*q == ' ' || *q == '\t' || *q == '\n' || *q == '\r' || *q == ':')) q++;
        if (end - q >= 4 && memcmp(q, "true", 4) == 0) return 1;
    }
    return 0;
}

/* the message text, redacted (a secret that spans messages of its sender: outrec_multi.c) */
static int redact_msg(ctx_outrec_t *b, const span_t h[H_COUNT], ctx_redact_ctx *rx, const ctx_redact_set *set,
                      const ctx_outrec_fields_t *f, const char **out, size_t *outn) {
    const char *m = f->msg ? f->msg : "";
    size_t n = f->msg ? f->msglen : 0;
    int cut = ctx_says_cut(f);
    *out = m, *outn = n;
    ctx_outrec_sender_t who = {NULL, h[H_HOST].p, h[H_APP].p, 0, h[H_HOST].n, h[H_APP].n};
    if (b->multi != NULL) (void)outrec_vm_uuid(f->ctx, f->ctx ? f->ctxlen : 0, &who.vm, &who.vmlen);
    int rc = outrec_msg_multi(b, rx, set, m, n, &who, cut, out, outn);
    if (rc != OUTREC_WHOLE) return rc;
    if (rx == NULL || set == NULL) return 0;
    rc = cut ? ctx_redact_apply_cut(rx, set, m, n, out, outn) : ctx_redact_apply(rx, set, m, n, out, outn);
    return rc < 0 ? CTX_EINVAL : rc;
}

/* parses text[0..n) as one complete JSON value; NULL if it is not one */
struct fjson_object *outrec_parse_json(ctx_outrec_t *b, const char *text, size_t n) {
    if (n == 0 || n > 0x7fffffff) return NULL;
    fjson_tokener_reset(b->tok);
    struct fjson_object *o = fjson_tokener_parse_ex(b->tok, text, (int)n);
    if (o == NULL || fjson_tokener_get_error(b->tok) != fjson_tokener_success || (size_t)b->tok->char_offset != n) {
        fjson_object_put(o);
        return NULL;
    }
    return o;
}

/* appends a JSON document, redacted value by value; returns values changed or CTX_E* */
static int put_json_redacted(ctx_outrec_t *b, struct fjson_object *o, const char *text, size_t n,
                             ctx_redact_ctx *rx, const ctx_redact_set *set) {
    int changed = 0;
    if (rx != NULL && set != NULL) {
        changed = ctx_redact_json(rx, set, o);
        if (changed < 0) return CTX_EINVAL;
    }
    if (changed == 0) return outrec_put_utf8_fixed(b, text, n) != 0 ? CTX_ENOMEM : 0;
    const char *s = fjson_object_to_json_string_ext(o, FJSON_TO_STRING_PLAIN);
    if (s == NULL) return CTX_ENOMEM;
    return outrec_put_utf8_fixed(b, s, strlen(s)) != 0 ? CTX_ENOMEM : changed;
}

static size_t trim_ws(const char *s, size_t n, const char **start) {
    while (n > 0 && (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')) s++, n--;
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\n' || s[n - 1] == '\r')) n--;
    *start = s;
    return n;
}

/* ,"ctx":<object> (or a string if it is not JSON); returns values changed or CTX_E* */
static int put_ctx(ctx_outrec_t *b, const ctx_outrec_fields_t *f, ctx_redact_ctx *rx, const ctx_redact_set *set) {
    const char *t;
    size_t n = trim_ws(f->ctx ? f->ctx : "", f->ctx ? f->ctxlen : 0, &t);
    if (n == 0) return 0;
    if (puts_(b, ",\"ctx\":") != 0) return CTX_ENOMEM;
    if (b->memo != NULL && t[0] == '{') { /* the tenant's view inside: only on a miss */
        int rc = outrec_ctx_members(b, t, n, rx, set);
        if (rc != OUTREC_WHOLE) return rc;
    }
    if (!b->hostwide && t[0] == '{' && outrec_view_ctx(b, t, n, &t, &n) < 0) return CTX_ENOMEM;
    if (t[0] == '{' && outrec_json_clean(rx, set, t, n, &b->scratch, &b->scratch_cap))
        return outrec_put_utf8_fixed(b, t, n) != 0 ? CTX_ENOMEM : 0; /* nothing to redact: as it is */
    struct fjson_object *o = (t[0] == '{') ? outrec_parse_json(b, t, n) : NULL;
    if (o != NULL) {
        int rc = put_json_redacted(b, o, t, n, rx, set);
        fjson_object_put(o);
        return rc;
    }
    const char *r;
    size_t rn;
    int rc = redact_text(rx, set, t, n, &r, &rn);
    if (rc < 0) return rc;
    return put_str(b, r, rn) != 0 ? CTX_ENOMEM : rc;
}

/* ---------------------------------------------------------------- records */

/* the JSON object; with_sd: include the "sd" member (the syslog kind carries it in the header) */
static int put_object(ctx_outrec_t *b, const span_t h[H_COUNT], const ctx_outrec_fields_t *f, int with_sd,
                      ctx_redact_ctx *rx, const ctx_redact_set *set) {
    int pri = parse_pri(h[H_PRI]), changed = 0, rc;
    const char *r;
    size_t rn;
    if (puts_(b, "{\"time\":") != 0 || put_str(b, h[H_TS].p, h[H_TS].n) != 0 ||
        put_member(b, "host", h[H_HOST].p, h[H_HOST].n) != 0 ||
        put_member(b, "facility", ctx_facility_name(pri >> 3), strlen(ctx_facility_name(pri >> 3))) != 0 ||
        put_member(b, "severity", ctx_severity_name(pri & 7), strlen(ctx_severity_name(pri & 7))) != 0)
        return CTX_ENOMEM;
    if (!nil(h[H_APP]) && put_member(b, "app", h[H_APP].p, h[H_APP].n) != 0) return CTX_ENOMEM;
    if (!nil(h[H_PROCID]) && put_member(b, "procid", h[H_PROCID].p, h[H_PROCID].n) != 0) return CTX_ENOMEM;
    if (!nil(h[H_MSGID]) && put_member(b, "msgid", h[H_MSGID].p, h[H_MSGID].n) != 0) return CTX_ENOMEM;
    span_t sd = {f->sd ? f->sd : "", f->sd ? f->sdlen : 0};
    if (with_sd && !nil(sd)) {
        if ((rc = redact_sd(rx, set, sd.p, sd.n, &r, &rn)) < 0) return rc;
        changed += rc;
        if (put_member(b, "sd", r, rn) != 0) return CTX_ENOMEM;
    }
    if ((rc = redact_msg(b, h, rx, set, f, &r, &rn)) < 0) return rc;
    changed += rc;
    if (put_member(b, "msg", r, rn) != 0) return CTX_ENOMEM;
    if ((rc = put_ctx(b, f, rx, set)) < 0) return rc;
    changed += rc;
    return outrec_put(b, "}", 1) != 0 ? CTX_ENOMEM : changed;
}

/* an RFC 5424 header token: PRINTUSASCII, at most max characters, "-" if empty */
static int put_token(ctx_outrec_t *b, span_t s, size_t max) {
    if (nil(s)) return outrec_put(b, "- ", 2);
    size_t n = s.n < max ? s.n : max;
    if (outrec_reserve(&b->buf, &b->len, &b->cap, n + 2) != 0) return CTX_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s.p[i];
        b->buf[b->len++] = (c > 32 && c < 127) ? (char)c : '_';
    }
    b->buf[b->len++] = ' ';
    return 0;
}

static int put_syslog_header(ctx_outrec_t *b, const span_t h[H_COUNT], const ctx_outrec_fields_t *f,
                             ctx_redact_ctx *rx, const ctx_redact_set *set) {
    char pri[16];
    int n = snprintf(pri, sizeof pri, "<%d>1 ", parse_pri(h[H_PRI]));
    if (outrec_put(b, pri, (size_t)n) != 0 || put_token(b, h[H_TS], 64) != 0 || put_token(b, h[H_HOST], 255) != 0 ||
        put_token(b, h[H_APP], 48) != 0 || put_token(b, h[H_PROCID], 128) != 0 || put_token(b, h[H_MSGID], 32) != 0)
        return CTX_ENOMEM;
    span_t sd = {f->sd ? f->sd : "", f->sd ? f->sdlen : 0};
    if (nil(sd) || sd.p[0] != '[') return outrec_put(b, "- ", 2);
    const char *r;
    size_t rn;
    int rc = redact_sd(rx, set, sd.p, sd.n, &r, &rn);
    if (rc < 0) return rc;
    if (outrec_put(b, r, rn) != 0 || outrec_put(b, " ", 1) != 0) return CTX_ENOMEM;
    return rc;
}

int ctx_outrec_build(ctx_outrec_t *b, ctx_outrec_kind_t kind, ctx_redact_ctx *rx, const ctx_redact_set *set,
                     const ctx_outrec_fields_t *f, const char **out, size_t *outlen) {
    if (b == NULL || f == NULL || out == NULL || outlen == NULL) return CTX_EINVAL;
    span_t h[H_COUNT];
    int changed = 0, rc;
    b->len = 0;
    b->withheld = 0;
    split_hdr(f, h);
    if ((rc = redact_header(b, h, rx, set)) < 0) return rc;
    changed += rc;
    if (kind == CTX_OUTREC_SYSLOG) {
        if ((rc = put_syslog_header(b, h, f, rx, set)) < 0) return rc;
        changed += rc;
    }
    if ((rc = put_object(b, h, f, kind != CTX_OUTREC_SYSLOG, rx, set)) < 0) return rc;
    changed += rc;
    b->buf[b->len] = '\0';
    *out = b->buf;
    *outlen = b->len;
    return changed;
}

void ctx_outrec_set_hostwide(ctx_outrec_t *b, int hostwide) {
    if (b != NULL) b->hostwide = hostwide != 0;
}

unsigned ctx_outrec_withheld(const ctx_outrec_t *b) {
    return b != NULL ? b->withheld : 0;
}

/* ---------------------------------------------------------------- records of the record formats */

/* appends s (redaction output: valid until the next redaction) to the record; *off its offset */
static int keep(ctx_outrec_t *b, const char *s, size_t n, size_t *off) {
    *off = b->len;
    return outrec_put(b, s, n);
}

/* every c in p[0..n) made a space (memchr: a JSON text from rsyslog has none, and is
 * checked at memchr's speed rather than byte by byte) */
static void blank_newlines(char *p, size_t n, char c) {
    for (char *q = p, *e = p + n; q < e && (q = memchr(q, c, (size_t)(e - q))) != NULL;) *q++ = ' ';
}

/* the $!ctx of a record format: its text in b->buf[*off..+*n), newlines (only blanks between
 * tokens in JSON) made spaces so that line-framed bodies stay framed */
static int fmt_ctx(ctx_outrec_t *b, const ctx_outrec_fields_t *f, ctx_redact_ctx *rx, const ctx_redact_set *set,
                   size_t *off, size_t *n) {
    size_t start = b->len;
    int rc = put_ctx(b, f, rx, set);
    if (rc < 0) return rc;
    static const char prefix[] = ",\"ctx\":";
    *off = b->len, *n = 0;
    if (b->len == start) return rc;
    *off = start + sizeof prefix - 1;
    *n = b->len - *off;
    blank_newlines(b->buf + *off, *n, '\n');
    blank_newlines(b->buf + *off, *n, '\r');
    return rc;
}

static ctx_fmt_str_t hdr_str(span_t s) {
    ctx_fmt_str_t r = {nil(s) ? NULL : s.p, nil(s) ? 0 : s.n};
    return r;
}

int ctx_outrec_fmtrec(ctx_outrec_t *b, ctx_redact_ctx *rx, const ctx_redact_set *set, const ctx_outrec_fields_t *f,
                      struct ctx_fmt_rec *r) {
    if (b == NULL || f == NULL || r == NULL) return CTX_EINVAL;
    span_t h[H_COUNT], sd = {f->sd ? f->sd : "", f->sd ? f->sdlen : 0};
    size_t moff = 0, mn = 0, soff = 0, sn = 0, coff = 0, cn = 0;
    const char *t;
    size_t tn;
    int changed = 0, rc;
    b->len = 0;
    b->withheld = 0;
    memset(r, 0, sizeof *r);
    split_hdr(f, h);
    if ((rc = redact_header(b, h, rx, set)) < 0) return rc;
    changed += rc;
    if ((rc = redact_msg(b, h, rx, set, f, &t, &tn)) < 0 || keep(b, t, tn, &moff) != 0) return rc < 0 ? rc : CTX_ENOMEM;
    changed += rc, mn = tn;
    if (!nil(sd)) {
        if ((rc = redact_sd(rx, set, sd.p, sd.n, &t, &tn)) < 0 || keep(b, t, tn, &soff) != 0) return rc < 0 ? rc : CTX_ENOMEM;
        changed += rc, sn = tn;
    }
    if ((rc = fmt_ctx(b, f, rx, set, &coff, &cn)) < 0) return rc;
    changed += rc;
    int pri = parse_pri(h[H_PRI]);
    r->facility = pri >> 3, r->severity = pri & 7;
    (void)ctx_fmt_parse_rfc3339_c(&b->ts_cache[0], h[H_TS].p, h[H_TS].n, &r->time_unix_nano);
    (void)ctx_fmt_parse_rfc3339_c(&b->ts_cache[1], h[H_RCVD].p, h[H_RCVD].n, &r->observed_unix_nano);
    r->host = hdr_str(h[H_HOST]), r->app = hdr_str(h[H_APP]);
    r->procid = hdr_str(h[H_PROCID]), r->msgid = hdr_str(h[H_MSGID]);
    r->msg.p = b->buf + moff, r->msg.n = mn;
    r->sd.p = sn ? b->buf + soff : NULL, r->sd.n = sn;
    r->ctx.p = cn ? b->buf + coff : NULL, r->ctx.n = cn;
    return changed;
}

int ctx_outrec_custom(ctx_outrec_t *b, ctx_redact_ctx *rx, const ctx_redact_set *set, const char *in, size_t len,
                      const char **out, size_t *outlen) {
    if (b == NULL || (in == NULL && len > 0) || out == NULL || outlen == NULL) return CTX_EINVAL;
    if (len > 0 && in[len - 1] == '\n') len--;
    b->len = 0;
    const char *t;
    size_t tn = trim_ws(in ? in : "", len, &t);
    int json = tn > 0 && (t[0] == '{' || t[0] == '[');
    struct fjson_object *o = NULL;
    int rc;
    if (json && outrec_json_clean(rx, set, t, tn, &b->scratch, &b->scratch_cap)) {
        rc = outrec_put_utf8_fixed(b, in, len) != 0 ? CTX_ENOMEM : 0; /* nothing to redact: as it is */
    } else if (json && (o = outrec_parse_json(b, t, tn)) != NULL) {
        rc = put_json_redacted(b, o, in, len, rx, set);
        fjson_object_put(o);
    } else {
        const char *r;
        size_t rn;
        rc = redact_text(rx, set, in ? in : "", len, &r, &rn);
        if (rc >= 0 && outrec_put(b, r, rn) != 0) rc = CTX_ENOMEM;
    }
    if (rc < 0) return rc;
    if (outrec_reserve(&b->buf, &b->len, &b->cap, 1) != 0) return CTX_ENOMEM;
    b->buf[b->len] = '\0';
    *out = b->buf;
    *outlen = b->len;
    return rc;
}
