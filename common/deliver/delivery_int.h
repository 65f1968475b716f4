/* delivery_int.h: internals shared by delivery.c (submission side),
 * delivery_queue.c (memory queue and spool writer) and delivery_sender.c (the
 * sender thread). Not for other units.
 *
 * The queue of one tenant, oldest first: the records of the spool, then the nodes
 * of the memory list (head .. tail). Invariants (all under d->mu):
 *  - every node not on disk is newer than every spool record;
 *  - nodes are written to the spool strictly from the head (the first node not on
 *    disk is the next one written), by one writer at a time (writer_active);
 *  - at most one node is in flight (sent by the sender from memory): the head;
 *  - a node leaves the list when it is written and not in flight, or when the
 *    sender is done with it and no writer is writing it;
 *  - spool_mode == 0 implies the spool holds no record and no writer runs.
 */
#ifndef CTXLOG_DELIVERY_INT_H
#define CTXLOG_DELIVERY_INT_H

#include <pthread.h>
#include <stdint.h>

#include "backoff.h"
#include "batch.h"
#include "deadletter.h"
#include "delivery.h"
#include "spool.h"

typedef struct dnode {
    struct dnode *next;
    unsigned char *body; /* the encoded batch (owned) */
    size_t len;
    uint32_t tag;        /* CTX_DEST_TAG */
    uint64_t batch_us;   /* wall-clock time of its first message */
    uint64_t seq;        /* its spool record, if on_disk */
    int on_disk;         /* appended to the spool */
    int writing;         /* the writer is appending it now (mu released) */
    int in_flight;       /* the sender is sending it now (mu released) */
    int done;            /* delivered / dead-lettered while the writer was writing it */
} dnode_t;

#define ST_ADD(d, field, v) __atomic_add_fetch(&(d)->st.field, (uint64_t)(v), __ATOMIC_RELAXED)

struct ctx_dest {
    char *tenant;
    char *deadletter_path;
    ctx_deadletter_limits_t deadletter_limits;
    pthread_mutex_t mu;
    pthread_cond_t cv_work;  /* sender: work, stop, transport change */
    pthread_cond_t cv_state; /* sealers waiting for the writer; wait_idle */
    /* guarded by mu */
    ctx_dest_config_t cfg;
    ctx_dest_config_t cfg_next; /* a HUP's settings not applied yet (the open batch kept filling) */
    int has_cfg_next;           /* cfg_next waits: every timer tick tries it again */
    uint64_t cfg_gen;           /* bumped by every ctx_dest_reconfigure */
    ctx_batch_t *open;       /* the open batch */
    ctx_batch_encoder_t *enc; /* used when the caller gives none (made on first use) */
    dnode_t *head, *tail;
    size_t nmem;
    int spool_mode;
    int writer_active;
    int blocked;             /* a node could not be spooled: refuse new messages */
    int hold_logged;         /* the hold's drops were logged in this blocked period */
    uint64_t hold_max_bytes;
    int write_ahead;
    unsigned max_pending;
    uint64_t retry_at_ms;    /* the sender waits until then (backoff) */
    int sending;             /* the sender is busy with one batch */
    int stopping;
    uint64_t stop_deadline_ms;
    ctx_dest_transport_t tr;
    ctx_dest_transport_t tr_next;
    int have_tr_next;
    ctx_dest_transport_t tr_prev[16]; /* by batch format: replaced transports kept for their own
                                         batches (ctx_dest_transport_t.formats); sender thread */
    char last_err[512];      /* the failure last logged ("" while healthy) */
    char last_warn[512];     /* the reply warning last logged (ctx_send_info_t.err with CTX_SEND_OK) */
    unsigned failures_in_row;
    /* owned by the sender thread (peek / ack), thread-safe otherwise */
    ctx_spool_t *sp;
    ctx_backoff_t *bo;       /* sender thread only */
    pthread_t thr;
    int thr_started;
    ctx_dest_log_fn log;
    void *log_arg;
    ctx_dest_stats_t st;     /* counters: atomics (ST_ADD); gauges filled by ctx_dest_stats */
};

/* delivery.c */
void dest_log(ctx_dest_t *d, int sev, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
uint64_t dest_now_ms(void);

/* delivery_queue.c (all with d->mu held) */
void dq_push(ctx_dest_t *d, dnode_t *n);
void dq_remove(ctx_dest_t *d, dnode_t *n);
void dq_node_free(dnode_t *n);
uint64_t dq_spool_records(ctx_dest_t *d);
/* writes every node not on disk to the spool, oldest first, releasing mu around each
 * append; a no-op if another writer is active. Returns with mu held. */
void dq_write_pending(ctx_dest_t *d);

/* delivery_sender.c */
void *dest_sender_main(void *arg);
/* frees the kept transports (tr_prev) of the formats in mask (bits 1 << format) */
void dest_prev_free(ctx_dest_t *d, unsigned mask);

#endif
