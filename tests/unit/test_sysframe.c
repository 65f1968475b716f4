/* test_sysframe.c: unit tests of common/capture/sysframe.c (RFC 6587 framing).
 *
 * Every case is a script of stream bytes, gaps and ends, run the picohttpparser
 * way: all bytes of a run in one call, one byte per call (each byte placed right
 * before a guard page), and every split of the script's bytes into two calls. All
 * runs must give the exact expected frames and the same counters. The fuzzer's
 * corpus (tests/fuzz/corpus/tcpframe) is replayed at the end.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "check.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctxlog_common.h"
#include "corpus.h"
#include "guardbuf.h"
#include "sysframe.h"

#include "../fuzz/fuzz_tcpframe.c"

static struct guardbuf G;

/* ---- script runner ---- */

enum { OP_FEED, OP_GAP, OP_END_CLEAN, OP_END_LOST };
struct op {
    int kind;
    const char *data;
    size_t len;
    uint64_t lost;
};
#define FEED(s) {OP_FEED, s, sizeof(s) - 1, 0}
#define GAP(n) {OP_GAP, NULL, 0, n}
#define END_CLEAN {OP_END_CLEAN, NULL, 0, 0}
#define END_LOST {OP_END_LOST, NULL, 0, 0}

struct opts {
    size_t max_frame;  /* 0: 64 */
    size_t max_octet;  /* 0: 200000 */
    int nul, gap_emit, midstream;
};

struct capture {
    char text[1 << 16];
    size_t len;
    size_t outstanding, max_buf;
    int fail_alloc; /* allocations fail */
};

/* one frame per line: framing letter O/L/N, 't' truncated, 'p' partial, ':', bytes (\n, \0, \xHH escaped) */
static void cap_emit(void *ud, const struct ctx_sysframe_frame *fr) {
    struct capture *c = ud;
    static const char letters[] = "?OLN";
    ASSERT_GE(fr->len, 1);
    c->len += (size_t)snprintf(c->text + c->len, sizeof c->text - c->len, "%c%s%s:", letters[fr->framing],
                               fr->truncated ? "t" : "", fr->partial ? "p" : "");
    for (size_t i = 0; i < fr->len && c->len + 8 < sizeof c->text; i++) {
        uint8_t b = fr->data[i];
        if (b == '\n')
            c->len += (size_t)snprintf(c->text + c->len, sizeof c->text - c->len, "\\n");
        else if (b < 0x20 || b >= 0x7f)
            c->len += (size_t)snprintf(c->text + c->len, sizeof c->text - c->len, "\\x%02x", b);
        else
            c->text[c->len++] = (char)b;
    }
    c->text[c->len++] = '\n';
    c->text[c->len] = '\0';
}

static void *cap_alloc(void *ud, size_t want, size_t *cap) {
    struct capture *c = ud;
    if (c->fail_alloc) return NULL;
    c->outstanding += want;
    if (want > c->max_buf) c->max_buf = want;
    *cap = want;
    return malloc(want);
}

static void cap_release(void *ud, void *p, size_t cap) {
    struct capture *c = ud;
    c->outstanding -= cap;
    free(p);
}

static ctx_sysframe_t *make(const struct opts *o, struct capture *c) {
    struct ctx_sysframe_cfg cfg = {.max_frame = o->max_frame ? o->max_frame : 64,
                                   .max_octet_count = o->max_octet ? o->max_octet : 200000,
                                   .nul_delimiter = o->nul,
                                   .gap_emit = o->gap_emit,
                                   .buf_alloc = cap_alloc,
                                   .buf_release = cap_release,
                                   .buf_ud = c};
    ctx_sysframe_t *f = NULL;
    char err[CTX_ERRLEN];
    assert_int_equal(ctx_sysframe_new(&cfg, &f, err, sizeof err), 0);
    return f;
}

/* feed b[0..n) split as the mode says; split: first call takes `split` bytes of the whole script */
static void feed_bytes(ctx_sysframe_t *f, struct ctx_sysframe_stream *s, const uint8_t *b, size_t n, int bytewise,
                       size_t *budget, struct capture *c) {
    size_t i = 0;
    while (i < n) {
        size_t k = bytewise ? 1 : n - i;
        if (*budget > 0 && k > *budget) k = *budget; /* the split point falls inside this run */
        if (*budget > 0) *budget -= k;
        ctx_sysframe_feed(f, s, guardbuf_place(&G, b + i, k), k, cap_emit, c);
        i += k;
    }
}

static void run_script(const struct op *ops, size_t nops, const struct opts *o, int bytewise, size_t split,
                       struct capture *c, struct ctx_sysframe_stats *st) {
    memset(c, 0, sizeof(*c));
    ctx_sysframe_t *f = make(o, c);
    struct ctx_sysframe_stream s;
    ctx_sysframe_stream_init(&s, !o->midstream);
    size_t budget = split;
    for (size_t i = 0; i < nops; i++) {
        if (ops[i].kind == OP_FEED) feed_bytes(f, &s, (const uint8_t *)ops[i].data, ops[i].len, bytewise, &budget, c);
        if (ops[i].kind == OP_GAP) ctx_sysframe_gap(f, &s, ops[i].lost, cap_emit, c);
        if (ops[i].kind == OP_END_CLEAN) ctx_sysframe_end(f, &s, CTX_SYSFRAME_END_CLEAN, cap_emit, c);
        if (ops[i].kind == OP_END_LOST) ctx_sysframe_end(f, &s, CTX_SYSFRAME_END_LOST, cap_emit, c);
        ASSERT_LE(ctx_sysframe_stream_mem(&s), (o->max_frame ? o->max_frame : 64) + 16);
    }
    ctx_sysframe_end(f, &s, CTX_SYSFRAME_END_LOST, cap_emit, c); /* no-op after an explicit end */
    assert_int_equal(c->outstanding, 0);
    ctx_sysframe_get_stats(f, st);
    st->alloc_failures = 0; /* depends on how the buffer grew */
    ctx_sysframe_free(f);
}

/* run whole, byte by byte and split at every point; all must print `expect`; returns the counters */
static struct ctx_sysframe_stats check_script(const struct op *ops, size_t nops, const struct opts *o,
                                              const char *expect) {
    static struct capture c;
    struct ctx_sysframe_stats st0, st;
    size_t total = 0;
    for (size_t i = 0; i < nops; i++) total += ops[i].len;
    run_script(ops, nops, o, 0, 0, &c, &st0);
    assert_string_equal(c.text, expect);
    run_script(ops, nops, o, 1, 0, &c, &st);
    assert_string_equal(c.text, expect);
    assert_memory_equal(&st, &st0, sizeof st);
    for (size_t split = 1; split < total; split++) {
        run_script(ops, nops, o, 0, split, &c, &st);
        assert_string_equal(c.text, expect);
        assert_memory_equal(&st, &st0, sizeof st);
    }
    return st0;
}

#define CHECK(opts_, expect, ...)                                                                  \
    ({                                                                                             \
        const struct op ops_[] = {__VA_ARGS__};                                                    \
        check_script(ops_, sizeof ops_ / sizeof ops_[0], opts_, expect);                           \
    })

/* ---- in-sync framing ---- */

static void lf_framing(void **state) {
    (void)state;
    struct opts o = {0};
    struct ctx_sysframe_stats st = CHECK(&o, "L:<13>a\nL:<14>bc\n", FEED("<13>a\n<14>bc\n"));
    assert_int_equal(st.frames_lf, 2);
    assert_int_equal(st.frames_octet, 0);
    /* a message starting with a digit in a non-transparent stream stays non-transparent */
    CHECK(&o, "L:<13>a\nL:12 not a count\n", FEED("<13>a\n12 not a count\n"));
    /* empty frames are skipped and counted */
    st = CHECK(&o, "L:<13>a\n", FEED("\n\n<13>a\n\n"));
    assert_int_equal(st.empty, 3);
    /* NUL is message data unless nul_delimiter */
    CHECK(&o, "L:<13>a\\x00<14>b\n", FEED("<13>a\0<14>b\n"));
    o.nul = 1;
    st = CHECK(&o, "N:<13>a\nL:<14>b\n", FEED("<13>a\0<14>b\n"));
    assert_int_equal(st.frames_nul, 1);
    assert_int_equal(st.frames_lf, 1);
}

static void octet_framing(void **state) {
    (void)state;
    struct opts o = {0};
    struct ctx_sysframe_stats st = CHECK(&o, "O:<13>a\nO:<14>bc\nO:<15>x\\ny\n", FEED("5 <13>a6 <14>bc7 <15>x\ny"));
    assert_int_equal(st.frames_octet, 3);
    assert_int_equal(st.framing_errors, 0);
    /* leading zeros are accepted, as imtcp does */
    CHECK(&o, "O:<13>a\n", FEED("005 <13>a"));
    /* LF and NUL inside an octet-counted frame are data */
    o.nul = 1;
    CHECK(&o, "O:a\\x00b\\nc\n", FEED("5 a\0b\nc"));
}

static void truncation(void **state) {
    (void)state;
    struct opts o = {.max_frame = 16};
    /* non-transparent: cut at 16, the rest skipped to the LF; exactly 16 is not cut */
    struct ctx_sysframe_stats st =
        CHECK(&o, "Lt:<13>0123456789AB\nL:<14>ok\nL:<15>0123456789AB\n",
              FEED("<13>0123456789ABCDEFGH\n<14>ok\n<15>0123456789AB\n"));
    assert_int_equal(st.truncated, 1);
    assert_int_equal(st.bytes_truncated, 6);
    /* octet counting: cut at 16, the count keeps the stream in sync */
    st = CHECK(&o, "Ot:<13>0123456789AB\nO:<14>x\nO:<15>0123456789AB\n",
               FEED("24 <13>0123456789ABCDEFGHIJ5 <14>x16 <15>0123456789AB"));
    assert_int_equal(st.truncated, 1);
    assert_int_equal(st.bytes_truncated, 8);
    /* a frame that never ends: one cut frame, then nothing held */
    static char big[100000];
    memset(big, 'x', sizeof big);
    big[0] = '<';
    struct op ops[] = {{OP_FEED, big, sizeof big, 0}, FEED("\n<13>after\n")};
    struct capture *c = calloc(1, sizeof(*c));
    run_script(ops, 2, &o, 0, 0, c, &st);
    assert_string_equal(c->text, "Lt:<xxxxxxxxxxxxxxx\nL:<13>after\n");
    assert_int_equal(st.bytes_truncated, sizeof big - 16);
    ASSERT_LE(c->max_buf, 16 + 16);
    free(c);
}

/* ---- hostile octet counts (CVE-2022-24903 class) ---- */

static void hostile_counts(void **state) {
    (void)state;
    struct opts o = {0};
    /* more than 10 digits: framing error, then resynchronisation; the held candidate is
     * confirmed by the next header */
    struct ctx_sysframe_stats st =
        CHECK(&o, "O:<14>a\nO:<15>bc\n", FEED("99999999999999999999 <13>hello5 <14>a6 <15>bc"));
    assert_int_equal(st.framing_errors, 1);
    assert_int_equal(st.resyncs, 1);
    /* larger than max_octet_count (and than 2^32) */
    st = CHECK(&o, "O:<14>a\n", FEED("4294967297 <13>x5 <14>a"), END_CLEAN);
    assert_int_equal(st.framing_errors, 1);
    /* not a digit, no space, zero */
    st = CHECK(&o, "O:<13>a\nO:<14>b\n", FEED("5 <13>a12x <13>zz5 <14>b"), END_CLEAN);
    assert_int_equal(st.framing_errors, 1);
    CHECK(&o, "O:<14>b\n", FEED("5<13>a5 <14>b"), END_CLEAN);
    CHECK(&o, "O:<14>b\n", FEED("0 <13>a5 <14>b"), END_CLEAN);
    /* an endless digit run holds no memory */
    static char digits[300000];
    memset(digits, '7', sizeof digits);
    struct op ops[] = {{OP_FEED, digits, sizeof digits, 0}};
    struct capture *c = calloc(1, sizeof(*c));
    run_script(ops, 1, &o, 0, 0, c, &st);
    assert_string_equal(c->text, "");
    assert_int_equal(c->max_buf, 0);
    assert_int_equal(st.framing_errors, 1);
    assert_int_equal(st.bytes_skipped, sizeof digits);
    free(c);
    /* max_octet_count below the count: error even though the frame would fit */
    o.max_octet = 64;
    st = CHECK(&o, "O:<14>b\n", FEED("65 <13>"), FEED("5 <14>b"), END_CLEAN);
    assert_int_equal(st.framing_errors, 1);
}

/* ---- gaps ---- */

static void gaps_octet(void **state) {
    (void)state;
    struct opts o = {.gap_emit = 1};
    /* the gap ends exactly where the frame does: still in sync */
    struct ctx_sysframe_stats st =
        CHECK(&o, "Op:<13>abcdef\nO:<14>a\n", FEED("12 <13>abcdef"), GAP(2), FEED("5 <14>a"));
    assert_int_equal(st.partial_emitted, 1);
    assert_int_equal(st.resyncs, 0);
    /* the gap ends inside the frame: the rest is skipped by the count */
    CHECK(&o, "Op:<13>abcdef\nO:<14>a\n", FEED("12 <13>abcdef"), GAP(1), FEED("x5 <14>a"));
    /* dropped instead of emitted */
    o.gap_emit = 0;
    st = CHECK(&o, "O:<14>a\n", FEED("12 <13>abcdef"), GAP(1), FEED("x5 <14>a"));
    assert_int_equal(st.partial_dropped, 1);
    assert_int_equal(st.bytes_skipped, 10 + 1);
    /* the gap swallows the end of the frame and the start of the next: resync; the
     * candidate in the middle is held until the next header confirms it */
    o.gap_emit = 1;
    st = CHECK(&o, "Op:<13>abcdef\nO:<15>b\nO:<16>cd\n", FEED("12 <13>abcdef"), GAP(9), FEED("4>b5 <15>b6 <16>cd"));
    assert_int_equal(st.resyncs, 1);
    /* the gap ends right at a frame start: held, confirmed by the stream stopping right after it */
    CHECK(&o, "O:<13>a\nO:<15>b\n", FEED("5 <13>a"), GAP(7), FEED("5 <15>b"));
    /* a gap inside the header */
    CHECK(&o, "O:<15>b\n", FEED("1"), GAP(1), FEED(" <13>abcdefgh5 <15>b"), END_CLEAN);
}

static void gaps_lf(void **state) {
    (void)state;
    struct opts o = {.gap_emit = 1};
    /* the partial message is emitted as partial; the stream resumes after the next LF */
    struct ctx_sysframe_stats st = CHECK(&o, "Lp:<13>abc\nL:<14>x\nL:no pri\n", FEED("<13>abc"), GAP(3),
                                         FEED("def\n<14>x\nno pri\n"));
    assert_int_equal(st.partial_emitted, 1);
    assert_int_equal(st.bytes_skipped, 4);
    /* the gap ends at a frame start: "<PRI>" at the origin is taken */
    CHECK(&o, "L:<13>abc\nL:<15>zz\n", FEED("<13>abc\n"), GAP(10), FEED("<15>zz\n"));
    o.gap_emit = 0;
    st = CHECK(&o, "L:<14>x\n", FEED("<13>abc"), GAP(3), FEED("def\n<14>x\n"));
    assert_int_equal(st.partial_dropped, 1);
}

/* ---- streams joined in the middle ---- */

static void midstream(void **state) {
    (void)state;
    struct opts o = {.midstream = 1};
    /* non-transparent: the first "<PRI>" after a LF */
    struct ctx_sysframe_stats st = CHECK(&o, "L:<13>next\nL:<14>x\n", FEED("ng of msg\n<13>next\n<14>x\n"));
    assert_int_equal(st.resyncs, 1);
    assert_int_equal(st.bytes_skipped, 10);
    /* octet counting: a candidate is held until the next header */
    st = CHECK(&o, "O:<13>a\nO:<14>bcd\n", FEED("of msg5 <13>a7 <14>bcd"));
    assert_int_equal(st.bytes_skipped, 6);
    /* the previous message ends in digits: "2293 <13>...": the suffix 93 is the length */
    static char s[200];
    int n = snprintf(s, sizeof s, "port 2293 <13>%089d5 <14>b", 7);
    struct op ops[] = {{OP_FEED, s, (size_t)n, 0}, END_CLEAN};
    char expect[256];
    snprintf(expect, sizeof expect, "O:<13>%089d\nO:<14>b\n", 7);
    o.max_frame = 200;
    check_script(ops, 2, &o, expect);
    /* a frame start at the origin is a candidate like any other: confirmed by the next header */
    o.max_frame = 0;
    CHECK(&o, "O:<13>a\nO:<14>bc\n", FEED("5 <13>a6 <14>bc"));
    CHECK(&o, "L:<13>a\n", FEED("<13>a\n"));
    /* a candidate that is not confirmed is dropped */
    st = CHECK(&o, "O:<15>c\n", FEED("xx 5 <13>abc"), FEED("zzzzzzzz5 <15>c"), END_CLEAN);
    assert_int_equal(st.resync_rejects, 1);
    /* a held candidate is confirmed by the stream stopping exactly after it, not elsewhere */
    CHECK(&o, "O:<13>a\n", FEED("x5 <13>a"), END_CLEAN);
    CHECK(&o, "O:<13>a\n", FEED("x5 <13>a"), END_LOST);
    st = CHECK(&o, "", FEED("x5 <13>"), END_LOST);
    assert_int_equal(st.resync_rejects, 1);
}

/* ---- ends ---- */

static void stream_end(void **state) {
    (void)state;
    struct opts o = {.gap_emit = 1};
    /* clean end: an unterminated non-transparent message is a message (imtcp does the same) */
    CHECK(&o, "L:<13>abc\n", FEED("<13>abc"), END_CLEAN);
    CHECK(&o, "Lp:<13>abc\n", FEED("<13>abc"), END_LOST);
    /* an incomplete octet-counted frame is partial either way */
    CHECK(&o, "Op:<13>ab\n", FEED("10 <13>ab"), END_CLEAN);
    o.gap_emit = 0;
    struct ctx_sysframe_stats st = CHECK(&o, "", FEED("10 <13>ab"), END_CLEAN);
    assert_int_equal(st.partial_dropped, 1);
    /* after an end the next stream starts fresh, with its own framing */
    CHECK(&o, "O:<13>a\nL:<14>b\n", FEED("5 <13>a"), END_CLEAN, FEED("<14>b\n"));
}

/* ---- memory ---- */

static void alloc_failure(void **state) {
    (void)state;
    static struct capture c;
    memset(&c, 0, sizeof c);
    struct opts o = {0};
    ctx_sysframe_t *f = make(&o, &c);
    struct ctx_sysframe_stream s;
    ctx_sysframe_stream_init(&s, 1);
    c.fail_alloc = 1;
    /* split frames cannot be held: emitted truncated at what this call has, stream in sync */
    ctx_sysframe_feed(f, &s, (const uint8_t *)"10 <13>ab", 9, cap_emit, &c);
    ctx_sysframe_feed(f, &s, (const uint8_t *)"cdef5 <14>a", 11, cap_emit, &c);
    assert_string_equal(c.text, "Ot:<13>ab\nO:<14>a\n");
    ctx_sysframe_end(f, &s, CTX_SYSFRAME_END_CLEAN, cap_emit, &c);
    /* whole frames need no memory */
    ctx_sysframe_feed(f, &s, (const uint8_t *)"<15>x\n<16>y", 11, cap_emit, &c);
    ctx_sysframe_feed(f, &s, (const uint8_t *)"z\n<17>w\n", 8, cap_emit, &c);
    assert_string_equal(c.text, "Ot:<13>ab\nO:<14>a\nL:<15>x\nLt:<16>y\nL:<17>w\n");
    struct ctx_sysframe_stats st;
    ctx_sysframe_get_stats(f, &st);
    assert_int_equal(st.alloc_failures, 2);
    assert_int_equal(st.truncated, 2);
    ctx_sysframe_end(f, &s, CTX_SYSFRAME_END_CLEAN, cap_emit, &c);
    ctx_sysframe_free(f);
}

static void config_errors(void **state) {
    (void)state;
    char err[CTX_ERRLEN];
    ctx_sysframe_t *f = NULL;
    struct ctx_sysframe_cfg cfg = {.max_frame = 8, .max_octet_count = 200000};
    assert_int_equal(ctx_sysframe_new(&cfg, &f, err, sizeof err), CTX_EINVAL);
    assert_string_equal(err, "max_frame: expected 16..16777216 bytes, got 8");
    cfg.max_frame = 8192;
    cfg.max_octet_count = 100;
    assert_int_equal(ctx_sysframe_new(&cfg, &f, err, sizeof err), CTX_EINVAL);
    assert_string_equal(err, "max_octet_count: expected 8192 (max_frame) .. 2147483647, got 100");
    cfg.max_octet_count = 200000;
    cfg.buf_ud = NULL;
    cfg.buf_alloc = cap_alloc;
    assert_int_equal(ctx_sysframe_new(&cfg, &f, err, sizeof err), CTX_EINVAL);
    assert_string_equal(err, "buf_alloc and buf_release: expected both or neither");
    assert_null(f);
    ctx_sysframe_free(NULL);
    assert_string_equal(ctx_sysframe_framing_name(CTX_SYSFRAME_OCTET), "octet-counting");
    assert_string_equal(ctx_sysframe_framing_name(CTX_SYSFRAME_NUL), "nul");
    assert_string_equal(ctx_sysframe_framing_name(99), "unknown");
}

/* ---- differential: random streams, whole vs byte by byte vs random splits ---- */

static void random_streams(void **state) {
    (void)state;
    static const uint8_t alphabet[] = "0155 <<>>\n\naz9\0\xfe\xfd\xfc";
    uint8_t in[200];
    uint32_t x = 12345;
    for (int iter = 0; iter < 3000; iter++) {
        size_t n = 1 + (size_t)(iter % (int)sizeof in);
        for (size_t i = 0; i < n; i++) {
            x ^= x << 13, x ^= x >> 17, x ^= x << 5;
            in[i] = alphabet[x % (sizeof alphabet - 1)];
        }
        in[0] = (uint8_t)iter;
        assert_int_equal(LLVMFuzzerTestOneInput(in, n), 0); /* aborts on any difference */
    }
}

static void fuzz_corpus_replay(void **state) {
    (void)state;
    corpus_replay("tcpframe", 5, 1 << 16, &G);
}

GUARDBUF_GROUP_FIXTURE(G, 1 << 19)

CTX_TEST_MAIN(guardbuf_setup, guardbuf_teardown,
    cmocka_unit_test(lf_framing),    cmocka_unit_test(octet_framing),  cmocka_unit_test(truncation),
    cmocka_unit_test(hostile_counts), cmocka_unit_test(gaps_octet),    cmocka_unit_test(gaps_lf),
    cmocka_unit_test(midstream),     cmocka_unit_test(stream_end),     cmocka_unit_test(alloc_failure),
    cmocka_unit_test(config_errors), cmocka_unit_test(random_streams), cmocka_unit_test(fuzz_corpus_replay))
