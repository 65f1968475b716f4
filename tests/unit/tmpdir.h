/* tmpdir.h: a test's scratch directory, made fresh under /tmp and removed with all it holds
 * (for cmocka group setup and teardown).
 *
 *     static char dir[256];
 *     static int setup(void **state) { (void)state; return tmpdir_make(dir, sizeof dir, "ctx-stamp"); }
 *     static int teardown(void **state) { (void)state; return tmpdir_remove(dir); }
 */
#ifndef CTXLOG_TESTS_TMPDIR_H
#define CTXLOG_TESTS_TMPDIR_H

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>

/* dir = a new directory /tmp/NAME-XXXXXX (mkdtemp); 0 or -1 */
static inline int tmpdir_make(char *dir, size_t size, const char *name) {
    snprintf(dir, size, "/tmp/%s-XXXXXX", name);
    return mkdtemp(dir) != NULL ? 0 : -1;
}

static inline int tmpdir_rm_cb(const char *p, const struct stat *sb, int flag, struct FTW *ftw) {
    (void)sb, (void)flag, (void)ftw;
    return remove(p);
}

/* removes dir and everything below it (links are removed, not followed); 0 or -1 */
static inline int tmpdir_remove(const char *dir) {
    return nftw(dir, tmpdir_rm_cb, 16, FTW_DEPTH | FTW_PHYS) == 0 ? 0 : -1;
}

#endif
