/* tcpreasm.h: passive per-flow TCP reassembly of the client-to-server direction,
 * feeding each flow's byte stream to the syslog framer (sysframe.h).
 *
 * Input: packets decoded by ctx_pkt_decode() (or reassembled by ipfrag) whose
 * transport is TCP, in capture order. Output: one callback per syslog frame,
 * with the flow it came from. The reassembler only watches: it cannot ask for a
 * retransmission, so what the capture missed is a gap.
 *
 * Policy (docs/imctxcap.md, "TCP capture"):
 * - A flow is (interface, VLAN ids, IP version, source, destination, ports). It is
 *   opened by a SYN, or, for a connection that was open before the capture
 *   started, by its first segment with data ("picked up"; the framer then
 *   resynchronises at the next recognisable frame).
 * - Sequence numbers are compared modulo 2^32 (wrap-safe). Bytes already passed
 *   to the framer or already held are never replaced: for retransmissions and
 *   overlaps, the first copy captured wins.
 * - Segments ahead of the next expected byte are held, at most window bytes
 *   ahead, at most flow_max_bytes per flow (held data + partial frame) and at most
 *   512 pieces per flow (so placing a segment walks at most 512 pieces, whatever a
 *   guest sends; a hole given up for this is counted in gaps_piecelimit). A hole
 *   becomes a gap (the bytes are counted as lost and the framer is told, so no
 *   two messages are ever spliced) when it has been open for gap_timeout_ms, when
 *   holding more would pass a bound, when a segment lies beyond the window, or
 *   when the flow ends. Payload cut by the snap length is a gap too.
 * - FIN: the flow ends cleanly when every byte up to the FIN has been framed; RST
 *   ends it at once. An ended flow is remembered for linger_ms, so that
 *   retransmissions and stray ACKs after it create nothing; a new SYN reuses it.
 * - A flow without data (only a SYN so far) ends after embryonic_timeout_ms, any
 *   other after idle_timeout_ms without packets; what it holds is flushed (holes
 *   become gaps, complete frames are emitted).
 * - Memory: buffers (held segments, partial frames) and flow records together stay
 *   within max_bytes, and at most max_flows flows exist. Each flow belongs to the
 *   interface (key.ifname) it was seen on. To make room, the interface that holds
 *   the most (flows when max_flows is reached, bytes when max_bytes is) gives up its
 *   oldest flow: ended ones first, then flows without data (a SYN flood displaces
 *   SYN-only flows, not the ones carrying logs), then the least recently active. So
 *   one VM's flood evicts its own flows, never a flow of a VM holding less. An
 *   evicted flow's held data is dropped (counted), its partial frame goes by gap_emit.
 * - Identity: cfg.flow_open is asked once per connection, at its first segment,
 *   for a tag (e.g. who sent it); every frame of the connection carries that tag,
 *   even one emitted later by a timeout, eviction or ctx_tcpreasm_end_interface(). Besides that bound there are the hash table (8 bytes per
 *   max_flows rounded up to a power of two) and the object itself.
 * - Per packet, nothing is allocated once the pool is warm: flow records, held
 *   segments and partial frames all come from the pool's size-class free lists
 *   (so evicting a flow also gives its record's memory back).
 *
 * Concurrency: not thread-safe. One object per capture thread; every call on it
 * from that thread, except ctx_tcpreasm_get_stats() (any thread). The frame
 * callback runs on the calling thread, inside ctx_tcpreasm_packet() /
 * ctx_tcpreasm_expire() / ctx_tcpreasm_flush(), and must not call the reassembler.
 */
#ifndef CTXLOG_TCPREASM_H
#define CTXLOG_TCPREASM_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/time.h>

#include "pktdecode.h"
#include "sysframe.h"

#define CTX_TCP_IFNAMSIZ 16

/* The identity of a flow (client to server). */
struct ctx_tcp_flow_key {
    char ifname[CTX_TCP_IFNAMSIZ];        /* capture interface, NUL-terminated (cut at 15 bytes) */
    struct in6_addr src;                  /* client; IPv4 as ::ffff:a.b.c.d, as in struct ctx_pkt */
    struct in6_addr dst;                  /* server */
    uint16_t sport, dport;
    uint16_t vlan_id[CTX_PKT_MAX_VLANS];  /* 0 when absent */
    uint8_t vlan_count;
    uint8_t ip_version;                   /* 4 or 6 */
    uint8_t pad[2];                       /* zero */
};

/* What the frame callback learns about the flow. Borrowed: valid during the call. */
struct ctx_tcp_flow_info {
    const struct ctx_tcp_flow_key *key;
    const uint8_t *src_mac;               /* 6 bytes, of the flow's latest packet */
    const uint8_t *dst_mac;
    struct timeval ts;                    /* capture time of the packet that completed the frame (for frames
                                             emitted by a timeout or eviction: of the flow's latest packet) */
    uint8_t picked_up;                    /* the flow was open before the capture saw its SYN */
    void *tag;                            /* cfg.flow_open's answer for this connection (or NULL) */
};

typedef void (*ctx_tcpreasm_frame_fn)(void *ud, const struct ctx_tcp_flow_info *flow,
                                      const struct ctx_sysframe_frame *frame);
/* A connection starts (its first segment, borrowed, as given to ctx_tcpreasm_packet()):
 * returns its tag, kept until flow_release. Must not call the reassembler. */
typedef void *(*ctx_tcpreasm_open_fn)(void *ud, const struct ctx_tcp_flow_key *key, const struct ctx_pkt *first);
/* The connection's record is forgotten or reused for a new connection: the tag goes back. */
typedef void (*ctx_tcpreasm_release_fn)(void *ud, void *tag);

struct ctx_tcpreasm_cfg {
    size_t max_bytes;              /* global bound: buffers + flow records (>= 1 MiB) */
    size_t flow_max_bytes;         /* per flow: held segments + partial frame (>= 2 * max_frame + 64 KiB) */
    size_t max_flows;              /* 1 .. 2^24 */
    uint32_t window;               /* how far past the next expected byte data is held (64 KiB .. 1 GiB) */
    uint32_t gap_timeout_ms;       /* a hole older than this is a gap (>= 1) */
    uint32_t idle_timeout_ms;      /* flows with data (>= 1) */
    uint32_t embryonic_timeout_ms; /* flows without data yet (>= 1) */
    uint32_t linger_ms;            /* ended flows remembered (>= 1) */
    size_t max_frame;              /* framer: rsyslog's maxMessageSize */
    size_t max_octet_count;        /* framer: largest octet count (0: max(200000, max_frame)) */
    int nul_delimiter;             /* framer: NUL ends non-transparent frames too */
    int gap_emit;                  /* framer: frames cut by a gap are emitted partial (1) or dropped (0) */
    ctx_tcpreasm_frame_fn on_frame;
    ctx_tcpreasm_open_fn flow_open;       /* may be NULL: tags are NULL */
    ctx_tcpreasm_release_fn flow_release; /* may be NULL */
    void *ud;                             /* for the three callbacks */
};

/* Counters since ctx_tcpreasm_new(). */
struct ctx_tcpreasm_stats {
    uint64_t segments;          /* TCP segments offered */
    uint64_t flows_opened;      /* flows created (by a SYN, or picked up) */
    uint64_t flows_picked_up;   /* of these, joined in the middle */
    uint64_t flows_closed;      /* ended by FIN or RST */
    uint64_t flows_timed_out;   /* ended by the idle / embryonic timeout */
    uint64_t flows_evicted;     /* ended to stay within max_flows / max_bytes (ended flows not counted) */
    uint64_t gaps;              /* holes given up on */
    uint64_t bytes_lost;        /* stream bytes never captured (gaps, snap length) */
    uint64_t bytes_dropped;     /* captured bytes thrown away: held data of evicted flows, data after a RST */
    uint64_t bytes_dup;         /* retransmitted or overlapping bytes ignored (first copy wins) */
    uint64_t segments_ooo;      /* segments held out of order */
    uint64_t segments_ignored;  /* no flow and neither SYN nor data; or for an ended flow */
    uint64_t gaps_piecelimit;   /* of gaps: holes given up because the flow held 512 pieces */
    size_t bytes_in_use;        /* now: buffers and flow records in use */
    size_t bytes_allocated;     /* now: the same plus cached free buffers (<= max_bytes) */
    size_t flows_in_use;        /* now (ended flows still remembered included) */
    struct ctx_sysframe_stats frames;
};

typedef struct ctx_tcpreasm ctx_tcpreasm_t;

/* Fill *cfg with the defaults: max_bytes 32 MiB, flow_max_bytes 1 MiB, max_flows
 * 16384, window 4 MiB, gap_timeout 1 s, idle_timeout 10 min, embryonic_timeout
 * 30 s, linger 10 s, max_frame 8096, max_octet_count 200000, no NUL delimiter,
 * gap_emit 0; on_frame / ud NULL. */
void ctx_tcpreasm_cfg_defaults(struct ctx_tcpreasm_cfg *cfg);

/* The smallest flow_max_bytes allowed with this max_frame: room for one partial
 * frame (its buffer class) plus 128 KiB of held segments. */
size_t ctx_tcpreasm_min_flow_bytes(size_t max_frame);

/* Create a reassembler. cfg is copied; on_frame is required. Returns 0, CTX_ENOMEM,
 * or CTX_EINVAL with err saying which field is out of range and what was expected.
 * *out is owned by the caller: ctx_tcpreasm_free() it. */
int ctx_tcpreasm_new(const struct ctx_tcpreasm_cfg *cfg, ctx_tcpreasm_t **out, char *err, size_t errlen);

/* Free everything without emitting anything (call ctx_tcpreasm_flush() first to
 * emit what can be). NULL is a no-op. */
void ctx_tcpreasm_free(ctx_tcpreasm_t *r);

/* Process one segment. pkt: decoded TCP packet (borrowed; proto must be IPPROTO_TCP); the
 * caller has already chosen the direction (destination port = a syslog port).
 * ifname: capture interface (borrowed); ts: capture time (borrowed); now_ms: a
 * monotonic clock in milliseconds (also drives the timeouts: expiry runs here at
 * most every 100 ms). Returns 0, or CTX_EINVAL (NULL argument, not TCP). */
int ctx_tcpreasm_packet(ctx_tcpreasm_t *r, const char *ifname, const struct timeval *ts, uint64_t now_ms,
                        const struct ctx_pkt *pkt);

/* Apply the timeouts at now_ms (call it from the capture loop's idle tick).
 * Returns the number of flows ended. NULL: 0. */
int ctx_tcpreasm_expire(ctx_tcpreasm_t *r, uint64_t now_ms);

/* End every flow as if it had timed out (holes become gaps, complete frames are
 * emitted, partial ones go by gap_emit), e.g. at shutdown. NULL: no-op. */
void ctx_tcpreasm_flush(ctx_tcpreasm_t *r);

/* The same for the flows seen on one interface (borrowed name), e.g. when it is
 * detached: nothing of them stays, so a later interface of the same name starts
 * afresh. Returns the number of connections ended (r or ifname NULL: 0). */
int ctx_tcpreasm_end_interface(ctx_tcpreasm_t *r, const char *ifname);

/* What one interface holds now: flows (ended ones still remembered included) and
 * bytes (records, held segments, partial frames). Returns 1, or 0 (zeros) if it
 * holds nothing. Owner thread only. */
int ctx_tcpreasm_interface_usage(const ctx_tcpreasm_t *r, const char *ifname, size_t *flows, size_t *bytes);

/* Copy the counters (r NULL: zeros). Any thread, while the owner works; each
 * counter is read atomically, the set is not one snapshot. Not during ctx_tcpreasm_free(). */
void ctx_tcpreasm_get_stats(const ctx_tcpreasm_t *r, struct ctx_tcpreasm_stats *st);

#endif
