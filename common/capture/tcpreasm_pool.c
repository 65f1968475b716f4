/* tcpreasm_pool.c: size-class buffer pool with one byte bound (see tcpreasm_pool.h).
 *
 * Concurrency: one owner thread; allocated / in_use are stored with relaxed
 * atomics so that statistics readers on other threads see whole values.
 */
#include "tcpreasm_pool.h"

#include <stdint.h>
#include <stdlib.h>

#define NCLASSES 40   /* two per octave: 64, 96, 128, 192, ... 32 MiB, 48 MiB */

struct freebuf {
    struct freebuf *next;
};

struct rpool {
    size_t max_bytes;
    size_t allocated;              /* from malloc: in use + cached + charges */
    size_t in_use;                 /* handed out + charges */
    size_t cached;                 /* on the free lists */
    struct freebuf *free[NCLASSES];
};

#define SET(p, field, v) __atomic_store_n(&(p)->field, (v), __ATOMIC_RELAXED)

static size_t class_size(int k) { return (size_t)((k & 1) ? 96 : 64) << (k >> 1); }

static int class_of(size_t want) {
    for (int k = 0; k < NCLASSES; k++)
        if (want <= class_size(k)) return k;
    return -1;
}

size_t rpool_class_size(size_t want) {
    int k = class_of(want == 0 ? 1 : want);
    return k < 0 ? 0 : class_size(k);
}

struct rpool *rpool_new(size_t max_bytes) {
    struct rpool *p = calloc(1, sizeof(*p));
    if (p != NULL) p->max_bytes = max_bytes;
    return p;
}

/* free one cached buffer, largest class first; 0 if none is cached */
static int trim_one(struct rpool *p) {
    for (int k = NCLASSES - 1; k >= 0; k--) {
        struct freebuf *b = p->free[k];
        if (b == NULL) continue;
        p->free[k] = b->next;
        free(b);
        p->cached -= class_size(k);
        SET(p, allocated, p->allocated - class_size(k));
        return 1;
    }
    return 0;
}

void rpool_trim(struct rpool *p, size_t keep) {
    while (p->cached > keep && trim_one(p)) {
    }
}

void rpool_free(struct rpool *p) {
    if (p == NULL) return;
    rpool_trim(p, 0);
    free(p);
}

static int make_room(struct rpool *p, size_t n) {
    while (p->allocated + n > p->max_bytes) {
        if (!trim_one(p)) return -1;
    }
    return 0;
}

void *rpool_get(struct rpool *p, size_t want, size_t *cap) {
    int k = class_of(want == 0 ? 1 : want);
    if (k < 0) return NULL;
    size_t size = class_size(k);
    struct freebuf *b = p->free[k];
    if (b != NULL) {
        p->free[k] = b->next;
        p->cached -= size;
    } else {
        if (make_room(p, size) != 0 || (b = malloc(size)) == NULL) return NULL;
        SET(p, allocated, p->allocated + size);
    }
    SET(p, in_use, p->in_use + size);
    *cap = size;
    return b;
}

void rpool_put(struct rpool *p, void *buf, size_t cap) {
    if (buf == NULL) return;
    int k = class_of(cap);
    struct freebuf *b = buf;
    b->next = p->free[k];
    p->free[k] = b;
    p->cached += cap;
    SET(p, in_use, p->in_use - cap);
}

int rpool_charge(struct rpool *p, long n) {
    if (n > 0 && make_room(p, (size_t)n) != 0) return -1;
    SET(p, allocated, p->allocated + (size_t)n);
    SET(p, in_use, p->in_use + (size_t)n);
    return 0;
}

size_t rpool_allocated(const struct rpool *p) { return __atomic_load_n(&p->allocated, __ATOMIC_RELAXED); }

size_t rpool_in_use(const struct rpool *p) { return __atomic_load_n(&p->in_use, __ATOMIC_RELAXED); }
