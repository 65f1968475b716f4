/* outrec_int.h: what outrec.c and outrec_json.c share (internal to the record builder). */
#ifndef CTXLOG_OUTREC_INT_H
#define CTXLOG_OUTREC_INT_H

#include <stddef.h>

#include "redact.h"

/* grows *buf (malloc'd, *cap bytes, *used in use) so that `more` bytes fit; 0 or CTX_ENOMEM */
int outrec_reserve(char **buf, size_t *used, size_t *cap, size_t more);

/* 1 if redacting the JSON document text[0..n) value by value (ctx_redact_json) certainly
 * changes nothing, so it may be copied as it is; 0 if it must take the tree path. rx / set
 * as for ctx_redact_apply (NULL: no redaction, 1). *scratch / *scratch_cap: the caller's
 * reusable buffer (malloc'd, grown as needed). */
int outrec_json_clean(ctx_redact_ctx *rx, const ctx_redact_set *set, const char *text, size_t n, char **scratch,
                      size_t *scratch_cap);

#endif
