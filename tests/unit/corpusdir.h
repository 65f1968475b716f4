/* corpusdir.h: every file of a committed corpus, tests/fuzz/corpus/NAME under
 * CTX_SRCDIR, handed to a callback by path, for the unit tests that load a corpus
 * through their unit's own API (test_spool_corrupt.c, test_tenants.c, test_policy.c,
 * test_outrec.c). A missing or empty directory fails the test: never a silent pass.
 * Header-only; needs check.h.
 */
#ifndef CTXLOG_TESTS_CORPUSDIR_H
#define CTXLOG_TESTS_CORPUSDIR_H

#include <dirent.h>
#include <stdio.h>

static void corpus_each(const char *name, void (*fn)(const char *path, void *arg), void *arg) {
    char dir[512], path[1024];
    snprintf(dir, sizeof dir, "%s/tests/fuzz/corpus/%s", CTX_SRCDIR, name);
    DIR *d = opendir(dir);
    if (d == NULL) fail_msg("no corpus at %s", dir);
    int n = 0;
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        if (e->d_name[0] == '.') continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        fn(path, arg);
        n++;
    }
    closedir(d);
    ASSERT_GT(n, 0);
}

#endif
