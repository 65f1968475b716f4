/* guardbuf.h: test buffers that end exactly at a PROT_NONE guard page.
 *
 * A decoder that reads one byte past the length it was given touches the guard
 * page and the test dies with SIGSEGV (ASan reports it), even where ASan's own
 * redzones would not catch it (reads through a pointer into an mmap).
 *
 *     struct guardbuf g;
 *     guardbuf_init(&g, 2048);                     // once: capacity in bytes
 *     const uint8_t *p = guardbuf_place(&g, data, len); // p[len] is the guard page
 *     ... decode(p, len) ...
 *     guardbuf_free(&g);
 *
 * guardbuf_place() may be called again and again; each call invalidates the
 * pointer the previous one returned. Header-only; for tests, single thread.
 */
#ifndef CTXLOG_TESTS_GUARDBUF_H
#define CTXLOG_TESTS_GUARDBUF_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

struct guardbuf {
    uint8_t *map;   /* the whole mapping: data pages, then one guard page */
    size_t maplen;  /* its length */
    size_t cap;     /* bytes usable before the guard page */
};

/* Map ceil(cap / page) readable pages followed by one PROT_NONE page. Aborts the
 * test program if the mapping fails (a test cannot go on without it). */
static inline void guardbuf_init(struct guardbuf *g, size_t cap) {
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    size_t data_pages = (cap + page - 1) / page;
    if (data_pages == 0) data_pages = 1;
    g->cap = data_pages * page;
    g->maplen = g->cap + page;
    void *m = mmap(NULL, g->maplen, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED || mprotect((uint8_t *)m + g->cap, page, PROT_NONE) != 0) {
        perror("guardbuf_init");
        abort();
    }
    g->map = m;
}

/* Copy len bytes so that they end right before the guard page; return where they
 * start. len == 0 returns a pointer to the guard page itself (any read faults).
 * Aborts if len exceeds the capacity given to guardbuf_init(). */
static inline const uint8_t *guardbuf_place(struct guardbuf *g, const void *data, size_t len) {
    if (len > g->cap) {
        fprintf(stderr, "guardbuf_place: %zu bytes > capacity %zu\n", len, g->cap);
        abort();
    }
    uint8_t *p = g->map + g->cap - len;
    if (len > 0) memcpy(p, data, len);
    return p;
}

static inline void guardbuf_free(struct guardbuf *g) {
    if (g->map != NULL) munmap(g->map, g->maplen);
    g->map = NULL;
}

/* Defines guardbuf_setup() and guardbuf_teardown(), the cmocka group fixtures of a test
 * program whose tests share one guard buffer g (a struct guardbuf) of cap bytes:
 *     GUARDBUF_GROUP_FIXTURE(G, PB_CAP)
 *     return cmocka_run_group_tests(tests, guardbuf_setup, guardbuf_teardown); */
#define GUARDBUF_GROUP_FIXTURE(g, cap)                                                              \
    static int guardbuf_setup(void **state) {                                                      \
        (void)state;                                                                               \
        guardbuf_init(&(g), (cap));                                                                \
        return 0;                                                                                  \
    }                                                                                              \
    static int guardbuf_teardown(void **state) {                                                   \
        (void)state;                                                                               \
        guardbuf_free(&(g));                                                                       \
        return 0;                                                                                  \
    }

#endif
