/* outrec.h: the outgoing record of one message, built and redacted by omtenant
 * before it leaves the module.
 *
 * The default record is one JSON object (docs/omtenant.md lists its members):
 *   {"time":..,"host":..,"facility":..,"severity":..,"app":..,"procid":..,"msgid":..,
 *    "sd":..,"msg":..,"ctx":{...}}
 * built from raw (unescaped) message fields, so redaction sees the real values:
 * the message text is redacted as text, the structured data with the RFC 5424
 * STRUCTURED-DATA rules, and the $!ctx tree value by value (ctx_redact_json), without
 * the host-wide members unless the tenant may see them (ctx_outrec_set_hostwide). For
 * syslog-tls the default frame is an RFC 5424 message whose header carries the
 * original PRI, timestamp, host name, app name, proc id and msg id, whose
 * STRUCTURED-DATA is the redacted SD, and whose MSG is that JSON object.
 *
 * A record made by an operator's own template (ctx_outrec_custom) is redacted as a
 * JSON document, value by value, when it is one (it starts with '{' or '[' and
 * parses), else as text.
 *
 * The fields arrive as the strings of omtenant's internal templates:
 *   hdr: PRI 0x1f TIMESTAMP 0x1f HOSTNAME 0x1f APP-NAME 0x1f PROCID 0x1f MSGID [0x1f RECEIVED]
 *        (RECEIVED: when the host received it, RFC 3339; read by the record formats only)
 *   msg, sd, ctx: raw %msg%, %structured-data% and %$!ctx% (JSON text or "").
 *
 * Thread-safety: a ctx_outrec_t (its buffers and JSON parser) belongs to one thread.
 */
#ifndef CTXLOG_OUTREC_H
#define CTXLOG_OUTREC_H

#include <stddef.h>
#include <stdint.h>

#include "redact.h"
#include "redact_multi.h"

#define CTX_OUTREC_SEP '\x1f' /* separator of the header fields */

typedef struct {
    const char *hdr;
    size_t hdrlen;
    const char *msg;
    size_t msglen;
    const char *sd;
    size_t sdlen;
    const char *ctx;
    size_t ctxlen;
} ctx_outrec_fields_t;

typedef enum {
    CTX_OUTREC_JSON = 0,  /* the JSON object */
    CTX_OUTREC_SYSLOG = 1 /* RFC 5424 header + SD + the JSON object as MSG */
} ctx_outrec_kind_t;

typedef struct ctx_outrec ctx_outrec_t;

/* Returns 0 and *out, or CTX_ENOMEM. */
int ctx_outrec_new(ctx_outrec_t **out);

/* NULL is a no-op. */
void ctx_outrec_free(ctx_outrec_t *b);

/* The $!ctx memo (outrec_memo.c): the default record's $!ctx is redacted member by member
 * ("vm", "host", "cm", "capture"...), and a member whose text, tenant view (set) and rules were
 * seen before is not scanned again: its redacted text, values changed and per-rule match
 * counts are replayed (the counts are added to rx's counters, so they count per record).
 * Whole documents are looked up first (the same table): a $!ctx without per-message members
 * repeats whole. The output is byte-identical to the memo-less path. slots: entries (rounded up to a power
 * of two; 0 turns it off, the default); nrules: ctx_redact_rules_count() of the rules rx and
 * set come from. Empties the memo: call it again whenever the rules change. 0 or CTX_ENOMEM
 * (the memo is then off). Operator templates (ctx_outrec_custom) do not use it. */
int ctx_outrec_memo_set(ctx_outrec_t *b, unsigned slots, int nrules);

typedef struct {
    uint64_t doc_hits, doc_misses; /* whole $!ctx documents found / not found */
    uint64_t hits, misses;         /* members found / not found */
    uint64_t inserts, evictions;
    uint64_t whole; /* documents that took the whole-document path */
} ctx_outrec_memo_stats_t;

/* The counts since ctx_outrec_new (they survive ctx_outrec_memo_set); zeros when off. */
void ctx_outrec_memo_stats(const ctx_outrec_t *b, ctx_outrec_memo_stats_t *st);

/* Builds the default record of one message. rx and set may be NULL (no redaction:
 * tests only). On success returns the number of values redaction changed (>= 0)
 * and sets *out / *outlen to the record (borrowed: valid until the next call on b;
 * no trailing newline). Returns CTX_ENOMEM, or CTX_EINVAL when redaction failed
 * (the record must not be sent). A $!ctx that is not a JSON object is carried as
 * a string. */
int ctx_outrec_build(ctx_outrec_t *b, ctx_outrec_kind_t kind, ctx_redact_ctx *rx, const ctx_redact_set *set,
                     const ctx_outrec_fields_t *f, const char **out, size_t *outlen);

/* The tenant's view of $!ctx for the next records of b: hostwide 1 when the tenant may see
 * host-wide fields ("context": {"host": "full"}); 0, the default of a new builder, leaves them
 * out of the default record (outrec_view.c; docs/threat-model.md lists them). */
void ctx_outrec_set_hostwide(ctx_outrec_t *b, int hostwide);

/* Secrets over several messages (common/redact/redact_multi.h) for the next records of b: the
 * tracker m (shared by the threads of one omtenant action; NULL or kinds 0: off), the kinds the
 * tenant tracks (CTX_MULTI_PEM when its pem-private-key rule is on, CTX_MULTI_PAIR when a pair is
 * configured), the tenant's id (borrowed until the next call: the first part of every sender key,
 * so that no tenant's message opens or closes another's) and the time (monotonic ms). */
void ctx_outrec_set_multi(ctx_outrec_t *b, ctx_redact_multi *m, unsigned kinds, const char *tenant, uint64_t now_ms);

/* Message parts of the last record the tracker (or, for a template, the cut check) redacted (0 or 1). */
unsigned ctx_outrec_multi_spans(const ctx_outrec_t *b);

/* The host-wide $!ctx members the last ctx_outrec_build left out. */
unsigned ctx_outrec_withheld(const ctx_outrec_t *b);

/* The record of one message for a record format (fmt.h: otlp, elasticsearch, loki,
 * splunk-hec), redacted exactly as ctx_outrec_build redacts the default record: header
 * fields, message, structured data, and the $!ctx through the memo. r's strings are
 * borrowed from b and from f: valid until the next call on b. The times are parsed
 * from the header's TIMESTAMP and RECEIVED (0 when absent or not RFC 3339). Returns
 * the values redaction changed (>= 0), CTX_ENOMEM, or CTX_EINVAL (redaction failed:
 * the record must not be sent). */
struct ctx_fmt_rec;
int ctx_outrec_fmtrec(ctx_outrec_t *b, ctx_redact_ctx *rx, const ctx_redact_set *set, const ctx_outrec_fields_t *f,
                      struct ctx_fmt_rec *r);

/* Redacts the output of an operator's template (in[0..len), borrowed; one trailing
 * "\n" is dropped). Return values as for ctx_outrec_build. */
typedef struct { /* who sent a message: its sender key is the tenant, vm (or, when empty, host) and app */
    const char *vm, *host, *app;
    size_t vmlen, hostlen, applen;
} ctx_outrec_sender_t;

typedef struct { /* an operator template's message, for the checks beyond single texts */
    const char *msg;
    size_t msglen;
    ctx_outrec_sender_t who;
    int cut; /* $!ctx!capture!truncated is true */
} ctx_outrec_tplmsg_t;

/* ctx_outrec_custom, then (tm not NULL) the message's checks beyond single texts: a cut message's
 * tail, a message inside a secret that spans messages of its sender (ctx_outrec_set_multi). The
 * message inside the output (as it is, JSON-escaped, or with "\/") is replaced by the message
 * redacted with them; when it needs them and cannot be found there, CTX_EINVAL (withhold the
 * record). Return values as for ctx_outrec_build (one more when the message was replaced). */
int ctx_outrec_custom_msg(ctx_outrec_t *b, ctx_redact_ctx *rx, const ctx_redact_set *set, const char *in, size_t len,
                          const ctx_outrec_tplmsg_t *tm, const char **out, size_t *outlen);

int ctx_outrec_custom(ctx_outrec_t *b, ctx_redact_ctx *rx, const ctx_redact_set *set, const char *in, size_t len,
                      const char **out, size_t *outlen);

/* Appends s[0..len) as the body of a JSON string (no quotes) to the growable buffer
 * *buf (malloc'd, *cap bytes, *used in use): '"', '\\' and control characters are
 * escaped, invalid UTF-8 becomes U+FFFD. Returns 0 or CTX_ENOMEM. */
int ctx_json_escape_append(char **buf, size_t *used, size_t *cap, const char *s, size_t len);

/* "kern", "user", ... for a facility 0..23 ("local7" for 23); "?" otherwise */
const char *ctx_facility_name(int fac);

/* "emerg", "alert", ... "debug" for a severity 0..7; "?" otherwise */
const char *ctx_severity_name(int sev);

#endif
