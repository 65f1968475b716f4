/* delivery.c: a tenant's outbound pipeline, submission side: the open batch,
 * sealing (compression), handing sealed batches to memory or the spool, and the
 * life cycle. The queue is in delivery_queue.c, the sender in delivery_sender.c.
 * Contract in delivery.h.
 *
 * Concurrency: d->mu guards the open batch, the queue and the state (see
 * delivery_int.h); it is held across the compression of a batch being sealed, never
 * across network or disk I/O (the spool writer releases it). Counters are atomics.
 */
#include "delivery.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "clock.h"
#include "ctxlog_common.h"
#include "delivery_int.h"

void dest_log(ctx_dest_t *d, int sev, const char *fmt, ...) {
    if (d->log == NULL) return;
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    d->log(d->log_arg, sev, line);
}

uint64_t dest_now_ms(void) {
    return ctx_clock_ms();
}

static uint64_t wall_us(void) {
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (uint64_t)tv.tv_sec * 1000000u + (uint64_t)tv.tv_usec;
}

/* ---------------------------------------------------------------- sealing */

static int make_node(ctx_dest_t *d, const void *body, size_t len, size_t nmsgs, dnode_t **out) {
    dnode_t *n = calloc(1, sizeof *n);
    if (n == NULL || (n->body = malloc(len ? len : 1)) == NULL) {
        free(n);
        return CTX_ENOMEM;
    }
    memcpy(n->body, body, len);
    n->len = len;
    n->tag = CTX_DEST_TAG(d->cfg.encoding, ctx_batch_format(d->open), nmsgs);
    uint64_t age_ms = dest_now_ms() - ctx_batch_opened_ms(d->open);
    n->batch_us = wall_us() - age_ms * 1000u;
    *out = n;
    return 0;
}

/* compresses the open batch into a new node at the queue's tail; 1 if sealed, 0 if
 * the batch was empty, CTX_E* (the batch is kept) */
static int seal_locked(ctx_dest_t *d, ctx_batch_encoder_t *enc) {
    size_t nmsgs = ctx_batch_count(d->open), rawlen;
    if (nmsgs == 0) return 0;
    if (enc == NULL) {
        if (d->enc == NULL && ctx_batch_encoder_new(&d->enc) != 0) return CTX_ENOMEM;
        enc = d->enc;
    }
    const char *raw = NULL;
    const void *out;
    size_t outlen;
    int rc = ctx_batch_seal(d->open, enc, &raw, &rawlen); /* a record format builds its body now */
    if (rc == 0) rc = ctx_batch_encode(enc, d->cfg.encoding, d->cfg.level, raw, rawlen, &out, &outlen);
    dnode_t *n = NULL;
    if (rc == 0) rc = make_node(d, out, outlen, nmsgs, &n);
    if (rc != 0) {
        dest_log(d, CTX_DEST_LOG_ERR, "tenant '%s': cannot compress a batch of %zu messages (%s); will retry",
                 d->tenant, nmsgs, rc == CTX_ENOMEM ? "out of memory" : "codec error");
        return rc;
    }
    ST_ADD(d, batches_sealed, 1);
    ST_ADD(d, bytes_raw, rawlen);
    ST_ADD(d, bytes_encoded, outlen);
    ctx_batch_reset(d->open);
    dq_push(d, n);
    return 1;
}

/* after a seal: keep it in memory while healthy, else spool (this thread writes, and
 * waits for another writer, so that the batch is on disk before it returns) */
static void after_seal_locked(ctx_dest_t *d) {
    if (!d->spool_mode && d->nmem <= d->max_pending) {
        pthread_cond_signal(&d->cv_work);
        return;
    }
    if (!d->spool_mode) {
        d->spool_mode = 1;
        dest_log(d, CTX_DEST_LOG_INFO,
                 "tenant '%s': the destination does not keep up (%zu batches waiting): spooling to disk", d->tenant,
                 d->nmem);
    }
    dq_write_pending(d);
    while (d->writer_active) pthread_cond_wait(&d->cv_state, &d->mu);
    pthread_cond_signal(&d->cv_work);
}

static int seal_and_queue(ctx_dest_t *d, ctx_batch_encoder_t *enc) {
    int rc = seal_locked(d, enc);
    if (rc == 1) after_seal_locked(d);
    return rc;
}

/* blocked: memory held by batches not on disk and the open batch */
static uint64_t held_bytes(const ctx_dest_t *d) {
    uint64_t n = 0;
    for (const dnode_t *x = d->head; x != NULL; x = x->next)
        if (!x->on_disk && !x->done) n += x->len;
    return n + ctx_batch_size(d->open);
}

/* blocked with its hold full: the message is refused, counted, logged once */
static int hold_full(ctx_dest_t *d, size_t len) {
    if (!d->blocked || d->hold_max_bytes == 0 || held_bytes(d) + len <= d->hold_max_bytes) return 0;
    ST_ADD(d, dropped_blocked, 1);
    if (!d->hold_logged)
        dest_log(d, CTX_DEST_LOG_ERR,
                 "tenant '%s': blocked, and the %llu bytes it may hold in memory are used: its new messages are "
                 "dropped (counted in dropped.blocked) until it takes messages again",
                 d->tenant, (unsigned long long)d->hold_max_bytes);
    d->hold_logged = 1;
    return 1;
}

/* appends a message or a record to the open batch */
static int append(ctx_dest_t *d, const char *msg, size_t len, const ctx_fmt_rec_t *r) {
    return r ? ctx_batch_append_rec(d->open, r) : ctx_batch_append(d->open, msg, len);
}

static size_t rec_len(const ctx_fmt_rec_t *r) {
    return r->msg.n + r->sd.n + r->host.n + r->app.n + r->procid.n + r->msgid.n + 64;
}

static int add(ctx_dest_t *d, ctx_batch_encoder_t *enc, const char *msg, size_t len, const ctx_fmt_rec_t *r) {
    pthread_mutex_lock(&d->mu);
    if (hold_full(d, r ? rec_len(r) : len)) {
        pthread_mutex_unlock(&d->mu);
        return CTX_EFULL;
    }
    int rc = append(d, msg, len, r);
    if (rc == CTX_EFULL) {
        rc = seal_and_queue(d, enc);
        rc = rc < 0 ? rc : append(d, msg, len, r);
    }
    if (rc == 0) {
        ST_ADD(d, msgs_in, 1);
        /* the message is in the batch; a seal that fails now is retried by the timer */
        if (ctx_batch_is_full(d->open)) (void)seal_and_queue(d, enc);
    }
    pthread_mutex_unlock(&d->mu);
    return rc;
}

static int apply_cfg_next(ctx_dest_t *d, ctx_batch_encoder_t *enc);
int ctx_dest_add(ctx_dest_t *d, ctx_batch_encoder_t *enc, const char *msg, size_t len) {
    if (d == NULL || (msg == NULL && len > 0)) return CTX_EINVAL;
    return add(d, enc, msg, len, NULL);
}

int ctx_dest_add_rec(ctx_dest_t *d, ctx_batch_encoder_t *enc, const ctx_fmt_rec_t *r) {
    if (d == NULL || r == NULL) return CTX_EINVAL;
    return add(d, enc, NULL, 0, r);
}

int ctx_dest_flush_due(ctx_dest_t *d, ctx_batch_encoder_t *enc, uint64_t now_ms) {
    if (d == NULL) return CTX_EINVAL;
    pthread_mutex_lock(&d->mu);
    int rc = ctx_batch_due(d->open, now_ms) ? seal_and_queue(d, enc) : 0;
    if (d->has_cfg_next && apply_cfg_next(d, enc) == CTX_EAGAIN) ST_ADD(d, reconfig_retries, 1);
    pthread_mutex_unlock(&d->mu);
    return rc;
}

int ctx_dest_flush(ctx_dest_t *d, ctx_batch_encoder_t *enc) {
    if (d == NULL) return CTX_EINVAL;
    pthread_mutex_lock(&d->mu);
    int rc = seal_and_queue(d, enc);
    pthread_mutex_unlock(&d->mu);
    return rc;
}

int ctx_dest_accepting(ctx_dest_t *d) {
    if (d == NULL) return 0;
    pthread_mutex_lock(&d->mu);
    int ok = !d->blocked;
    pthread_mutex_unlock(&d->mu);
    return ok;
}

/* ---------------------------------------------------------------- configuration */

/* applies d->cfg_next (mu held): 0 (applied), CTX_EAGAIN (kept for the next try) or CTX_E* */
static int apply_cfg_next(ctx_dest_t *d, ctx_batch_encoder_t *enc) {
    /* a copy: the seal below may release mu, and a HUP may replace cfg_next meanwhile */
    const ctx_dest_config_t next = d->cfg_next, *cfg = &next;
    const uint64_t gen = d->cfg_gen;
    ctx_batch_t *nb = NULL;
    int rc = ctx_batch_new(cfg->format, &cfg->limits, &nb);
    if (rc != 0) return rc;
    ctx_batch_set_opts(nb, &cfg->fmt_opts);
    rc = seal_and_queue(d, enc);
    /* in spool mode the seal writes the batch with mu released, and other threads may
     * add to the open batch meanwhile: seal those too before the batch is replaced
     * (freeing it lost them: messages taken at a HUP never delivered) */
    for (int i = 0; rc >= 0 && ctx_batch_count(d->open) > 0 && i < 64; i++) rc = seal_and_queue(d, enc);
    if (rc >= 0 && ctx_batch_count(d->open) > 0) rc = CTX_EAGAIN; /* still filling: keep it, retry later */
    if (rc >= 0) {
        ctx_batch_free(d->open);
        d->open = nb;
        nb = NULL;
        d->cfg = *cfg;
        ctx_spool_set_limits(d->sp, cfg->spool_max_bytes, cfg->spool_when_full);
        if (d->cfg_gen == gen) { /* else newer settings wait: the next tick applies them */
            d->has_cfg_next = 0;
            __atomic_store_n(&d->st.reconfig_pending, 0, __ATOMIC_RELAXED);
        }
        rc = 0;
    }
    ctx_batch_free(nb);
    return rc;
}

int ctx_dest_reconfigure(ctx_dest_t *d, ctx_batch_encoder_t *enc, const ctx_dest_config_t *cfg) {
    if (d == NULL || cfg == NULL) return CTX_EINVAL;
    pthread_mutex_lock(&d->mu);
    d->cfg_next = *cfg; /* the newest settings win; kept until they apply */
    d->has_cfg_next = 1;
    d->cfg_gen++;
    __atomic_store_n(&d->st.reconfig_pending, 1, __ATOMIC_RELAXED);
    int rc = apply_cfg_next(d, enc);
    if (rc < 0 && rc != CTX_EAGAIN) { /* cannot apply at all (no memory): the old settings stay */
        d->has_cfg_next = 0;
        __atomic_store_n(&d->st.reconfig_pending, 0, __ATOMIC_RELAXED);
    }
    pthread_mutex_unlock(&d->mu);
    return rc;
}

void ctx_dest_set_transport(ctx_dest_t *d, ctx_dest_transport_t tr) {
    if (d == NULL) {
        if (tr.free) tr.free(tr.arg);
        return;
    }
    pthread_mutex_lock(&d->mu);
    if (d->have_tr_next && d->tr_next.free) d->tr_next.free(d->tr_next.arg);
    d->tr_next = tr;
    d->have_tr_next = 1;
    d->retry_at_ms = 0; /* a new destination: try it now */
    pthread_cond_signal(&d->cv_work);
    pthread_mutex_unlock(&d->mu);
}

void ctx_dest_stats(ctx_dest_t *d, ctx_dest_stats_t *st) {
    if (d == NULL || st == NULL) return;
    uint64_t *dst = (uint64_t *)st;
    const uint64_t *src = (const uint64_t *)&d->st;
    for (size_t i = 0; i < sizeof *st / sizeof(uint64_t); i++) dst[i] = __atomic_load_n(&src[i], __ATOMIC_RELAXED);
    ctx_spool_stats_t ss;
    ctx_spool_stats(d->sp, &ss);
    st->spool_records = ss.records;
    st->spool_bytes = ss.bytes;
    st->spool_dropped = ss.dropped_records;
    pthread_mutex_lock(&d->mu);
    st->held_batches = d->nmem;
    st->blocked = (uint64_t)d->blocked;
    pthread_mutex_unlock(&d->mu);
}


int ctx_dest_wait_idle(ctx_dest_t *d, unsigned timeout_ms) {
    if (d == NULL) return 1;
    struct timespec ts;
    ctx_clock_deadline(&ts, timeout_ms);
    pthread_mutex_lock(&d->mu);
    int idle;
    while (!(idle = (d->nmem == 0 && !d->sending && dq_spool_records(d) == 0))) {
        if (pthread_cond_timedwait(&d->cv_state, &d->mu, &ts) == ETIMEDOUT) {
            idle = d->nmem == 0 && !d->sending && dq_spool_records(d) == 0;
            break;
        }
    }
    pthread_mutex_unlock(&d->mu);
    return idle;
}

/* ---------------------------------------------------------------- life cycle */

static int init_sync(ctx_dest_t *d) {
    pthread_condattr_t ca;
    if (pthread_condattr_init(&ca) != 0) return CTX_ENOMEM;
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    int ok = pthread_mutex_init(&d->mu, NULL) == 0 && pthread_cond_init(&d->cv_work, &ca) == 0 &&
             pthread_cond_init(&d->cv_state, &ca) == 0;
    pthread_condattr_destroy(&ca);
    return ok ? 0 : CTX_ENOMEM;
}

static int open_parts(ctx_dest_t *d, const ctx_dest_opts_t *o, char *err, size_t errlen) {
    ctx_spool_opts_t so = {o->cfg.spool_max_bytes, o->cfg.spool_when_full, 0, o->spool_pwrite};
    int rc = ctx_spool_new(o->spool_dir, &so, &d->sp, err, errlen);
    if (rc != 0) return rc;
    uint64_t init = o->backoff_initial_ms ? o->backoff_initial_ms : 1000;
    uint64_t max = o->backoff_max_ms ? o->backoff_max_ms : 60000;
    if (max < init) max = init;
    if ((rc = ctx_backoff_new(init / 4, init, max, NULL, NULL, &d->bo)) != 0) {
        snprintf(err, errlen, "tenant '%s': bad backoff settings", o->tenant);
        return rc;
    }
    if ((rc = ctx_batch_new(o->cfg.format, &o->cfg.limits, &d->open)) != 0) {
        snprintf(err, errlen, "tenant '%s': bad batch settings", o->tenant);
        return rc;
    }
    ctx_batch_set_opts(d->open, &o->cfg.fmt_opts);
    return 0;
}

static void free_parts(ctx_dest_t *d) {
    while (d->head != NULL) {
        dnode_t *n = d->head;
        dq_remove(d, n);
        dq_node_free(n);
    }
    if (d->tr.free) d->tr.free(d->tr.arg);
    if (d->have_tr_next && d->tr_next.free) d->tr_next.free(d->tr_next.arg);
    dest_prev_free(d, ~0u);
    ctx_spool_free(d->sp);
    ctx_backoff_free(d->bo);
    ctx_batch_free(d->open);
    ctx_batch_encoder_free(d->enc);
    free(d->tenant);
    free(d->deadletter_path);
}

int ctx_dest_new(const ctx_dest_opts_t *o, ctx_dest_t **out, char *err, size_t errlen) {
    if (out == NULL || o == NULL) return CTX_EINVAL;
    *out = NULL;
    ctx_dest_t *d = calloc(1, sizeof *d);
    if (d == NULL || init_sync(d) != 0) {
        if (o->transport.free) o->transport.free(o->transport.arg);
        free(d);
        return CTX_ENOMEM;
    }
    d->tr = o->transport;
    d->cfg = o->cfg;
    d->log = o->log;
    d->log_arg = o->log_arg;
    d->max_pending = o->max_pending ? o->max_pending : 2;
    d->write_ahead = o->write_ahead;
    d->stop_deadline_ms = o->shutdown_ms ? o->shutdown_ms : 5000; /* a duration until stopping */
    int rc = (o->tenant && o->spool_dir && o->deadletter_path && o->transport.send) ? 0 : CTX_EINVAL;
    if (rc != 0) snprintf(err, errlen, "a tenant pipeline needs a tenant id, a spool directory, a dead-letter file "
                                       "and a transport");
    if (rc == 0 && ((d->tenant = strdup(o->tenant)) == NULL || (d->deadletter_path = strdup(o->deadletter_path)) == NULL))
        rc = CTX_ENOMEM;
    d->hold_max_bytes = o->hold_max_bytes;
    d->deadletter_limits.max_bytes = o->deadletter_max_bytes;
    d->deadletter_limits.keep = o->deadletter_keep;
    if (rc == 0) rc = open_parts(d, o, err, errlen);
    if (rc == 0) {
        d->spool_mode = d->write_ahead || dq_spool_records(d) > 0;
        d->thr_started = pthread_create(&d->thr, NULL, dest_sender_main, d) == 0;
        if (!d->thr_started) {
            snprintf(err, errlen, "tenant '%s': cannot start the sender thread: %s", o->tenant, strerror(errno));
            rc = CTX_ENOMEM;
        }
    }
    if (rc != 0) {
        free_parts(d);
        pthread_mutex_destroy(&d->mu);
        pthread_cond_destroy(&d->cv_work);
        pthread_cond_destroy(&d->cv_state);
        free(d);
        return rc;
    }
    *out = d;
    return 0;
}

/* the batches the sender could not deliver go to the spool; what cannot is lost (logged) */
static void spool_leftovers(ctx_dest_t *d) {
    d->spool_mode = 1;
    dq_write_pending(d);
    size_t lost = 0, lost_msgs = 0;
    while (d->head != NULL) {
        dnode_t *n = d->head;
        if (!n->on_disk && !n->done) lost++, lost_msgs += CTX_DEST_TAG_MSGS(n->tag);
        dq_remove(d, n);
        dq_node_free(n);
    }
    if (lost == 0) return;
    ST_ADD(d, lost_batches, lost);
    ST_ADD(d, lost_msgs, lost_msgs);
    dest_log(d, CTX_DEST_LOG_ERR,
             "tenant '%s': %zu batches (%zu messages) could be neither delivered nor spooled at shutdown: lost",
             d->tenant, lost, lost_msgs);
}

void ctx_dest_free(ctx_dest_t *d, ctx_batch_encoder_t *enc) {
    if (d == NULL) return;
    pthread_mutex_lock(&d->mu);
    if (seal_locked(d, enc) < 0)
        dest_log(d, CTX_DEST_LOG_ERR, "tenant '%s': the open batch could not be sealed at shutdown: lost", d->tenant);
    d->stop_deadline_ms += dest_now_ms();
    d->stopping = 1;
    pthread_cond_broadcast(&d->cv_work);
    pthread_mutex_unlock(&d->mu);
    if (d->thr_started) pthread_join(d->thr, NULL);
    pthread_mutex_lock(&d->mu);
    spool_leftovers(d);
    pthread_mutex_unlock(&d->mu);
    free_parts(d);
    pthread_mutex_destroy(&d->mu);
    pthread_cond_destroy(&d->cv_work);
    pthread_cond_destroy(&d->cv_state);
    free(d);
}
