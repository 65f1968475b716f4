/* tcpreasm.c: passive TCP reassembly of the client-to-server direction (policy: tcpreasm.h).
 *
 * Flows live in a hash table (chained, seeded) and on one of three lists ordered
 * by last activity, oldest first: ended flows (remembered for linger_ms), flows
 * without data yet, and flows with data. Timeouts and evictions take from the
 * heads. Flows holding data ahead of a hole are also on a fourth list ordered by
 * the age of that hole, for the gap timeout.
 *
 * Per flow, rcv_next is the next byte the framer expects. Held data ("pieces", at
 * most PIECE_DATA bytes each, from the pool) is kept sorted and disjoint, every
 * piece strictly after rcv_next; a new segment only fills what is neither framed
 * nor held yet (first copy wins). A piece may also stand for bytes the snap length
 * cut off ("lost"): reaching it is a gap. Placing a segment and held data: tcpreasm_seg.c.
 *
 * Concurrency: one owner thread (tcpreasm.h); counters are written with relaxed
 * atomic stores so that ctx_tcpreasm_get_stats() may read them from any thread.
 */
#include "tcpreasm_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "ctxlog_common.h"

#define EXPIRE_EVERY_MS 100

static size_t pow2_at_least(size_t n) {
    size_t p = 64;
    while (p < n) p <<= 1;
    return p;
}

/* ---- configuration ---- */

void ctx_tcpreasm_cfg_defaults(struct ctx_tcpreasm_cfg *cfg) {
    memset(cfg, 0, sizeof(*cfg));
    cfg->max_bytes = 32u << 20;
    cfg->flow_max_bytes = 1u << 20;
    cfg->max_flows = 16384;
    cfg->window = 4u << 20;
    cfg->gap_timeout_ms = 1000;
    cfg->idle_timeout_ms = 600000;
    cfg->embryonic_timeout_ms = 30000;
    cfg->linger_ms = 10000;
    cfg->max_frame = 8096;
    cfg->max_octet_count = 200000;
}

size_t ctx_tcpreasm_min_flow_bytes(size_t max_frame) { return pow2_at_least(max_frame + 16) + (128u << 10); }

static size_t min_flow_bytes(const struct ctx_tcpreasm_cfg *c) { return ctx_tcpreasm_min_flow_bytes(c->max_frame); }

static int check_cfg(const struct ctx_tcpreasm_cfg *c, char *err, size_t errlen) {
    if (c->on_frame == NULL) return snprintf(err, errlen, "on_frame: expected a callback, got NULL"), -1;
    if (c->max_frame < 16 || c->max_frame > (16u << 20))
        return snprintf(err, errlen, "max_frame: expected 16..16777216 bytes, got %zu", c->max_frame), -1;
    if (c->flow_max_bytes < min_flow_bytes(c) || c->flow_max_bytes > (1u << 30))
        return snprintf(err, errlen, "flow_max_bytes: expected %zu (the power of two at or above max_frame + 16, plus 128 KiB) .. 1 GiB, got %zu",
                        min_flow_bytes(c), c->flow_max_bytes), -1;
    if (c->max_bytes < (1u << 20) || c->max_bytes < 2 * c->flow_max_bytes)
        return snprintf(err, errlen, "max_bytes: expected at least 1 MiB and 2 x flow_max_bytes (%zu), got %zu",
                        2 * c->flow_max_bytes, c->max_bytes), -1;
    if (c->max_flows < 1 || c->max_flows > (1u << 24))
        return snprintf(err, errlen, "max_flows: expected 1..16777216, got %zu", c->max_flows), -1;
    if (c->window < (64u << 10) || c->window > (1u << 30))
        return snprintf(err, errlen, "window: expected 65536..1073741824 bytes, got %u", c->window), -1;
    if (c->gap_timeout_ms < 1 || c->idle_timeout_ms < 1 || c->embryonic_timeout_ms < 1 || c->linger_ms < 1)
        return snprintf(err, errlen, "timeouts: expected at least 1 ms each"), -1;
    return 0;
}

static void *fr_alloc(void *ud, size_t want, size_t *cap);
static void fr_release(void *ud, void *p, size_t cap);

static int make_framer(ctx_tcpreasm_t *r, char *err, size_t errlen) {
    struct ctx_sysframe_cfg fc = {
        .max_frame = r->cfg.max_frame,
        .max_octet_count = r->cfg.max_octet_count,
        .nul_delimiter = r->cfg.nul_delimiter,
        .gap_emit = r->cfg.gap_emit,
        .buf_alloc = fr_alloc,
        .buf_release = fr_release,
        .buf_ud = r,
    };
    if (fc.max_octet_count == 0) fc.max_octet_count = fc.max_frame > 200000 ? fc.max_frame : 200000;
    return ctx_sysframe_new(&fc, &r->framer, err, errlen);
}

int ctx_tcpreasm_new(const struct ctx_tcpreasm_cfg *cfg, ctx_tcpreasm_t **out, char *err, size_t errlen) {
    if (err != NULL && errlen > 0) err[0] = '\0';
    if (cfg == NULL || out == NULL) return CTX_EINVAL;
    *out = NULL;
    if (check_cfg(cfg, err, errlen) != 0) return CTX_EINVAL;
    ctx_tcpreasm_t *r = calloc(1, sizeof(*r));
    if (r == NULL) return CTX_ENOMEM;
    r->cfg = *cfg;
    r->nbuckets = pow2_at_least(cfg->max_flows);
    r->held_budget = cfg->flow_max_bytes - pow2_at_least(cfg->max_frame + 16);
    r->buckets = calloc(r->nbuckets, sizeof(*r->buckets));
    r->pool = rpool_new(cfg->max_bytes);
    if (getrandom(&r->seed, sizeof r->seed, GRND_NONBLOCK) != sizeof r->seed) r->seed = (uint32_t)(uintptr_t)r;
    int rc = (r->buckets == NULL || r->pool == NULL || tcp_owners_init(&r->owners, r->seed * 0x9e3779b1u) != 0)
                 ? CTX_ENOMEM
                 : make_framer(r, err, errlen);
    if (rc != 0) {
        ctx_tcpreasm_free(r);
        return rc;
    }
    *out = r;
    return CTX_OK;
}

/* ---- lists and table ---- */

static void age_unlink(ctx_tcpreasm_t *r, struct flow *f) {
    struct tcp_flist *l = &f->owner->lists[f->list];
    (void)r;
    if (f->older != NULL) f->older->newer = f->newer; else l->oldest = f->newer;
    if (f->newer != NULL) f->newer->older = f->older; else l->newest = f->older;
    f->older = f->newer = NULL;
}

static void age_append(ctx_tcpreasm_t *r, struct flow *f, int list) {
    struct tcp_flist *l = &f->owner->lists[list];
    (void)r;
    f->list = (uint8_t)list;
    f->newer = NULL;
    f->older = l->newest;
    if (l->newest != NULL) l->newest->newer = f; else l->oldest = f;
    l->newest = f;
}

void tr_hole_unlink(ctx_tcpreasm_t *r, struct flow *f) {
    if (!f->in_holes) return;
    if (f->hole_older != NULL) f->hole_older->hole_newer = f->hole_newer; else r->holes.oldest = f->hole_newer;
    if (f->hole_newer != NULL) f->hole_newer->hole_older = f->hole_older; else r->holes.newest = f->hole_older;
    f->hole_older = f->hole_newer = NULL;
    f->in_holes = 0;
}

/* a (new) first hole opens now */
void tr_hole_restart(ctx_tcpreasm_t *r, struct flow *f) {
    tr_hole_unlink(r, f);
    f->hole_since_ms = r->now_ms;
    f->hole_older = r->holes.newest;
    if (r->holes.newest != NULL) r->holes.newest->hole_newer = f; else r->holes.oldest = f;
    r->holes.newest = f;
    f->in_holes = 1;
}

static uint32_t mix32(uint32_t h, uint32_t v) {
    h ^= v;
    h *= 0x9e3779b1u;
    return h ^ (h >> 15);
}

_Static_assert(sizeof(struct ctx_tcp_flow_key) % 4 == 0, "key_hash reads the key as 32-bit words");

static uint32_t key_hash(const ctx_tcpreasm_t *r, const struct ctx_tcp_flow_key *k) {
    uint32_t w[sizeof(*k) / 4], h = r->seed;
    memcpy(w, k, sizeof w);
    for (size_t i = 0; i < sizeof w / 4; i++) h = mix32(h, w[i]);
    return h;
}

static void make_key(struct ctx_tcp_flow_key *k, const char *ifname, const struct ctx_pkt *p) {
    memset(k, 0, sizeof(*k));
    size_t n = strnlen(ifname, CTX_TCP_IFNAMSIZ - 1);
    memcpy(k->ifname, ifname, n);
    k->src = p->src;
    k->dst = p->dst;
    k->sport = p->sport;
    k->dport = p->dport;
    k->vlan_count = p->vlan_count;
    for (int i = 0; i < CTX_PKT_MAX_VLANS && i < p->vlan_count; i++) k->vlan_id[i] = p->vlan_id[i];
    k->ip_version = p->ip_version;
}

static struct flow *lookup(const ctx_tcpreasm_t *r, const struct ctx_tcp_flow_key *k, uint32_t h) {
    for (struct flow *f = r->buckets[h & (r->nbuckets - 1)]; f != NULL; f = f->hnext)
        if (f->hash == h && memcmp(&f->key, k, sizeof(*k)) == 0) return f;
    return NULL;
}

static void table_remove(ctx_tcpreasm_t *r, struct flow *f) {
    struct flow **pp = &r->buckets[f->hash & (r->nbuckets - 1)];
    while (*pp != f) pp = &(*pp)->hnext;
    *pp = f->hnext;
}

/* ---- memory ---- */

static void flow_drop(ctx_tcpreasm_t *r, struct flow *f, enum end_why why);

/* make room: the interface holding the most (bytes, or flows) gives up its oldest flow other
 * than the current one: ended, then without data, then any */
static int evict_one(ctx_tcpreasm_t *r, int by_bytes) {
    struct tcp_owner *o = tcp_owner_victim(&r->owners, r->cur != NULL ? r->cur->owner : NULL, by_bytes);
    if (o == NULL) return 0;
    for (int l = L_CLOSED; l < L_COUNT; l++) {
        struct flow *f = o->lists[l].oldest;
        if (f == r->cur && f != NULL) f = f->newer;
        if (f == NULL) continue;
        flow_drop(r, f, END_EVICT);
        return 1;
    }
    return 0;
}

void *tr_pool_get(ctx_tcpreasm_t *r, size_t want, size_t *cap) {
    void *p;
    while ((p = rpool_get(r->pool, want, cap)) == NULL)
        if (!evict_one(r, 1)) return NULL;
    return p;
}

static void *fr_alloc(void *ud, size_t want, size_t *cap) { return tr_pool_get(ud, want, cap); }

static void fr_release(void *ud, void *p, size_t cap) { rpool_put(((ctx_tcpreasm_t *)ud)->pool, p, cap); }

/* a flow record from the pool, so that evicting a flow gives its memory back for buffers */
static struct flow *flow_record(ctx_tcpreasm_t *r) {
    size_t cap;
    return tr_pool_get(r, sizeof(struct flow), &cap);
}

static void flow_record_free(ctx_tcpreasm_t *r, struct flow *f) {
    rpool_put(r->pool, f, rpool_class_size(sizeof(struct flow)));
}

void tr_piece_free(ctx_tcpreasm_t *r, struct flow *f, struct piece *p) {
    f->held_mem -= p->cap;
    f->n_pieces--;
    rpool_put(r->pool, p, p->cap);
}

/* bring the owner's byte count up to date with what the flow holds now */
static void acct_sync(struct flow *f) {
    size_t now = rpool_class_size(sizeof(struct flow)) + f->held_mem + ctx_sysframe_stream_mem(&f->fr);
    f->owner->bytes = f->owner->bytes - f->acct + now;
    f->acct = now;
}

/* ---- flow life cycle ---- */

static void set_nflows(ctx_tcpreasm_t *r, size_t n) { __atomic_store_n(&r->nflows, n, __ATOMIC_RELAXED); }

static void drop_held(ctx_tcpreasm_t *r, struct flow *f) {
    struct piece *p;
    while ((p = f->held) != NULL) {
        f->held = p->next;
        if (!p->lost) ST_ADD(r, bytes_dropped, p->len);
        tr_piece_free(r, f, p);
    }
    f->held_tail = NULL;
    tr_hole_unlink(r, f);
}

/* end the connection: flush (or, evicting, drop) what is held, end the stream, count */
static void flow_finish(ctx_tcpreasm_t *r, struct flow *f, enum end_why why) {
    struct flow *saved = r->cur;
    struct emit_ctx e = {r, f};
    r->cur = f;
    if (why == END_EVICT) drop_held(r, f);
    while (f->held != NULL) tr_force_gap(r, f);
    ctx_sysframe_end(r->framer, &f->fr, why == END_FIN ? CTX_SYSFRAME_END_CLEAN : CTX_SYSFRAME_END_LOST, tr_on_emit, &e);
    r->cur = saved;
    if (why == END_FIN || why == END_REPLACED) ST_ADD(r, flows_closed, 1);
    if (why == END_TIMEOUT) ST_ADD(r, flows_timed_out, 1);
    if (why == END_EVICT) ST_ADD(r, flows_evicted, 1);
}

static void tag_release(ctx_tcpreasm_t *r, struct flow *f) {
    if (f->tag != NULL && r->cfg.flow_release != NULL) r->cfg.flow_release(r->cfg.ud, f->tag);
    f->tag = NULL;
}

/* forget the flow (its owner stays until tcp_owners_gc(), even without flows) */
static void flow_remove(ctx_tcpreasm_t *r, struct flow *f) {
    tr_hole_unlink(r, f);
    age_unlink(r, f);
    table_remove(r, f);
    tag_release(r, f);
    f->owner->nflows--;
    f->owner->bytes -= f->acct;
    set_nflows(r, r->nflows - 1);
    flow_record_free(r, f);
}

static void flow_drop(ctx_tcpreasm_t *r, struct flow *f, enum end_why why) {
    if (!f->closed) flow_finish(r, f, why);
    flow_remove(r, f);
}

/* FIN reached or RST: end now, remember the flow for linger_ms */
static void flow_close(ctx_tcpreasm_t *r, struct flow *f) {
    flow_finish(r, f, END_FIN);
    f->closed = 1;
    f->last_ms = r->now_ms;
    age_unlink(r, f);
    age_append(r, f, L_CLOSED);
    acct_sync(f);
}

static void check_fin(ctx_tcpreasm_t *r, struct flow *f) {
    if (!f->closed && f->has_fin && (int32_t)(f->rcv_next - f->fin_seq) >= 0) flow_close(r, f);
}

/* (re)start a connection on a record that holds nothing and is on no age list; its identity
 * (tag) is fixed now, at its first segment */
static void flow_start(ctx_tcpreasm_t *r, struct flow *f, const struct ctx_pkt *p, int syn) {
    tag_release(r, f);
    if (r->cfg.flow_open != NULL) f->tag = r->cfg.flow_open(r->cfg.ud, &f->key, p);
    f->has_isn = (uint8_t)syn;
    f->isn = p->tcp.seq;
    f->rcv_next = p->tcp.seq + (syn ? 1u : 0u);
    f->has_fin = 0;
    f->fin_seq = 0;
    f->closed = 0;
    f->picked_up = (uint8_t)!syn;
    ctx_sysframe_stream_init(&f->fr, syn);
    age_append(r, f, L_EMBRYONIC);
    ST_ADD(r, flows_opened, 1);
    if (!syn) ST_ADD(r, flows_picked_up, 1);
}

static struct flow *flow_open(ctx_tcpreasm_t *r, const struct ctx_tcp_flow_key *k, uint32_t h,
                              const struct ctx_pkt *p, int syn) {
    if (r->nflows >= r->cfg.max_flows && !evict_one(r, 0)) return NULL;
    struct flow *f = flow_record(r);
    if (f == NULL) return NULL;
    memset(f, 0, sizeof(*f));
    /* after the evictions above: they may leave an owner without flows, never free it */
    if ((f->owner = tcp_owner_get(&r->owners, k->ifname)) == NULL) {
        flow_record_free(r, f);
        return NULL;
    }
    f->owner->nflows++;
    f->key = *k;
    f->hash = h;
    f->hnext = r->buckets[h & (r->nbuckets - 1)];
    r->buckets[h & (r->nbuckets - 1)] = f;
    set_nflows(r, r->nflows + 1);
    flow_start(r, f, p, syn);
    acct_sync(f);
    return f;
}

/* the flow this segment belongs to, opening / restarting one as needed; NULL: ignore it */
static struct flow *flow_for(ctx_tcpreasm_t *r, struct flow *f, const struct ctx_tcp_flow_key *k, uint32_t h,
                             const struct ctx_pkt *p, int syn) {
    if (f == NULL) {
        if ((p->tcp.flags & CTX_PKT_TCP_RST) || (!syn && p->payload_wire_len == 0)) return NULL;
        return flow_open(r, k, h, p, syn);
    }
    if (f->closed) {
        if (!syn || (f->has_isn && p->tcp.seq == f->isn)) return NULL; /* retransmission, stray ACK */
        age_unlink(r, f);
        flow_start(r, f, p, 1);
    } else if (syn && (!f->has_isn || p->tcp.seq != f->isn)) { /* new connection, the old one ended unseen */
        flow_finish(r, f, END_REPLACED);
        age_unlink(r, f);
        flow_start(r, f, p, 1);
    }
    return f;
}

int ctx_tcpreasm_packet(ctx_tcpreasm_t *r, const char *ifname, const struct timeval *ts, uint64_t now_ms,
                        const struct ctx_pkt *pkt) {
    if (r == NULL || ifname == NULL || ts == NULL || pkt == NULL || pkt->proto != IPPROTO_TCP) return CTX_EINVAL;
    ST_ADD(r, segments, 1);
    r->now_ms = now_ms;
    if (now_ms >= r->next_expire_ms) ctx_tcpreasm_expire(r, now_ms);
    struct ctx_tcp_flow_key k;
    make_key(&k, ifname, pkt);
    uint32_t h = key_hash(r, &k);
    uint8_t fl = pkt->tcp.flags;
    int syn = (fl & CTX_PKT_TCP_SYN) && !(fl & CTX_PKT_TCP_ACK);
    uint32_t wire = (uint32_t)pkt->payload_wire_len, cap = (uint32_t)pkt->payload_len;
    struct flow *f = flow_for(r, lookup(r, &k, h), &k, h, pkt, syn);
    if (f == NULL) {
        ST_ADD(r, segments_ignored, 1);
        return CTX_OK;
    }
    r->cur = f;
    f->last_ms = now_ms;
    f->last_ts = *ts;
    memcpy(f->src_mac, pkt->src_mac, 6);
    memcpy(f->dst_mac, pkt->dst_mac, 6);
    int list = (f->list == L_EMBRYONIC && wire > 0) ? L_ACTIVE : f->list;
    age_unlink(r, f);
    age_append(r, f, list);
    uint32_t seq = pkt->tcp.seq + (syn ? 1u : 0u);
    if ((fl & CTX_PKT_TCP_FIN) && !f->has_fin) {
        f->has_fin = 1;
        f->fin_seq = seq + wire;
    }
    tr_segment_in(r, f, seq, pkt->payload, cap < wire ? cap : wire, wire);
    if (fl & CTX_PKT_TCP_RST)
        flow_close(r, f);
    else
        check_fin(r, f);
    acct_sync(f);
    r->cur = NULL;
    return CTX_OK;
}

/* one interface's flows whose time is up */
static int expire_owner(ctx_tcpreasm_t *r, struct tcp_owner *o, uint64_t now_ms) {
    struct flow *f;
    int n = 0;
    while ((f = o->lists[L_CLOSED].oldest) != NULL && f->last_ms + r->cfg.linger_ms <= now_ms) flow_remove(r, f);
    while ((f = o->lists[L_EMBRYONIC].oldest) != NULL && f->last_ms + r->cfg.embryonic_timeout_ms <= now_ms) {
        flow_drop(r, f, END_TIMEOUT);
        n++;
    }
    while ((f = o->lists[L_ACTIVE].oldest) != NULL && f->last_ms + r->cfg.idle_timeout_ms <= now_ms) {
        flow_drop(r, f, END_TIMEOUT);
        n++;
    }
    return n;
}

int ctx_tcpreasm_expire(ctx_tcpreasm_t *r, uint64_t now_ms) {
    struct flow *f;
    int n = 0;
    if (r == NULL) return 0;
    r->now_ms = now_ms;
    r->next_expire_ms = now_ms + EXPIRE_EVERY_MS;
    while ((f = r->holes.oldest) != NULL && f->hole_since_ms + r->cfg.gap_timeout_ms <= now_ms) {
        r->cur = f;
        tr_force_gap(r, f);
        check_fin(r, f);
        acct_sync(f);
        r->cur = NULL;
    }
    for (struct tcp_owner *o = r->owners.all; o != NULL; o = o->next) n += expire_owner(r, o, now_ms);
    tcp_owners_gc(&r->owners);
    rpool_trim(r->pool, r->cfg.max_bytes / 8);
    return n;
}

/* end every flow of one interface as if it had timed out */
static int end_owner(ctx_tcpreasm_t *r, struct tcp_owner *o) {
    struct flow *f;
    int n = 0;
    for (int l = L_CLOSED; l < L_COUNT; l++) {
        while ((f = o->lists[l].oldest) != NULL) {
            n += !f->closed;
            flow_drop(r, f, END_SHUTDOWN);
        }
    }
    return n;
}

int ctx_tcpreasm_end_interface(ctx_tcpreasm_t *r, const char *ifname) {
    if (r == NULL || ifname == NULL) return 0;
    struct tcp_owner *o = tcp_owner_find(&r->owners, ifname);
    int n = o != NULL ? end_owner(r, o) : 0;
    tcp_owners_gc(&r->owners);
    return n;
}

void ctx_tcpreasm_flush(ctx_tcpreasm_t *r) {
    if (r == NULL) return;
    for (struct tcp_owner *o = r->owners.all; o != NULL; o = o->next) end_owner(r, o);
    tcp_owners_gc(&r->owners);
}

int ctx_tcpreasm_interface_usage(const ctx_tcpreasm_t *r, const char *ifname, size_t *flows, size_t *bytes) {
    const struct tcp_owner *o = r != NULL && ifname != NULL ? tcp_owner_find(&r->owners, ifname) : NULL;
    if (flows != NULL) *flows = o != NULL ? o->nflows : 0;
    if (bytes != NULL) *bytes = o != NULL ? o->bytes : 0;
    return o != NULL;
}

static void no_emit(void *ud, const struct ctx_sysframe_frame *fr) {
    (void)ud;
    (void)fr;
}

void ctx_tcpreasm_free(ctx_tcpreasm_t *r) {
    if (r == NULL) return;
    for (struct tcp_owner *o = r->owners.all; o != NULL; o = o->next) {
        for (int l = L_CLOSED; l < L_COUNT; l++) {
            for (struct flow *f = o->lists[l].oldest, *next; f != NULL; f = next) {
                struct piece *p;
                next = f->newer;
                while ((p = f->held) != NULL) {
                    f->held = p->next;
                    tr_piece_free(r, f, p);
                }
                ctx_sysframe_end(r->framer, &f->fr, CTX_SYSFRAME_END_LOST, no_emit, NULL);
                tag_release(r, f);
                flow_record_free(r, f);
            }
        }
    }
    if (r->owners.buckets != NULL) tcp_owners_fini(&r->owners);
    ctx_sysframe_free(r->framer);
    rpool_free(r->pool);
    free(r->buckets);
    free(r);
}

void ctx_tcpreasm_get_stats(const ctx_tcpreasm_t *r, struct ctx_tcpreasm_stats *st) {
    memset(st, 0, sizeof(*st));
    if (r == NULL) return;
    st->segments = ST_LOAD(r, segments);
    st->flows_opened = ST_LOAD(r, flows_opened);
    st->flows_picked_up = ST_LOAD(r, flows_picked_up);
    st->flows_closed = ST_LOAD(r, flows_closed);
    st->flows_timed_out = ST_LOAD(r, flows_timed_out);
    st->flows_evicted = ST_LOAD(r, flows_evicted);
    st->gaps = ST_LOAD(r, gaps);
    st->bytes_lost = ST_LOAD(r, bytes_lost);
    st->bytes_dropped = ST_LOAD(r, bytes_dropped);
    st->bytes_dup = ST_LOAD(r, bytes_dup);
    st->segments_ooo = ST_LOAD(r, segments_ooo);
    st->segments_ignored = ST_LOAD(r, segments_ignored);
    st->gaps_piecelimit = ST_LOAD(r, gaps_piecelimit);
    st->bytes_in_use = rpool_in_use(r->pool);
    st->bytes_allocated = rpool_allocated(r->pool);
    st->flows_in_use = __atomic_load_n(&r->nflows, __ATOMIC_RELAXED);
    ctx_sysframe_get_stats(r->framer, &st->frames);
}
