/* outrec_memo.c: the $!ctx of a record redacted member by member, through a per-worker memo.
 *
 * Why: rsyslog 8.2302 hands a transactional output only template strings, so omtenant gets
 * the $!ctx text of every message and would scan (and, when a value matches, parse, redact
 * and print) all of it per message. Most of that text is per VM and identical between
 * messages ($!ctx!vm, the frozen $!ctx!host and $!ctx!cm); $!ctx!capture (timestamps,
 * ports) differs per message, so a memo of the whole text would never hit. The memo is
 * therefore per top-level member ("host": {...}).
 *
 * The result is byte for byte the whole-document path's (put_ctx in outrec.c), because
 * ctx_redact_json is value by value and libfastjson prints an object as "{" + its members
 * joined by "," + "}":
 *  - no member changes: the text is copied as it is (as the whole path does);
 *  - a member changes: "{" + each member's plain printing after redaction + "}".
 * A member is its key, ':' and value as the text has them; the key of an entry is the
 * hash, the length and the bytes of that text (compared in full: two VMs' contexts never
 * share an entry, whatever the hash), the tenant's rules (set) and the entry's kind (a
 * member, or a whole document printed with or without host-wide fields: KIND_*). The entries hold the
 * redacted plain printing, the number of values changed and the per-rule match counts,
 * which are added to the redaction context on every hit (the counters count per record).
 * The memo is emptied whenever the rules change (ctx_outrec_memo_set, from omtenant's
 * bind_rules), so no entry outlives the rules (and HMAC key) it was made with.
 * Documents the member path cannot mirror take the whole path: not an object, a key with
 * an escape, a duplicate key, more than MAX_MEMBERS members, a member that is no valid JSON
 * on its own. A member with a regex run-time error is not remembered.
 *
 * Bounds: nslots entries (4-way sets, least recently used evicted), each at most
 * MAX_TEXT bytes of input and 2 x MAX_TEXT of output (redaction markers can be longer than
 * what they replace); a text is admitted on its second miss (a filter of one hash per
 * slot, ndoor slots), so per-message members ($!ctx!capture) do not evict the per-VM
 * ones. Memory: nslots x (input + output + 4 bytes a rule), e.g. 256 slots of 1 KiB
 * texts: ~0.5 MiB per worker, 3 MiB at most.
 *
 * Concurrency: a ctx_outrec_t (and its memo) belongs to one thread.
 */
#include <json.h>
#include <stdlib.h>
#include <string.h>

#include "ctxlog_common.h"
#include "outrec_int.h"

#define WAYS 4
#define MAX_TEXT 4096
#define MAX_MEMBERS 32

typedef struct {
    uint64_t hash;
    uint64_t used; /* tick of the last use; 0: empty */
    const ctx_redact_set *set;
    char *in;       /* the member's text */
    char *out;      /* its plain printing after redaction */
    uint32_t inlen, outlen;
    int changed;
    int kind;          /* KIND_*: what `in` is, part of the key */
    unsigned withheld; /* a document's: host-wide members its view left out */
    uint32_t *counts;  /* per rule */
} ent_t;

/* An entry's kind is part of its key. A document is remembered by its text as rsyslog
 * rendered it, before the tenant's view (outrec_view.c) left out host-wide members, so a
 * hit costs neither the view's scan nor the split; the kind says which view its printing
 * has. A member is remembered by its text after the view (the same text prints the same). */
enum { KIND_MEMBER, KIND_DOC_HOSTWIDE, KIND_DOC_VIEW };

struct outrec_memo {
    unsigned nslots; /* a power of two, >= WAYS */
    unsigned ndoor;  /* a power of two, 4 x nslots, at least 1024 */
    int nrules;
    uint64_t tick;
    ent_t *ents;
    uint64_t *door;        /* ndoor: hashes missed once */
    uint64_t *saved, *now; /* nrules + 1: redaction counters */
    unsigned whole_misses;  /* documents not found whole in a row */
    unsigned whole_skipped; /* documents not looked up whole since */
    ctx_outrec_memo_stats_t st;
    char *tmp; /* "{member}" and printings of the record being built */
    size_t tmplen, tmpcap;
};

typedef struct {
    const char *p; /* the member's text */
    size_t n;
    uint64_t hash;
    ent_t *e;      /* its entry (hit or admitted), else NULL */
    int changed;
    size_t off, len; /* its printing in memo->tmp when not in e */
} member_t;

static void ent_clear(ent_t *e) {
    free(e->in);
    free(e->out);
    free(e->counts);
    memset(e, 0, sizeof *e);
}

void outrec_memo_free(ctx_outrec_t *b) {
    struct outrec_memo *m = b->memo;
    if (m == NULL) return;
    for (unsigned i = 0; i < m->nslots; i++) ent_clear(&m->ents[i]);
    free(m->ents);
    free(m->door);
    free(m->saved);
    free(m->now);
    free(m->tmp);
    free(m);
    b->memo = NULL;
}

int ctx_outrec_memo_set(ctx_outrec_t *b, unsigned slots, int nrules) {
    if (b == NULL || nrules < 0) return CTX_EINVAL;
    ctx_outrec_memo_stats_t st = {0};
    if (b->memo != NULL) st = b->memo->st;
    outrec_memo_free(b);
    if (slots == 0) return 0;
    unsigned n = WAYS;
    while (n < slots && n < (1u << 20)) n <<= 1;
    struct outrec_memo *m = calloc(1, sizeof *m);
    if (m == NULL) return CTX_ENOMEM;
    m->nslots = n;
    m->nrules = nrules;
    m->st = st;
    m->ents = calloc(n, sizeof *m->ents);
    m->ndoor = n * 4 < 1024 ? 1024 : n * 4;
    m->door = calloc(m->ndoor, sizeof *m->door);
    m->saved = calloc((size_t)nrules + 1, sizeof *m->saved);
    m->now = calloc((size_t)nrules + 1, sizeof *m->now);
    b->memo = m;
    if (m->ents == NULL || m->door == NULL || m->saved == NULL || m->now == NULL) {
        outrec_memo_free(b);
        return CTX_ENOMEM;
    }
    return 0;
}

void ctx_outrec_memo_stats(const ctx_outrec_t *b, ctx_outrec_memo_stats_t *st) {
    if (st == NULL) return;
    memset(st, 0, sizeof *st);
    if (b != NULL && b->memo != NULL) *st = b->memo->st;
}

static uint64_t hash(const char *p, size_t n) {
    uint64_t h = 0x243f6a8885a308d3ull ^ n, v;
    for (; n >= 8; p += 8, n -= 8) {
        memcpy(&v, p, 8);
        h = (h ^ v) * 0x9e3779b97f4a7c15ull;
        h ^= h >> 29;
    }
    v = 0;
    memcpy(&v, p, n);
    h = (h ^ v) * 0x9e3779b97f4a7c15ull;
    return h ^ (h >> 32);
}

/* ---------------------------------------------------------------- the split */

static const char *skip_ws(const char *p, const char *end) {
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')) p++;
    return p;
}

const char *outrec_skip_string(const char *p, const char *end, int *esc) {
    for (p++;;) {
        const char *q = memchr(p, '"', (size_t)(end - p));
        if (q == NULL) return NULL;
        size_t bs = 0;
        while (q - bs > p && q[-1 - (ptrdiff_t)bs] == '\\') bs++;
        if (bs) *esc = 1;
        if (bs % 2 == 0) return q + 1;
        p = q + 1;
    }
}

const char *outrec_skip_value(const char *p, const char *end) {
    int depth = 0, esc = 0;
    while (p < end) {
        char c = *p;
        if (c == '"') {
            if ((p = outrec_skip_string(p, end, &esc)) == NULL) return NULL;
            if (depth == 0) return p;
            continue;
        }
        if (c == '{' || c == '[') {
            depth++;
        } else if (c == '}' || c == ']') {
            if (depth == 0) return p; /* the end of a scalar */
            if (--depth == 0) return p + 1;
        } else if (depth == 0 && (c == ',' || c == ' ' || c == '\t' || c == '\n' || c == '\r')) {
            return p;
        }
        p++;
    }
    return depth == 0 ? p : NULL;
}

/* the members of the object t[0..n); their count, or -1: take the whole path */
static int split(const char *t, size_t n, member_t *mem) {
    const char *p = skip_ws(t + 1, t + n), *end = t + n;
    int nm = 0;
    if (p < end && *p == '}') return skip_ws(p + 1, end) == end ? 0 : -1;
    for (;;) {
        int esc = 0;
        if (p >= end || *p != '"' || nm == MAX_MEMBERS) return -1;
        const char *k = p, *q = outrec_skip_string(p, end, &esc);
        if (q == NULL) return -1;
        size_t kn = (size_t)(q - k);
        if (memchr(k, '\\', kn) != NULL) return -1; /* an escaped key: compared raw, it could repeat one */
        for (int i = 0; i < nm; i++) /* a duplicate key: libfastjson keeps one */
            if (mem[i].n > kn && memcmp(mem[i].p, k, kn) == 0) return -1;
        q = skip_ws(q, end);
        if (q >= end || *q != ':') return -1;
        q = skip_ws(q + 1, end);
        const char *v = q;
        if (q >= end || (q = outrec_skip_value(q, end)) == NULL || q == v) return -1;
        mem[nm].p = k;
        mem[nm].n = (size_t)(q - k);
        mem[nm].e = NULL;
        nm++;
        p = skip_ws(q, end);
        if (p < end && *p == ',') {
            p = skip_ws(p + 1, end);
            continue;
        }
        if (p < end && *p == '}' && skip_ws(p + 1, end) == end) return nm;
        return -1;
    }
}

/* ---------------------------------------------------------------- one member */

static int tmp_put(struct outrec_memo *m, const char *s, size_t n) {
    if (outrec_reserve(&m->tmp, &m->tmplen, &m->tmpcap, n + 1) != 0) return CTX_ENOMEM;
    memcpy(m->tmp + m->tmplen, s, n);
    m->tmplen += n;
    return 0;
}

/* redacts member x as the object {x}; its plain printing (without the braces) goes to m->tmp
 * at x->off when it changed. known_clean: x is known to change nothing (nothing is redacted or
 * counted), print it. 0, CTX_E*, or OUTREC_WHOLE. */
static int redact_member(ctx_outrec_t *b, member_t *x, ctx_redact_ctx *rx, const ctx_redact_set *set,
                         int known_clean) {
    const int print = known_clean;
    struct outrec_memo *m = b->memo;
    size_t start = m->tmplen;
    if (tmp_put(m, "{", 1) != 0 || tmp_put(m, x->p, x->n) != 0 || tmp_put(m, "}", 1) != 0) return CTX_ENOMEM;
    x->changed = 0;
    x->off = x->len = 0;
    int clean = known_clean || outrec_json_clean(rx, set, m->tmp + start, x->n + 2, &b->scratch, &b->scratch_cap);
    if (clean && !print) {
        m->tmplen = start;
        return 0;
    }
    struct fjson_object *o = outrec_parse_json(b, m->tmp + start, x->n + 2);
    m->tmplen = start;
    if (o == NULL || !fjson_object_is_type(o, fjson_type_object) || fjson_object_object_length(o) != 1) {
        fjson_object_put(o);
        return OUTREC_WHOLE;
    }
    int rc = clean ? 0 : ctx_redact_json(rx, set, o);
    if (rc < 0) {
        fjson_object_put(o);
        return CTX_EINVAL;
    }
    x->changed = rc;
    if (rc > 0 || print) {
        const char *s = fjson_object_to_json_string_ext(o, FJSON_TO_STRING_PLAIN);
        size_t sn = s ? strlen(s) : 0;
        if (s == NULL || sn < 2 || tmp_put(m, s + 1, sn - 2) != 0) rc = CTX_ENOMEM;
        x->off = start;
        x->len = m->tmplen - start;
    }
    fjson_object_put(o);
    return rc < 0 ? rc : 0;
}

static ent_t *lookup(struct outrec_memo *m, uint64_t h, const char *p, size_t n, const ctx_redact_set *set,
                     int kind) {
    ent_t *e = &m->ents[(h & (m->nslots / WAYS - 1)) * WAYS];
    for (int w = 0; w < WAYS; w++, e++)
        if (e->used && e->hash == h && e->inlen == n && e->set == set && e->kind == kind && memcmp(e->in, p, n) == 0)
            return e;
    return NULL;
}

/* the second miss of a text (hash h) is admitted: 1 if it is to be remembered now */
static int door(struct outrec_memo *m, uint64_t h, size_t n) {
    uint64_t *d = &m->door[h & (m->ndoor - 1)];
    if (n > MAX_TEXT) return 0;
    if (*d != h) { /* first miss: admitted on the next */
        *d = h;
        return 0;
    }
    return 1;
}

/* a new entry (the least recently used of its set is evicted): in -> out, changed, and the
 * counts after - before (none if a regex run-time error was counted meanwhile) */
static ent_t *remember(struct outrec_memo *m, uint64_t h, const ctx_redact_set *set, int kind, const char *in,
                       size_t inlen, const char *out, size_t outlen, int changed, const uint64_t *before,
                       const uint64_t *after) {
    if (after[m->nrules] != before[m->nrules] || inlen > MAX_TEXT || outlen > 2 * MAX_TEXT) return NULL;
    ent_t *e = &m->ents[(h & (m->nslots / WAYS - 1)) * WAYS], *v = e;
    for (int w = 1; w < WAYS; w++)
        if (e[w].used < v->used) v = &e[w];
    if (v->used) m->st.evictions++;
    ent_clear(v);
    v->in = malloc(inlen);
    v->out = malloc(outlen ? outlen : 1);
    v->counts = malloc(((size_t)m->nrules + 1) * sizeof *v->counts);
    if (v->in == NULL || v->out == NULL || v->counts == NULL) {
        ent_clear(v);
        return NULL;
    }
    memcpy(v->in, in, inlen);
    memcpy(v->out, out, outlen);
    for (int i = 0; i < m->nrules; i++) v->counts[i] = (uint32_t)(after[i] - before[i]);
    v->hash = h;
    v->set = set;
    v->inlen = (uint32_t)inlen;
    v->outlen = (uint32_t)outlen;
    v->changed = changed;
    v->kind = kind;
    v->used = ++m->tick;
    m->st.inserts++;
    return v;
}

/* remembers member x (redacted; its counts are after - before) on its second miss */
static void admit(ctx_outrec_t *b, member_t *x, const ctx_redact_set *set, const uint64_t *before,
                  const uint64_t *after, ctx_redact_ctx *rx) {
    struct outrec_memo *m = b->memo;
    if (after[m->nrules] != before[m->nrules] || !door(m, x->hash, x->n)) return;
    if (x->len == 0 && redact_member(b, x, rx, set, 1) != 0) return; /* clean: its printing */
    x->e = remember(m, x->hash, set, KIND_MEMBER, x->p, x->n, m->tmp + x->off, x->len, x->changed, before, after);
}

/* ---------------------------------------------------------------- the record's $!ctx */

static int fallback(ctx_outrec_t *b, ctx_redact_ctx *rx, size_t len) {
    ctx_redact_ctx_restore_counters(rx, b->memo->saved);
    b->len = len;
    b->memo->st.whole++;
    return OUTREC_WHOLE;
}

/* the member path (the document was not found whole) */
static int members(ctx_outrec_t *b, const char *t, size_t n, ctx_redact_ctx *rx, const ctx_redact_set *set) {
    struct outrec_memo *m = b->memo;
    member_t mem[MAX_MEMBERS];
    int nm = split(t, n, mem), changed = 0, rc;
    if (nm < 0) {
        m->st.whole++;
        return OUTREC_WHOLE;
    }
    size_t len0 = b->len;
    ctx_redact_ctx_save_counters(rx, m->saved);
    m->tmplen = 0;
    for (int i = 0; i < nm; i++) {
        member_t *x = &mem[i];
        x->hash = hash(x->p, x->n);
        x->len = 0;
        ent_t *e = lookup(m, x->hash, x->p, x->n, set, KIND_MEMBER);
        if (e != NULL) {
            m->st.hits++;
            e->used = ++m->tick;
            x->e = e;
            x->changed = e->changed;
            ctx_redact_ctx_add_counts(rx, e->counts);
        } else {
            m->st.misses++;
            ctx_redact_ctx_save_counters(rx, m->now);
            uint64_t before[m->nrules + 1];
            memcpy(before, m->now, sizeof before);
            if ((rc = redact_member(b, x, rx, set, 0)) == OUTREC_WHOLE) return fallback(b, rx, len0);
            if (rc < 0) return rc;
            ctx_redact_ctx_save_counters(rx, m->now);
            admit(b, x, set, before, m->now, rx);
        }
        changed += x->changed;
    }
    if (changed == 0) /* as it is, as the whole path copies it */
        return outrec_put_utf8_fixed(b, t, n) != 0 ? CTX_ENOMEM : 0;
    if (outrec_put(b, "{", 1) != 0) return CTX_ENOMEM;
    for (int i = 0; i < nm; i++) {
        member_t *x = &mem[i];
        if (i > 0 && outrec_put(b, ",", 1) != 0) return CTX_ENOMEM;
        if (x->e != NULL) {
            if (outrec_put_utf8_fixed(b, x->e->out, x->e->outlen) != 0) return CTX_ENOMEM;
            continue;
        }
        if (x->len == 0) { /* clean, not remembered: its plain printing now */
            rc = redact_member(b, x, rx, set, 1);
            if (rc == OUTREC_WHOLE) return fallback(b, rx, len0);
            if (rc < 0) return rc;
        }
        if (outrec_put_utf8_fixed(b, m->tmp + x->off, x->len) != 0) return CTX_ENOMEM;
    }
    return outrec_put(b, "}", 1) != 0 ? CTX_ENOMEM : changed;
}

/* Whole documents first: when $!ctx holds only per-VM groups (every level below debug, which
 * adds the per-message $!ctx!capture), the whole text repeats, and one hash and compare of it
 * replaces the split into members. A document and a member never share an entry (a document's
 * text starts with '{', a member's with '"'). After WHOLE_GIVE_UP whole misses in a row (the
 * documents carry a per-message member), only one document in WHOLE_RETRY is looked up whole. */
#define WHOLE_GIVE_UP 64
#define WHOLE_RETRY 64

int outrec_ctx_members(ctx_outrec_t *b, const char *t, size_t n, ctx_redact_ctx *rx, const ctx_redact_set *set) {
    struct outrec_memo *m = b->memo;
    if (rx == NULL || set == NULL || n < 2 || t[n - 1] != '}') return OUTREC_WHOLE;
    int probe = m->whole_misses < WHOLE_GIVE_UP || (++m->whole_skipped % WHOLE_RETRY) == 0;
    int kind = b->hostwide ? KIND_DOC_HOSTWIDE : KIND_DOC_VIEW;
    uint64_t h = 0;
    if (probe) {
        h = hash(t, n) ^ ((uint64_t)kind << 56);
        ent_t *e = lookup(m, h, t, n, set, kind);
        if (e != NULL) {
            m->st.doc_hits++;
            m->whole_misses = 0;
            e->used = ++m->tick;
            b->withheld = e->withheld;
            ctx_redact_ctx_add_counts(rx, e->counts);
            return outrec_put(b, e->out, e->outlen) != 0 ? CTX_ENOMEM : e->changed;
        }
        m->st.doc_misses++;
        m->whole_misses++;
    }
    const char *vt = t;
    size_t vn = n;
    if (kind == KIND_DOC_VIEW && outrec_view_ctx(b, t, n, &vt, &vn) < 0) return CTX_ENOMEM;
    size_t len0 = b->len;
    int rc = members(b, vt, vn, rx, set);
    if (rc < 0 || !probe || !door(m, h, n)) return rc;
    uint64_t now[m->nrules + 1];
    ctx_redact_ctx_save_counters(rx, now);
    ent_t *e = remember(m, h, set, kind, t, n, b->buf + len0, b->len - len0, rc, m->saved, now);
    if (e != NULL) e->withheld = b->withheld;
    return rc;
}
