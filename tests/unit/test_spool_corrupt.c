/* test_spool_corrupt: crash recovery at every offset of the tail, a flipped byte at every
 * offset, a damaged segment header, a bad record in an older segment, a damaged or missing
 * ack file, and the fuzz corpus. The rest of the spool: test_spool.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "check.h"
#include "tmpdir.h"
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zlib.h>

#include "ctxlog_common.h"
#include "corpusdir.h"
#include "spool.h"
#include "spool_fx.h"

/* ---------------------------------------------------------------- crash recovery */

static void copy_file(const char *from, const char *to, off_t len) {
    FILE *in = fopen(from, "rb"), *out = fopen(to, "wb");
    assert_non_null(in);
    assert_non_null(out);
    char buf[4096];
    size_t n;
    off_t left = len;
    while (left > 0 && (n = fread(buf, 1, (size_t)(left < 4096 ? left : 4096), in)) > 0) {
        fwrite(buf, 1, n, out);
        left -= (off_t)n;
    }
    fclose(in);
    fclose(out);
}

/* spool `name` with records 1..n in one segment, seg its path: ends[i] the segment's size
 * after record i (ends[0] its header) */
static void source_segment(const char *name, unsigned n, off_t *ends, char *seg, size_t segsz) {
    ctx_spool_t *sp = open_spool(path(name, NULL), 0, CTX_SPOOL_BLOCK, 0);
    ends[0] = SEG_HDR;
    for (unsigned i = 1; i <= n; i++) {
        append_n(sp, i, i);
        ends[i] = fsize(path(name, SEG1));
    }
    ctx_spool_free(sp);
    snprintf(seg, segsz, "%s", path(name, SEG1));
}

/* an empty spool directory NAME (what an earlier case left there removed), holding the
 * first len bytes of the segment file seg unless seg is NULL; its path (path()'s) */
static char *fresh_dir(const char *name, const char *seg, off_t len) {
    char *dir = path(name, NULL);
    tmpdir_remove(dir);
    mkdir(dir, 0700);
    if (seg != NULL) copy_file(seg, path(name, SEG1), len);
    return dir;
}

/* 4 records in one segment; the segment cut at every offset 0..size, as a crash
 * mid-write leaves it: exactly the whole records before the cut survive */
static void torn_tail_at_every_offset(void **state) {
    (void)state;
    off_t ends[5];
    char seg[256];
    source_segment("src", 4, ends, seg, sizeof seg);
    ctx_spool_t *sp;
    for (off_t cut = 0; cut <= ends[4]; cut++) {
        char *dir = fresh_dir("t", seg, cut);
        unsigned whole = 0;
        while (whole < 4 && ends[whole + 1] <= cut)
            whole++;
        sp = open_spool(dir, 0, CTX_SPOOL_BLOCK, 0);
        ctx_spool_stats_t st;
        ctx_spool_stats(sp, &st);
        off_t kept = cut < SEG_HDR ? 0 : ends[whole];
        assert_int_equal(st.torn_bytes, (uint64_t)(cut - kept));
        assert_int_equal(st.torn_records, cut != kept ? 1 : 0);
        assert_int_equal(st.records, whole);
        assert_int_equal(st.corrupt_records, 0);
        if (cut < SEG_HDR || whole == 0)
            assert_int_equal(fsize(path("t", SEG1)), -1); /* an empty segment is removed */
        else
            assert_int_equal(fsize(path("t", SEG1)), kept); /* the tail is cut off on disk */
        /* the survivors in order, then a new record continues the sequence */
        append_n(sp, whole + 1, whole + 1);
        drain_expect(sp, 1, whole + 1);
        ctx_spool_free(sp);
    }
}

/* a flipped byte anywhere in the last segment's records: the records from the
 * damaged one on are cut off (they cannot be told apart from a torn write) */
static void corrupt_tail_at_every_offset(void **state) {
    (void)state;
    off_t ends[4];
    char seg[256];
    source_segment("src2", 3, ends, seg, sizeof seg);
    ctx_spool_t *sp;
    for (off_t at = SEG_HDR; at < ends[3]; at++) {
        char *dir = fresh_dir("u", seg, ends[3]);
        int fd = open(path("u", SEG1), O_RDWR);
        unsigned char c;
        assert_int_equal(pread(fd, &c, 1, at), 1);
        c ^= 0x20;
        assert_int_equal(pwrite(fd, &c, 1, at), 1);
        close(fd);
        unsigned good = 0;
        while (ends[good + 1] <= at)
            good++;
        sp = open_spool(dir, 0, CTX_SPOOL_BLOCK, 0);
        ctx_spool_stats_t st;
        ctx_spool_stats(sp, &st);
        assert_int_equal(st.records, good);
        assert_int_equal(st.torn_records, 1);
        assert_int_equal(st.torn_bytes, (uint64_t)(ends[3] - ends[good]));
        drain_expect(sp, 1, good);
        ctx_spool_free(sp);
    }
    /* a damaged segment header: the segment is put aside as NAME.bad, counted */
    char *dir = fresh_dir("u", seg, ends[3]);
    int fd = open(path("u", SEG1), O_RDWR);
    assert_int_equal(pwrite(fd, "X", 1, 3), 1);
    close(fd);
    sp = open_spool(dir, 0, CTX_SPOOL_BLOCK, 0);
    ctx_spool_stats_t st;
    ctx_spool_stats(sp, &st);
    assert_int_equal(st.records, 0);
    assert_int_equal(st.corrupt_records, 1);
    assert_int_equal(st.corrupt_bytes, (uint64_t)ends[3]);
    assert_int_equal(fsize(path("u", SEG1 ".bad")), ends[3]);
    assert_int_equal(append_n(sp, 1, 1), 1); /* continues in a new segment */
    assert_int_equal(fsize(path("u", "0000000000000002.seg")), SEG_HDR + REC_HDR + 7);
    ctx_spool_free(sp);
}

/* a bad record in an older segment is only found when read: the rest of that
 * segment is skipped and counted, later segments are delivered */
static void corrupt_older_segment_skipped_on_read(void **state) {
    (void)state;
    char *dir = path("v", NULL);
    ctx_spool_t *sp = open_spool(dir, 0, CTX_SPOOL_BLOCK, SEGB);
    append_n(sp, 1, 6); /* 3 a segment */
    ctx_spool_free(sp);
    assert_int_equal(count_files(dir, ".seg"), 2);
    int fd = open(path("v", SEG1), O_RDWR);
    off_t second = SEG_HDR + REC_HDR + 7; /* record 2 starts here */
    assert_int_equal(pwrite(fd, "Z", 1, second + REC_HDR + 2), 1); /* inside its payload */
    close(fd);
    sp = open_spool(dir, 0, CTX_SPOOL_BLOCK, SEGB);
    ctx_spool_stats_t st;
    ctx_spool_stats(sp, &st);
    assert_int_equal(st.records, 6); /* not checked at open: it is not the last segment */
    ctx_spool_rec_t r = {0};
    assert_int_equal(ctx_spool_peek(sp, &r), 0);
    assert_int_equal(r.seq, 1);
    assert_int_equal(ctx_spool_ack(sp, 1, err, sizeof err), 0);
    assert_int_equal(ctx_spool_peek(sp, &r), 0);
    assert_int_equal(r.seq, 4); /* 2 and 3 skipped */
    ctx_spool_stats(sp, &st);
    assert_int_equal(st.corrupt_records, 2);
    assert_int_equal(st.corrupt_bytes, (uint64_t)(fsize(path("v", SEG1)) - second));
    assert_int_equal(ctx_spool_ack(sp, 4, err, sizeof err), 0);
    assert_int_equal(fsize(path("v", SEG1)), -1); /* the damaged segment is gone once passed */
    ctx_spool_rec_clear(&r);
    ctx_spool_free(sp);
}

/* the ack file: a torn newest slot falls back to the older one (one record is
 * delivered again: at least once); no ack file means everything again */
static void ack_file_damage(void **state) {
    (void)state;
    char *dir = path("w", NULL);
    ctx_spool_t *sp = open_spool(dir, 0, CTX_SPOOL_BLOCK, 0);
    append_n(sp, 1, 4);
    ctx_spool_rec_t r = {0};
    for (int i = 0; i < 2; i++) { /* gen 1 -> slot 1, gen 2 -> slot 0 */
        assert_int_equal(ctx_spool_peek(sp, &r), 0);
        assert_int_equal(ctx_spool_ack(sp, r.seq, err, sizeof err), 0);
    }
    ctx_spool_free(sp);
    assert_int_equal(fsize(path("w", "ack")), 128);
    int fd = open(path("w", "ack"), O_RDWR);
    assert_int_equal(pwrite(fd, "\xff", 1, 20), 1); /* slot 0 (gen 2) damaged */
    close(fd);
    sp = open_spool(dir, 0, CTX_SPOOL_BLOCK, 0);
    ctx_spool_stats_t st;
    ctx_spool_stats(sp, &st);
    assert_int_equal(st.records, 3);
    assert_int_equal(ctx_spool_peek(sp, &r), 0);
    assert_int_equal(r.seq, 2);
    ctx_spool_free(sp);
    unlink(path("w", "ack"));
    sp = open_spool(dir, 0, CTX_SPOOL_BLOCK, 0);
    ctx_spool_stats(sp, &st);
    assert_int_equal(st.records, 4); /* all of the segment again */
    drain_expect(sp, 1, 4);
    ctx_spool_rec_clear(&r);
    ctx_spool_free(sp);
}

/* ---------------------------------------------------------------- fuzz corpus */

#ifndef CTX_SRCDIR
#define CTX_SRCDIR "."
#endif

/* the fuzz target's input format (tests/fuzz/fuzz_spool.c): flags byte; bit 0: a
 * valid segment header goes first; bit 1: the next 128 bytes are the ack file */
static void replay_one(const unsigned char *data, size_t size) {
    char *dir = fresh_dir("fz", NULL, 0);
    unsigned flags = data[0];
    data++, size--;
    if ((flags & 2) && size >= 128) {
        FILE *f = fopen(path("fz", "ack"), "wb");
        fwrite(data, 1, 128, f);
        fclose(f);
        data += 128, size -= 128;
    }
    unsigned char h[32] = "CTXSPL01";
    h[8] = 1;
    h[16] = 1;
    uint32_t c = (uint32_t)crc32(0, h + 16, 16);
    for (int i = 0; i < 4; i++)
        h[12 + i] = (unsigned char)(c >> (8 * i));
    FILE *f = fopen(path("fz", SEG1), "wb");
    if (flags & 1)
        fwrite(h, 1, 32, f);
    fwrite(data, 1, size, f);
    fclose(f);
    ctx_spool_t *sp = NULL;
    if (ctx_spool_new(dir, NULL, &sp, err, sizeof err) != 0)
        return;
    ctx_spool_rec_t r = {0};
    uint64_t last = 0, seq = 0;
    while (ctx_spool_peek(sp, &r) == 0) {
        ASSERT_GT(r.len, 0);
        assert_int_equal(ctx_spool_ack(sp, r.seq, err, sizeof err), 0);
        last = r.seq;
    }
    assert_int_equal(ctx_spool_append(sp, "x", 1, 0, 0, &seq, err, sizeof err), 0);
    ASSERT_GT(seq, last);
    ctx_spool_rec_clear(&r);
    ctx_spool_free(sp);
}

static void replay_file(const char *path, void *arg) {
    (void)arg;
    static unsigned char buf[1 << 16];
    FILE *f = fopen(path, "rb");
    if (f == NULL) fail_msg("cannot open %s", path);
    size_t len = fread(buf, 1, sizeof buf, f);
    fclose(f);
    if (len > 0) replay_one(buf, len);
}

static void fuzz_corpus_replay(void **state) {
    (void)state;
    corpus_each("spool", replay_file, NULL);
}

CTX_TEST_MAIN(setup, teardown,
    cmocka_unit_test(torn_tail_at_every_offset),
    cmocka_unit_test(corrupt_tail_at_every_offset),
    cmocka_unit_test(corrupt_older_segment_skipped_on_read),
    cmocka_unit_test(ack_file_damage),
    cmocka_unit_test(fuzz_corpus_replay))
