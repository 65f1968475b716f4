/* delivery.h: one tenant's outbound pipeline: open batch -> sealed, compressed batch
 * -> (memory or the tenant's spool) -> sender thread -> transport; dead-letter file
 * for rejections. Used by omtenant, one ctx_dest_t per tenant.
 *
 * Messages are added to the open batch (ctx_dest_add); a batch is sealed when it
 * reaches its limits, when it is due (ctx_dest_flush_due, called by a timer) or on
 * ctx_dest_flush. Sealing compresses it with the caller's encoder and queues it.
 *
 * Queue and spool. Sealed batches wait in order: first the records of the spool (on
 * disk), then the batches held in memory (always newer than any spooled one). While
 * the destination is healthy and keeps up, at most max_pending sealed batches are
 * kept in memory and nothing touches the disk. As soon as a send fails (retryable),
 * or more than max_pending batches wait, the tenant switches to spool mode: every
 * batch not yet on disk is appended to the spool, oldest first, and each later batch
 * is appended (and fsync'd) by the thread that seals it before that thread returns,
 * i.e. before omtenant acknowledges the messages to rsyslog. The sender delivers
 * the spool in order with exponential backoff and full jitter between failed
 * attempts, and returns to memory mode when the spool is empty. With write_ahead
 * every batch is spooled before it is sent.
 *
 * When a batch cannot be spooled (spool full under policy "block", or a disk error
 * such as ENOSPC), it stays in memory, in order, and the tenant is blocked:
 * ctx_dest_accepting() is 0 until the batch could be written or delivered. A blocked
 * tenant still takes messages into memory up to hold_max_bytes (sealed batches not on
 * disk plus the open batch); past it ctx_dest_add refuses them (CTX_EFULL, counted
 * dropped_blocked, logged once per blocked period). omtenant either refuses a blocked
 * tenant's messages before adding them (an action serving one tenant: rsyslog keeps
 * and retries them) or adds them and drops what the hold refuses (an action serving
 * several tenants: no tenant ever stalls another).
 *
 * A rejection (the transport says REJECT: HTTP 4xx other than 408 / 429) writes the
 * batch, decoded, to the tenant's dead-letter file (fsync'd) and removes it. A partial
 * result (PARTIAL: a bulk reply with per-item failures, an OTLP partial_success) writes
 * the refused messages to the dead-letter file and queues a new batch of the messages
 * to retry; the delivered ones are never sent again.
 *
 * Thread-safety: ctx_dest_add / _flush_due / _flush / _accepting / _stats /
 * _reconfigure / _set_transport may be called from any threads concurrently (one
 * mutex guards the open batch and the queue; it is never held across network or
 * disk I/O, only across the compression of a batch being sealed). The transport
 * and the log callback are called from the dest's sender thread and, for the log
 * callback, from any thread that seals a batch.
 */
#ifndef CTXLOG_DELIVERY_H
#define CTXLOG_DELIVERY_H

#include <stddef.h>
#include <stdint.h>

#include "batch.h"
#include "fmt.h"
#include "spool.h"

/* the 32-bit tag stored with each sealed batch (and in its spool record) */
#define CTX_DEST_TAG(enc, fmt, nmsgs) \
    ((uint32_t)(enc)&0xfu) | (((uint32_t)(fmt)&0xfu) << 4) | (((uint32_t)(nmsgs)&0xffffffu) << 8)
#define CTX_DEST_TAG_ENC(tag) ((ctx_encoding_t)((tag)&0xfu))
#define CTX_DEST_TAG_FMT(tag) ((ctx_batch_format_t)(((tag) >> 4) & 0xfu))
#define CTX_DEST_TAG_MSGS(tag) ((size_t)((tag) >> 8))

typedef enum {
    CTX_SEND_OK = 0,     /* delivered (HTTP 2xx; syslog-tls: written on a healthy connection) */
    CTX_SEND_RETRY = 1,  /* not delivered; retry later (spool, backoff) */
    CTX_SEND_REJECT = 2, /* refused for good: dead-letter */
    CTX_SEND_PARTIAL = 3 /* the server took the batch but said, per message, that some failed:
                            ctx_send_info_t's partial members say which (below) */
} ctx_send_result_t;

/* One group of messages a server refused for good (CTX_SEND_PARTIAL): written to the
 * dead-letter file as one record with its reason. */
typedef struct {
    char reason[256];    /* e.g. "elasticsearch item status 400: mapper_parsing_exception: ..." */
    unsigned char *body; /* the refused messages as a body of the batch's format (malloc'd; the
                            sender frees it); NULL: the whole batch is written with this reason */
    size_t len;
    uint32_t tag;        /* CTX_DEST_TAG of body (its count: the messages refused) */
} ctx_send_reject_t;

typedef struct {
    char err[512];               /* transport's one-line reason when not OK */
    unsigned long retry_after_ms; /* server's hint (HTTP Retry-After), 0 if none */
    int tls_failure;             /* 1 if the failure was a TLS refusal (for the counter) */
    /* CTX_SEND_OK only: the format defines the 2xx status as delivery but its reply body could not
     * be read (reply_unread: counted in replies_unread, err says why) or carried a server warning
     * (err, reply_unread 0); logged as a warning when the text changes */
    int reply_unread;
    /* CTX_SEND_PARTIAL (the transport fills these; the sender frees them). The batch
     * leaves the queue; its messages are: delivered (the rest), refused (rejects:
     * dead-lettered and counted), or to be retried (retry_body: a new batch of just
     * those messages, queued after the others and sent with backoff, so that no
     * delivered message is sent again). */
    ctx_send_reject_t *rejects;  /* malloc'd array */
    size_t nrejects;
    unsigned char *retry_body;   /* malloc'd, encoded as retry_tag says; NULL: nothing to retry */
    size_t retry_len;
    uint32_t retry_tag;
} ctx_send_info_t;

/* Frees info's partial members (rejects, retry_body) and zeroes them. */
void ctx_send_info_clear(ctx_send_info_t *info);

/* A transport. send() is called on the dest's sender thread only, never concurrently;
 * body is borrowed for the call; tag is the batch's CTX_DEST_TAG. free() releases arg
 * (called on the sender thread or in ctx_dest_free; may be NULL).
 * formats: the batch formats it sends (bit 1 << ctx_batch_format_t), 0 for any. When a
 * transport for other formats replaces it (ctx_dest_set_transport: a HUP changed the
 * tenant's format), it is kept for the batches of its own format still queued or spooled,
 * until none is left; a batch whose format no transport sends (written before a restart
 * under another format) is dead-lettered with that reason. */
typedef struct {
    ctx_send_result_t (*send)(void *arg, const void *body, size_t len, uint32_t tag, ctx_send_info_t *info);
    void (*close)(void *arg); /* drop an idle connection (may be NULL) */
    void (*free)(void *arg);
    void *arg;
    unsigned formats;
} ctx_dest_transport_t;

/* severities of log lines (syslog's) */
#define CTX_DEST_LOG_ERR 3
#define CTX_DEST_LOG_WARNING 4
#define CTX_DEST_LOG_INFO 6

/* line is one complete sentence naming the tenant; called from any pipeline thread */
typedef void (*ctx_dest_log_fn)(void *arg, int severity, const char *line);

/* What may change on HUP. */
typedef struct {
    ctx_batch_format_t format;  /* body format of new batches */
    ctx_fmt_opts_t fmt_opts;    /* a record format's options (fmt.h) */
    ctx_batch_limits_t limits;  /* copied */
    ctx_encoding_t encoding;    /* compression of new batches */
    int level;                  /* compression level (0 = the encoding's default) */
    uint64_t spool_max_bytes;   /* 0 = unbounded */
    ctx_spool_policy_t spool_when_full;
} ctx_dest_config_t;

typedef struct {
    const char *tenant;          /* tenant id (copied), named in every log line */
    const char *spool_dir;       /* this tenant's spool directory (copied; its parent must exist) */
    const char *deadletter_path; /* the tenant's dead-letter file (copied; its directory must exist) */
    uint64_t deadletter_max_bytes; /* bound of the dead-letter file before it rotates; 0 = unbounded */
    unsigned deadletter_keep;    /* rotated dead-letter files kept */
    ctx_dest_config_t cfg;
    unsigned max_pending;        /* sealed batches kept in memory in memory mode; 0 = 2 */
    uint64_t hold_max_bytes;     /* blocked: memory the tenant may still fill; 0 = unbounded */
    int write_ahead;             /* 1: spool every batch before sending it */
    uint64_t backoff_initial_ms; /* ceiling of the first retry delay; 0 = 1000 */
    uint64_t backoff_max_ms;     /* largest delay; 0 = 60000 */
    unsigned shutdown_ms;        /* ctx_dest_free: time to keep delivering before spooling the rest; 0 = 5000 */
    ctx_dest_transport_t transport; /* ownership taken, also on failure */
    ctx_dest_log_fn log;         /* may be NULL */
    void *log_arg;
    ctx_spool_pwrite_fn spool_pwrite; /* tests only; NULL = pwrite(2) */
} ctx_dest_opts_t;

typedef struct {
    uint64_t msgs_in;            /* messages added */
    uint64_t batches_sealed;     /* batches sealed */
    uint64_t bytes_raw;          /* body bytes of sealed batches before compression */
    uint64_t bytes_encoded;      /* ... after compression */
    uint64_t batches_delivered;  /* acknowledged by the destination */
    uint64_t msgs_delivered;
    uint64_t bytes_delivered;    /* encoded bytes of delivered batches */
    uint64_t retries;            /* failed attempts that will be retried */
    uint64_t tls_failures;       /* of which TLS refusals */
    uint64_t spooled_batches;    /* appended to the spool */
    uint64_t spooled_bytes;
    uint64_t spool_records;      /* records in the spool now */
    uint64_t spool_bytes;        /* bytes of the spool on disk now */
    uint64_t spool_dropped;      /* records deleted unsent by drop-oldest */
    uint64_t spool_full;         /* appends refused: spool full (block) */
    uint64_t spool_errors;       /* appends / reads / acks that failed (disk full, I/O) */
    uint64_t deadletter_batches; /* rejected batches written to the dead-letter file */
    uint64_t deadletter_msgs;
    uint64_t deadletter_bytes;   /* bytes appended to the dead-letter file */
    uint64_t deadletter_rotations; /* times the dead-letter file was rotated at its bound */
    uint64_t deadletter_dropped_msgs; /* rejected, and too large for the dead-letter file: dropped */
    uint64_t lost_batches;       /* could be neither delivered nor spooled at shutdown (logged) */
    uint64_t lost_msgs;
    uint64_t held_batches;       /* sealed batches in memory now */
    uint64_t blocked;            /* 1 while the tenant is blocked */
    uint64_t dropped_blocked;    /* messages refused while blocked with its hold full */
    uint64_t reconfig_retries;   /* tries of a HUP's settings that found the open batch still filling */
    uint64_t reconfig_pending;   /* 1 while a HUP's settings wait to be applied */
    uint64_t partial_batches;    /* batches the server took in part (CTX_SEND_PARTIAL) */
    uint64_t partial_retried_msgs; /* their messages queued again in a new batch */
    uint64_t partial_rejected_msgs; /* their messages refused for good (dead-lettered) */
    uint64_t replies_unread;     /* 2xx replies whose body the format could not read (delivered: the
                                    format says the status decides; see ctx_send_info_t.reply_unread) */
} ctx_dest_stats_t;

typedef struct ctx_dest ctx_dest_t;

/* Opens (and recovers) the tenant's spool, and starts the sender thread, which
 * begins with delivering what the spool holds from an earlier run. Returns 0 and
 * *out, or CTX_EAGAIN (spool open elsewhere), CTX_EIO, CTX_EINVAL, CTX_ENOMEM with
 * err. The transport is owned (freed on failure too). */
int ctx_dest_new(const ctx_dest_opts_t *o, ctx_dest_t **out, char *err, size_t errlen);

/* Stops: seals the open batch (with enc, may be NULL only if the batch is empty or
 * its encoding is none), keeps delivering for up to shutdown_ms (not while in
 * backoff), appends every batch still in memory to the spool, stops the sender,
 * frees the transport and closes the spool. NULL is a no-op. */
void ctx_dest_free(ctx_dest_t *d, ctx_batch_encoder_t *enc);

/* Adds one formatted message (borrowed) to the open batch, sealing batches as they
 * fill (enc: the calling thread's encoder, or NULL: the dest's own). It always
 * takes the message, also while the tenant is blocked: the caller checks
 * ctx_dest_accepting() before it accepts a group of messages (omtenant: one rsyslog
 * transaction, all or nothing) and so bounds what is held in memory. Returns 0,
 * CTX_EINVAL (the message is empty or, for NDJSON, contains a newline: not added),
 * CTX_EFULL (blocked, and its hold_max_bytes are used: not added), CTX_ENOMEM. A
 * batch that cannot be compressed stays open and is sealed later. */
int ctx_dest_add(ctx_dest_t *d, ctx_batch_encoder_t *enc, const char *msg, size_t len);

/* The same for a record format (the open batch's format is one of CTX_BATCH_OTLP ..
 * CTX_BATCH_SPLUNK_HEC): r and its strings are borrowed, copied into the batch. Returns
 * as ctx_dest_add (CTX_EINVAL: not a record format, or an empty record). */
int ctx_dest_add_rec(ctx_dest_t *d, ctx_batch_encoder_t *enc, const ctx_fmt_rec_t *r);

/* Seals the open batch if it is due at now_ms (ctx_batch_now_ms()); returns 1 if it
 * sealed one, 0 if not, or a negative CTX_E* code. */
int ctx_dest_flush_due(ctx_dest_t *d, ctx_batch_encoder_t *enc, uint64_t now_ms);

/* Seals the open batch now if it is non-empty; returns 1, 0, or CTX_E*. */
int ctx_dest_flush(ctx_dest_t *d, ctx_batch_encoder_t *enc);

/* 1 if the tenant takes new messages, 0 while it is blocked (a sealed batch could
 * be neither spooled nor delivered yet). */
int ctx_dest_accepting(ctx_dest_t *d);

/* HUP: new format, limits, encoding and spool limits. The open batch is sealed first,
 * with what other threads add to it meanwhile. Returns 0, or CTX_EAGAIN: the batch kept
 * filling, the old settings stay for now and cfg is kept: every ctx_dest_flush_due (the
 * timer) tries it again until it applies (counted in reconfig_retries; a later call
 * replaces it), or CTX_E*. */
int ctx_dest_reconfigure(ctx_dest_t *d, ctx_batch_encoder_t *enc, const ctx_dest_config_t *cfg);

/* HUP: replaces the transport (ownership taken); the old one is freed by the sender
 * between two sends. */
void ctx_dest_set_transport(ctx_dest_t *d, ctx_dest_transport_t tr);

/* A snapshot of the counters. */
void ctx_dest_stats(ctx_dest_t *d, ctx_dest_stats_t *st);

/* Waits until nothing is queued (memory and spool empty) or timeout_ms passes;
 * returns 1 if idle, 0 on timeout. For tests and shutdown. */
int ctx_dest_wait_idle(ctx_dest_t *d, unsigned timeout_ms);

#endif
