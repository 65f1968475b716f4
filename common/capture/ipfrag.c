/* ipfrag.c: IPv4 / IPv6 fragment reassembly, bounded by bytes, datagram count and age.
 *
 * Pending datagrams sit in a hash table (chained, seeded hash) and in one list
 * ordered by arrival of their first fragment, oldest first: the timeout takes from
 * its head. Each datagram keeps its fragments in a list sorted by offset; fragments
 * never overlap (an overlap discards the datagram), so the datagram is complete
 * when the bytes held equal the length the last fragment gave.
 *
 * Scopes (the caller's vNICs): each scope with pending datagrams has a record with
 * the bytes and datagrams charged to it and its own age list. Room is made in two
 * steps: a scope over its quota evicts its own oldest datagram; when the object as
 * a whole is over a bound, the scope holding the most (bytes, or datagrams for the
 * count bound) loses its oldest. So a scope that floods never evicts the datagrams
 * of a scope holding less than it does.
 *
 * Concurrency: one owner thread per object (see ipfrag.h); only the counters are
 * also read from other threads, through relaxed atomics.
 */
#include "ipfrag.h"

#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "ctxlog_common.h"

/* Counters: written by the owner thread only, read by ctx_ipfrag_get_stats() from
 * any thread; relaxed atomic stores and loads keep each value whole. */
#define ST_ADD(f, field, n) __atomic_store_n(&(f)->st.field, (f)->st.field + (n), __ATOMIC_RELAXED)
#define ST_SUB(f, field, n) __atomic_store_n(&(f)->st.field, (f)->st.field - (n), __ATOMIC_RELAXED)
#define ST_LOAD(f, field) __atomic_load_n(&(f)->st.field, __ATOMIC_RELAXED)

#define OUTBUF_LEN 65535 /* largest reassembled IPv4 payload / IPv6 fragmentable part */

struct frag_key {
    struct in6_addr src, dst;
    uint32_t id;
    uint32_t scope;
    uint16_t vlan[CTX_PKT_MAX_VLANS];
    uint8_t ip_version;
    uint8_t proto; /* IPv4 only; 0 for IPv6 */
};

struct frag_node {
    struct frag_node *next; /* next by offset */
    uint32_t off;           /* offset in the datagram */
    uint32_t len;           /* bytes in data */
    uint8_t data[];
};

struct scope_acct;

struct dgram {
    struct dgram *hnext;        /* hash chain */
    struct dgram *older, *newer; /* age list */
    struct dgram *s_older, *s_newer; /* age list of its scope */
    struct scope_acct *sc;      /* its scope's record */
    struct frag_key key;
    uint32_t hash;
    uint64_t created_ms;        /* arrival of the first fragment */
    struct frag_node *frags;    /* sorted by off, disjoint */
    uint32_t total;             /* datagram length; valid when have_last */
    uint32_t received;          /* sum of frags' len */
    uint32_t max_end;           /* highest off + len held */
    size_t mem;                 /* bytes charged for this datagram */
    uint8_t have_last;          /* the fragment without "more" arrived */
    uint8_t first_next;         /* next header of the offset-0 fragment (IPv6) */
    uint8_t dead;               /* discarded: drop its fragments until timeout */
};

/* One scope with pending datagrams. Freed when it has none (unless pinned). */
struct scope_acct {
    struct scope_acct *hnext;   /* hash chain */
    struct scope_acct *next, *prev; /* list of all scopes */
    uint32_t scope;
    size_t bytes;               /* bytes charged for its datagrams */
    size_t datagrams;           /* its pending datagrams (discarded ones included) */
    struct dgram *oldest, *newest;
    int pinned;                 /* in use by the ctx_ipfrag_add() running now */
};

struct ctx_ipfrag {
    size_t max_bytes, max_datagrams;
    size_t quota_bytes, quota_datagrams; /* per scope */
    int has_quota;                       /* a quota below the object's bounds was set */
    struct scope_acct **sbuckets;        /* nbuckets of them */
    struct scope_acct *scopes;           /* all scope records */
    uint32_t timeout_ms;
    uint32_t seed;
    size_t nbuckets;            /* power of two */
    struct dgram **buckets;
    struct dgram *oldest, *newest;
    uint8_t *outbuf;            /* OUTBUF_LEN bytes once a datagram completed */
    struct ctx_ipfrag_stats st;
};

_Static_assert(sizeof(struct frag_key) % 4 == 0, "key_hash reads the key as 32-bit words");

static uint32_t mix32(uint32_t h, uint32_t v) {
    h ^= v;
    h *= 0x9e3779b1u;
    return h ^ (h >> 15);
}

static uint32_t key_hash(const struct ctx_ipfrag *f, const struct frag_key *k) {
    uint32_t w[sizeof *k / 4];
    memcpy(w, k, sizeof w);
    uint32_t h = f->seed;
    for (size_t i = 0; i < sizeof w / sizeof w[0]; i++) h = mix32(h, w[i]);
    return h;
}

static void make_key(const struct ctx_pkt *p, uint32_t scope, struct frag_key *k) {
    memset(k, 0, sizeof *k);
    k->src = p->src;
    k->dst = p->dst;
    k->id = p->frag.id;
    k->scope = scope;
    for (int i = 0; i < p->vlan_count && i < CTX_PKT_MAX_VLANS; i++) k->vlan[i] = p->vlan_id[i];
    k->ip_version = p->ip_version;
    k->proto = p->ip_version == 4 ? p->frag.next : 0;
}

struct ctx_ipfrag *ctx_ipfrag_new(size_t max_bytes, size_t max_datagrams, uint32_t timeout_ms) {
    if (max_bytes < CTX_IPFRAG_MIN_BYTES || max_datagrams < 1 || max_datagrams > (1u << 24) || timeout_ms < 1 ||
        timeout_ms > CTX_IPFRAG_MAX_TIMEOUT_MS)
        return NULL;
    struct ctx_ipfrag *f = calloc(1, sizeof *f);
    if (f == NULL) return NULL;
    f->max_bytes = f->quota_bytes = max_bytes;
    f->max_datagrams = f->quota_datagrams = max_datagrams;
    f->timeout_ms = timeout_ms;
    f->nbuckets = 16;
    while (f->nbuckets < max_datagrams) f->nbuckets <<= 1;
    f->buckets = calloc(f->nbuckets, sizeof *f->buckets);
    f->sbuckets = calloc(f->nbuckets, sizeof *f->sbuckets);
    if (f->buckets == NULL || f->sbuckets == NULL) {
        ctx_ipfrag_free(f);
        return NULL;
    }
    if (getrandom(&f->seed, sizeof f->seed, GRND_NONBLOCK) != (ssize_t)sizeof f->seed)
        f->seed = (uint32_t)time(NULL) ^ (uint32_t)(uintptr_t)f;
    return f;
}

int ctx_ipfrag_set_scope_quota(struct ctx_ipfrag *f, size_t quota_bytes) {
    if (f == NULL || quota_bytes < CTX_IPFRAG_MIN_BYTES || quota_bytes > f->max_bytes) return CTX_EINVAL;
    f->quota_bytes = quota_bytes;
    f->has_quota = quota_bytes < f->max_bytes;
    /* the same share of the datagram bound (at least one) */
    f->quota_datagrams = (size_t)((double)f->max_datagrams * (double)quota_bytes / (double)f->max_bytes);
    if (f->quota_datagrams < 1) f->quota_datagrams = 1;
    if (f->quota_datagrams < f->max_datagrams) f->has_quota = 1;
    return CTX_OK;
}

static void free_frags(struct dgram *d) {
    struct frag_node *n = d->frags;
    while (n != NULL) {
        struct frag_node *next = n->next;
        free(n);
        n = next;
    }
    d->frags = NULL;
}

void ctx_ipfrag_free(struct ctx_ipfrag *f) {
    if (f == NULL) return;
    struct dgram *d = f->oldest;
    while (d != NULL) {
        struct dgram *next = d->newer;
        free_frags(d);
        free(d);
        d = next;
    }
    while (f->scopes != NULL) {
        struct scope_acct *next = f->scopes->next;
        free(f->scopes);
        f->scopes = next;
    }
    free(f->buckets);
    free(f->sbuckets);
    free(f->outbuf);
    free(f);
}

static struct dgram *lookup(struct ctx_ipfrag *f, const struct frag_key *k, uint32_t h) {
    for (struct dgram *d = f->buckets[h & (f->nbuckets - 1)]; d != NULL; d = d->hnext)
        if (d->hash == h && memcmp(&d->key, k, sizeof *k) == 0) return d;
    return NULL;
}

/* ---- scope records ---- */

static struct scope_acct **scope_slot(struct ctx_ipfrag *f, uint32_t scope) {
    struct scope_acct **pp = &f->sbuckets[mix32(f->seed, scope) & (f->nbuckets - 1)];
    while (*pp != NULL && (*pp)->scope != scope) pp = &(*pp)->hnext;
    return pp;
}

/* the record of scope, created if needed, pinned; NULL when memory is short */
static struct scope_acct *scope_pin(struct ctx_ipfrag *f, uint32_t scope) {
    struct scope_acct **pp = scope_slot(f, scope);
    if (*pp == NULL) {
        struct scope_acct *sc = calloc(1, sizeof *sc);
        if (sc == NULL) return NULL;
        sc->scope = scope;
        sc->next = f->scopes;
        if (f->scopes != NULL) f->scopes->prev = sc;
        f->scopes = sc;
        *pp = sc;
    }
    (*pp)->pinned = 1;
    return *pp;
}

/* unpins sc (when unpin) and frees it if it holds nothing and is not pinned */
static void scope_release(struct ctx_ipfrag *f, struct scope_acct *sc, int unpin) {
    if (unpin) sc->pinned = 0;
    if (sc->datagrams > 0 || sc->pinned) return;
    struct scope_acct **pp = scope_slot(f, sc->scope);
    *pp = sc->hnext;
    if (sc->prev != NULL) sc->prev->next = sc->next;
    else f->scopes = sc->next;
    if (sc->next != NULL) sc->next->prev = sc->prev;
    free(sc);
}

/* charges delta bytes (may be negative) to d, its scope and the object */
static void charge(struct ctx_ipfrag *f, struct dgram *d, ptrdiff_t delta) {
    d->mem = (size_t)((ptrdiff_t)d->mem + delta);
    d->sc->bytes = (size_t)((ptrdiff_t)d->sc->bytes + delta);
    ST_ADD(f, bytes_in_use, (size_t)delta); /* wraps back for a negative delta */
}

/* Unlink d from the table, the age lists and its scope and free it with its fragments. */
static void remove_dgram(struct ctx_ipfrag *f, struct dgram *d) {
    struct dgram **pp = &f->buckets[d->hash & (f->nbuckets - 1)];
    struct scope_acct *sc = d->sc;
    while (*pp != d) pp = &(*pp)->hnext;
    *pp = d->hnext;
    if (d->older != NULL) d->older->newer = d->newer;
    else f->oldest = d->newer;
    if (d->newer != NULL) d->newer->older = d->older;
    else f->newest = d->older;
    if (d->s_older != NULL) d->s_older->s_newer = d->s_newer;
    else sc->oldest = d->s_newer;
    if (d->s_newer != NULL) d->s_newer->s_older = d->s_older;
    else sc->newest = d->s_older;
    charge(f, d, -(ptrdiff_t)d->mem);
    sc->datagrams--;
    ST_SUB(f, datagrams_in_use, 1);
    free_frags(d);
    free(d);
    scope_release(f, sc, 0);
}

static struct dgram *create_dgram(struct ctx_ipfrag *f, struct scope_acct *sc, const struct frag_key *k, uint32_t h,
                                  uint64_t now_ms) {
    struct dgram *d = calloc(1, sizeof *d);
    if (d == NULL) return NULL;
    d->key = *k;
    d->hash = h;
    d->created_ms = now_ms;
    d->sc = sc;
    size_t b = h & (f->nbuckets - 1);
    d->hnext = f->buckets[b];
    f->buckets[b] = d;
    d->older = f->newest;
    if (f->newest != NULL) f->newest->newer = d;
    else f->oldest = d;
    f->newest = d;
    d->s_older = sc->newest;
    if (sc->newest != NULL) sc->newest->s_newer = d;
    else sc->oldest = d;
    sc->newest = d;
    sc->datagrams++;
    charge(f, d, (ptrdiff_t)sizeof *d);
    ST_ADD(f, datagrams_in_use, 1);
    return d;
}

/* Free d's fragments and keep it as a tombstone until its timeout. */
static void discard_dgram(struct ctx_ipfrag *f, struct dgram *d) {
    charge(f, d, -(ptrdiff_t)(d->mem - sizeof *d));
    free_frags(d);
    d->dead = 1;
    d->received = 0;
}

int ctx_ipfrag_expire(struct ctx_ipfrag *f, uint64_t now_ms) {
    if (f == NULL) return 0;
    int n = 0;
    while (f->oldest != NULL && now_ms >= f->oldest->created_ms && now_ms - f->oldest->created_ms >= f->timeout_ms) {
        if (!f->oldest->dead) {
            ST_ADD(f, timed_out, 1);
            n++;
        }
        remove_dgram(f, f->oldest);
    }
    return n;
}

/* ---- making room ---- */

/* sc's oldest datagram other than keep, or NULL */
static struct dgram *oldest_of(const struct scope_acct *sc, const struct dgram *keep) {
    struct dgram *d = sc == NULL ? NULL : sc->oldest;
    return d == keep && d != NULL ? d->s_newer : d;
}

/* the scope holding the most bytes (by_count: datagrams) that has a datagram other than keep */
static struct scope_acct *largest_scope(const struct ctx_ipfrag *f, const struct dgram *keep, int by_count) {
    struct scope_acct *best = NULL;
    for (struct scope_acct *sc = f->scopes; sc != NULL; sc = sc->next) {
        if (oldest_of(sc, keep) == NULL) continue;
        size_t v = by_count ? sc->datagrams : sc->bytes, bv = best == NULL ? 0 : by_count ? best->datagrams : best->bytes;
        if (best == NULL || v > bv) best = sc;
    }
    return best;
}

enum { ROOM_OK = 0, ROOM_GLOBAL = 1, ROOM_QUOTA = 2 };

/* Evict datagrams other than keep until need more bytes fit in sc's quota and in the
 * object's bound and, when keep is NULL (a new datagram), one more datagram fits in
 * both. Returns ROOM_OK, or the bound that could not be met with only keep left. */
static int make_room(struct ctx_ipfrag *f, struct scope_acct *sc, const struct dgram *keep, size_t need) {
    int new_dgram = keep == NULL;
    for (;;) {
        int quota_ok = !f->has_quota ||
                       (sc->bytes + need <= f->quota_bytes && (!new_dgram || sc->datagrams < f->quota_datagrams));
        int global_bytes = f->st.bytes_in_use + need <= f->max_bytes;
        int global_ok = global_bytes && (!new_dgram || f->st.datagrams_in_use < f->max_datagrams);
        if (quota_ok && global_ok) return ROOM_OK;
        struct dgram *victim = quota_ok ? oldest_of(largest_scope(f, keep, global_bytes), keep) : oldest_of(sc, keep);
        if (victim == NULL) return quota_ok ? ROOM_GLOBAL : ROOM_QUOTA;
        if (!victim->dead && quota_ok) ST_ADD(f, evicted, 1);
        if (!victim->dead && !quota_ok) ST_ADD(f, evicted_quota, 1);
        remove_dgram(f, victim);
    }
}

/* Classify fragment [off, end) against d's fragments. Returns 0 (insert after
 * *prev, NULL: at the head), 1 (exact duplicate), or -1 (inconsistent overlap). */
static int find_slot(const struct dgram *d, uint32_t off, uint32_t end, const uint8_t *data,
                     struct frag_node **prev) {
    struct frag_node *p = NULL;
    for (struct frag_node *n = d->frags; n != NULL && n->off < end; n = n->next) {
        if (n->off + n->len <= off) {
            p = n;
            continue;
        }
        if (n->off == off && n->len == end - off && memcmp(n->data, data, n->len) == 0) return 1;
        return -1;
    }
    *prev = p;
    return 0;
}

/* The fragment's end against what d knows of the datagram's length: 0 fits, -1 not. */
static int check_end(const struct dgram *d, uint32_t end, int more) {
    if (more) return d->have_last && end > d->total ? -1 : 0;
    if (d->have_last) return end == d->total ? 0 : -1;
    return end < d->max_end ? -1 : 0;
}

static int insert_frag(struct ctx_ipfrag *f, struct dgram *d, const struct ctx_pkt *p, struct frag_node *prev) {
    uint32_t len = (uint32_t)p->frag.data_len;
    struct frag_node *n = malloc(sizeof *n + len);
    if (n == NULL) return CTX_ENOMEM;
    n->off = p->frag.offset;
    n->len = len;
    memcpy(n->data, p->frag.data, len);
    n->next = prev != NULL ? prev->next : d->frags;
    if (prev != NULL) prev->next = n;
    else d->frags = n;
    charge(f, d, (ptrdiff_t)(sizeof *n + len));
    d->received += len;
    if (n->off + len > d->max_end) d->max_end = n->off + len;
    if (n->off == 0) d->first_next = p->frag.next;
    if (!p->frag.more) {
        d->have_last = 1;
        d->total = n->off + len;
    }
    return CTX_OK;
}

/* Copy the complete datagram d out, decode its transport header into out, free d. */
static int complete(struct ctx_ipfrag *f, struct dgram *d, const struct ctx_pkt *last, struct ctx_pkt *out) {
    if (f->outbuf == NULL && (f->outbuf = malloc(OUTBUF_LEN)) == NULL) {
        remove_dgram(f, d);
        return CTX_ENOMEM;
    }
    uint32_t total = d->total;
    for (struct frag_node *n = d->frags; n != NULL; n = n->next) memcpy(f->outbuf + n->off, n->data, n->len);
    uint8_t next = d->key.ip_version == 4 ? d->key.proto : d->first_next;
    remove_dgram(f, d);
    struct ctx_pkt tmp = *last;
    memset(&tmp.frag, 0, sizeof tmp.frag);
    tmp.frag.reassembled = 1;
    tmp.frag.id = last->frag.id;
    tmp.frag.next = next;
    int rc = ctx_pkt_decode_l4(next, f->outbuf, total, total, &tmp);
    if (rc < 0) return rc;
    ST_ADD(f, reassembled, 1);
    *out = tmp;
    return CTX_IPFRAG_COMPLETE;
}

/* Find or create the datagram of p in scope sc; on failure returns NULL with *rc set. */
static struct dgram *get_dgram(struct ctx_ipfrag *f, struct scope_acct *sc, const struct ctx_pkt *p, uint64_t now_ms,
                               size_t need, int *rc) {
    struct frag_key k;
    make_key(p, sc->scope, &k);
    uint32_t h = key_hash(f, &k);
    struct dgram *d = lookup(f, &k, h);
    if (d != NULL && d->dead) {
        *rc = CTX_IPFRAG_EDISCARDED;
        return NULL;
    }
    if (d == NULL) {
        if (make_room(f, sc, NULL, need + sizeof *d) != ROOM_OK) {
            *rc = CTX_IPFRAG_ELIMIT;
            return NULL;
        }
        d = create_dgram(f, sc, &k, h, now_ms);
        if (d == NULL) *rc = CTX_ENOMEM;
    }
    return d;
}

/* One fragment in scope sc (pinned): get its datagram, place the fragment, complete. */
static int add_in_scope(struct ctx_ipfrag *f, struct scope_acct *sc, const struct ctx_pkt *frag, uint64_t now_ms,
                        struct ctx_pkt *out) {
    const struct ctx_pkt_frag *fr = &frag->frag;
    uint32_t end = fr->offset + (uint32_t)fr->data_len;
    size_t need = sizeof(struct frag_node) + fr->data_len;
    int rc = CTX_OK;
    if (fr->truncated || fr->data_len != fr->data_wire_len) return CTX_IPFRAG_ETRUNC;
    if (end > OUTBUF_LEN || need + sizeof(struct dgram) > f->quota_bytes) return CTX_IPFRAG_ELIMIT;
    struct dgram *d = get_dgram(f, sc, frag, now_ms, need, &rc);
    if (d == NULL) return rc;
    struct frag_node *prev = NULL;
    int slot = check_end(d, end, fr->more) < 0 ? -1 : find_slot(d, fr->offset, end, fr->data, &prev);
    if (slot == 1) {
        ST_ADD(f, duplicates, 1);
        return CTX_IPFRAG_QUEUED;
    }
    if (slot < 0) {
        ST_ADD(f, overlaps, 1);
        discard_dgram(f, d);
        return CTX_IPFRAG_EOVERLAP;
    }
    int room = make_room(f, sc, d, need);
    if (room != ROOM_OK) { /* the datagram alone outgrows the quota or the bound */
        if (room == ROOM_QUOTA) ST_ADD(f, evicted_quota, 1);
        else ST_ADD(f, evicted, 1);
        remove_dgram(f, d);
        return CTX_IPFRAG_ELIMIT;
    }
    if ((rc = insert_frag(f, d, frag, prev)) < 0) return rc;
    if (d->have_last && d->received == d->total) return complete(f, d, frag, out);
    return CTX_IPFRAG_QUEUED;
}

/* counts a refused fragment under its reason */
static void count_refused(struct ctx_ipfrag *f, int rc) {
    ST_ADD(f, bad, 1);
    if (rc == CTX_IPFRAG_ETRUNC) ST_ADD(f, refused_truncated, 1);
    else if (rc == CTX_IPFRAG_ELIMIT) ST_ADD(f, refused_too_large, 1);
    else if (rc == CTX_IPFRAG_EDISCARDED) ST_ADD(f, refused_discarded, 1);
    else if (rc == CTX_ENOMEM) ST_ADD(f, refused_nomem, 1);
    else ST_ADD(f, bad_l4, 1); /* a CTX_PKT_E* code of the reassembled datagram */
}

int ctx_ipfrag_add(struct ctx_ipfrag *f, const struct ctx_pkt *frag, uint32_t scope, uint64_t now_ms,
                   struct ctx_pkt *out) {
    if (f == NULL || frag == NULL || out == NULL || !frag->frag.is_fragment || frag->frag.data == NULL ||
        frag->frag.data_len == 0 || frag->frag.data_len > OUTBUF_LEN ||
        (frag->ip_version != 4 && frag->ip_version != 6))
        return CTX_EINVAL;
    ST_ADD(f, fragments, 1);
    ctx_ipfrag_expire(f, now_ms);
    struct scope_acct *sc = scope_pin(f, scope);
    int rc = sc == NULL ? CTX_ENOMEM : add_in_scope(f, sc, frag, now_ms, out);
    if (sc != NULL) scope_release(f, sc, 1);
    if (rc < 0 && rc != CTX_IPFRAG_EOVERLAP) count_refused(f, rc);
    return rc;
}

void ctx_ipfrag_get_stats(const struct ctx_ipfrag *f, struct ctx_ipfrag_stats *st) {
    if (st == NULL) return;
    if (f == NULL) {
        memset(st, 0, sizeof *st);
        return;
    }
    st->fragments = ST_LOAD(f, fragments);
    st->reassembled = ST_LOAD(f, reassembled);
    st->timed_out = ST_LOAD(f, timed_out);
    st->evicted = ST_LOAD(f, evicted);
    st->evicted_quota = ST_LOAD(f, evicted_quota);
    st->overlaps = ST_LOAD(f, overlaps);
    st->duplicates = ST_LOAD(f, duplicates);
    st->bad = ST_LOAD(f, bad);
    st->refused_truncated = ST_LOAD(f, refused_truncated);
    st->refused_too_large = ST_LOAD(f, refused_too_large);
    st->refused_discarded = ST_LOAD(f, refused_discarded);
    st->refused_nomem = ST_LOAD(f, refused_nomem);
    st->bad_l4 = ST_LOAD(f, bad_l4);
    st->bytes_in_use = ST_LOAD(f, bytes_in_use);
    st->datagrams_in_use = ST_LOAD(f, datagrams_in_use);
}

const char *ctx_ipfrag_strerror(int rc) {
    switch (rc) {
        case CTX_IPFRAG_QUEUED: return "fragment queued";
        case CTX_IPFRAG_COMPLETE: return "datagram reassembled";
        case CTX_EINVAL: return "invalid argument (not a fragment)";
        case CTX_ENOMEM: return "out of memory";
        case CTX_IPFRAG_EOVERLAP: return "overlapping or inconsistent fragment: datagram discarded";
        case CTX_IPFRAG_EDISCARDED: return "fragment of a discarded datagram";
        case CTX_IPFRAG_ETRUNC: return "fragment truncated by the snap length";
        case CTX_IPFRAG_ELIMIT: return "datagram exceeds the reassembly memory bound";
        default: return ctx_pkt_strerror(rc);
    }
}
