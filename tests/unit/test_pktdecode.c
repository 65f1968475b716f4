/* test_pktdecode.c: unit tests of common/capture/pktdecode.c.
 *
 * Every frame is decoded from a buffer that ends exactly at the captured length,
 * with a PROT_NONE page right after it (guardbuf.h): one byte read too far kills
 * the test. Frames are built with pktbuild.h. The fuzzer's corpus and the hostile
 * pcap tests/data/pcap/hostile_decode.pcap are replayed at the end.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "check.h"

#include <dirent.h>
#include <pcap/pcap.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

#include "ctxlog_common.h"
#include "corpus.h"
#include "guardbuf.h"
#include "pcapreplay.h"
#include "pktbuild.h"
#include "pktdecode.h"

#include "../fuzz/fuzz_pktdecode.c"

static struct guardbuf G;
static struct pb F;
static const uint8_t *base; /* where the last dec() placed the frame */

/* Decode the first caplen bytes of f, placed against the guard page. */
static int dec(const struct pb *f, size_t caplen, size_t wirelen, struct ctx_pkt *p) {
    base = guardbuf_place(&G, f->b, caplen);
    return ctx_pkt_decode(base, caplen, wirelen, p);
}

static int dec_all(const struct pb *f, struct ctx_pkt *p) { return dec(f, f->len, f->len, p); }

static const char *addr(const struct ctx_pkt *p, int dst) {
    static char buf[2][CTX_PKT_ADDRSTRLEN];
    ctx_pkt_addr_ntop(p->ip_version, dst ? &p->dst : &p->src, buf[dst], sizeof buf[dst]);
    return buf[dst];
}

static void assert_payload(const struct ctx_pkt *p, size_t off, const char *text) {
    assert_ptr_equal(p->payload, base + off);
    assert_int_equal(p->payload_len, strlen(text));
    assert_int_equal(p->payload_wire_len, strlen(text));
    assert_memory_equal(p->payload, text, strlen(text));
    assert_int_equal(p->truncated, 0);
}

static void guard_page_faults(void **state) {
    (void)state;
    const uint8_t *p = guardbuf_place(&G, "abc", 3);
    assert_memory_equal(p, "abc", 3);
    pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
        signal(SIGSEGV, SIG_DFL); /* neither cmocka's nor ASan's handler: die of it */
        volatile uint8_t c = p[3];
        (void)c;
        _exit(0);
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFSIGNALED(status));
    assert_int_equal(WTERMSIG(status), SIGSEGV);
}

static void udp4_plain(void **state) {
    (void)state;
    struct ctx_pkt p;
    char mac[CTX_PKT_MACSTRLEN];
    pb_udp4_frame(&F, "<13>hello");
    assert_int_equal(F.len, 42 + 9);
    assert_int_equal(dec_all(&F, &p), CTX_PKT_OK);
    assert_int_equal(ctx_pkt_mac_ntop(p.src_mac, mac, sizeof mac), 17);
    assert_string_equal(mac, "02:00:00:00:00:01");
    ctx_pkt_mac_ntop(p.dst_mac, mac, sizeof mac);
    assert_string_equal(mac, "02:00:00:00:00:02");
    assert_int_equal(p.ethertype, 0x0800);
    assert_int_equal(p.vlan_count, 0);
    assert_int_equal(p.vlan_id[0], 0);
    assert_int_equal(p.ip_version, 4);
    assert_int_equal(p.ip_hdr_len, 20);
    assert_int_equal(p.ttl, 64);
    assert_int_equal(p.l3_offset, 14);
    assert_string_equal(addr(&p, 0), "192.0.2.10");
    assert_string_equal(addr(&p, 1), "198.51.100.1");
    assert_true(IN6_IS_ADDR_V4MAPPED(&p.src));
    assert_int_equal(p.proto, IPPROTO_UDP);
    assert_int_equal(p.sport, 40000);
    assert_int_equal(p.dport, 514);
    assert_int_equal(p.udp_len, 17);
    assert_int_equal(p.frag.is_fragment, 0);
    assert_payload(&p, 42, "<13>hello");
}

static void udp6_plain(void **state) {
    (void)state;
    struct ctx_pkt p;
    pb_udp6_frame(&F, "<14>six");
    assert_int_equal(dec_all(&F, &p), CTX_PKT_OK);
    assert_int_equal(p.ethertype, 0x86dd);
    assert_int_equal(p.ip_version, 6);
    assert_int_equal(p.ip_hdr_len, 40);
    assert_int_equal(p.exthdr_count, 0);
    assert_string_equal(addr(&p, 0), "2001:db8::10");
    assert_string_equal(addr(&p, 1), "2001:db8::1");
    assert_int_equal(p.sport, 40000);
    assert_int_equal(p.dport, 514);
    assert_payload(&p, 62, "<14>six");
}

/* Frame with the given tags (TPIDs outer first) around IPv4/UDP "x". */
static void vlan_frame(const uint16_t *tpids, const uint16_t *vids, int n) {
    pb_reset(&F);
    pb_eth(&F, n > 0 ? tpids[0] : 0x0800);
    for (int i = 0; i < n; i++) pb_vlan(&F, vids[i], i + 1 < n ? tpids[i + 1] : 0x0800);
    size_t ip = pb_ip4(&F, IPPROTO_UDP, 1, 0, NULL, 0);
    size_t u = pb_udp(&F, 1000, 514);
    pb_str(&F, "x");
    pb_udp_done(&F, u);
    pb_ip4_done(&F, ip);
}

static void vlan_tags(void **state) {
    (void)state;
    struct ctx_pkt p;
    uint16_t q[] = {0x8100}, v1[] = {100 | 0xe000}; /* PCP 7 must not leak into the id */
    vlan_frame(q, v1, 1);
    assert_int_equal(dec_all(&F, &p), CTX_PKT_OK);
    assert_int_equal(p.vlan_count, 1);
    assert_int_equal(p.vlan_id[0], 100);
    assert_int_equal(p.vlan_tpid[0], 0x8100);
    assert_int_equal(p.l3_offset, 18);
    assert_payload(&p, 18 + 28, "x");

    uint16_t qinq[] = {0x88a8, 0x8100}, v2[] = {200, 4094};
    vlan_frame(qinq, v2, 2);
    assert_int_equal(dec_all(&F, &p), CTX_PKT_OK);
    assert_int_equal(p.vlan_count, 2);
    assert_int_equal(p.vlan_id[0], 200);
    assert_int_equal(p.vlan_id[1], 4094);
    assert_int_equal(p.vlan_tpid[0], 0x88a8);
    assert_int_equal(p.vlan_tpid[1], 0x8100);
    assert_int_equal(p.l3_offset, 22);
    assert_payload(&p, 22 + 28, "x");

    uint16_t old[] = {0x9100, 0x8100};
    vlan_frame(old, v2, 2);
    assert_int_equal(dec_all(&F, &p), CTX_PKT_OK);
    assert_int_equal(p.vlan_tpid[0], 0x9100);

    uint16_t three[] = {0x88a8, 0x8100, 0x8100}, v3[] = {1, 2, 3};
    vlan_frame(three, v3, 3);
    assert_int_equal(dec_all(&F, &p), CTX_PKT_EVLAN);
    assert_int_equal(p.vlan_count, 2);
}

static void ethertypes(void **state) {
    (void)state;
    struct ctx_pkt p;
    pb_reset(&F);
    pb_eth(&F, 0x0806); /* ARP */
    pb_zero(&F, 28);
    assert_int_equal(dec_all(&F, &p), CTX_PKT_EETHERTYPE);
    assert_int_equal(p.ethertype, 0x0806);
    pb_reset(&F);
    pb_eth(&F, 46); /* 802.3 length field */
    pb_zero(&F, 46);
    assert_int_equal(dec_all(&F, &p), CTX_PKT_EETHERTYPE);
    pb_udp6_frame(&F, "x");
    F.b[12] = 0x08; /* says IPv4, carries IPv6 */
    F.b[13] = 0x00;
    assert_int_equal(dec_all(&F, &p), CTX_PKT_EIPVER);
    pb_udp4_frame(&F, "x");
    F.b[12] = 0x86;
    F.b[13] = 0xdd;
    assert_int_equal(dec_all(&F, &p), CTX_PKT_ETRUNC); /* 29 bytes after Ethernet: no room for 40 */
    pb_zero(&F, 20);
    assert_int_equal(dec_all(&F, &p), CTX_PKT_EIPVER);
}

static void ipv4_options(void **state) {
    (void)state;
    struct ctx_pkt p;
    /* NOP, NOP, router alert (4 bytes), EOL + padding */
    const uint8_t good[8] = {1, 1, 148, 4, 0, 0, 0, 0};
    pb_reset(&F);
    pb_eth(&F, 0x0800);
    size_t ip = pb_ip4(&F, IPPROTO_UDP, 7, 0, good, sizeof good);
    size_t u = pb_udp(&F, 1, 2);
    pb_str(&F, "opt");
    pb_udp_done(&F, u);
    pb_ip4_done(&F, ip);
    assert_int_equal(dec_all(&F, &p), CTX_PKT_OK);
    assert_int_equal(p.ip_hdr_len, 28);
    assert_payload(&p, 14 + 28 + 8, "opt");

    const uint8_t bad[][8] = {
        {1, 1, 148, 0, 0, 0, 0, 0},  /* length 0 */
        {1, 1, 148, 1, 0, 0, 0, 0},  /* length 1 */
        {1, 1, 148, 7, 0, 0, 0, 0},  /* runs past the header */
        {1, 1, 1, 1, 1, 1, 1, 7},    /* type 7 without a length byte */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        memcpy(F.b + 14 + 20, bad[i], 8);
        assert_int_equal(dec_all(&F, &p), CTX_PKT_EIPOPT);
        assert_string_equal(addr(&p, 0), "192.0.2.10"); /* addresses are set before the options */
    }
    const uint8_t eol_then_junk[8] = {0, 148, 200, 9, 9, 9, 9, 9};
    memcpy(F.b + 14 + 20, eol_then_junk, 8);
    assert_int_equal(dec_all(&F, &p), CTX_PKT_OK);
}

static void ipv4_lengths(void **state) {
    (void)state;
    struct ctx_pkt p;
    pb_udp4_frame(&F, "len"); /* IP total 31 */
    F.b[14] = 0x44;           /* IHL 4 */
    assert_int_equal(dec_all(&F, &p), CTX_PKT_EIPHDRLEN);
    F.b[14] = 0x48; /* IHL 32 bytes > total 31 */
    assert_int_equal(dec_all(&F, &p), CTX_PKT_EIPHDRLEN);
    F.b[14] = 0x4f;
    pb_set16(&F, 16, 60); /* IHL 60 == total 60, but the frame has 45 bytes of IP */
    assert_int_equal(dec_all(&F, &p), CTX_PKT_EIPLEN);
    pb_udp4_frame(&F, "len");
    pb_set16(&F, 16, 32); /* one byte more than the frame */
    assert_int_equal(dec_all(&F, &p), CTX_PKT_EIPLEN);
    assert_int_equal(dec(&F, F.len, F.len + 1, &p), CTX_PKT_OK); /* ... unless the snap length cut it */
    assert_int_equal(p.truncated, 0); /* the cut byte is past UDP's own length (11) */
    assert_int_equal(p.payload_len, 3);
    assert_int_equal(p.payload_wire_len, 3);
    pb_set16(&F, 16, 19); /* total below the header */
    assert_int_equal(dec_all(&F, &p), CTX_PKT_EIPHDRLEN);
    pb_udp4_frame(&F, "pad");
    pb_zero(&F, 60 - F.len); /* Ethernet padding to the 60-byte minimum */
    assert_int_equal(dec_all(&F, &p), CTX_PKT_OK);
    assert_payload(&p, 42, "pad");
}

static void udp_lengths(void **state) {
    (void)state;
    struct ctx_pkt p;
    pb_udp4_frame(&F, "abcdef");
    pb_set16(&F, 38, 7);
    assert_int_equal(dec_all(&F, &p), CTX_PKT_EUDPLEN);
    assert_int_equal(p.sport, 40000); /* ports are set before the length check */
    pb_set16(&F, 38, 15); /* 1 beyond the IP payload */
    assert_int_equal(dec_all(&F, &p), CTX_PKT_EUDPLEN);
    pb_set16(&F, 38, 11); /* shorter than the IP payload: the rest is not UDP's */
    assert_int_equal(dec_all(&F, &p), CTX_PKT_OK);
    assert_payload(&p, 42, "abc");
    pb_set16(&F, 38, 8);
    assert_int_equal(dec_all(&F, &p), CTX_PKT_OK);
    assert_int_equal(p.payload_len, 0);
    assert_ptr_equal(p.payload, base + 42);
    pb_udp4_frame(&F, ""); /* IP total 24: room for 4 of UDP's 8 bytes */
    F.len -= 4;
    pb_ip4_done(&F, 14);
    assert_int_equal(dec_all(&F, &p), CTX_PKT_EUDPLEN);
}

static void tcp_segments(void **state) {
    (void)state;
    struct ctx_pkt p;
    pb_reset(&F);
    pb_eth(&F, 0x0800);
    size_t ip = pb_ip4(&F, IPPROTO_TCP, 9, 0x4000, NULL, 0); /* DF set: not a fragment */
    pb_tcp(&F, 50000, 6514, 0x01020304, 0xa0b0c0d0, CTX_PKT_TCP_PSH | CTX_PKT_TCP_ACK, 3);
    pb_str(&F, "<13>tcp\n");
    pb_ip4_done(&F, ip);
    assert_int_equal(dec_all(&F, &p), CTX_PKT_OK);
    assert_int_equal(p.proto, IPPROTO_TCP);
    assert_int_equal(p.sport, 50000);
    assert_int_equal(p.dport, 6514);
    assert_int_equal(p.tcp.seq, 0x01020304);
    assert_int_equal(p.tcp.ack, 0xa0b0c0d0);
    assert_int_equal(p.tcp.flags, CTX_PKT_TCP_PSH | CTX_PKT_TCP_ACK);
    assert_int_equal(p.tcp.window, 29200);
    assert_int_equal(p.tcp.hdr_len, 32);
    assert_int_equal(p.frag.is_fragment, 0);
    assert_payload(&p, 14 + 20 + 32, "<13>tcp\n");
    F.b[14 + 20 + 12] = 0x40; /* data offset 4 */
    assert_int_equal(dec_all(&F, &p), CTX_PKT_ETCPHDR);
    F.b[14 + 20 + 12] = 0xf0; /* 60 > 40 bytes of segment */
    assert_int_equal(dec_all(&F, &p), CTX_PKT_ETCPHDR);
    F.b[14 + 20 + 12] = 0xa0; /* 40 == segment: no payload */
    assert_int_equal(dec_all(&F, &p), CTX_PKT_OK);
    assert_int_equal(p.payload_len, 0);
}

static void not_udp_or_tcp(void **state) {
    (void)state;
    struct ctx_pkt p;
    pb_reset(&F);
    pb_eth(&F, 0x0800);
    size_t ip = pb_ip4(&F, 1, 3, 0, NULL, 0); /* ICMP */
    pb_zero(&F, 8);
    pb_ip4_done(&F, ip);
    assert_int_equal(dec_all(&F, &p), CTX_PKT_ENOTL4);
    assert_int_equal(p.proto, IPPROTO_ICMP);
    assert_string_equal(addr(&p, 1), "198.51.100.1");
    pb_reset(&F);
    pb_eth(&F, 0x86dd);
    ip = pb_ip6(&F, 59); /* no next header */
    pb_ip6_done(&F, ip);
    assert_int_equal(dec_all(&F, &p), CTX_PKT_ENOTL4);
    assert_int_equal(p.proto, IPPROTO_NONE);
}

/* IPv6 with the given extension header types (each 8 bytes) before UDP "ext". */
static size_t ext_frame(const uint8_t *types, int n) {
    pb_reset(&F);
    pb_eth(&F, 0x86dd);
    size_t ip = pb_ip6(&F, n > 0 ? types[0] : 17);
    for (int i = 0; i < n; i++) pb_ext6(&F, i + 1 < n ? types[i + 1] : 17, 0);
    size_t u = pb_udp(&F, 7, 514);
    pb_str(&F, "ext");
    pb_udp_done(&F, u);
    pb_ip6_done(&F, ip);
    return u + 8;
}

static void ipv6_extension_headers(void **state) {
    (void)state;
    struct ctx_pkt p;
    const uint8_t chain[] = {0, 43, 60};
    size_t off = ext_frame(chain, 3);
    assert_int_equal(dec_all(&F, &p), CTX_PKT_OK);
    assert_int_equal(p.exthdr_count, 3);
    assert_payload(&p, off, "ext");

    const uint8_t hbh_late[] = {60, 0};
    ext_frame(hbh_late, 2);
    assert_int_equal(dec_all(&F, &p), CTX_PKT_EEXTHDR);

    uint8_t max[CTX_PKT_MAX_EXTHDRS + 1];
    memset(max, 60, sizeof max);
    off = ext_frame(max, CTX_PKT_MAX_EXTHDRS);
    assert_int_equal(dec_all(&F, &p), CTX_PKT_OK);
    assert_int_equal(p.exthdr_count, CTX_PKT_MAX_EXTHDRS);
    assert_payload(&p, off, "ext");
    ext_frame(max, CTX_PKT_MAX_EXTHDRS + 1);
    assert_int_equal(dec_all(&F, &p), CTX_PKT_EEXTCHAIN);

    const uint8_t one[] = {60};
    ext_frame(one, 1);
    F.b[14 + 40 + 1] = 3; /* 32 bytes claimed, 8 + 11 in the payload */
    assert_int_equal(dec_all(&F, &p), CTX_PKT_EEXTHDR);
    pb_set16(&F, 14 + 4, 40); /* IPv6 payload 40: the claim fits, but only 19 bytes were captured */
    assert_int_equal(dec(&F, F.len, 14 + 40 + 40, &p), CTX_PKT_ETRUNC);

    /* AH: length in 4-byte units minus 2: 16 bytes */
    pb_reset(&F);
    pb_eth(&F, 0x86dd);
    size_t ip = pb_ip6(&F, 51);
    pb_u8(&F, 17);
    pb_u8(&F, 2);
    pb_zero(&F, 14);
    size_t u = pb_udp(&F, 7, 514);
    pb_str(&F, "ah");
    pb_udp_done(&F, u);
    pb_ip6_done(&F, ip);
    assert_int_equal(dec_all(&F, &p), CTX_PKT_OK);
    assert_payload(&p, 14 + 40 + 16 + 8, "ah");

    pb_reset(&F); /* payload length 0 with a hop-by-hop header: jumbogram, not supported */
    pb_eth(&F, 0x86dd);
    ip = pb_ip6(&F, 0);
    pb_ext6(&F, 17, 0);
    assert_int_equal(dec(&F, F.len, F.len, &p), CTX_PKT_EEXTHDR);
}

static void ipv6_atomic_fragment(void **state) {
    (void)state;
    struct ctx_pkt p;
    pb_reset(&F);
    pb_eth(&F, 0x86dd);
    size_t ip = pb_ip6(&F, 44);
    pb_frag6(&F, 17, 0, 0, 0xdeadbeef);
    size_t u = pb_udp(&F, 7, 514);
    pb_str(&F, "atomic");
    pb_udp_done(&F, u);
    pb_ip6_done(&F, ip);
    assert_int_equal(dec_all(&F, &p), CTX_PKT_OK);
    assert_int_equal(p.frag.is_fragment, 0);
    assert_int_equal(p.exthdr_count, 1);
    assert_payload(&p, 14 + 48 + 8, "atomic");
}

static void ipv4_fragments(void **state) {
    (void)state;
    struct ctx_pkt p;
    pb_reset(&F);
    pb_eth(&F, 0x0800);
    size_t ip = pb_ip4(&F, IPPROTO_UDP, 0xbeef, 0x2000, NULL, 0); /* MF, offset 0 */
    pb_zero(&F, 16);
    pb_ip4_done(&F, ip);
    assert_int_equal(dec_all(&F, &p), CTX_PKT_FRAGMENT);
    assert_int_equal(p.frag.is_fragment, 1);
    assert_int_equal(p.frag.more, 1);
    assert_int_equal(p.frag.offset, 0);
    assert_int_equal(p.frag.id, 0xbeef);
    assert_int_equal(p.frag.next, 17);
    assert_int_equal(p.proto, IPPROTO_UDP);
    assert_ptr_equal(p.frag.data, base + 34);
    assert_int_equal(p.frag.data_len, 16);
    assert_int_equal(p.frag.data_wire_len, 16);
    assert_int_equal(p.frag.truncated, 0);
    assert_null(p.payload);
    assert_string_equal(addr(&p, 0), "192.0.2.10");

    pb_set16(&F, 20, 0x0000 | 185); /* last fragment at 1480 */
    assert_int_equal(dec_all(&F, &p), CTX_PKT_FRAGMENT);
    assert_int_equal(p.frag.more, 0);
    assert_int_equal(p.frag.offset, 1480);
    pb_set16(&F, 20, 0x1fff); /* 65528 + 16 + 20 > 65535 */
    assert_int_equal(dec_all(&F, &p), CTX_PKT_EFRAG);
    pb_set16(&F, 20, 8189); /* 65512 + 16 + 20 = 65548 > 65535 */
    assert_int_equal(dec_all(&F, &p), CTX_PKT_EFRAG);
    pb_set16(&F, 20, 8187); /* 65496 + 16 + 20 = 65532 */
    assert_int_equal(dec_all(&F, &p), CTX_PKT_FRAGMENT);

    F.len -= 1; /* 15 data bytes with MF: not a multiple of 8 */
    pb_ip4_done(&F, ip);
    pb_set16(&F, 20, 0x2001);
    assert_int_equal(dec_all(&F, &p), CTX_PKT_EFRAG);
    pb_set16(&F, 20, 0x0001); /* ... fine for the last one */
    assert_int_equal(dec_all(&F, &p), CTX_PKT_FRAGMENT);
    F.len = 34; /* no data at all */
    pb_ip4_done(&F, ip);
    assert_int_equal(dec_all(&F, &p), CTX_PKT_EFRAG);

    pb_reset(&F);
    pb_eth(&F, 0x0800);
    ip = pb_ip4(&F, 1, 5, 0x2000, NULL, 0); /* ICMP fragment: not ours to reassemble */
    pb_zero(&F, 8);
    pb_ip4_done(&F, ip);
    assert_int_equal(dec_all(&F, &p), CTX_PKT_ENOTL4);
}

static void ipv6_fragments(void **state) {
    (void)state;
    struct ctx_pkt p;
    pb_reset(&F);
    pb_eth(&F, 0x86dd);
    size_t ip = pb_ip6(&F, 60);
    pb_ext6(&F, 44, 0); /* destination options before the fragment header: unfragmentable part */
    pb_frag6(&F, 17, 1232, 1, 0x89abcdef);
    pb_zero(&F, 24);
    pb_ip6_done(&F, ip);
    assert_int_equal(dec_all(&F, &p), CTX_PKT_FRAGMENT);
    assert_int_equal(p.exthdr_count, 2);
    assert_int_equal(p.frag.id, 0x89abcdef);
    assert_int_equal(p.frag.offset, 1232);
    assert_int_equal(p.frag.more, 1);
    assert_int_equal(p.frag.next, 17);
    assert_ptr_equal(p.frag.data, base + 14 + 40 + 8 + 8);
    assert_int_equal(p.frag.data_len, 24);
    assert_string_equal(addr(&p, 1), "2001:db8::1");

    pb_set16(&F, 14 + 48 + 2, 65512 | 1); /* 8 (dst opts) + 65512 + 24 > 65535 */
    assert_int_equal(dec_all(&F, &p), CTX_PKT_EFRAG);
    pb_set16(&F, 14 + 48 + 2, 65496 | 1); /* 8 + 65496 + 24 = 65528 */
    assert_int_equal(dec_all(&F, &p), CTX_PKT_FRAGMENT);
    F.b[14 + 48] = 58; /* ICMPv6 fragment */
    assert_int_equal(dec_all(&F, &p), CTX_PKT_ENOTL4);
    F.b[14 + 48] = 60; /* destination options in the fragmentable part: reassemble, then walk */
    assert_int_equal(dec_all(&F, &p), CTX_PKT_FRAGMENT);
    assert_int_equal(p.frag.next, 60);
}

/* Cut frame F at every length. With the wire length intact, a cut inside the
 * first hdr_end bytes is ETRUNC and a later one returns full_rc with a shorter
 * payload; with the wire length cut too (a short frame), a cut before the fixed IP
 * header (l3_min) is ETRUNC and a later one EIPLEN. */
static void truncations(size_t hdr_end, size_t l3_min, int full_rc) {
    struct ctx_pkt p;
    for (size_t k = 0; k <= F.len; k++) {
        int rc = dec(&F, k, F.len, &p);
        if (k < hdr_end) {
            assert_int_equal(rc, CTX_PKT_ETRUNC);
            continue;
        }
        assert_int_equal(rc, full_rc);
        if (rc == CTX_PKT_OK) {
            assert_ptr_equal(p.payload, base + hdr_end);
            assert_int_equal(p.payload_len, k - hdr_end);
            assert_int_equal(p.payload_wire_len, F.len - hdr_end);
            assert_int_equal(p.truncated, k < F.len);
        } else {
            assert_ptr_equal(p.frag.data, base + hdr_end);
            assert_int_equal(p.frag.data_len, k - hdr_end);
            assert_int_equal(p.frag.truncated, k < F.len);
        }
    }
    for (size_t k = 0; k < F.len; k++)
        assert_int_equal(dec(&F, k, k, &p), k < l3_min ? CTX_PKT_ETRUNC : CTX_PKT_EIPLEN);
}

static void truncation_at_every_offset(void **state) {
    (void)state;
    pb_udp4_frame(&F, "<13>Nov 27 06:13:44 vm1 app: truncated");
    truncations(42, 34, CTX_PKT_OK);
    pb_udp6_frame(&F, "<13>v6");
    truncations(62, 54, CTX_PKT_OK);

    const uint8_t chain[] = {0, 43, 60};
    size_t off = ext_frame(chain, 3);
    truncations(off, 54, CTX_PKT_OK);

    const uint8_t opts[4] = {1, 1, 1, 0};
    pb_reset(&F);
    pb_eth(&F, 0x88a8);
    pb_vlan(&F, 10, 0x8100);
    pb_vlan(&F, 20, 0x0800);
    size_t ip = pb_ip4(&F, IPPROTO_TCP, 1, 0, opts, 4);
    pb_tcp(&F, 1, 2, 3, 4, CTX_PKT_TCP_SYN, 2);
    pb_str(&F, "qinq+options+tcp");
    pb_ip4_done(&F, ip);
    truncations(22 + 24 + 28, 22 + 20, CTX_PKT_OK);

    pb_reset(&F);
    pb_eth(&F, 0x8100);
    pb_vlan(&F, 5, 0x86dd);
    ip = pb_ip6(&F, 44);
    pb_frag6(&F, 17, 8, 1, 77);
    pb_zero(&F, 32);
    pb_ip6_done(&F, ip);
    truncations(18 + 48, 18 + 40, CTX_PKT_FRAGMENT);
}

static void error_strings(void **state) {
    (void)state;
    static const struct {
        int rc;
        const char *text;
        int malformed;
    } t[] = {
        {CTX_PKT_OK, "ok", 0},
        {CTX_PKT_FRAGMENT, "ip fragment (needs reassembly)", 0},
        {CTX_PKT_EINVAL, "invalid argument", 0},
        {CTX_PKT_ETRUNC, "headers truncated by the captured length", 1},
        {CTX_PKT_EETHERTYPE, "unsupported ethertype (not ipv4/ipv6)", 0},
        {CTX_PKT_EVLAN, "more than 2 vlan tags", 1},
        {CTX_PKT_EIPVER, "ip version does not match the ethertype", 1},
        {CTX_PKT_EIPHDRLEN, "bad ipv4 header length", 1},
        {CTX_PKT_EIPLEN, "ip length exceeds the frame", 1},
        {CTX_PKT_EIPOPT, "malformed ipv4 options", 1},
        {CTX_PKT_EEXTHDR, "malformed ipv6 extension header", 1},
        {CTX_PKT_EEXTCHAIN, "too many ipv6 extension headers", 1},
        {CTX_PKT_ENOTL4, "not udp or tcp", 0},
        {CTX_PKT_EUDPLEN, "bad udp length", 1},
        {CTX_PKT_ETCPHDR, "bad tcp header length", 1},
        {CTX_PKT_EFRAG, "bad ip fragment offset or length", 1},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        assert_string_equal(ctx_pkt_strerror(t[i].rc), t[i].text);
        assert_int_equal(ctx_pkt_is_malformed(t[i].rc), t[i].malformed);
    }
    assert_int_equal(sizeof t / sizeof t[0], 2 + (size_t)(CTX_PKT_EINVAL - CTX_PKT_RC_MIN) + 1);
    assert_string_equal(ctx_pkt_strerror(-99), "unknown packet decoder result");
    assert_string_equal(ctx_pkt_strerror(-114), "unknown packet decoder result");
    assert_int_equal(ctx_pkt_is_malformed(-114), 0);
    assert_int_equal(ctx_pkt_is_malformed(CTX_ENOMEM), 0);
}

static void text_helpers(void **state) {
    (void)state;
    struct ctx_pkt p;
    char buf[CTX_PKT_ADDRSTRLEN];
    pb_udp4_frame(&F, "x");
    dec_all(&F, &p);
    assert_int_equal(ctx_pkt_addr_ntop(4, &p.src, buf, sizeof buf), 10);
    assert_string_equal(buf, "192.0.2.10");
    assert_int_equal(ctx_pkt_addr_ntop(4, &p.src, buf, 10), CTX_EINVAL); /* no room for the NUL */
    assert_string_equal(buf, "");
    assert_int_equal(ctx_pkt_addr_ntop(6, &p.src, buf, sizeof buf), 17);
    assert_string_equal(buf, "::ffff:192.0.2.10");
    assert_int_equal(ctx_pkt_addr_ntop(5, &p.src, buf, sizeof buf), CTX_EINVAL);
    assert_int_equal(ctx_pkt_addr_ntop(4, NULL, buf, sizeof buf), CTX_EINVAL);
    assert_int_equal(ctx_pkt_mac_ntop(p.src_mac, buf, 17), CTX_EINVAL);
    assert_string_equal(buf, "");
    assert_int_equal(ctx_pkt_decode(NULL, 0, 0, &p), CTX_PKT_EINVAL);
    assert_int_equal(ctx_pkt_decode(F.b, F.len, F.len, NULL), CTX_PKT_EINVAL);
    assert_int_equal(ctx_pkt_decode_l4(17, NULL, 0, 0, NULL), CTX_PKT_EINVAL);
}

/* Every file of the fuzzer's corpus goes through the fuzzer's own checks, placed
 * against the guard page. */
static void fuzz_corpus_replay(void **state) {
    (void)state;
    corpus_replay("pktdecode", 10, sizeof F.b, &G);
}

static int rc_by_name(const char *name) {
    static const pcap_replay_rc_t t[] = {
        {"OK", CTX_PKT_OK}, {"FRAGMENT", CTX_PKT_FRAGMENT}, {"ETRUNC", CTX_PKT_ETRUNC},
        {"EETHERTYPE", CTX_PKT_EETHERTYPE}, {"EVLAN", CTX_PKT_EVLAN}, {"EIPVER", CTX_PKT_EIPVER},
        {"EIPHDRLEN", CTX_PKT_EIPHDRLEN}, {"EIPLEN", CTX_PKT_EIPLEN}, {"EIPOPT", CTX_PKT_EIPOPT},
        {"EEXTHDR", CTX_PKT_EEXTHDR}, {"EEXTCHAIN", CTX_PKT_EEXTCHAIN}, {"ENOTL4", CTX_PKT_ENOTL4},
        {"EUDPLEN", CTX_PKT_EUDPLEN}, {"ETCPHDR", CTX_PKT_ETCPHDR}, {"EFRAG", CTX_PKT_EFRAG}};
    return pcap_replay_rc(t, sizeof t / sizeof t[0], name);
}

/* tests/data/pcap/hostile_decode.pcap, read with libpcap's offline mode; its
 * .expect file gives, per packet, the result name and the payload length ("-"
 * when there is none). */
static void hostile_pcap_replay(void **state) {
    (void)state;
    pcap_replay_t r;
    pcap_replay_open(&r, "hostile_decode");
    assert_int_equal(pcap_datalink(r.pc), DLT_EN10MB);
    struct pcap_pkthdr *h;
    const u_char *data;
    while (pcap_replay_next(&r, &h, &data)) {
        char name[32], plen[16];
        assert_int_equal(sscanf(r.line, "%31s %15s", name, plen), 2);
        struct ctx_pkt p;
        base = guardbuf_place(&G, data, h->caplen);
        int rc = ctx_pkt_decode(base, h->caplen, h->len, &p);
        if (rc != rc_by_name(name))
            fail_msg("packet %d: %s, expected %s (%s)", r.n, ctx_pkt_strerror(rc), name, r.line);
        if (strcmp(plen, "-") != 0) assert_int_equal(p.payload_len, (size_t)atol(plen));
    }
    ASSERT_GE(pcap_replay_close(&r), 20);
}

GUARDBUF_GROUP_FIXTURE(G, PB_CAP)

CTX_TEST_MAIN(guardbuf_setup, guardbuf_teardown,
    cmocka_unit_test(guard_page_faults),
    cmocka_unit_test(udp4_plain),
    cmocka_unit_test(udp6_plain),
    cmocka_unit_test(vlan_tags),
    cmocka_unit_test(ethertypes),
    cmocka_unit_test(ipv4_options),
    cmocka_unit_test(ipv4_lengths),
    cmocka_unit_test(udp_lengths),
    cmocka_unit_test(tcp_segments),
    cmocka_unit_test(not_udp_or_tcp),
    cmocka_unit_test(ipv6_extension_headers),
    cmocka_unit_test(ipv6_atomic_fragment),
    cmocka_unit_test(ipv4_fragments),
    cmocka_unit_test(ipv6_fragments),
    cmocka_unit_test(truncation_at_every_offset),
    cmocka_unit_test(error_strings),
    cmocka_unit_test(text_helpers),
    cmocka_unit_test(fuzz_corpus_replay),
    cmocka_unit_test(hostile_pcap_replay))
