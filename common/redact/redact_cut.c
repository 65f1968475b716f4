/* redact_cut.c: the tail of a message that was cut (at maxMessageSize, a snap length, a TCP gap).
 * A secret whose end was cut off no longer matches its rule (`AKIAIOSFODNN7EX`, `eyJhbGciOi...`,
 * `https://u:hunte`), yet its first part would leave the host. So for a cut text every active rule
 * runs once more, without its prefilter (the trigger itself may be cut: `passw`), with
 * PCRE2_PARTIAL_HARD: a partial match is a candidate that the text's end interrupted, and the tail
 * from the candidate's start is redacted under that rule's name, if it is at least RX_CUT_MIN
 * bytes long (shorter tails hold no secret byte: the shortest fixed prefixes are 3 bytes).
 * A complete match that touches the end counts as partial too (it might have gone on).
 *
 * Concurrency: works on one per-thread ctx.
 */
#include "ctxlog_common.h"
#include "redact_int.h"

/* the start of rule id's first partial match in in[0..len), RX_NONE if none; CTX_EINVAL on error */
static int partial_start(ctx_redact_ctx *c, uint32_t id, const pcre2_code *code, const char *in, size_t len,
                         size_t *start) {
    const struct rx_rule *r = &c->rules->rule[id];
    size_t off = 0;
    c->cur_group = r->group;
    c->cur_validator = r->validator;
    *start = RX_NONE;
    while (off <= len) {
        int rc = pcre2_match(code, (PCRE2_SPTR)in, len, off, PCRE2_PARTIAL_HARD, c->md, c->mctx);
        if (rc == PCRE2_ERROR_NOMATCH) return 0;
        const PCRE2_SIZE *ov = pcre2_get_ovector_pointer(c->md);
        if (rc == PCRE2_ERROR_PARTIAL) {
            *start = ov[0];
            return 0;
        }
        if (rc <= 0) return CTX_EINVAL;
        off = ov[1] > ov[0] ? ov[1] : ov[0] + 1; /* complete: the normal pass has it */
    }
    return 0;
}

int rx_cut_tail(ctx_redact_ctx *c, const ctx_redact_set *set, const char *in, size_t len) {
    for (size_t i = 0; i < set->nactive; i++) {
        uint32_t id = set->active[i];
        size_t s, s2 = RX_NONE;
        const pcre2_code *code2 = c->rules->rule[id].code2;
        int rc = partial_start(c, id, c->rules->rule[id].code, in, len, &s);
        if (rc == 0 && code2 != NULL) rc = partial_start(c, id, code2, in, len, &s2);
        if (rc < 0) return rc;
        if (s2 < s) s = s2;
        if (s == RX_NONE || len - s < RX_CUT_MIN) continue;
        c->count[id] += !c->uncounted;
        if (rx_add_span(c, s, len, id) < 0) return CTX_ENOMEM;
    }
    return 0;
}
