/* fmt_reply.h: the 2xx replies that speak per message (Elasticsearch's bulk items, OTLP's
 * partial_success), turned into a delivery result for the batch (delivery.h).
 *
 * Thread-safety: no state; enc belongs to the caller (a tenant's sender thread).
 */
#ifndef CTXLOG_FMT_REPLY_H
#define CTXLOG_FMT_REPLY_H

#include <stddef.h>
#include <stdint.h>

#include "batch.h"
#include "delivery.h"
#include "fmt.h"

/* What the 2xx reply reply[0..rlen) (truncated: 1 if it was cut at the transport's limit)
 * to the batch body[0..len) (tag: its CTX_DEST_TAG) means:
 *   CTX_SEND_OK       every message delivered (also for formats whose reply says nothing);
 *   CTX_SEND_PARTIAL  info->rejects / retry_body filled (new bodies encoded with enc, the
 *                     batch's encoding, level), info->err a one-line summary;
 *   CTX_SEND_REJECT   the reply cannot be read, so which messages were taken is unknown:
 *                     the whole batch goes to the dead-letter file (info->err says why);
 *   CTX_SEND_RETRY    the batch could not be split (out of memory): sent again whole. */
ctx_send_result_t ctx_fmt_reply(ctx_fmt_t f, const char *reply, size_t rlen, int truncated, const void *body,
                                size_t len, uint32_t tag, ctx_batch_encoder_t *enc, int level, ctx_send_info_t *info);

#endif
