/* test_cfgfile.c: the one bounded reader of configuration files (common/base/cfgfile.c):
 * contents and NUL termination, the size bound (at, above), a missing file, a directory,
 * and no message buffer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "check.h"

#include "cfgfile.h"
#include "ctxlog_common.h"

static char path[] = "/tmp/test_cfgfile_XXXXXX";

static void write_bytes(size_t n) {
    strcpy(path, "/tmp/test_cfgfile_XXXXXX");
    int fd = mkstemp(path);
    ASSERT_GE(fd, 0);
    for (size_t i = 0; i < n; i++) assert_int_equal(write(fd, i % 64 == 63 ? "\n" : "x", 1), 1);
    close(fd);
}

static void reads_whole_and_bounds(void **state) {
    (void)state;
    char *buf = NULL, err[CTX_ERRLEN] = "", want[CTX_ERRLEN];
    size_t len = 0;
    write_bytes(1000);
    assert_int_equal(ctx_cfg_read(path, "test file", 1000, &buf, &len, err, sizeof err), 0);
    assert_int_equal(len, 1000);
    assert_int_equal(buf[1000], '\0');
    assert_int_equal(buf[63], '\n');
    free(buf);
    assert_int_equal(ctx_cfg_read(path, "test file", 999, &buf, &len, err, sizeof err), CTX_EFULL);
    assert_null(buf);
    snprintf(want, sizeof want, "%s: larger than 999 bytes, the most a test file may be", path);
    assert_string_equal(err, want);
    assert_int_equal(ctx_cfg_read(path, "test file", 999, &buf, &len, NULL, 0), CTX_EFULL);
    unlink(path);
    write_bytes(0);
    assert_int_equal(ctx_cfg_read(path, "test file", 10, &buf, &len, err, sizeof err), 0);
    assert_int_equal(len, 0);
    assert_string_equal(buf, "");
    free(buf);
    unlink(path);
}

static void errors(void **state) {
    (void)state;
    char *buf = NULL, err[CTX_ERRLEN] = "";
    size_t len = 0;
    assert_int_equal(ctx_cfg_read("/nonexistent/x.json", "test file", 10, &buf, &len, err, sizeof err), CTX_EIO);
    assert_string_equal(err, "/nonexistent/x.json: cannot read: No such file or directory");
    assert_int_equal(ctx_cfg_read("/tmp", "test file", 10, &buf, &len, err, sizeof err), CTX_EIO);
    assert_string_equal(err, "/tmp: cannot read: not a regular file");
    assert_int_equal(ctx_cfg_read(NULL, "test file", 10, &buf, &len, err, sizeof err), CTX_EINVAL);
}

CTX_TEST_MAIN(NULL, NULL,
    cmocka_unit_test(reads_whole_and_bounds),
    cmocka_unit_test(errors))
