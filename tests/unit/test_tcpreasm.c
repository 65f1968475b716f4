/* test_tcpreasm.c: unit tests of common/capture/tcpreasm.c (passive TCP reassembly + framing).
 *
 * Segments are struct ctx_pkt records whose payload sits right before a guard page
 * (guardbuf.h, tcpreasm_fx.h); one test goes through real frames and ctx_pkt_decode().
 * Crafted orders (out of order, duplicated, overlapping with other bytes, missing, cut by
 * the snap length, flows joined in the middle, wrap-around) are checked for exact
 * output; property tests deliver random streams in random segmentations and
 * orders (one byte per segment included) and compare with the original frames.
 * The fuzzer's corpus (tests/fuzz/corpus/tcpreasm) is replayed at the end.
 * Floods, memory bounds and fairness between interfaces: test_tcpreasm_limits.c.
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
#include "pktbuild.h"
#include "pktdecode.h"
#include "tcpreasm.h"
#include "tcpreasm_fx.h"

#include "../fuzz/fuzz_tcpreasm.c"

/* ---- in order, out of order, duplicates, overlaps ---- */

static void in_order(void **state) {
    (void)state;
    start(NULL);
    seg(0, SYN, 1000, NULL);
    seg(0, ACK, 1001, "<13>a\n<14>");
    seg(0, ACK, 1011, "bc\n");
    seg(0, FIN, 1014, NULL);
    assert_string_equal(OUT, "0:L:<13>a\n0:L:<14>bc\n");
    struct ctx_tcpreasm_stats st = stats();
    assert_int_equal(st.flows_opened, 1);
    assert_int_equal(st.flows_closed, 1);
    assert_int_equal(st.flows_in_use, 1); /* remembered (linger) */
    assert_int_equal(st.frames.frames_lf, 2);
    /* a retransmission after the end creates nothing */
    seg(0, ACK, 1001, "<13>a\n<14>");
    seg(0, FIN, 1014, NULL);
    assert_string_equal(OUT, "0:L:<13>a\n0:L:<14>bc\n");
    assert_int_equal(stats().segments_ignored, 2);
    /* the linger ends */
    NOW += CFG.linger_ms;
    ctx_tcpreasm_expire(R, NOW);
    assert_int_equal(stats().flows_in_use, 0);
    stop();
}

static void out_of_order(void **state) {
    (void)state;
    start(NULL);
    seg(0, SYN, 0, NULL);
    seg(0, ACK, 15, "6 <15>c");    /* third */
    seg(0, ACK, 8, "5 <14>b");     /* second */
    assert_string_equal(OUT, "");
    assert_int_equal(stats().segments_ooo, 2);
    seg(0, ACK, 1, "5 <13>a");     /* first: all three complete */
    assert_string_equal(OUT, "0:O:<13>a\n0:O:<14>b\n");
    seg(0, FIN, 22, "c");
    assert_string_equal(OUT, "0:O:<13>a\n0:O:<14>b\n0:O:<15>cc\n");
    struct ctx_tcpreasm_stats st = stop();
    assert_int_equal(st.gaps, 0);
    assert_int_equal(st.flows_closed, 1);
}

static void duplicates_and_overlaps(void **state) {
    (void)state;
    start(NULL);
    seg(0, SYN, 99, NULL);
    seg(0, ACK, 100, "<13>abcdef\n");
    seg(0, ACK, 100, "<13>abcdef\n");   /* exact duplicate */
    seg(0, ACK, 104, "XXXXXXX");      /* framed bytes again, with other content: first copy wins */
    assert_string_equal(OUT, "0:L:<13>abcdef\n");
    /* held piece first, then an in-order segment covering it with other bytes */
    seg(0, ACK, 115, "12345");          /* held: bytes 115..119 */
    seg(0, ACK, 111, "<14>YYYYYYYYYY\n"); /* 111..125: 115..119 come from the held piece */
    assert_string_equal(OUT, "0:L:<13>abcdef\n0:L:<14>12345YYYYY\n");
    /* two held pieces, a segment spanning both and the hole between */
    seg(0, ACK, 130, "BB");
    seg(0, ACK, 134, "DD");
    seg(0, ACK, 128, "aabbccddee\n");   /* 128..138 */
    seg(0, ACK, 126, "<1");
    assert_string_equal(OUT, "0:L:<13>abcdef\n0:L:<14>12345YYYYY\n0:L:<1aaBBccDDee\n");
    struct ctx_tcpreasm_stats st = stop();
    assert_int_equal(st.bytes_dup, 11 + 7 + 5 + 2 + 2);
    assert_int_equal(st.gaps, 0);
}

static void sequence_wrap(void **state) {
    (void)state;
    start(NULL);
    seg(0, SYN, 0xfffffff8u, NULL);
    seg(0, ACK, 0x00000003u, "6 <14>bb"); /* after the wrap, held */
    seg(0, ACK, 0xfffffff9u, "8 <13>abcd"); /* 0xfffffff9 .. 0x00000002 */
    assert_string_equal(OUT, "0:O:<13>abcd\n0:O:<14>bb\n");
    stop();
}

/* ---- losses ---- */

static void gap_by_timeout(void **state) {
    (void)state;
    start(NULL);
    seg(0, SYN, 0, NULL);
    seg(0, ACK, 1, "<13>abc\n<14>de");
    seg(0, ACK, 20, "g\n<15>x\n");      /* bytes 15..19 never come */
    NOW += CFG.gap_timeout_ms - 1;
    ctx_tcpreasm_expire(R, NOW);
    assert_string_equal(OUT, "0:L:<13>abc\n");
    NOW += 1;
    ctx_tcpreasm_expire(R, NOW);
    /* the partial "<14>de" is dropped (gap_emit 0), the stream resumes at the next LF */
    assert_string_equal(OUT, "0:L:<13>abc\n0:L:<15>x\n");
    struct ctx_tcpreasm_stats st = stop();
    assert_int_equal(st.gaps, 1);
    assert_int_equal(st.bytes_lost, 5);
    assert_int_equal(st.frames.partial_dropped, 1);
}

static void gap_emit_cfg(struct ctx_tcpreasm_cfg *c) { c->gap_emit = 1; }

static void gap_octet_in_sync(void **state) {
    (void)state;
    start(gap_emit_cfg);
    seg(0, SYN, 0, NULL);
    seg(0, ACK, 1, "12 <13>abc");       /* frame of 12: "<13>abc" + 5 more */
    seg(0, ACK, 14, "ef6 <14>xy");      /* bytes 11..13 ("  d") lost */
    NOW += CFG.gap_timeout_ms;
    ctx_tcpreasm_expire(R, NOW);
    assert_string_equal(OUT, "0:Op:<13>abc\n0:O:<14>xy\n");
    struct ctx_tcpreasm_stats st = stop();
    assert_int_equal(st.frames.resyncs, 0); /* the count kept the stream in sync */
    assert_int_equal(st.frames.partial_emitted, 1);
}

static void small_window(struct ctx_tcpreasm_cfg *c) { c->window = 65536; }

static void gap_by_window(void **state) {
    (void)state;
    start(small_window);
    seg(0, SYN, 0, NULL);
    seg(0, ACK, 1, "<13>a\n<14>b");
    seg(0, ACK, 1 + 100000, "\n<15>far\n"); /* beyond the window: the hole is given up at once */
    assert_string_equal(OUT, "0:L:<13>a\n0:L:<15>far\n");
    struct ctx_tcpreasm_stats st = stop();
    assert_int_equal(st.gaps, 1);
    assert_int_equal(st.bytes_lost, 100000 - 11);
}

static void snaplen_cut(void **state) {
    (void)state;
    start(gap_emit_cfg);
    seg(0, SYN, 0, NULL);
    seg_ex(0, ACK, 1, "<13>abc\n<14>de", 14, 6); /* 6 bytes not captured: "f\n<15>" */
    seg(0, ACK, 21, "x\n<16>y\n");
    assert_string_equal(OUT, "0:L:<13>abc\n0:Lp:<14>de\n0:L:<16>y\n");
    struct ctx_tcpreasm_stats st = stop();
    assert_int_equal(st.bytes_lost, 6);
}

/* ---- connection life cycle ---- */

static void picked_up(void **state) {
    (void)state;
    start(NULL);
    seg(0, ACK, 5000, "ng of an old message\n<13>one\n");
    seg(1, ACK, 7000, "msg5 <13>a7 <14>bcd");
    seg(2, ACK, 9000, "5 <13>a"); /* held until the next header, or the end right after it */
    assert_string_equal(OUT, "0:L:<13>one\n1:O:<13>a\n1:O:<14>bcd\n");
    struct ctx_tcpreasm_stats st = stop();
    assert_string_equal(OUT, "0:L:<13>one\n1:O:<13>a\n1:O:<14>bcd\n2:O:<13>a\n");
    assert_int_equal(st.flows_picked_up, 3);
    assert_int_equal(st.frames.resyncs, 3);
    /* pure ACKs of unknown flows open nothing */
    start(NULL);
    seg(3, ACK, 1, NULL);
    seg(3, FIN, 1, NULL);
    seg(3, RST, 1, NULL);
    st = stop();
    assert_int_equal(st.flows_opened, 0);
    assert_int_equal(st.segments_ignored, 3);
}

static void rst_and_fin(void **state) {
    (void)state;
    start(NULL);
    seg(0, SYN, 0, NULL);
    seg(0, ACK, 1, "<13>abc\n<14>unterminated");
    seg(0, RST, 25, NULL);
    /* a clean end emits an unterminated last message, as imtcp does */
    assert_string_equal(OUT, "0:L:<13>abc\n0:L:<14>unterminated\n");
    assert_int_equal(stats().flows_closed, 1);
    /* FIN before the missing bytes: the flow ends when they arrive */
    seg(1, SYN, 0, NULL);
    seg(1, FIN, 8, "5 <14>b");
    seg(1, ACK, 1, "5 <13>");
    assert_int_equal(stats().flows_closed, 1);
    seg(1, ACK, 7, "a");
    assert_string_equal(OUT, "0:L:<13>abc\n0:L:<14>unterminated\n1:O:<13>a\n1:O:<14>b\n");
    assert_int_equal(stats().flows_closed, 2);
    stop();
}

static void port_reuse(void **state) {
    (void)state;
    start(gap_emit_cfg);
    seg(0, SYN, 100, NULL);
    seg(0, ACK, 101, "<13>old\n<14>cut");
    seg(0, SYN, 5000, NULL);            /* same ports, new ISN: the old connection ended unseen */
    seg(0, ACK, 5001, "5 <13>n");
    seg(0, SYN, 5000, NULL);            /* retransmitted SYN: nothing happens */
    seg(0, ACK, 5008, "5 <14>m");
    assert_string_equal(OUT, "0:L:<13>old\n0:Lp:<14>cut\n0:O:<13>n\n0:O:<14>m\n");
    /* a SYN reopens a remembered (ended) flow */
    seg(0, FIN, 5015, NULL);
    seg(0, SYN, 9000, NULL);
    seg(0, ACK, 9001, "<15>again\n");
    assert_string_equal(OUT, "0:L:<13>old\n0:Lp:<14>cut\n0:O:<13>n\n0:O:<14>m\n0:L:<15>again\n");
    struct ctx_tcpreasm_stats st = stop();
    assert_int_equal(st.flows_opened, 3);
    assert_int_equal(st.flows_closed, 2);
}

static void timeouts(void **state) {
    (void)state;
    start(gap_emit_cfg);
    seg(0, SYN, 0, NULL);                 /* no data: embryonic */
    seg(1, SYN, 0, NULL);
    seg(1, ACK, 1, "<13>a\n<14>par");
    seg(1, ACK, 30, "<15>held\n");         /* held behind a hole */
    NOW += CFG.embryonic_timeout_ms;
    ctx_tcpreasm_expire(R, NOW);           /* flow 0 ends; flow 1's hole became a gap long ago */
    struct ctx_tcpreasm_stats st = stats();
    assert_int_equal(st.flows_timed_out, 1);
    assert_int_equal(st.flows_in_use, 1);
    assert_string_equal(OUT, "1:L:<13>a\n1:Lp:<14>par\n1:L:<15>held\n");
    seg(1, ACK, 39, "<16>tail");
    NOW += CFG.idle_timeout_ms;
    ctx_tcpreasm_expire(R, NOW);
    assert_string_equal(OUT, "1:L:<13>a\n1:Lp:<14>par\n1:L:<15>held\n1:Lp:<16>tail\n");
    st = stop();
    assert_int_equal(st.flows_timed_out, 2);
}

/* identity fixed at first sight: the tag of a connection's first segment goes with every frame
 * of it; ending an interface emits what it held under the old tag and forgets the flows */
static int TAGS_OPENED, TAGS_RELEASED;
static char TAGLOG[4096];

static void *tag_open(void *ud, const struct ctx_tcp_flow_key *k, const struct ctx_pkt *first) {
    (void)ud;
    (void)first;
    assert_string_equal(k->ifname, IFNAME);
    return (void *)(uintptr_t)++TAGS_OPENED;
}

static void tag_release(void *ud, void *tag) {
    (void)ud;
    assert_true((uintptr_t)tag >= 1 && (uintptr_t)tag <= (uintptr_t)TAGS_OPENED);
    TAGS_RELEASED++;
}

static void tag_frame(void *ud, const struct ctx_tcp_flow_info *fl, const struct ctx_sysframe_frame *fr) {
    size_t n = strlen(TAGLOG);
    snprintf(TAGLOG + n, sizeof TAGLOG - n, "%s/%d:%.*s%s|", fl->key->ifname, (int)(uintptr_t)fl->tag,
             (int)fr->len, (const char *)fr->data, fr->partial ? "(p)" : "");
    on_frame(ud, fl, fr);
}

static void tags_cfg(struct ctx_tcpreasm_cfg *c) {
    c->gap_emit = 1;
    c->on_frame = tag_frame;
    c->flow_open = tag_open;
    c->flow_release = tag_release;
}

static void identity_fixed_at_first_segment(void **state) {
    (void)state;
    TAGS_OPENED = TAGS_RELEASED = 0;
    TAGLOG[0] = '\0';
    start(tags_cfg);
    seg(0, SYN, 0, NULL);
    seg(0, ACK, 1, "<13>a\n<13>half");      /* tag 1 */
    seg(1, SYN, 0, NULL);                    /* tag 2: another connection */
    assert_int_equal(ctx_tcpreasm_end_interface(R, "vnet0"), 2);
    assert_int_equal(ctx_tcpreasm_interface_usage(R, "vnet0", NULL, NULL), 0);
    assert_int_equal(TAGS_RELEASED, 2);
    /* the interface's name comes back (another VM): the same addresses and ports start afresh */
    seg(0, ACK, 15, "<13>b\n");             /* mid-stream: picked up, tag 3 */
    seg(0, SYN, 500, NULL);                  /* a new connection on the same key: tag 4 */
    seg(0, ACK, 501, "<13>c\n<13>cut");
    seg(0, SYN, 900, NULL);                  /* replaced again: the cut frame goes out as tag 4 */
    seg(0, ACK, 901, "<13>d\n");
    assert_int_equal(ctx_tcpreasm_end_interface(R, "nothing"), 0);
    stop();
    assert_string_equal(TAGLOG, "vnet0/1:<13>a|vnet0/1:<13>half(p)|vnet0/3:<13>b|vnet0/4:<13>c|"
                                "vnet0/4:<13>cut(p)|vnet0/5:<13>d|");
    assert_int_equal(TAGS_OPENED, 5);
    assert_int_equal(TAGS_RELEASED, 5);
}

static void config_errors(void **state) {
    (void)state;
    char err[CTX_ERRLEN];
    struct ctx_tcpreasm_cfg c;
    ctx_tcpreasm_t *r = NULL;
    ctx_tcpreasm_cfg_defaults(&c);
    assert_int_equal(ctx_tcpreasm_new(&c, &r, err, sizeof err), CTX_EINVAL);
    assert_string_equal(err, "on_frame: expected a callback, got NULL");
    c.on_frame = on_frame;
    c.flow_max_bytes = 4096;
    assert_int_equal(ctx_tcpreasm_new(&c, &r, err, sizeof err), CTX_EINVAL);
    assert_string_equal(err, "flow_max_bytes: expected 139264 (the power of two at or above max_frame + 16, plus 128 KiB) .. 1 GiB, got 4096");
    ctx_tcpreasm_cfg_defaults(&c);
    c.on_frame = on_frame;
    c.max_bytes = 1u << 20;
    assert_int_equal(ctx_tcpreasm_new(&c, &r, err, sizeof err), CTX_EINVAL);
    assert_string_equal(err, "max_bytes: expected at least 1 MiB and 2 x flow_max_bytes (2097152), got 1048576");
    c.max_bytes = 32u << 20;
    c.window = 10;
    assert_int_equal(ctx_tcpreasm_new(&c, &r, err, sizeof err), CTX_EINVAL);
    assert_string_equal(err, "window: expected 65536..1073741824 bytes, got 10");
    c.window = 1u << 20;
    c.max_flows = 0;
    assert_int_equal(ctx_tcpreasm_new(&c, &r, err, sizeof err), CTX_EINVAL);
    assert_string_equal(err, "max_flows: expected 1..16777216, got 0");
    assert_null(r);
    ctx_tcpreasm_free(NULL);
    assert_int_equal(ctx_tcpreasm_expire(NULL, 1), 0);
    struct ctx_pkt p;
    memset(&p, 0, sizeof p);
    p.proto = IPPROTO_UDP;
    c.max_flows = 16;
    assert_int_equal(ctx_tcpreasm_new(&c, &r, err, sizeof err), 0);
    assert_int_equal(ctx_tcpreasm_packet(r, "x", &(struct timeval){0, 0}, 1, &p), CTX_EINVAL);
    ctx_tcpreasm_free(r);
}

/* ---- through the decoder ---- */

static void real_frames(void **state) {
    (void)state;
    static struct pb F;
    static const struct {
        uint8_t flags;
        uint32_t seq;
        const char *data;
    } segs[] = {{SYN, 41, ""}, {ACK, 42, "<13>one\n<1"}, {ACK | CTX_PKT_TCP_PSH, 52, "4>two\n"}, {FIN, 58, ""}};
    start(NULL);
    for (size_t i = 0; i < sizeof segs / sizeof segs[0]; i++) {
        pb_reset(&F);
        pb_eth(&F, 0x0800);
        size_t ip = pb_ip4(&F, IPPROTO_TCP, 0x1234, 0, NULL, 0);
        pb_tcp(&F, 40000, 514, segs[i].seq, 1, segs[i].flags, 0);
        pb_str(&F, segs[i].data);
        pb_ip4_done(&F, ip);
        struct ctx_pkt p;
        const uint8_t *fr = guardbuf_place(&G, F.b, F.len);
        assert_int_equal(ctx_pkt_decode(fr, F.len, F.len, &p), CTX_PKT_OK);
        struct timeval ts = {1700000000, 0};
        assert_int_equal(ctx_tcpreasm_packet(R, "vnet7", &ts, NOW, &p), 0);
    }
    assert_string_equal(OUT, "0:L:<13>one\n0:L:<14>two\n");
    struct ctx_tcpreasm_stats st = stop();
    assert_int_equal(st.flows_closed, 1);
}

/* ---- property tests ---- */

static uint32_t rnd_state = 1;
static uint32_t rnd(void) {
    rnd_state ^= rnd_state << 13;
    rnd_state ^= rnd_state >> 17;
    rnd_state ^= rnd_state << 5;
    return rnd_state;
}

/* a random stream of n frames in one framing; expect gets the frames as on_frame prints them */
static size_t make_stream(char *s, size_t cap, int n, int octet, char *expect, size_t ecap) {
    size_t len = 0, el = 0;
    for (int i = 0; i < n; i++) {
        char msg[64];
        int ml = snprintf(msg, sizeof msg, "<%u>m%d", rnd() % 192, i);
        int extra = (int)(rnd() % 30);
        for (int k = 0; k < extra && ml < 60; k++) msg[ml++] = "abc xyz019"[rnd() % 10];
        msg[ml] = '\0';
        if (octet)
            len += (size_t)snprintf(s + len, cap - len, "%d %s", ml, msg);
        else
            len += (size_t)snprintf(s + len, cap - len, "%s\n", msg);
        el += (size_t)snprintf(expect + el, ecap - el, "0:%c:%s\n", octet ? 'O' : 'L', msg);
    }
    return len;
}

/* deliver stream s in random segments, shuffled locally, with duplicates; nothing lost */
static void deliver_shuffled(const char *s, size_t len, uint32_t isn, size_t maxseg, int dup_pct) {
    static uint32_t off[20000], sl[20000];
    size_t n = 0;
    for (size_t o = 0; o < len; n++) {
        size_t l = 1 + rnd() % maxseg;
        if (l > len - o) l = len - o;
        off[n] = (uint32_t)o;
        sl[n] = (uint32_t)l;
        o += l;
    }
    for (size_t i = 0; i + 1 < n; i++) { /* local reordering */
        size_t j = i + rnd() % (n - i < 8 ? n - i : 8);
        uint32_t t = off[i];
        off[i] = off[j], off[j] = t;
        t = sl[i], sl[i] = sl[j], sl[j] = t;
    }
    seg(0, SYN, isn, NULL);
    for (size_t i = 0; i < n; i++) {
        seg_ex(0, ACK, isn + 1 + off[i], s + off[i], sl[i], 0);
        if ((int)(rnd() % 100) < dup_pct) { /* retransmission with other boundaries */
            size_t a = off[i] > 3 ? off[i] - 3 : 0, b = off[i] + sl[i] + 5 > len ? len : off[i] + sl[i] + 5;
            seg_ex(0, ACK, isn + 1 + (uint32_t)a, s + a, b - a, 0);
        }
    }
    seg(0, FIN, isn + 1 + (uint32_t)len, NULL);
}

static void random_orders(void **state) {
    (void)state;
    static char s[200000], expect[400000];
    for (int iter = 0; iter < 60; iter++) {
        int octet = iter & 1;
        size_t len = make_stream(s, sizeof s, 300, octet, expect, sizeof expect);
        size_t maxseg = (iter % 3 == 0) ? 1 : (iter % 3 == 1) ? 40 : 1400; /* one byte per segment, small, MSS */
        start(NULL);
        deliver_shuffled(s, len, 0xffffffffu - (uint32_t)(iter * 977), maxseg, 20);
        struct ctx_tcpreasm_stats st = stop();
        assert_string_equal(OUT, expect);
        assert_int_equal(st.gaps, 0);
        assert_int_equal(st.flows_closed, 1);
    }
}

/* with losses, no frame is ever spliced: every whole frame is one of the original ones, in order */
static void random_losses(void **state) {
    (void)state;
    static char s[100000], expect[200000];
    for (int iter = 0; iter < 40; iter++) {
        int octet = iter & 1;
        size_t len = make_stream(s, sizeof s, 200, octet, expect, sizeof expect);
        start(gap_emit_cfg);
        seg(0, SYN, 7, NULL);
        for (size_t o = 0, k = 0; o < len; k++) {
            size_t l = 1 + rnd() % 300;
            if (l > len - o) l = len - o;
            if (k != 1 && rnd() % 10 != 0) seg_ex(0, ACK, 8 + (uint32_t)o, s + o, l, 0); /* 10% lost, and the 2nd */
            o += l;
            NOW += 1 + rnd() % 50;
        }
        NOW += 5000;
        ctx_tcpreasm_expire(R, NOW);
        struct ctx_tcpreasm_stats st = stop();
        ASSERT_GT(st.gaps, 0);
        const char *e = expect;
        for (char *line = strtok(OUT, "\n"); line != NULL; line = strtok(NULL, "\n")) {
            if (line[3] == 'p') continue; /* partial: the beginning of a frame */
            char want[128];
            snprintf(want, sizeof want, "%s\n", line);
            const char *at = strstr(e, want);
            if (at == NULL) fail_msg("iteration %d: frame '%s' is not an original frame (in order)", iter, line);
            e = at + strlen(want);
        }
    }
}

static void fuzz_corpus_replay(void **state) {
    (void)state;
    corpus_replay("tcpreasm", 3, 1 << 16, &G);
}

CTX_TEST_MAIN(guardbuf_setup, guardbuf_teardown,
    cmocka_unit_test(in_order),          cmocka_unit_test(out_of_order),  cmocka_unit_test(duplicates_and_overlaps),
    cmocka_unit_test(sequence_wrap),     cmocka_unit_test(gap_by_timeout), cmocka_unit_test(gap_octet_in_sync),
    cmocka_unit_test(gap_by_window),     cmocka_unit_test(snaplen_cut),   cmocka_unit_test(picked_up),
    cmocka_unit_test(rst_and_fin),       cmocka_unit_test(port_reuse),    cmocka_unit_test(timeouts),
    cmocka_unit_test(identity_fixed_at_first_segment),
    cmocka_unit_test(config_errors),
    cmocka_unit_test(real_frames),       cmocka_unit_test(random_orders), cmocka_unit_test(random_losses),
    cmocka_unit_test(fuzz_corpus_replay))
