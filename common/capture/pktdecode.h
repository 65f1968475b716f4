/* pktdecode.h: decoder for captured Ethernet frames (DLT_EN10MB) down to UDP / TCP.
 *
 * Ethernet, up to two 802.1Q / 802.1ad VLAN tags, IPv4 (with options) or IPv6
 * (with extension headers), then UDP or TCP. The decoder reads only the first
 * caplen bytes of the frame, never allocates, never copies the payload: every
 * pointer it returns points into the caller's frame, and stays valid as long as
 * the frame does. It keeps no state: any number of threads may decode at once,
 * each into its own struct ctx_pkt.
 *
 * Checksums are not verified: on a host vNIC, a guest's UDP/TCP checksum is often
 * left for offload (CHECKSUM_PARTIAL) and the captured copy carries a partial sum.
 */
#ifndef CTXLOG_PKTDECODE_H
#define CTXLOG_PKTDECODE_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

/* Result codes of ctx_pkt_decode() and ctx_pkt_decode_l4(). Non-negative: success.
 * Negative: the packet is not decoded; the code says why. They do not collide
 * with the CTX_E* codes of ctxlog_common.h (-1..-99). */
enum ctx_pkt_rc {
    CTX_PKT_OK = 0,              /* UDP or TCP packet decoded; payload set */
    CTX_PKT_FRAGMENT = 1,        /* an IP fragment: frag set, hand it to ipfrag; no L4 fields */
    CTX_PKT_EINVAL = -100,       /* NULL argument */
    CTX_PKT_ETRUNC = -101,       /* headers cut short by the captured length */
    CTX_PKT_EETHERTYPE = -102,   /* not IPv4 / IPv6 (ARP, LLDP, 802.3 length field, ...) */
    CTX_PKT_EVLAN = -103,        /* more than 2 VLAN tags */
    CTX_PKT_EIPVER = -104,       /* IP version field does not match the ethertype */
    CTX_PKT_EIPHDRLEN = -105,    /* IPv4 IHL below 5 or beyond the total length */
    CTX_PKT_EIPLEN = -106,       /* IP total / payload length longer than the frame on the wire */
    CTX_PKT_EIPOPT = -107,       /* malformed IPv4 option list */
    CTX_PKT_EEXTHDR = -108,      /* malformed IPv6 extension header (length, hop-by-hop not first, ...) */
    CTX_PKT_EEXTCHAIN = -109,    /* more than CTX_PKT_MAX_EXTHDRS IPv6 extension headers */
    CTX_PKT_ENOTL4 = -110,       /* transport is neither UDP nor TCP (ICMP, ESP, no next header, ...) */
    CTX_PKT_EUDPLEN = -111,      /* UDP length below 8 or beyond the IP payload */
    CTX_PKT_ETCPHDR = -112,      /* TCP data offset below 5 or beyond the IP payload */
    CTX_PKT_EFRAG = -113,        /* bad fragment: empty, ends past 65535, or non-last and not a multiple of 8 */
};
#define CTX_PKT_RC_MIN CTX_PKT_EFRAG /* lowest decoder code, for counter arrays */

#define CTX_PKT_MAX_VLANS 2
#define CTX_PKT_MAX_EXTHDRS 8 /* IPv6 extension headers walked before CTX_PKT_EEXTCHAIN */

#define CTX_PKT_TCP_FIN 0x01
#define CTX_PKT_TCP_SYN 0x02
#define CTX_PKT_TCP_RST 0x04
#define CTX_PKT_TCP_PSH 0x08
#define CTX_PKT_TCP_ACK 0x10
#define CTX_PKT_TCP_URG 0x20

/* Fragment information. Set when ctx_pkt_decode() returns CTX_PKT_FRAGMENT.
 * An IPv6 "atomic fragment" (offset 0, M=0, RFC 6946) is not a fragment: it is
 * decoded like any packet, with frag.is_fragment == 0. */
struct ctx_pkt_frag {
    uint8_t is_fragment;       /* 1 when this packet is one fragment of a larger datagram */
    uint8_t more;              /* MF (IPv4) / M (IPv6) flag: more fragments follow */
    uint8_t truncated;         /* captured data shorter than data_wire_len (snap length) */
    uint8_t reassembled;       /* set by ctx_ipfrag_add() on the datagram it returns */
    uint8_t next;              /* IPv4 protocol / IPv6 next header of the fragmentable part */
    uint32_t id;               /* identification: IPv4 16 bits, IPv6 32 bits */
    uint32_t offset;           /* offset of this fragment's data in the datagram, in bytes */
    const uint8_t *data;       /* this fragment's data, into the frame (borrowed) */
    size_t data_len;           /* captured bytes at data */
    size_t data_wire_len;      /* length of the fragment data according to the IP header */
};

/* One decoded packet. All multi-byte numbers are in host byte order.
 * Invariant after CTX_PKT_OK: payload .. payload + payload_len lies inside the
 * captured frame (or, after reassembly, inside the ipfrag object's buffer) and
 * payload_len <= payload_wire_len; truncated == (payload_len < payload_wire_len). */
struct ctx_pkt {
    uint8_t dst_mac[6];        /* Ethernet destination */
    uint8_t src_mac[6];        /* Ethernet source */
    uint16_t ethertype;        /* ethertype after the VLAN tags: 0x0800 or 0x86dd */
    uint8_t vlan_count;        /* VLAN tags seen: 0, 1 or 2 */
    uint16_t vlan_id[CTX_PKT_MAX_VLANS]; /* 12-bit VLAN ids, [0] the outer tag; 0 when absent */
    uint16_t vlan_tpid[CTX_PKT_MAX_VLANS]; /* 0x8100, 0x88a8 or 0x9100 */
    uint8_t ip_version;        /* 4 or 6 */
    uint8_t ttl;               /* IPv4 TTL / IPv6 hop limit */
    uint8_t ip_hdr_len;        /* IPv4: IHL * 4 (20..60); IPv6: 40 */
    uint8_t exthdr_count;      /* IPv6 extension headers walked (fragment header included) */
    struct in6_addr src;       /* IPv6 address, or IPv4 as ::ffff:a.b.c.d */
    struct in6_addr dst;       /* idem */
    size_t l3_offset;          /* offset of the IP header in the frame */
    uint8_t proto;             /* transport: IPPROTO_UDP or IPPROTO_TCP; for a fragment: frag.next */
    uint16_t sport;            /* transport source port */
    uint16_t dport;            /* transport destination port */
    uint16_t udp_len;          /* UDP length field (header included) */
    struct {
        uint32_t seq, ack;     /* sequence and acknowledgement numbers */
        uint16_t window;       /* window (not scaled) */
        uint8_t flags;         /* CTX_PKT_TCP_* */
        uint8_t hdr_len;       /* data offset * 4 (20..60) */
    } tcp;                     /* set only when proto == IPPROTO_TCP */
    const uint8_t *payload;    /* transport payload, into the frame (borrowed); NULL for fragments */
    size_t payload_len;        /* captured payload bytes at payload */
    size_t payload_wire_len;   /* payload length according to the UDP / IP headers */
    uint8_t truncated;         /* 1 when the snap length cut the payload */
    struct ctx_pkt_frag frag;  /* fragment information */
};

/* Decode one Ethernet frame. frame: caplen captured bytes (borrowed; only these are
 * read); wirelen: the frame's length on the wire (pcap's len; a value below caplen
 * is taken as caplen). *out is overwritten in every case (zeroed, then filled as far
 * as decoding got, so e.g. MACs and addresses of a CTX_PKT_ENOTL4 packet are set).
 * Returns CTX_PKT_OK (UDP/TCP: ports, payload), CTX_PKT_FRAGMENT (IP fragment:
 * addresses and frag set; payload NULL), or a negative CTX_PKT_E* code.
 * Never allocates; reentrant; thread-safe. */
int ctx_pkt_decode(const uint8_t *frame, size_t caplen, size_t wirelen, struct ctx_pkt *out);

/* Decode the transport part that starts at data, with next header `next`, into
 * out's L4 fields (proto, ports, tcp, payload, truncated). For IPv6 (out->ip_version
 * == 6) destination-options and routing headers before the transport are walked;
 * a fragment header there is CTX_PKT_EEXTHDR. len: bytes available at data;
 * wire_len: bytes the IP header says there are (>= len). Used by ctx_pkt_decode()
 * and by ipfrag on a reassembled datagram. Returns CTX_PKT_OK or a negative code. */
int ctx_pkt_decode_l4(uint8_t next, const uint8_t *data, size_t len, size_t wire_len, struct ctx_pkt *out);

/* A static, one-line, lowercase description of a CTX_PKT_* code (also of any other
 * int: "unknown packet decoder result"). Never NULL. */
const char *ctx_pkt_strerror(int rc);

/* 1 when rc says the packet is malformed or cut short (counted as "malformed"),
 * 0 for success codes and for well-formed packets that are simply not decoded
 * here (CTX_PKT_EETHERTYPE, CTX_PKT_ENOTL4, CTX_PKT_EINVAL). */
int ctx_pkt_is_malformed(int rc);

#define CTX_PKT_ADDRSTRLEN 46 /* INET6_ADDRSTRLEN */
#define CTX_PKT_MACSTRLEN 18  /* "aa:bb:cc:dd:ee:ff" + NUL */

/* Print an address of a decoded packet: dotted quad when ip_version == 4 (from the
 * ::ffff:a.b.c.d form), RFC 5952 text when 6. buflen >= CTX_PKT_ADDRSTRLEN is
 * always enough. Returns the length written, or CTX_EINVAL (buf then "" if buflen > 0). */
int ctx_pkt_addr_ntop(int ip_version, const struct in6_addr *addr, char *buf, size_t buflen);

/* Print a MAC address as lowercase "aa:bb:cc:dd:ee:ff". Returns 17 or CTX_EINVAL. */
int ctx_pkt_mac_ntop(const uint8_t mac[6], char *buf, size_t buflen);

#endif
