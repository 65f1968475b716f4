/* tcpreasm_seg.c: placing a segment of a flow (policy: tcpreasm.h, layout: tcpreasm.c):
 * bytes at rcv_next go to the framer, bytes after it are held in sorted, disjoint pieces
 * (first copy wins) until the hole before them fills or times out.
 *
 * Concurrency: the reassembler's one owner thread.
 */
#include "tcpreasm_int.h"

#include <string.h>

/* ---- feeding the framer ---- */

void tr_on_emit(void *ud, const struct ctx_sysframe_frame *fr) {
    const struct emit_ctx *e = ud;
    struct ctx_tcp_flow_info info = {&e->f->key, e->f->src_mac, e->f->dst_mac, e->f->last_ts, e->f->picked_up,
                                     e->f->tag};
    e->r->cfg.on_frame(e->r->cfg.ud, &info, fr);
}

static void frame_feed(ctx_tcpreasm_t *r, struct flow *f, const uint8_t *d, size_t n) {
    struct emit_ctx e = {r, f};
    ctx_sysframe_feed(r->framer, &f->fr, d, n, tr_on_emit, &e);
}

static void frame_gap(ctx_tcpreasm_t *r, struct flow *f, uint32_t lost) {
    struct emit_ctx e = {r, f};
    ST_ADD(r, gaps, 1);
    ST_ADD(r, bytes_lost, lost);
    ctx_sysframe_gap(r->framer, &f->fr, lost, tr_on_emit, &e);
}

/* pass the held pieces that start at rcv_next to the framer */
static void drain(ctx_tcpreasm_t *r, struct flow *f) {
    struct piece *p;
    int moved = 0;
    while ((p = f->held) != NULL && p->seq == f->rcv_next) {
        f->held = p->next;
        if (f->held == NULL) f->held_tail = NULL;
        f->rcv_next += p->len;
        if (p->lost)
            frame_gap(r, f, p->len);
        else
            frame_feed(r, f, p->data, p->len);
        tr_piece_free(r, f, p);
        moved = 1;
    }
    if (f->held == NULL)
        tr_hole_unlink(r, f);
    else if (moved)
        tr_hole_restart(r, f);
}

/* give up the first hole: its bytes are lost, the data after it goes on */
void tr_force_gap(ctx_tcpreasm_t *r, struct flow *f) {
    uint32_t lost = f->held->seq - f->rcv_next;
    f->rcv_next = f->held->seq;
    frame_gap(r, f, lost);
    drain(r, f);
}

/* ---- segments ---- */

/* pool bytes that holding cap captured bytes (and a lost tail) may take, at most */
static size_t hold_cost(uint32_t cap, int lost_tail) {
    size_t rest = cap % PIECE_DATA;
    return (cap / PIECE_DATA) * PIECE_BUF + (rest > 0 ? rpool_class_size(rest + sizeof(struct piece)) : 0) +
           (lost_tail ? 64 : 0);
}

/* create pieces for [*from, to) (offsets from base; data bytes below dend, at seg + offset) before **pp */
static int insert_range(ctx_tcpreasm_t *r, struct flow *f, struct piece ***pp, uint32_t base, uint32_t *from,
                        uint32_t to, uint32_t dend, const uint8_t *seg, uint32_t seg_off) {
    while (*from < to) {
        if (f->n_pieces >= MAX_PIECES) return -1;
        int lost = *from >= dend;
        uint32_t n = lost ? to - *from : (to < dend ? to : dend) - *from;
        if (!lost && n > PIECE_DATA) n = (uint32_t)PIECE_DATA;
        size_t cap;
        struct piece *p = tr_pool_get(r, sizeof(struct piece) + (lost ? 0 : n), &cap);
        if (p == NULL) return -1;
        p->seq = base + *from;
        p->len = n;
        p->cap = (uint32_t)cap;
        p->lost = (uint8_t)lost;
        if (!lost) memcpy(p->data, seg + (*from - seg_off), n);
        p->next = **pp;
        **pp = p;
        *pp = &p->next;
        if (p->next == NULL) f->held_tail = p;
        f->held_mem += cap;
        f->n_pieces++;
        *from += n;
    }
    return 0;
}

/* hold a segment that starts after rcv_next: only what is not held yet (first copy wins) */
static void hold(ctx_tcpreasm_t *r, struct flow *f, uint32_t seq, const uint8_t *data, uint32_t cap, uint32_t wire) {
    uint32_t base = f->rcv_next, start = seq - base, end = start + wire, dend = start + cap, cur = start;
    struct piece **pp = &f->held;
    int was_empty = f->held == NULL;
    ST_ADD(r, segments_ooo, 1);
    if (f->held_tail != NULL && f->held_tail->seq - base + f->held_tail->len <= start) pp = &f->held_tail->next;
    while (cur < end) {
        while (*pp != NULL && (*pp)->seq - base + (*pp)->len <= cur) pp = &(*pp)->next;
        uint32_t next = *pp != NULL ? (*pp)->seq - base : UINT32_MAX;
        if (next <= cur) {
            uint32_t upto = next + (*pp)->len < end ? next + (*pp)->len : end;
            ST_ADD(r, bytes_dup, upto - cur);
            cur = upto;
            continue;
        }
        if (insert_range(r, f, &pp, base, &cur, end < next ? end : next, dend, data, start) != 0) {
            if (cur < dend) ST_ADD(r, bytes_dropped, dend - cur); /* no memory even after evictions, or the piece limit */
            break;
        }
    }
    if (was_empty && f->held != NULL) tr_hole_restart(r, f);
}

/* drops the first n bytes of what is left of a segment (data: cap bytes captured of wire):
 * framed already, counted as duplicates. 1 if nothing is left of it. */
static int skip_dup(ctx_tcpreasm_t *r, uint32_t n, const uint8_t **data, uint32_t *cap, uint32_t *wire) {
    if (n >= *wire) {
        ST_ADD(r, bytes_dup, *wire);
        return 1;
    }
    ST_ADD(r, bytes_dup, n);
    uint32_t ds = n < *cap ? n : *cap;
    *data += ds;
    *cap -= ds;
    *wire -= n;
    return 0;
}

/* bytes at rcv_next: to the framer, up to the first held piece, which wins over the rest */
static void deliver(ctx_tcpreasm_t *r, struct flow *f, const uint8_t *data, uint32_t cap, uint32_t wire) {
    while (wire > 0) {
        uint32_t lim = wire;
        if (f->held != NULL && f->held->seq - f->rcv_next < lim) lim = f->held->seq - f->rcv_next;
        uint32_t dn = lim < cap ? lim : cap;
        f->rcv_next += lim;
        if (dn > 0) frame_feed(r, f, data, dn);
        if (lim > dn) frame_gap(r, f, lim - dn); /* cut by the snap length */
        data += dn;
        cap -= dn;
        wire -= lim;
        uint32_t before = f->rcv_next;
        drain(r, f);
        uint32_t adv = f->rcv_next - before;
        if (adv > 0 && skip_dup(r, adv, &data, &cap, &wire)) return;
    }
}

void tr_segment_in(ctx_tcpreasm_t *r, struct flow *f, uint32_t seq, const uint8_t *data, uint32_t cap,
                   uint32_t wire) {
    while (wire > 0) {
        int32_t off = (int32_t)(seq - f->rcv_next);
        if (off < 0) { /* (partly) framed already */
            uint32_t behind = (uint32_t)(-(int64_t)off);
            if (skip_dup(r, behind, &data, &cap, &wire)) return;
            seq += behind;
            continue;
        }
        if (off == 0) {
            deliver(r, f, data, cap, wire);
            return;
        }
        int pieces_ok = f->n_pieces + cap / PIECE_DATA + 2 <= MAX_PIECES;
        if ((uint32_t)off <= r->cfg.window && f->held_mem + hold_cost(cap, wire > cap) <= r->held_budget &&
            pieces_ok) {
            hold(r, f, seq, data, cap, wire);
            return;
        }
        if (!pieces_ok) ST_ADD(r, gaps_piecelimit, 1);
        /* beyond the window, or no room: give up the first hole (or jump to this segment) */
        if (f->held != NULL && (int32_t)(f->held->seq - seq) < 0) {
            tr_force_gap(r, f);
        } else {
            uint32_t lost = seq - f->rcv_next;
            f->rcv_next = seq;
            frame_gap(r, f, lost);
        }
    }
}

