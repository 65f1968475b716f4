/* test_deadletter.c: the dead-letter file (common/deliver/deadletter.c): records as documented,
 * rotation at the bound (FILE -> FILE.1 -> FILE.2, the oldest deleted), a record larger
 * than the bound refused, and unbounded writing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "check.h"
#include "tmpdir.h"

#include "batch.h"
#include "ctxlog_common.h"
#include "deadletter.h"
#include "delivery.h"

static char dir[64];
static char path[256];

static int setup(void **state) {
    (void)state;
    if (tmpdir_make(dir, sizeof dir, "ctx-deadletter") != 0) return -1;
    snprintf(path, sizeof path, "%s/acme.deadletter", dir);
    return 0;
}

static int teardown(void **state) {
    (void)state;
    return tmpdir_remove(dir);
}

static long size_of(const char *p) {
    struct stat st;
    return stat(p, &st) == 0 ? (long)st.st_size : -1;
}

static int write_one(const char *body, const ctx_deadletter_limits_t *lim, size_t *written, int *rotated) {
    char err[CTX_ERRLEN] = "";
    uint32_t tag = CTX_DEST_TAG(CTX_ENC_NONE, CTX_BATCH_NDJSON, 3);
    return ctx_deadletter_write(path, "acme", "HTTP 400: bad", body, strlen(body), tag, lim, written, rotated, err,
                                sizeof err);
}

static void record_format(void **state) {
    (void)state;
    size_t written = 0;
    int rotated = -1;
    assert_int_equal(write_one("{\"a\":1}\n", NULL, &written, &rotated), 0);
    assert_int_equal(rotated, 0);
    assert_int_equal((long)written, size_of(path));
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    char line[512];
    assert_non_null(fgets(line, sizeof line, f));
    assert_non_null(strstr(line, "\"tenant\":\"acme\",\"reason\":\"HTTP 400: bad\",\"messages\":3"));
    assert_non_null(strstr(line, "\"bytes\":8}}"));
    assert_non_null(fgets(line, sizeof line, f));
    assert_string_equal(line, "{\"a\":1}\n");
    fclose(f);
}

static void rotates_at_bound_and_keeps_two(void **state) {
    (void)state;
    char body[301];
    memset(body, 'x', 300);
    body[300] = '\0';
    size_t written = 0;
    int rotated = 0;
    assert_int_equal(write_one(body, NULL, &written, &rotated), 0); /* one record's size */
    unlink(path);
    ctx_deadletter_limits_t lim = {.max_bytes = 2 * written + written / 2, .keep = 2};
    int rotations = 0;
    for (int i = 0; i < 9; i++) {
        assert_int_equal(write_one(body, &lim, NULL, &rotated), 0);
        rotations += rotated;
        ASSERT_LE(size_of(path), (long)lim.max_bytes);
    }
    /* two records per file: 9 records = 4 rotations, files of 1 (current), 2, 2 records */
    assert_int_equal(rotations, 4);
    char p1[300], p2[300], p3[300];
    snprintf(p1, sizeof p1, "%s.1", path);
    snprintf(p2, sizeof p2, "%s.2", path);
    snprintf(p3, sizeof p3, "%s.3", path);
    assert_int_equal(size_of(path), (long)written);
    assert_int_equal(size_of(p1), (long)(2 * written));
    assert_int_equal(size_of(p2), (long)(2 * written));
    assert_int_equal(size_of(p3), -1);
}

static void too_large_is_refused(void **state) {
    (void)state;
    ctx_deadletter_limits_t lim = {.max_bytes = 100, .keep = 1};
    char body[200], err[CTX_ERRLEN] = "";
    memset(body, 'y', sizeof body - 1);
    body[sizeof body - 1] = '\0';
    size_t written = 99;
    uint32_t tag = CTX_DEST_TAG(CTX_ENC_NONE, CTX_BATCH_NDJSON, 1);
    int rc = ctx_deadletter_write(path, "acme", "HTTP 400", body, strlen(body), tag, &lim, &written, NULL, err,
                                  sizeof err);
    assert_int_equal(rc, CTX_EFULL);
    assert_int_equal(written, 0);
    assert_non_null(strstr(err, "larger than deadletter.maxSize (100)"));
    assert_int_equal(size_of(path), -1);
}

static void keep_zero_deletes(void **state) {
    (void)state;
    size_t written = 0;
    assert_int_equal(write_one("0123456789\n", NULL, &written, NULL), 0);
    ctx_deadletter_limits_t lim = {.max_bytes = written + 1, .keep = 0};
    int rotated = 0;
    assert_int_equal(write_one("0123456789\n", &lim, NULL, &rotated), 0);
    assert_int_equal(rotated, 1);
    assert_int_equal(size_of(path), (long)written);
    char p1[300];
    snprintf(p1, sizeof p1, "%s.1", path);
    assert_int_equal(size_of(p1), -1);
}

CTX_TEST_MAIN(NULL, NULL,
    cmocka_unit_test_setup_teardown(record_format, setup, teardown),
    cmocka_unit_test_setup_teardown(rotates_at_bound_and_keeps_two, setup, teardown),
    cmocka_unit_test_setup_teardown(too_large_is_refused, setup, teardown),
    cmocka_unit_test_setup_teardown(keep_zero_deletes, setup, teardown))
