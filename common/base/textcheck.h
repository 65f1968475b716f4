/* textcheck.h: small checks of text values, shared by every unit that reads them: a hex
 * digit's value, and whether a text (not NUL-terminated) is an IPv4 or IPv6 address.
 * Pure functions; no state. Unit test: tests/unit/test_textcheck.c. */
#ifndef CTX_TEXTCHECK_H
#define CTX_TEXTCHECK_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>

/* the value of hex digit c (either case), or -1 */
static inline int ctx_hexval(int c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* 1 if s[0..n) is an address of family af (AF_INET, AF_INET6, or AF_UNSPEC: either) as
 * inet_pton() reads it, with nothing before or after it; else 0 */
static inline int ctx_inet_text(int af, const char *s, size_t n) {
    char buf[INET6_ADDRSTRLEN];
    unsigned char a[sizeof(struct in6_addr)];
    if (s == NULL || n == 0 || n >= sizeof buf || memchr(s, '\0', n) != NULL) return 0;
    memcpy(buf, s, n);
    buf[n] = '\0';
    if (af == AF_INET || af == AF_INET6) return inet_pton(af, buf, a) == 1;
    return inet_pton(AF_INET, buf, a) == 1 || inet_pton(AF_INET6, buf, a) == 1;
}

#endif
