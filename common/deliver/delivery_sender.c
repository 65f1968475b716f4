/* delivery_sender.c: a tenant's sender thread. It delivers the queue in order (the
 * spool's records first, then the batches in memory), one batch at a time, through
 * the transport; backs off with full jitter after a failed attempt; writes rejected
 * batches to the dead-letter file; returns the tenant to memory mode once the spool
 * is empty. Invariants of the queue in delivery_int.h.
 *
 * Concurrency: one thread per ctx_dest_t. It holds d->mu except while it sends,
 * reads or acks the spool, or writes the dead-letter file; it is the only caller of
 * ctx_spool_peek / ctx_spool_ack, of the transport and of the backoff state.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "ctxlog_common.h"
#include "deadletter.h"
#include "delivery_int.h"

typedef struct {
    dnode_t *node;      /* sending a batch from memory, or NULL: from the spool */
    const void *body;
    size_t len;
    uint32_t tag;
    uint64_t seq;       /* spool record (from the spool) */
} item_t;

static void wait_ms(ctx_dest_t *d, uint64_t ms) {
    struct timespec ts;
    ctx_clock_deadline(&ts, ms);
    pthread_cond_timedwait(&d->cv_work, &d->mu, &ts);
}

/* frees the kept transports of the formats in mask (ctx_dest_free: no sender thread any more) */
void dest_prev_free(ctx_dest_t *d, unsigned mask) {
    for (unsigned f = 0; f < 16; f++) {
        ctx_dest_transport_t *p = &d->tr_prev[f];
        if (!(mask & (1u << f)) || p->send == NULL) continue;
        if (p->free) p->free(p->arg);
        memset(p, 0, sizeof *p);
    }
}

/* the new transport in; the old one kept for its own format if the new one does not send
 * it (a HUP changed the format: its batches still queued or spooled go out as written);
 * kept ones of the new one's formats are superseded. Freed outside the lock. */
static void swap_transport(ctx_dest_t *d) {
    if (!d->have_tr_next) return;
    ctx_dest_transport_t old = d->tr, gone[17];
    size_t ng = 0;
    d->tr = d->tr_next;
    d->have_tr_next = 0;
    unsigned superseded = d->tr.formats ? d->tr.formats : ~0u, f = 0;
    for (unsigned i = 0; i < 16; i++) {
        if (!(superseded & (1u << i)) || d->tr_prev[i].send == NULL) continue;
        gone[ng++] = d->tr_prev[i];
        memset(&d->tr_prev[i], 0, sizeof d->tr_prev[i]);
    }
    while (f < 16 && !(old.formats & (1u << f))) f++;
    if (d->tr.formats != 0 && f < 16 && !(d->tr.formats & (1u << f)))
        d->tr_prev[f] = old;
    else
        gone[ng++] = old;
    pthread_mutex_unlock(&d->mu);
    for (size_t i = 0; i < ng; i++)
        if (gone[i].free) gone[i].free(gone[i].arg);
    pthread_mutex_lock(&d->mu);
}

/* the transport that sends a batch of this tag, or NULL if none does */
static const ctx_dest_transport_t *transport_for(const ctx_dest_t *d, uint32_t tag) {
    unsigned f = (unsigned)CTX_DEST_TAG_FMT(tag);
    if (d->tr.formats == 0 || (d->tr.formats & (1u << f))) return &d->tr;
    return d->tr_prev[f].send != NULL ? &d->tr_prev[f] : NULL;
}

/* idle (nothing queued, spooled or waiting for new settings): the kept transports are done */
static int prev_idle(const ctx_dest_t *d) {
    int any = 0;
    for (unsigned f = 0; f < 16; f++) any |= d->tr_prev[f].send != NULL;
    return any && d->head == NULL && !d->has_cfg_next; /* (only a pending seal makes old-format batches) */
}

static void prev_release(ctx_dest_t *d) {
    if (!prev_idle(d)) return;
    ctx_spool_stats_t ss;
    pthread_mutex_unlock(&d->mu);
    ctx_spool_stats(d->sp, &ss);
    pthread_mutex_lock(&d->mu);
    if (ss.records != 0 || !prev_idle(d)) return;
    ctx_dest_transport_t keep[16]; /* used by the sender thread only: freed outside the lock */
    memcpy(keep, d->tr_prev, sizeof keep);
    memset(d->tr_prev, 0, sizeof d->tr_prev);
    pthread_mutex_unlock(&d->mu);
    for (unsigned f = 0; f < 16; f++)
        if (keep[f].send != NULL && keep[f].free) keep[f].free(keep[f].arg);
    pthread_mutex_lock(&d->mu);
}

/* acks the spool record of a node written while it was being delivered */
static void ack_written(ctx_dest_t *d, uint64_t seq, ctx_spool_rec_t *rec) {
    char err[CTX_ERRLEN] = "";
    pthread_mutex_unlock(&d->mu);
    if (ctx_spool_peek(d->sp, rec) == 0 && rec->seq == seq && ctx_spool_ack(d->sp, seq, err, sizeof err) != 0)
        ST_ADD(d, spool_errors, 1);
    pthread_mutex_lock(&d->mu);
}

/* removes delivered nodes at the head that the writer had been writing */
static void clean_done(ctx_dest_t *d, ctx_spool_rec_t *rec) {
    while (d->head != NULL && d->head->done && !d->head->writing) {
        dnode_t *n = d->head;
        if (n->on_disk) ack_written(d, n->seq, rec);
        dq_remove(d, n);
        dq_node_free(n);
    }
}

/* picks the next batch: 1 (it is set), 0 (nothing to send now), -1 (look again now) */
static int next_item(ctx_dest_t *d, item_t *it, ctx_spool_rec_t *rec) {
    memset(it, 0, sizeof *it);
    if (dq_spool_records(d) > 0) {
        d->sending = 1;
        pthread_mutex_unlock(&d->mu);
        int rc = ctx_spool_peek(d->sp, rec);
        pthread_mutex_lock(&d->mu);
        if (rc == 0) {
            it->body = rec->data, it->len = rec->len, it->tag = rec->tag, it->seq = rec->seq;
            return 1;
        }
        d->sending = 0;
        if (rc == CTX_ENOENT) return -1; /* drop-oldest removed it meanwhile */
        {
            ST_ADD(d, spool_errors, 1);
            dest_log(d, CTX_DEST_LOG_ERR, "tenant '%s': cannot read the spool (%s); retrying", d->tenant,
                     rc == CTX_ENOMEM ? "out of memory" : strerror(errno));
            d->retry_at_ms = dest_now_ms() + ctx_backoff_next_ms(d->bo);
        }
        return 0;
    }
    dnode_t *h = d->head;
    if (h != NULL && !h->on_disk && !h->writing && !h->done) {
        h->in_flight = 1;
        d->sending = 1;
        it->node = h, it->body = h->body, it->len = h->len, it->tag = h->tag;
        return 1;
    }
    if (d->spool_mode && !d->write_ahead && d->head == NULL && !d->writer_active && !d->blocked) {
        d->spool_mode = 0;
        dest_log(d, CTX_DEST_LOG_INFO, "tenant '%s': spool drained; batches go straight to the destination again",
                 d->tenant);
    }
    return 0;
}

/* the batch left the queue: delivered or dead-lettered */
static void finish(ctx_dest_t *d, const item_t *it, ctx_spool_rec_t *rec) {
    char err[CTX_ERRLEN] = "";
    if (it->node == NULL) {
        pthread_mutex_unlock(&d->mu);
        if (ctx_spool_ack(d->sp, it->seq, err, sizeof err) != 0) {
            ST_ADD(d, spool_errors, 1);
            dest_log(d, CTX_DEST_LOG_ERR, "tenant '%s': %s (the batch will be sent again)", d->tenant, err);
        }
        pthread_mutex_lock(&d->mu);
        return;
    }
    dnode_t *n = it->node;
    n->in_flight = 0;
    if (n->writing) {
        n->done = 1; /* the writer is appending it: clean_done() acks and removes it */
        return;
    }
    if (n->on_disk) ack_written(d, n->seq, rec);
    dq_remove(d, n);
    dq_node_free(n);
}

static void on_delivered(ctx_dest_t *d, const item_t *it, ctx_spool_rec_t *rec) {
    ST_ADD(d, batches_delivered, 1);
    ST_ADD(d, msgs_delivered, CTX_DEST_TAG_MSGS(it->tag));
    ST_ADD(d, bytes_delivered, it->len);
    finish(d, it, rec);
    ctx_backoff_reset(d->bo);
    if (d->failures_in_row > 0)
        dest_log(d, CTX_DEST_LOG_INFO, "tenant '%s': delivery resumed after %u failed attempts", d->tenant,
                 d->failures_in_row);
    d->failures_in_row = 0;
    d->last_err[0] = '\0';
    if (d->blocked) dq_write_pending(d); /* space was freed, or the held batch went out */
}

static void on_retry(ctx_dest_t *d, const item_t *it, const ctx_send_info_t *info) {
    ST_ADD(d, retries, 1);
    ST_ADD(d, tls_failures, info->tls_failure ? 1 : 0);
    d->failures_in_row++;
    uint64_t delay = ctx_backoff_next_ms(d->bo);
    if (info->retry_after_ms > delay) delay = info->retry_after_ms;
    d->retry_at_ms = dest_now_ms() + delay;
    if (strcmp(d->last_err, info->err) != 0) {
        snprintf(d->last_err, sizeof d->last_err, "%s", info->err);
        dest_log(d, CTX_DEST_LOG_ERR, "tenant '%s': %s%s; its batches are spooled and retried with backoff",
                 d->tenant, info->tls_failure ? "TLS refused: " : "", info->err[0] ? info->err : "delivery failed");
    }
    if (it->node != NULL) {
        dnode_t *n = it->node;
        n->in_flight = 0;
        if (!d->spool_mode) d->spool_mode = 1;
        if (n->on_disk && !n->writing) { /* written while in flight: the spool has it */
            dq_remove(d, n);
            dq_node_free(n);
        }
    }
    if (d->spool_mode && !d->stopping) dq_write_pending(d);
}

/* writes the batch to the dead-letter file; 0 (written, or dropped as too large for
 * it), or -1 (then it is retried) */
static int dead_letter(ctx_dest_t *d, const item_t *it, const ctx_send_info_t *info) {
    char err[CTX_ERRLEN] = "";
    size_t written = 0;
    int rotated = 0;
    pthread_mutex_unlock(&d->mu);
    int rc = ctx_deadletter_write(d->deadletter_path, d->tenant, info->err, it->body, it->len, it->tag,
                                  &d->deadletter_limits, &written, &rotated, err, sizeof err);
    pthread_mutex_lock(&d->mu);
    if (rc == CTX_EFULL) {
        ST_ADD(d, deadletter_dropped_msgs, CTX_DEST_TAG_MSGS(it->tag));
        dest_log(d, CTX_DEST_LOG_ERR, "tenant '%s': a batch of %zu messages was rejected (%s) and dropped: %s",
                 d->tenant, CTX_DEST_TAG_MSGS(it->tag), info->err, err);
        return 0;
    }
    if (rc != 0) {
        dest_log(d, CTX_DEST_LOG_ERR, "tenant '%s': a batch was rejected (%s) but %s; it is kept and retried",
                 d->tenant, info->err, err);
        return -1;
    }
    ST_ADD(d, deadletter_batches, 1);
    ST_ADD(d, deadletter_msgs, CTX_DEST_TAG_MSGS(it->tag));
    ST_ADD(d, deadletter_bytes, written);
    if (rotated) ST_ADD(d, deadletter_rotations, 1);
    dest_log(d, CTX_DEST_LOG_WARNING, "tenant '%s': a batch of %zu messages was rejected (%s): written to %s",
             d->tenant, CTX_DEST_TAG_MSGS(it->tag), info->err, d->deadletter_path);
    return 0;
}

/* ---------------------------------------------------------------- partial results */

/* dead-letters a partial result's refused groups; the messages written, or -1 if the
 * dead-letter file could not take one (then nothing is treated as refused) */
static long partial_rejects(ctx_dest_t *d, const item_t *it, const ctx_send_info_t *info) {
    long n = 0;
    for (size_t i = 0; i < info->nrejects; i++) {
        const ctx_send_reject_t *r = &info->rejects[i];
        size_t msgs = CTX_DEST_TAG_MSGS(r->tag);
        item_t x = {NULL, r->body ? r->body : it->body, r->body ? r->len : it->len, 0, 0};
        /* a reject without a body (OTLP partial_success names no records): the whole batch, with the count refused */
        x.tag = r->body ? r->tag : (it->tag & 0xffu) | (uint32_t)(msgs << 8);
        ctx_send_info_t ri;
        memset(&ri, 0, sizeof ri);
        snprintf(ri.err, sizeof ri.err, "%s", r->reason);
        if (dead_letter(d, &x, &ri) != 0) return -1;
        n += (long)msgs;
    }
    return n;
}

/* the messages to send again, as a new batch at the queue's tail, spooled like any other */
static int partial_requeue(ctx_dest_t *d, ctx_send_info_t *info) {
    dnode_t *n = calloc(1, sizeof *n);
    if (n == NULL) return CTX_ENOMEM;
    n->body = info->retry_body, n->len = info->retry_len, n->tag = info->retry_tag;
    n->batch_us = ctx_clock_ms() * 1000u;
    info->retry_body = NULL; /* the node owns it */
    dq_push(d, n);
    d->spool_mode = 1;
    if (!d->stopping) dq_write_pending(d);
    return 0;
}

static void on_partial(ctx_dest_t *d, const item_t *it, ctx_send_info_t *info, ctx_spool_rec_t *rec) {
    size_t total = CTX_DEST_TAG_MSGS(it->tag), retried = info->retry_body ? CTX_DEST_TAG_MSGS(info->retry_tag) : 0;
    long rejected = partial_rejects(d, it, info);
    if (rejected < 0 || (retried > 0 && partial_requeue(d, info) != 0)) { /* cannot split it: send it whole again */
        ctx_send_info_t again = *info;
        snprintf(again.err, sizeof again.err, "%s", rejected < 0 ? "dead-letter file not writable" : "out of memory");
        on_retry(d, it, &again);
        return;
    }
    size_t delivered = total > (size_t)rejected + retried ? total - (size_t)rejected - retried : 0;
    ST_ADD(d, partial_batches, 1);
    ST_ADD(d, partial_rejected_msgs, rejected);
    ST_ADD(d, partial_retried_msgs, retried);
    ST_ADD(d, batches_delivered, 1);
    ST_ADD(d, msgs_delivered, delivered);
    ST_ADD(d, bytes_delivered, it->len);
    dest_log(d, CTX_DEST_LOG_WARNING, "tenant '%s': %s: %zu of %zu messages delivered, %ld refused (dead-lettered), "
             "%zu sent again", d->tenant, info->err[0] ? info->err : "partial success", delivered, total, rejected,
             retried);
    finish(d, it, rec);
    if (retried > 0) {
        ST_ADD(d, retries, 1);
        uint64_t delay = ctx_backoff_next_ms(d->bo);
        if (info->retry_after_ms > delay) delay = info->retry_after_ms;
        d->retry_at_ms = dest_now_ms() + delay;
    } else {
        ctx_backoff_reset(d->bo);
    }
    if (d->blocked) dq_write_pending(d);
}

/* a delivered batch whose reply was not understood, or carried a warning: counted, logged
 * when its text changes (a server that always answers so logs once) */
static void reply_note(ctx_dest_t *d, const ctx_send_info_t *info) {
    if (info->reply_unread) ST_ADD(d, replies_unread, 1);
    if (info->err[0] == '\0' || strcmp(d->last_warn, info->err) == 0) return;
    snprintf(d->last_warn, sizeof d->last_warn, "%s", info->err);
    dest_log(d, CTX_DEST_LOG_WARNING, "tenant '%s': %s", d->tenant, info->err);
}

void ctx_send_info_clear(ctx_send_info_t *info) {
    for (size_t i = 0; i < info->nrejects; i++) free(info->rejects[i].body);
    free(info->rejects);
    free(info->retry_body);
    info->rejects = NULL, info->nrejects = 0, info->retry_body = NULL;
}

static void handle(ctx_dest_t *d, const item_t *it, ctx_send_result_t r, ctx_send_info_t *info,
                   ctx_spool_rec_t *rec) {
    d->sending = 0;
    if (r == CTX_SEND_PARTIAL) {
        on_partial(d, it, info, rec);
    } else if (r == CTX_SEND_REJECT) {
        if (dead_letter(d, it, info) == 0) {
            finish(d, it, rec);
            ctx_backoff_reset(d->bo);
            if (d->blocked) dq_write_pending(d);
        } else {
            ctx_send_info_t again = *info;
            snprintf(again.err, sizeof again.err, "dead-letter file not writable");
            on_retry(d, it, &again);
        }
    } else if (r == CTX_SEND_OK) {
        reply_note(d, info);
        on_delivered(d, it, rec);
    } else {
        on_retry(d, it, info);
    }
    pthread_cond_broadcast(&d->cv_state);
}

/* 1 to stop now: stopping, and the deadline passed or the destination is in backoff */
static int must_stop(ctx_dest_t *d, uint64_t now) {
    return d->stopping && (now >= d->stop_deadline_ms || d->retry_at_ms > now);
}

static void send_one(ctx_dest_t *d, const item_t *it, ctx_spool_rec_t *rec) {
    ctx_send_info_t info;
    memset(&info, 0, sizeof info);
    const ctx_dest_transport_t *trp = transport_for(d, it->tag);
    if (trp == NULL) { /* written under a format the tenant no longer has, before a restart */
        snprintf(info.err, sizeof info.err, "a batch written as %s, which the tenant's destination no longer "
                 "takes (its format changed) and no running destination sends: not sent",
                 ctx_deadletter_format_name(CTX_DEST_TAG_FMT(it->tag)));
        handle(d, it, CTX_SEND_REJECT, &info, rec);
        return;
    }
    ctx_dest_transport_t tr = *trp;
    pthread_mutex_unlock(&d->mu);
    ctx_send_result_t r = tr.send(tr.arg, it->body, it->len, it->tag, &info);
    pthread_mutex_lock(&d->mu);
    handle(d, it, r, &info, rec);
    pthread_mutex_unlock(&d->mu);
    ctx_send_info_clear(&info);
    pthread_mutex_lock(&d->mu);
}

void *dest_sender_main(void *arg) {
    ctx_dest_t *d = arg;
    sigset_t all;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, NULL);
    ctx_spool_rec_t rec = {0};
    item_t it;
    pthread_mutex_lock(&d->mu);
    for (;;) {
        swap_transport(d);
        clean_done(d, &rec);
        uint64_t now = dest_now_ms();
        if (must_stop(d, now)) break;
        if (d->retry_at_ms > now) {
            wait_ms(d, d->retry_at_ms - now);
            if (dest_now_ms() >= d->retry_at_ms && d->blocked) dq_write_pending(d); /* the disk may have room now */
            continue;
        }
        int got = next_item(d, &it, &rec);
        if (got != 0) {
            if (got > 0) send_one(d, &it, &rec);
            continue;
        }
        if (d->stopping && !d->writer_active) break;
        prev_release(d);
        pthread_cond_broadcast(&d->cv_state); /* idle: wake ctx_dest_wait_idle */
        wait_ms(d, 1000);
    }
    clean_done(d, &rec);
    pthread_mutex_unlock(&d->mu);
    ctx_spool_rec_clear(&rec);
    return NULL;
}
