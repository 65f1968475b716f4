/* redact_multi.h: secrets spread over several messages of one sender. A PEM private key logged one
 * line per message, or a configured begin / end pair: from the message that opens it to the one that
 * closes it, every line of that sender is redacted, not only the first (the single-message rules
 * see only one line at a time). docs/redaction.md "Secrets over several messages".
 *
 * The state is one entry per open secret, keyed by the caller's sender key (omtenant: tenant,
 * VM and app-name, so that no sender, and no tenant, closes or sees another's). Bounded:
 *  - at most max_senders entries; a new secret with the table full evicts the entry whose last
 *    line is oldest (counted: evicted);
 *  - an entry without a line for timeout_ms is forgotten (counted: timeouts, when next looked at);
 *  - an entry is closed after max_lines lines without an end (counted: overlong).
 * Memory: max_senders * (CTX_MULTI_KEY_MAX + 32) bytes, allocated at creation.
 *
 * Concurrency: thread-safe (one mutex; a message is looked up under it only while some secret is
 * open or when the message holds a begin marker; the check for that takes no lock).
 */
#ifndef CTXLOG_REDACT_MULTI_H
#define CTXLOG_REDACT_MULTI_H

#include <stddef.h>
#include <stdint.h>

#define CTX_MULTI_KEY_MAX 256 /* longer sender keys are cut (the tenant comes first: never merged across tenants) */
#define CTX_MULTI_MARKER_MAX 64

typedef struct ctx_redact_multi ctx_redact_multi;

typedef struct {
    unsigned max_senders; /* open secrets at once, 1..65536 (0: 256) */
    unsigned timeout_ms;  /* idle time after which an open secret is forgotten (0: 30000) */
    unsigned max_lines;   /* lines of one secret at most (0: 1000) */
    const char *begin;    /* a configured pair: its begin and end literals (both or neither; 3..64 bytes) */
    const char *end;
    const char *name;     /* the pair's label in "[REDACTED:NAME]" (NULL: "multiline-secret") */
} ctx_redact_multi_conf;

/* which kinds a call tracks (a tenant whose pem-private-key rule is off tracks no PEM) */
#define CTX_MULTI_PEM 1u
#define CTX_MULTI_PAIR 2u

typedef struct {
    uint64_t opened;   /* secrets opened (a begin without its end in the same message) */
    uint64_t closed;   /* closed by their end marker */
    uint64_t lines;    /* messages redacted whole or in part because a secret was open */
    uint64_t evicted;  /* open secrets dropped for a new one (table full) */
    uint64_t timeouts; /* forgotten after timeout_ms without a line */
    uint64_t overlong; /* closed after max_lines lines without an end */
    uint64_t open;     /* open now (gauge) */
} ctx_redact_multi_stats_t;

/* 0, or CTX_EINVAL with err saying which setting is wrong, or CTX_ENOMEM */
int ctx_redact_multi_new(ctx_redact_multi **out, const ctx_redact_multi_conf *conf, char *err, size_t errlen);
void ctx_redact_multi_free(ctx_redact_multi *m);

/* 1 if msg may concern the tracker (a secret is open somewhere, or msg holds a begin marker of
 * `kinds`): only then need the caller build the sender key and call ctx_redact_multi_step. No lock. */
int ctx_redact_multi_wanted(const ctx_redact_multi *m, unsigned kinds, const char *msg, size_t len);

/* One message of the sender key[0..keylen) at now_ms (a monotonic clock). Returns 1 when
 * msg[*s..*e) lies inside a multi-line secret (replace it with "[REDACTED:*label]"; the rest of
 * the message goes through the single-message rules), 0 when no part does. A message that opens a
 * secret gives [begin marker, len); one inside it [0, len); the one that closes it [0, end of the
 * end marker), or [0, len) when a new secret opens after that end. */
int ctx_redact_multi_step(ctx_redact_multi *m, unsigned kinds, const char *key, size_t keylen, const char *msg,
                          size_t len, uint64_t now_ms, size_t *s, size_t *e, const char **label);

void ctx_redact_multi_stats(ctx_redact_multi *m, ctx_redact_multi_stats_t *st);

#endif
