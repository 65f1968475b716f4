/* redact_multi.c: the open multi-line secrets of each sender (redact_multi.h).
 *
 * Markers: PEM "-----BEGIN <LABEL>-----" and "-----END <LABEL>-----" where LABEL is [A-Z0-9 ]*
 * ending in "PRIVATE KEY" or "PRIVATE KEY BLOCK" (as the pem-private-key rule's), and the
 * configured pair's two literals, case-sensitive. The table is a compact array of open secrets
 * (few are open at once), searched linearly under the mutex.
 *
 * Concurrency: the mutex guards the table and the counters; `nopen` is also read without it
 * (ctx_redact_multi_wanted), atomically.
 */
#include "redact_multi.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctxlog_common.h"

#define PEM_LABEL "pem-private-key"
#define PAIR_LABEL "multiline-secret"

struct ent {
    uint64_t last_ms;
    uint32_t lines;
    uint16_t keylen;
    uint8_t kind; /* CTX_MULTI_PEM or CTX_MULTI_PAIR */
    char key[CTX_MULTI_KEY_MAX];
};

struct ctx_redact_multi {
    pthread_mutex_t mu;
    unsigned max, timeout_ms, max_lines;
    unsigned nopen; /* entries in use; atomic for the lock-free check */
    struct ent *ent;
    char begin[CTX_MULTI_MARKER_MAX + 1], end[CTX_MULTI_MARKER_MAX + 1], name[CTX_MULTI_MARKER_MAX + 1];
    size_t blen, elen;
    ctx_redact_multi_stats_t st;
};

static int pair_ok(const char *s) {
    return s != NULL && strlen(s) >= 3 && strlen(s) <= CTX_MULTI_MARKER_MAX && strchr(s, '\n') == NULL;
}

static int check_conf(const ctx_redact_multi_conf *c, char *err, size_t errlen) {
    const char *why = NULL;
    if (c->max_senders > 65536) why = "maxSenders: expected 1..65536";
    else if ((c->begin == NULL) != (c->end == NULL)) why = "begin and end: expected both or neither";
    else if (c->begin != NULL && (!pair_ok(c->begin) || !pair_ok(c->end)))
        why = "begin and end: expected literals of 3..64 bytes without a newline";
    else if (c->name != NULL && (!pair_ok(c->name) || strpbrk(c->name, "]\"\\") != NULL))
        why = "name: expected 3..64 bytes without ']', '\"', '\\' or a newline";
    if (why == NULL) return 0;
    if (err != NULL && errlen > 0) snprintf(err, errlen, "multi-line secrets: %s", why);
    return CTX_EINVAL;
}

int ctx_redact_multi_new(ctx_redact_multi **out, const ctx_redact_multi_conf *conf, char *err, size_t errlen) {
    static const ctx_redact_multi_conf dflt = {0, 0, 0, NULL, NULL, NULL};
    const ctx_redact_multi_conf *c = conf ? conf : &dflt;
    if (out == NULL) return CTX_EINVAL;
    *out = NULL;
    if (check_conf(c, err, errlen) != 0) return CTX_EINVAL;
    ctx_redact_multi *m = calloc(1, sizeof *m);
    if (m == NULL) return CTX_ENOMEM;
    m->max = c->max_senders ? c->max_senders : 256;
    m->timeout_ms = c->timeout_ms ? c->timeout_ms : 30000;
    m->max_lines = c->max_lines ? c->max_lines : 1000;
    m->ent = calloc(m->max, sizeof *m->ent);
    if (m->ent == NULL) {
        free(m);
        return CTX_ENOMEM;
    }
    if (c->begin != NULL) {
        snprintf(m->begin, sizeof m->begin, "%s", c->begin);
        snprintf(m->end, sizeof m->end, "%s", c->end);
        m->blen = strlen(m->begin);
        m->elen = strlen(m->end);
    }
    snprintf(m->name, sizeof m->name, "%s", c->name ? c->name : PAIR_LABEL);
    pthread_mutex_init(&m->mu, NULL);
    *out = m;
    return 0;
}

void ctx_redact_multi_free(ctx_redact_multi *m) {
    if (m == NULL) return;
    pthread_mutex_destroy(&m->mu);
    free(m->ent);
    free(m);
}

/* the first PEM marker "-----WORD<LABEL>-----" (WORD "BEGIN" or "END") in p[0..n): [*ms, *me) */
static int find_pem(const char *p, size_t n, const char *word, size_t *ms, size_t *me) {
    static const char tail1[] = "PRIVATE KEY", tail2[] = "PRIVATE KEY BLOCK";
    size_t wl = strlen(word);
    for (const char *q = p; (q = memmem(q, n - (size_t)(q - p), word, wl)) != NULL; q++) {
        const char *l = q + wl, *end = p + n;
        while (l < end && ((*l >= 'A' && *l <= 'Z') || (*l >= '0' && *l <= '9') || *l == ' ')) l++;
        if (end - l < 5 || memcmp(l, "-----", 5) != 0) continue;
        size_t ll = (size_t)(l - (q + wl));
        if ((ll >= sizeof tail1 - 1 && memcmp(l - (sizeof tail1 - 1), tail1, sizeof tail1 - 1) == 0) ||
            (ll >= sizeof tail2 - 1 && memcmp(l - (sizeof tail2 - 1), tail2, sizeof tail2 - 1) == 0)) {
            *ms = (size_t)(q - p);
            *me = (size_t)(l + 5 - p);
            return 1;
        }
    }
    return 0;
}

static int find_lit(const char *p, size_t n, const char *lit, size_t ln, size_t *ms, size_t *me) {
    const char *q = ln ? memmem(p, n, lit, ln) : NULL;
    if (q == NULL) return 0;
    *ms = (size_t)(q - p);
    *me = *ms + ln;
    return 1;
}

/* the first begin marker of `kinds` in p[0..n): its kind, or 0 */
static unsigned find_begin(const ctx_redact_multi *m, unsigned kinds, const char *p, size_t n, size_t *ms,
                           size_t *me) {
    size_t ps = 0, pe = 0, ls = 0, le = 0;
    int pem = (kinds & CTX_MULTI_PEM) && find_pem(p, n, "-----BEGIN", &ps, &pe);
    int lit = (kinds & CTX_MULTI_PAIR) && find_lit(p, n, m->begin, m->blen, &ls, &le);
    if (pem && (!lit || ps <= ls)) {
        *ms = ps, *me = pe;
        return CTX_MULTI_PEM;
    }
    if (!lit) return 0;
    *ms = ls, *me = le;
    return CTX_MULTI_PAIR;
}

static int find_end(const ctx_redact_multi *m, unsigned kind, const char *p, size_t n, size_t *ms, size_t *me) {
    return kind == CTX_MULTI_PEM ? find_pem(p, n, "-----END", ms, me) : find_lit(p, n, m->end, m->elen, ms, me);
}

int ctx_redact_multi_wanted(const ctx_redact_multi *m, unsigned kinds, const char *msg, size_t len) {
    size_t s, e;
    if (m == NULL) return 0;
    if (__atomic_load_n(&m->nopen, __ATOMIC_ACQUIRE) > 0) return 1;
    return find_begin(m, kinds, msg, len, &s, &e) != 0;
}

static void drop(ctx_redact_multi *m, size_t i) {
    m->ent[i] = m->ent[m->nopen - 1];
    __atomic_store_n(&m->nopen, m->nopen - 1, __ATOMIC_RELEASE);
}

static void sweep(ctx_redact_multi *m, uint64_t now) {
    for (size_t i = 0; i < m->nopen;) {
        if (now >= m->ent[i].last_ms && now - m->ent[i].last_ms >= m->timeout_ms) {
            drop(m, i);
            m->st.timeouts++;
        } else {
            i++;
        }
    }
}

static struct ent *lookup(ctx_redact_multi *m, const char *key, size_t keylen) {
    for (size_t i = 0; i < m->nopen; i++)
        if (m->ent[i].keylen == keylen && memcmp(m->ent[i].key, key, keylen) == 0) return &m->ent[i];
    return NULL;
}

static void open_secret(ctx_redact_multi *m, const char *key, size_t keylen, unsigned kind, uint64_t now) {
    if (m->nopen == m->max) { /* full: the entry idle longest goes */
        size_t old = 0;
        for (size_t i = 1; i < m->nopen; i++)
            if (m->ent[i].last_ms < m->ent[old].last_ms) old = i;
        drop(m, old);
        m->st.evicted++;
    }
    struct ent *e = &m->ent[m->nopen];
    memcpy(e->key, key, keylen);
    e->keylen = (uint16_t)keylen;
    e->kind = (uint8_t)kind;
    e->lines = 0;
    e->last_ms = now;
    __atomic_store_n(&m->nopen, m->nopen + 1, __ATOMIC_RELEASE);
    m->st.opened++;
}

/* a message of the open secret ent: the end of its span in *e; the entry closes, or is kept */
static void continue_secret(ctx_redact_multi *m, unsigned kinds, struct ent *ent, const char *key, size_t keylen,
                            const char *msg, size_t len, uint64_t now, size_t *e, const char **label) {
    size_t ms, me;
    unsigned kind = ent->kind;
    *label = kind == CTX_MULTI_PEM ? PEM_LABEL : m->name;
    m->st.lines++;
    *e = len;
    if (find_end(m, kind, msg, len, &ms, &me)) {
        drop(m, (size_t)(ent - m->ent));
        m->st.closed++;
        *e = me;
        size_t bs, be; /* a new secret after the end, without its own end: open again */
        unsigned k = find_begin(m, kinds, msg + me, len - me, &bs, &be);
        if (k != 0 && !find_end(m, k, msg + me + be, len - me - be, &ms, &ms)) {
            open_secret(m, key, keylen, k, now);
            *e = len;
        }
        return;
    }
    ent->last_ms = now;
    if (++ent->lines >= m->max_lines) {
        drop(m, (size_t)(ent - m->ent));
        m->st.overlong++;
    }
}

int ctx_redact_multi_step(ctx_redact_multi *m, unsigned kinds, const char *key, size_t keylen, const char *msg,
                          size_t len, uint64_t now_ms, size_t *s, size_t *e, const char **label) {
    size_t bs, be, es, ee;
    if (m == NULL || s == NULL || e == NULL || label == NULL || (msg == NULL && len > 0)) return 0;
    if (msg == NULL) msg = "";
    if (keylen > CTX_MULTI_KEY_MAX) keylen = CTX_MULTI_KEY_MAX;
    *s = *e = 0;
    int rc = 0;
    pthread_mutex_lock(&m->mu);
    sweep(m, now_ms);
    struct ent *ent = lookup(m, key, keylen);
    if (ent != NULL) {
        continue_secret(m, kinds, ent, key, keylen, msg, len, now_ms, e, label);
        rc = 1;
    } else {
        unsigned k = find_begin(m, kinds, msg, len, &bs, &be);
        int closed_here = k != 0 && find_end(m, k, msg + be, len - be, &es, &ee);
        if (k == CTX_MULTI_PAIR && closed_here) { /* begin and end in one message: between them */
            *s = bs, *e = be + ee, *label = m->name, rc = 1;
        } else if (k != 0 && !closed_here) { /* (a whole PEM block in one message is the rule's) */
            open_secret(m, key, keylen, k, now_ms);
            *s = bs, *e = len, *label = k == CTX_MULTI_PEM ? PEM_LABEL : m->name, rc = 1;
        }
    }
    pthread_mutex_unlock(&m->mu);
    return rc;
}

void ctx_redact_multi_stats(ctx_redact_multi *m, ctx_redact_multi_stats_t *st) {
    if (st == NULL) return;
    memset(st, 0, sizeof *st);
    if (m == NULL) return;
    pthread_mutex_lock(&m->mu);
    *st = m->st;
    st->open = m->nopen;
    pthread_mutex_unlock(&m->mu);
}
