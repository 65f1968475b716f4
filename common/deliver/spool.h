/* spool.h: one tenant's on-disk spool of batches, for when its destination is away.
 *
 * A spool is a directory (one per tenant) of append-only segment files holding
 * checksummed records, one record per batch (opaque bytes: the encoded body),
 * plus a small "ack" file holding the delivered-up-to position. Layout, crash
 * recovery and the delivery promise are described in docs/spool.md.
 *
 * Use:
 *   append(batch)      durable (file and, for a new segment, directory fsync'd)
 *                      before it returns 0: only then acknowledge to rsyslog;
 *   peek(&rec)         the oldest record not yet acked (the same one until acked);
 *   deliver rec.data;  ack(rec.seq)   the position is committed durably; records
 *                      are delivered in append order, at least once (a crash
 *                      between delivery and ack delivers that record again).
 *
 * Thread-safety: one ctx_spool_t may be used from several threads. Appends are
 * serialised among themselves (one lock, held across the write and fsync); peek
 * and ack are serialised among themselves (a second lock); an append and a
 * peek/ack run concurrently. A third lock guards the shared bookkeeping and is
 * never held across I/O. ctx_spool_stats() and ctx_spool_set_limits() may be
 * called from any thread at any time.
 * One directory may be open by one ctx_spool_t at a time (an flock on DIR/lock;
 * a second open, even in the same process, fails with CTX_EAGAIN): keep the
 * spool object of a tenant across a HUP and update it with ctx_spool_set_limits().
 */
#ifndef CTXLOG_SPOOL_H
#define CTXLOG_SPOOL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

typedef enum {
    CTX_SPOOL_BLOCK = 0,      /* when full, append fails with CTX_EFULL */
    CTX_SPOOL_DROP_OLDEST = 1 /* when full, whole oldest segments are deleted (counted) */
} ctx_spool_policy_t;

/* the largest record payload a spool accepts */
#define CTX_SPOOL_MAX_RECORD (256u * 1024u * 1024u)

/* A pwrite(2)-compatible function: tests inject short writes / ENOSPC with it. */
typedef ssize_t (*ctx_spool_pwrite_fn)(int fd, const void *buf, size_t len, off_t off);

typedef struct {
    uint64_t max_bytes;            /* bound on the segment files' total size; 0 = unbounded */
    ctx_spool_policy_t when_full;  /* what append does at max_bytes */
    uint64_t segment_bytes;        /* start a new segment file past this size; 0 = max_bytes / 8
                                      clamped to [64 KiB, 16 MiB] (16 MiB when unbounded) */
    ctx_spool_pwrite_fn pwrite_fn; /* tests only; NULL = pwrite(2) */
} ctx_spool_opts_t;

/* One record as peek returns it. Zero-initialise it once ({0}), reuse it for every
 * peek (data is grown as needed), and release it with ctx_spool_rec_clear(). */
typedef struct {
    uint64_t seq;        /* sequence number: +1 per append, never reused in this directory */
    uint64_t append_us;  /* wall-clock time of the append, microseconds since the epoch */
    uint64_t batch_us;   /* the caller's time stamp given to append (e.g. its oldest message) */
    uint32_t tag;        /* the caller's 32 bits given to append (e.g. encoding and body format) */
    unsigned char *data; /* the payload (owned by the record, malloc'd) */
    size_t len;          /* payload bytes */
    size_t cap;          /* allocated bytes of data */
} ctx_spool_rec_t;

typedef struct {
    uint64_t records;         /* records appended and not yet acked (or dropped / skipped) */
    uint64_t bytes;           /* bytes of the segment files on disk (what max_bytes bounds) */
    uint64_t segments;        /* segment files */
    uint64_t next_seq;        /* sequence number of the next append */
    uint64_t appended;        /* records appended since open */
    uint64_t appended_bytes;  /* payload bytes appended since open */
    uint64_t acked;           /* records acked since open */
    uint64_t full_rejects;    /* appends refused with CTX_EFULL (policy block) */
    uint64_t dropped_records; /* records deleted unsent by policy drop-oldest */
    uint64_t dropped_bytes;   /* their bytes on disk */
    uint64_t torn_records;    /* incomplete or bad tails cut off at open (a crash mid-append) */
    uint64_t torn_bytes;      /* bytes cut off */
    uint64_t corrupt_records; /* records skipped while reading because a checksum failed */
    uint64_t corrupt_bytes;   /* bytes skipped (the rest of that segment) */
    uint64_t io_errors;       /* appends / acks that failed with CTX_EIO */
} ctx_spool_stats_t;

typedef struct ctx_spool ctx_spool_t;

/* Opens (creating it with mode 0700 if missing; its parent must exist) the spool
 * directory dir (borrowed, copied) and recovers it: a torn or corrupt tail is cut
 * off and counted, segments wholly delivered are deleted. opts is copied; NULL
 * means unbounded with default segments. Returns 0 and *out, or CTX_EAGAIN (the
 * directory is open elsewhere), CTX_EIO (errno set), CTX_EINVAL, CTX_ENOMEM, with
 * one line in err. */
int ctx_spool_new(const char *dir, const ctx_spool_opts_t *opts, ctx_spool_t **out, char *err, size_t errlen);

/* Closes the spool (nothing is lost: every successful append is on disk); NULL is a
 * no-op. No other call on sp may be running or follow. */
void ctx_spool_free(ctx_spool_t *sp);

/* Appends one record (data borrowed, copied to disk) and makes it durable before
 * returning. batch_us and tag are stored verbatim for the reader. *seq_out (may be
 * NULL) gets the record's sequence number. Returns
 *   0           appended and fsync'd;
 *   CTX_EFULL   policy block and the spool is at max_bytes (nothing written);
 *   CTX_EINVAL  len is 0, above CTX_SPOOL_MAX_RECORD, or the record can never fit in
 *               max_bytes;
 *   CTX_EIO     a write or fsync failed; errno is kept (ENOSPC: disk full) and err
 *               names the file; the partial record is removed and the spool is
 *               unchanged (nothing was appended).
 * Under drop-oldest, making room deletes whole oldest segments, delivered or not
 * (counted in dropped_records / dropped_bytes). */
int ctx_spool_append(ctx_spool_t *sp, const void *data, size_t len, uint64_t batch_us, uint32_t tag,
                     uint64_t *seq_out, char *err, size_t errlen);

/* Reads the oldest record not yet acked into rec (rec->data reused / grown).
 * Repeated peeks without ack return the same record. A record whose checksum fails
 * is skipped with the rest of its segment (counted as corrupt) and the next one is
 * returned. Returns 0, CTX_ENOENT (the spool is empty), CTX_ENOMEM or CTX_EIO. */
int ctx_spool_peek(ctx_spool_t *sp, ctx_spool_rec_t *rec);

/* Marks the record seq (the one the last peek returned) delivered, durably (the ack
 * file is fsync'd before it returns); segments wholly delivered are deleted.
 * Acking a seq that is already acked or was dropped is a no-op returning 0. Returns
 * CTX_EINVAL if seq is not the last peeked record, CTX_EIO (err says why). */
int ctx_spool_ack(ctx_spool_t *sp, uint64_t seq, char *err, size_t errlen);

/* Frees rec->data and zeroes rec; NULL is a no-op. */
void ctx_spool_rec_clear(ctx_spool_rec_t *rec);

/* A snapshot of the counters. */
void ctx_spool_stats(ctx_spool_t *sp, ctx_spool_stats_t *st);

/* Changes max_bytes and the policy (a HUP); takes effect at the next append. Does
 * not delete anything by itself. */
void ctx_spool_set_limits(ctx_spool_t *sp, uint64_t max_bytes, ctx_spool_policy_t when_full);

#endif
