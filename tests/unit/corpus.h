/* corpus.h: replaying a fuzz target's corpus (tests/fuzz/corpus/NAME) in a unit test.
 *
 * Every file goes, placed against a guard page, through the target's own
 * LLVMFuzzerTestOneInput(), whose invariant checks abort on a broken one (lengths within
 * their bounds, every result a known one, counters that agree with what came out, nothing
 * held at the end: see each tests/fuzz/fuzz_*.c). The file being replayed is named on
 * stderr if the target aborts. A missing corpus, or one with fewer than min_files files,
 * fails the test (never a silent pass).
 *
 *     corpus_replay("pktdecode", 10, PB_CAP, &G);
 *
 * Header-only, for the unit tests that include a fuzz target; single thread.
 */
#ifndef CTXLOG_TESTS_CORPUS_H
#define CTXLOG_TESTS_CORPUS_H

#include <dirent.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "guardbuf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char corpus_current[4096]; /* the file being replayed, for the abort handler */

static void corpus_on_abort(int sig) {
    static const char what[] = "corpus replay: the fuzz target's checks failed on ";
    (void)!write(2, what, sizeof what - 1);
    (void)!write(2, corpus_current, strnlen(corpus_current, sizeof corpus_current));
    (void)!write(2, "\n", 1);
    signal(sig, SIG_DFL);
    raise(sig);
}

/* tests/fuzz/corpus/<name> under $top_srcdir (or .); max_len: bytes of a file used at most */
static inline void corpus_replay(const char *name, int min_files, size_t max_len, struct guardbuf *g) {
    static uint8_t buf[1 << 17];
    char dir[2048];
    const char *top = getenv("top_srcdir");
    snprintf(dir, sizeof dir, "%s/tests/fuzz/corpus/%s", top != NULL ? top : ".", name);
    if (max_len > sizeof buf) max_len = sizeof buf;
    DIR *d = opendir(dir);
    if (d == NULL) fail_msg("corpus %s: cannot open %s", name, dir);
    int n = 0;
    void (*prev)(int) = signal(SIGABRT, corpus_on_abort);
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        if (e->d_name[0] == '.') continue;
        snprintf(corpus_current, sizeof corpus_current, "%s/%s", dir, e->d_name);
        FILE *fp = fopen(corpus_current, "rb");
        if (fp == NULL) fail_msg("corpus %s: cannot open %s", name, corpus_current);
        size_t len = fread(buf, 1, max_len, fp);
        fclose(fp);
        LLVMFuzzerTestOneInput(guardbuf_place(g, buf, len), len);
        n++;
    }
    signal(SIGABRT, prev);
    closedir(d);
    if (n < min_files) fail_msg("corpus %s: %d files in %s, expected at least %d", name, n, dir, min_files);
}

#endif
