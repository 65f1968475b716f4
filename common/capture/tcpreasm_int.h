/* tcpreasm_int.h: what tcpreasm.c (configuration, the flow table, memory, flow life
 * cycle, the public calls) and tcpreasm_seg.c (placing a segment, held data, feeding the
 * framer) share. Internal: use tcpreasm.h. */
#ifndef CTXLOG_TCPREASM_INT_H
#define CTXLOG_TCPREASM_INT_H

#include "tcpreasm.h"
#include "tcpreasm_owner.h"
#include "tcpreasm_pool.h"

#define ST_ADD(r, field, n) __atomic_store_n(&(r)->st.field, (r)->st.field + (n), __ATOMIC_RELAXED)
#define ST_LOAD(r, field) __atomic_load_n(&(r)->st.field, __ATOMIC_RELAXED)

#define PIECE_BUF 8192                              /* pool class of a full piece */
#define PIECE_DATA (PIECE_BUF - sizeof(struct piece)) /* data bytes in a full piece */
#define MAX_PIECES 512 /* held pieces per flow: bounds the walk that places a segment (tcpreasm.h) */

struct piece {
    struct piece *next; /* by sequence */
    uint32_t seq;       /* first byte */
    uint32_t len;       /* bytes covered */
    uint32_t cap;       /* pool buffer size */
    uint8_t lost;       /* bytes the capture did not get: no data */
    uint8_t data[];
};

enum { L_CLOSED = 0, L_EMBRYONIC = 1, L_ACTIVE = 2, L_COUNT = TCP_OWNER_LISTS };
enum end_why { END_FIN, END_TIMEOUT, END_EVICT, END_SHUTDOWN, END_REPLACED };

struct flow {
    struct ctx_tcp_flow_key key;
    uint32_t hash;
    struct flow *hnext;                  /* hash chain */
    struct flow *older, *newer;          /* on owner->lists[list] */
    struct tcp_owner *owner;             /* the interface it was seen on */
    size_t acct;                         /* memory accounted to the owner (acct_sync) */
    void *tag;                           /* cfg.flow_open's answer at the connection's first segment */
    struct flow *hole_older, *hole_newer; /* on holes while held != NULL */
    uint8_t list;
    uint8_t has_isn, has_fin, picked_up, closed, in_holes;
    uint8_t src_mac[6], dst_mac[6];
    uint32_t isn, rcv_next, fin_seq;
    uint64_t last_ms;                    /* last packet; for a closed flow: when it ended */
    uint64_t hole_since_ms;
    struct timeval last_ts;
    struct piece *held, *held_tail;
    size_t held_mem;                     /* caps of the held pieces */
    uint32_t n_pieces;                   /* held pieces (<= MAX_PIECES) */
    struct ctx_sysframe_stream fr;
};


struct ctx_tcpreasm {
    struct ctx_tcpreasm_cfg cfg;
    struct rpool *pool;
    ctx_sysframe_t *framer;
    struct flow **buckets;
    size_t nbuckets;                     /* power of two */
    uint32_t seed;
    struct tcp_owners owners;            /* interfaces, each with its flows' age lists */
    struct tcp_flist holes;
    size_t nflows;                       /* in the table */
    size_t held_budget;                  /* per flow: flow_max_bytes minus room for a partial frame */
    struct flow *cur;                    /* the flow being worked on: never evicted */
    uint64_t now_ms, next_expire_ms;
    struct ctx_tcpreasm_stats st;
};

/* what the framer's emit callback needs */
struct emit_ctx {
    ctx_tcpreasm_t *r;
    struct flow *f;
};

/* tcpreasm.c: memory (the pool, evicting when it is full) and the list of held holes */
void *tr_pool_get(ctx_tcpreasm_t *r, size_t want, size_t *cap);
void tr_piece_free(ctx_tcpreasm_t *r, struct flow *f, struct piece *p);
void tr_hole_unlink(ctx_tcpreasm_t *r, struct flow *f);
void tr_hole_restart(ctx_tcpreasm_t *r, struct flow *f); /* a (new) first hole opens now */

/* tcpreasm_seg.c */
void tr_on_emit(void *ud, const struct ctx_sysframe_frame *fr); /* ud: struct emit_ctx */
void tr_force_gap(ctx_tcpreasm_t *r, struct flow *f);           /* give up the first hole */
void tr_segment_in(ctx_tcpreasm_t *r, struct flow *f, uint32_t seq, const uint8_t *data, uint32_t cap,
                   uint32_t wire);

#endif
