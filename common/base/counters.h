/* counters.h: a unit's statistics kept in its own public stats struct (every member a
 * uint64_t: counters that only grow, and gauges), written by its threads with relaxed
 * atomic operations and read into a caller's copy with ctx_counters_read(). One
 * definition of each counter (its member and comment in the unit's header), no private
 * mirror to keep in step. Each value is read atomically; the set is not one snapshot.
 *
 *     cmfetch_stats_t st;                       (in the unit's private struct)
 *     CTX_CTR_INC(f->st, requests);
 *     CTX_CTR_ADD(f->st, bytes, len);
 *     CTX_CTR_SET(f->st, inflight, n);          (a gauge)
 *     ctx_counters_read(out, &f->st, sizeof *out);
 */
#ifndef CTXLOG_COUNTERS_H
#define CTXLOG_COUNTERS_H

#include <stddef.h>
#include <stdint.h>

#define CTX_CTR_ADD(st, member, n) __atomic_fetch_add(&(st).member, (uint64_t)(n), __ATOMIC_RELAXED)
#define CTX_CTR_INC(st, member) CTX_CTR_ADD(st, member, 1)
#define CTX_CTR_SET(st, member, v) __atomic_store_n(&(st).member, (uint64_t)(v), __ATOMIC_RELAXED)

/* copies size bytes of uint64_t members from src to dst, each with a relaxed atomic load */
static inline void ctx_counters_read(void *dst, const void *src, size_t size) {
    const uint64_t *s = src;
    uint64_t *d = dst;
    for (size_t i = 0; i < size / sizeof(uint64_t); i++) d[i] = __atomic_load_n(&s[i], __ATOMIC_RELAXED);
}

/* adds src's members to sum's (two readings of one kind of stats struct) */
static inline void ctx_counters_sum(void *sum, const void *src, size_t size) {
    const uint64_t *s = src;
    uint64_t *d = sum;
    for (size_t i = 0; i < size / sizeof(uint64_t); i++) d[i] += s[i];
}

#endif
