/* spool.c: per-tenant durable spool of batches (see spool.h, docs/spool.md).
 *
 * On disk, in the spool directory:
 *   NNNNNNNNNNNNNNNN.seg  segments, 16 lower-case hex digits of a number that only
 *                         grows; a 32-byte header, then records back to back
 *   ack                   two 64-byte slots, written alternately; the valid slot with
 *                         the higher generation is the delivered-up-to position
 *   lock                  flock'd while the spool is open
 * All integers little-endian. CRC-32 is zlib's crc32() (ISO-HDLC polynomial).
 *
 * Concurrency: three mutexes.
 *   wr    serialises appends; held across the segment write and fsync. Guards wfd,
 *         next_seq, next_seg_id.
 *   rd    serialises peek / ack; held across the read and the ack file write.
 *         Guards rfd, rseg, ack_gen and the peek_* fields.
 *   meta  guards segs[], the ack position, total_bytes, limits and counters; only
 *         held for bookkeeping, never across I/O.
 * Lock order: wr or rd first, then meta; wr and rd are never held together.
 * A reader never sees a half-written record: a segment's size grows (under meta)
 * only after the record is fsync'd.
 */
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

static void put32(unsigned char *p, uint32_t v) {
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static void put64(unsigned char *p, uint64_t v) {
    for (int i = 0; i < 8; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static uint32_t get32(const unsigned char *p) {
    uint32_t v = 0;
    for (int i = 3; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

static uint64_t get64(const unsigned char *p) {
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

static uint32_t crc(uint32_t c, const void *p, size_t n) {
    const unsigned char *b = p;
    while (n > 0) {
        uInt k = n > (1u << 30) ? (1u << 30) : (uInt)n;
        c = (uint32_t)crc32(c, b, k);
        b += k;
        n -= k;
    }
    return c;
}

static uint64_t now_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static void seg_name(char *buf, uint64_t id) {
    snprintf(buf, SEG_NAME_LEN + 1, "%016llx.seg", (unsigned long long)id);
}

static int seterr(char *err, size_t errlen, int rc, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static int seterr(char *err, size_t errlen, int rc, const char *fmt, ...) {
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

static int full_pread(int fd, void *buf, size_t len, off_t off) {
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

static int full_pwrite(ctx_spool_pwrite_fn fn, int fd, const void *buf, size_t len, off_t off) {
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

static int segs_push(ctx_spool_t *sp, const seg_t *s) {
    if (sp->nsegs == sp->capsegs) {
        size_t cap = sp->capsegs ? sp->capsegs * 2 : 16;
        seg_t *p = realloc(sp->segs, cap * sizeof *p);
        if (p == NULL)
            return CTX_ENOMEM;
        sp->segs = p;
        sp->capsegs = cap;
    }
    sp->segs[sp->nsegs++] = *s;
    return CTX_OK;
}

static void segs_remove_first(ctx_spool_t *sp) {
    memmove(sp->segs, sp->segs + 1, (sp->nsegs - 1) * sizeof *sp->segs);
    sp->nsegs--;
}

static uint64_t seg_last_seq(const seg_t *s) {
    return s->first_seq + s->nrec - 1;
}

/* meta held: records of s not yet delivered and their bytes */
static void seg_unacked(const ctx_spool_t *sp, const seg_t *s, uint64_t *recs, uint64_t *bytes) {
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

/* ---------------------------------------------------------------- ack file */

static void ack_encode(unsigned char *slot, uint64_t gen, uint64_t seg, uint64_t off, uint64_t seq) {
    memset(slot, 0, ACK_SLOT);
    put32(slot, ACK_MAGIC);
    put64(slot + 8, gen);
    put64(slot + 16, seg);
    put64(slot + 24, off);
    put64(slot + 32, seq);
    put32(slot + 4, crc(0, slot + 8, ACK_USED - 8));
}

/* reads the newest valid slot; a missing or unreadable file means "nothing acked" */
static void ack_read(ctx_spool_t *sp) {
    unsigned char buf[2 * ACK_SLOT];
    memset(buf, 0, sizeof buf);
    ssize_t n = pread(sp->ackfd, buf, sizeof buf, 0);
    for (int i = 0; i < 2 && n >= (ssize_t)((size_t)(i + 1) * ACK_SLOT); i++) {
        const unsigned char *s = buf + (size_t)i * ACK_SLOT;
        if (get32(s) != ACK_MAGIC || get32(s + 4) != crc(0, s + 8, ACK_USED - 8))
            continue;
        uint64_t gen = get64(s + 8);
        if (gen < sp->ack_gen)
            continue;
        sp->ack_gen = gen;
        sp->ack_seg = get64(s + 16);
        sp->ack_off = get64(s + 24);
        sp->ack_seq = get64(s + 32);
        sp->seq_floor = sp->ack_seq;
    }
}

/* rd held */
static int ack_write(ctx_spool_t *sp, uint64_t seg, uint64_t off, uint64_t seq) {
    unsigned char slot[ACK_SLOT];
    uint64_t gen = sp->ack_gen + 1;
    ack_encode(slot, gen, seg, off, seq);
    ssize_t n;
    do {
        n = pwrite(sp->ackfd, slot, ACK_SLOT, (off_t)((gen & 1) * ACK_SLOT));
    } while (n < 0 && errno == EINTR);
    if (n != (ssize_t)ACK_SLOT) {
        if (n >= 0)
            errno = EIO;
        return CTX_EIO;
    }
    if (fdatasync(sp->ackfd) != 0)
        return CTX_EIO;
    sp->ack_gen = gen;
    return CTX_OK;
}

/* ---------------------------------------------------------------- recovery */

typedef struct {
    uint64_t mark;     /* in: an offset to check (the ack offset), or 0 */
    int mark_ok;       /* out: mark is a record boundary of the recovered segment */
    uint64_t mark_seq; /* out: seq of the record ending at mark (first_seq - 1 at SEG_HDR) */
} scan_mark_t;

static int seg_header_ok(const unsigned char *h, uint64_t id) {
    return memcmp(h, SEG_MAGIC, 8) == 0 && get32(h + 8) == SEG_VERSION && get32(h + 12) == crc(0, h + 16, 16) &&
           get64(h + 16) == id;
}

/* checks the payload's CRC by reading it in chunks */
static int rec_crc_ok(int fd, const unsigned char *hdr, uint64_t off, uint32_t len) {
    unsigned char buf[65536];
    uint32_t c = crc(0, hdr, REC_HDR - 4);
    uint64_t pos = off + REC_HDR;
    while (len > 0) {
        size_t k = len > sizeof buf ? sizeof buf : len;
        if (full_pread(fd, buf, k, (off_t)pos) != CTX_OK)
            return 0;
        c = crc(c, buf, k);
        pos += k;
        len -= (uint32_t)k;
    }
    return c == get32(hdr + 36);
}

/* walks the records of an open segment; stops at the first bad one. With check_crc
 * every payload is verified (the last segment: where a crash leaves a torn tail). */
static uint64_t scan_records(int fd, uint64_t fsize, seg_t *s, int check_crc, scan_mark_t *m) {
    uint64_t off = SEG_HDR;
    m->mark_ok = m->mark == SEG_HDR;
    for (;;) {
        unsigned char h[REC_HDR];
        if (fsize - off < REC_HDR || full_pread(fd, h, REC_HDR, (off_t)off) != CTX_OK)
            break;
        uint32_t len = get32(h + 4);
        if (get32(h) != REC_MAGIC || len == 0 || len > CTX_SPOOL_MAX_RECORD || fsize - off - REC_HDR < len)
            break;
        if (check_crc && !rec_crc_ok(fd, h, off, len))
            break;
        if (s->nrec++ == 0)
            s->first_seq = get64(h + 8);
        off += REC_HDR + len;
        if (off == m->mark) {
            m->mark_ok = 1;
            m->mark_seq = get64(h + 8);
        }
    }
    if (m->mark == SEG_HDR)
        m->mark_seq = s->nrec ? s->first_seq - 1 : 0;
    return off;
}

/* recovers one segment: header check, record walk, tail cut. Returns 0 (s filled),
 * 1 if the segment's header is unusable (caller puts it aside), 2 if it was an
 * empty torn last segment (deleted), or CTX_EIO. */
static int recover_segment(ctx_spool_t *sp, seg_t *s, int is_last, scan_mark_t *m, char *err, size_t errlen) {
    char name[SEG_NAME_LEN + 1];
    seg_name(name, s->id);
    int fd = openat(sp->dirfd, name, O_RDWR | O_CLOEXEC);
    struct stat stb;
    if (fd < 0 || fstat(fd, &stb) != 0) {
        int rc = seterr(err, errlen, CTX_EIO, "spool %s: cannot open %s: %s", sp->dir, name, strerror(errno));
        if (fd >= 0)
            close(fd);
        return rc;
    }
    unsigned char h[SEG_HDR];
    uint64_t fsize = (uint64_t)stb.st_size;
    if (is_last && fsize < SEG_HDR) { /* a crash while creating it: it never held a record */
        close(fd);
        sp->st.torn_bytes += fsize;
        sp->st.torn_records += fsize > 0;
        return unlinkat(sp->dirfd, name, 0) == 0 ? 2 : 1;
    }
    if (fsize < SEG_HDR || full_pread(fd, h, SEG_HDR, 0) != CTX_OK || !seg_header_ok(h, s->id)) {
        close(fd);
        return 1;
    }
    uint64_t end = scan_records(fd, fsize, s, is_last, m);
    s->size = end;
    if (end < fsize) {
        sp->st.torn_records++;
        sp->st.torn_bytes += fsize - end;
        if (ftruncate(fd, (off_t)end) != 0 || fsync(fd) != 0) {
            int rc = seterr(err, errlen, CTX_EIO, "spool %s: cannot truncate torn tail of %s: %s", sp->dir, name,
                            strerror(errno));
            close(fd);
            return rc;
        }
    }
    close(fd);
    return CTX_OK;
}

static int cmp_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static int parse_seg_name(const char *n, uint64_t *id) {
    if (strlen(n) != SEG_NAME_LEN || strcmp(n + 16, ".seg") != 0)
        return 0;
    uint64_t v = 0;
    for (int i = 0; i < 16; i++) {
        int c = n[i];
        int d = c >= '0' && c <= '9' ? c - '0' : (c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1);
        if (d < 0)
            return 0;
        v = (v << 4) | (uint64_t)d;
    }
    *id = v;
    return 1;
}

/* the sorted ids of the directory's segment files */
static int list_segments(ctx_spool_t *sp, uint64_t **ids, size_t *n) {
    int fd = dup(sp->dirfd);
    DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
    if (d == NULL) {
        if (fd >= 0)
            close(fd);
        return CTX_EIO;
    }
    rewinddir(d);
    size_t cap = 0;
    *ids = NULL;
    *n = 0;
    struct dirent *e;
    int rc = CTX_OK;
    while ((e = readdir(d)) != NULL) {
        uint64_t id;
        if (!parse_seg_name(e->d_name, &id))
            continue;
        if (*n == cap) {
            cap = cap ? cap * 2 : 16;
            uint64_t *p = realloc(*ids, cap * sizeof *p);
            if (p == NULL) {
                rc = CTX_ENOMEM;
                break;
            }
            *ids = p;
        }
        (*ids)[(*n)++] = id;
    }
    closedir(d);
    if (rc == CTX_OK && *n > 1)
        qsort(*ids, *n, sizeof **ids, cmp_u64);
    return rc;
}

/* a segment whose header is unusable: renamed to NAME.bad and counted as corrupt */
static void put_aside(ctx_spool_t *sp, uint64_t id) {
    char name[SEG_NAME_LEN + 1], bad[SEG_NAME_LEN + 8];
    seg_name(name, id);
    snprintf(bad, sizeof bad, "%s.bad", name);
    struct stat stb;
    if (fstatat(sp->dirfd, name, &stb, 0) == 0) {
        sp->st.corrupt_bytes += (uint64_t)stb.st_size;
        sp->st.corrupt_records++;
    }
    renameat(sp->dirfd, name, sp->dirfd, bad);
}

static int recover_all(ctx_spool_t *sp, char *err, size_t errlen) {
    uint64_t *ids;
    size_t n;
    int rc = list_segments(sp, &ids, &n);
    if (rc != CTX_OK)
        return seterr(err, errlen, rc, "spool %s: cannot list the directory: %s", sp->dir, strerror(errno));
    for (size_t i = 0; i < n && rc == CTX_OK; i++) {
        seg_t s = {ids[i], SEG_HDR, 0, 0};
        scan_mark_t m = {ids[i] == sp->ack_seg ? sp->ack_off : 0, 0, 0};
        rc = recover_segment(sp, &s, i + 1 == n, &m, err, errlen);
        if (rc == 1 || rc == 2) {
            if (rc == 1)
                put_aside(sp, ids[i]);
            rc = CTX_OK;
            continue;
        }
        if (rc == CTX_OK && s.id == sp->ack_seg) {
            /* position inside this segment: trust it only at a record boundary */
            sp->ack_off = m.mark_ok ? m.mark : SEG_HDR;
            if (s.nrec)
                sp->ack_seq = m.mark_ok ? m.mark_seq : s.first_seq - 1;
        }
        if (rc == CTX_OK)
            rc = segs_push(sp, &s);
    }
    if (n > 0 && ids[n - 1] >= sp->next_seg_id)
        sp->next_seg_id = ids[n - 1] + 1;
    free(ids);
    return rc;
}

/* meta held (or single-threaded): removes wholly delivered segments from the list,
 * except the write segment; their ids go to out[] for unlinking outside the lock */
static size_t reap_acked(ctx_spool_t *sp, uint64_t *out, size_t max) {
    size_t k = 0;
    while (sp->nsegs > 0 && k < max) {
        const seg_t *s = &sp->segs[0];
        int is_write = sp->nsegs == 1 && sp->wfd >= 0;
        int done = s->id < sp->ack_seg || (s->id == sp->ack_seg && sp->ack_off >= s->size);
        if (!done || is_write)
            break;
        out[k++] = s->id;
        sp->total_bytes -= s->size;
        segs_remove_first(sp);
    }
    return k;
}

static void unlink_segs(ctx_spool_t *sp, const uint64_t *ids, size_t n) {
    char name[SEG_NAME_LEN + 1];
    for (size_t i = 0; i < n; i++) {
        seg_name(name, ids[i]);
        unlinkat(sp->dirfd, name, 0);
    }
}

/* after recover_all: ack position below the first segment, sequence numbers, totals,
 * and the write segment (the last one, appended to again) */
static int finish_recovery(ctx_spool_t *sp, char *err, size_t errlen) {
    if (sp->nsegs > 0 && sp->ack_seg < sp->segs[0].id) {
        sp->ack_seg = sp->segs[0].id;
        sp->ack_off = SEG_HDR;
        if (sp->segs[0].nrec)
            sp->ack_seq = sp->segs[0].first_seq - 1;
    }
    if (sp->ack_seg >= sp->next_seg_id)
        sp->next_seg_id = sp->ack_seg + 1;
    sp->next_seq = (sp->seq_floor > sp->ack_seq ? sp->seq_floor : sp->ack_seq) + 1;
    for (size_t i = 0; i < sp->nsegs; i++) {
        sp->total_bytes += sp->segs[i].size;
        if (sp->segs[i].nrec && seg_last_seq(&sp->segs[i]) >= sp->next_seq)
            sp->next_seq = seg_last_seq(&sp->segs[i]) + 1;
    }
    uint64_t gone[64];
    size_t k;
    while ((k = reap_acked(sp, gone, 64)) > 0)
        unlink_segs(sp, gone, k);
    if (sp->nsegs == 0)
        return CTX_OK;
    char name[SEG_NAME_LEN + 1];
    seg_name(name, sp->segs[sp->nsegs - 1].id);
    sp->wfd = openat(sp->dirfd, name, O_WRONLY | O_CLOEXEC);
    if (sp->wfd < 0)
        return seterr(err, errlen, CTX_EIO, "spool %s: cannot open %s for writing: %s", sp->dir, name, strerror(errno));
    return CTX_OK;
}

/* ---------------------------------------------------------------- open / close */

static int open_files(ctx_spool_t *sp, char *err, size_t errlen) {
    if (mkdir(sp->dir, 0700) != 0 && errno != EEXIST)
        return seterr(err, errlen, CTX_EIO, "spool %s: cannot create the directory: %s", sp->dir, strerror(errno));
    sp->dirfd = open(sp->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (sp->dirfd < 0)
        return seterr(err, errlen, CTX_EIO, "spool %s: cannot open the directory: %s", sp->dir, strerror(errno));
    sp->lockfd = openat(sp->dirfd, "lock", O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (sp->lockfd < 0)
        return seterr(err, errlen, CTX_EIO, "spool %s: cannot open lock: %s", sp->dir, strerror(errno));
    if (flock(sp->lockfd, LOCK_EX | LOCK_NB) != 0) {
        if (errno == EWOULDBLOCK)
            return seterr(err, errlen, CTX_EAGAIN, "spool %s: already open (by another process or spool object)",
                          sp->dir);
        return seterr(err, errlen, CTX_EIO, "spool %s: cannot lock: %s", sp->dir, strerror(errno));
    }
    int created = faccessat(sp->dirfd, "ack", F_OK, 0) != 0;
    sp->ackfd = openat(sp->dirfd, "ack", O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (sp->ackfd < 0)
        return seterr(err, errlen, CTX_EIO, "spool %s: cannot open ack: %s", sp->dir, strerror(errno));
    /* both slots allocated now, so that an ack is an overwrite that needs no new
     * block: a full disk must not stop the spool from draining */
    struct stat st;
    static const unsigned char zero[2 * ACK_SLOT];
    if (fstat(sp->ackfd, &st) != 0 ||
        (st.st_size < (off_t)sizeof zero &&
         (pwrite(sp->ackfd, zero + st.st_size, sizeof zero - (size_t)st.st_size, st.st_size) !=
              (ssize_t)(sizeof zero - (size_t)st.st_size) ||
          fsync(sp->ackfd) != 0)))
        return seterr(err, errlen, CTX_EIO, "spool %s: cannot initialise ack: %s", sp->dir, strerror(errno));
    if (created && fsync(sp->dirfd) != 0)
        return seterr(err, errlen, CTX_EIO, "spool %s: cannot fsync the directory: %s", sp->dir, strerror(errno));
    return CTX_OK;
}

static uint64_t default_segment_bytes(uint64_t max_bytes) {
    const uint64_t lo = 64u * 1024u, hi = 16u * 1024u * 1024u;
    if (max_bytes == 0)
        return hi;
    uint64_t s = max_bytes / 8;
    return s < lo ? lo : (s > hi ? hi : s);
}

static ctx_spool_t *spool_alloc(const char *dir, const ctx_spool_opts_t *opts) {
    ctx_spool_t *sp = calloc(1, sizeof *sp);
    if (sp == NULL || (sp->dir = strdup(dir)) == NULL) {
        free(sp);
        return NULL;
    }
    sp->dirfd = sp->lockfd = sp->ackfd = sp->wfd = sp->rfd = -1;
    pthread_mutex_init(&sp->wr, NULL);
    pthread_mutex_init(&sp->rd, NULL);
    pthread_mutex_init(&sp->meta, NULL);
    sp->max_bytes = opts->max_bytes;
    sp->when_full = opts->when_full;
    sp->segment_bytes = opts->segment_bytes ? opts->segment_bytes : default_segment_bytes(opts->max_bytes);
    sp->pwrite_fn = opts->pwrite_fn ? opts->pwrite_fn : pwrite;
    sp->next_seg_id = 1;
    return sp;
}

int ctx_spool_new(const char *dir, const ctx_spool_opts_t *opts, ctx_spool_t **out, char *err, size_t errlen) {
    static const ctx_spool_opts_t defaults = {0, CTX_SPOOL_BLOCK, 0, NULL};
    if (err && errlen)
        err[0] = '\0';
    if (out == NULL || dir == NULL || dir[0] == '\0')
        return seterr(err, errlen, CTX_EINVAL, "spool: no directory given");
    *out = NULL;
    if (opts == NULL)
        opts = &defaults;
    if (opts->when_full != CTX_SPOOL_BLOCK && opts->when_full != CTX_SPOOL_DROP_OLDEST)
        return seterr(err, errlen, CTX_EINVAL, "spool %s: unknown when_full policy %d", dir, (int)opts->when_full);
    if (opts->segment_bytes && opts->segment_bytes < SEG_HDR + REC_HDR + 1)
        return seterr(err, errlen, CTX_EINVAL, "spool %s: segment_bytes %llu is too small", dir,
                      (unsigned long long)opts->segment_bytes);
    ctx_spool_t *sp = spool_alloc(dir, opts);
    if (sp == NULL)
        return seterr(err, errlen, CTX_ENOMEM, "spool %s: out of memory", dir);
    int rc = open_files(sp, err, errlen);
    if (rc == CTX_OK) {
        ack_read(sp);
        rc = recover_all(sp, err, errlen);
    }
    if (rc == CTX_OK)
        rc = finish_recovery(sp, err, errlen);
    if (rc != CTX_OK) {
        ctx_spool_free(sp);
        return rc;
    }
    *out = sp;
    return CTX_OK;
}

void ctx_spool_free(ctx_spool_t *sp) {
    if (sp == NULL)
        return;
    int fds[] = {sp->wfd, sp->rfd, sp->ackfd, sp->lockfd, sp->dirfd};
    for (size_t i = 0; i < sizeof fds / sizeof fds[0]; i++)
        if (fds[i] >= 0)
            close(fds[i]);
    pthread_mutex_destroy(&sp->wr);
    pthread_mutex_destroy(&sp->rd);
    pthread_mutex_destroy(&sp->meta);
    free(sp->segs);
    free(sp->dir);
    free(sp);
}

/* ---------------------------------------------------------------- append */

/* meta held: deletes the oldest segment from the list for drop-oldest; counts what
 * was not delivered and moves the ack position past it (in memory only: after a
 * crash its records may be delivered after all, which at-least-once allows) */
static uint64_t drop_oldest(ctx_spool_t *sp) {
    seg_t s = sp->segs[0];
    uint64_t recs, bytes;
    seg_unacked(sp, &s, &recs, &bytes);
    sp->st.dropped_records += recs;
    sp->st.dropped_bytes += bytes;
    if (sp->ack_seg <= s.id) {
        sp->ack_seg = s.id;
        sp->ack_off = s.size;
        if (s.nrec && seg_last_seq(&s) > sp->ack_seq)
            sp->ack_seq = seg_last_seq(&s);
    }
    sp->total_bytes -= s.size;
    segs_remove_first(sp);
    return s.id;
}

static int needs_roll(const ctx_spool_t *sp, uint64_t need) {
    if (sp->wfd < 0 || sp->nsegs == 0)
        return 1;
    const seg_t *w = &sp->segs[sp->nsegs - 1];
    return w->size > SEG_HDR && w->size + need > sp->segment_bytes;
}

/* wr held. Makes room for a record of need bytes under the policy: 0, CTX_EFULL,
 * CTX_EINVAL (never fits). Dropped segments are unlinked outside meta. */
static int make_room(ctx_spool_t *sp, uint64_t need) {
    int rc = CTX_OK;
    for (int more = 1; more && rc == CTX_OK;) {
        uint64_t gone[64];
        size_t k = 0;
        pthread_mutex_lock(&sp->meta);
        if (sp->max_bytes && need + SEG_HDR > sp->max_bytes)
            rc = CTX_EINVAL;
        while (rc == CTX_OK && k < 64 && sp->max_bytes &&
               sp->total_bytes + need + (needs_roll(sp, need) ? SEG_HDR : 0) > sp->max_bytes) {
            if (sp->when_full == CTX_SPOOL_BLOCK || sp->nsegs == 0) {
                rc = CTX_EFULL;
                sp->st.full_rejects++;
                break;
            }
            if (sp->nsegs == 1 && sp->wfd >= 0) { /* the write segment itself goes: roll */
                close(sp->wfd);
                sp->wfd = -1;
            }
            gone[k++] = drop_oldest(sp);
        }
        more = k == 64;
        pthread_mutex_unlock(&sp->meta);
        unlink_segs(sp, gone, k);
    }
    return rc;
}

/* wr held: creates the next segment (header written, file and directory fsync'd)
 * and makes it the write segment */
static int new_segment(ctx_spool_t *sp, char *err, size_t errlen) {
    char name[SEG_NAME_LEN + 1];
    uint64_t id = sp->next_seg_id;
    seg_name(name, id);
    int fd = openat(sp->dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0)
        return seterr(err, errlen, CTX_EIO, "spool %s: cannot create %s: %s", sp->dir, name, strerror(errno));
    unsigned char h[SEG_HDR];
    memcpy(h, SEG_MAGIC, 8);
    put32(h + 8, SEG_VERSION);
    put64(h + 16, id);
    put64(h + 24, now_us());
    put32(h + 12, crc(0, h + 16, 16));
    if (full_pwrite(sp->pwrite_fn, fd, h, SEG_HDR, 0) != CTX_OK || fsync(fd) != 0 || fsync(sp->dirfd) != 0) {
        int rc = seterr(err, errlen, CTX_EIO, "spool %s: cannot create %s: %s", sp->dir, name, strerror(errno));
        int saved = errno;
        close(fd);
        unlinkat(sp->dirfd, name, 0);
        errno = saved;
        return rc;
    }
    seg_t s = {id, SEG_HDR, sp->next_seq, 0};
    int old = -1;
    pthread_mutex_lock(&sp->meta);
    int rc = segs_push(sp, &s);
    if (rc == CTX_OK) {
        sp->total_bytes += SEG_HDR;
        old = sp->wfd;
        sp->wfd = fd;
    }
    pthread_mutex_unlock(&sp->meta);
    if (rc != CTX_OK) {
        close(fd);
        unlinkat(sp->dirfd, name, 0);
        return seterr(err, errlen, rc, "spool %s: out of memory", sp->dir);
    }
    if (old >= 0)
        close(old);
    sp->next_seg_id = id + 1;
    return CTX_OK;
}

/* wr held: writes header + payload at the write segment's end and fdatasyncs */
static int write_record(ctx_spool_t *sp, const void *data, size_t len, uint64_t batch_us, uint32_t tag,
                        const readpos_t *at, char *err, size_t errlen) {
    uint64_t off = at->off;
    unsigned char h[REC_HDR];
    put32(h, REC_MAGIC);
    put32(h + 4, (uint32_t)len);
    put64(h + 8, sp->next_seq);
    put64(h + 16, now_us());
    put64(h + 24, batch_us);
    put32(h + 32, tag);
    put32(h + 36, crc(crc(0, h, REC_HDR - 4), data, len));
    if (full_pwrite(sp->pwrite_fn, sp->wfd, h, REC_HDR, (off_t)off) == CTX_OK &&
        full_pwrite(sp->pwrite_fn, sp->wfd, data, len, (off_t)(off + REC_HDR)) == CTX_OK && fdatasync(sp->wfd) == 0)
        return CTX_OK;
    int saved = errno;
    char name[SEG_NAME_LEN + 1];
    seg_name(name, at->seg);
    seterr(err, errlen, CTX_EIO, "spool %s: cannot append %zu bytes to %s: %s", sp->dir, len, name, strerror(saved));
    if (ftruncate(sp->wfd, (off_t)off) == 0)
        (void)fdatasync(sp->wfd);
    errno = saved;
    return CTX_EIO;
}

static int append_locked(ctx_spool_t *sp, const void *data, size_t len, uint64_t batch_us, uint32_t tag,
                         char *err, size_t errlen) {
    uint64_t need = REC_HDR + (uint64_t)len;
    int rc = make_room(sp, need);
    if (rc == CTX_EFULL)
        return seterr(err, errlen, rc, "spool %s: full (%llu bytes)", sp->dir, (unsigned long long)sp->max_bytes);
    if (rc != CTX_OK)
        return seterr(err, errlen, rc, "spool %s: a record of %zu bytes can never fit in max_bytes %llu", sp->dir,
                      len, (unsigned long long)sp->max_bytes);
    pthread_mutex_lock(&sp->meta);
    int roll = needs_roll(sp, need);
    pthread_mutex_unlock(&sp->meta);
    if (roll && (rc = new_segment(sp, err, errlen)) != CTX_OK)
        return rc;
    readpos_t at;
    pthread_mutex_lock(&sp->meta); /* the reader may move segs[] (reaping); the last one stays ours */
    at.seg = sp->segs[sp->nsegs - 1].id;
    at.off = sp->segs[sp->nsegs - 1].size;
    pthread_mutex_unlock(&sp->meta);
    if ((rc = write_record(sp, data, len, batch_us, tag, &at, err, errlen)) != CTX_OK)
        return rc;
    pthread_mutex_lock(&sp->meta);
    seg_t *w = &sp->segs[sp->nsegs - 1];
    if (w->nrec++ == 0)
        w->first_seq = sp->next_seq;
    w->size += need;
    sp->total_bytes += need;
    sp->next_seq++;
    sp->st.appended++;
    sp->st.appended_bytes += len;
    pthread_mutex_unlock(&sp->meta);
    return CTX_OK;
}

int ctx_spool_append(ctx_spool_t *sp, const void *data, size_t len, uint64_t batch_us, uint32_t tag,
                     uint64_t *seq_out, char *err, size_t errlen) {
    if (err && errlen)
        err[0] = '\0';
    if (sp == NULL || data == NULL || len == 0 || len > CTX_SPOOL_MAX_RECORD)
        return seterr(err, errlen, CTX_EINVAL, "spool: invalid record (%zu bytes)", len);
    pthread_mutex_lock(&sp->wr);
    uint64_t seq = sp->next_seq;
    int rc = append_locked(sp, data, len, batch_us, tag, err, errlen);
    pthread_mutex_unlock(&sp->wr);
    if (rc == CTX_EIO) {
        int saved = errno;
        pthread_mutex_lock(&sp->meta);
        sp->st.io_errors++;
        pthread_mutex_unlock(&sp->meta);
        errno = saved;
    }
    if (rc == CTX_OK && seq_out)
        *seq_out = seq;
    return rc;
}

/* ---------------------------------------------------------------- peek / ack */

/* meta held: where the oldest undelivered record is */
static int next_readpos(const ctx_spool_t *sp, readpos_t *p) {
    for (size_t i = 0; i < sp->nsegs; i++) {
        const seg_t *s = &sp->segs[i];
        if (s->id < sp->ack_seg)
            continue;
        uint64_t off = s->id == sp->ack_seg ? sp->ack_off : SEG_HDR;
        if (off < SEG_HDR)
            off = SEG_HDR;
        if (off < s->size) {
            *p = (readpos_t){s->id, off, s->size, seg_last_seq(s)};
            return CTX_OK;
        }
    }
    return CTX_ENOENT;
}

/* rd held: rfd on segment id; CTX_ENOENT if it is gone (dropped meanwhile) */
static int reader_open(ctx_spool_t *sp, uint64_t id) {
    if (sp->rfd >= 0 && sp->rseg == id)
        return CTX_OK;
    if (sp->rfd >= 0)
        close(sp->rfd);
    char name[SEG_NAME_LEN + 1];
    seg_name(name, id);
    sp->rfd = openat(sp->dirfd, name, O_RDONLY | O_CLOEXEC);
    sp->rseg = id;
    if (sp->rfd < 0)
        return errno == ENOENT ? CTX_ENOENT : CTX_EIO;
    return CTX_OK;
}

/* rd held: reads and checks the record at p into rec. 0, 1 (bad record), or <0 */
static int read_record(ctx_spool_t *sp, const readpos_t *p, ctx_spool_rec_t *rec) {
    unsigned char h[REC_HDR];
    int rc = full_pread(sp->rfd, h, REC_HDR, (off_t)p->off);
    if (rc == CTX_EIO)
        return rc;
    uint32_t len = get32(h + 4);
    if (rc != CTX_OK || get32(h) != REC_MAGIC || len == 0 || len > p->end - p->off - REC_HDR)
        return 1;
    if (rec->cap < len) {
        unsigned char *d = realloc(rec->data, len);
        if (d == NULL)
            return CTX_ENOMEM;
        rec->data = d;
        rec->cap = len;
    }
    rc = full_pread(sp->rfd, rec->data, len, (off_t)(p->off + REC_HDR));
    if (rc == CTX_EIO)
        return rc;
    if (rc != CTX_OK || crc(crc(0, h, REC_HDR - 4), rec->data, len) != get32(h + 36))
        return 1;
    rec->len = len;
    rec->seq = get64(h + 8);
    rec->append_us = get64(h + 16);
    rec->batch_us = get64(h + 24);
    rec->tag = get32(h + 32);
    return CTX_OK;
}

/* rd held: a bad record at p: skip the rest of its segment (in memory; counted) */
static void skip_corrupt(ctx_spool_t *sp, const readpos_t *p) {
    pthread_mutex_lock(&sp->meta);
    if (sp->ack_seg < p->seg || (sp->ack_seg == p->seg && sp->ack_off <= p->off)) {
        sp->st.corrupt_records += p->last_seq > sp->ack_seq ? p->last_seq - sp->ack_seq : 1;
        sp->st.corrupt_bytes += p->end - p->off;
        sp->ack_seg = p->seg;
        sp->ack_off = p->end;
        if (p->last_seq > sp->ack_seq)
            sp->ack_seq = p->last_seq;
    }
    pthread_mutex_unlock(&sp->meta);
}

int ctx_spool_peek(ctx_spool_t *sp, ctx_spool_rec_t *rec) {
    if (sp == NULL || rec == NULL)
        return CTX_EINVAL;
    pthread_mutex_lock(&sp->rd);
    int rc;
    for (;;) {
        readpos_t p;
        pthread_mutex_lock(&sp->meta);
        rc = next_readpos(sp, &p);
        pthread_mutex_unlock(&sp->meta);
        if (rc != CTX_OK)
            break;
        rc = reader_open(sp, p.seg);
        if (rc == CTX_ENOENT)
            continue; /* dropped since: look again */
        if (rc == CTX_OK)
            rc = read_record(sp, &p, rec);
        if (rc == 1) {
            skip_corrupt(sp, &p);
            continue;
        }
        if (rc == CTX_OK) {
            sp->peek_valid = 1;
            sp->peek_seq = rec->seq;
            sp->peek_seg = p.seg;
            sp->peek_end = p.off + REC_HDR + rec->len;
        }
        break;
    }
    pthread_mutex_unlock(&sp->rd);
    return rc;
}

/* meta held: the ack position is at or past the end of the last peeked record
 * (drop-oldest or a corrupt skip moved it there) */
static int peeked_gone(const ctx_spool_t *sp) {
    return sp->ack_seg > sp->peek_seg || (sp->ack_seg == sp->peek_seg && sp->ack_off >= sp->peek_end);
}

/* rd held: when everything is delivered, the write segment is deleted too (the next
 * append starts a new one), so that a drained spool holds no data on disk. Only if
 * no append is running: trylock, as rd is held (lock order). */
static void retire_write_segment(ctx_spool_t *sp) {
    if (pthread_mutex_trylock(&sp->wr) != 0)
        return;
    uint64_t id = 0;
    int fd = -1;
    pthread_mutex_lock(&sp->meta);
    if (sp->nsegs == 1 && sp->ack_seg == sp->segs[0].id && sp->ack_off >= sp->segs[0].size) {
        id = sp->segs[0].id;
        sp->total_bytes -= sp->segs[0].size;
        sp->nsegs = 0;
        fd = sp->wfd;
        sp->wfd = -1;
    }
    pthread_mutex_unlock(&sp->meta);
    if (id != 0) {
        if (fd >= 0)
            close(fd);
        unlink_segs(sp, &id, 1);
    }
    pthread_mutex_unlock(&sp->wr);
}

/* rd held: after a durable ack: the new position, and segments to delete */
static void ack_commit(ctx_spool_t *sp, uint64_t seq) {
    uint64_t gone[64];
    size_t k;
    pthread_mutex_lock(&sp->meta);
    if (!peeked_gone(sp)) {
        sp->ack_seg = sp->peek_seg;
        sp->ack_off = sp->peek_end;
        if (seq > sp->ack_seq)
            sp->ack_seq = seq;
        sp->st.acked++;
    }
    do {
        k = reap_acked(sp, gone, 64);
        pthread_mutex_unlock(&sp->meta);
        unlink_segs(sp, gone, k);
        pthread_mutex_lock(&sp->meta);
    } while (k == 64);
    pthread_mutex_unlock(&sp->meta);
    retire_write_segment(sp);
    pthread_mutex_lock(&sp->meta);
    int stale = sp->rfd >= 0 && (sp->nsegs == 0 || sp->rseg < sp->segs[0].id);
    pthread_mutex_unlock(&sp->meta);
    if (stale) { /* an open fd would keep a deleted segment's space allocated */
        close(sp->rfd);
        sp->rfd = -1;
    }
}

/* rd held: the durable part of an ack */
static int ack_peeked(ctx_spool_t *sp, uint64_t seq, char *err, size_t errlen) {
    pthread_mutex_lock(&sp->meta);
    int gone = peeked_gone(sp);
    pthread_mutex_unlock(&sp->meta);
    if (!gone && ack_write(sp, sp->peek_seg, sp->peek_end, seq) != CTX_OK) {
        int rc = seterr(err, errlen, CTX_EIO, "spool %s: cannot write ack: %s", sp->dir, strerror(errno));
        pthread_mutex_lock(&sp->meta);
        sp->st.io_errors++;
        pthread_mutex_unlock(&sp->meta);
        return rc;
    }
    if (!gone)
        ack_commit(sp, seq);
    sp->peek_valid = 0;
    return CTX_OK;
}

int ctx_spool_ack(ctx_spool_t *sp, uint64_t seq, char *err, size_t errlen) {
    if (err && errlen)
        err[0] = '\0';
    if (sp == NULL)
        return CTX_EINVAL;
    int rc = CTX_OK;
    pthread_mutex_lock(&sp->rd);
    if (sp->peek_valid && seq == sp->peek_seq) {
        rc = ack_peeked(sp, seq, err, errlen);
    } else {
        pthread_mutex_lock(&sp->meta);
        int done = seq <= sp->ack_seq;
        pthread_mutex_unlock(&sp->meta);
        if (!done)
            rc = seterr(err, errlen, CTX_EINVAL, "spool %s: ack of %llu, which is not the record last peeked",
                        sp->dir, (unsigned long long)seq);
    }
    pthread_mutex_unlock(&sp->rd);
    return rc;
}

void ctx_spool_rec_clear(ctx_spool_rec_t *rec) {
    if (rec == NULL)
        return;
    free(rec->data);
    memset(rec, 0, sizeof *rec);
}

/* ---------------------------------------------------------------- stats / limits */

void ctx_spool_stats(ctx_spool_t *sp, ctx_spool_stats_t *st) {
    pthread_mutex_lock(&sp->meta);
    *st = sp->st;
    st->records = 0;
    for (size_t i = 0; i < sp->nsegs; i++) {
        uint64_t r, b;
        seg_unacked(sp, &sp->segs[i], &r, &b);
        st->records += r;
    }
    st->bytes = sp->total_bytes;
    st->segments = sp->nsegs;
    st->next_seq = sp->next_seq;
    pthread_mutex_unlock(&sp->meta);
}

void ctx_spool_set_limits(ctx_spool_t *sp, uint64_t max_bytes, ctx_spool_policy_t when_full) {
    pthread_mutex_lock(&sp->meta);
    sp->max_bytes = max_bytes;
    if (when_full == CTX_SPOOL_BLOCK || when_full == CTX_SPOOL_DROP_OLDEST)
        sp->when_full = when_full;
    pthread_mutex_unlock(&sp->meta);
}
