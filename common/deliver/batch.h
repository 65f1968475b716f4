/* batch.h: one tenant's batch of formatted messages, and its compression.
 *
 * A ctx_batch_t accumulates messages in one of three body formats and enforces
 * the tenant's limits; ctx_batch_body() is always a complete, valid body:
 *   NDJSON          each message followed by "\n"
 *   JSON array      "[" m1 "," m2 ... "]"  (an empty batch is "[]")
 *   octet-counted   RFC 5425 frames "LEN SP MSG", LEN the decimal byte count of MSG,
 *                   frames back to back (what a syslog-over-TLS server reads)
 * One trailing "\n" of a message (what rsyslog templates usually end with) is
 * removed before framing, in every format.
 *
 * A ctx_batch_encoder_t compresses a body: zstd (libzstd, one reused ZSTD_CCtx),
 * gzip (zlib, one reused deflate stream) or none. ctx_batch_decode() is the inverse
 * (tests, tools, spool inspection).
 *
 * Thread-safety: neither object has a lock. A batch belongs to one tenant and is
 * touched by one thread at a time (the caller's tenant lock); an encoder is per
 * thread (keep one in each rsyslog worker's instance data). ctx_batch_decode()
 * and ctx_batch_now_ms() are thread-safe.
 */
#ifndef CTXLOG_BATCH_H
#define CTXLOG_BATCH_H

#include <stddef.h>
#include <stdint.h>

#include "fmt.h"

typedef enum {
    CTX_BATCH_NDJSON = 0,      /* one JSON object a line */
    CTX_BATCH_JSON_ARRAY = 1,  /* one JSON array of the messages */
    CTX_BATCH_OCTET_COUNTED = 2, /* RFC 5425 / RFC 6587 octet-counted frames */
    /* record formats: messages are kept as ctx_fmt_rec_t (fmt.h) and the body is built
     * when the batch is sealed (ctx_batch_seal) by the format's encoder */
    CTX_BATCH_OTLP = 3,          /* fmt.h CTX_FMT_OTLP */
    CTX_BATCH_OTLP_JSON = 4,     /* CTX_FMT_OTLP_JSON */
    CTX_BATCH_ELASTICSEARCH = 5, /* CTX_FMT_ELASTICSEARCH */
    CTX_BATCH_LOKI = 6,          /* CTX_FMT_LOKI */
    CTX_BATCH_SPLUNK_HEC = 7     /* CTX_FMT_SPLUNK_HEC */
} ctx_batch_format_t;

typedef enum {
    CTX_ENC_NONE = 0, /* identity */
    CTX_ENC_ZSTD = 1, /* one zstd frame with content size and checksum */
    CTX_ENC_GZIP = 2  /* one gzip member (RFC 1952) */
} ctx_encoding_t;

/* Limits of one batch (a tenant's "batch" block). A limit of 0 means "no limit"
 * for max_messages and max_bytes; max_delay_ms is only read by ctx_batch_due(). */
typedef struct {
    size_t max_messages;   /* flush when this many messages are in the batch */
    size_t max_bytes;      /* body bytes (framed, before compression) a batch may hold */
    uint64_t max_delay_ms; /* flush when the first message is this old */
} ctx_batch_limits_t;

typedef struct ctx_batch ctx_batch_t;
typedef struct ctx_batch_encoder ctx_batch_encoder_t;

/* ---------------------------------------------------------------- builder */

/* Creates an empty batch. limits is copied. Returns 0, CTX_EINVAL (bad format or
 * NULL out) or CTX_ENOMEM; *out is NULL on failure. */
int ctx_batch_new(ctx_batch_format_t fmt, const ctx_batch_limits_t *limits, ctx_batch_t **out);

/* Frees the batch; NULL is a no-op. */
void ctx_batch_free(ctx_batch_t *b);

/* Appends one message (msg borrowed, copied). Returns
 *   0            appended;
 *   CTX_EFULL    not appended: the batch is non-empty and the message would pass
 *                max_messages or max_bytes. Flush (encode + send) the batch,
 *                ctx_batch_reset() it, and append again. A message larger than
 *                max_bytes on its own is accepted into an EMPTY batch (a batch of
 *                one, so that it is not stuck forever); ctx_batch_is_full() is then 1;
 *   CTX_EINVAL   empty message (after removing a trailing "\n"), or, for NDJSON,
 *                a message that contains "\n";
 *   CTX_ENOMEM   out of memory (the batch is unchanged). */
int ctx_batch_append(ctx_batch_t *b, const char *msg, size_t len);

/* 1 if the batch has reached max_messages or max_bytes (send it now), else 0. */
int ctx_batch_is_full(const ctx_batch_t *b);

/* 1 if the batch is non-empty and either full or its first message was appended
 * max_delay_ms or more before now_ms (a ctx_batch_now_ms() value), else 0. */
int ctx_batch_due(const ctx_batch_t *b, uint64_t now_ms);

/* Number of messages in the batch. */
size_t ctx_batch_count(const ctx_batch_t *b);

/* The complete body (valid in its format even when empty) and its length; the
 * pointer is borrowed and valid until the next append / reset / free. */
const char *ctx_batch_body(const ctx_batch_t *b, size_t *len);

/* CLOCK_MONOTONIC time in ms of the first append since the last reset; 0 if empty. */
uint64_t ctx_batch_opened_ms(const ctx_batch_t *b);

/* Empties the batch, keeping its memory and limits. */
void ctx_batch_reset(ctx_batch_t *b);

/* The batch's format. */
ctx_batch_format_t ctx_batch_format(const ctx_batch_t *b);

/* CLOCK_MONOTONIC now in milliseconds (the clock of ctx_batch_opened_ms/_due). */
uint64_t ctx_batch_now_ms(void);

/* ---------------------------------------------------------------- record formats (batch_rec.c) */

/* The batch format of an https body format, and back (ndjson / json-array map to
 * CTX_BATCH_NDJSON / _JSON_ARRAY; CTX_BATCH_OCTET_COUNTED has no body format: ndjson). */
ctx_batch_format_t ctx_batch_format_of(ctx_fmt_t f);
ctx_fmt_t ctx_batch_fmt(ctx_batch_format_t bf);

/* 1 for the record formats (CTX_BATCH_OTLP .. CTX_BATCH_SPLUNK_HEC). */
int ctx_batch_is_records(ctx_batch_format_t bf);

/* Sets the format's options (copied) used by ctx_batch_seal; any batch. */
void ctx_batch_set_opts(ctx_batch_t *b, const ctx_fmt_opts_t *opts);

/* Appends one record of a record format (its strings are copied; a context text equal
 * to one already in the batch is stored once and shared). Returns 0, CTX_EFULL (as
 * ctx_batch_append: the limits count each record's strings plus a fixed overhead, and
 * each distinct context once), CTX_EINVAL (not a record format, or an empty message
 * and no context), CTX_ENOMEM. */
int ctx_batch_append_rec(ctx_batch_t *b, const ctx_fmt_rec_t *r);

/* The complete body of a non-empty batch, for sealing: for a record format it is
 * encoded now (ctx_fmt_encode) into the batch's buffer, with the encoder's working memory
 * from enc (NULL: allocated for this call); otherwise as ctx_batch_body.
 * Returns 0 (*body borrowed until the next append / reset / free), CTX_ENOMEM or
 * CTX_EINVAL (empty batch, encoder error). */
int ctx_batch_seal(ctx_batch_t *b, ctx_batch_encoder_t *enc, const char **body, size_t *len);

/* Bytes the batch holds: the body for the message formats, the estimate of the limits
 * for the record formats (what ctx_dest counts against a blocked tenant's hold). */
size_t ctx_batch_size(const ctx_batch_t *b);

/* ---------------------------------------------------------------- encoder */

/* Creates an encoder (its zstd context and deflate stream are made on first use).
 * Returns 0, CTX_EINVAL or CTX_ENOMEM; *out NULL on failure. */
int ctx_batch_encoder_new(ctx_batch_encoder_t **out);

/* Frees the encoder; NULL is a no-op. */
void ctx_batch_encoder_free(ctx_batch_encoder_t *e);

/* Encodes in[0..inlen) (borrowed). level: zstd 1..19 (0 = 3, the default; negative
 * "fast" levels down to -5 are accepted), gzip 1..9 (0 = 6), ignored for none.
 * On success returns 0 and sets *out / *outlen to the encoder's own buffer:
 * borrowed, valid until the next encode on this encoder or its free (for
 * CTX_ENC_NONE, *out is `in` itself). Returns CTX_EINVAL (bad encoding / level),
 * CTX_ENOMEM, or CTX_EIO (the library failed; should not happen). Adds inlen and
 * *outlen to the encoder's counters. */
int ctx_batch_encode(ctx_batch_encoder_t *e, ctx_encoding_t enc, int level, const void *in, size_t inlen,
                     const void **out, size_t *outlen);

/* Cumulative counters of this encoder: bytes before / after encoding, calls. Any
 * pointer may be NULL. */
void ctx_batch_encoder_stats(const ctx_batch_encoder_t *e, uint64_t *bytes_in, uint64_t *bytes_out,
                             uint64_t *batches);

/* Decodes one encoded body (one zstd frame / one gzip member / identity) into a
 * new malloc'd buffer that the caller frees with free(); a NUL is written after
 * the data (not counted in *outlen). Returns 0, CTX_EPARSE (corrupt, truncated, or
 * trailing bytes after the frame), CTX_EFULL (decoded size would pass max_out),
 * CTX_EINVAL, CTX_ENOMEM. *out is NULL on failure. Thread-safe. */
int ctx_batch_decode(ctx_encoding_t enc, const void *in, size_t inlen, size_t max_out, unsigned char **out,
                     size_t *outlen);

/* "none", "zstd", "gzip" (the names of the tenants file), or "?" */
const char *ctx_encoding_name(ctx_encoding_t enc);

#endif
