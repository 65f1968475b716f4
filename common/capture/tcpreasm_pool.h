/* tcpreasm_pool.h: the TCP reassembler's buffer pool (internal to tcpreasm.c).
 *
 * Size classes from 64 bytes to 48 MiB, two per octave (64, 96, 128, 192, ...,
 * so a buffer wastes at most a third of itself), each with a free list, and
 * one byte bound over everything the pool has taken from malloc (buffers in use,
 * buffers cached on the free lists, and fixed charges such as the flow table's
 * slabs). A request that would cross the bound first frees cached buffers; if it
 * still does not fit, it fails (the reassembler then evicts a flow and retries).
 * Once warm, getting and putting back a buffer does not touch malloc.
 *
 * Concurrency: none; one owner thread (the reassembler's). The byte figures are
 * read with relaxed atomics by ctx_tcpreasm_get_stats() from other threads.
 */
#ifndef CTXLOG_TCPREASM_POOL_H
#define CTXLOG_TCPREASM_POOL_H

#include <stddef.h>

struct rpool;

/* A pool that never holds more than max_bytes. NULL on allocation failure. */
struct rpool *rpool_new(size_t max_bytes);

/* Free every cached buffer and the pool. Buffers still in use must have been put
 * back (their memory is not tracked individually). NULL is a no-op. */
void rpool_free(struct rpool *p);

/* A buffer of at least want (1 .. 48 MiB) bytes; *cap receives its size (the class
 * size). NULL when the bound does not allow it. */
void *rpool_get(struct rpool *p, size_t want, size_t *cap);

/* The size of the class that serves want bytes (what rpool_get would put in *cap);
 * 0 if want is too large. */
size_t rpool_class_size(size_t want);

/* Give back a buffer obtained from rpool_get with the cap it returned. NULL: no-op. */
void rpool_put(struct rpool *p, void *buf, size_t cap);

/* Charge (n > 0) or discharge (n < 0) a fixed cost against the bound. Charging
 * fails (-1, nothing charged) if it does not fit after freeing cached buffers. */
int rpool_charge(struct rpool *p, long n);

/* Free cached buffers until at most keep bytes are cached. */
void rpool_trim(struct rpool *p, size_t keep);

/* Bytes taken from malloc and not returned (in use + cached + charges). */
size_t rpool_allocated(const struct rpool *p);

/* Bytes in buffers handed out and not put back, plus charges. */
size_t rpool_in_use(const struct rpool *p);

#endif
