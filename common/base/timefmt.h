/* timefmt.h: timestamps as the $!ctx tree shows them. */
#ifndef CTXLOG_TIMEFMT_H
#define CTXLOG_TIMEFMT_H

#include <stddef.h>
#include <sys/time.h>

/* RFC 3339 in UTC with microseconds: "2026-11-27T06:13:44.123456Z" (27 bytes + NUL).
 * Writes at most buflen bytes including the NUL. Returns the length written
 * (27), or CTX_EINVAL if buflen < 28 or tv is out of range (buf is then ""). */
int ctx_rfc3339_us(const struct timeval *tv, char *buf, size_t buflen);

#define CTX_RFC3339_US_LEN 28

#endif
