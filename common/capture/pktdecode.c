/* pktdecode.c: Ethernet / VLAN / IPv4 / IPv6 / UDP / TCP decoder for captured frames.
 *
 * Every read is checked against the captured length first; lengths that headers
 * claim are checked against the length on the wire (a claim beyond it is a bad
 * header), and then against the captured length (what is beyond it was cut by the
 * snap length). Nothing is allocated or copied.
 *
 * Concurrency: no state at all; reentrant, any number of threads at once.
 */
#include "pktdecode.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "ctxlog_common.h"

#define ETH_HDR_LEN 14
#define VLAN_TAG_LEN 4
#define IP4_MIN_HDR 20
#define IP6_HDR_LEN 40
#define UDP_HDR_LEN 8
#define TCP_MIN_HDR 20
#define IP_MAX_LEN 65535

static uint16_t be16(const uint8_t *p) { return (uint16_t)((p[0] << 8) | p[1]); }

static uint32_t be32(const uint8_t *p) {
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

static size_t min_sz(size_t a, size_t b) { return a < b ? a : b; }

static int is_vlan_tpid(uint16_t t) { return t == 0x8100 || t == 0x88a8 || t == 0x9100; }

static int is_v6_exthdr(uint8_t nh) {
    return nh == IPPROTO_HOPOPTS || nh == IPPROTO_ROUTING || nh == IPPROTO_FRAGMENT || nh == IPPROTO_AH || nh == IPPROTO_DSTOPTS;
}

/* Ethernet header and VLAN tags; *l3 receives the offset of the IP header. */
static int decode_eth(const uint8_t *f, size_t caplen, struct ctx_pkt *out, size_t *l3) {
    if (caplen < ETH_HDR_LEN) return CTX_PKT_ETRUNC;
    memcpy(out->dst_mac, f, 6);
    memcpy(out->src_mac, f + 6, 6);
    uint16_t type = be16(f + 12);
    size_t off = ETH_HDR_LEN;
    while (is_vlan_tpid(type)) {
        if (out->vlan_count == CTX_PKT_MAX_VLANS) return CTX_PKT_EVLAN;
        if (caplen - off < VLAN_TAG_LEN) return CTX_PKT_ETRUNC;
        out->vlan_tpid[out->vlan_count] = type;
        out->vlan_id[out->vlan_count] = be16(f + off) & 0x0fff;
        out->vlan_count++;
        type = be16(f + off + 2);
        off += VLAN_TAG_LEN;
    }
    out->ethertype = type;
    if (type != 0x0800 && type != 0x86dd) return CTX_PKT_EETHERTYPE;
    *l3 = off;
    return CTX_PKT_OK;
}

static int decode_udp(const uint8_t *p, size_t cap, size_t wire, struct ctx_pkt *out) {
    out->proto = IPPROTO_UDP;
    if (wire < UDP_HDR_LEN) return CTX_PKT_EUDPLEN;
    if (cap < UDP_HDR_LEN) return CTX_PKT_ETRUNC;
    out->sport = be16(p);
    out->dport = be16(p + 2);
    out->udp_len = be16(p + 4);
    if (out->udp_len < UDP_HDR_LEN || out->udp_len > wire) return CTX_PKT_EUDPLEN;
    out->payload = p + UDP_HDR_LEN;
    out->payload_wire_len = out->udp_len - UDP_HDR_LEN;
    out->payload_len = min_sz(cap, out->udp_len) - UDP_HDR_LEN;
    out->truncated = out->payload_len < out->payload_wire_len;
    return CTX_PKT_OK;
}

static int decode_tcp(const uint8_t *p, size_t cap, size_t wire, struct ctx_pkt *out) {
    out->proto = IPPROTO_TCP;
    if (wire < TCP_MIN_HDR) return CTX_PKT_ETCPHDR;
    if (cap < TCP_MIN_HDR) return CTX_PKT_ETRUNC;
    out->sport = be16(p);
    out->dport = be16(p + 2);
    out->tcp.seq = be32(p + 4);
    out->tcp.ack = be32(p + 8);
    out->tcp.hdr_len = (uint8_t)((p[12] >> 4) * 4);
    out->tcp.flags = p[13] & 0x3f;
    out->tcp.window = be16(p + 14);
    if (out->tcp.hdr_len < TCP_MIN_HDR || out->tcp.hdr_len > wire) return CTX_PKT_ETCPHDR;
    if (out->tcp.hdr_len > cap) return CTX_PKT_ETRUNC;
    out->payload = p + out->tcp.hdr_len;
    out->payload_wire_len = wire - out->tcp.hdr_len;
    out->payload_len = cap - out->tcp.hdr_len;
    out->truncated = out->payload_len < out->payload_wire_len;
    return CTX_PKT_OK;
}

static int decode_transport(uint8_t next, const uint8_t *p, size_t cap, size_t wire, struct ctx_pkt *out) {
    if (next == IPPROTO_UDP) return decode_udp(p, cap, wire, out);
    if (next == IPPROTO_TCP) return decode_tcp(p, cap, wire, out);
    out->proto = next;
    return CTX_PKT_ENOTL4;
}

/* IPv4 options: EOL ends the list, NOP is one byte, any other option has a length
 * byte >= 2 that must stay inside the header. */
static int ipv4_options_ok(const uint8_t *o, size_t len) {
    size_t i = 0;
    while (i < len) {
        if (o[i] == 0) return 1;
        if (o[i] == 1) {
            i++;
            continue;
        }
        if (len - i < 2 || o[i + 1] < 2 || o[i + 1] > len - i) return 0;
        i += o[i + 1];
    }
    return 1;
}

/* Checks common to IPv4 and IPv6 fragments; fills out->frag. data: fragment data,
 * cap / wire: its captured and claimed lengths; extra: header bytes that count
 * against the 65535 limit of the reassembled packet (IPv4: the IP header; IPv6: the
 * extension headers before the fragment header, RFC 8200 4.5). */
static int set_fragment(struct ctx_pkt *out, const uint8_t *data, size_t cap, size_t wire, size_t extra) {
    struct ctx_pkt_frag *fr = &out->frag;
    fr->is_fragment = 1;
    fr->data = data;
    fr->data_len = cap;
    fr->data_wire_len = wire;
    fr->truncated = cap < wire;
    out->proto = fr->next;
    if (fr->offset + wire + extra > IP_MAX_LEN) return CTX_PKT_EFRAG;
    if (wire == 0 || (fr->more && wire % 8 != 0)) return CTX_PKT_EFRAG;
    return CTX_PKT_FRAGMENT;
}

static void v4_mapped(struct in6_addr *a, const uint8_t *v4) {
    memset(a, 0, sizeof *a);
    a->s6_addr[10] = 0xff;
    a->s6_addr[11] = 0xff;
    memcpy(&a->s6_addr[12], v4, 4);
}

static int decode_ipv4(const uint8_t *p, size_t avail, size_t wire_avail, struct ctx_pkt *out) {
    if (avail < IP4_MIN_HDR) return CTX_PKT_ETRUNC;
    if (p[0] >> 4 != 4) return CTX_PKT_EIPVER;
    out->ip_version = 4;
    size_t ihl = (size_t)(p[0] & 0x0f) * 4;
    size_t total = be16(p + 2);
    if (ihl < IP4_MIN_HDR || total < ihl) return CTX_PKT_EIPHDRLEN;
    if (total > wire_avail) return CTX_PKT_EIPLEN;
    if (ihl > avail) return CTX_PKT_ETRUNC;
    out->ip_hdr_len = (uint8_t)ihl;
    out->ttl = p[8];
    v4_mapped(&out->src, p + 12);
    v4_mapped(&out->dst, p + 16);
    if (!ipv4_options_ok(p + IP4_MIN_HDR, ihl - IP4_MIN_HDR)) return CTX_PKT_EIPOPT;
    size_t cap = min_sz(avail, total) - ihl;
    size_t wire = total - ihl;
    uint16_t fo = be16(p + 6);
    out->proto = p[9];
    if ((fo & 0x3fff) != 0) {
        out->frag.next = p[9];
        out->frag.id = be16(p + 4);
        out->frag.more = (fo & 0x2000) != 0;
        out->frag.offset = (uint32_t)(fo & 0x1fff) * 8;
        int rc = set_fragment(out, p + ihl, cap, wire, ihl);
        if (rc == CTX_PKT_FRAGMENT && p[9] != IPPROTO_UDP && p[9] != IPPROTO_TCP) return CTX_PKT_ENOTL4;
        return rc;
    }
    return decode_transport(p[9], p + ihl, cap, wire, out);
}

/* Length of the extension header at h (2 bytes readable), by its type. */
static size_t v6_exthdr_len(uint8_t nh, const uint8_t *h) {
    if (nh == IPPROTO_FRAGMENT) return 8;
    if (nh == IPPROTO_AH) return ((size_t)h[1] + 2) * 4;
    return ((size_t)h[1] + 1) * 8;
}

/* Walk IPv6 extension headers in p[*pos..]: cap bytes captured, wire bytes claimed.
 * Stops at a transport header or at a fragment header (*nh == 44, *pos at it).
 * Hop-by-hop is allowed only as the first header of the packet. */
static int v6_walk(const uint8_t *p, size_t cap, size_t wire, size_t *pos, uint8_t *nh, struct ctx_pkt *out) {
    while (is_v6_exthdr(*nh)) {
        if (out->exthdr_count == CTX_PKT_MAX_EXTHDRS) return CTX_PKT_EEXTCHAIN;
        if (*nh == IPPROTO_HOPOPTS && out->exthdr_count != 0) return CTX_PKT_EEXTHDR;
        if (wire - *pos < 2) return CTX_PKT_EEXTHDR;
        if (cap - *pos < 2) return CTX_PKT_ETRUNC;
        size_t len = v6_exthdr_len(*nh, p + *pos);
        if (wire - *pos < len) return CTX_PKT_EEXTHDR;
        if (cap - *pos < len) return CTX_PKT_ETRUNC;
        if (*nh == IPPROTO_FRAGMENT) return CTX_PKT_OK;
        out->exthdr_count++;
        *nh = p[*pos];
        *pos += len;
    }
    return CTX_PKT_OK;
}

/* The fragment header at p + pos (8 bytes readable). Returns CTX_PKT_FRAGMENT, or
 * CTX_PKT_OK for an atomic fragment (then *pos and *nh move past it). */
static int v6_fragment(const uint8_t *p, size_t cap, size_t wire, size_t *pos, uint8_t *nh, struct ctx_pkt *out) {
    const uint8_t *h = p + *pos;
    uint16_t fo = be16(h + 2);
    out->exthdr_count++;
    *nh = h[0];
    *pos += 8;
    if ((fo & 0xfff9) == 0) return CTX_PKT_OK; /* offset 0, M=0: RFC 6946 atomic fragment */
    out->frag.next = h[0];
    out->frag.id = be32(h + 4);
    out->frag.more = fo & 1;
    out->frag.offset = fo & 0xfff8;
    int rc = set_fragment(out, p + *pos, cap - *pos, wire - *pos, *pos - 8 - IP6_HDR_LEN);
    if (rc == CTX_PKT_FRAGMENT && h[0] != IPPROTO_UDP && h[0] != IPPROTO_TCP && h[0] != IPPROTO_DSTOPTS && h[0] != IPPROTO_ROUTING &&
        h[0] != IPPROTO_AH)
        return CTX_PKT_ENOTL4;
    return rc;
}

static int decode_ipv6(const uint8_t *p, size_t avail, size_t wire_avail, struct ctx_pkt *out) {
    if (avail < IP6_HDR_LEN) return CTX_PKT_ETRUNC;
    if (p[0] >> 4 != 6) return CTX_PKT_EIPVER;
    out->ip_version = 6;
    out->ip_hdr_len = IP6_HDR_LEN;
    size_t wire = IP6_HDR_LEN + (size_t)be16(p + 4);
    if (wire > wire_avail) return CTX_PKT_EIPLEN;
    size_t cap = min_sz(avail, wire);
    out->ttl = p[7];
    memcpy(&out->src, p + 8, 16);
    memcpy(&out->dst, p + 24, 16);
    uint8_t nh = p[6];
    size_t pos = IP6_HDR_LEN;
    for (;;) {
        out->proto = nh;
        int rc = v6_walk(p, cap, wire, &pos, &nh, out);
        if (rc < 0) return rc;
        if (nh != IPPROTO_FRAGMENT) break;
        rc = v6_fragment(p, cap, wire, &pos, &nh, out);
        if (rc != CTX_PKT_OK) return rc;
    }
    return decode_transport(nh, p + pos, cap - pos, wire - pos, out);
}

int ctx_pkt_decode(const uint8_t *frame, size_t caplen, size_t wirelen, struct ctx_pkt *out) {
    if (out == NULL) return CTX_PKT_EINVAL;
    memset(out, 0, sizeof *out);
    if (frame == NULL) return CTX_PKT_EINVAL;
    if (wirelen < caplen) wirelen = caplen;
    size_t l3 = 0;
    int rc = decode_eth(frame, caplen, out, &l3);
    if (rc < 0) return rc;
    out->l3_offset = l3;
    if (out->ethertype == 0x0800) return decode_ipv4(frame + l3, caplen - l3, wirelen - l3, out);
    return decode_ipv6(frame + l3, caplen - l3, wirelen - l3, out);
}

int ctx_pkt_decode_l4(uint8_t next, const uint8_t *data, size_t len, size_t wire_len, struct ctx_pkt *out) {
    if (out == NULL || (data == NULL && len > 0)) return CTX_PKT_EINVAL;
    out->payload = NULL;
    out->payload_len = out->payload_wire_len = 0;
    out->truncated = 0;
    if (len > wire_len) len = wire_len;
    size_t pos = 0;
    if (out->ip_version == 6) {
        int rc = v6_walk(data, len, wire_len, &pos, &next, out);
        if (rc < 0) return rc;
        if (next == IPPROTO_FRAGMENT) return CTX_PKT_EEXTHDR;
    }
    return decode_transport(next, data + pos, len - pos, wire_len - pos, out);
}

const char *ctx_pkt_strerror(int rc) {
    switch (rc) {
        case CTX_PKT_OK: return "ok";
        case CTX_PKT_FRAGMENT: return "ip fragment (needs reassembly)";
        case CTX_PKT_EINVAL: return "invalid argument";
        case CTX_PKT_ETRUNC: return "headers truncated by the captured length";
        case CTX_PKT_EETHERTYPE: return "unsupported ethertype (not ipv4/ipv6)";
        case CTX_PKT_EVLAN: return "more than 2 vlan tags";
        case CTX_PKT_EIPVER: return "ip version does not match the ethertype";
        case CTX_PKT_EIPHDRLEN: return "bad ipv4 header length";
        case CTX_PKT_EIPLEN: return "ip length exceeds the frame";
        case CTX_PKT_EIPOPT: return "malformed ipv4 options";
        case CTX_PKT_EEXTHDR: return "malformed ipv6 extension header";
        case CTX_PKT_EEXTCHAIN: return "too many ipv6 extension headers";
        case CTX_PKT_ENOTL4: return "not udp or tcp";
        case CTX_PKT_EUDPLEN: return "bad udp length";
        case CTX_PKT_ETCPHDR: return "bad tcp header length";
        case CTX_PKT_EFRAG: return "bad ip fragment offset or length";
        default: return "unknown packet decoder result";
    }
}

int ctx_pkt_is_malformed(int rc) {
    return rc < CTX_PKT_EINVAL && rc >= CTX_PKT_RC_MIN && rc != CTX_PKT_EETHERTYPE && rc != CTX_PKT_ENOTL4;
}

int ctx_pkt_addr_ntop(int ip_version, const struct in6_addr *addr, char *buf, size_t buflen) {
    if (buf == NULL || buflen == 0) return CTX_EINVAL;
    buf[0] = '\0';
    if (addr == NULL || (ip_version != 4 && ip_version != 6)) return CTX_EINVAL;
    const void *src = ip_version == 4 ? (const void *)&addr->s6_addr[12] : (const void *)addr;
    if (inet_ntop(ip_version == 4 ? AF_INET : AF_INET6, src, buf, (socklen_t)min_sz(buflen, 1024)) == NULL) {
        buf[0] = '\0';
        return CTX_EINVAL;
    }
    return (int)strlen(buf);
}

int ctx_pkt_mac_ntop(const uint8_t mac[6], char *buf, size_t buflen) {
    if (buf == NULL || buflen == 0) return CTX_EINVAL;
    buf[0] = '\0';
    if (mac == NULL || buflen < CTX_PKT_MACSTRLEN) return CTX_EINVAL;
    return snprintf(buf, buflen, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
}
