/* spool_stamp.c: a tenant's spool bound to the tenant and destination it was written
 * for (spool_stamp.h). */
#include "spool_stamp.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ctxlog_common.h"

int ctx_spool_stamp_make(const char *tenant, const char *destination, char *out, size_t outlen) {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    char hex[2 * EVP_MAX_MD_SIZE + 1];
    if (tenant == NULL || destination == NULL || out == NULL) return CTX_EINVAL;
    if (EVP_Digest(destination, strlen(destination), md, &mdlen, EVP_sha256(), NULL) != 1) return CTX_EINVAL;
    for (unsigned i = 0; i < mdlen; i++) snprintf(hex + 2 * i, 3, "%02x", md[i]);
    int n = snprintf(out, outlen, "tenant=%s dest-sha256=%s\n", tenant, hex);
    return n < 0 || (size_t)n >= outlen ? CTX_EFULL : 0;
}

static int read_stamp(const char *path, char *buf, size_t buflen) {
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) return errno == ENOENT ? 0 : -1;
    ssize_t n = read(fd, buf, buflen - 1);
    close(fd);
    if (n < 0) return -1;
    buf[n] = '\0';
    return 1;
}

int ctx_spool_stamp_check(const char *dir, const char *stamp, char *moved_to, size_t movedlen, char *err,
                          size_t errlen) {
    char path[4096], have[CTX_SPOOL_STAMP_LEN * 2];
    struct stat st;
    if (stat(dir, &st) != 0) return errno == ENOENT ? 0 : (snprintf(err, errlen, "spool %s: %s", dir, strerror(errno)), CTX_EIO);
    snprintf(path, sizeof path, "%s/stamp", dir);
    int r = read_stamp(path, have, sizeof have);
    if (r < 0) return snprintf(err, errlen, "spool %s: cannot read its stamp: %s", dir, strerror(errno)), CTX_EIO;
    if (r == 0) return ctx_spool_stamp_write(dir, stamp, err, errlen);
    if (strcmp(have, stamp) == 0) return 0;
    char when[32];
    time_t now = time(NULL);
    struct tm tm;
    strftime(when, sizeof when, "%Y%m%dT%H%M%SZ", gmtime_r(&now, &tm));
    snprintf(moved_to, movedlen, "%s.quarantine-%s", dir, when);
    if (rename(dir, moved_to) != 0)
        return snprintf(err, errlen, "spool %s: cannot move it to %s: %s", dir, moved_to, strerror(errno)), CTX_EIO;
    return 1;
}

int ctx_spool_stamp_write(const char *dir, const char *stamp, char *err, size_t errlen) {
    char tmp[4096], path[4096];
    snprintf(tmp, sizeof tmp, "%s/stamp.tmp", dir);
    snprintf(path, sizeof path, "%s/stamp", dir);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
    size_t len = strlen(stamp);
    int ok = fd >= 0 && write(fd, stamp, len) == (ssize_t)len && fsync(fd) == 0;
    int saved = errno;
    if (fd >= 0) close(fd);
    if (!ok || rename(tmp, path) != 0) {
        if (ok) saved = errno;
        unlink(tmp);
        snprintf(err, errlen, "spool %s: cannot write its stamp: %s", dir, strerror(saved));
        return CTX_EIO;
    }
    return 0;
}
