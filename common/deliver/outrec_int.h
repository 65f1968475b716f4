/* outrec_int.h: what outrec.c, outrec_json.c and outrec_memo.c share (internal to the record builder). */
#ifndef CTXLOG_OUTREC_INT_H
#define CTXLOG_OUTREC_INT_H

#include <stddef.h>
#include <stdint.h>

#include "outrec.h"
#include "redact.h"
#include "redact_multi.h"
#include "fmt.h"

struct fjson_object;
struct outrec_memo;

struct ctx_outrec {
    char *buf; /* the record being built */
    size_t len, cap;
    struct fjson_tokener *tok;
    char *scratch; /* outrec_json_clean's */
    size_t scratch_cap;
    char *hdr; /* the redacted header fields of the record being built */
    size_t hdr_len, hdr_cap;
    struct outrec_memo *memo; /* the $!ctx member memo (outrec_memo.c); NULL: off */
    char *view;               /* the $!ctx of the record being built, host-wide members left out (outrec_view.c) */
    size_t view_len, view_cap;
    int hostwide;             /* the tenant may see host-wide $!ctx fields (ctx_outrec_set_hostwide) */
    unsigned withheld;        /* host-wide members left out of the last record */
    ctx_redact_multi *multi;  /* secrets over several messages (ctx_outrec_set_multi); NULL: off */
    unsigned multi_kinds;
    const char *multi_tenant; /* borrowed: the first part of the sender key */
    uint64_t multi_now;
    unsigned multi_spans;     /* message parts the tracker redacted in the last record */
    char *mtext;              /* the message text of the last record when the tracker redacted part of it */
    size_t mtext_len, mtext_cap;
    ctx_fmt_tscache_t ts_cache[2]; /* the record formats' TIMESTAMP and reception time (fmt.h) */
};

/* outrec_ctx_members's "take the whole-document path" (nothing was written, nothing counted) */
#define OUTREC_WHOLE (-1000)

/* grows *buf (malloc'd, *cap bytes, *used in use) so that `more` bytes fit; 0 or CTX_ENOMEM */
int outrec_reserve(char **buf, size_t *used, size_t *cap, size_t more);

/* appends s[0..n) to the record; 0 or CTX_ENOMEM */
int outrec_put(ctx_outrec_t *b, const char *s, size_t n);

/* appends JSON text with invalid UTF-8 replaced by U+FFFD; 0 or CTX_ENOMEM */
int outrec_put_utf8_fixed(ctx_outrec_t *b, const char *s, size_t n);

/* parses text[0..n) as one complete JSON value (new reference); NULL if it is not one */
struct fjson_object *outrec_parse_json(ctx_outrec_t *b, const char *text, size_t n);

/* 1 if redacting the JSON document text[0..n) value by value (ctx_redact_json) certainly
 * changes nothing, so it may be copied as it is; 0 if it must take the tree path. rx / set
 * as for ctx_redact_apply (NULL: no redaction, 1). *scratch / *scratch_cap: the caller's
 * reusable buffer (malloc'd, grown as needed). */
int outrec_json_clean(ctx_redact_ctx *rx, const ctx_redact_set *set, const char *text, size_t n, char **scratch,
                      size_t *scratch_cap);

/* Appends the $!ctx object t[0..n) (trimmed, t[0] == '{', as rendered: before the tenant's
 * view) redacted member by member, through the memo (outrec_memo.c); the view (outrec_view_ctx,
 * unless b->hostwide) is applied on a miss, and a hit sets b->withheld as the view did.
 * Returns the values changed, CTX_E*, or OUTREC_WHOLE when the document must take the
 * whole-document path (then b->len and rx's counters are as before; the caller applies the
 * view itself). */
int outrec_ctx_members(ctx_outrec_t *b, const char *t, size_t n, ctx_redact_ctx *rx, const ctx_redact_set *set);

void outrec_memo_free(ctx_outrec_t *b);

/* The redacted message text of f when part of it lies inside a secret that spans several messages
 * of its sender (outrec_multi.c; who: the sender key's parts; cut: check the tail too). Returns the values changed (*out in b->mtext), CTX_E*, or OUTREC_WHOLE when the
 * tracker has nothing to say (then nothing was written or counted). */
int outrec_msg_multi(ctx_outrec_t *b, ctx_redact_ctx *rx, const ctx_redact_set *set, const char *msg, size_t n,
                     const ctx_outrec_sender_t *who, int cut, const char **out, size_t *outn);

/* the "uuid" string of $!ctx's "vm" member in ctx[0..n): 1 and *u / *un, or 0 */
int outrec_vm_uuid(const char *ctx, size_t n, const char **u, size_t *un);

/* JSON text scanning (outrec_memo.c), no parse, no allocation. p at an opening quote: returns
 * the position after the closing one, or NULL; sets *esc when a backslash precedes a quote. */
const char *outrec_skip_string(const char *p, const char *end, int *esc);
/* the end of the value at p (a string, an object or array, or a scalar), or NULL */
const char *outrec_skip_value(const char *p, const char *end);

/* The tenant's view of the $!ctx object t[0..n) (trimmed, t[0] == '{') when it may not see
 * host-wide fields (outrec_view.c): *out / *outn is t itself when it holds none, else the
 * text without them (in b->view, valid until the next call). Returns how many members were
 * left out (also in b->withheld), or CTX_ENOMEM. */
int outrec_view_ctx(ctx_outrec_t *b, const char *t, size_t n, const char **out, size_t *outn);

#endif
