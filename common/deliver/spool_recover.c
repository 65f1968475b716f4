/* spool_recover.c: a tenant spool's ack file and its recovery at open: segments
 * listed and checked record by record, a torn tail cut off, corrupt files put aside,
 * acknowledged segments reaped (see spool.h, docs/spool.md). */
#include "spool_int.h"
#include "grow.h"

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
void spool_ack_read(ctx_spool_t *sp) {
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
int spool_ack_write(ctx_spool_t *sp, uint64_t seg, uint64_t off, uint64_t seq) {
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
            uint64_t *p = ctx_grow(*ids, &cap, sizeof *p, 16);
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

int spool_recover_all(ctx_spool_t *sp, char *err, size_t errlen) {
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
size_t spool_reap_acked(ctx_spool_t *sp, uint64_t *out, size_t max) {
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

void spool_unlink_segs(ctx_spool_t *sp, const uint64_t *ids, size_t n) {
    char name[SEG_NAME_LEN + 1];
    for (size_t i = 0; i < n; i++) {
        seg_name(name, ids[i]);
        unlinkat(sp->dirfd, name, 0);
    }
}

/* after recover_all: ack position below the first segment, sequence numbers, totals,
 * and the write segment (the last one, appended to again) */
int spool_finish_recovery(ctx_spool_t *sp, char *err, size_t errlen) {
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
    while ((k = spool_reap_acked(sp, gone, 64)) > 0)
        spool_unlink_segs(sp, gone, k);
    if (sp->nsegs == 0)
        return CTX_OK;
    char name[SEG_NAME_LEN + 1];
    seg_name(name, sp->segs[sp->nsegs - 1].id);
    sp->wfd = openat(sp->dirfd, name, O_WRONLY | O_CLOEXEC);
    if (sp->wfd < 0)
        return seterr(err, errlen, CTX_EIO, "spool %s: cannot open %s for writing: %s", sp->dir, name, strerror(errno));
    return CTX_OK;
}

