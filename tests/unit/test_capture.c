/* capture engine: the kernel filter it builds, and its configuration errors.
 * (Attaching to real interfaces is covered by the system tests, which have root.) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "check.h"
#include <pcap/pcap.h>
#include <string.h>

#include "capture.h"
#include "ctxlog_common.h"

/* runs the compiled filter on a frame, as the kernel would */
static int filter_accepts(const char *expr, const uint8_t *frame, size_t len) {
    pcap_t *dead = pcap_open_dead(DLT_EN10MB, 65535);
    struct bpf_program prog;
    assert_int_equal(pcap_compile(dead, &prog, expr, 1, PCAP_NETMASK_UNKNOWN), 0);
    struct pcap_pkthdr h = {.caplen = (bpf_u_int32)len, .len = (bpf_u_int32)len};
    int ok = pcap_offline_filter(&prog, &h, frame) != 0;
    pcap_freecode(&prog);
    pcap_close(dead);
    return ok;
}

/* Ethernet + optional VLAN tag + IPv4 + UDP to dport, with frag field */
static size_t build_udp4(uint8_t *f, int vlan, uint16_t dport, uint16_t fragfield, uint8_t proto) {
    size_t o = 0;
    memset(f, 0, 128);
    memcpy(f, "\x52\x54\x00\x00\x00\x01\x52\x54\x00\x00\x00\x02", 12);
    o = 12;
    if (vlan) {
        f[o++] = 0x81; f[o++] = 0x00; f[o++] = 0x00; f[o++] = (uint8_t)vlan;
    }
    f[o++] = 0x08; f[o++] = 0x00;
    uint8_t *ip = f + o;
    ip[0] = 0x45; ip[3] = 20 + 8 + 4; ip[6] = (uint8_t)(fragfield >> 8); ip[7] = (uint8_t)fragfield;
    ip[8] = 64; ip[9] = proto;
    memcpy(ip + 12, "\x0a\xe7\x01\x02\x0a\xe7\x01\x01", 8);
    uint8_t *udp = ip + 20;
    udp[0] = 0x30; udp[1] = 0x39; udp[2] = (uint8_t)(dport >> 8); udp[3] = (uint8_t)dport; udp[5] = 12;
    memcpy(udp + 8, "<13>", 4);
    return o + 20 + 12;
}

static void filter_text_and_matches(void **state) {
    (void)state;
    char buf[4096];
    uint16_t udp[] = {514, 1514};
    int n = ctx_capture_filter(udp, 2, NULL, 0, buf, sizeof buf);
    ASSERT_GT(n, 0);
    assert_non_null(strstr(buf, "(udp and (dst port 514 or dst port 1514))"));
    uint8_t f[128];
    size_t len = build_udp4(f, 0, 514, 0, 17);
    assert_true(filter_accepts(buf, f, len));
    len = build_udp4(f, 0, 1514, 0, 17);
    assert_true(filter_accepts(buf, f, len));
    len = build_udp4(f, 0, 53, 0, 17); /* other port */
    assert_false(filter_accepts(buf, f, len));
    len = build_udp4(f, 7, 514, 0, 17); /* under a VLAN tag */
    assert_true(filter_accepts(buf, f, len));
    len = build_udp4(f, 7, 53, 0, 17);
    assert_false(filter_accepts(buf, f, len));
    len = build_udp4(f, 0, 53, 0x00b9, 17); /* a non-first fragment: no UDP header to look at */
    assert_true(filter_accepts(buf, f, len));
    len = build_udp4(f, 0, 53, 0x2000, 17); /* first fragment (MF) */
    assert_true(filter_accepts(buf, f, len));
    len = build_udp4(f, 0, 514, 0, 6); /* TCP to 514 when only UDP is asked for */
    assert_false(filter_accepts(buf, f, len));
    uint16_t tcp[] = {601};
    n = ctx_capture_filter(udp, 1, tcp, 1, buf, sizeof buf);
    ASSERT_GT(n, 0);
    assert_non_null(strstr(buf, "(tcp and (dst port 601))"));
}

static void filter_errors(void **state) {
    (void)state;
    char buf[64];
    uint16_t udp[] = {514};
    assert_int_equal(ctx_capture_filter(udp, 0, NULL, 0, buf, sizeof buf), CTX_EINVAL);
    assert_int_equal(ctx_capture_filter(udp, 1, NULL, 0, buf, sizeof buf), CTX_EINVAL); /* too small */
    uint16_t many[2000];
    for (int i = 0; i < 2000; ++i) many[i] = (uint16_t)(1000 + i);
    char big[4096];
    assert_int_equal(ctx_capture_filter(many, 2000, NULL, 0, big, sizeof big), CTX_EINVAL);
}

static void on_pkt(void *ud, const char *ifname, unsigned ifindex, const struct timeval *ts, const uint8_t *frame,
                   size_t caplen, size_t wirelen) {
    (void)ud; (void)ifname; (void)ifindex; (void)ts; (void)frame; (void)caplen; (void)wirelen;
}

static void new_errors(void **state) {
    (void)state;
    char err[CTX_ERRLEN] = "";
    ctx_capture_t *c = NULL;
    struct ctx_capture_cfg cfg = {0};
    assert_int_equal(ctx_capture_new(&cfg, &c, err, sizeof err), CTX_EINVAL);
    assert_null(c);
    assert_string_equal(err, "capture: patterns and a packet callback are required");
    ctx_ifglob_t *g = NULL;
    assert_int_equal(ctx_ifglob_new_csv("vnet*", &g, err, sizeof err), 0);
    uint16_t many[2000];
    for (int i = 0; i < 2000; ++i) many[i] = (uint16_t)(1000 + i);
    cfg = (struct ctx_capture_cfg){.patterns = g, .udp_ports = many, .n_udp_ports = 2000, .snaplen = 65535,
                                   .on_packet = on_pkt};
    assert_int_equal(ctx_capture_new(&cfg, &c, err, sizeof err), CTX_EINVAL);
    assert_string_equal(err, "capture: cannot build a filter for 2000 UDP and 0 TCP ports (too many?)");
    cfg.n_udp_ports = 3;
    assert_int_equal(ctx_capture_new(&cfg, &c, err, sizeof err), 0);
    struct ctx_capture_stats st;
    ctx_capture_get_stats(c, &st);
    assert_int_equal(st.attached, 0);
    assert_int_equal(st.received, 0);
    ctx_capture_free(c);
    ctx_capture_free(NULL);
    ctx_ifglob_free(g);
}

CTX_TEST_MAIN(NULL, NULL,
    cmocka_unit_test(filter_text_and_matches),
    cmocka_unit_test(filter_errors),
    cmocka_unit_test(new_errors))
