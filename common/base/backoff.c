/* backoff.c: exponential backoff with full jitter (see backoff.h).
 *
 * Concurrency: a ctx_backoff_t is owned by one thread at a time (no lock inside);
 * ctx_backoff_delay_ms() is pure.
 */
#include "backoff.h"

#include <stdlib.h>
#include <sys/random.h>
#include <time.h>

#include "ctxlog_common.h"

struct ctx_backoff {
    uint64_t min_ms;    /* read-only: lower bound of every delay */
    uint64_t base_ms;   /* read-only: ceiling of attempt 0 */
    uint64_t max_ms;    /* read-only: upper bound of every delay */
    ctx_rand_fn rand_fn; /* read-only: random source, or NULL for xorshift */
    void *rand_arg;     /* read-only: borrowed argument of rand_fn */
    uint64_t xs_state;  /* xorshift64* state (never 0) */
    unsigned attempt;   /* retries since the last reset */
};

uint64_t ctx_backoff_delay_ms(uint64_t min_ms, uint64_t base_ms, uint64_t max_ms, unsigned attempt, uint64_t rnd) {
    if (min_ms >= max_ms || base_ms == 0)
        return min_ms;
    uint64_t ceil = base_ms;
    for (unsigned i = 0; i < attempt && ceil < max_ms; i++)
        ceil = ceil > max_ms / 2 ? max_ms : ceil * 2;
    if (ceil > max_ms)
        ceil = max_ms;
    if (ceil <= min_ms)
        return min_ms;
    /* uniform in [0, span] by multiply-shift: no modulo bias worth the name */
    uint64_t span = ceil - min_ms;
    unsigned __int128 r = (unsigned __int128)rnd * ((unsigned __int128)span + 1);
    return min_ms + (uint64_t)(r >> 64);
}

static uint64_t xorshift64s(uint64_t *s) {
    uint64_t x = *s;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *s = x;
    return x * 0x2545F4914F6CDD1DULL;
}

static uint64_t seed64(const void *salt) {
    uint64_t s = 0;
    if (getrandom(&s, sizeof s, GRND_NONBLOCK) != (ssize_t)sizeof s) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        s = (uint64_t)ts.tv_sec * 1000000007ULL ^ (uint64_t)ts.tv_nsec ^ (uint64_t)(uintptr_t)salt;
    }
    return s ? s : 0x9E3779B97F4A7C15ULL;
}

int ctx_backoff_new(uint64_t min_ms, uint64_t base_ms, uint64_t max_ms, ctx_rand_fn rand_fn, void *rand_arg,
                    ctx_backoff_t **out) {
    if (out == NULL)
        return CTX_EINVAL;
    *out = NULL;
    if (max_ms == 0 || min_ms > base_ms || base_ms > max_ms)
        return CTX_EINVAL;
    ctx_backoff_t *b = calloc(1, sizeof *b);
    if (b == NULL)
        return CTX_ENOMEM;
    b->min_ms = min_ms;
    b->base_ms = base_ms;
    b->max_ms = max_ms;
    b->rand_fn = rand_fn;
    b->rand_arg = rand_arg;
    b->xs_state = seed64(b);
    *out = b;
    return CTX_OK;
}

void ctx_backoff_free(ctx_backoff_t *b) {
    free(b);
}

uint64_t ctx_backoff_next_ms(ctx_backoff_t *b) {
    uint64_t rnd = b->rand_fn ? b->rand_fn(b->rand_arg) : xorshift64s(&b->xs_state);
    uint64_t d = ctx_backoff_delay_ms(b->min_ms, b->base_ms, b->max_ms, b->attempt, rnd);
    if (b->attempt < UINT32_MAX)
        b->attempt++;
    return d;
}

void ctx_backoff_reset(ctx_backoff_t *b) {
    b->attempt = 0;
}

unsigned ctx_backoff_attempts(const ctx_backoff_t *b) {
    return b->attempt;
}
