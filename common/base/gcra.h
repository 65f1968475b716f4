/* gcra.h: the one rate limiter: the generic cell rate algorithm, a token bucket kept as a
 * single "theoretical arrival time" (tat). Each accepted event pushes tat by its cost (the
 * time one event is worth: 1/rate); an event is accepted while tat stays within burst of
 * now, so burst/cost events pass back to back after a quiet spell and then one per cost.
 * The caller picks the unit (ns, us, ms) and passes now: pure functions, so tests drive
 * them with their own clock. Header-only; no locking (one bucket, one thread).
 * Used by imctxcap's per-VM budgets (vmbudget.c) and the compute-manager fetcher's
 * request rate (cmfetch.c). */
#ifndef CTXLOG_GCRA_H
#define CTXLOG_GCRA_H

#include <stdint.h>

/* Charges cost at now to a bucket whose arrival time is tat. Returns 1 and the new arrival
 * time in *next when it stays within burst of now (the caller stores it when it commits),
 * else 0 (refused: the bucket is unchanged). A tat of 0 is a full bucket. */
static inline int ctx_gcra_next(uint64_t tat, uint64_t cost, uint64_t now, uint64_t burst, uint64_t *next) {
    uint64_t t = (tat > now ? tat : now) + cost;
    *next = t;
    return t - now <= burst;
}

/* Takes one event of cost from *tat: 1 (taken) or 0 (refused, *tat unchanged). */
static inline int ctx_gcra_take(uint64_t *tat, uint64_t cost, uint64_t now, uint64_t burst) {
    uint64_t t;
    if (!ctx_gcra_next(*tat, cost, now, burst, &t)) return 0;
    *tat = t;
    return 1;
}

/* How long from now until an event of cost would be accepted: 0 = now. A cost over burst
 * is never accepted: UINT64_MAX. */
static inline uint64_t ctx_gcra_wait(uint64_t tat, uint64_t cost, uint64_t now, uint64_t burst) {
    if (cost > burst) return UINT64_MAX;
    uint64_t t = (tat > now ? tat : now) + cost;
    return t - now <= burst ? 0 : t - now - burst;
}

#endif
