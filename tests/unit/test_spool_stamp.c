/* test_spool_stamp.c: a spool bound to its tenant and destination (common/deliver/spool_stamp.c):
 * the stamp's text, a missing directory, an unstamped spool (stamped), the same stamp,
 * another stamp (moved aside, contents kept there). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include "check.h"

#include "ctxlog_common.h"
#include "spool_stamp.h"
#include "tmpdir.h"

static char top[64];
static char dir[300];

static int setup(void **state) {
    (void)state;
    if (tmpdir_make(top, sizeof top, "ctx-stamp") != 0) return -1;
    snprintf(dir, sizeof dir, "%s/acme", top);
    return 0;
}

static int teardown(void **state) {
    (void)state;
    return tmpdir_remove(top);
}

static void stamp_text(void **state) {
    (void)state;
    char s[CTX_SPOOL_STAMP_LEN];
    assert_int_equal(ctx_spool_stamp_make("acme", "https://logs.acme.example/ingest", s, sizeof s), 0);
    assert_int_equal(strncmp(s, "tenant=acme dest-sha256=", 24), 0);
    assert_int_equal(strlen(s), 24 + 64 + 1);
    char t[CTX_SPOOL_STAMP_LEN];
    assert_int_equal(ctx_spool_stamp_make("acme", "https://logs.acme.example/ingest2", t, sizeof t), 0);
    assert_string_not_equal(s, t);
    assert_int_equal(ctx_spool_stamp_make("acme", "x", s, 10), CTX_EFULL);
}

static void lifecycle(void **state) {
    (void)state;
    char a[CTX_SPOOL_STAMP_LEN], b[CTX_SPOOL_STAMP_LEN], moved[400] = "", err[CTX_ERRLEN] = "", path[400];
    ctx_spool_stamp_make("acme", "https://a.example/", a, sizeof a);
    ctx_spool_stamp_make("acme", "https://b.example/", b, sizeof b);
    assert_int_equal(ctx_spool_stamp_check(dir, a, moved, sizeof moved, err, sizeof err), 0); /* no spool yet */
    assert_int_equal(mkdir(dir, 0700), 0);
    snprintf(path, sizeof path, "%s/0000000000000001.seg", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("data", f);
    fclose(f);
    assert_int_equal(ctx_spool_stamp_check(dir, a, moved, sizeof moved, err, sizeof err), 0); /* unstamped: stamped */
    snprintf(path, sizeof path, "%s/stamp", dir);
    f = fopen(path, "r");
    assert_non_null(f);
    char line[CTX_SPOOL_STAMP_LEN] = "";
    assert_non_null(fgets(line, sizeof line, f));
    fclose(f);
    assert_string_equal(line, a);
    assert_int_equal(ctx_spool_stamp_check(dir, a, moved, sizeof moved, err, sizeof err), 0); /* same */
    assert_int_equal(ctx_spool_stamp_check(dir, b, moved, sizeof moved, err, sizeof err), 1); /* another */
    assert_int_equal(strncmp(moved, dir, strlen(dir)), 0);
    assert_non_null(strstr(moved, ".quarantine-"));
    struct stat st;
    assert_int_not_equal(stat(dir, &st), 0);
    snprintf(path, sizeof path, "%s/0000000000000001.seg", moved);
    assert_int_equal(stat(path, &st), 0);
}

CTX_TEST_MAIN(NULL, NULL,
    cmocka_unit_test(stamp_text),
    cmocka_unit_test_setup_teardown(lifecycle, setup, teardown))
