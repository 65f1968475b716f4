/* cfgfile.c: bounded whole-file reads for configuration files (cfgfile.h). */
#include "cfgfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ctxlog_common.h"

static int fail(char *err, size_t errlen, int rc, const char *path, const char *reason, size_t max, const char *what) {
    if (err == NULL || errlen == 0) return rc;
    if (rc == CTX_EFULL)
        snprintf(err, errlen, "%s: larger than %zu bytes, the most a %s may be", path, max, what);
    else
        snprintf(err, errlen, "%s: cannot read: %s", path, reason);
    return rc;
}

/* reads up to cap bytes (the file may be growing): the count, or -1 with errno */
static ssize_t read_up_to(int fd, char *b, size_t cap) {
    size_t got = 0;
    while (got < cap) {
        ssize_t n = read(fd, b + got, cap - got);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return -1;
        if (n == 0) break;
        got += (size_t)n;
    }
    return (ssize_t)got;
}

int ctx_cfg_read(const char *path, const char *what, size_t max_bytes, char **buf, size_t *len, char *err,
                 size_t errlen) {
    struct stat st;
    if (path == NULL || buf == NULL || len == NULL) return CTX_EINVAL;
    *buf = NULL;
    *len = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0 || fstat(fd, &st) != 0) {
        int e = errno;
        if (fd >= 0) close(fd);
        return fail(err, errlen, CTX_EIO, path, strerror(e), 0, NULL);
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return fail(err, errlen, CTX_EIO, path, "not a regular file", 0, NULL);
    }
    if ((uint64_t)st.st_size > max_bytes) {
        close(fd);
        return fail(err, errlen, CTX_EFULL, path, NULL, max_bytes, what);
    }
    size_t cap = (size_t)st.st_size + 1; /* one more: a file that grew is noticed */
    char *b = malloc(cap + 1);
    if (b == NULL) {
        close(fd);
        return fail(err, errlen, CTX_ENOMEM, path, "out of memory", 0, NULL);
    }
    ssize_t n = read_up_to(fd, b, cap);
    int e = errno;
    close(fd);
    if (n < 0 || (size_t)n == cap) {
        free(b);
        return fail(err, errlen, CTX_EIO, path, n < 0 ? strerror(e) : "it changed while read",
                    0, NULL);
    }
    b[n] = '\0';
    *buf = b;
    *len = (size_t)n;
    return 0;
}

int ctx_cfg_load(const char *path, const char *what, size_t max_bytes, ctx_cfg_parse_fn parse, void *out, char *err,
                 size_t errlen) {
    char dummy[8];
    if (err == NULL || errlen == 0) {
        err = dummy;
        errlen = sizeof dummy;
    }
    err[0] = '\0';
    char *buf = NULL;
    size_t len = 0;
    int rc = ctx_cfg_read(path, what, max_bytes, &buf, &len, err, errlen);
    if (rc == 0) rc = parse(buf, len, path, out, err, errlen);
    free(buf);
    return rc;
}
