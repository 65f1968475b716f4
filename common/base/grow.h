/* grow.h: an array that grows by doubling, as the tree's tables do (spool segments, JSON
 * key positions, tenants' arena and warnings, policy rules, redaction triggers, ...):
 *
 *     if (n == cap) {
 *         T *p = ctx_grow(arr, &cap, sizeof *p, 16);
 *         if (p == NULL) return CTX_ENOMEM;
 *         arr = p;
 *     }
 *
 * ctx_resize() for a byte buffer whose new size the caller computes.
 */
#ifndef CTXLOG_GROW_H
#define CTXLOG_GROW_H

#include <stdint.h>
#include <stdlib.h>

/* arr (NULL or allocated, *cap elements of size bytes) reallocated to twice *cap elements
 * (first when *cap is 0). Returns it and sets *cap; NULL if out of memory or the size
 * would overflow, arr and *cap then unchanged. */
static inline void *ctx_grow(void *arr, size_t *cap, size_t size, size_t first) {
    size_t n = *cap ? *cap * 2 : first;
    if (n < *cap || n > SIZE_MAX / size) return NULL;
    void *p = realloc(arr, n * size);
    if (p != NULL) *cap = n;
    return p;
}

/* arr reallocated to n bytes (a capacity computed by the caller), *cap set to n; NULL if out
 * of memory, arr and *cap then unchanged */
static inline void *ctx_resize(void *arr, size_t *cap, size_t n) {
    void *p = realloc(arr, n);
    if (p != NULL) *cap = n;
    return p;
}

#endif
