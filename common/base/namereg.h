/* namereg.h: a bounded registry of names, each given a slot number the first time it is
 * seen, for counters kept per name (e.g. imctxcap's per-VM counters: one impstats object
 * per VM, made when it is first needed, at most `max` of them).
 *
 * Slots are 0..max-1, given in order and never taken back: a name keeps its slot for
 * the registry's life. Once all are given, a new name gets none (CTX_EFULL) and
 * the caller counts it elsewhere. Lookups are linear (the registry is consulted when a
 * caller's cache misses, not per packet) under a mutex.
 *
 * Concurrency: every function may be called from any thread.
 */
#ifndef CTXLOG_NAMEREG_H
#define CTXLOG_NAMEREG_H

#include <stddef.h>

typedef struct ctx_namereg ctx_namereg_t;

/* A registry of at most max names (0: every name is refused). Returns 0 and *out,
 * CTX_EINVAL (NULL out) or CTX_ENOMEM. ctx_namereg_free() it. */
int ctx_namereg_new(size_t max, ctx_namereg_t **out);

/* NULL is a no-op. */
void ctx_namereg_free(ctx_namereg_t *r);

/* The slot of name (copied the first time), CTX_EFULL (max names are registered
 * already), or CTX_EINVAL / CTX_ENOMEM.
 * *created (if not NULL) is 1 for exactly one caller per slot: the one that registered
 * the name; 0 for every later one. */
int ctx_namereg_get(ctx_namereg_t *r, const char *name, int *created);

/* Names registered so far (<= max). */
size_t ctx_namereg_count(ctx_namereg_t *r);

/* The name in slot i (owned by the registry, lives as long as it), NULL if i is not given. */
const char *ctx_namereg_name(ctx_namereg_t *r, size_t i);

#endif
