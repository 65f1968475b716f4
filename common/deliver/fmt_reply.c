/* fmt_reply.c: what a 2xx reply means for a batch, for the formats whose replies speak
 * per message (fmt_reply.h). Elasticsearch's bulk reply lists each item's status: the
 * items that failed with 429 or 5xx become a new body to retry, those refused otherwise
 * (4xx) one dead-letter record per distinct reason, the rest are delivered.
 *
 * Concurrency: called on a tenant's sender thread with that transport's encoder.
 */
#include "fmt_reply.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctxlog_common.h"

#define MAX_REASONS 16               /* dead-letter records per reply; further reasons share the last */
#define MAX_DECODED ((size_t)1 << 30) /* a batch body decoded for selection */

static int item_retry(int status) {
    return status == 429 || status >= 500;
}

static int item_ok(int status) {
    return status >= 200 && status <= 299;
}

/* the body of the items keep[] marks, encoded as tag says; 0, CTX_E* */
static int subset(const char *raw, size_t rawlen, size_t n, const unsigned char *keep, uint32_t tag,
                  ctx_batch_encoder_t *enc, int level, unsigned char **out, size_t *outlen, uint32_t *outtag) {
    ctx_fmt_buf_t b = {0};
    int kept = ctx_fmt_es_select(raw, rawlen, n, keep, &b);
    const void *e;
    size_t elen;
    int rc = kept < 0 ? kept : ctx_batch_encode(enc, CTX_DEST_TAG_ENC(tag), level, b.buf, b.len, &e, &elen);
    if (rc == 0 && (*out = malloc(elen ? elen : 1)) == NULL) rc = CTX_ENOMEM;
    if (rc == 0) {
        memcpy(*out, e, elen);
        *outlen = elen;
        *outtag = CTX_DEST_TAG(CTX_DEST_TAG_ENC(tag), CTX_DEST_TAG_FMT(tag), (size_t)kept);
    }
    free(b.buf);
    return rc;
}

/* one dead-letter group per distinct status + reason (the last takes the overflow) */
static int reject_groups(const ctx_fmt_item_t *it, size_t n, const char *raw, size_t rawlen, uint32_t tag,
                         ctx_batch_encoder_t *enc, int level, ctx_send_info_t *info) {
    unsigned char *keep = malloc(n);
    size_t *grp = malloc(n * sizeof *grp), ngrp = 0, first[MAX_REASONS];
    info->rejects = calloc(MAX_REASONS, sizeof *info->rejects);
    int rc = keep && grp && info->rejects ? 0 : CTX_ENOMEM;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        if (item_ok(it[i].status) || item_retry(it[i].status)) continue;
        size_t g = 0;
        while (g < ngrp && !(it[first[g]].status == it[i].status && !strcmp(it[first[g]].reason, it[i].reason))) g++;
        if (g == ngrp && ngrp < MAX_REASONS) first[ngrp++] = i;
        grp[i] = g < ngrp ? g : ngrp - 1;
    }
    for (size_t g = 0; rc == 0 && g < ngrp; g++) {
        ctx_send_reject_t *r = &info->rejects[g];
        for (size_t i = 0; i < n; i++) keep[i] = !item_ok(it[i].status) && !item_retry(it[i].status) && grp[i] == g;
        snprintf(r->reason, sizeof r->reason, "elasticsearch item status %d: %s%s", it[first[g]].status,
                 it[first[g]].reason[0] ? it[first[g]].reason : "(no reason given)",
                 g == MAX_REASONS - 1 ? " (and other reasons)" : "");
        rc = subset(raw, rawlen, n, keep, tag, enc, level, &r->body, &r->len, &r->tag);
        info->nrejects = g + 1;
    }
    free(keep);
    free(grp);
    return rc;
}

static int es_partial(const ctx_fmt_item_t *it, size_t n, const void *body, size_t len, uint32_t tag,
                      ctx_batch_encoder_t *enc, int level, ctx_send_info_t *info) {
    unsigned char *raw = NULL, *keep = malloc(n);
    size_t rawlen = 0, nretry = 0;
    int rc = keep ? ctx_batch_decode(CTX_DEST_TAG_ENC(tag), body, len, MAX_DECODED, &raw, &rawlen) : CTX_ENOMEM;
    for (size_t i = 0; rc == 0 && i < n; i++) nretry += keep[i] = (unsigned char)item_retry(it[i].status);
    if (rc == 0 && nretry > 0)
        rc = subset((const char *)raw, rawlen, n, keep, tag, enc, level, &info->retry_body, &info->retry_len,
                    &info->retry_tag);
    if (rc == 0) rc = reject_groups(it, n, (const char *)raw, rawlen, tag, enc, level, info);
    free(raw);
    free(keep);
    return rc;
}

static ctx_send_result_t es_reply(const char *reply, size_t rlen, int truncated, const void *body, size_t len,
                                  uint32_t tag, ctx_batch_encoder_t *enc, int level, ctx_send_info_t *info) {
    size_t n = CTX_DEST_TAG_MSGS(tag);
    char why[160] = "";
    ctx_fmt_item_t *it = calloc(n ? n : 1, sizeof *it);
    if (it == NULL) {
        snprintf(info->err, sizeof info->err, "out of memory reading a bulk reply");
        return CTX_SEND_RETRY;
    }
    int failed = truncated ? CTX_EPARSE : ctx_fmt_es_reply(reply, rlen, n, it, why, sizeof why);
    ctx_send_result_t r = CTX_SEND_OK;
    if (failed < 0) { /* accepted, but which items were indexed is unknown: keep it all for the operator */
        snprintf(info->err, sizeof info->err, "elasticsearch bulk reply not understood (%s): the batch is "
                 "dead-lettered, some of its items may have been indexed", truncated ? "larger than its limit" : why);
        r = CTX_SEND_REJECT;
    } else if (failed > 0) {
        snprintf(info->err, sizeof info->err, "elasticsearch bulk reply: %d of %zu items failed", failed, n);
        if (es_partial(it, n, body, len, tag, enc, level, info) == 0) {
            r = CTX_SEND_PARTIAL;
        } else {
            ctx_send_info_clear(info);
            snprintf(info->err, sizeof info->err, "elasticsearch bulk reply: %d of %zu items failed, and the batch "
                     "could not be split: sent again whole", failed, n);
            r = CTX_SEND_RETRY;
        }
    }
    free(it);
    return r;
}

/* OTLP: partial_success names how many records were rejected, not which: the whole batch
 * goes to the dead-letter file with that count and the server's message; nothing is resent
 * (the spec: "The client MUST NOT retry the request when it receives a partial success
 * response"). The 2xx status is OTLP/HTTP's success signal and the body only qualifies it:
 * a body that is not an ExportLogsServiceResponse leaves the batch delivered (resending could
 * only duplicate what was accepted), marked reply_unread (counted, logged). A partial_success
 * with 0 rejected and a message is the server's warning: logged. */
static ctx_send_result_t otlp_reply(const char *reply, size_t rlen, int truncated, int json, uint32_t tag,
                                    ctx_send_info_t *info) {
    uint64_t rejected = 0;
    char msg[200] = "";
    size_t n = CTX_DEST_TAG_MSGS(tag);
    int rc = truncated ? CTX_EPARSE : ctx_fmt_otlp_reply(reply, rlen, json, &rejected, msg, sizeof msg);
    if (rc != 0) {
        info->reply_unread = 1;
        snprintf(info->err, sizeof info->err, "OTLP export reply to a 2xx not understood (%s, %zu bytes): the batch "
                 "of %zu records counts as delivered, as the 2xx says; rejected records, if any, are unknown",
                 truncated ? "larger than its limit" : rc == CTX_ENOMEM ? "out of memory" :
                 json ? "not an OTLP/JSON ExportLogsServiceResponse" : "not a protobuf ExportLogsServiceResponse",
                 rlen, n);
        return CTX_SEND_OK;
    }
    if (rejected == 0) {
        if (msg[0]) snprintf(info->err, sizeof info->err, "OTLP partial_success warning (0 records rejected): %s", msg);
        return CTX_SEND_OK;
    }
    if (rejected > n) rejected = n;
    if ((info->rejects = calloc(1, sizeof *info->rejects)) == NULL) {
        info->reply_unread = 1;
        snprintf(info->err, sizeof info->err, "OTLP partial_success: %llu of %zu log records rejected, but out of "
                 "memory to dead-letter them: counted as delivered", (unsigned long long)rejected, n);
        return CTX_SEND_OK;
    }
    info->nrejects = 1;
    info->rejects[0].tag = CTX_DEST_TAG(CTX_DEST_TAG_ENC(tag), CTX_DEST_TAG_FMT(tag), (size_t)rejected);
    snprintf(info->rejects[0].reason, sizeof info->rejects[0].reason,
             "OTLP partial_success: %llu of %zu log records rejected%s%s", (unsigned long long)rejected, n,
             msg[0] ? ": " : "", msg);
    snprintf(info->err, sizeof info->err, "%s", info->rejects[0].reason);
    return CTX_SEND_PARTIAL;
}

ctx_send_result_t ctx_fmt_reply(ctx_fmt_t f, const char *reply, size_t rlen, int truncated, const void *body,
                                size_t len, uint32_t tag, ctx_batch_encoder_t *enc, int level, ctx_send_info_t *info) {
    if (f == CTX_FMT_ELASTICSEARCH) return es_reply(reply, rlen, truncated, body, len, tag, enc, level, info);
    if (f == CTX_FMT_OTLP || f == CTX_FMT_OTLP_JSON)
        return otlp_reply(reply, rlen, truncated, f == CTX_FMT_OTLP_JSON, tag, info);
    return CTX_SEND_OK;
}
