/* fuzz_spool: any bytes as the content of a spool directory (first byte: flags;
 * bit 0 prepends a valid segment header so the record parser is reached, bit 1
 * takes the next 128 bytes as the ack file). Open must recover or fail cleanly,
 * every record read must be whole, and the spool must then take an append. */
#include <fcntl.h>
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "ctxlog_common.h"
#include "spool.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int rm_cb(const char *p, const struct stat *sb, int flag, struct FTW *f) {
    (void)sb, (void)flag, (void)f;
    return remove(p);
}

static void put(const char *dir, const char *name, const void *a, size_t alen, const void *b, size_t blen) {
    char p[300];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0)
        abort();
    if ((alen && write(fd, a, alen) != (ssize_t)alen) || (blen && write(fd, b, blen) != (ssize_t)blen))
        abort();
    close(fd);
}

static void seg_header(unsigned char *h) {
    memset(h, 0, 32);
    memcpy(h, "CTXSPL01", 8);
    h[8] = 1;     /* version */
    h[16] = 1;    /* segment id 1 */
    uint32_t c = (uint32_t)crc32(0, h + 16, 16);
    for (int i = 0; i < 4; i++)
        h[12 + i] = (unsigned char)(c >> (8 * i));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1)
        return 0;
    char dir[] = "/tmp/fuzz_spool_XXXXXX";
    if (mkdtemp(dir) == NULL)
        abort();
    unsigned flags = data[0];
    data++, size--;
    if ((flags & 2) && size >= 128) {
        put(dir, "ack", data, 128, NULL, 0);
        data += 128, size -= 128;
    }
    unsigned char h[32];
    seg_header(h);
    put(dir, "0000000000000001.seg", h, (flags & 1) ? 32 : 0, data, size);
    char err[CTX_ERRLEN];
    ctx_spool_t *sp = NULL;
    if (ctx_spool_new(dir, NULL, &sp, err, sizeof err) == 0) {
        ctx_spool_rec_t r = {0};
        uint64_t last = 0;
        for (int i = 0; i < 10000 && ctx_spool_peek(sp, &r) == 0; i++) {
            if (r.len == 0 || r.len > CTX_SPOOL_MAX_RECORD || ctx_spool_ack(sp, r.seq, err, sizeof err) != 0)
                abort();
            last = r.seq;
        }
        uint64_t seq;
        if (ctx_spool_append(sp, "x", 1, 0, 0, &seq, err, sizeof err) != 0 || seq <= last)
            abort();
        ctx_spool_rec_clear(&r);
        ctx_spool_free(sp);
    }
    nftw(dir, rm_cb, 8, FTW_DEPTH | FTW_PHYS);
    return 0;
}
