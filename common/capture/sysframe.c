/* sysframe.c: RFC 6587 framing of a syslog byte stream (octet counting / non-transparent),
 * with truncation, gaps and resynchronisation. Contract and policy: sysframe.h.
 *
 * The stream state machine (s->state) consumes the input in runs: a frame body is
 * copied (or emitted in place) with memcpy / memchr; only headers and the
 * resynchronisation scanner look at single bytes. The scanner keeps the bytes of
 * the candidate it is matching in s->rs_hdr; when the candidate fails, the bytes
 * after its first one are fed again (at most 17, so the recursion is shallow and
 * every level works on a shorter array).
 *
 * Concurrency: the context is used by one thread; its counters are written with
 * relaxed atomic stores so that ctx_sysframe_get_stats() can read them anywhere.
 */
#include "sysframe.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctxlog_common.h"

#define ST_ADD(f, field, n) __atomic_store_n(&(f)->st.field, (f)->st.field + (n), __ATOMIC_RELAXED)
#define ST_LOAD(f, field) __atomic_load_n(&(f)->st.field, __ATOMIC_RELAXED)

#define MAX_FRAME_LIMIT (16u * 1024 * 1024)
#define BUF_SLACK 16   /* a held candidate also keeps the next header ("LEN SP <", <= 12 bytes) */
#define MAX_DIGITS 10  /* of an octet count */

enum state { ST_START = 0, ST_COUNT, ST_BODY, ST_SKIP, ST_BODY_NT, ST_SKIP_NT, ST_RESYNC, ST_CONFIRM };
enum rs_state { RS_SCAN = 0, RS_DIGITS, RS_SP, RS_LT, RS_PRI };
enum rs_kind { K_OCT = 0, K_LF = 1 };
enum prev_class { P_OTHER = 0, P_DIGIT = 1, P_DELIM = 2, P_ORIGIN = 3 };

struct ctx_sysframe {
    struct ctx_sysframe_cfg cfg;
    struct ctx_sysframe_stats st;
};

/* one call's context, passed down the handlers */
struct run {
    ctx_sysframe_t *f;
    struct ctx_sysframe_stream *s;
    ctx_sysframe_emit_fn emit;
    void *ud;
};

static void run_feed(struct run *r, const uint8_t *p, const uint8_t *end);

static int is_digit(uint8_t c) { return c >= '0' && c <= '9'; }

static int is_delim(const ctx_sysframe_t *f, uint8_t c) { return c == '\n' || (c == 0 && f->cfg.nul_delimiter); }

static int class_of(const ctx_sysframe_t *f, uint8_t c) {
    return is_digit(c) ? P_DIGIT : is_delim(f, c) ? P_DELIM : P_OTHER;
}

static size_t min_sz(size_t a, size_t b) { return a < b ? a : b; }

/* ---- configuration ---- */

int ctx_sysframe_new(const struct ctx_sysframe_cfg *cfg, ctx_sysframe_t **out, char *err, size_t errlen) {
    if (err != NULL && errlen > 0) err[0] = '\0';
    if (out == NULL || cfg == NULL) return CTX_EINVAL;
    *out = NULL;
    if (cfg->max_frame < 16 || cfg->max_frame > MAX_FRAME_LIMIT) {
        snprintf(err, errlen, "max_frame: expected 16..%u bytes, got %zu", MAX_FRAME_LIMIT, cfg->max_frame);
        return CTX_EINVAL;
    }
    if (cfg->max_octet_count < cfg->max_frame || cfg->max_octet_count > 0x7fffffffu) {
        snprintf(err, errlen, "max_octet_count: expected %zu (max_frame) .. 2147483647, got %zu", cfg->max_frame,
                 cfg->max_octet_count);
        return CTX_EINVAL;
    }
    if ((cfg->buf_alloc == NULL) != (cfg->buf_release == NULL)) {
        snprintf(err, errlen, "buf_alloc and buf_release: expected both or neither");
        return CTX_EINVAL;
    }
    ctx_sysframe_t *f = calloc(1, sizeof(*f));
    if (f == NULL) return CTX_ENOMEM;
    f->cfg = *cfg;
    *out = f;
    return CTX_OK;
}

void ctx_sysframe_free(ctx_sysframe_t *f) { free(f); }

void ctx_sysframe_stream_init(struct ctx_sysframe_stream *s, int at_start) {
    memset(s, 0, sizeof(*s));
    if (!at_start) {
        s->state = ST_RESYNC;
        s->rs_prev = P_ORIGIN;
    }
}

size_t ctx_sysframe_stream_mem(const struct ctx_sysframe_stream *s) { return s->buf_cap; }

int ctx_sysframe_stream_framing(const struct ctx_sysframe_stream *s) { return s->framing; }

int ctx_sysframe_stream_resyncing(const struct ctx_sysframe_stream *s) {
    return s->state == ST_RESYNC || s->state == ST_CONFIRM;
}

void ctx_sysframe_get_stats(const ctx_sysframe_t *f, struct ctx_sysframe_stats *st) {
    memset(st, 0, sizeof(*st));
    if (f == NULL) return;
    st->frames_octet = ST_LOAD(f, frames_octet);
    st->frames_lf = ST_LOAD(f, frames_lf);
    st->frames_nul = ST_LOAD(f, frames_nul);
    st->truncated = ST_LOAD(f, truncated);
    st->partial_emitted = ST_LOAD(f, partial_emitted);
    st->partial_dropped = ST_LOAD(f, partial_dropped);
    st->empty = ST_LOAD(f, empty);
    st->framing_errors = ST_LOAD(f, framing_errors);
    st->resyncs = ST_LOAD(f, resyncs);
    st->resync_rejects = ST_LOAD(f, resync_rejects);
    st->bytes_skipped = ST_LOAD(f, bytes_skipped);
    st->bytes_truncated = ST_LOAD(f, bytes_truncated);
    st->alloc_failures = ST_LOAD(f, alloc_failures);
}

const char *ctx_sysframe_framing_name(int framing) {
    switch (framing) {
    case CTX_SYSFRAME_OCTET: return "octet-counting";
    case CTX_SYSFRAME_LF: return "lf";
    case CTX_SYSFRAME_NUL: return "nul";
    default: return "unknown";
    }
}

/* ---- buffer and emission ---- */

static void buf_release(struct run *r) {
    struct ctx_sysframe_stream *s = r->s;
    if (s->buf != NULL) {
        if (r->f->cfg.buf_release != NULL)
            r->f->cfg.buf_release(r->f->cfg.buf_ud, s->buf, s->buf_cap);
        else
            free(s->buf);
    }
    s->buf = NULL;
    s->buf_len = s->buf_cap = 0;
}

/* make room for want bytes in all (want <= max_frame + BUF_SLACK); 0 or -1 (counted) */
static int buf_reserve(struct run *r, size_t want) {
    struct ctx_sysframe_stream *s = r->s;
    const struct ctx_sysframe_cfg *c = &r->f->cfg;
    if (want <= s->buf_cap) return 0;
    size_t grow = min_sz((size_t)s->buf_cap * 2, c->max_frame + BUF_SLACK);
    if (grow > want) want = grow;
    size_t cap = want;
    uint8_t *nb = c->buf_alloc != NULL ? c->buf_alloc(c->buf_ud, want, &cap) : malloc(want);
    if (nb == NULL || cap < want) {
        if (nb != NULL) c->buf_release(c->buf_ud, nb, cap);
        ST_ADD(r->f, alloc_failures, 1);
        return -1;
    }
    if (s->buf_len > 0) memcpy(nb, s->buf, s->buf_len);
    uint32_t len = s->buf_len;
    buf_release(r);
    s->buf = nb;
    s->buf_len = len;
    s->buf_cap = (uint32_t)min_sz(cap, UINT32_MAX);
    return 0;
}

static void emit(struct run *r, const uint8_t *d, size_t n, int framing, int truncated, int partial) {
    ctx_sysframe_t *f = r->f;
    struct ctx_sysframe_frame fr = {d, n, (uint8_t)framing, (uint8_t)truncated, (uint8_t)partial};
    if (framing == CTX_SYSFRAME_OCTET)
        ST_ADD(f, frames_octet, 1);
    else if (framing == CTX_SYSFRAME_NUL)
        ST_ADD(f, frames_nul, 1);
    else
        ST_ADD(f, frames_lf, 1);
    if (truncated) ST_ADD(f, truncated, 1);
    if (partial) ST_ADD(f, partial_emitted, 1);
    r->emit(r->ud, &fr);
}

/* the buffered frame (if any) is cut short: emit it as partial, or drop it (gap_emit) */
static void cut_partial(struct run *r, int framing) {
    struct ctx_sysframe_stream *s = r->s;
    if (s->buf_len > 0 && r->f->cfg.gap_emit) {
        emit(r, s->buf, s->buf_len, framing, 0, 1);
    } else {
        ST_ADD(r->f, partial_dropped, 1);
        ST_ADD(r->f, bytes_skipped, s->buf_len);
    }
    buf_release(r);
}

/* ---- resynchronisation ---- */

static void to_resync(struct run *r, int prev) {
    struct ctx_sysframe_stream *s = r->s;
    buf_release(r);
    s->state = ST_RESYNC;
    s->rs_state = RS_SCAN;
    s->rs_hlen = 0;
    s->rs_nhyp = 0;
    s->rs_prev = (uint8_t)prev;
}

static void framing_error(struct run *r, int prev) {
    ST_ADD(r->f, framing_errors, 1);
    ST_ADD(r->f, bytes_skipped, r->s->ndigits);
    to_resync(r, prev);
}

/* the candidate in rs_hdr failed at byte c: drop its first byte, scan the rest and c again */
static void rs_mismatch(struct run *r, uint8_t c) {
    struct ctx_sysframe_stream *s = r->s;
    uint8_t tmp[sizeof s->rs_hdr + 1];
    size_t n = s->rs_hlen - 1u;
    memcpy(tmp, s->rs_hdr + 1, n);
    tmp[n++] = c;
    ST_ADD(r->f, bytes_skipped, 1);
    s->rs_state = RS_SCAN;
    s->rs_prev = (uint8_t)class_of(r->f, s->rs_hdr[0]);
    s->rs_hlen = 0;
    run_feed(r, tmp, tmp + n);
}

static uint64_t digits_value(const uint8_t *d, size_t n) {
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) v = v * 10 + (uint64_t)(d[i] - '0');
    return v;
}

/* start a frame whose first bytes are pre (a matched "<PRI>"), in state st */
static void start_with_prefix(struct run *r, int st, uint32_t remain, const uint8_t *pre, size_t n) {
    uint8_t tmp[8];
    memcpy(tmp, pre, n);
    r->s->state = (uint8_t)st;
    r->s->remain = remain;
    ST_ADD(r->f, resyncs, 1);
    run_feed(r, tmp, tmp + n);
}

/* an octet-counting candidate "DIGITS SP <PRI>" found by scanning: hold it (ST_CONFIRM)
 * with every suffix of the digit run as a possible length; 0, or -1 if none fits */
static int rs_hold(struct run *r, size_t nd, size_t plen) {
    struct ctx_sysframe_stream *s = r->s;
    s->rs_nhyp = 0;
    for (size_t i = nd; i-- > 0;) {
        if (s->rs_hdr[i] == '0') continue;
        uint64_t v = digits_value(s->rs_hdr + i, nd - i);
        if (v >= plen && v <= r->f->cfg.max_frame) s->rs_hyp[s->rs_nhyp++] = (uint32_t)v;
    }
    if (s->rs_nhyp == 0 || buf_reserve(r, plen) != 0) return -1;
    memcpy(s->buf, s->rs_hdr + nd + 1, plen);
    s->buf_len = (uint32_t)plen;
    s->rs_hlen = (uint8_t)nd; /* digits of the run, for the skipped-bytes count */
    s->state = ST_CONFIRM;
    return 0;
}

/* the scanner matched a whole candidate in rs_hdr */
static void rs_match(struct run *r) {
    struct ctx_sysframe_stream *s = r->s;
    if (s->rs_kind == K_LF) {
        s->framing = CTX_SYSFRAME_LF;
        start_with_prefix(r, ST_BODY_NT, 0, s->rs_hdr, s->rs_hlen);
        return;
    }
    size_t nd = 0;
    while (s->rs_hdr[nd] != ' ') nd++;
    size_t plen = s->rs_hlen - nd - 1u;
    if (rs_hold(r, nd, plen) == 0) return;
    uint8_t last = s->rs_hdr[s->rs_hlen - 1];
    s->rs_hlen--;
    rs_mismatch(r, last);
}

/* scanner, state RS_SCAN: does c start a candidate? */
static void rs_scan(struct run *r, uint8_t c) {
    struct ctx_sysframe_stream *s = r->s;
    if (s->framing != CTX_SYSFRAME_LF && is_digit(c) && s->rs_prev != P_DIGIT) {
        s->rs_kind = K_OCT;
        s->rs_state = RS_DIGITS;
    } else if (s->framing != CTX_SYSFRAME_OCTET && c == '<' && (s->rs_prev == P_DELIM || s->rs_prev == P_ORIGIN)) {
        s->rs_kind = K_LF;
        s->rs_state = RS_LT;
    } else if (s->framing == CTX_SYSFRAME_LF && is_delim(r->f, c)) {
        ST_ADD(r->f, bytes_skipped, 1); /* a non-transparent stream resumes after any delimiter */
        ST_ADD(r->f, resyncs, 1);
        s->state = ST_START;
        return;
    } else {
        ST_ADD(r->f, bytes_skipped, 1);
        s->rs_prev = (uint8_t)class_of(r->f, c);
        return;
    }
    s->rs_hdr[0] = c;
    s->rs_hlen = 1;
}

/* scanner: one byte */
static void rs_byte(struct run *r, uint8_t c) {
    struct ctx_sysframe_stream *s = r->s;
    switch (s->rs_state) {
    case RS_SCAN: rs_scan(r, c); return;
    case RS_DIGITS:
        if (is_digit(c)) {
            if (s->rs_hlen == MAX_DIGITS) { /* keep the last 10 digits of a longer run */
                memmove(s->rs_hdr, s->rs_hdr + 1, MAX_DIGITS - 1);
                s->rs_hlen--;
                ST_ADD(r->f, bytes_skipped, 1);
            }
            s->rs_hdr[s->rs_hlen++] = c;
            return;
        }
        if (c != ' ') break;
        s->rs_state = RS_SP;
        s->rs_hdr[s->rs_hlen++] = c;
        return;
    case RS_SP:
        if (c != '<') break;
        s->rs_state = RS_LT;
        s->rs_hdr[s->rs_hlen++] = c;
        return;
    case RS_LT:
        if (!is_digit(c)) break;
        s->rs_state = RS_PRI;
        s->rs_npri = 1;
        s->rs_hdr[s->rs_hlen++] = c;
        return;
    case RS_PRI:
        if (is_digit(c) && s->rs_npri < 3) {
            s->rs_npri++;
            s->rs_hdr[s->rs_hlen++] = c;
            return;
        }
        if (c != '>') break;
        s->rs_hdr[s->rs_hlen++] = c;
        s->rs_state = RS_SCAN;
        rs_match(r);
        return;
    }
    rs_mismatch(r, c);
}

/* "[1-9][0-9]{0,9} <" at b? 1 yes, -1 no, 0 cannot tell yet */
static int hdr_check(const uint8_t *b, size_t n) {
    size_t i = 1;
    if (n == 0) return 0;
    if (b[0] < '1' || b[0] > '9') return -1;
    while (i < n && is_digit(b[i])) {
        if (++i > MAX_DIGITS) return -1;
    }
    if (i == n) return 0;
    if (b[i] != ' ') return -1;
    if (i + 1 == n) return 0;
    return b[i + 1] == '<' ? 1 : -1;
}

static int ndigits_of(uint32_t v) {
    int n = 1;
    while (v >= 10) v /= 10, n++;
    return n;
}

/* held candidate confirmed with length e: emit it, go on in sync with the bytes after it */
static void confirm(struct run *r, uint32_t e) {
    struct ctx_sysframe_stream *s = r->s;
    uint8_t tmp[BUF_SLACK];
    size_t n = s->buf_len - e;
    ST_ADD(r->f, bytes_skipped, (uint64_t)(s->rs_hlen - ndigits_of(e)));
    memcpy(tmp, s->buf + e, n);
    emit(r, s->buf, e, CTX_SYSFRAME_OCTET, 0, 0);
    buf_release(r);
    s->framing = CTX_SYSFRAME_OCTET;
    s->state = ST_START;
    s->rs_nhyp = 0;
    ST_ADD(r->f, resyncs, 1);
    run_feed(r, tmp, tmp + n);
}

static void reject(struct run *r) {
    struct ctx_sysframe_stream *s = r->s;
    uint8_t last = s->buf_len > 0 ? s->buf[s->buf_len - 1] : '<';
    ST_ADD(r->f, resync_rejects, 1);
    ST_ADD(r->f, bytes_skipped, (uint64_t)s->buf_len + s->rs_hlen + 1u);
    to_resync(r, class_of(r->f, last));
}

/* test the held candidate's lengths against the bytes after them */
static void check_hyps(struct run *r) {
    struct ctx_sysframe_stream *s = r->s;
    while (s->rs_nhyp > 0) {
        uint32_t e = s->rs_hyp[0];
        if (s->buf_len <= e) return;
        int m = hdr_check(s->buf + e, s->buf_len - e);
        if (m == 0) return;
        if (m > 0) {
            confirm(r, e);
            return;
        }
        memmove(s->rs_hyp, s->rs_hyp + 1, (size_t)(--s->rs_nhyp) * sizeof s->rs_hyp[0]);
    }
    reject(r);
}

static const uint8_t *on_confirm(struct run *r, const uint8_t *p, const uint8_t *end) {
    struct ctx_sysframe_stream *s = r->s;
    size_t take = 1, e0 = s->rs_hyp[0];
    if (s->buf_len < e0) take = min_sz((size_t)(end - p), e0 - s->buf_len);
    if (buf_reserve(r, (size_t)s->buf_len + take) != 0) {
        reject(r);
        return p;
    }
    memcpy(s->buf + s->buf_len, p, take);
    s->buf_len += (uint32_t)take;
    check_hyps(r);
    return p + take;
}

/* ---- in-sync framing ---- */

static const uint8_t *on_start(struct run *r, const uint8_t *p) {
    struct ctx_sysframe_stream *s = r->s;
    uint8_t c = *p;
    if (s->framing == CTX_SYSFRAME_UNKNOWN) s->framing = is_digit(c) ? CTX_SYSFRAME_OCTET : CTX_SYSFRAME_LF;
    if (s->framing == CTX_SYSFRAME_OCTET) {
        s->ndigits = 0;
        if (!is_digit(c)) {
            framing_error(r, P_OTHER);
            return p; /* c is scanned again */
        }
        s->count = (uint32_t)(c - '0');
        s->ndigits = 1;
        s->state = ST_COUNT;
        return p + 1;
    }
    if (is_delim(r->f, c)) {
        ST_ADD(r->f, empty, 1);
        return p + 1;
    }
    s->state = ST_BODY_NT;
    return p;
}

static const uint8_t *on_count(struct run *r, const uint8_t *p) {
    struct ctx_sysframe_stream *s = r->s;
    uint8_t c = *p;
    if (is_digit(c)) {
        uint64_t v = (uint64_t)s->count * 10 + (uint64_t)(c - '0');
        if (s->ndigits >= MAX_DIGITS || v > r->f->cfg.max_octet_count) {
            s->ndigits++;
            framing_error(r, P_DIGIT); /* the rest of the digit run is passed over */
            return p + 1;
        }
        s->count = (uint32_t)v;
        s->ndigits++;
        return p + 1;
    }
    if (c == ' ' && s->count > 0) {
        s->state = ST_BODY;
        s->remain = s->count;
        return p + 1;
    }
    framing_error(r, P_DIGIT);
    return p;
}

/* octet-counted frame: the rest of it cannot be kept (truncated or out of memory) */
static void octet_cut(struct run *r, const uint8_t *d, size_t n, int skip_tail) {
    struct ctx_sysframe_stream *s = r->s;
    if (n > 0) emit(r, d, n, CTX_SYSFRAME_OCTET, 1, 0);
    buf_release(r);
    s->state = skip_tail ? ST_SKIP : ST_START;
    s->skip_gap = 0;
}

static const uint8_t *on_body(struct run *r, const uint8_t *p, const uint8_t *end) {
    struct ctx_sysframe_stream *s = r->s;
    size_t avail = (size_t)(end - p), maxf = r->f->cfg.max_frame;
    if (s->buf_len == 0 && s->remain <= maxf && avail >= s->remain) {
        emit(r, p, s->remain, CTX_SYSFRAME_OCTET, 0, 0); /* whole frame in place */
        s->state = ST_START;
        return p + s->remain;
    }
    if (s->buf_len == 0 && s->remain > maxf && avail >= maxf) {
        s->remain -= (uint32_t)maxf;
        octet_cut(r, p, maxf, 1);
        return p + maxf;
    }
    size_t room = maxf - s->buf_len;
    size_t take = min_sz(min_sz(avail, s->remain), room);
    if (buf_reserve(r, s->buf_len + min_sz(s->remain, room)) != 0) {
        if (s->buf_len > 0) {
            octet_cut(r, s->buf, s->buf_len, 1);
            return p;
        }
        s->remain -= (uint32_t)take;
        octet_cut(r, p, take, 1);
        return p + take;
    }
    memcpy(s->buf + s->buf_len, p, take);
    s->buf_len += (uint32_t)take;
    s->remain -= (uint32_t)take;
    if (s->remain == 0) {
        emit(r, s->buf, s->buf_len, CTX_SYSFRAME_OCTET, 0, 0);
        buf_release(r);
        s->state = ST_START;
    } else if (s->buf_len == maxf) {
        octet_cut(r, s->buf, s->buf_len, 1);
    }
    return p + take;
}

static const uint8_t *on_skip(struct run *r, const uint8_t *p, const uint8_t *end) {
    struct ctx_sysframe_stream *s = r->s;
    size_t take = min_sz((size_t)(end - p), s->remain);
    if (s->skip_gap)
        ST_ADD(r->f, bytes_skipped, take);
    else
        ST_ADD(r->f, bytes_truncated, take);
    s->remain -= (uint32_t)take;
    if (s->remain == 0) s->state = ST_START;
    return p + take;
}

static const uint8_t *find_delim(const ctx_sysframe_t *f, const uint8_t *p, const uint8_t *end) {
    const uint8_t *q = memchr(p, '\n', (size_t)(end - p));
    if (f->cfg.nul_delimiter) {
        const uint8_t *z = memchr(p, 0, (size_t)((q != NULL ? q : end) - p));
        if (z != NULL) q = z;
    }
    return q;
}

/* non-transparent frame: cut at max_frame, skip to the delimiter */
static const uint8_t *nt_cut(struct run *r, const uint8_t *p, size_t consumed) {
    struct ctx_sysframe_stream *s = r->s;
    if (s->buf_len > 0) emit(r, s->buf, s->buf_len, CTX_SYSFRAME_LF, 1, 0);
    buf_release(r);
    s->state = ST_SKIP_NT;
    return p + consumed;
}

static const uint8_t *on_body_nt(struct run *r, const uint8_t *p, const uint8_t *end) {
    struct ctx_sysframe_stream *s = r->s;
    size_t maxf = r->f->cfg.max_frame;
    const uint8_t *q = find_delim(r->f, p, end);
    size_t n = (size_t)((q != NULL ? q : end) - p);
    int framing = (q != NULL && *q == 0) ? CTX_SYSFRAME_NUL : CTX_SYSFRAME_LF;
    if (s->buf_len == 0 && q != NULL && n <= maxf) {
        emit(r, p, n, framing, 0, 0); /* whole frame in place */
        s->state = ST_START;
        return q + 1;
    }
    size_t room = maxf - s->buf_len;
    if (n > room && s->buf_len == 0) {
        emit(r, p, maxf, CTX_SYSFRAME_LF, 1, 0);
        return nt_cut(r, p, maxf);
    }
    size_t keep = min_sz(n, room);
    if (buf_reserve(r, s->buf_len + keep) != 0) {
        if (s->buf_len == 0) emit(r, p, keep, CTX_SYSFRAME_LF, 1, 0);
        return nt_cut(r, p, keep);
    }
    memcpy(s->buf + s->buf_len, p, keep);
    s->buf_len += (uint32_t)keep;
    if (n > room) return nt_cut(r, p, keep);
    if (q == NULL) return end;
    emit(r, s->buf, s->buf_len, framing, 0, 0);
    buf_release(r);
    s->state = ST_START;
    return q + 1;
}

static const uint8_t *on_skip_nt(struct run *r, const uint8_t *p, const uint8_t *end) {
    const uint8_t *q = find_delim(r->f, p, end);
    if (q == NULL) {
        ST_ADD(r->f, bytes_truncated, (size_t)(end - p));
        return end;
    }
    ST_ADD(r->f, bytes_truncated, (size_t)(q - p));
    r->s->state = ST_START;
    return q + 1;
}

static void run_feed(struct run *r, const uint8_t *p, const uint8_t *end) {
    while (p < end) {
        switch (r->s->state) {
        case ST_START: p = on_start(r, p); break;
        case ST_COUNT: p = on_count(r, p); break;
        case ST_BODY: p = on_body(r, p, end); break;
        case ST_SKIP: p = on_skip(r, p, end); break;
        case ST_BODY_NT: p = on_body_nt(r, p, end); break;
        case ST_SKIP_NT: p = on_skip_nt(r, p, end); break;
        case ST_RESYNC: rs_byte(r, *p++); break;
        case ST_CONFIRM: p = on_confirm(r, p, end); break;
        default: abort();
        }
    }
}

void ctx_sysframe_feed(ctx_sysframe_t *f, struct ctx_sysframe_stream *s, const uint8_t *data, size_t len,
                       ctx_sysframe_emit_fn emit_fn, void *ud) {
    struct run r = {f, s, emit_fn, ud};
    if (len > 0) run_feed(&r, data, data + len);
}

/* ---- gaps and the end of a stream ---- */

/* octet counting: `lost` bytes of a frame with s->remain bytes to go are missing */
static void gap_in_octet_frame(struct run *r, uint64_t lost) {
    struct ctx_sysframe_stream *s = r->s;
    if (lost < s->remain) {
        s->remain -= (uint32_t)lost;
        if (s->state == ST_BODY) s->skip_gap = 1;
        s->state = ST_SKIP;
    } else if (lost == s->remain) {
        s->state = ST_START; /* the gap ended exactly at the next frame */
    } else {
        to_resync(r, P_ORIGIN);
    }
}

void ctx_sysframe_gap(ctx_sysframe_t *f, struct ctx_sysframe_stream *s, uint64_t lost, ctx_sysframe_emit_fn emit_fn,
                      void *ud) {
    struct run r = {f, s, emit_fn, ud};
    if (lost == 0) return;
    switch (s->state) {
    case ST_BODY:
        cut_partial(&r, CTX_SYSFRAME_OCTET);
        gap_in_octet_frame(&r, lost);
        return;
    case ST_SKIP: gap_in_octet_frame(&r, lost); return;
    case ST_BODY_NT: cut_partial(&r, CTX_SYSFRAME_LF); break;
    case ST_COUNT: ST_ADD(f, bytes_skipped, s->ndigits); break;
    case ST_RESYNC: ST_ADD(f, bytes_skipped, s->rs_hlen); break;
    case ST_CONFIRM:
        ST_ADD(f, resync_rejects, 1);
        ST_ADD(f, bytes_skipped, (uint64_t)s->buf_len + s->rs_hlen + 1u);
        break;
    default: break;
    }
    to_resync(&r, P_ORIGIN);
}

void ctx_sysframe_end(ctx_sysframe_t *f, struct ctx_sysframe_stream *s, int how, ctx_sysframe_emit_fn emit_fn,
                      void *ud) {
    struct run r = {f, s, emit_fn, ud};
    switch (s->state) {
    case ST_COUNT: ST_ADD(f, bytes_skipped, s->ndigits); break;
    case ST_BODY: cut_partial(&r, CTX_SYSFRAME_OCTET); break;
    case ST_BODY_NT:
        if (how == CTX_SYSFRAME_END_CLEAN && s->buf_len > 0)
            emit(&r, s->buf, s->buf_len, CTX_SYSFRAME_LF, 0, 0);
        else
            cut_partial(&r, CTX_SYSFRAME_LF);
        break;
    case ST_RESYNC: ST_ADD(f, bytes_skipped, s->rs_hlen); break;
    case ST_CONFIRM:
        for (unsigned i = 0; i < s->rs_nhyp; i++) {
            if (s->rs_hyp[i] == s->buf_len) { /* the stream stops exactly there: that confirms this length */
                ST_ADD(f, bytes_skipped, (uint64_t)(s->rs_hlen - ndigits_of(s->buf_len)));
                ST_ADD(f, resyncs, 1);
                emit(&r, s->buf, s->buf_len, CTX_SYSFRAME_OCTET, 0, 0);
                s->rs_nhyp = 0;
                s->rs_hlen = 0;
                s->buf_len = 0;
                break;
            }
        }
        if (s->buf_len > 0 || s->rs_nhyp > 0) {
            ST_ADD(f, resync_rejects, 1);
            ST_ADD(f, bytes_skipped, (uint64_t)s->buf_len + s->rs_hlen + 1u);
        }
        break;
    default: break;
    }
    buf_release(&r);
    ctx_sysframe_stream_init(s, 1);
}
