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
#include "spool_int.h"

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
        spool_ack_read(sp);
        rc = spool_recover_all(sp, err, errlen);
    }
    if (rc == CTX_OK)
        rc = spool_finish_recovery(sp, err, errlen);
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
        spool_unlink_segs(sp, gone, k);
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
        spool_unlink_segs(sp, &id, 1);
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
        k = spool_reap_acked(sp, gone, 64);
        pthread_mutex_unlock(&sp->meta);
        spool_unlink_segs(sp, gone, k);
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
    if (!gone && spool_ack_write(sp, sp->peek_seg, sp->peek_end, seq) != CTX_OK) {
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
