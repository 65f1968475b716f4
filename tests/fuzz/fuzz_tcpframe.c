/* fuzz_tcpframe.c: libFuzzer target for the syslog framer (common/capture/sysframe.c).
 *
 * Input: byte 0 chooses the configuration (bit 0 nul_delimiter, bit 1 gap_emit,
 * bit 2 stream joined in the middle, bits 3-4 max_frame 16/32/100/1000, bit 5
 * max_octet_count = max_frame instead of 200000); the rest is the stream, where
 * 0xFE n means "gap of n + 1 bytes", 0xFD "clean end" and 0xFC "lost end" (a new
 * stream starts after an end).
 * The same script runs three times: every run of bytes in one ctx_sysframe_feed()
 * call, one byte per call, and split at pseudo-random points. The three must emit
 * the same frames and the same counters (the picohttpparser property). Every
 * frame must be 1..max_frame bytes, every buffer at most max_frame + 16 bytes,
 * and all buffers given back at the end. The unit test
 * tests/unit/test_sysframe.c includes this file to replay the corpus.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sysframe.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct fz_out {
    uint64_t hash;     /* FNV-1a over all frames (flags, length, bytes) */
    uint64_t frames;
    size_t max_frame;
    size_t outstanding; /* bytes allocated and not released */
    size_t max_buf;     /* largest single buffer */
};

static void fz_emit(void *ud, const struct ctx_sysframe_frame *fr) {
    struct fz_out *o = ud;
    if (fr->len == 0 || fr->len > o->max_frame || fr->data == NULL) abort();
    if (fr->framing < CTX_SYSFRAME_OCTET || fr->framing > CTX_SYSFRAME_NUL || fr->truncated > 1 || fr->partial > 1)
        abort();
    uint8_t hdr[4] = {fr->framing, fr->truncated, fr->partial, (uint8_t)fr->len};
    for (size_t i = 0; i < sizeof hdr; i++) o->hash = (o->hash ^ hdr[i]) * 1099511628211ull;
    for (size_t i = 0; i < fr->len; i++) o->hash = (o->hash ^ fr->data[i]) * 1099511628211ull;
    o->frames++;
}

static void *fz_alloc(void *ud, size_t want, size_t *cap) {
    struct fz_out *o = ud;
    if (want > o->max_buf) o->max_buf = want;
    o->outstanding += want;
    *cap = want;
    return malloc(want);
}

static void fz_release(void *ud, void *p, size_t cap) {
    struct fz_out *o = ud;
    o->outstanding -= cap;
    free(p);
}

/* mode 0: runs whole, 1: byte by byte, 2: pseudo-random splits */
static void fz_run(const uint8_t *data, size_t size, int mode, struct fz_out *o, struct ctx_sysframe_stats *st) {
    static const size_t frames[4] = {16, 32, 100, 1000};
    uint8_t c = data[0];
    struct ctx_sysframe_cfg cfg = {.max_frame = frames[(c >> 3) & 3], .nul_delimiter = c & 1, .gap_emit = (c >> 1) & 1,
                                   .buf_alloc = fz_alloc, .buf_release = fz_release, .buf_ud = o};
    cfg.max_octet_count = (c & 0x20) ? cfg.max_frame : 200000;
    memset(o, 0, sizeof(*o));
    o->hash = 14695981039346656037ull;
    o->max_frame = cfg.max_frame;
    ctx_sysframe_t *f = NULL;
    if (ctx_sysframe_new(&cfg, &f, NULL, 0) != 0) abort();
    struct ctx_sysframe_stream s;
    ctx_sysframe_stream_init(&s, !((c >> 2) & 1));
    uint32_t rnd = 2463534242u;
    size_t i = 1;
    while (i < size) {
        uint8_t b = data[i];
        if (b == 0xFE) {
            if (i + 1 < size) ctx_sysframe_gap(f, &s, (uint64_t)data[i + 1] + 1, fz_emit, o);
            i += 2;
            continue;
        }
        if (b == 0xFD || b == 0xFC) {
            ctx_sysframe_end(f, &s, b == 0xFD ? CTX_SYSFRAME_END_CLEAN : CTX_SYSFRAME_END_LOST, fz_emit, o);
            i++;
            continue;
        }
        size_t j = i;
        while (j < size && data[j] != 0xFE && data[j] != 0xFD && data[j] != 0xFC) j++;
        while (i < j) {
            size_t n = j - i;
            if (mode == 1) n = 1;
            if (mode == 2) {
                rnd ^= rnd << 13, rnd ^= rnd >> 17, rnd ^= rnd << 5;
                n = 1 + rnd % n;
            }
            ctx_sysframe_feed(f, &s, data + i, n, fz_emit, o);
            if (ctx_sysframe_stream_mem(&s) > cfg.max_frame + 16) abort();
            i += n;
        }
    }
    ctx_sysframe_end(f, &s, CTX_SYSFRAME_END_CLEAN, fz_emit, o);
    if (o->outstanding != 0 || o->max_buf > cfg.max_frame + 16 || ctx_sysframe_stream_mem(&s) != 0) abort();
    ctx_sysframe_get_stats(f, st);
    st->alloc_failures = 0;
    ctx_sysframe_free(f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    struct fz_out o[3];
    struct ctx_sysframe_stats st[3];
    if (size < 1) return 0;
    for (int m = 0; m < 3; m++) fz_run(data, size, m, &o[m], &st[m]);
    for (int m = 1; m < 3; m++) {
        if (o[m].hash != o[0].hash || o[m].frames != o[0].frames) abort();
        if (memcmp(&st[m], &st[0], sizeof st[0]) != 0) abort();
    }
    return 0;
}
