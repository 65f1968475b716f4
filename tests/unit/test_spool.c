/* test_spool: ordering, ack, restart, segments, both full policies, ENOSPC (injected, and
 * on a tiny tmpfs when the test may mount one), and an appender and a reader on two threads.
 * Crash recovery, corruption and the fuzz corpus: test_spool_corrupt.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "check.h"
#include "tmpdir.h"
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ctxlog_common.h"
#include "spool.h"
#include "spool_fx.h"

/* ---------------------------------------------------------------- basics */

static void order_peek_ack(void **state) {
    (void)state;
    char *dir = path("a", NULL);
    ctx_spool_t *sp = open_spool(dir, 0, CTX_SPOOL_BLOCK, 0);
    ctx_spool_rec_t r = {0};
    assert_int_equal(ctx_spool_peek(sp, &r), CTX_ENOENT);
    assert_int_equal(append_n(sp, 1, 5), 5);
    assert_int_equal(ctx_spool_peek(sp, &r), 0);
    assert_int_equal(r.seq, 1);
    assert_int_equal(ctx_spool_peek(sp, &r), 0); /* same record until acked */
    assert_int_equal(r.seq, 1);
    ASSERT_GT(r.append_us, 1600000000000000ULL);
    assert_int_equal(ctx_spool_ack(sp, 2, err, sizeof err), CTX_EINVAL); /* not the peeked one */
    assert_non_null(strstr(err, "not the record last peeked"));
    ctx_spool_stats_t st;
    ctx_spool_stats(sp, &st);
    assert_int_equal(st.records, 5);
    assert_int_equal(st.appended, 5);
    assert_int_equal(st.next_seq, 6);
    assert_int_equal(st.segments, 1);
    assert_int_equal(st.bytes, fsize(path("a", SEG1)));
    drain_expect(sp, 1, 5);
    assert_int_equal(ctx_spool_ack(sp, 3, err, sizeof err), 0); /* already acked: no-op */
    ctx_spool_stats(sp, &st);
    assert_int_equal(st.records, 0);
    assert_int_equal(st.acked, 5);
    assert_int_equal(st.appended_bytes, 7 + 8 + 9 + 10 + 11); /* "rec-1-x" .. "rec-5-xxxxx" */
    ctx_spool_rec_clear(&r);
    ctx_spool_free(sp);
    ctx_spool_free(NULL);
}

static void restart_keeps_position_and_sequence(void **state) {
    (void)state;
    char *dir = path("b", NULL);
    ctx_spool_t *sp = open_spool(dir, 0, CTX_SPOOL_BLOCK, 0);
    append_n(sp, 1, 5);
    ctx_spool_rec_t r = {0};
    for (int i = 0; i < 2; i++) {
        assert_int_equal(ctx_spool_peek(sp, &r), 0);
        assert_int_equal(ctx_spool_ack(sp, r.seq, err, sizeof err), 0);
    }
    ctx_spool_free(sp);
    sp = open_spool(dir, 0, CTX_SPOOL_BLOCK, 0);
    ctx_spool_stats_t st;
    ctx_spool_stats(sp, &st);
    assert_int_equal(st.records, 3);
    assert_int_equal(st.torn_records, 0);
    assert_int_equal(append_n(sp, 6, 6), 6);
    drain_expect(sp, 3, 6);
    ctx_spool_free(sp);
    /* everything delivered: sequence numbers still continue, never reused */
    sp = open_spool(dir, 0, CTX_SPOOL_BLOCK, 0);
    ctx_spool_stats(sp, &st);
    assert_int_equal(st.records, 0);
    assert_int_equal(st.next_seq, 7);
    assert_int_equal(append_n(sp, 7, 7), 7);
    drain_expect(sp, 7, 7);
    ctx_spool_rec_clear(&r);
    ctx_spool_free(sp);
}

static void one_open_per_directory(void **state) {
    (void)state;
    char *dir = path("c", NULL);
    ctx_spool_t *sp = open_spool(dir, 0, CTX_SPOOL_BLOCK, 0), *sp2 = (ctx_spool_t *)1;
    assert_int_equal(ctx_spool_new(dir, NULL, &sp2, err, sizeof err), CTX_EAGAIN);
    assert_null(sp2);
    assert_non_null(strstr(err, "already open"));
    ctx_spool_free(sp);
    assert_int_equal(ctx_spool_new(dir, NULL, &sp2, err, sizeof err), 0);
    ctx_spool_free(sp2);
    assert_int_equal(ctx_spool_new(path("no/such/parent", NULL), NULL, &sp2, err, sizeof err), CTX_EIO);
    assert_non_null(strstr(err, "cannot create the directory: No such file or directory"));
    char big[64];
    assert_int_equal(ctx_spool_new(dir, NULL, &sp2, err, sizeof err), 0);
    assert_int_equal(ctx_spool_append(sp2, big, 0, 0, 0, NULL, err, sizeof err), CTX_EINVAL);
    assert_int_equal(ctx_spool_append(sp2, big, CTX_SPOOL_MAX_RECORD + 1u, 0, 0, NULL, err, sizeof err), CTX_EINVAL);
    ctx_spool_free(sp2);
}

static void segments_roll_and_are_deleted(void **state) {
    (void)state;
    char *dir = path("d", NULL);
    /* a record of payload 50..99 bytes is 90..139 on disk; segments of <= 300 bytes */
    ctx_spool_t *sp = open_spool(dir, 0, CTX_SPOOL_BLOCK, 300);
    append_n(sp, 1, 20);
    /* the documented rule: a record goes to a new segment if the current one holds a
     * record and would pass segment_bytes */
    int want = 1;
    for (unsigned i = 1, size = SEG_HDR; i <= 20; i++) {
        if (size > SEG_HDR && size + recsz(i) > 300) {
            want++;
            size = SEG_HDR;
        }
        size += recsz(i);
    }
    int nseg = count_files(dir, ".seg");
    assert_int_equal(nseg, want);
    ASSERT_GE(want, 5);
    ctx_spool_stats_t st;
    ctx_spool_stats(sp, &st);
    assert_int_equal(st.segments, (uint64_t)nseg);
    ctx_spool_free(sp);
    sp = open_spool(dir, 0, CTX_SPOOL_BLOCK, 300); /* recovery walks every segment */
    drain_records(sp, 1, 19);
    assert_int_equal(count_files(dir, ".seg"), 1); /* the write segment */
    ctx_spool_stats(sp, &st);
    assert_int_equal(st.segments, 1);
    assert_int_equal(st.bytes, seg_bytes(dir));
    drain_expect(sp, 20, 20);
    assert_int_equal(count_files(dir, ".seg"), 0); /* a drained spool holds no data */
    ctx_spool_stats(sp, &st);
    assert_int_equal(st.segments, 0);
    assert_int_equal(st.bytes, 0);
    append_n(sp, 21, 25);
    drain_expect(sp, 21, 25);
    ctx_spool_free(sp);
}

/* ---------------------------------------------------------------- full policies */


static void policy_block(void **state) {
    (void)state;
    char *dir = path("x", NULL);
    ctx_spool_t *sp = open_spool(dir, MAXB, CTX_SPOOL_BLOCK, SEGB);
    append_n(sp, 1, 6);
    ctx_spool_stats_t st;
    ctx_spool_stats(sp, &st);
    assert_int_equal(st.bytes, 176 + 185);
    assert_int_equal(st.segments, 2);
    assert_int_equal(st.bytes, seg_bytes(dir));
    char buf[128];
    size_t n = payload(7, buf); /* needs a new segment: 361 + 32 + 53 > 440 */
    assert_int_equal(ctx_spool_append(sp, buf, n, 0, 0, NULL, err, sizeof err), CTX_EFULL);
    assert_non_null(strstr(err, "full (440 bytes)"));
    ctx_spool_stats(sp, &st);
    assert_int_equal(st.full_rejects, 1);
    assert_int_equal(st.records, 6);
    assert_int_equal(st.bytes, 361);
    assert_int_equal(st.next_seq, 7);
    assert_int_equal(st.dropped_records, 0);
    /* a record that can never fit */
    char huge[500] = {0};
    assert_int_equal(ctx_spool_append(sp, huge, sizeof huge, 0, 0, NULL, err, sizeof err), CTX_EINVAL);
    assert_non_null(strstr(err, "can never fit"));
    /* delivering the first segment frees its bytes */
    ctx_spool_rec_t r = {0};
    for (int i = 1; i <= 3; i++) {
        assert_int_equal(ctx_spool_peek(sp, &r), 0);
        assert_int_equal(ctx_spool_ack(sp, r.seq, err, sizeof err), 0);
    }
    ctx_spool_stats(sp, &st);
    assert_int_equal(st.bytes, 185);
    assert_int_equal(append_n(sp, 7, 7), 7);
    drain_expect(sp, 4, 7);
    /* lifting the limit (a HUP) lets appends through again */
    ctx_spool_set_limits(sp, 0, CTX_SPOOL_BLOCK);
    append_n(sp, 8, 13);
    drain_expect(sp, 8, 13);
    ctx_spool_rec_clear(&r);
    ctx_spool_free(sp);
}

static void policy_drop_oldest(void **state) {
    (void)state;
    char *dir = path("y", NULL);
    ctx_spool_t *sp = open_spool(dir, MAXB, CTX_SPOOL_DROP_OLDEST, SEGB);
    append_n(sp, 1, 6); /* as above: 361 bytes in 2 segments */
    ctx_spool_rec_t r = {0};
    assert_int_equal(ctx_spool_peek(sp, &r), 0); /* record 1 delivered before the overflow */
    assert_int_equal(ctx_spool_ack(sp, 1, err, sizeof err), 0);
    assert_int_equal(ctx_spool_peek(sp, &r), 0); /* record 2 peeked (in flight) */
    assert_int_equal(r.seq, 2);
    append_n(sp, 7, 7); /* drops segment 1: records 2, 3 undelivered */
    ctx_spool_stats_t st;
    ctx_spool_stats(sp, &st);
    assert_int_equal(st.dropped_records, 2);
    assert_int_equal(st.dropped_bytes, recsz(2) + recsz(3));
    assert_int_equal(st.bytes, 185 + SEG_HDR + recsz(7));
    assert_int_equal(st.full_rejects, 0);
    assert_int_equal(fsize(path("y", SEG1)), -1);
    assert_int_equal(ctx_spool_ack(sp, 2, err, sizeof err), 0); /* the in-flight one was dropped: no-op */
    append_n(sp, 8, 9);   /* segment 3: 7..9 */
    append_n(sp, 10, 10); /* drops segment 2 (4..6) */
    ctx_spool_stats(sp, &st);
    assert_int_equal(st.dropped_records, 5);
    assert_int_equal(st.dropped_bytes, recsz(2) + recsz(3) + recsz(4) + recsz(5) + recsz(6));
    assert_int_equal(st.records, 4);
    assert_int_equal(st.bytes, seg_bytes(dir));
    drain_expect(sp, 7, 10);
    ctx_spool_free(sp);

    /* one big write segment is the oldest: it is rolled, then dropped */
    dir = path("y2", NULL);
    sp = open_spool(dir, MAXB, CTX_SPOOL_DROP_OLDEST, 100000);
    append_n(sp, 1, 8); /* 32 + 47..54 = 436 */
    append_n(sp, 9, 9); /* 436 + 55 > 440: segment 1 goes */
    ctx_spool_stats(sp, &st);
    assert_int_equal(st.dropped_records, 8);
    assert_int_equal(st.bytes, SEG_HDR + recsz(9));
    assert_int_equal(st.segments, 1);
    drain_expect(sp, 9, 9);
    ctx_spool_free(sp);
    /* the drop survives a restart: nothing of segment 1 comes back */
    sp = open_spool(dir, MAXB, CTX_SPOOL_DROP_OLDEST, 100000);
    ctx_spool_stats(sp, &st);
    assert_int_equal(st.records, 0);
    assert_int_equal(st.next_seq, 10);
    ctx_spool_rec_clear(&r);
    ctx_spool_free(sp);
}

/* ---------------------------------------------------------------- ENOSPC */

static long budget = -1; /* bytes the fake disk still takes; -1 = unlimited */
static int short_writes;

static ssize_t fake_pwrite(int fd, const void *buf, size_t len, off_t off) {
    if (budget >= 0 && (size_t)budget < len) {
        if (budget > 0 && short_writes) { /* a partial write first, as a kernel may */
            ssize_t n = pwrite(fd, buf, (size_t)budget, off);
            budget = 0;
            return n;
        }
        errno = ENOSPC;
        return -1;
    }
    if (budget >= 0)
        budget -= (long)len;
    return pwrite(fd, buf, len, off);
}

static void enospc_injected(void **state) {
    (void)state;
    char *dir = path("z", NULL);
    ctx_spool_opts_t o = {0, CTX_SPOOL_BLOCK, 0, fake_pwrite};
    ctx_spool_t *sp;
    budget = 0; /* the disk is full before the first segment */
    assert_int_equal(ctx_spool_new(dir, &o, &sp, err, sizeof err), 0);
    char buf[128];
    size_t n = payload(1, buf);
    errno = 0;
    assert_int_equal(ctx_spool_append(sp, buf, n, 1001, 3, NULL, err, sizeof err), CTX_EIO);
    assert_int_equal(errno, ENOSPC);
    assert_non_null(strstr(err, "cannot create " SEG1 ": No space left on device"));
    assert_int_equal(count_files(dir, ".seg"), 0); /* no half-made segment left */
    budget = -1;
    append_n(sp, 1, 2);
    for (int sw = 0; sw < 2; sw++) {
        short_writes = sw;
        budget = REC_HDR + 3; /* the header fits, the payload does not */
        n = payload(3, buf);
        assert_int_equal(ctx_spool_append(sp, buf, n, 0, 0, NULL, err, sizeof err), CTX_EIO);
        assert_int_equal(errno, ENOSPC);
        assert_non_null(strstr(err, "cannot append 9 bytes to " SEG1 ": No space left on device"));
        assert_int_equal(fsize(path("z", SEG1)), SEG_HDR + recsz(1) + recsz(2)); /* the partial record is gone */
    }
    ctx_spool_stats_t st;
    ctx_spool_stats(sp, &st);
    assert_int_equal(st.io_errors, 3);
    assert_int_equal(st.appended, 2);
    assert_int_equal(st.next_seq, 3); /* no sequence number consumed */
    budget = -1;                      /* space again */
    append_n(sp, 3, 3);
    ctx_spool_free(sp);
    sp = open_spool(dir, 0, CTX_SPOOL_BLOCK, 0);
    ctx_spool_stats(sp, &st);
    assert_int_equal(st.torn_records, 0);
    drain_expect(sp, 1, 3);
    ctx_spool_free(sp);
    short_writes = 0;
}

/* a real full file system: a 64 KiB tmpfs (needs CAP_SYS_ADMIN) */
static void enospc_tmpfs(void **state) {
    (void)state;
    char *mnt = path("mnt", NULL);
    mkdir(mnt, 0700);
    if (mount("tmpfs", mnt, "tmpfs", 0, "size=64k") != 0) {
        print_message("SKIP: cannot mount a tmpfs (%s): ENOSPC covered by the injected test only\n",
                      strerror(errno));
        skip();
    }
    char dir[300];
    snprintf(dir, sizeof dir, "%s/tenant", mnt);
    ctx_spool_t *sp = open_spool(dir, 0, CTX_SPOOL_BLOCK, 1 << 20);
    char rec[4000];
    int ok = 0, rc = 0;
    for (int i = 0; i < 100 && rc == 0; i++) {
        memset(rec, 'a' + i % 26, sizeof rec);
        rc = ctx_spool_append(sp, rec, sizeof rec, 0, (uint32_t)i, NULL, err, sizeof err);
        ok += rc == 0;
    }
    int e = errno;
    assert_int_equal(rc, CTX_EIO);
    assert_int_equal(e, ENOSPC);
    assert_non_null(strstr(err, "No space left on device"));
    ASSERT_GE(ok, 10);
    ASSERT_LT(ok, 17);
    ctx_spool_free(sp);
    sp = open_spool(dir, 0, CTX_SPOOL_BLOCK, 1 << 20);
    ctx_spool_stats_t st;
    ctx_spool_stats(sp, &st);
    assert_int_equal(st.records, (uint64_t)ok);
    assert_int_equal(st.torn_records, 0);
    ctx_spool_rec_t r = {0};
    for (int i = 0; i < ok; i++) {
        assert_int_equal(ctx_spool_peek(sp, &r), 0);
        assert_int_equal(r.tag, (uint32_t)i);
        assert_int_equal(r.len, sizeof rec);
        assert_int_equal(r.data[0], 'a' + i % 26);
        assert_int_equal(ctx_spool_ack(sp, r.seq, err, sizeof err), 0);
    }
    assert_int_equal(count_files(dir, ".seg"), 0); /* drained: the space is free again */
    assert_int_equal(ctx_spool_append(sp, rec, sizeof rec, 0, 99, NULL, err, sizeof err), 0);
    ctx_spool_rec_clear(&r);
    ctx_spool_free(sp);
    umount(mnt);
}

/* ---------------------------------------------------------------- threads */

#define NTHREAD_RECS 300

static void *appender(void *arg) {
    ctx_spool_t *sp = arg;
    char buf[128], e[CTX_ERRLEN];
    for (unsigned i = 1; i <= NTHREAD_RECS; i++) {
        size_t n = payload(i, buf);
        if (ctx_spool_append(sp, buf, n, 1000 + i, i * 3, NULL, e, sizeof e) != 0)
            return (void *)1;
    }
    return NULL;
}

static void appender_and_reader_threads(void **state) {
    (void)state;
    char *dir = path("th", NULL);
    ctx_spool_t *sp = open_spool(dir, 0, CTX_SPOOL_BLOCK, 400); /* many segments: roll + reap race */
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, appender, sp), 0);
    ctx_spool_rec_t r = {0};
    char buf[128];
    unsigned next = 1;
    while (next <= NTHREAD_RECS) {
        int rc = ctx_spool_peek(sp, &r);
        if (rc == CTX_ENOENT) {
            usleep(100);
            continue;
        }
        assert_int_equal(rc, 0);
        size_t n = payload(next, buf);
        assert_int_equal(r.seq, next); /* in order, no gap, no duplicate */
        assert_int_equal(r.len, n);
        assert_memory_equal(r.data, buf, n);
        assert_int_equal(ctx_spool_ack(sp, r.seq, err, sizeof err), 0);
        next++;
    }
    void *ret;
    pthread_join(t, &ret);
    assert_null(ret);
    assert_int_equal(ctx_spool_peek(sp, &r), CTX_ENOENT);
    ASSERT_LE(count_files(dir, ".seg"), 1); /* 0 unless the last append raced the last ack */
    ctx_spool_rec_clear(&r);
    ctx_spool_free(sp);
}

CTX_TEST_MAIN(setup, teardown,
    cmocka_unit_test(order_peek_ack),
    cmocka_unit_test(restart_keeps_position_and_sequence),
    cmocka_unit_test(one_open_per_directory),
    cmocka_unit_test(segments_roll_and_are_deleted),
    cmocka_unit_test(policy_block),
    cmocka_unit_test(policy_drop_oldest),
    cmocka_unit_test(enospc_injected),
    cmocka_unit_test(enospc_tmpfs),
    cmocka_unit_test(appender_and_reader_threads))
