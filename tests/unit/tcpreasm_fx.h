/* tcpreasm_fx.h: the harness of the TCP reassembly tests (test_tcpreasm.c,
 * test_tcpreasm_limits.c): one reassembler R at a time (start() with a config tweak, stop()
 * flushes, checks no flow is left and frees it), a clock NOW, segments of flow F built by seg()
 * with their payload against a guard page, and every frame printed into OUT as
 * "F:framing[t][p]:bytes". The guard buffer G is the cmocka group fixture:
 *     return cmocka_run_group_tests(tests, guardbuf_setup, guardbuf_teardown);
 * Include after cmocka.h, check.h, ctxlog_common.h, pktdecode.h and tcpreasm.h. */
#ifndef CTXLOG_TESTS_TCPREASM_FX_H
#define CTXLOG_TESTS_TCPREASM_FX_H

#include <stdio.h>
#include <string.h>

#include "guardbuf.h"

#define SYN CTX_PKT_TCP_SYN
#define ACK CTX_PKT_TCP_ACK
#define FIN (CTX_PKT_TCP_FIN | CTX_PKT_TCP_ACK)
#define RST CTX_PKT_TCP_RST

static struct guardbuf G;
static ctx_tcpreasm_t *R;
static struct ctx_tcpreasm_cfg CFG;
static uint64_t NOW;
static char OUT[1 << 20];
static size_t OUTLEN;
static const char *IFNAME = "vnet0"; /* the interface seg() sends on */

/* "F:framing[t][p]:bytes" per frame, F = flow number (source port - 40000) */
static inline void on_frame(void *ud, const struct ctx_tcp_flow_info *fl, const struct ctx_sysframe_frame *fr) {
    (void)ud;
    static const char letters[] = "?OLN";
    OUTLEN += (size_t)snprintf(OUT + OUTLEN, sizeof OUT - OUTLEN, "%d:%c%s%s:", fl->key->sport - 40000,
                               letters[fr->framing], fr->truncated ? "t" : "", fr->partial ? "p" : "");
    for (size_t i = 0; i < fr->len && OUTLEN + 8 < sizeof OUT; i++) {
        uint8_t b = fr->data[i];
        if (b == '\n')
            OUTLEN += (size_t)snprintf(OUT + OUTLEN, sizeof OUT - OUTLEN, "\\n");
        else
            OUT[OUTLEN++] = (char)b;
    }
    OUT[OUTLEN++] = '\n';
    OUT[OUTLEN] = '\0';
}

static inline void start(void (*tweak)(struct ctx_tcpreasm_cfg *)) {
    char err[CTX_ERRLEN];
    ctx_tcpreasm_cfg_defaults(&CFG);
    CFG.max_frame = 64;
    CFG.on_frame = on_frame;
    if (tweak != NULL) tweak(&CFG);
    OUTLEN = 0;
    OUT[0] = '\0';
    NOW = 1000;
    IFNAME = "vnet0";
    assert_int_equal(ctx_tcpreasm_new(&CFG, &R, err, sizeof err), 0);
}

static inline struct ctx_tcpreasm_stats stop(void) {
    struct ctx_tcpreasm_stats st;
    ctx_tcpreasm_flush(R);
    ctx_tcpreasm_get_stats(R, &st);
    assert_int_equal(st.flows_in_use, 0);
    ctx_tcpreasm_free(R);
    R = NULL;
    return st;
}

static inline struct ctx_tcpreasm_stats stats(void) {
    struct ctx_tcpreasm_stats st;
    ctx_tcpreasm_get_stats(R, &st);
    return st;
}

/* one segment of flow `flow` (client 10.0.0.<10+flow>:<40000+flow> -> 10.0.0.1:514); wire_extra
 * bytes more on the wire than captured (snap length) */
static inline void seg_ex(int flow, uint8_t flags, uint32_t seq, const char *data, size_t len, size_t wire_extra) {
    struct ctx_pkt p;
    struct timeval ts = {1700000000, (long)flow};
    memset(&p, 0, sizeof p);
    p.ip_version = 4;
    p.proto = IPPROTO_TCP;
    p.src.s6_addr[10] = p.src.s6_addr[11] = p.dst.s6_addr[10] = p.dst.s6_addr[11] = 0xff;
    p.src.s6_addr[12] = p.dst.s6_addr[12] = 10;
    p.src.s6_addr[15] = (uint8_t)(10 + flow);
    p.dst.s6_addr[15] = 1;
    p.sport = (uint16_t)(40000 + flow);
    p.dport = 514;
    p.src_mac[5] = (uint8_t)flow;
    p.tcp.seq = seq;
    p.tcp.flags = flags;
    p.payload = guardbuf_place(&G, data, len);
    p.payload_len = len;
    p.payload_wire_len = len + wire_extra;
    p.truncated = wire_extra > 0;
    assert_int_equal(ctx_tcpreasm_packet(R, IFNAME, &ts, NOW, &p), 0);
    struct ctx_tcpreasm_stats st = stats();
    ASSERT_LE(st.bytes_allocated, CFG.max_bytes);
    ASSERT_LE(st.flows_in_use, CFG.max_flows);
}

static inline void seg(int flow, uint8_t flags, uint32_t seq, const char *data) {
    seg_ex(flow, flags, seq, data, data != NULL ? strlen(data) : 0, 0);
}

GUARDBUF_GROUP_FIXTURE(G, 1 << 17)

#endif
