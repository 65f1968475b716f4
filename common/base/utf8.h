/* utf8.h: UTF-8 validation and JSON string escapes shared by the record builders
 * (outrec.c, fmt_otlp_wire.c). */
#ifndef CTXLOG_UTF8_H
#define CTXLOG_UTF8_H

#include <stddef.h>
#include <string.h>

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

/* The JSON string form of the character at s (n >= 1 bytes left) when it is more than
 * a plain copy: '"', '\\', a control character, a non-ASCII byte. Written to esc
 * (8 bytes); returns its length, *used the input bytes it stands for (a valid UTF-8
 * sequence's length, else 1: an invalid byte becomes U+FFFD). */
static inline size_t ctx_json_escape_char(const unsigned char *s, size_t n, char esc[8], size_t *used) {
    static const char hex[] = "0123456789abcdef";
    unsigned char c = s[0];
    size_t q = 0;
    *used = 1;
    if (c == '"' || c == '\\') {
        esc[0] = '\\', esc[1] = (char)c;
        return 2;
    }
    if (c == '\n' || c == '\r' || c == '\t') {
        esc[0] = '\\', esc[1] = c == '\n' ? 'n' : c == '\r' ? 'r' : 't';
        return 2;
    }
    if (c < 0x20) {
        memcpy(esc, "\\u00", 4), esc[4] = hex[c >> 4], esc[5] = hex[c & 15];
        return 6;
    }
    if ((q = ctx_utf8_seq(s, n)) > 0) {
        memcpy(esc, s, q);
        *used = q;
        return q;
    }
    memcpy(esc, "\xef\xbf\xbd", 3);
    return 3;
}

#endif
