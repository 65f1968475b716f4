#include "timefmt.h"

#include <stdio.h>
#include <time.h>

#include "ctxlog_common.h"

int ctx_rfc3339_us(const struct timeval *tv, char *buf, size_t buflen) {
    struct tm tm;
    time_t secs;

    if (buf == NULL || buflen < CTX_RFC3339_US_LEN) return CTX_EINVAL;
    buf[0] = '\0';
    if (tv == NULL || tv->tv_usec < 0 || tv->tv_usec > 999999) return CTX_EINVAL;
    secs = tv->tv_sec;
    if (gmtime_r(&secs, &tm) == NULL || tm.tm_year + 1900 > 9999 || tm.tm_year + 1900 < 0) return CTX_EINVAL;
    int n = snprintf(buf, buflen, "%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ", tm.tm_year + 1900, tm.tm_mon + 1,
                     tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (long)tv->tv_usec);
    if (n != CTX_RFC3339_US_LEN - 1) {
        buf[0] = '\0';
        return CTX_EINVAL;
    }
    return n;
}
