/* clock.h: the one clock of ctxlog's timers, timeouts and ages: CLOCK_MONOTONIC (never
 * jumps with the wall clock), in milliseconds; and deadlines for condition variables
 * that wait on it (pthread_condattr_setclock(CLOCK_MONOTONIC)).
 * Header-only; reentrant. Wall-clock times (RFC 3339 stamps) are timefmt.h's. */
#ifndef CTXLOG_CLOCK_H
#define CTXLOG_CLOCK_H

#include <stdint.h>
#include <time.h>

/* CLOCK_MONOTONIC now, in milliseconds */
static inline uint64_t ctx_clock_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* CLOCK_MONOTONIC now, in nanoseconds (rate budgets that charge per frame) */
static inline uint64_t ctx_clock_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* the CLOCK_MONOTONIC time ms milliseconds from now, for pthread_cond_timedwait */
static inline void ctx_clock_deadline(struct timespec *ts, uint64_t ms) {
    clock_gettime(CLOCK_MONOTONIC, ts);
    ts->tv_sec += (time_t)(ms / 1000);
    ts->tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts->tv_nsec >= 1000000000L) ts->tv_sec++, ts->tv_nsec -= 1000000000L;
}

#endif
