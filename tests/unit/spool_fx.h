/* spool_fx.h: the fixture of the spool tests (test_spool.c, test_spool_corrupt.c): the
 * documented on-disk sizes, a scratch directory per run (cmocka group setup / teardown), and
 * helpers that append numbered records and drain them checking every field.
 * Include after cmocka.h, check.h, tmpdir.h and spool.h. */
#ifndef CTXLOG_TESTS_SPOOL_FX_H
#define CTXLOG_TESTS_SPOOL_FX_H

#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

/* the documented layout (docs/spool.md) */
#define SEG_HDR 32
#define REC_HDR 40
#define SEG1 "0000000000000001.seg"

/* record i (i < 10) is 46 + i bytes on disk ("rec-i-" + i x's + the 40-byte header).
 * Segments of SEGB bytes hold 3 of them (1..3: 176, 4..6: 185, 7..9: 194), and
 * MAXB = 440 holds two segments but not a third. */
#define SEGB (SEG_HDR + 3 * 55)
#define MAXB 440

static char base[64];
static char err[CTX_ERRLEN];

static inline int setup(void **state) {
    (void)state;
    return tmpdir_make(base, sizeof base, "ctx_spool");
}

static inline int teardown(void **state) {
    (void)state;
    tmpdir_remove(base);
    return 0;
}

static inline char *path(const char *a, const char *b) {
    static char buf[4][256];
    static int k;
    k = (k + 1) % 4;
    snprintf(buf[k], sizeof buf[k], "%s/%s%s%s", base, a, b ? "/" : "", b ? b : "");
    return buf[k];
}

static inline ctx_spool_t *open_spool(const char *dir, uint64_t max, ctx_spool_policy_t pol, uint64_t seg) {
    ctx_spool_opts_t o = {max, pol, seg, NULL};
    ctx_spool_t *sp = NULL;
    int rc = ctx_spool_new(dir, &o, &sp, err, sizeof err);
    if (rc != 0)
        print_message("open %s: %d %s\n", dir, rc, err);
    assert_int_equal(rc, 0);
    return sp;
}

/* payload of record i: "rec-<i>-" then i % 50 'x's */
static inline size_t payload(unsigned i, char *buf) {
    int n = sprintf(buf, "rec-%u-", i);
    memset(buf + n, 'x', i % 50);
    return (size_t)n + i % 50;
}

static inline uint64_t append_n(ctx_spool_t *sp, unsigned from, unsigned to) {
    char buf[128];
    uint64_t seq = 0;
    for (unsigned i = from; i <= to; i++) {
        size_t n = payload(i, buf);
        assert_int_equal(ctx_spool_append(sp, buf, n, 1000 + i, i * 3, &seq, err, sizeof err), 0);
    }
    return seq;
}

/* peeks and acks records from..to; each must be record i with seq i */
static inline void drain_records(ctx_spool_t *sp, unsigned from, unsigned to) {
    ctx_spool_rec_t r = {0};
    char buf[128];
    for (unsigned i = from; i <= to; i++) {
        assert_int_equal(ctx_spool_peek(sp, &r), 0);
        size_t n = payload(i, buf);
        assert_int_equal(r.seq, i);
        assert_int_equal(r.len, n);
        assert_memory_equal(r.data, buf, n);
        assert_int_equal(r.batch_us, 1000 + i);
        assert_int_equal(r.tag, i * 3);
        assert_int_equal(ctx_spool_ack(sp, r.seq, err, sizeof err), 0);
    }
    ctx_spool_rec_clear(&r);
}

/* the same, and then the spool must be empty */
static inline void drain_expect(ctx_spool_t *sp, unsigned from, unsigned to) {
    drain_records(sp, from, to);
    ctx_spool_rec_t r = {0};
    assert_int_equal(ctx_spool_peek(sp, &r), CTX_ENOENT);
    ctx_spool_rec_clear(&r);
}

static inline uint64_t recsz(unsigned i) {
    char b[128];
    return REC_HDR + payload(i, b);
}

static inline off_t fsize(const char *p) {
    struct stat st;
    return stat(p, &st) == 0 ? st.st_size : -1;
}

static inline int count_files(const char *dir, const char *suffix) {
    DIR *d = opendir(dir);
    int n = 0;
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL) {
        size_t l = strlen(e->d_name), s = strlen(suffix);
        n += l > s && strcmp(e->d_name + l - s, suffix) == 0;
    }
    if (d)
        closedir(d);
    return n;
}

static inline uint64_t seg_bytes(const char *dir) {
    DIR *d = opendir(dir);
    uint64_t n = 0;
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL) {
        size_t l = strlen(e->d_name);
        char p[600];
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        if (l > 4 && strcmp(e->d_name + l - 4, ".seg") == 0)
            n += (uint64_t)fsize(p);
    }
    if (d)
        closedir(d);
    return n;
}

#endif
