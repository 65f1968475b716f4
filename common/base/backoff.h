/* backoff.h: exponential backoff with full jitter, for retries of a destination
 * (omtenant) or of a compute-manager fetch (mmctxenrich).
 *
 * The delay before retry number n (n = 0 for the first retry) is drawn uniformly
 * from [min_ms, ceil_n] with ceil_n = min(max_ms, base_ms * 2^n) (and never below
 * min_ms): "full jitter" as in the AWS architecture blog, which spreads retries
 * of many clients instead of synchronising them. With min_ms = 0 it is the
 * textbook full jitter; a small min_ms avoids instant retries.
 *
 * Thread-safety: a ctx_backoff_t is NOT thread-safe; keep one per destination and
 * call it from the thread that owns the destination (or under that
 * destination's lock). ctx_backoff_delay_ms() is pure and thread-safe.
 */
#ifndef CTXLOG_BACKOFF_H
#define CTXLOG_BACKOFF_H

#include <stdint.h>

/* A source of uniform 64-bit random numbers. arg is the caller's (borrowed). */
typedef uint64_t (*ctx_rand_fn)(void *arg);

typedef struct ctx_backoff ctx_backoff_t;

/* The pure computation: the delay for retry number `attempt` (0-based) given one
 * uniform 64-bit random value `rnd`. Bounds as above; if min_ms > max_ms the
 * result is min_ms; base_ms = 0 gives min_ms. Never overflows. */
uint64_t ctx_backoff_delay_ms(uint64_t min_ms, uint64_t base_ms, uint64_t max_ms, unsigned attempt, uint64_t rnd);

/* Creates a backoff state. min_ms <= base_ms <= max_ms and max_ms > 0 are required
 * (else CTX_EINVAL). rand_fn may be NULL: then a per-object xorshift64* generator
 * seeded from getrandom() (or the clock) is used; otherwise rand_fn(rand_arg) is
 * called once per ctx_backoff_next_ms() (rand_arg borrowed, must outlive the object).
 * Returns 0 and *out, or CTX_EINVAL / CTX_ENOMEM (then *out is NULL). */
int ctx_backoff_new(uint64_t min_ms, uint64_t base_ms, uint64_t max_ms, ctx_rand_fn rand_fn, void *rand_arg,
                    ctx_backoff_t **out);

/* Frees the state; NULL is a no-op. */
void ctx_backoff_free(ctx_backoff_t *b);

/* Returns the delay to wait before the next retry and counts one more attempt. */
uint64_t ctx_backoff_next_ms(ctx_backoff_t *b);

/* After a success: the next delay starts again from attempt 0. */
void ctx_backoff_reset(ctx_backoff_t *b);

/* Number of ctx_backoff_next_ms() calls since creation or the last reset. */
unsigned ctx_backoff_attempts(const ctx_backoff_t *b);

#endif
