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
typedef struct ctx_fmt_rec {
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

/* Grows the buffer so that n more bytes fit after len; 0 or CTX_ENOMEM. */
int ctx_fmt_buf_reserve(ctx_fmt_buf_t *b, size_t n);

/* ---------------------------------------------------------------- otlp (fmt_otlp.c) */

/* Encodes n records (n >= 1) as one ExportLogsServiceRequest into out (appended):
 * protobuf when json == 0, the OTLP/JSON mapping when json == 1. One ResourceLogs per
 * distinct rec.ctx text (in order of first appearance), its attributes from that
 * context; one ScopeLogs (scope "ctxlog"); one LogRecord per record, in input order
 * within its group. docs/omtenant.md#otlp lists every attribute. Returns 0,
 * CTX_ENOMEM, or CTX_EINVAL (n == 0, NULL arguments). */
int ctx_fmt_otlp_encode(const ctx_fmt_rec_t *recs, size_t n, int json, ctx_fmt_buf_t *out);

/* Working memory of the grouping encoders (today otlp's tables and attribute buffers),
 * kept between batches by whoever seals them, one per sealing thread: once it has grown
 * to the largest batch, a batch costs no allocation (a malloc and free of tens of kB per
 * batch made glibc consolidate its fast bins every time). Start from a NULL pointer;
 * the encoder makes it on first use. Not thread-safe: one thread at a time. */
typedef struct ctx_fmt_scratch ctx_fmt_scratch_t;
void ctx_fmt_scratch_free(ctx_fmt_scratch_t *s);

/* ctx_fmt_otlp_encode with the working memory in *scratch (made when NULL; scratch
 * itself NULL: allocated and freed in the call, as ctx_fmt_otlp_encode does). */
int ctx_fmt_otlp_encode_s(const ctx_fmt_rec_t *recs, size_t n, int json, ctx_fmt_buf_t *out,
                          ctx_fmt_scratch_t **scratch);

/* Reads an OTLP/HTTP export reply body (protobuf when json == 0, else JSON) of a 2xx
 * response: *rejected is partial_success.rejected_log_records (0 when absent or the body
 * is empty), msg its error_message (NUL-terminated, truncated; "" when absent). Returns 0,
 * or CTX_EPARSE for a body that is not a valid ExportLogsServiceResponse. */
int ctx_fmt_otlp_reply(const void *body, size_t len, int json, uint64_t *rejected, char *msg, size_t msglen);

/* ---------------------------------------------------------------- options, dispatch (fmt.c) */

#define CTX_FMT_LABELS_MAX 8       /* loki: labels a tenant may configure */
#define CTX_FMT_LABEL_NAME_MAX 64  /* a Loki label name, NUL included */
#define CTX_FMT_PATH_MAX 96        /* a context key such as "vm.name", NUL included */
#define CTX_FMT_FIELD_MAX 256      /* splunk-hec source / sourcetype / index, NUL included */

/* What a tenant's format needs besides the records (tenants.json, docs/tenants.md). A plain
 * value: copied by assignment, no pointers. Members of another format are all zero. */
typedef struct {
    /* loki: stream labels; label i has name label_name[i] and takes its value from the
     * record field or context key label_key[i] ("host", "app", "severity", "facility",
     * or "vm.name", "cm.guest_os", ... under $!ctx) */
    unsigned nlabels;
    char label_name[CTX_FMT_LABELS_MAX][CTX_FMT_LABEL_NAME_MAX];
    char label_key[CTX_FMT_LABELS_MAX][CTX_FMT_PATH_MAX];
    /* splunk-hec: the event envelope's source, sourcetype and index ("" = not sent:
     * the token's defaults apply) */
    char source[CTX_FMT_FIELD_MAX], sourcetype[CTX_FMT_FIELD_MAX], index[CTX_FMT_FIELD_MAX];
} ctx_fmt_opts_t;

/* "ndjson", "json-array", "otlp", "otlp-json", "elasticsearch", "loki", "splunk-hec"; "?" */
const char *ctx_fmt_name(ctx_fmt_t f);

/* The Content-Type of a body of format f. */
const char *ctx_fmt_content_type(ctx_fmt_t f);

/* 1 for the formats built from ctx_fmt_rec_t records at seal time (otlp, otlp-json,
 * elasticsearch, loki, splunk-hec), 0 for ndjson and json-array. */
int ctx_fmt_grouping(ctx_fmt_t f);

/* Encodes n records (n >= 1) of a grouping format into out (appended). opts may be NULL
 * for otlp / elasticsearch; scratch may be NULL (see ctx_fmt_scratch_t). Returns 0,
 * CTX_ENOMEM or CTX_EINVAL. */
int ctx_fmt_encode(ctx_fmt_t f, const ctx_fmt_opts_t *opts, const ctx_fmt_rec_t *recs, size_t n,
                   ctx_fmt_buf_t *out, ctx_fmt_scratch_t **scratch);

/* Appends s[0..n) as a JSON string with its quotes ('"', '\\', controls escaped; invalid
 * UTF-8 becomes U+FFFD). 0 or CTX_ENOMEM. */
int ctx_fmt_json_str(ctx_fmt_buf_t *b, const char *s, size_t n);

/* Appends ns (Unix time in ns) as RFC 3339 UTC with nanoseconds, quoted:
 * "2026-12-02T07:00:51.123456789Z". 0 or CTX_ENOMEM. */
int ctx_fmt_json_time(ctx_fmt_buf_t *b, uint64_t ns);

/* Parses an RFC 3339 timestamp ("2026-12-02T07:00:51.123456+01:00", 'Z' or an offset,
 * up to 9 fraction digits) into Unix ns. Returns 0, or CTX_EPARSE (then *ns is 0). */
int ctx_fmt_parse_rfc3339(const char *s, size_t n, uint64_t *ns);

/* The last timestamp's date and time to the minute and its zone, as parsed: the timestamps
 * of a burst of records share them, so parsing the next one reads only its seconds and
 * fraction. Zeroed: empty. Belongs to its caller (one per thread). */
typedef struct {
    char head[16]; /* "2026-12-02T07:00" */
    char zone[6];  /* "Z" or "+01:00" */
    unsigned char zn;
    int valid;
    int64_t minute; /* Unix seconds of head in UTC */
} ctx_fmt_tscache_t;

/* ctx_fmt_parse_rfc3339 with a cache (NULL: none): the same result for every text. */
int ctx_fmt_parse_rfc3339_c(ctx_fmt_tscache_t *c, const char *s, size_t n, uint64_t *ns);

/* The value of the context key path ("vm.name": members separated by '.') in the JSON
 * object text ctx[0..n): *val / *vlen the value's text (a string without its quotes and
 * still escaped as written; other values as written). Returns 1 if found, 0 if not. */
int ctx_fmt_ctx_get(const char *ctx, size_t n, const char *path, const char **val, size_t *vlen, int *is_str);

/* Appends each scalar of the JSON object text ctx[0..n) as ,"k":"v" (k the dotted path with
 * '.' -> '_', e.g. "vm_name"; v the value's text as written, strings without quotes;
 * null, arrays and members deeper than 6 levels left out), except keys that skip (may be
 * NULL) uses as labels. 0 or CTX_ENOMEM. */
int ctx_fmt_ctx_flat(ctx_fmt_buf_t *b, const char *ctx, size_t n, const ctx_fmt_opts_t *skip);

/* 1 if key is one of o's label keys (o may be NULL). */
int ctx_fmt_is_label(const ctx_fmt_opts_t *o, const char *key);

/* ---------------------------------------------------------------- elasticsearch (fmt_es.c) */

/* The bulk API body: for each record a '{"create":{}}' action line, then the document
 * {"@timestamp":..,"event":{"created":..},"host":{"name":..},"log":{"syslog":{..}},
 *  "message":..,"ctx":{...}} (docs/omtenant.md#elasticsearch), each line ending in "\n". */
int ctx_fmt_es_encode(const ctx_fmt_rec_t *recs, size_t n, ctx_fmt_buf_t *out);

/* What the reply says of one bulk item. */
typedef struct {
    int status;       /* the item's HTTP status (201 created; 0 if the reply has none) */
    char reason[160]; /* failed items: "<error.type>: <error.reason>", truncated; else "" */
} ctx_fmt_item_t;

/* Reads a bulk reply body (a 2xx response) for a request of nitems items into items[0..nitems).
 * Returns the number of failed items (0: every item succeeded, also when the reply says
 * "errors":false and lists no items), or CTX_EPARSE with err saying why (not JSON, no
 * "items", a count other than nitems, an item without a status) when the reply cannot be
 * trusted. Never reads past body[len); len may be 0. */
int ctx_fmt_es_reply(const char *body, size_t len, size_t nitems, ctx_fmt_item_t *items, char *err,
                     size_t errlen);

/* Appends to out the items (action line + document) i of the bulk body body[0..len) for
 * which keep[i] is non-zero. Returns the items appended, or CTX_EPARSE when the body does
 * not hold nitems items (two lines each), CTX_ENOMEM. */
int ctx_fmt_es_select(const char *body, size_t len, size_t nitems, const unsigned char *keep, ctx_fmt_buf_t *out);

/* ---------------------------------------------------------------- loki (fmt_loki.c) */

/* The push API body (JSON): {"streams":[{"stream":{labels},"values":[[ns,line,{metadata}],...]},...]}.
 * One stream per distinct label set, in order of first appearance; within a stream
 * entries sorted by time (message time, else observed time), stable. The line is the
 * message; structured metadata carries the other fields and the context's scalar
 * values not used as labels, keys flattened with '_' ("vm_uuid"). */
int ctx_fmt_loki_encode(const ctx_fmt_opts_t *opts, const ctx_fmt_rec_t *recs, size_t n, ctx_fmt_buf_t *out);

/* ---------------------------------------------------------------- splunk-hec (fmt_hec.c) */

/* The /services/collector/event body: one JSON event object per record, back to back:
 * {"time":<s.fraction>,"host":..,"source":..,"sourcetype":..,"index":..,"event":<the message
 * and its syslog fields>,"fields":{indexed context}}. */
int ctx_fmt_hec_encode(const ctx_fmt_opts_t *opts, const ctx_fmt_rec_t *recs, size_t n, ctx_fmt_buf_t *out);

/* Indexer acknowledgement (fmt_hec_ack.c). The "ackId" of an event POST's reply: 1 and *id,
 * 0 when the reply has none (no acknowledgement on this token), CTX_EPARSE (not a JSON
 * object, an ackId that is not a non-negative integer). */
int ctx_fmt_hec_ack_id(const char *reply, size_t len, uint64_t *id);

/* What an /services/collector/ack reply says of id: 1 indexed, 0 not yet, CTX_EPARSE (not
 * the reply's shape, or id missing from it). */
int ctx_fmt_hec_ack_done(const char *reply, size_t len, uint64_t id);

#endif
