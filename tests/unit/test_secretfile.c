/* test_secretfile.c: the owner and mode rules for files holding secrets (secretfile.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>
#include "check.h"

#include "secretfile.h"

static int verdict(unsigned mode, uid_t owner, uid_t euid, char *msg, size_t msglen) {
    struct stat st;
    memset(&st, 0, sizeof st);
    st.st_mode = S_IFREG | mode;
    st.st_uid = owner;
    return ctx_secret_check(&st, euid, msg, msglen);
}

static void modes(void **state) {
    (void)state;
    char m[160];
    assert_int_equal(verdict(0600, 0, 0, m, sizeof m), CTX_SECRET_OK);
    assert_int_equal(verdict(0400, 0, 0, m, sizeof m), CTX_SECRET_OK);
    assert_int_equal(verdict(0640, 0, 0, m, sizeof m), CTX_SECRET_WARN);
    assert_string_equal(m, "readable by its group (mode 0640): expected 0600");
    assert_int_equal(verdict(0620, 0, 0, m, sizeof m), CTX_SECRET_WARN);
    assert_string_equal(m, "writable by its group (mode 0620): expected 0600");
    assert_int_equal(verdict(0644, 0, 0, m, sizeof m), CTX_SECRET_WARN);
    assert_string_equal(m, "readable by every user (mode 0644): expected 0600");
    assert_int_equal(verdict(0602, 0, 0, m, sizeof m), CTX_SECRET_REFUSE);
    assert_string_equal(m, "writable by every user (mode 0602): expected 0600");
}

static void owners(void **state) {
    (void)state;
    char m[160];
    assert_int_equal(verdict(0600, 104, 104, m, sizeof m), CTX_SECRET_OK); /* rsyslogd's own user */
    assert_int_equal(verdict(0600, 0, 104, m, sizeof m), CTX_SECRET_OK);   /* root's */
    assert_int_equal(verdict(0600, 1000, 0, m, sizeof m), CTX_SECRET_REFUSE);
    assert_string_equal(m, "owned by uid 1000, neither root nor the user rsyslogd runs as (uid 0)");
}

static void not_regular(void **state) {
    (void)state;
    char m[160];
    struct stat st;
    memset(&st, 0, sizeof st);
    st.st_mode = S_IFDIR | 0700;
    assert_int_equal(ctx_secret_check(&st, 0, m, sizeof m), CTX_SECRET_REFUSE);
    assert_string_equal(m, "not a regular file");
}

static int dir_verdict(mode_t type, unsigned mode, uid_t owner, char *msg, size_t msglen) {
    struct stat st;
    memset(&st, 0, sizeof st);
    st.st_mode = type | mode;
    st.st_uid = owner;
    return ctx_private_dir_check(&st, 0, msg, msglen);
}

static void private_dirs(void **state) {
    (void)state;
    char m[160];
    assert_int_equal(dir_verdict(S_IFDIR, 0700, 0, m, sizeof m), CTX_SECRET_OK);
    assert_int_equal(dir_verdict(S_IFDIR, 0750, 0, m, sizeof m), CTX_SECRET_OK);
    assert_int_equal(dir_verdict(S_IFDIR, 0755, 0, m, sizeof m), CTX_SECRET_WARN);
    assert_string_equal(m, "open to every user (mode 0755): expected 0700");
    assert_int_equal(dir_verdict(S_IFDIR, 0770, 0, m, sizeof m), CTX_SECRET_REFUSE);
    assert_string_equal(m, "writable by its group (mode 0770): expected 0700");
    assert_int_equal(dir_verdict(S_IFDIR, 01777, 0, m, sizeof m), CTX_SECRET_REFUSE);
    assert_string_equal(m, "writable by every user (mode 1777): expected 0700");
    assert_int_equal(dir_verdict(S_IFLNK, 0777, 0, m, sizeof m), CTX_SECRET_REFUSE);
    assert_string_equal(m, "a symbolic link: expected a directory");
    assert_int_equal(dir_verdict(S_IFREG, 0700, 0, m, sizeof m), CTX_SECRET_REFUSE);
    assert_int_equal(dir_verdict(S_IFDIR, 0700, 1000, m, sizeof m), CTX_SECRET_REFUSE);
    assert_string_equal(m, "owned by uid 1000, neither root nor the user rsyslogd runs as (uid 0)");
}

CTX_TEST_MAIN(NULL, NULL,
    cmocka_unit_test(modes),
    cmocka_unit_test(owners),
    cmocka_unit_test(not_regular),
    cmocka_unit_test(private_dirs))
