/* deadletter.c: append rejected batches to a tenant's dead-letter file. Contract
 * and record format in deadletter.h.
 *
 * Concurrency: no shared state; the caller serialises writes to one file.
 */
#include "deadletter.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "batch.h"
#include "ctxlog_common.h"
#include "delivery.h"
#include "outrec.h"
#include "timefmt.h"

const char *ctx_deadletter_format_name(ctx_batch_format_t f) {
    if (f == CTX_BATCH_OCTET_COUNTED) return "octet-counted";
    return ctx_fmt_name(ctx_batch_fmt(f)); /* "ndjson", "elasticsearch", ... */
}

/* appends s verbatim (raw) or JSON-escaped to the growable buffer */
static int cat(char **b, size_t *used, size_t *cap, const char *s, int escape) {
    if (escape) return ctx_json_escape_append(b, used, cap, s, strlen(s));
    size_t n = strlen(s);
    if (*cap - *used < n + 1) {
        size_t ncap = (*used + n + 1) * 2;
        char *nb = realloc(*b, ncap);
        if (nb == NULL) return CTX_ENOMEM;
        *b = nb, *cap = ncap;
    }
    memcpy(*b + *used, s, n + 1);
    *used += n;
    return 0;
}

/* the header line, malloc'd into *out */
static int header(const char *tenant, const char *reason, uint32_t tag, ctx_encoding_t enc, size_t bytes, char **out,
                  size_t *outlen) {
    char ts[CTX_RFC3339_US_LEN], tail[160];
    struct timeval tv;
    gettimeofday(&tv, NULL);
    if (ctx_rfc3339_us(&tv, ts, sizeof ts) < 0) snprintf(ts, sizeof ts, "-");
    snprintf(tail, sizeof tail, "\",\"messages\":%zu,\"format\":\"%s\",\"encoding\":\"%s\",\"bytes\":%zu}}\n",
             CTX_DEST_TAG_MSGS(tag), ctx_deadletter_format_name(CTX_DEST_TAG_FMT(tag)), ctx_encoding_name(enc), bytes);
    char *b = NULL;
    size_t used = 0, cap = 0;
    int rc = cat(&b, &used, &cap, "{\"deadletter\":{\"time\":\"", 0);
    if (rc == 0) rc = cat(&b, &used, &cap, ts, 0);
    if (rc == 0) rc = cat(&b, &used, &cap, "\",\"tenant\":\"", 0);
    if (rc == 0) rc = cat(&b, &used, &cap, tenant ? tenant : "", 1);
    if (rc == 0) rc = cat(&b, &used, &cap, "\",\"reason\":\"", 0);
    if (rc == 0) rc = cat(&b, &used, &cap, reason ? reason : "", 1);
    if (rc == 0) rc = cat(&b, &used, &cap, tail, 0);
    if (rc != 0) {
        free(b);
        return CTX_ENOMEM;
    }
    *out = b;
    *outlen = used;
    return 0;
}

static int write_all(int fd, const void *p, size_t n) {
    const char *c = p;
    while (n > 0) {
        ssize_t w = write(fd, c, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return -1;
        c += w;
        n -= (size_t)w;
    }
    return 0;
}

/* FILE -> FILE.1 -> ... -> FILE.<keep>; the oldest is deleted. 0, or -1 with errno. */
static int rotate(const char *path, unsigned keep) {
    char from[4096], to[4096];
    if (keep == 0) return (unlink(path) == 0 || errno == ENOENT) ? 0 : -1;
    for (unsigned i = keep; i >= 1; i--) {
        snprintf(to, sizeof to, "%s.%u", path, i);
        if (i == 1) snprintf(from, sizeof from, "%s", path);
        else snprintf(from, sizeof from, "%s.%u", path, i - 1);
        if (rename(from, to) != 0 && errno != ENOENT) return -1;
    }
    return 0;
}

/* rotates the file first if the record would take it past the bound; 0, CTX_EFULL, CTX_EIO */
static int make_room(const char *path, size_t need, const ctx_deadletter_limits_t *lim, int *rotated, char *err,
                     size_t errlen) {
    struct stat st;
    if (lim == NULL || lim->max_bytes == 0) return 0;
    if (need > lim->max_bytes) {
        snprintf(err, errlen, "dead-letter file %s: a record of %zu bytes is larger than deadletter.maxSize (%llu)", path,
                 need, (unsigned long long)lim->max_bytes);
        return CTX_EFULL;
    }
    if (stat(path, &st) != 0 || (uint64_t)st.st_size + need <= lim->max_bytes) return 0;
    if (rotate(path, lim->keep > 99 ? 99 : lim->keep) != 0) {
        snprintf(err, errlen, "dead-letter file %s: cannot rotate: %s", path, strerror(errno));
        return CTX_EIO;
    }
    if (rotated) *rotated = 1;
    return 0;
}

int ctx_deadletter_write(const char *path, const char *tenant, const char *reason, const void *body, size_t len,
                         uint32_t tag, const ctx_deadletter_limits_t *lim, size_t *written, int *rotated, char *err,
                         size_t errlen) {
    ctx_encoding_t enc = CTX_DEST_TAG_ENC(tag);
    if (written) *written = 0;
    if (rotated) *rotated = 0;
    unsigned char *plain = NULL;
    size_t plen = 0;
    if (enc != CTX_ENC_NONE && ctx_batch_decode(enc, body, len, 512u << 20, &plain, &plen) == 0) {
        body = plain, len = plen, enc = CTX_ENC_NONE;
    }
    char *hdr = NULL;
    size_t hlen = 0;
    int rc = header(tenant, reason, tag, enc, len, &hdr, &hlen);
    if (rc == 0) rc = make_room(path, hlen + len + 1, lim, rotated, err, errlen);
    if (rc != 0) {
        free(hdr);
        free(plain);
        return rc;
    }
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    off_t start = fd >= 0 ? lseek(fd, 0, SEEK_END) : -1;
    if (fd < 0 || start < 0 || write_all(fd, hdr, hlen) != 0 || write_all(fd, body, len) != 0 ||
        write_all(fd, "\n", 1) != 0 || fsync(fd) != 0) {
        int saved = errno;
        snprintf(err, errlen, "dead-letter file %s: %s", path, strerror(saved));
        if (fd >= 0 && start >= 0 && ftruncate(fd, start) != 0) { /* best effort: no partial record */
        }
        if (fd >= 0) close(fd);
        free(hdr);
        free(plain);
        errno = saved;
        return CTX_EIO;
    }
    close(fd);
    if (written) *written = hlen + len + 1;
    free(hdr);
    free(plain);
    return 0;
}
