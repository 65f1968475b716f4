/* redact_decode.c: the decoded view of a message. A receiver that parses a message as JSON reads
 * `pass\u0077ord` as `password`, and one that URL-decodes reads `pass%77ord` and
 * `https%3A%2F%2Fu%3Ap%40host` as plain text; the rules must see what the receiver will see. So a
 * message holding such escapes is decoded once into ctx->dec, the rules run on it too, and each
 * match is mapped back to the bytes of the original that produced it (ctx->map), which are then
 * replaced.
 *
 * Decoded: `%XX` (any byte) and `\u00XX` below 0x80 (an ASCII character), also after more than
 * one backslash (JSON inside a JSON string: `\\u0077`). Each escape becomes exactly one byte, so
 * the map is monotonic: decoded byte i comes from original bytes [map[i], map[i+1]).
 * Escapes of non-ASCII characters are left: no rule matches non-ASCII bytes.
 *
 * Concurrency: works on one per-thread ctx.
 */
#include <stdlib.h>
#include <string.h>

#include "ctxlog_common.h"
#include "redact_int.h"
#include "textcheck.h"

/* the escape at in[i] (a '%' or '\\'): its length in the original, and its byte in *b; 0 if none */
static size_t escape_at(const unsigned char *in, size_t len, size_t i, unsigned char *b) {
    if (in[i] == '%') {
        if (i + 2 >= len || ctx_hexval(in[i + 1]) < 0 || ctx_hexval(in[i + 2]) < 0) return 0;
        *b = (unsigned char)(ctx_hexval(in[i + 1]) << 4 | ctx_hexval(in[i + 2]));
        return 3;
    }
    size_t k = i;
    while (k < len && in[k] == '\\') k++;
    if (k + 5 > len || in[k] != 'u' || in[k + 1] != '0' || in[k + 2] != '0') return 0;
    int hi = ctx_hexval(in[k + 3]), lo = ctx_hexval(in[k + 4]);
    if (hi < 0 || hi > 7 || lo < 0) return 0;
    *b = (unsigned char)(hi << 4 | lo);
    return k + 5 - i;
}

/* the first escape that starts with byte c, or len (memchr: most messages hold neither byte) */
static size_t first_of(const unsigned char *in, size_t len, unsigned char c) {
    unsigned char b;
    for (const unsigned char *p = memchr(in, c, len); p != NULL; p = memchr(p + 1, c, len - (size_t)(p + 1 - in))) {
        if (escape_at(in, len, (size_t)(p - in), &b) > 0) return (size_t)(p - in);
        if (p + 1 == in + len) break;
    }
    return len;
}

/* first byte that starts an escape, or len */
static size_t first_escape(const unsigned char *in, size_t len) {
    size_t pct = first_of(in, len, '%'), bs = first_of(in, len, '\\');
    return pct < bs ? pct : bs;
}

int rx_decode_view(ctx_redact_ctx *c, const char *text, size_t len, size_t *declen) {
    const unsigned char *in = (const unsigned char *)text;
    size_t i = first_escape(in, len), n = 0;
    *declen = 0;
    if (i == len) return 0;
    if (rx_buf_reserve(&c->dec, &c->deccap, len + 1) < 0) return CTX_ENOMEM;
    if (c->mapcap < len + 1) {
        size_t *m = realloc(c->map, (len + 1) * sizeof *m);
        if (m == NULL) return CTX_ENOMEM;
        c->map = m;
        c->mapcap = len + 1;
    }
    memcpy(c->dec, text, i);
    for (n = 0; n < i; n++) c->map[n] = n;
    while (i < len) {
        unsigned char b = in[i];
        size_t el = (b == '%' || b == '\\') ? escape_at(in, len, i, &b) : 0;
        c->map[n] = i;
        c->dec[n++] = (char)b;
        i += el ? el : 1;
    }
    c->map[n] = len;
    c->dec[n] = '\0';
    *declen = n;
    return 0;
}
