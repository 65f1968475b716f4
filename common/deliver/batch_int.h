/* batch_int.h: the batch as batch.c (message formats, codec) and batch_rec.c (record
 * formats) share it. Internal: use batch.h. */
#ifndef CTXLOG_BATCH_INT_H
#define CTXLOG_BATCH_INT_H

#include "batch.h"
#include "fmt.h"

/* one record of a record format: its strings are offsets into strs */
typedef struct {
    uint64_t time_ns, observed_ns;
    int16_t facility, severity;
    uint32_t ctx;        /* index into ctxs, or UINT32_MAX: none */
    size_t off[6], len[6]; /* host, app, procid, msgid, sd, msg */
} batch_rec_t;

typedef struct {
    size_t off, len; /* the text in strs */
    uint64_t hash;
} batch_ctx_t;

struct ctx_batch {
    ctx_batch_format_t fmt;    /* read-only */
    ctx_batch_limits_t limits; /* read-only */
    char *buf;                 /* message formats: the body, always complete, NUL-terminated;
                                  record formats: the body built by ctx_batch_seal */
    size_t len;                /* body bytes */
    size_t cap;                /* allocated bytes of buf */
    size_t count;              /* messages */
    uint64_t opened_ms;        /* monotonic ms of the first append, 0 if empty */
    /* record formats (batch_rec.c) */
    ctx_fmt_opts_t opts;
    batch_rec_t *recs;         /* count records */
    size_t recs_cap;
    char *strs;                /* their strings and the distinct contexts */
    size_t strs_len, strs_cap;
    batch_ctx_t *ctxs;
    size_t nctx, ctxs_cap;
    ctx_fmt_rec_t *view;       /* the records as the encoder takes them (seal), kept for the next */
    size_t view_cap;
    size_t est;                /* the size the limits count */
};

void batch_rec_reset(ctx_batch_t *b);
void batch_rec_free(ctx_batch_t *b);
/* the encoder's working memory for ctx_fmt_encode (batch.c); NULL when e is NULL */
ctx_fmt_scratch_t **batch_encoder_scratch(ctx_batch_encoder_t *e);

#endif
