/* test_delivery.c: one tenant's pipeline with a scripted transport: batches by size
 * and by age, order and completeness of what is delivered (no gap, no duplicate)
 * through failures, spooling and recovery, a restart that drains the spool, a slow
 * destination (overflow into the spool without duplicates), dead-letter records,
 * spool full under "block" (refusal, then recovery without loss) and "drop-oldest"
 * (whole oldest batches dropped and counted), a full disk (ENOSPC), write-ahead, a HUP's
 * settings retried by the timer until the open batch stops filling, a format change at HUP
 * (each batch through the transport of its own format; after a restart: dead-lettered).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "check.h"
#include "tmpdir.h"
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctxlog_common.h"
#include "delivery.h"

/* ---------------------------------------------------------------- scripted transport */

typedef struct {
    pthread_mutex_t mu;
    ctx_send_result_t mode; /* what send answers (after `fail_first` RETRYs) */
    int fail_first;         /* answer RETRY this many times first */
    int reject_call;        /* answer REJECT on this call number (1-based), 0: never */
    int partial_call;       /* answer PARTIAL on this call: its 1st message to retry, 2nd refused, rest delivered */
    unsigned delay_ms;      /* sleep in each send (a slow destination) */
    unsigned long retry_after_ms;
    int calls;
    unsigned formats;       /* batch formats it may be given (bits), 0: any */
    int freed;
    char got[8 << 20];      /* decoded bodies of delivered batches, concatenated */
    size_t len;
    int delivered;
} fake_t;

/* a body (encoding none) of lines: the first to retry, the second refused, the others delivered */
static ctx_send_result_t fake_partial(fake_t *f, const void *body, size_t len, uint32_t tag, ctx_send_info_t *info) {
    assert_int_equal(CTX_DEST_TAG_ENC(tag), CTX_ENC_NONE);
    const char *b = body, *l2 = (const char *)memchr(b, '\n', len) + 1;
    const char *l3 = (const char *)memchr(l2, '\n', len - (size_t)(l2 - b)) + 1;
    info->retry_len = (size_t)(l2 - b);
    info->retry_body = malloc(info->retry_len);
    memcpy(info->retry_body, b, info->retry_len);
    info->retry_tag = CTX_DEST_TAG(CTX_ENC_NONE, CTX_DEST_TAG_FMT(tag), 1);
    info->rejects = calloc(1, sizeof *info->rejects);
    info->nrejects = 1;
    snprintf(info->rejects[0].reason, sizeof info->rejects[0].reason, "item 2: status 400: bad field");
    info->rejects[0].len = (size_t)(l3 - l2);
    info->rejects[0].body = malloc(info->rejects[0].len);
    memcpy(info->rejects[0].body, l2, info->rejects[0].len);
    info->rejects[0].tag = CTX_DEST_TAG(CTX_ENC_NONE, CTX_DEST_TAG_FMT(tag), 1);
    snprintf(info->err, sizeof info->err, "2 of %zu items failed", CTX_DEST_TAG_MSGS(tag));
    memcpy(f->got + f->len, l3, len - (size_t)(l3 - b)); /* the delivered rest */
    f->len += len - (size_t)(l3 - b);
    return CTX_SEND_PARTIAL;
}

static ctx_send_result_t fake_send(void *arg, const void *body, size_t len, uint32_t tag, ctx_send_info_t *info) {
    fake_t *f = arg;
    if (f->delay_ms) usleep(f->delay_ms * 1000);
    pthread_mutex_lock(&f->mu);
    int call = ++f->calls;
    if (f->formats) assert_true(f->formats & (1u << CTX_DEST_TAG_FMT(tag)));
    ctx_send_result_t r = f->fail_first > 0 ? CTX_SEND_RETRY : f->mode;
    if (f->fail_first > 0) f->fail_first--;
    if (call == f->reject_call) r = CTX_SEND_REJECT;
    if (call == f->partial_call) r = fake_partial(f, body, len, tag, info);
    if (r == CTX_SEND_OK) {
        unsigned char *plain;
        size_t n;
        assert_int_equal(ctx_batch_decode(CTX_DEST_TAG_ENC(tag), body, len, 1 << 24, &plain, &n), 0);
        ASSERT_LE(f->len + n, sizeof f->got);
        memcpy(f->got + f->len, plain, n);
        f->len += n;
        f->delivered++;
        free(plain);
    } else if (r != CTX_SEND_PARTIAL) {
        snprintf(info->err, sizeof info->err, r == CTX_SEND_REJECT ? "HTTP 400: bad" : "HTTP 503");
        info->retry_after_ms = f->retry_after_ms;
    }
    pthread_mutex_unlock(&f->mu);
    return r;
}

static void fake_set(fake_t *f, ctx_send_result_t mode, int fail_first) {
    pthread_mutex_lock(&f->mu);
    f->mode = mode;
    f->fail_first = fail_first;
    pthread_mutex_unlock(&f->mu);
}

/* ---------------------------------------------------------------- fixture */

static char root[256];
static char logs[1 << 16];
static size_t loglen;
static pthread_mutex_t logmu = PTHREAD_MUTEX_INITIALIZER;

static void on_log(void *arg, int sev, const char *line) {
    (void)arg;
    pthread_mutex_lock(&logmu);
    loglen += (size_t)snprintf(logs + loglen, sizeof logs - loglen, "%d %s\n", sev, line);
    if (loglen >= sizeof logs) loglen = sizeof logs - 1;
    pthread_mutex_unlock(&logmu);
}

static int setup(void **state) {
    (void)state;
    return tmpdir_make(root, sizeof root, "test_delivery");
}

static int teardown(void **state) {
    (void)state;
    return tmpdir_remove(root);
}

static char spooldir[300], dlpath[300];

static ctx_dest_opts_t opts(const char *name, fake_t *f, size_t max_msgs, ctx_encoding_t enc) {
    ctx_dest_opts_t o;
    memset(&o, 0, sizeof o);
    snprintf(spooldir, sizeof spooldir, "%s/%s", root, name);
    snprintf(dlpath, sizeof dlpath, "%s/%s.deadletter", root, name);
    o.tenant = name;
    o.spool_dir = spooldir;
    o.deadletter_path = dlpath;
    o.cfg.format = CTX_BATCH_NDJSON;
    o.cfg.limits.max_messages = max_msgs;
    o.cfg.limits.max_bytes = 1 << 20;
    o.cfg.limits.max_delay_ms = 60000;
    o.cfg.encoding = enc;
    o.cfg.spool_max_bytes = 0;
    o.backoff_initial_ms = 20;
    o.backoff_max_ms = 80;
    o.shutdown_ms = 2000;
    o.transport.send = fake_send;
    o.transport.arg = f;
    o.log = on_log;
    return o;
}

static fake_t *fake_new(void) {
    fake_t *f = calloc(1, sizeof *f);
    pthread_mutex_init(&f->mu, NULL);
    return f;
}

static ctx_dest_t *dest_new(ctx_dest_opts_t *o) {
    ctx_dest_t *d = NULL;
    char err[CTX_ERRLEN] = "";
    int rc = ctx_dest_new(o, &d, err, sizeof err);
    if (rc != 0) fail_msg("ctx_dest_new: %d %s", rc, err);
    return d;
}

/* adds msg-FROM..TO like omtenant does: one message a "transaction", each only
 * while the tenant accepts; returns 0, or the first message refused */
static int add_range(ctx_dest_t *d, ctx_batch_encoder_t *enc, int from, int to) {
    char m[64];
    for (int i = from; i <= to; i++) {
        if (!ctx_dest_accepting(d)) return i;
        int n = snprintf(m, sizeof m, "msg-%06d", i);
        if (ctx_dest_add(d, enc, m, (size_t)n) != 0) return -1;
    }
    return 0;
}

/* the delivered messages are exactly msg-FROM .. msg-TO in order, each once */
static void check_seq(const fake_t *f, int from, int to) {
    char want[64];
    size_t off = 0;
    for (int i = from; i <= to; i++) {
        int n = snprintf(want, sizeof want, "msg-%06d\n", i);
        if (off + (size_t)n > f->len || memcmp(f->got + off, want, (size_t)n) != 0)
            fail_msg("message %d: expected '%.*s' at offset %zu, got '%.12s'", i, n - 1, want, off,
                     off < f->len ? f->got + off : "<end>");
        off += (size_t)n;
    }
    assert_int_equal(off, f->len);
}

static void wait_idle(ctx_dest_t *d) {
    assert_int_equal(ctx_dest_wait_idle(d, 10000), 1);
}

/* ---------------------------------------------------------------- tests */

/* waits until the destination is idle: its counters then */
static ctx_dest_stats_t idle_stats(ctx_dest_t *d) {
    wait_idle(d);
    ctx_dest_stats_t st;
    ctx_dest_stats(d, &st);
    return st;
}

/* adds messages from..to, then idle_stats() */
static ctx_dest_stats_t send_range(ctx_dest_t *d, int from, int to) {
    assert_int_equal(add_range(d, NULL, from, to), 0);
    return idle_stats(d);
}

static void batches_by_size_and_age_in_order(void **state) {
    (void)state;
    fake_t *f = fake_new();
    ctx_batch_encoder_t *enc;
    assert_int_equal(ctx_batch_encoder_new(&enc), 0);
    ctx_dest_opts_t o = opts("sizeage", f, 3, CTX_ENC_ZSTD);
    o.cfg.limits.max_delay_ms = 50;
    o.max_pending = 8; /* a burst of 4 batches stays in memory */
    ctx_dest_t *d = dest_new(&o);
    assert_int_equal(add_range(d, enc, 1, 10), 0);
    uint64_t now = ctx_batch_now_ms();
    assert_int_equal(ctx_dest_flush_due(d, enc, now), 0); /* msg 10 is not 50 ms old yet */
    assert_int_equal(ctx_dest_flush_due(d, enc, now + 60), 1);
    assert_int_equal(ctx_dest_flush_due(d, enc, now + 60), 0);
    ctx_dest_stats_t st = idle_stats(d);
    assert_int_equal(st.batches_sealed, 4);
    assert_int_equal(st.batches_delivered, 4);
    assert_int_equal(st.msgs_in, 10);
    assert_int_equal(st.msgs_delivered, 10);
    assert_int_equal(st.spooled_batches, 0); /* healthy: nothing touched the disk */
    assert_int_equal(st.bytes_raw, 10 * 11);
    assert_int_equal(st.bytes_encoded, st.bytes_delivered);
    ASSERT_GT(st.bytes_encoded, 0);
    ctx_dest_free(d, enc);
    check_seq(f, 1, 10);
    assert_int_equal(f->delivered, 4);
    ctx_batch_encoder_free(enc);
    free(f);
}

static void failures_spool_then_drain_in_order(void **state) {
    (void)state;
    fake_t *f = fake_new();
    f->fail_first = 6;
    ctx_dest_opts_t o = opts("failspool", f, 10, CTX_ENC_GZIP);
    ctx_dest_t *d = dest_new(&o);
    for (int k = 0; k < 20; k++) assert_int_equal(add_range(d, NULL, k * 10 + 1, k * 10 + 10), 0);
    ctx_dest_stats_t st = idle_stats(d);
    assert_int_equal(st.retries, 6);
    ASSERT_GE(st.spooled_batches, 1);
    assert_int_equal(st.batches_delivered, 20);
    assert_int_equal(st.spool_records, 0);
    assert_int_equal(st.held_batches, 0);
    ctx_dest_free(d, NULL);
    check_seq(f, 1, 200);
    assert_non_null(strstr(logs, "tenant 'failspool': HTTP 503; its batches are spooled and retried with backoff"));
    assert_non_null(strstr(logs, "tenant 'failspool': delivery resumed after 6 failed attempts"));
    free(f);
}

static void restart_drains_what_was_spooled(void **state) {
    (void)state;
    fake_t *down = fake_new();
    down->mode = CTX_SEND_RETRY;
    ctx_dest_opts_t o = opts("restart", down, 7, CTX_ENC_ZSTD);
    o.shutdown_ms = 100;
    ctx_dest_t *d = dest_new(&o);
    assert_int_equal(add_range(d, NULL, 1, 100), 0);
    ctx_dest_free(d, NULL); /* 14 full batches + 1 of 2: all spooled */
    assert_int_equal(down->delivered, 0);
    fake_t *up = fake_new();
    o = opts("restart", up, 7, CTX_ENC_ZSTD);
    d = dest_new(&o);
    ctx_dest_stats_t st = idle_stats(d);
    assert_int_equal(st.batches_delivered, 15);
    ctx_dest_free(d, NULL);
    check_seq(up, 1, 100);
    free(down);
    free(up);
}

static void slow_destination_overflows_without_duplicates(void **state) {
    (void)state;
    fake_t *f = fake_new();
    f->delay_ms = 30;
    ctx_dest_opts_t o = opts("slow", f, 5, CTX_ENC_NONE);
    o.max_pending = 1;
    ctx_dest_t *d = dest_new(&o);
    ctx_dest_stats_t st = send_range(d, 1, 200);
    ASSERT_GT(st.spooled_batches, 0);
    assert_int_equal(st.batches_delivered, 40);
    ctx_dest_free(d, NULL);
    check_seq(f, 1, 200);
    assert_non_null(strstr(logs, "tenant 'slow': the destination does not keep up"));
    free(f);
}

static void rejection_goes_to_dead_letter(void **state) {
    (void)state;
    fake_t *f = fake_new();
    f->reject_call = 2;
    ctx_dest_opts_t o = opts("reject", f, 2, CTX_ENC_ZSTD);
    ctx_dest_t *d = dest_new(&o);
    ctx_dest_stats_t st = send_range(d, 1, 6);
    assert_int_equal(st.deadletter_batches, 1);
    assert_int_equal(st.deadletter_msgs, 2);
    assert_int_equal(st.batches_delivered, 2);
    ctx_dest_free(d, NULL);
    assert_int_equal(f->len, 2 * 11 * 2);
    assert_memory_equal(f->got, "msg-000001\nmsg-000002\nmsg-000005\nmsg-000006\n", f->len);
    FILE *fp = fopen(dlpath, "r");
    assert_non_null(fp);
    char buf[1024];
    size_t n = fread(buf, 1, sizeof buf - 1, fp);
    fclose(fp);
    buf[n] = '\0';
    char *nl = strchr(buf, '\n');
    assert_non_null(nl);
    assert_memory_equal(buf, "{\"deadletter\":{\"time\":\"", 23);
    assert_non_null(strstr(buf, "\",\"tenant\":\"reject\",\"reason\":\"HTTP 400: bad\",\"messages\":2,\"format\":\"ndjson\","
                                "\"encoding\":\"none\",\"bytes\":22}}\nmsg-000003\nmsg-000004\n\n"));
    assert_int_equal(strlen(nl + 1), 23);
    assert_non_null(strstr(logs, "tenant 'reject': a batch of 2 messages was rejected (HTTP 400: bad): written to"));
    free(f);
}

/* a partial result: the refused message goes to the dead-letter file with its reason, the one
 * to retry comes again alone (after the batches queued meanwhile), the delivered ones never
 * again; from memory and, with write-ahead, from the spool */
static void partial_result_splits_the_batch(void **state) {
    (void)state;
    for (int wa = 0; wa <= 1; wa++) {
        pthread_mutex_lock(&logmu);
        loglen = 0, logs[0] = '\0';
        pthread_mutex_unlock(&logmu);
        fake_t *f = fake_new();
        f->partial_call = 1;
        ctx_dest_opts_t o = opts(wa ? "partial-wa" : "partial", f, 4, CTX_ENC_NONE);
        o.write_ahead = wa;
        ctx_dest_t *d = dest_new(&o);
        assert_int_equal(add_range(d, NULL, 1, 8), 0);
        wait_idle(d);
        ctx_dest_stats_t st;
        ctx_dest_stats(d, &st);
        assert_int_equal(st.partial_batches, 1);
        assert_int_equal(st.partial_retried_msgs, 1);
        assert_int_equal(st.partial_rejected_msgs, 1);
        assert_int_equal(st.deadletter_msgs, 1);
        assert_int_equal(st.msgs_delivered, 7);
        assert_int_equal(st.spool_records, 0);
        ctx_dest_free(d, NULL);
        assert_int_equal(f->calls, 3);
        f->got[f->len] = '\0';
        assert_string_equal(f->got, "msg-000003\nmsg-000004\nmsg-000005\nmsg-000006\nmsg-000007\nmsg-000008\nmsg-000001\n");
        FILE *fp = fopen(dlpath, "r");
        assert_non_null(fp);
        char buf[1024];
        size_t n = fread(buf, 1, sizeof buf - 1, fp);
        fclose(fp);
        buf[n] = '\0';
        assert_non_null(strstr(buf, "\"reason\":\"item 2: status 400: bad field\",\"messages\":1,\"format\":\"ndjson\""));
        assert_non_null(strstr(buf, "}}\nmsg-000002\n\n"));
        assert_non_null(strstr(logs, "2 of 4 items failed: 2 of 4 messages delivered, 1 refused (dead-lettered), 1 sent again"));
        free(f);
    }
}

/* messages of ~1 KiB so that a few batches fill a 1 MiB spool */
static int add_big(ctx_dest_t *d, int from, int to) {
    static char m[1100];
    for (int i = from; i <= to; i++) {
        if (!ctx_dest_accepting(d)) return i;
        int n = snprintf(m, sizeof m, "msg-%06d ", i);
        memset(m + n, 'x', 1000);
        if (ctx_dest_add(d, NULL, m, (size_t)n + 1000) != 0) return -1;
    }
    return 0;
}

/* checks msg-FROM..TO, each once, in order, in big messages; returns how many */
static int count_big(const fake_t *f, int *first) {
    int n = 0, prev = 0;
    for (const char *p = f->got; p < f->got + f->len; n++) {
        int v = atoi(p + 4);
        if (n == 0) *first = v;
        else assert_int_equal(v, prev + 1);
        prev = v;
        p = memchr(p, '\n', (size_t)(f->got + f->len - p));
        assert_non_null(p);
        p++;
    }
    return n;
}

static void spool_full_block_refuses_then_recovers(void **state) {
    (void)state;
    fake_t *f = fake_new();
    f->mode = CTX_SEND_RETRY;
    ctx_dest_opts_t o = opts("block", f, 100, CTX_ENC_NONE);
    o.cfg.spool_max_bytes = 1 << 20;
    o.cfg.spool_when_full = CTX_SPOOL_BLOCK;
    ctx_dest_t *d = dest_new(&o);
    int refused_at = add_big(d, 1, 5000);
    ASSERT_GT(refused_at, 800); /* ~1 MiB of 1 KiB messages */
    ASSERT_LT(refused_at, 1500);
    assert_int_equal(ctx_dest_accepting(d), 0);
    ctx_dest_stats_t st;
    ctx_dest_stats(d, &st);
    assert_int_equal(st.blocked, 1);
    ASSERT_GE(st.spool_full, 1);
    assert_non_null(strstr(logs, "tenant 'block': spool full (1048576 bytes, policy block)"));
    fake_set(f, CTX_SEND_OK, 0);
    for (int i = 0; i < 3000 && !ctx_dest_accepting(d); i++) usleep(10000); /* up to 30 s: a loaded host */
    if (!ctx_dest_accepting(d)) fail_msg("still blocked; log:\n%s", logs);
    assert_int_equal(add_big(d, refused_at, refused_at + 98), 0);
    assert_int_equal(ctx_dest_flush(d, NULL), 1); /* the last, partial batch */
    wait_idle(d);
    ctx_dest_free(d, NULL);
    int first = 0;
    assert_int_equal(count_big(f, &first), refused_at + 98);
    assert_int_equal(first, 1);
    free(f);
}

static void spool_full_drop_oldest_counts(void **state) {
    (void)state;
    fake_t *f = fake_new();
    f->mode = CTX_SEND_RETRY;
    ctx_dest_opts_t o = opts("dropold", f, 100, CTX_ENC_NONE);
    o.cfg.spool_max_bytes = 1 << 20;
    o.cfg.spool_when_full = CTX_SPOOL_DROP_OLDEST;
    ctx_dest_t *d = dest_new(&o);
    assert_int_equal(add_big(d, 1, 3000), 0); /* never refused */
    ctx_dest_stats_t st;
    ctx_dest_stats(d, &st);
    ASSERT_GT(st.spool_dropped, 0);
    assert_int_equal(st.blocked, 0);
    fake_set(f, CTX_SEND_OK, 0);
    wait_idle(d);
    ctx_dest_stats(d, &st);
    ctx_dest_free(d, NULL);
    int first = 0, n = count_big(f, &first);
    /* whole oldest batches (100 messages each) are gone, the newest all arrived */
    assert_int_equal(first + n - 1, 3000);
    assert_int_equal((first - 1) % 100, 0);
    ASSERT_GT(first, 1);
    free(f);
}

static int enospc_on;
static ssize_t enospc_pwrite(int fd, const void *buf, size_t len, off_t off) {
    if (__atomic_load_n(&enospc_on, __ATOMIC_RELAXED)) {
        errno = ENOSPC;
        return -1;
    }
    return pwrite(fd, buf, len, off);
}

static void disk_full_blocks_and_delivers_from_memory(void **state) {
    (void)state;
    fake_t *f = fake_new();
    f->mode = CTX_SEND_RETRY;
    ctx_dest_opts_t o = opts("diskfull", f, 10, CTX_ENC_NONE);
    o.spool_pwrite = enospc_pwrite;
    enospc_on = 1;
    ctx_dest_t *d = dest_new(&o);
    int refused_at = add_range(d, NULL, 1, 100);
    ASSERT_GT(refused_at, 1);
    assert_int_equal(ctx_dest_accepting(d), 0);
    ctx_dest_stats_t st;
    ctx_dest_stats(d, &st);
    ASSERT_GE(st.spool_errors, 1);
    assert_non_null(strstr(logs, "tenant 'diskfull': cannot spool a batch: "));
    assert_non_null(strstr(logs, "No space left on device"));
    fake_set(f, CTX_SEND_OK, 0); /* the destination is back; the disk is still full */
    for (int i = 0; i < 3000 && !ctx_dest_accepting(d); i++) usleep(10000); /* up to 30 s: a loaded host */
    assert_int_equal(ctx_dest_accepting(d), 1);
    enospc_on = 0;
    assert_int_equal(add_range(d, NULL, refused_at, 100), 0);
    ctx_dest_flush(d, NULL);
    wait_idle(d);
    ctx_dest_free(d, NULL);
    check_seq(f, 1, 100);
    free(f);
}

/* a HUP's settings while other threads keep the open batch filling: each spool write of a
 * seal adds messages (as other workers would while the seal has the lock released) */
static ctx_dest_t *fill_d;
static int fill_left, fill_next;
static ssize_t filling_pwrite(int fd, const void *buf, size_t len, off_t off) {
    for (int k = 0; k < 2 && fill_left > 0; k++, fill_left--) {
        char m[64];
        int n = snprintf(m, sizeof m, "msg-%06d", fill_next++);
        assert_int_equal(ctx_dest_add(fill_d, NULL, m, (size_t)n), 0);
    }
    return pwrite(fd, buf, len, off);
}

static void reconfigure_retried_until_applied(void **state) {
    (void)state;
    fake_t *f = fake_new();
    ctx_dest_opts_t o = opts("reconf", f, 100000, CTX_ENC_NONE);
    o.write_ahead = 1; /* every seal writes the spool with the lock released */
    o.spool_pwrite = filling_pwrite;
    ctx_dest_t *d = fill_d = dest_new(&o);
    fill_next = 1;
    ctx_dest_stats_t st;
    char m[64];
    int n = snprintf(m, sizeof m, "msg-%06d", fill_next++);
    assert_int_equal(ctx_dest_add(d, NULL, m, (size_t)n), 0);
    ctx_dest_config_t c = o.cfg;
    c.limits.max_messages = 5;
    fill_left = 100000; /* the batch never stops filling: the old settings stay, the new ones wait */
    assert_int_equal(ctx_dest_reconfigure(d, NULL, &c), CTX_EAGAIN);
    ctx_dest_stats(d, &st);
    assert_int_equal(st.reconfig_pending, 1);
    assert_int_equal(st.reconfig_retries, 0);
    assert_int_equal(ctx_dest_flush_due(d, NULL, 0), 0); /* the timer tries again: still filling */
    ctx_dest_stats(d, &st);
    assert_int_equal(st.reconfig_pending, 1);
    assert_int_equal(st.reconfig_retries, 1);
    fill_left = 0; /* the workers pause: the next tick applies them */
    assert_int_equal(ctx_dest_flush_due(d, NULL, 0), 0);
    ctx_dest_stats(d, &st);
    assert_int_equal(st.reconfig_pending, 0);
    assert_int_equal(st.reconfig_retries, 1);
    uint64_t sealed = st.batches_sealed;
    int first = fill_next;
    assert_int_equal(add_range(d, NULL, first, first + 9), 0); /* the new limit: 5 a batch */
    fill_next += 10;
    ctx_dest_stats(d, &st);
    assert_int_equal(st.batches_sealed, sealed + 2);
    wait_idle(d);
    ctx_dest_free(d, NULL);
    check_seq(f, 1, fill_next - 1); /* nothing added during the seals was lost */
    free(f);
}

static void write_ahead_spools_every_batch(void **state) {
    (void)state;
    fake_t *f = fake_new();
    ctx_dest_opts_t o = opts("wal", f, 4, CTX_ENC_ZSTD);
    o.write_ahead = 1;
    ctx_dest_t *d = dest_new(&o);
    ctx_dest_stats_t st = send_range(d, 1, 40);
    assert_int_equal(st.spooled_batches, 10);
    assert_int_equal(st.batches_delivered, 10);
    ctx_dest_free(d, NULL);
    check_seq(f, 1, 40);
    free(f);
}

static void retry_after_is_honoured(void **state) {
    (void)state;
    fake_t *f = fake_new();
    f->fail_first = 1;
    f->retry_after_ms = 300;
    ctx_dest_opts_t o = opts("retryafter", f, 2, CTX_ENC_NONE);
    ctx_dest_t *d = dest_new(&o);
    uint64_t t0 = ctx_batch_now_ms();
    assert_int_equal(add_range(d, NULL, 1, 2), 0);
    wait_idle(d);
    ASSERT_GE(ctx_batch_now_ms() - t0, 300);
    ctx_dest_free(d, NULL);
    check_seq(f, 1, 2);
    free(f);
}

static void fake_free(void *arg) {
    __atomic_add_fetch(&((fake_t *)arg)->freed, 1, __ATOMIC_RELEASE);
}

/* a HUP changes the format: batches sealed or spooled before go through the transport of
 * their own format (kept until none is left, then freed), the new ones through the new one */
static void format_change_keeps_each_batch_s_transport(void **state) {
    (void)state;
    fake_t *a = fake_new(), *b = fake_new();
    a->mode = CTX_SEND_RETRY, a->formats = 1u << CTX_BATCH_NDJSON;
    b->mode = CTX_SEND_OK, b->formats = 1u << CTX_BATCH_JSON_ARRAY;
    ctx_dest_opts_t o = opts("fmtchange", a, 5, CTX_ENC_NONE);
    o.transport.formats = a->formats, o.transport.free = fake_free;
    ctx_dest_t *d = dest_new(&o);
    assert_int_equal(add_range(d, NULL, 1, 12), 0); /* 2 batches sealed, 2 messages open */
    ctx_dest_config_t c = o.cfg;
    c.format = CTX_BATCH_JSON_ARRAY;
    assert_int_equal(ctx_dest_reconfigure(d, NULL, &c), 0); /* the open batch sealed as NDJSON */
    ctx_dest_transport_t tb = {fake_send, NULL, fake_free, b, b->formats};
    ctx_dest_set_transport(d, tb);
    assert_int_equal(add_range(d, NULL, 13, 20), 0);
    assert_int_equal(ctx_dest_flush(d, NULL), 1);
    fake_set(a, CTX_SEND_OK, 0);
    wait_idle(d);
    check_seq(a, 1, 12);
    assert_int_equal(a->delivered, 3);
    for (int i = 0; i < 3000 && __atomic_load_n(&a->freed, __ATOMIC_ACQUIRE) == 0; i++) usleep(10000);
    assert_int_equal(__atomic_load_n(&a->freed, __ATOMIC_ACQUIRE), 1); /* nothing of its format left: closed */
    assert_int_equal(b->delivered, 2);
    assert_int_equal(b->got[0], '[');
    assert_non_null(memmem(b->got, b->len, "msg-000013", 10));
    assert_non_null(memmem(b->got, b->len, "msg-000020", 10));
    assert_null(memmem(b->got, b->len, "msg-000012", 10));
    ctx_dest_free(d, NULL);
    assert_int_equal(b->freed, 1);
    /* after a restart nothing sends the old format: dead-lettered, said why */
    fake_t *x = fake_new(), *y = fake_new();
    x->mode = CTX_SEND_RETRY, y->formats = 1u << CTX_BATCH_NDJSON;
    o = opts("fmtrestart", x, 5, CTX_ENC_NONE);
    o.cfg.format = CTX_BATCH_JSON_ARRAY;
    o.shutdown_ms = 100;
    d = dest_new(&o);
    assert_int_equal(add_range(d, NULL, 1, 5), 0);
    ctx_dest_free(d, NULL); /* spooled */
    o = opts("fmtrestart", y, 5, CTX_ENC_NONE);
    o.transport.formats = y->formats;
    loglen = 0;
    d = dest_new(&o);
    ctx_dest_stats_t st = idle_stats(d);
    assert_int_equal(st.deadletter_msgs, 5);
    assert_int_equal(st.msgs_delivered, 0);
    assert_int_equal(y->calls, 0);
    assert_non_null(strstr(logs, "a batch written as json-array, which the tenant's destination no longer takes"));
    ctx_dest_free(d, NULL);
    free(a), free(b), free(x), free(y);
}

CTX_TEST_MAIN(setup, teardown,
    cmocka_unit_test(batches_by_size_and_age_in_order),
    cmocka_unit_test(failures_spool_then_drain_in_order),
    cmocka_unit_test(restart_drains_what_was_spooled),
    cmocka_unit_test(slow_destination_overflows_without_duplicates),
    cmocka_unit_test(rejection_goes_to_dead_letter),
    cmocka_unit_test(partial_result_splits_the_batch),
    cmocka_unit_test(spool_full_block_refuses_then_recovers),
    cmocka_unit_test(spool_full_drop_oldest_counts),
    cmocka_unit_test(disk_full_blocks_and_delivers_from_memory),
    cmocka_unit_test(write_ahead_spools_every_batch),
    cmocka_unit_test(reconfigure_retried_until_applied),
    cmocka_unit_test(retry_after_is_honoured),
    cmocka_unit_test(format_change_keeps_each_batch_s_transport))
