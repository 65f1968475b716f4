/* tenants_fx.h: the fixture of the tenants-file tests (test_tenants.c, test_tenants_errors.c):
 * DATA (tests/data/tenants), a scratch directory tmp with certs/ and adir/ in it (cmocka group
 * setup / teardown), the shared error buffer, and files written or copied into a directory.
 * Include after cmocka.h and ctxlog_common.h. */
#ifndef CTXLOG_TESTS_TENANTS_FX_H
#define CTXLOG_TESTS_TENANTS_FX_H

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#ifndef CTX_SRCDIR
#define CTX_SRCDIR "."
#endif
#define DATA CTX_SRCDIR "/tests/data/tenants"

static char tmp[64];
static char err[CTX_ERRLEN];

static inline int rm_cb(const char *p, const struct stat *sb, int flag, struct FTW *f) {
    (void)sb, (void)flag, (void)f;
    return remove(p);
}

static inline void put_file(const char *dir, const char *name, const char *text, mode_t mode) {
    char p[512];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    assert_int_equal(chmod(p, mode), 0);
}

static inline void copy_in(const char *from, const char *to_dir, const char *name, mode_t mode) {
    char p[512], buf[8192];
    snprintf(p, sizeof p, "%s/%s", from, name);
    FILE *f = fopen(p, "r");
    assert_non_null(f);
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = '\0';
    fclose(f);
    put_file(to_dir, name, buf, mode);
}

static inline int setup(void **state) {
    (void)state;
    snprintf(tmp, sizeof tmp, "/tmp/ctx_tenants_XXXXXX");
    if (mkdtemp(tmp) == NULL)
        return -1;
    char p[256];
    snprintf(p, sizeof p, "%s/certs", tmp);
    mkdir(p, 0700);
    snprintf(p, sizeof p, "%s/adir", tmp);
    mkdir(p, 0700);
    return 0;
}

static inline int teardown(void **state) {
    (void)state;
    nftw(tmp, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
    return 0;
}

#endif
