/* fmt.h: the body formats of an https destination (tenants.json "format"), and the
 * record every format reads.
 *
 * Formats that are a list of independent JSON documents (ndjson, json-array) are built
 * as today: each record is rendered when it is added (outrec.h) and ctx_batch_t frames it.
 * Formats that group or wrap records (otlp: one ResourceLogs per VM; loki: one stream per
 * label set, sorted; elasticsearch: an action line before each document; splunk-hec: an
 * event envelope) keep each message as a ctx_fmt_rec_t (redacted fields, no rendering) and
 * build the body once, when the batch is sealed, with ctx_fmt_encode().
 *
 * Context is shared, not copied: rec.ctx is the redacted $!ctx JSON text of the record.
 * Records of one VM carry byte-identical ctx text (outrec's memo makes it so), so an
 * encoder that groups by context compares ctx texts (length, hash, bytes) and renders a
 * group's context once per batch, not once per record.
 *
 * Thread-safety: the functions keep no state; a ctx_fmt_buf_t belongs to its caller.
 */
#ifndef CTXLOG_FMT_H
#define CTXLOG_FMT_H

#include <stddef.h>
#include <stdint.h>

typedef enum {
    CTX_FMT_NDJSON = 0,
    CTX_FMT_JSON_ARRAY = 1,
    CTX_FMT_OTLP = 2,      /* OTLP/HTTP logs, protobuf (application/x-protobuf) */
    CTX_FMT_OTLP_JSON = 3, /* OTLP/HTTP logs, JSON (application/json) */
    CTX_FMT_ELASTICSEARCH = 4,
    CTX_FMT_LOKI = 5,
    CTX_FMT_SPLUNK_HEC = 6
} ctx_fmt_t;

/* A borrowed byte string (not NUL-terminated). p may be NULL when n is 0. */
typedef struct {
    const char *p;
    size_t n;
} ctx_fmt_str_t;

/* One message, redacted, as the format encoders read it. Strings are the raw values
 * (no JSON escaping); an absent header field ("-" in RFC 5424) has n == 0. */
typedef struct {
    uint64_t time_unix_nano;     /* the message's own timestamp; 0 if it had none */
    uint64_t observed_unix_nano; /* when the host received (captured) it */
    int facility;                /* 0..23; -1 unknown */
    int severity;                /* 0..7 (syslog); -1 unknown */
    ctx_fmt_str_t host, app, procid, msgid;
    ctx_fmt_str_t sd;  /* RFC 5424 STRUCTURED-DATA text, redacted; n == 0 if none */
    ctx_fmt_str_t msg; /* the message text, redacted */
    ctx_fmt_str_t ctx; /* the redacted $!ctx as JSON object text; n == 0 if none */
} ctx_fmt_rec_t;

/* A growable output buffer: ctx_fmt_buf_append* grow it; free(buf) releases it. */
typedef struct {
    unsigned char *buf;
    size_t len, cap;
} ctx_fmt_buf_t;

/* Appends n bytes; 0 or CTX_ENOMEM (the buffer is unchanged). */
int ctx_fmt_buf_append(ctx_fmt_buf_t *b, const void *p, size_t n);

/* ---------------------------------------------------------------- otlp (fmt_otlp.c) */

/* Encodes n records (n >= 1) as one ExportLogsServiceRequest into out (appended):
 * protobuf when json == 0, the OTLP/JSON mapping when json == 1. One ResourceLogs per
 * distinct rec.ctx text (in order of first appearance), its attributes from that
 * context; one ScopeLogs (scope "ctxlog"); one LogRecord per record, in input order
 * within its group. docs/omtenant.md#otlp lists every attribute. Returns 0,
 * CTX_ENOMEM, or CTX_EINVAL (n == 0, NULL arguments). */
int ctx_fmt_otlp_encode(const ctx_fmt_rec_t *recs, size_t n, int json, ctx_fmt_buf_t *out);

/* Reads an OTLP/HTTP export reply body (protobuf when json == 0, else JSON) of a 2xx
 * response: *rejected is partial_success.rejected_log_records (0 when absent or the body
 * is empty), msg its error_message (NUL-terminated, truncated; "" when absent). Returns 0,
 * or CTX_EPARSE for a body that is not a valid ExportLogsServiceResponse. */
int ctx_fmt_otlp_reply(const void *body, size_t len, int json, uint64_t *rejected, char *msg, size_t msglen);

#endif
