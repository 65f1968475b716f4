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
 * Thread-safety: calls for different files may run concurrently; calls for the same
 * file must be serialised by the caller (omtenant: the tenant's sender thread).
 */
#ifndef CTXLOG_DEADLETTER_H
#define CTXLOG_DEADLETTER_H

#include <stddef.h>
#include <stdint.h>

/* Appends one record. tenant and reason are borrowed strings; body[0..len) is the
 * batch as sent, encoded as the tag (CTX_DEST_TAG) says. Returns 0, or CTX_EIO
 * (errno kept; err names the file), CTX_ENOMEM. */
int ctx_deadletter_write(const char *path, const char *tenant, const char *reason, const void *body, size_t len,
                         uint32_t tag, char *err, size_t errlen);

#endif
