/* test_tcpreasm_limits.c: common/capture/tcpreasm.c under hostile traffic: SYN floods,
 * memory running out (every bound kept, every eviction counted), flows with data keeping
 * their memory after a flood, the 512-piece limit per flow, and one interface's flood
 * evicting only its own flows. The harness: tcpreasm_fx.h; ordering, losses and life
 * cycle: test_tcpreasm.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "check.h"

#include <stdio.h>
#include <string.h>

#include "ctxlog_common.h"
#include "pktdecode.h"
#include "tcpreasm.h"
#include "tcpreasm_fx.h"

/* ---- hostile traffic and memory bounds ---- */

static void few_flows(struct ctx_tcpreasm_cfg *c) {
    c->max_flows = 1000;
    c->max_bytes = 2u << 20;
    c->flow_max_bytes = 256u << 10;
}

static void syn_flood(void **state) {
    (void)state;
    start(few_flows);
    seg(0, SYN, 0, NULL);
    seg(0, ACK, 1, "<13>before\n");
    for (int i = 0; i < 10000; i++) {    /* 10,000 half-open flows from other ports */
        seg(1 + (i % 20000), SYN, (uint32_t)i * 7919u, NULL);
        NOW += (i % 100) == 0;
    }
    seg(0, ACK, 12, "<13>after\n");       /* the flow with data survived */
    assert_string_equal(OUT, "0:L:<13>before\n0:L:<13>after\n");
    struct ctx_tcpreasm_stats st = stats();
    assert_int_equal(st.flows_in_use, 1000);
    assert_int_equal(st.flows_evicted, 10000 - 999);
    ASSERT_LE(st.bytes_allocated, CFG.max_bytes);
    stop();
}

static void tight_memory(struct ctx_tcpreasm_cfg *c) {
    c->max_flows = 100000;
    c->max_bytes = 2u << 20;
    c->flow_max_bytes = 256u << 10;
}

static void memory_bound(void **state) {
    (void)state;
    start(tight_memory);
    static char part[40];
    memset(part, 'x', sizeof part - 1);
    part[0] = '<';
    /* 10,000 flows, each with a partial frame and a held segment: memory runs out first */
    for (int i = 0; i < 10000; i++) {
        seg(i, SYN, 0, NULL);
        seg(i, ACK, 1, part);
        seg(i, ACK, 100, part);
    }
    struct ctx_tcpreasm_stats st = stats();
    ASSERT_GT(st.flows_evicted, 1000);
    ASSERT_LT(st.flows_in_use, 10000);
    assert_int_equal(st.flows_in_use + st.flows_evicted, 10000);
    assert_int_equal(st.bytes_dropped, st.flows_evicted * 39); /* each evicted flow held one piece */
    ASSERT_LE(st.bytes_allocated, CFG.max_bytes);
    /* a frame that never ends holds at most max_frame */
    seg(20000, SYN, 0, NULL);
    for (uint32_t off = 0; off < 200000; off += 1000) {
        static char big[1000];
        memset(big, 'y', sizeof big);
        seg_ex(20000, ACK, 1 + off, big, sizeof big, 0);
    }
    st = stop();
    assert_int_equal(st.frames.truncated, 1);
}

/* after a SYN flood, flows with data still get the memory: evicting a SYN-only flow
 * gives its record back to the pool (a regression: records once came from slabs
 * that were never freed, and the flood starved the partial frames) */
static void flood_then_data(void **state) {
    (void)state;
    start(tight_memory);
    for (int i = 0; i < 10000; i++) seg(i, SYN, 0, NULL);
    for (int i = 0; i < 1000; i++) {
        seg(20000 + i, SYN, 0, NULL);
        seg(20000 + i, ACK, 1, "<13>partial ");
    }
    struct ctx_tcpreasm_stats st = stats();
    ASSERT_GE(st.flows_evicted, 5000);
    assert_int_equal(st.frames.partial_emitted + st.frames.partial_dropped, 0); /* only SYN-only flows went */
    for (int i = 0; i < 1000; i++) seg(20000 + i, ACK, 13, "done\n");
    st = stop();
    assert_int_equal(st.frames.frames_lf, 1000);
    assert_int_equal(st.frames.partial_emitted + st.frames.partial_dropped, 0);
}


/* ---- fairness between interfaces (VMs), bounded work per segment ---- */

/* one-byte segments out of order cost at most a walk over 512 held pieces: a flow never
 * holds more (issue 14: 16k pieces made each segment cost ~26 us) */
static void piece_limit(void **state) {
    (void)state;
    start(NULL);
    seg(0, SYN, 0, NULL);
    for (uint32_t i = 0; i < 20000; i++) seg(0, ACK, 2 + 2 * i, "x"); /* every other byte: 20,000 holes */
    for (uint32_t i = 0; i < 20000; i++) seg(0, ACK, 3 + 2 * (i % 5000) + 10000 * (i % 2), "y");
    size_t flows, bytes;
    assert_int_equal(ctx_tcpreasm_interface_usage(R, "vnet0", &flows, &bytes), 1);
    assert_int_equal(flows, 1);
    /* record + 512 one-byte pieces (64-byte class) + at most one partial frame (max_frame 64: 128) */
    if (bytes > 1024 + 512 * 64 + 128) fail_msg("vnet0 holds %zu bytes: more than 512 pieces", bytes);
    struct ctx_tcpreasm_stats st = stats();
    ASSERT_GT(st.gaps_piecelimit, 0);
    ASSERT_GE(st.gaps, st.gaps_piecelimit);
    /* the stream goes on: a message after the flood is framed (the flow's end gives up the holes) */
    seg(0, ACK, 200000, "\n<13>after\n");
    stop();
    assert_non_null(strstr(OUT, "0:L:<13>after\n"));
}

/* a VM on vnetA opens thousands of connections, each with an unfinished message, while a VM on
 * vnetB has one message half sent: vnetA's flood evicts vnetA's flows, never vnetB's */
static void flood_evicts_its_own_flows(void **state) {
    (void)state;
    start(few_flows);
    IFNAME = "vnetB";
    seg(0, SYN, 0, NULL);
    seg(0, ACK, 1, "<13>quiet ");
    IFNAME = "vnetA";
    for (int i = 1; i <= 10000; i++) {
        seg(i, SYN, 0, NULL);
        seg(i, ACK, 1, "<13>flood ");
        NOW += (i % 100) == 0;
    }
    IFNAME = "vnetB";
    seg(0, ACK, 11, "message\n");
    assert_non_null(strstr(OUT, "0:L:<13>quiet message\n"));
    assert_null(strstr(OUT, "0:Lp:"));
    size_t fa, fb;
    ctx_tcpreasm_interface_usage(R, "vnetA", &fa, NULL);
    ctx_tcpreasm_interface_usage(R, "vnetB", &fb, NULL);
    assert_int_equal(fa, CFG.max_flows - 1);
    assert_int_equal(fb, 1);
    assert_int_equal(stats().flows_evicted, 10000 - (CFG.max_flows - 1));
    stop();
}

/* the same when memory, not the number of connections, runs out */
static void memory_flood_evicts_its_own_flows(void **state) {
    (void)state;
    static char blk[1000];
    memset(blk, 'z', sizeof blk);
    start(tight_memory);
    IFNAME = "vnetB";
    seg(0, SYN, 0, NULL);
    seg(0, ACK, 1, "<13>quiet ");
    IFNAME = "vnetA";
    for (int i = 1; i <= 100; i++) { /* each flow holds ~150k out of order: 15 MB wanted, 2 MB allowed */
        seg(i, SYN, 0, NULL);
        for (uint32_t k = 0; k < 100; k++) seg_ex(i, ACK, 1000 + 1000 * k, blk, sizeof blk, 0);
    }
    IFNAME = "vnetB";
    seg(0, ACK, 11, "message\n");
    assert_non_null(strstr(OUT, "0:L:<13>quiet message\n"));
    ASSERT_GT(stats().flows_evicted, 50);
    size_t fb;
    ctx_tcpreasm_interface_usage(R, "vnetB", &fb, NULL);
    assert_int_equal(fb, 1);
    stop();
}

CTX_TEST_MAIN(guardbuf_setup, guardbuf_teardown,
    cmocka_unit_test(syn_flood),         cmocka_unit_test(memory_bound),  cmocka_unit_test(flood_then_data),
    cmocka_unit_test(piece_limit),       cmocka_unit_test(flood_evicts_its_own_flows),
    cmocka_unit_test(memory_flood_evicts_its_own_flows))
