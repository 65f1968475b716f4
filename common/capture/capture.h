/* capture.h: the capture engine of imctxcap, plain C (libpcap + rtnetlink).
 *
 * One engine captures on every interface whose name matches a pattern list
 * (ifglob.h): it attaches the ones present at start, and attaches / detaches
 * interfaces that appear, come up, go down or disappear later (rtnetlink link
 * notifications), without a restart. Each interface is one libpcap handle on a
 * memory-mapped TPACKET_V3 ring with a kernel BPF filter, direction "in" (what the
 * VM sends), non-blocking; one thread drives all of them with poll(), so it
 * reacts to a stop request within one poll round, whatever the traffic.
 *
 * Concurrency: ctx_capture_run() runs on one thread (the "capture thread");
 * callbacks are called on it. ctx_capture_stop() and ctx_capture_get_stats() may
 * be called from any thread. Everything else: capture thread or before run.
 */
#ifndef CTXLOG_CAPTURE_H
#define CTXLOG_CAPTURE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/time.h>

#include "ifglob.h"

typedef struct ctx_capture ctx_capture_t;

/* a captured frame: borrowed, valid during the call only */
typedef void (*ctx_capture_pkt_fn)(void *ud, const char *ifname, const struct timeval *ts, const uint8_t *frame,
                                   size_t caplen, size_t wirelen);
/* something the operator should read: level 0 info, 1 warning, 2 error */
typedef void (*ctx_capture_log_fn)(void *ud, int level, const char *msg);
/* called about every idle_ms, with a monotonic time in ms (fragment expiry, stats) */
typedef void (*ctx_capture_tick_fn)(void *ud, uint64_t now_ms);
/* called after each poll round that delivered packets (e.g. to submit a batch) */
typedef void (*ctx_capture_round_fn)(void *ud);

struct ctx_capture_cfg {
    const ctx_ifglob_t *patterns;  /* borrowed; must outlive the engine */
    const uint16_t *udp_ports;     /* borrowed during ctx_capture_new */
    size_t n_udp_ports;
    const uint16_t *tcp_ports;     /* may be NULL */
    size_t n_tcp_ports;
    size_t ring_bytes;             /* per interface (pcap_set_buffer_size) */
    int snaplen;
    int block_timeout_ms;          /* TPACKET_V3 block retire timeout (default 10) */
    int idle_ms;                   /* tick period (default 100) */
    int fanout;                    /* 1: join each interface's PACKET_FANOUT group (hash, defrag), so that
                                    * several engines with the same fanout_salt share its packets */
    uint16_t fanout_salt;          /* group id = ifindex ^ salt: same for the engines of one input */
    ctx_capture_pkt_fn on_packet;
    ctx_capture_log_fn on_log;     /* may be NULL */
    ctx_capture_tick_fn on_tick;   /* may be NULL */
    ctx_capture_round_fn on_round; /* may be NULL */
    void *ud;
};

struct ctx_capture_stats {
    uint64_t received;       /* frames handed to on_packet */
    uint64_t kernel_drops;   /* pcap_stats ps_drop, summed over current and past handles */
    uint64_t attach_events;
    uint64_t detach_events;
    uint64_t attach_errors;
    unsigned attached;       /* interfaces attached now */
};

/* Builds the kernel filter expression for the ports, written into buf (NUL-terminated).
 * It passes UDP (and TCP) to those destination ports, IP fragments and IPv6 packets
 * with extension headers (decoded in user space), each also under one or two VLAN
 * tags. Returns the length, or CTX_EINVAL if it does not fit or there is no port. */
int ctx_capture_filter(const uint16_t *udp_ports, size_t n_udp, const uint16_t *tcp_ports, size_t n_tcp, char *buf,
                       size_t buflen);

/* Creates an engine (nothing is opened yet). Returns 0, CTX_ENOMEM, or CTX_EINVAL
 * with err set (bad configuration, or the filter does not compile). */
int ctx_capture_new(const struct ctx_capture_cfg *cfg, ctx_capture_t **out, char *err, size_t errlen);

/* Opens the link-notification socket, attaches the matching interfaces present now,
 * then loops until should_stop() returns non-zero or ctx_capture_stop() is called.
 * Returns 0, or CTX_EIO with err set if the netlink socket cannot be opened. */
int ctx_capture_run(ctx_capture_t *c, int (*should_stop)(void), char *err, size_t errlen);

/* Asks a running loop to return (any thread; async-signal-safe). */
void ctx_capture_stop(ctx_capture_t *c);

/* A consistent-enough snapshot of the counters (any thread). */
void ctx_capture_get_stats(ctx_capture_t *c, struct ctx_capture_stats *st);

/* Closes every handle and frees the engine; NULL is a no-op. Not while running. */
void ctx_capture_free(ctx_capture_t *c);

#endif
