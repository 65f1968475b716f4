/* spool_int.h: what spool.c (open, append, peek, ack) and spool_recover.c (the ack
 * file and recovery at open) share: the on-disk layout, the spool's state and small
 * helpers. Internal to the spool: use spool.h. */
#ifndef CTXLOG_SPOOL_INT_H
#define CTXLOG_SPOOL_INT_H

#include "spool.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>
#include "ctxlog_common.h"
#include "grow.h"

#define SEG_MAGIC "CTXSPL01"
#define SEG_VERSION 1u
#define SEG_HDR 32u /* magic[8] version u32 crc u32 id u64 created_us u64 */
#define REC_MAGIC 0x52585443u /* "CTXR" */
#define REC_HDR 40u /* magic u32 len u32 seq u64 append_us u64 batch_us u64 tag u32 crc u32 */
#define ACK_MAGIC 0x41585443u /* "CTXA" */
#define ACK_SLOT 64u /* magic u32 crc u32 gen u64 seg u64 off u64 seq u64, zero padding */
#define ACK_USED 40u
#define SEG_NAME_LEN 20 /* 16 hex + ".seg" */

typedef struct {
    uint64_t id;        /* segment number (file name) */
    uint64_t size;      /* committed bytes: header + whole records */
    uint64_t first_seq; /* seq of the first record, if nrec > 0 */
    uint64_t nrec;      /* records; their seqs are first_seq .. first_seq + nrec - 1 */
} seg_t;

struct ctx_spool {
    char *dir;     /* read-only */
    int dirfd;     /* read-only: the directory, for *at() calls and fsync */
    int lockfd;    /* read-only: flock'd */
    int ackfd;     /* rd */
    ctx_spool_pwrite_fn pwrite_fn; /* read-only */
    uint64_t segment_bytes;        /* read-only */
    pthread_mutex_t wr, rd, meta;

    int wfd;              /* wr: write segment (= segs[nsegs-1]) or -1: next append makes one */
    uint64_t next_seq;    /* wr (read under meta for stats: written under meta too) */
    uint64_t next_seg_id; /* wr */

    int rfd;          /* rd: read fd of segment rseg, or -1 */
    uint64_t rseg;    /* rd */
    uint64_t ack_gen; /* rd: generation of the last ack slot written */
    uint64_t seq_floor; /* open only: the ack file's seq: next_seq stays above it */
    int peek_valid;   /* rd: peek_* describe the record the last peek returned */
    uint64_t peek_seq, peek_seg, peek_end;

    seg_t *segs; /* meta: ascending ids */
    size_t nsegs, capsegs;
    uint64_t ack_seg, ack_off, ack_seq; /* meta: delivered up to here */
    uint64_t total_bytes;               /* meta */
    uint64_t max_bytes;                 /* meta */
    ctx_spool_policy_t when_full;       /* meta */
    ctx_spool_stats_t st;               /* meta: counters (records/bytes/segments computed) */
};

/* a position in the spool: segment, offset; for reads also the committed end of
 * that segment and the seq of its last record */
typedef struct {
    uint64_t seg, off, end, last_seq;
} readpos_t;

/* ---------------------------------------------------------------- helpers */

static inline void put32(unsigned char *p, uint32_t v) {
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static inline void put64(unsigned char *p, uint64_t v) {
    for (int i = 0; i < 8; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static inline uint32_t get32(const unsigned char *p) {
    uint32_t v = 0;
    for (int i = 3; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

static inline uint64_t get64(const unsigned char *p) {
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

static inline uint32_t crc(uint32_t c, const void *p, size_t n) {
    const unsigned char *b = p;
    while (n > 0) {
        uInt k = n > (1u << 30) ? (1u << 30) : (uInt)n;
        c = (uint32_t)crc32(c, b, k);
        b += k;
        n -= k;
    }
    return c;
}

static inline uint64_t now_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static inline void seg_name(char *buf, uint64_t id) {
    snprintf(buf, SEG_NAME_LEN + 1, "%016llx.seg", (unsigned long long)id);
}

static inline int seterr(char *err, size_t errlen, int rc, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static inline int seterr(char *err, size_t errlen, int rc, const char *fmt, ...) {
    if (err && errlen) {
        int saved = errno;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
        errno = saved;
    }
    return rc;
}

static inline int full_pread(int fd, void *buf, size_t len, off_t off) {
    unsigned char *p = buf;
    while (len > 0) {
        ssize_t n = pread(fd, p, len, off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return n == 0 ? CTX_ETRUNC : CTX_EIO;
        p += n;
        len -= (size_t)n;
        off += n;
    }
    return CTX_OK;
}

static inline int full_pwrite(ctx_spool_pwrite_fn fn, int fd, const void *buf, size_t len, off_t off) {
    const unsigned char *p = buf;
    while (len > 0) {
        ssize_t n = fn(fd, p, len, off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return CTX_EIO;
        if (n == 0) {
            errno = EIO;
            return CTX_EIO;
        }
        p += n;
        len -= (size_t)n;
        off += n;
    }
    return CTX_OK;
}

static inline int segs_push(ctx_spool_t *sp, const seg_t *s) {
    if (sp->nsegs == sp->capsegs) {
        seg_t *p = ctx_grow(sp->segs, &sp->capsegs, sizeof *p, 16);
        if (p == NULL)
            return CTX_ENOMEM;
        sp->segs = p;
    }
    sp->segs[sp->nsegs++] = *s;
    return CTX_OK;
}

static inline void segs_remove_first(ctx_spool_t *sp) {
    memmove(sp->segs, sp->segs + 1, (sp->nsegs - 1) * sizeof *sp->segs);
    sp->nsegs--;
}

static inline uint64_t seg_last_seq(const seg_t *s) {
    return s->first_seq + s->nrec - 1;
}

/* meta held: records of s not yet delivered and their bytes */
static inline void seg_unacked(const ctx_spool_t *sp, const seg_t *s, uint64_t *recs, uint64_t *bytes) {
    *recs = 0;
    *bytes = 0;
    if (s->nrec == 0 || sp->ack_seg > s->id)
        return;
    if (sp->ack_seg < s->id) {
        *recs = s->nrec;
        *bytes = s->size - SEG_HDR;
        return;
    }
    uint64_t last = seg_last_seq(s);
    *bytes = s->size > sp->ack_off ? s->size - sp->ack_off : 0;
    *recs = last > sp->ack_seq ? last - sp->ack_seq : 0;
    if (*recs > s->nrec)
        *recs = s->nrec;
}


/* spool_recover.c */
void spool_ack_read(ctx_spool_t *sp);
int spool_ack_write(ctx_spool_t *sp, uint64_t seg, uint64_t off, uint64_t seq);
int spool_recover_all(ctx_spool_t *sp, char *err, size_t errlen);
size_t spool_reap_acked(ctx_spool_t *sp, uint64_t *out, size_t max);
void spool_unlink_segs(ctx_spool_t *sp, const uint64_t *ids, size_t n);
int spool_finish_recovery(ctx_spool_t *sp, char *err, size_t errlen);

#endif
