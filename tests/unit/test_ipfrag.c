/* test_ipfrag.c: unit tests of common/capture/ipfrag.c.
 *
 * Fragments are real frames built with pktbuild.h, decoded by ctx_pkt_decode()
 * from buffers that end at a guard page (guardbuf.h), then fed to the reassembler,
 * as the capture loop does. The fuzzer's corpus and the hostile pcap
 * tests/data/pcap/hostile_frag.pcap are replayed at the end.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "check.h"

#include <dirent.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <string.h>

#include "ctxlog_common.h"
#include "corpus.h"
#include "guardbuf.h"
#include "ipfrag.h"
#include "pktbuild.h"
#include "pcapreplay.h"
#include "pktdecode.h"

#include "../fuzz/fuzz_ipfrag.c"

static struct guardbuf G;
static struct pb F;
static uint8_t D[65535]; /* the datagram (transport header + payload) being cut into fragments */
static size_t dlen;

/* D = UDP header + payload of n bytes "m0000 m0001 ..." style, deterministic. */
static void make_udp_dgram(size_t n) {
    D[0] = 0x9c; /* sport 40000 */
    D[1] = 0x40;
    D[2] = 0x02; /* dport 514 */
    D[3] = 0x02;
    D[4] = (uint8_t)((n + 8) >> 8);
    D[5] = (uint8_t)(n + 8);
    D[6] = D[7] = 0;
    for (size_t i = 0; i < n; i++) D[8 + i] = (uint8_t)('a' + (i * 7 + i / 26) % 26);
    dlen = n + 8;
}

struct fopt {
    int v6;          /* IPv6 with a fragment header, else IPv4 */
    uint32_t id;
    uint16_t vlan;   /* 0: untagged */
    uint8_t next;    /* protocol / next header of the fragmentable part; 0: UDP */
};

/* Frame F = fragment [off, off + len) of D. */
static void build_frag(const struct fopt *o, size_t off, size_t len, int more) {
    uint8_t next = o->next ? o->next : 17;
    pb_reset(&F);
    if (o->vlan) {
        pb_eth(&F, 0x8100);
        pb_vlan(&F, o->vlan, o->v6 ? 0x86dd : 0x0800);
    } else {
        pb_eth(&F, o->v6 ? 0x86dd : 0x0800);
    }
    if (o->v6) {
        size_t ip = pb_ip6(&F, 44);
        pb_frag6(&F, next, (uint16_t)off, more, o->id);
        pb_mem(&F, D + off, len);
        pb_ip6_done(&F, ip);
    } else {
        size_t ip = pb_ip4(&F, next, (uint16_t)o->id, (uint16_t)((more ? 0x2000 : 0) | off / 8), NULL, 0);
        pb_mem(&F, D + off, len);
        pb_ip4_done(&F, ip);
    }
}

/* Decode F (caplen bytes of it) against the guard page and hand it to f. */
static int add_caplen(struct ctx_ipfrag *f, size_t caplen, uint32_t scope, uint64_t now, struct ctx_pkt *out) {
    struct ctx_pkt p;
    const uint8_t *frame = guardbuf_place(&G, F.b, caplen);
    int rc = ctx_pkt_decode(frame, caplen, F.len, &p);
    assert_int_equal(rc, CTX_PKT_FRAGMENT);
    return ctx_ipfrag_add(f, &p, scope, now, out);
}

static int add(struct ctx_ipfrag *f, const struct fopt *o, size_t off, size_t len, int more, uint64_t now,
               struct ctx_pkt *out) {
    build_frag(o, off, len, more);
    return add_caplen(f, F.len, 0, now, out);
}

static struct ctx_ipfrag_stats stats(const struct ctx_ipfrag *f) {
    struct ctx_ipfrag_stats st;
    ctx_ipfrag_get_stats(f, &st);
    return st;
}

static void assert_dgram(const struct ctx_pkt *out) {
    assert_int_equal(out->frag.reassembled, 1);
    assert_int_equal(out->frag.is_fragment, 0);
    assert_null(out->frag.data);
    assert_int_equal(out->proto, IPPROTO_UDP);
    assert_int_equal(out->sport, 40000);
    assert_int_equal(out->dport, 514);
    assert_int_equal(out->udp_len, dlen);
    assert_int_equal(out->payload_len, dlen - 8);
    assert_int_equal(out->payload_wire_len, dlen - 8);
    assert_int_equal(out->truncated, 0);
    assert_memory_equal(out->payload, D + 8, dlen - 8);
}

static void ipv4_in_order(void **state) {
    (void)state;
    struct ctx_ipfrag *f = ctx_ipfrag_new(1 << 20, 64, 30000);
    assert_non_null(f);
    struct fopt o = {.id = 0x4242};
    struct ctx_pkt out;
    make_udp_dgram(3000 - 8);
    assert_int_equal(add(f, &o, 0, 1480, 1, 10, &out), CTX_IPFRAG_QUEUED);
    assert_int_equal(stats(f).datagrams_in_use, 1);
    ASSERT_GT(stats(f).bytes_in_use, 1480);
    assert_int_equal(add(f, &o, 1480, 1480, 1, 11, &out), CTX_IPFRAG_QUEUED);
    assert_int_equal(add(f, &o, 2960, 40, 0, 12, &out), CTX_IPFRAG_COMPLETE);
    assert_dgram(&out);
    assert_int_equal(out.ip_version, 4);
    assert_int_equal(out.frag.id, 0x4242);
    char buf[CTX_PKT_ADDRSTRLEN];
    ctx_pkt_addr_ntop(4, &out.src, buf, sizeof buf);
    assert_string_equal(buf, "192.0.2.10");
    struct ctx_ipfrag_stats st = stats(f);
    assert_int_equal(st.fragments, 3);
    assert_int_equal(st.reassembled, 1);
    assert_int_equal(st.bytes_in_use, 0);
    assert_int_equal(st.datagrams_in_use, 0);
    assert_int_equal(st.overlaps + st.duplicates + st.bad + st.evicted + st.timed_out, 0);
    ctx_ipfrag_free(f);
}

/* Four fragments in all 24 orders: complete exactly on the fourth. */
static void every_order(void **state) {
    (void)state;
    static const int perm[24][4] = {
        {0, 1, 2, 3}, {0, 1, 3, 2}, {0, 2, 1, 3}, {0, 2, 3, 1}, {0, 3, 1, 2}, {0, 3, 2, 1}, {1, 0, 2, 3}, {1, 0, 3, 2},
        {1, 2, 0, 3}, {1, 2, 3, 0}, {1, 3, 0, 2}, {1, 3, 2, 0}, {2, 0, 1, 3}, {2, 0, 3, 1}, {2, 1, 0, 3}, {2, 1, 3, 0},
        {2, 3, 0, 1}, {2, 3, 1, 0}, {3, 0, 1, 2}, {3, 0, 2, 1}, {3, 1, 0, 2}, {3, 1, 2, 0}, {3, 2, 0, 1}, {3, 2, 1, 0}};
    struct ctx_ipfrag *f = ctx_ipfrag_new(1 << 20, 64, 30000);
    struct ctx_pkt out;
    make_udp_dgram(100); /* 108 bytes: 32 + 32 + 32 + 12 */
    for (int v6 = 0; v6 <= 1; v6++) {
        for (int i = 0; i < 24; i++) {
            struct fopt o = {.v6 = v6, .id = (uint32_t)(1000 + i)};
            for (int j = 0; j < 4; j++) {
                int k = perm[i][j];
                int rc = add(f, &o, (size_t)k * 32, k == 3 ? 12 : 32, k != 3, 100, &out);
                assert_int_equal(rc, j == 3 ? CTX_IPFRAG_COMPLETE : CTX_IPFRAG_QUEUED);
            }
            assert_dgram(&out);
            assert_int_equal(out.ip_version, v6 ? 6 : 4);
        }
    }
    assert_int_equal(stats(f).reassembled, 48);
    assert_int_equal(stats(f).datagrams_in_use, 0);
    ctx_ipfrag_free(f);
}

static void ipv6_with_options(void **state) {
    (void)state;
    struct ctx_ipfrag *f = ctx_ipfrag_new(1 << 20, 64, 30000);
    struct ctx_pkt out;
    /* destination options (8 bytes) inside the fragmentable part, before UDP */
    make_udp_dgram(60);
    memmove(D + 8, D, dlen);
    memset(D, 0, 8);
    D[0] = 17;
    struct fopt o = {.v6 = 1, .id = 0xabcdef01, .next = 60};
    assert_int_equal(add(f, &o, 40, dlen + 8 - 40, 0, 1, &out), CTX_IPFRAG_QUEUED);
    assert_int_equal(add(f, &o, 0, 40, 1, 2, &out), CTX_IPFRAG_COMPLETE);
    assert_int_equal(out.proto, IPPROTO_UDP);
    assert_int_equal(out.frag.next, 60);
    assert_int_equal(out.frag.id, 0xabcdef01);
    assert_int_equal(out.exthdr_count, 2); /* the fragment header, then the destination options */
    assert_int_equal(out.payload_len, 60);
    assert_memory_equal(out.payload, D + 16, 60);
    /* a second fragment header inside the reassembled data is malformed */
    D[0] = 44;
    o.id++;
    assert_int_equal(add(f, &o, 0, 40, 1, 3, &out), CTX_IPFRAG_QUEUED);
    assert_int_equal(add(f, &o, 40, dlen + 8 - 40, 0, 4, &out), CTX_PKT_EEXTHDR);
    assert_int_equal(stats(f).bad, 1);
    assert_int_equal(stats(f).reassembled, 1);
    ctx_ipfrag_free(f);
}

static void tcp_and_vlan(void **state) {
    (void)state;
    struct ctx_ipfrag *f = ctx_ipfrag_new(1 << 20, 64, 30000);
    struct ctx_pkt out;
    /* TCP header (20 bytes) + 44 bytes payload */
    memset(D, 0, 20);
    D[0] = 0xc3, D[1] = 0x50, D[2] = 0x19, D[3] = 0x72; /* 50000 -> 6514 */
    D[7] = 9;                                          /* seq 9 */
    D[12] = 0x50;
    D[13] = CTX_PKT_TCP_PSH | CTX_PKT_TCP_ACK;
    memcpy(D + 20, "<13>a syslog line sent over tcp, fragmented", 44);
    dlen = 64;
    struct fopt o = {.id = 77, .vlan = 300, .next = 6};
    assert_int_equal(add(f, &o, 0, 32, 1, 1, &out), CTX_IPFRAG_QUEUED);
    assert_int_equal(add(f, &o, 32, 32, 0, 2, &out), CTX_IPFRAG_COMPLETE);
    assert_int_equal(out.proto, IPPROTO_TCP);
    assert_int_equal(out.sport, 50000);
    assert_int_equal(out.dport, 6514);
    assert_int_equal(out.tcp.seq, 9);
    assert_int_equal(out.tcp.flags, CTX_PKT_TCP_PSH | CTX_PKT_TCP_ACK);
    assert_int_equal(out.vlan_count, 1);
    assert_int_equal(out.vlan_id[0], 300);
    assert_int_equal(out.payload_len, 44);
    assert_memory_equal(out.payload, "<13>a syslog line sent over tcp, fragmented", 44);
    ctx_ipfrag_free(f);
}

/* Same addresses and id, but another scope or VLAN: never one datagram. */
static void scopes_and_vlans_kept_apart(void **state) {
    (void)state;
    struct ctx_ipfrag *f = ctx_ipfrag_new(1 << 20, 64, 30000);
    struct ctx_pkt out;
    make_udp_dgram(56);
    struct fopt o = {.id = 5};
    build_frag(&o, 0, 32, 1);
    assert_int_equal(add_caplen(f, F.len, 1, 1, &out), CTX_IPFRAG_QUEUED);
    build_frag(&o, 32, 32, 0);
    assert_int_equal(add_caplen(f, F.len, 2, 1, &out), CTX_IPFRAG_QUEUED);
    o.vlan = 12;
    assert_int_equal(add(f, &o, 32, 32, 0, 1, &out), CTX_IPFRAG_QUEUED);
    o.v6 = 1; /* IPv6, same id number */
    o.vlan = 0;
    assert_int_equal(add(f, &o, 32, 32, 0, 1, &out), CTX_IPFRAG_QUEUED);
    assert_int_equal(stats(f).datagrams_in_use, 4);
    o.v6 = 0;
    o.next = IPPROTO_TCP; /* IPv4: the protocol is part of the key */
    assert_int_equal(add(f, &o, 32, 32, 0, 1, &out), CTX_IPFRAG_QUEUED);
    assert_int_equal(stats(f).datagrams_in_use, 5);
    o.next = 0;
    build_frag(&o, 0, 32, 1);
    assert_int_equal(add_caplen(f, F.len, 2, 1, &out), CTX_IPFRAG_COMPLETE);
    assert_dgram(&out);
    ctx_ipfrag_free(f);
}

static void duplicates_ignored(void **state) {
    (void)state;
    struct ctx_ipfrag *f = ctx_ipfrag_new(1 << 20, 64, 30000);
    struct ctx_pkt out;
    make_udp_dgram(56);
    struct fopt o = {.id = 9};
    assert_int_equal(add(f, &o, 0, 32, 1, 1, &out), CTX_IPFRAG_QUEUED);
    size_t used = stats(f).bytes_in_use;
    assert_int_equal(add(f, &o, 0, 32, 1, 2, &out), CTX_IPFRAG_QUEUED);
    assert_int_equal(stats(f).duplicates, 1);
    assert_int_equal(stats(f).bytes_in_use, used);
    assert_int_equal(add(f, &o, 32, 32, 0, 3, &out), CTX_IPFRAG_COMPLETE);
    assert_dgram(&out);
    assert_int_equal(stats(f).overlaps, 0);
    ctx_ipfrag_free(f);
}

/* Each case: fragments a, b of one datagram; b must discard it. */
static void overlaps_discard_the_datagram(void **state) {
    (void)state;
    static const struct {
        size_t a_off, a_len;
        int a_more;
        size_t b_off, b_len;
        int b_more;
    } c[] = {
        {0, 32, 1, 16, 48, 0},  /* b starts inside a (teardrop) */
        {16, 32, 1, 0, 24, 1},  /* b ends inside a */
        {8, 56, 0, 16, 16, 1},  /* b inside a */
        {16, 16, 1, 0, 48, 1},  /* a inside b */
        {32, 32, 0, 40, 24, 0}, /* a second last fragment with another end */
        {32, 32, 0, 64, 8, 1},  /* a fragment past the end */
        {32, 32, 1, 8, 16, 0},  /* a last fragment ending before data already held */
    };
    make_udp_dgram(72); /* 80 bytes */
    for (int v6 = 0; v6 <= 1; v6++) {
        for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
            struct ctx_ipfrag *f = ctx_ipfrag_new(1 << 20, 64, 30000);
            struct ctx_pkt out;
            struct fopt o = {.v6 = v6, .id = 3};
            assert_int_equal(add(f, &o, c[i].a_off, c[i].a_len, c[i].a_more, 1, &out), CTX_IPFRAG_QUEUED);
            if (add(f, &o, c[i].b_off, c[i].b_len, c[i].b_more, 2, &out) != CTX_IPFRAG_EOVERLAP)
                fail_msg("case %zu (v6=%d): overlap not detected", i, v6);
            struct ctx_ipfrag_stats st = stats(f);
            assert_int_equal(st.overlaps, 1);
            assert_int_equal(st.datagrams_in_use, 1); /* kept, empty, until its timeout */
            ASSERT_LT(st.bytes_in_use, 200);
            /* later fragments of it are refused until its timeout */
            assert_int_equal(add(f, &o, 0, 48, 1, 3, &out), CTX_IPFRAG_EDISCARDED);
            assert_int_equal(stats(f).bad, 1);
            assert_int_equal(ctx_ipfrag_expire(f, 30001), 0); /* a discarded one is not "timed out" */
            st = stats(f);
            assert_int_equal(st.datagrams_in_use, 0);
            assert_int_equal(st.bytes_in_use, 0);
            assert_int_equal(st.timed_out, 0);
            /* then the id is free again */
            assert_int_equal(add(f, &o, 0, 48, 1, 30002, &out), CTX_IPFRAG_QUEUED);
            assert_int_equal(add(f, &o, 48, 32, 0, 30003, &out), CTX_IPFRAG_COMPLETE);
            assert_dgram(&out);
            ctx_ipfrag_free(f);
        }
    }
}

static void timeouts(void **state) {
    (void)state;
    struct ctx_ipfrag *f = ctx_ipfrag_new(1 << 20, 64, 1000);
    struct ctx_pkt out;
    make_udp_dgram(56);
    struct fopt o = {.id = 1};
    assert_int_equal(add(f, &o, 0, 32, 1, 5000, &out), CTX_IPFRAG_QUEUED);
    o.id = 2;
    assert_int_equal(add(f, &o, 0, 32, 1, 5500, &out), CTX_IPFRAG_QUEUED);
    assert_int_equal(ctx_ipfrag_expire(f, 5999), 0);
    assert_int_equal(ctx_ipfrag_expire(f, 6000), 1);
    assert_int_equal(stats(f).timed_out, 1);
    assert_int_equal(stats(f).datagrams_in_use, 1);
    assert_int_equal(ctx_ipfrag_expire(f, 4000), 0); /* a clock going back expires nothing */
    /* id 2 expires inside add(); its late last fragment starts a new datagram */
    assert_int_equal(add(f, &o, 32, 32, 0, 6500, &out), CTX_IPFRAG_QUEUED);
    assert_int_equal(stats(f).timed_out, 2);
    assert_int_equal(stats(f).datagrams_in_use, 1);
    assert_int_equal(add(f, &o, 0, 32, 1, 7499, &out), CTX_IPFRAG_COMPLETE);
    assert_dgram(&out);
    assert_int_equal(ctx_ipfrag_expire(NULL, 1), 0);
    ctx_ipfrag_free(f);
}

/* A flood of first fragments that never complete: memory stays within max_bytes,
 * the oldest are evicted, and a datagram whose fragments arrive together still
 * completes in the middle of it. */
static void flood_stays_bounded(void **state) {
    (void)state;
    const size_t max_bytes = 64 * 1024;
    struct ctx_ipfrag *f = ctx_ipfrag_new(max_bytes, 1024, 30000);
    struct ctx_pkt out;
    make_udp_dgram(2000);
    size_t peak = 0, per = 0; /* per: bytes charged for one pending 1480-byte fragment */
    for (uint32_t i = 0; i < 5000; i++) {
        struct fopt o = {.v6 = (int)(i & 1), .id = 10000 + i};
        assert_int_equal(add(f, &o, 0, 1480, 1, i, &out), CTX_IPFRAG_QUEUED);
        struct ctx_ipfrag_stats st = stats(f);
        ASSERT_LE(st.bytes_in_use, max_bytes);
        if (st.bytes_in_use > peak) peak = st.bytes_in_use;
        if (i == 0) per = st.bytes_in_use;
        if (i == 2500) {
            struct fopt good = {.id = 7};
            assert_int_equal(add(f, &good, 1480, 528, 0, i, &out), CTX_IPFRAG_QUEUED);
            assert_int_equal(add(f, &good, 0, 1480, 1, i, &out), CTX_IPFRAG_COMPLETE);
            assert_dgram(&out);
        }
    }
    struct ctx_ipfrag_stats st = stats(f);
    ASSERT_GT(per, 1480);
    ASSERT_LT(per, 1480 + 256);
    ASSERT_GT(peak, max_bytes - per); /* the bound was reached, not avoided */
    assert_int_equal(st.reassembled, 1);
    assert_int_equal(st.evicted + st.datagrams_in_use, 5000);
    assert_int_equal(st.datagrams_in_use, max_bytes / per);
    assert_int_equal(st.bytes_in_use, st.datagrams_in_use * per);
    ctx_ipfrag_free(f);

    /* tiny fragments: the datagram count is the bound */
    f = ctx_ipfrag_new(1 << 20, 16, 30000);
    for (uint32_t i = 0; i < 1000; i++) {
        struct fopt o = {.id = i};
        assert_int_equal(add(f, &o, 0, 8, 1, i, &out), CTX_IPFRAG_QUEUED);
        ASSERT_LE(stats(f).datagrams_in_use, 16);
    }
    assert_int_equal(stats(f).datagrams_in_use, 16);
    assert_int_equal(stats(f).evicted, 1000 - 16);
    ctx_ipfrag_free(f);
}

static int add_in(struct ctx_ipfrag *f, uint32_t scope, const struct fopt *o, size_t off, size_t len, int more,
                  uint64_t now, struct ctx_pkt *out) {
    build_frag(o, off, len, more);
    return add_caplen(f, F.len, scope, now, out);
}

/* Issue 19's scenario in small: scope 1 (VM a) floods first fragments that never
 * complete; with a quota it only ever evicts its own, and scope 2 (VM b) keeps two
 * datagrams pending across the flood and completes both. */
static void quota_keeps_a_flood_to_its_scope(void **state) {
    (void)state;
    struct ctx_ipfrag *f = ctx_ipfrag_new(64 * 1024, 1024, 30000);
    struct ctx_pkt out;
    assert_int_equal(ctx_ipfrag_set_scope_quota(f, 16 * 1024), 0);
    make_udp_dgram(2000);
    struct fopt b1 = {.id = 7}, b2 = {.v6 = 1, .id = 8};
    assert_int_equal(add_in(f, 2, &b1, 0, 1480, 1, 1, &out), CTX_IPFRAG_QUEUED);
    assert_int_equal(add_in(f, 2, &b2, 0, 1480, 1, 1, &out), CTX_IPFRAG_QUEUED);
    for (uint32_t i = 0; i < 3000; i++) {
        struct fopt a = {.id = 100 + i};
        assert_int_equal(add_in(f, 1, &a, 0, 1200, 1, 2, &out), CTX_IPFRAG_QUEUED);
        ASSERT_LE(stats(f).bytes_in_use, 64 * 1024);
    }
    struct ctx_ipfrag_stats st = stats(f);
    assert_int_equal(st.evicted, 0);
    ASSERT_GT(st.evicted_quota, 2900);
    size_t a_pending = st.datagrams_in_use - 2;
    assert_int_equal(st.evicted_quota + a_pending, 3000);
    ASSERT_LE(a_pending * (1200 + 16), 16 * 1024); /* scope 1 held at most its quota */
    assert_int_equal(add_in(f, 2, &b1, 1480, 528, 0, 3, &out), CTX_IPFRAG_COMPLETE);
    assert_dgram(&out);
    assert_int_equal(add_in(f, 2, &b2, 1480, 528, 0, 3, &out), CTX_IPFRAG_COMPLETE);
    assert_dgram(&out);
    ctx_ipfrag_free(f);
}

/* Without a quota, a full table evicts from the scope holding the most: the
 * flooder, not the scope with one pending datagram; by bytes and by count. */
static void full_table_evicts_the_largest_scope(void **state) {
    (void)state;
    struct ctx_pkt out;
    make_udp_dgram(2000);
    for (int by_count = 0; by_count < 2; by_count++) {
        struct ctx_ipfrag *f = by_count ? ctx_ipfrag_new(1 << 20, 16, 30000) : ctx_ipfrag_new(32 * 1024, 1024, 30000);
        struct fopt quiet = {.id = 9};
        assert_int_equal(add_in(f, 2, &quiet, 0, 1480, 1, 1, &out), CTX_IPFRAG_QUEUED);
        for (uint32_t i = 0; i < 500; i++) {
            struct fopt a = {.id = 100 + i};
            assert_int_equal(add_in(f, 1, &a, 0, by_count ? 8 : 1200, 1, 2, &out), CTX_IPFRAG_QUEUED);
        }
        struct ctx_ipfrag_stats st = stats(f);
        ASSERT_GT(st.evicted, 400);
        assert_int_equal(st.evicted_quota, 0);
        assert_int_equal(add_in(f, 2, &quiet, 1480, 528, 0, 3, &out), CTX_IPFRAG_COMPLETE);
        assert_dgram(&out);
        ctx_ipfrag_free(f);
    }
}

/* Each refused fragment is counted under its reason, and in bad. */
static void refusals_by_reason(void **state) {
    (void)state;
    struct ctx_ipfrag *f = ctx_ipfrag_new(8192, 8, 30000);
    struct ctx_pkt out;
    assert_int_equal(ctx_ipfrag_set_scope_quota(f, 4096), 0);
    make_udp_dgram(8000);
    struct fopt o = {.id = 1};
    build_frag(&o, 0, 64, 1);
    assert_int_equal(add_caplen(f, F.len - 1, 0, 1, &out), CTX_IPFRAG_ETRUNC);
    assert_int_equal(add_in(f, 0, &o, 0, 4096, 1, 1, &out), CTX_IPFRAG_ELIMIT); /* over the quota alone */
    o.id = 2;
    assert_int_equal(add_in(f, 0, &o, 0, 64, 1, 1, &out), CTX_IPFRAG_QUEUED);
    assert_int_equal(add_in(f, 0, &o, 32, 64, 1, 1, &out), CTX_IPFRAG_EOVERLAP);
    assert_int_equal(add_in(f, 0, &o, 64, 64, 1, 1, &out), CTX_IPFRAG_EDISCARDED);
    /* a datagram that outgrows its scope's quota is dropped and counted as a quota eviction */
    o.id = 3;
    assert_int_equal(add_in(f, 5, &o, 0, 1480, 1, 1, &out), CTX_IPFRAG_QUEUED);
    assert_int_equal(add_in(f, 5, &o, 1480, 1480, 1, 1, &out), CTX_IPFRAG_QUEUED);
    assert_int_equal(add_in(f, 5, &o, 2960, 1480, 1, 1, &out), CTX_IPFRAG_ELIMIT);
    struct ctx_ipfrag_stats st = stats(f);
    assert_int_equal(st.refused_truncated, 1);
    assert_int_equal(st.refused_too_large, 2);
    assert_int_equal(st.refused_discarded, 1);
    assert_int_equal(st.overlaps, 1);
    assert_int_equal(st.evicted_quota, 1);
    assert_int_equal(st.evicted, 0);
    assert_int_equal(st.bad, 4);
    /* quota bounds */
    assert_int_equal(ctx_ipfrag_set_scope_quota(f, 4095), CTX_EINVAL);
    assert_int_equal(ctx_ipfrag_set_scope_quota(f, 8193), CTX_EINVAL);
    assert_int_equal(ctx_ipfrag_set_scope_quota(NULL, 4096), CTX_EINVAL);
    ctx_ipfrag_expire(f, 1000000);
    assert_int_equal(stats(f).bytes_in_use, 0);
    assert_int_equal(stats(f).datagrams_in_use, 0);
    ctx_ipfrag_free(f);
}

static void too_big_for_the_bound(void **state) {
    (void)state;
    struct ctx_ipfrag *f = ctx_ipfrag_new(4096, 8, 30000);
    struct ctx_pkt out;
    make_udp_dgram(8000);
    struct fopt o = {.id = 1};
    assert_int_equal(add(f, &o, 0, 4096, 1, 1, &out), CTX_IPFRAG_ELIMIT); /* one fragment alone */
    assert_int_equal(stats(f).bad, 1);
    assert_int_equal(stats(f).datagrams_in_use, 0);
    /* a datagram that outgrows the bound is dropped (and the others evicted before it) */
    o.id = 2;
    assert_int_equal(add(f, &o, 0, 1480, 1, 1, &out), CTX_IPFRAG_QUEUED);
    o.id = 3;
    assert_int_equal(add(f, &o, 0, 1480, 1, 1, &out), CTX_IPFRAG_QUEUED);
    assert_int_equal(add(f, &o, 1480, 1480, 1, 1, &out), CTX_IPFRAG_QUEUED);
    assert_int_equal(stats(f).evicted, 1); /* id 2 made room */
    assert_int_equal(add(f, &o, 2960, 1480, 1, 1, &out), CTX_IPFRAG_ELIMIT);
    struct ctx_ipfrag_stats st = stats(f);
    assert_int_equal(st.evicted, 2);
    assert_int_equal(st.datagrams_in_use, 0);
    assert_int_equal(st.bytes_in_use, 0);
    ctx_ipfrag_free(f);
}

static void largest_datagram(void **state) {
    (void)state;
    struct ctx_ipfrag *f = ctx_ipfrag_new(1 << 20, 4, 30000);
    struct ctx_pkt out;
    make_udp_dgram(65515 - 8); /* IPv4's largest UDP datagram */
    struct fopt o = {.id = 65535};
    size_t off = 0;
    int rc = 0;
    while (off < dlen) {
        size_t len = dlen - off > 1480 ? 1480 : dlen - off;
        rc = add(f, &o, off, len, off + len < dlen, 1, &out);
        off += len;
        assert_int_equal(rc, off < dlen ? CTX_IPFRAG_QUEUED : CTX_IPFRAG_COMPLETE);
    }
    assert_dgram(&out);
    assert_int_equal(out.payload_len, 65507);
    ctx_ipfrag_free(f);
}

static void refused_inputs(void **state) {
    (void)state;
    struct ctx_ipfrag *f = ctx_ipfrag_new(1 << 20, 4, 30000);
    struct ctx_pkt p, out;
    make_udp_dgram(56);
    struct fopt o = {.id = 4};
    build_frag(&o, 0, 32, 1);
    assert_int_equal(add_caplen(f, F.len - 1, 0, 1, &out), CTX_IPFRAG_ETRUNC); /* cut by the snap length */
    assert_int_equal(stats(f).bad, 1);
    assert_int_equal(stats(f).datagrams_in_use, 0);
    pb_udp4_frame(&F, "not a fragment");
    assert_int_equal(ctx_pkt_decode(F.b, F.len, F.len, &p), CTX_PKT_OK);
    assert_int_equal(ctx_ipfrag_add(f, &p, 0, 1, &out), CTX_EINVAL);
    assert_int_equal(ctx_ipfrag_add(NULL, &p, 0, 1, &out), CTX_EINVAL);
    assert_int_equal(ctx_ipfrag_add(f, NULL, 0, 1, &out), CTX_EINVAL);
    assert_int_equal(stats(f).fragments, 1);
    /* reassembled, but the UDP length says 200 bytes of 64 */
    D[4] = 0;
    D[5] = 200;
    assert_int_equal(add(f, &o, 0, 32, 1, 1, &out), CTX_IPFRAG_QUEUED);
    assert_int_equal(add(f, &o, 32, 32, 0, 1, &out), CTX_PKT_EUDPLEN);
    assert_int_equal(stats(f).bad, 2);
    assert_int_equal(stats(f).reassembled, 0);
    assert_int_equal(stats(f).datagrams_in_use, 0);
    ctx_ipfrag_free(f);

    assert_null(ctx_ipfrag_new(4095, 4, 1));
    assert_null(ctx_ipfrag_new(4096, 0, 1));
    assert_null(ctx_ipfrag_new(4096, 4, 0));
    ctx_ipfrag_free(NULL);
    struct ctx_ipfrag_stats st;
    memset(&st, 0xff, sizeof st);
    ctx_ipfrag_get_stats(NULL, &st);
    assert_int_equal(st.fragments, 0);
}

static void error_strings(void **state) {
    (void)state;
    assert_string_equal(ctx_ipfrag_strerror(CTX_IPFRAG_QUEUED), "fragment queued");
    assert_string_equal(ctx_ipfrag_strerror(CTX_IPFRAG_COMPLETE), "datagram reassembled");
    assert_string_equal(ctx_ipfrag_strerror(CTX_EINVAL), "invalid argument (not a fragment)");
    assert_string_equal(ctx_ipfrag_strerror(CTX_ENOMEM), "out of memory");
    assert_string_equal(ctx_ipfrag_strerror(CTX_IPFRAG_EOVERLAP),
                        "overlapping or inconsistent fragment: datagram discarded");
    assert_string_equal(ctx_ipfrag_strerror(CTX_IPFRAG_EDISCARDED), "fragment of a discarded datagram");
    assert_string_equal(ctx_ipfrag_strerror(CTX_IPFRAG_ETRUNC), "fragment truncated by the snap length");
    assert_string_equal(ctx_ipfrag_strerror(CTX_IPFRAG_ELIMIT), "datagram exceeds the reassembly memory bound");
    assert_string_equal(ctx_ipfrag_strerror(CTX_PKT_EUDPLEN), "bad udp length");
    assert_string_equal(ctx_ipfrag_strerror(-129), "unknown packet decoder result");
}

static void fuzz_corpus_replay(void **state) {
    (void)state;
    corpus_replay("ipfrag", 6, sizeof F.b, &G);
}

static int rc_by_name(const char *name) {
    static const pcap_replay_rc_t t[] = {
        {"-", 0}, {"FRAGMENT", CTX_PKT_FRAGMENT}, {"EFRAG", CTX_PKT_EFRAG}, {"EUDPLEN", CTX_PKT_EUDPLEN},
        {"QUEUED", CTX_IPFRAG_QUEUED}, {"COMPLETE", CTX_IPFRAG_COMPLETE}, {"EOVERLAP", CTX_IPFRAG_EOVERLAP},
        {"EDISCARDED", CTX_IPFRAG_EDISCARDED}, {"ETRUNC", CTX_IPFRAG_ETRUNC}, {"ELIMIT", CTX_IPFRAG_ELIMIT}};
    return pcap_replay_rc(t, sizeof t / sizeof t[0], name);
}

/* tests/data/pcap/hostile_frag.pcap through decoder and reassembler, the clock
 * taken from the pcap timestamps; .expect: DECODE IPFRAG PAYLOAD_LEN per packet. */
static void hostile_pcap_replay(void **state) {
    (void)state;
    pcap_replay_t r;
    pcap_replay_open(&r, "hostile_frag");
    struct ctx_ipfrag *f = ctx_ipfrag_new(1 << 20, 64, 30000);
    struct pcap_pkthdr *h;
    const u_char *data;
    int complete = 0;
    while (pcap_replay_next(&r, &h, &data)) {
        char drc[32], frc[32], plen[16];
        assert_int_equal(sscanf(r.line, "%31s %31s %15s", drc, frc, plen), 3);
        struct ctx_pkt p, out;
        int rc = ctx_pkt_decode(guardbuf_place(&G, data, h->caplen), h->caplen, h->len, &p);
        if (rc != rc_by_name(drc)) fail_msg("packet %d: decoder says %s (%s)", r.n, ctx_pkt_strerror(rc), r.line);
        if (rc != CTX_PKT_FRAGMENT) continue;
        uint64_t now = (uint64_t)h->ts.tv_sec * 1000 + (uint64_t)h->ts.tv_usec / 1000;
        rc = ctx_ipfrag_add(f, &p, 0, now, &out);
        if (rc != rc_by_name(frc)) fail_msg("packet %d: ipfrag says %s (%s)", r.n, ctx_ipfrag_strerror(rc), r.line);
        if (rc == CTX_IPFRAG_COMPLETE) {
            assert_int_equal(out.payload_len, (size_t)atol(plen));
            assert_memory_equal(out.payload, "<13>reassembled message, forty bytes!!!!", 40);
            complete++;
        }
    }
    ASSERT_GE(pcap_replay_close(&r), 20);
    assert_int_equal(stats(f).reassembled, (uint64_t)complete);
    assert_int_equal(complete, 3);
    ctx_ipfrag_free(f);
}

GUARDBUF_GROUP_FIXTURE(G, PB_CAP)

CTX_TEST_MAIN(guardbuf_setup, guardbuf_teardown,
    cmocka_unit_test(ipv4_in_order),
    cmocka_unit_test(every_order),
    cmocka_unit_test(ipv6_with_options),
    cmocka_unit_test(tcp_and_vlan),
    cmocka_unit_test(scopes_and_vlans_kept_apart),
    cmocka_unit_test(quota_keeps_a_flood_to_its_scope),
    cmocka_unit_test(full_table_evicts_the_largest_scope),
    cmocka_unit_test(refusals_by_reason),
    cmocka_unit_test(duplicates_ignored),
    cmocka_unit_test(overlaps_discard_the_datagram),
    cmocka_unit_test(timeouts),
    cmocka_unit_test(flood_stays_bounded),
    cmocka_unit_test(too_big_for_the_bound),
    cmocka_unit_test(largest_datagram),
    cmocka_unit_test(refused_inputs),
    cmocka_unit_test(error_strings),
    cmocka_unit_test(fuzz_corpus_replay),
    cmocka_unit_test(hostile_pcap_replay))
