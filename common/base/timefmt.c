/* timefmt.c: timestamps as the $!ctx tree shows them.
 *
 * Concurrency: reentrant; each thread keeps its own cache of the last second
 * formatted (a capture thread formats many timestamps within one second).
 */
#include "timefmt.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "ctxlog_common.h"

static __thread time_t cached_sec = (time_t)-1;
static __thread char cached_prefix[20]; /* "2026-11-27T06:13:44" */

static int format_prefix(time_t secs) {
    struct tm tm;
    char tmp[64];
    if (gmtime_r(&secs, &tm) == NULL || tm.tm_year + 1900 > 9999 || tm.tm_year + 1900 < 0) return CTX_EINVAL;
    if (snprintf(tmp, sizeof tmp, "%04d-%02d-%02dT%02d:%02d:%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                 tm.tm_hour, tm.tm_min, tm.tm_sec) != 19)
        return CTX_EINVAL;
    memcpy(cached_prefix, tmp, 20);
    cached_sec = secs;
    return 0;
}

int ctx_rfc3339_us(const struct timeval *tv, char *buf, size_t buflen) {
    if (buf == NULL || buflen < CTX_RFC3339_US_LEN) return CTX_EINVAL;
    buf[0] = '\0';
    if (tv == NULL || tv->tv_usec < 0 || tv->tv_usec > 999999) return CTX_EINVAL;
    if (tv->tv_sec != cached_sec && format_prefix(tv->tv_sec) != 0) return CTX_EINVAL;
    memcpy(buf, cached_prefix, 19);
    buf[19] = '.';
    long us = (long)tv->tv_usec;
    for (int i = 25; i >= 20; --i) {
        buf[i] = (char)('0' + us % 10);
        us /= 10;
    }
    buf[26] = 'Z';
    buf[27] = '\0';
    return CTX_RFC3339_US_LEN - 1;
}
