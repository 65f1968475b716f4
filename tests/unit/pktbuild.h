/* pktbuild.h: small builders for Ethernet / VLAN / IPv4 / IPv6 / UDP / TCP frames in tests.
 *
 *     struct pb f; pb_reset(&f);
 *     pb_eth(&f, 0x8100); pb_vlan(&f, 100, 0x0800);
 *     size_t ip = pb_ip4(&f, IPPROTO_UDP, 0x1234, 0, NULL, 0);
 *     size_t u = pb_udp(&f, 40000, 514);
 *     pb_str(&f, "<13>hello");
 *     pb_udp_done(&f, u); pb_ip4_done(&f, ip);   // lengths (and IPv4 checksum) last
 *
 * Fixed addresses: MAC 02:00:00:00:00:01 -> 02:00:00:00:00:02, IPv4 192.0.2.10 ->
 * 198.51.100.1, IPv6 2001:db8::10 -> 2001:db8::1, TTL / hop limit 64.
 * Header-only, for tests.
 */
#ifndef CTXLOG_TESTS_PKTBUILD_H
#define CTXLOG_TESTS_PKTBUILD_H

#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define PB_CAP 70000

struct pb {
    uint8_t b[PB_CAP];
    size_t len;
};

static inline void pb_reset(struct pb *p) { p->len = 0; }

static inline void pb_mem(struct pb *p, const void *d, size_t n) {
    if (p->len + n > PB_CAP) abort();
    memcpy(p->b + p->len, d, n);
    p->len += n;
}

static inline void pb_zero(struct pb *p, size_t n) {
    if (p->len + n > PB_CAP) abort();
    memset(p->b + p->len, 0, n);
    p->len += n;
}

static inline void pb_u8(struct pb *p, uint8_t v) { pb_mem(p, &v, 1); }

static inline void pb_u16(struct pb *p, uint16_t v) {
    uint8_t d[2] = {(uint8_t)(v >> 8), (uint8_t)v};
    pb_mem(p, d, 2);
}

static inline void pb_u32(struct pb *p, uint32_t v) {
    pb_u16(p, (uint16_t)(v >> 16));
    pb_u16(p, (uint16_t)v);
}

static inline void pb_set16(struct pb *p, size_t off, uint16_t v) {
    p->b[off] = (uint8_t)(v >> 8);
    p->b[off + 1] = (uint8_t)v;
}

static inline void pb_str(struct pb *p, const char *s) { pb_mem(p, s, strlen(s)); }

/* Ethernet header; type: the ethertype, or the TPID of the first VLAN tag. */
static inline void pb_eth(struct pb *p, uint16_t type) {
    static const uint8_t macs[12] = {2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1};
    pb_mem(p, macs, 12);
    pb_u16(p, type);
}

/* One VLAN tag: TCI (PCP 0, VID vid), then the next ethertype / TPID. */
static inline void pb_vlan(struct pb *p, uint16_t vid, uint16_t next_type) {
    pb_u16(p, vid);
    pb_u16(p, next_type);
}

/* IPv4 header with options (optlen a multiple of 4); frag: the flags+offset field
 * (0x2000 = MF, low 13 bits = offset / 8). Returns its offset for pb_ip4_done(). */
static inline size_t pb_ip4(struct pb *p, uint8_t proto, uint16_t id, uint16_t frag, const uint8_t *opts,
                            size_t optlen) {
    static const uint8_t addrs[8] = {192, 0, 2, 10, 198, 51, 100, 1};
    size_t off = p->len;
    pb_u8(p, (uint8_t)(0x40 | ((20 + optlen) / 4)));
    pb_u8(p, 0);
    pb_u16(p, 0);
    pb_u16(p, id);
    pb_u16(p, frag);
    pb_u8(p, 64);
    pb_u8(p, proto);
    pb_u16(p, 0);
    pb_mem(p, addrs, 8);
    if (optlen > 0) pb_mem(p, opts, optlen);
    return off;
}

/* Total length = everything after the header start; then the header checksum. */
static inline void pb_ip4_done(struct pb *p, size_t off) {
    pb_set16(p, off + 2, (uint16_t)(p->len - off));
    pb_set16(p, off + 10, 0);
    uint32_t sum = 0;
    size_t ihl = (size_t)(p->b[off] & 0x0f) * 4;
    for (size_t i = 0; i < ihl; i += 2) sum += (uint32_t)(p->b[off + i] << 8 | p->b[off + i + 1]);
    while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
    pb_set16(p, off + 10, (uint16_t)~sum);
}

static inline size_t pb_ip6(struct pb *p, uint8_t nh) {
    static const uint8_t src[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 0x10};
    static const uint8_t dst[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 0x01};
    size_t off = p->len;
    pb_u32(p, 0x60000000);
    pb_u16(p, 0);
    pb_u8(p, nh);
    pb_u8(p, 64);
    pb_mem(p, src, 16);
    pb_mem(p, dst, 16);
    return off;
}

static inline void pb_ip6_done(struct pb *p, size_t off) { pb_set16(p, off + 4, (uint16_t)(p->len - off - 40)); }

/* A generic IPv6 extension header (hop-by-hop, routing, destination options):
 * (units + 1) * 8 bytes, padded with zeros (Pad1 options). */
static inline void pb_ext6(struct pb *p, uint8_t nh, uint8_t units) {
    pb_u8(p, nh);
    pb_u8(p, units);
    pb_zero(p, (size_t)(units + 1) * 8 - 2);
}

/* IPv6 fragment header; offset in bytes (multiple of 8). */
static inline void pb_frag6(struct pb *p, uint8_t nh, uint16_t offset, int more, uint32_t id) {
    pb_u8(p, nh);
    pb_u8(p, 0);
    pb_u16(p, (uint16_t)(offset | (more ? 1 : 0)));
    pb_u32(p, id);
}

static inline size_t pb_udp(struct pb *p, uint16_t sport, uint16_t dport) {
    size_t off = p->len;
    pb_u16(p, sport);
    pb_u16(p, dport);
    pb_u32(p, 0);
    return off;
}

static inline void pb_udp_done(struct pb *p, size_t off) { pb_set16(p, off + 4, (uint16_t)(p->len - off)); }

/* TCP header with optwords 32-bit words of options (NOPs). */
static inline size_t pb_tcp(struct pb *p, uint16_t sport, uint16_t dport, uint32_t seq, uint32_t ack,
                            uint8_t flags, size_t optwords) {
    size_t off = p->len;
    pb_u16(p, sport);
    pb_u16(p, dport);
    pb_u32(p, seq);
    pb_u32(p, ack);
    pb_u8(p, (uint8_t)((5 + optwords) << 4));
    pb_u8(p, flags);
    pb_u16(p, 29200);
    pb_u32(p, 0);
    for (size_t i = 0; i < optwords * 4; i++) pb_u8(p, 1);
    return off;
}

/* Complete frames: Ethernet (no tag) / IP / UDP sport 40000 -> dport 514 / payload. */
static inline void pb_udp4_frame(struct pb *p, const char *payload) {
    pb_reset(p);
    pb_eth(p, 0x0800);
    size_t ip = pb_ip4(p, IPPROTO_UDP, 0x1234, 0, NULL, 0);
    size_t u = pb_udp(p, 40000, 514);
    pb_str(p, payload);
    pb_udp_done(p, u);
    pb_ip4_done(p, ip);
}

static inline void pb_udp6_frame(struct pb *p, const char *payload) {
    pb_reset(p);
    pb_eth(p, 0x86dd);
    size_t ip = pb_ip6(p, IPPROTO_UDP);
    size_t u = pb_udp(p, 40000, 514);
    pb_str(p, payload);
    pb_udp_done(p, u);
    pb_ip6_done(p, ip);
}

#endif
