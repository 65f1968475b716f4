/* redact_validate.c: checks a regex cannot express, run as PCRE2 callout 1 at the end of a rule's
 * pattern: Luhn for card numbers (so order numbers survive), and inet_pton() for IPv4 / IPv6
 * candidates. A callout that returns 1 makes PCRE2 backtrack and try shorter candidates.
 *
 * Concurrency: pure functions of their arguments; the callout reads the per-thread ctx it is given.
 */
#include <string.h>

#include "ctxlog_common.h"
#include "redact_int.h"
#include "textcheck.h"

int rx_luhn_ok(const char *s, size_t len) {
    int digits[32], n = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] >= '0' && s[i] <= '9') {
            if (n == 19) return 0;
            digits[n++] = s[i] - '0';
        } else if (s[i] != ' ' && s[i] != '-') {
            return 0;
        }
    }
    if (n < 13) return 0;
    int sum = 0;
    for (int i = n - 1, dbl = 0; i >= 0; i--, dbl ^= 1) {
        int d = digits[i];
        if (dbl) d = d * 2 > 9 ? d * 2 - 9 : d * 2;
        sum += d;
    }
    return sum % 10 == 0;
}

int rx_callout(pcre2_callout_block *cb, void *data) {
    const struct ctx_redact_ctx *ctx = data;
    const char *subj = (const char *)cb->subject;
    size_t s = cb->start_match, e = cb->current_position;
    int g = ctx->cur_group;
    if (g > 0 && (uint32_t)g < cb->capture_top && cb->offset_vector[2 * g] != PCRE2_UNSET) {
        s = cb->offset_vector[2 * g];
        e = cb->offset_vector[2 * g + 1];
    }
    switch (ctx->cur_validator) {
        case RX_V_LUHN:
            return rx_luhn_ok(subj + s, e - s) ? 0 : 1;
        case RX_V_CARD:
            return rx_card_ok(subj, s, e) ? 0 : 1;
        case RX_V_IPV4:
            return ctx_inet_text(AF_INET, subj + s, e - s) ? 0 : 1;
        case RX_V_IPV6:
            return ctx_inet_text(AF_INET6, subj + s, e - s) ? 0 : 1;
        default:
            return 0;
    }
}
