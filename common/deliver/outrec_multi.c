/* outrec_multi.c: the message text of a record when a secret spans several messages of its sender
 * (common/redact/redact_multi.h). The sender key is the tenant, the VM ($!ctx's "vm" member's
 * "uuid", else the header's host name) and the app-name; the part of the message inside the secret
 * becomes "[REDACTED:LABEL]", the rest goes through the single-message rules as usual.
 *
 * Concurrency: a ctx_outrec_t is used by one thread; the tracker is thread-safe.
 */
#include <stdio.h>
#include <string.h>

#include "ctxlog_common.h"
#include "outrec_int.h"

void ctx_outrec_set_multi(ctx_outrec_t *b, ctx_redact_multi *m, unsigned kinds, const char *tenant, uint64_t now_ms) {
    if (b == NULL) return;
    b->multi = kinds != 0 ? m : NULL;
    b->multi_kinds = kinds;
    b->multi_tenant = tenant ? tenant : "";
    b->multi_now = now_ms;
}

unsigned ctx_outrec_multi_spans(const ctx_outrec_t *b) {
    return b != NULL ? b->multi_spans : 0;
}

/* the "uuid" string of $!ctx's "vm" member (rsyslog renders it without escapes in a UUID) */
int outrec_vm_uuid(const char *ctx, size_t n, const char **u, size_t *un) {
    static const char vm[] = "\"vm\"", uuid[] = "\"uuid\"";
    const char *end = ctx + n, *p = ctx ? memmem(ctx, n, vm, sizeof vm - 1) : NULL;
    if (p == NULL || (p = memmem(p, (size_t)(end - p), uuid, sizeof uuid - 1)) == NULL) return 0;
    p += sizeof uuid - 1;
    while (p < end && (*p == ' ' || *p == ':' || *p == '\t' || *p == '\n')) p++;
    if (p >= end || *p != '"') return 0;
    p++;
    const char *q = memchr(p, '"', (size_t)(end - p));
    if (q == NULL || q - p > 64) return 0;
    *u = p;
    *un = (size_t)(q - p);
    return 1;
}

static size_t sender_key(const ctx_outrec_t *b, const ctx_outrec_sender_t *w, char *key, size_t cap) {
    int vm = w->vmlen > 0;
    int n = snprintf(key, cap, "%s\x1f%s%.*s\x1f%.*s", b->multi_tenant, vm ? "vm:" : "host:",
                     (int)(vm ? w->vmlen : w->hostlen), vm ? w->vm : w->host, (int)w->applen, w->app ? w->app : "");
    return n < 0 ? 0 : (size_t)n < cap ? (size_t)n : cap - 1;
}

/* appends the redacted m[0..n) (cut: its tail checked too) to b->mtext; 0 or CTX_E* */
static int put_redacted(ctx_outrec_t *b, ctx_redact_ctx *rx, const ctx_redact_set *set, const char *m, size_t n,
                        int cut, int *changed) {
    const char *r = m;
    size_t rn = n;
    if (n > 0 && rx != NULL && set != NULL) {
        int rc = cut ? ctx_redact_apply_cut(rx, set, m, n, &r, &rn) : ctx_redact_apply(rx, set, m, n, &r, &rn);
        if (rc < 0) return CTX_EINVAL;
        *changed += rc;
    }
    if (outrec_reserve(&b->mtext, &b->mtext_len, &b->mtext_cap, rn + 1) != 0) return CTX_ENOMEM;
    memcpy(b->mtext + b->mtext_len, r, rn);
    b->mtext_len += rn;
    return 0;
}

int outrec_msg_multi(ctx_outrec_t *b, ctx_redact_ctx *rx, const ctx_redact_set *set, const char *m, size_t n,
                     const ctx_outrec_sender_t *who, int cut, const char **out, size_t *outn) {
    size_t s, e;
    const char *label;
    char key[CTX_MULTI_KEY_MAX + 1], mark[CTX_MULTI_MARKER_MAX + 16];
    if (m == NULL) m = "", n = 0;
    b->multi_spans = 0;
    if (b->multi == NULL || !ctx_redact_multi_wanted(b->multi, b->multi_kinds, m, n)) return OUTREC_WHOLE;
    size_t kn = sender_key(b, who, key, sizeof key);
    if (!ctx_redact_multi_step(b->multi, b->multi_kinds, key, kn, m, n, b->multi_now, &s, &e, &label))
        return OUTREC_WHOLE;
    int changed = 1, rc;
    b->multi_spans = 1;
    b->mtext_len = 0;
    int ml = snprintf(mark, sizeof mark, "[REDACTED:%s]", label);
    if ((rc = put_redacted(b, rx, set, m, s, 0, &changed)) < 0) return rc;
    if (outrec_reserve(&b->mtext, &b->mtext_len, &b->mtext_cap, (size_t)ml + 1) != 0) return CTX_ENOMEM;
    memcpy(b->mtext + b->mtext_len, mark, (size_t)ml);
    b->mtext_len += (size_t)ml;
    if ((rc = put_redacted(b, rx, set, m + e, n - e, cut, &changed)) < 0) return rc;
    *out = b->mtext;
    *outn = b->mtext_len;
    return changed;
}
