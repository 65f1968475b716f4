/* utf8.h: UTF-8 validation shared by the record builders (outrec.c, fmt_otlp_wire.c). */
#ifndef CTXLOG_UTF8_H
#define CTXLOG_UTF8_H

#include <stddef.h>

/* length of a valid UTF-8 sequence at s (n >= 1 bytes left), or 0 if invalid (RFC 3629:
 * no overlong forms, no surrogates, nothing above U+10FFFF) */
static inline size_t ctx_utf8_seq(const unsigned char *s, size_t n) {
    unsigned c = s[0];
    size_t len = c < 0xc2 ? 0 : c < 0xe0 ? 2 : c < 0xf0 ? 3 : c < 0xf5 ? 4 : 0;
    if (len == 0 || len > n) return 0;
    for (size_t i = 1; i < len; i++)
        if ((s[i] & 0xc0) != 0x80) return 0;
    if (len == 3 && ((c == 0xe0 && s[1] < 0xa0) || (c == 0xed && s[1] >= 0xa0))) return 0; /* overlong, surrogate */
    if (len == 4 && ((c == 0xf0 && s[1] < 0x90) || (c == 0xf4 && s[1] >= 0x90))) return 0; /* overlong, > U+10FFFF */
    return len;
}

#endif
