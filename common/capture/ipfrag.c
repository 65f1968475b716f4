/* ipfrag.c: IPv4 / IPv6 fragment reassembly, bounded by bytes, datagram count and age.
 *
 * Pending datagrams sit in a hash table (chained, seeded hash) and in one list
 * ordered by arrival of their first fragment, oldest first: the timeout and the
 * evictions both take from the head. Each datagram keeps its fragments in a list
 * sorted by offset; fragments never overlap (an overlap discards the datagram), so
 * the datagram is complete when the bytes held equal the length the last fragment
 * gave.
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

struct dgram {
    struct dgram *hnext;        /* hash chain */
    struct dgram *older, *newer; /* age list */
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

struct ctx_ipfrag {
    size_t max_bytes, max_datagrams;
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
    f->max_bytes = max_bytes;
    f->max_datagrams = max_datagrams;
    f->timeout_ms = timeout_ms;
    f->nbuckets = 16;
    while (f->nbuckets < max_datagrams) f->nbuckets <<= 1;
    f->buckets = calloc(f->nbuckets, sizeof *f->buckets);
    if (f->buckets == NULL) {
        free(f);
        return NULL;
    }
    if (getrandom(&f->seed, sizeof f->seed, GRND_NONBLOCK) != (ssize_t)sizeof f->seed)
        f->seed = (uint32_t)time(NULL) ^ (uint32_t)(uintptr_t)f;
    return f;
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
    free(f->buckets);
    free(f->outbuf);
    free(f);
}

static struct dgram *lookup(struct ctx_ipfrag *f, const struct frag_key *k, uint32_t h) {
    for (struct dgram *d = f->buckets[h & (f->nbuckets - 1)]; d != NULL; d = d->hnext)
        if (d->hash == h && memcmp(&d->key, k, sizeof *k) == 0) return d;
    return NULL;
}

/* Unlink d from the table and the age list and free it with its fragments. */
static void remove_dgram(struct ctx_ipfrag *f, struct dgram *d) {
    struct dgram **pp = &f->buckets[d->hash & (f->nbuckets - 1)];
    while (*pp != d) pp = &(*pp)->hnext;
    *pp = d->hnext;
    if (d->older != NULL) d->older->newer = d->newer;
    else f->oldest = d->newer;
    if (d->newer != NULL) d->newer->older = d->older;
    else f->newest = d->older;
    ST_SUB(f, bytes_in_use, d->mem);
    ST_SUB(f, datagrams_in_use, 1);
    free_frags(d);
    free(d);
}

static struct dgram *create_dgram(struct ctx_ipfrag *f, const struct frag_key *k, uint32_t h, uint64_t now_ms) {
    struct dgram *d = calloc(1, sizeof *d);
    if (d == NULL) return NULL;
    d->key = *k;
    d->hash = h;
    d->created_ms = now_ms;
    d->mem = sizeof *d;
    size_t b = h & (f->nbuckets - 1);
    d->hnext = f->buckets[b];
    f->buckets[b] = d;
    d->older = f->newest;
    if (f->newest != NULL) f->newest->newer = d;
    else f->oldest = d;
    f->newest = d;
    ST_ADD(f, bytes_in_use, d->mem);
    ST_ADD(f, datagrams_in_use, 1);
    return d;
}

/* Free d's fragments and keep it as a tombstone until its timeout. */
static void discard_dgram(struct ctx_ipfrag *f, struct dgram *d) {
    size_t frag_mem = d->mem - sizeof *d;
    free_frags(d);
    ST_SUB(f, bytes_in_use, frag_mem);
    d->mem = sizeof *d;
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

/* Evict the oldest datagrams other than keep until need more bytes fit and, when
 * keep is NULL (a new datagram), one more datagram fits. 0, or -1 when only keep
 * is left and it is still too much. */
static int make_room(struct ctx_ipfrag *f, const struct dgram *keep, size_t need) {
    for (;;) {
        int bytes_ok = f->st.bytes_in_use + need <= f->max_bytes;
        int count_ok = keep != NULL || f->st.datagrams_in_use < f->max_datagrams;
        if (bytes_ok && count_ok) return 0;
        struct dgram *victim = f->oldest;
        if (victim == keep) victim = victim->newer;
        if (victim == NULL) return -1;
        if (!victim->dead) ST_ADD(f, evicted, 1);
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
    d->mem += sizeof *n + len;
    ST_ADD(f, bytes_in_use, sizeof *n + len);
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
    if (rc < 0) {
        ST_ADD(f, bad, 1);
        return rc;
    }
    ST_ADD(f, reassembled, 1);
    *out = tmp;
    return CTX_IPFRAG_COMPLETE;
}

/* Find or create the datagram of p; on failure returns NULL with *rc set. */
static struct dgram *get_dgram(struct ctx_ipfrag *f, const struct ctx_pkt *p, uint32_t scope, uint64_t now_ms,
                               size_t need, int *rc) {
    struct frag_key k;
    make_key(p, scope, &k);
    uint32_t h = key_hash(f, &k);
    struct dgram *d = lookup(f, &k, h);
    if (d != NULL && d->dead) {
        *rc = CTX_IPFRAG_EDISCARDED;
        return NULL;
    }
    if (d == NULL) {
        if (make_room(f, NULL, need + sizeof *d) < 0) {
            *rc = CTX_IPFRAG_ELIMIT;
            return NULL;
        }
        d = create_dgram(f, &k, h, now_ms);
        if (d == NULL) *rc = CTX_ENOMEM;
    }
    return d;
}

int ctx_ipfrag_add(struct ctx_ipfrag *f, const struct ctx_pkt *frag, uint32_t scope, uint64_t now_ms,
                   struct ctx_pkt *out) {
    if (f == NULL || frag == NULL || out == NULL || !frag->frag.is_fragment || frag->frag.data == NULL ||
        frag->frag.data_len == 0 || frag->frag.data_len > OUTBUF_LEN ||
        (frag->ip_version != 4 && frag->ip_version != 6))
        return CTX_EINVAL;
    ST_ADD(f, fragments, 1);
    ctx_ipfrag_expire(f, now_ms);
    const struct ctx_pkt_frag *fr = &frag->frag;
    uint32_t end = fr->offset + (uint32_t)fr->data_len;
    size_t need = sizeof(struct frag_node) + fr->data_len;
    int rc = CTX_OK;
    if (fr->truncated || fr->data_len != fr->data_wire_len) rc = CTX_IPFRAG_ETRUNC;
    else if (end > OUTBUF_LEN || need + sizeof(struct dgram) > f->max_bytes) rc = CTX_IPFRAG_ELIMIT;
    struct dgram *d = rc == CTX_OK ? get_dgram(f, frag, scope, now_ms, need, &rc) : NULL;
    if (d == NULL) {
        ST_ADD(f, bad, 1);
        return rc;
    }
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
    if (make_room(f, d, need) < 0) {
        ST_ADD(f, evicted, 1);
        remove_dgram(f, d);
        return CTX_IPFRAG_ELIMIT;
    }
    if ((rc = insert_frag(f, d, frag, prev)) < 0) return rc;
    if (d->have_last && d->received == d->total) return complete(f, d, frag, out);
    return CTX_IPFRAG_QUEUED;
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
    st->overlaps = ST_LOAD(f, overlaps);
    st->duplicates = ST_LOAD(f, duplicates);
    st->bad = ST_LOAD(f, bad);
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
