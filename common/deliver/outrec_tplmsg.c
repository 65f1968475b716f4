/* outrec_tplmsg.c: an operator template's record when its message needs more than the rules of
 * single texts: a cut message's tail (ctx_redact_apply_cut), or a message inside a secret that
 * spans several messages of its sender (redact_multi.h). The template's output is redacted as
 * usual (ctx_outrec_custom); then the message text inside it, as the rules left it, is found (as
 * it is, JSON-escaped, or JSON-escaped with "\/") and replaced by the message redacted with those
 * extra checks. A message that needs them and cannot be found in the output is withheld
 * (CTX_EINVAL: never sent, counted in redact.errors): the template may have changed it, and
 * what it shows could hold the secret.
 *
 * Concurrency: a ctx_outrec_t is used by one thread; the tracker is thread-safe.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctxlog_common.h"
#include "outrec_int.h"

/* appends s[0..n) to *buf, JSON-escaped when esc (with "\/" for '/' when esc == 2); 0 or CTX_ENOMEM */
static int put_form(char **buf, size_t *len, size_t *cap, const char *s, size_t n, int esc) {
    if (outrec_reserve(buf, len, cap, 6 * n + 1) != 0) return CTX_ENOMEM;
    char *d = *buf + *len;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (esc && (c == '"' || c == '\\' || (c == '/' && esc == 2))) {
            *d++ = '\\';
            *d++ = (char)c;
        } else if (esc && c < 0x20) {
            static const char hex[] = "0123456789abcdef";
            memcpy(d, "\\u00", 4);
            d[4] = hex[c >> 4], d[5] = hex[c & 15];
            d += 6;
        } else {
            *d++ = (char)c;
        }
    }
    *len = (size_t)(d - *buf);
    return 0;
}

/* the message with the extra checks, in b->mtext[0..return); 0: nothing more than the rules; CTX_E* */
static long final_text(ctx_outrec_t *b, ctx_redact_ctx *rx, const ctx_redact_set *set, const ctx_outrec_tplmsg_t *tm) {
    const char *t;
    size_t tn;
    int rc = outrec_msg_multi(b, rx, set, tm->msg, tm->msglen, &tm->who, tm->cut, &t, &tn);
    if (rc != OUTREC_WHOLE) return rc < 0 ? rc : (long)tn;
    if (!tm->cut || rx == NULL || set == NULL) return 0;
    rc = ctx_redact_apply_cut(rx, set, tm->msg, tm->msglen, &t, &tn);
    if (rc <= 0) return rc < 0 ? CTX_EINVAL : 0;
    b->mtext_len = 0;
    if (put_form(&b->mtext, &b->mtext_len, &b->mtext_cap, t, tn, 0) != 0) return CTX_ENOMEM;
    const char *p; /* the rules alone: when they give the same text, the tail held no candidate */
    size_t pn;
    if (ctx_redact_apply(rx, set, tm->msg, tm->msglen, &p, &pn) < 0) return CTX_EINVAL;
    return pn == tn && memcmp(p, b->mtext, tn) == 0 ? 0 : (long)tn;
}

/* replaces every `from` in b->buf[0..b->len) by `to`; 1 if one was found, 0 if none, CTX_ENOMEM */
static int replace_all(ctx_outrec_t *b, const char *from, size_t fn, const char *to, size_t tn) {
    if (fn == 0 || memmem(b->buf, b->len, from, fn) == NULL) return 0;
    char *out = NULL;
    size_t ol = 0, oc = 0;
    const char *p = b->buf, *end = b->buf + b->len, *q;
    int rc = 0;
    while (rc == 0 && (q = memmem(p, (size_t)(end - p), from, fn)) != NULL) {
        rc = put_form(&out, &ol, &oc, p, (size_t)(q - p), 0) || put_form(&out, &ol, &oc, to, tn, 0);
        p = q + fn;
    }
    if (rc == 0) rc = put_form(&out, &ol, &oc, p, (size_t)(end - p), 0);
    if (rc == 0) {
        b->len = 0;
        rc = outrec_put(b, out, ol);
    }
    free(out);
    return rc != 0 ? CTX_ENOMEM : 1;
}

/* the message as the rules leave it, found in the output in one of its forms, replaced by fin */
static int substitute(ctx_outrec_t *b, ctx_redact_ctx *rx, const ctx_redact_set *set, const char *msg, size_t n,
                      const char *fin, size_t finn) {
    const char *p = msg;
    size_t pn = n;
    if (rx != NULL && set != NULL && ctx_redact_apply(rx, set, msg, n, &p, &pn) < 0) return CTX_EINVAL;
    int rc = 0;
    for (int esc = 0; esc <= 2 && rc == 0; esc++) {
        char *from = NULL, *to = NULL;
        size_t fl = 0, fc = 0, tl = 0, tc = 0;
        if (put_form(&from, &fl, &fc, p, pn, esc) != 0 || put_form(&to, &tl, &tc, fin, finn, esc) != 0)
            rc = CTX_ENOMEM;
        else
            rc = replace_all(b, from, fl, to, tl);
        free(from);
        free(to);
    }
    return rc;
}

int ctx_outrec_custom_msg(ctx_outrec_t *b, ctx_redact_ctx *rx, const ctx_redact_set *set, const char *in, size_t len,
                          const ctx_outrec_tplmsg_t *tm, const char **out, size_t *outlen) {
    int rc = ctx_outrec_custom(b, rx, set, in, len, out, outlen);
    if (b != NULL) b->multi_spans = 0;
    if (rc < 0 || tm == NULL) return rc;
    ctx_redact_ctx_set_counting(rx, 0); /* the message was counted in the output; its tail or span once below */
    long fn = final_text(b, rx, set, tm);
    int sub = 0;
    if (fn > 0) {
        char *fin = malloc((size_t)fn);
        if (fin == NULL) sub = CTX_ENOMEM;
        else {
            memcpy(fin, b->mtext, (size_t)fn);
            sub = substitute(b, rx, set, tm->msg, tm->msglen, fin, (size_t)fn);
            free(fin);
        }
    }
    ctx_redact_ctx_set_counting(rx, 1);
    if (fn < 0 || sub < 0) return fn == CTX_ENOMEM || sub == CTX_ENOMEM ? CTX_ENOMEM : CTX_EINVAL;
    if (fn == 0) return rc;
    if (sub == 0) return CTX_EINVAL; /* not found in the output: withheld */
    b->multi_spans = 1;
    if (outrec_reserve(&b->buf, &b->len, &b->cap, 1) != 0) return CTX_ENOMEM;
    b->buf[b->len] = '\0';
    *out = b->buf;
    *outlen = b->len;
    return rc + 1;
}
