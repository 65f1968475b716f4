/* deadletter.h: a tenant's dead-letter file: batches a destination refused for good
 * (HTTP 4xx other than 408 / 429), kept for the operator instead of being dropped.
 *
 * The file is append-only, created with mode 0600. Each rejected batch is one
 * record: a header line, a JSON object, then exactly "bytes" bytes of the batch
 * body (decoded: the NDJSON lines / the JSON array / the octet-counted frames
 * as they were sent, before compression), then "\n":
 *
 *   {"deadletter":{"time":"2026-11-27T06:13:44.123456Z","tenant":"acme","reason":"HTTP 400: bad request",
 *    "messages":250,"format":"ndjson","encoding":"none","bytes":51234}}
 *   <body>
 *
 * "encoding" is "none" unless the body could not be decoded (then it is written as
 * received and "encoding" names its compression). The record is fsync'd before
 * ctx_deadletter_write() returns.
 *
 * Bounded: a record that would take the file past limits->max_bytes first rotates it
 * (FILE -> FILE.1 -> ... -> FILE.<keep>, the oldest deleted; keep 0 deletes FILE), so
 * a tenant's dead letters take at most max_bytes * (1 + keep) bytes of disk. A record
 * larger than max_bytes by itself is not written (CTX_EFULL).
 *
 * Thread-safety: calls for different files may run concurrently; calls for the same
 * file must be serialised by the caller (omtenant: the tenant's sender thread).
 */
#ifndef CTXLOG_DEADLETTER_H
#define CTXLOG_DEADLETTER_H

#include <stddef.h>
#include <stdint.h>

#include "batch.h"

typedef struct {
    uint64_t max_bytes; /* largest size of the file; 0 = unbounded */
    unsigned keep;      /* rotated files kept (FILE.1 .. FILE.<keep>); at most 99 */
} ctx_deadletter_limits_t;

/* The name a record gives a batch format: "ndjson", "otlp", ..., "octet-counted". */
const char *ctx_deadletter_format_name(ctx_batch_format_t f);

/* Appends one record. tenant and reason are borrowed strings; body[0..len) is the
 * batch as sent, encoded as the tag (CTX_DEST_TAG) says; lim may be NULL (unbounded).
 * *written (may be NULL) receives the bytes appended, and *rotated (may be NULL) 1 if
 * the file was rotated first. Returns 0; CTX_EFULL when the record alone is larger
 * than lim->max_bytes (nothing written; err says so); CTX_EIO (errno kept; err names
 * the file); CTX_ENOMEM. */
int ctx_deadletter_write(const char *path, const char *tenant, const char *reason, const void *body, size_t len,
                         uint32_t tag, const ctx_deadletter_limits_t *lim, size_t *written, int *rotated, char *err,
                         size_t errlen);

#endif
