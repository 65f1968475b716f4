/* delivery_queue.c: a tenant's in-memory queue of sealed batches and the writer that
 * moves them to the spool in order. Invariants in delivery_int.h.
 *
 * Concurrency: every function here is called with d->mu held; dq_write_pending()
 * releases it around each spool append (disk I/O) and takes it back.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ctxlog_common.h"
#include "delivery_int.h"

void dq_push(ctx_dest_t *d, dnode_t *n) {
    n->next = NULL;
    if (d->tail != NULL)
        d->tail->next = n;
    else
        d->head = n;
    d->tail = n;
    d->nmem++;
}

void dq_remove(ctx_dest_t *d, dnode_t *n) {
    dnode_t *prev = NULL;
    for (dnode_t *p = d->head; p != NULL; prev = p, p = p->next) {
        if (p != n) continue;
        if (prev != NULL)
            prev->next = n->next;
        else
            d->head = n->next;
        if (d->tail == n) d->tail = prev;
        d->nmem--;
        return;
    }
}

void dq_node_free(dnode_t *n) {
    if (n == NULL) return;
    free(n->body);
    free(n);
}

uint64_t dq_spool_records(ctx_dest_t *d) {
    ctx_spool_stats_t st;
    ctx_spool_stats(d->sp, &st);
    return st.records;
}

static dnode_t *first_unwritten(ctx_dest_t *d) {
    for (dnode_t *n = d->head; n != NULL; n = n->next)
        if (!n->on_disk && !n->done) return n;
    return NULL;
}

/* a spool append failed: block the tenant (once logged), keep the node in memory */
static void write_failed(ctx_dest_t *d, int rc, const char *err) {
    ST_ADD(d, spool_errors, rc == CTX_EFULL ? 0 : 1);
    ST_ADD(d, spool_full, rc == CTX_EFULL ? 1 : 0);
    if (d->blocked) return;
    d->blocked = 1;
    if (rc == CTX_EFULL)
        dest_log(d, CTX_DEST_LOG_ERR,
                 "tenant '%s': spool full (%llu bytes, policy block): new messages of this tenant are held back "
                 "until its destination takes the spooled ones",
                 d->tenant, (unsigned long long)d->cfg.spool_max_bytes);
    else
        dest_log(d, CTX_DEST_LOG_ERR,
                 "tenant '%s': cannot spool a batch: %s; new messages of this tenant are held back until it can",
                 d->tenant, err[0] ? err : "error");
}

/* appends n (mu released during the I/O); returns the append's result */
static int write_one(ctx_dest_t *d, dnode_t *n) {
    char err[CTX_ERRLEN] = "";
    uint64_t seq = 0;
    n->writing = 1;
    pthread_mutex_unlock(&d->mu);
    int rc = ctx_spool_append(d->sp, n->body, n->len, n->batch_us, n->tag, &seq, err, sizeof err);
    pthread_mutex_lock(&d->mu);
    n->writing = 0;
    if (rc != 0) {
        write_failed(d, rc, err);
        return rc;
    }
    n->on_disk = 1;
    n->seq = seq;
    ST_ADD(d, spooled_batches, 1);
    ST_ADD(d, spooled_bytes, n->len);
    if (!n->in_flight && !n->done) {
        dq_remove(d, n);
        dq_node_free(n);
    }
    return 0;
}

void dq_write_pending(ctx_dest_t *d) {
    if (d->writer_active) return;
    d->writer_active = 1;
    int failed = 0;
    for (dnode_t *n; !failed && (n = first_unwritten(d)) != NULL;) failed = write_one(d, n) != 0;
    if (!failed && d->blocked) {
        d->blocked = 0;
        d->hold_logged = 0;
        dest_log(d, CTX_DEST_LOG_INFO, "tenant '%s': the spool takes batches again; messages flow", d->tenant);
    }
    d->writer_active = 0;
    pthread_cond_broadcast(&d->cv_state);
    pthread_cond_signal(&d->cv_work);
}
