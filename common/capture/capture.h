/* capture.h: the capture engine of imctxcap, plain C (AF_PACKET + rtnetlink).
 *
 * One engine captures on every interface whose name matches a pattern list
 * (ifglob.h): it attaches the ones present at start, and attaches / detaches
 * interfaces that appear, come up, go down, are renamed or disappear later
 * (rtnetlink link notifications), without a restart.
 *
 * An engine has ONE capture socket and ONE ring, whatever the number of
 * interfaces (capture_ring.h): the socket is bound to no interface, and its kernel
 * filter (capture_filter.h) accepts only frames that arrived on an attached
 * interface (by interface index) and carry syslog; attaching or detaching an
 * interface rebuilds and replaces that filter. Direction "in" only (what the VM
 * sends). In user space each frame's interface index is looked up in the sorted
 * table of attached interfaces (for the vNIC name); a frame of an interface that is
 * no longer attached (it was in the ring at detach) is counted and dropped.
 * Several engines (workers) of one input share the frames through one
 * PACKET_FANOUT group (ctx_capture_open()). One thread drives an engine with
 * poll(), so it reacts to a stop request within one poll round, whatever the traffic.
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

#include "capture_filter.h"
#include "ifglob.h"

typedef struct ctx_capture ctx_capture_t;

/* a captured frame, with the name and index of the interface it arrived on: all
 * borrowed, valid during the call only */
typedef void (*ctx_capture_pkt_fn)(void *ud, const char *ifname, unsigned ifindex, const struct timeval *ts,
                                   const uint8_t *frame, size_t caplen, size_t wirelen);
/* something the operator should read: level 0 info, 1 warning, 2 error */
typedef void (*ctx_capture_log_fn)(void *ud, int level, const char *msg);
/* called about every idle_ms, with a monotonic time in ms (fragment expiry, stats) */
typedef void (*ctx_capture_tick_fn)(void *ud, uint64_t now_ms);
/* called after each poll round that delivered packets (e.g. to submit a batch) */
typedef void (*ctx_capture_round_fn)(void *ud);
/* an interface was detached (removed, down, renamed away): its name is borrowed */
typedef void (*ctx_capture_detach_fn)(void *ud, const char *ifname, unsigned ifindex);

struct ctx_capture_cfg {
    const ctx_ifglob_t *patterns;  /* borrowed; must outlive the engine */
    const uint16_t *udp_ports;     /* borrowed during ctx_capture_new */
    size_t n_udp_ports;
    const uint16_t *tcp_ports;     /* may be NULL */
    size_t n_tcp_ports;
    size_t ring_bytes;             /* the engine's ring (all interfaces together) */
    int snaplen;
    int block_timeout_ms;          /* TPACKET_V3 block retire timeout (default 10) */
    int idle_ms;                   /* tick period (default 100) */
    int fanout;                    /* 1: join a PACKET_FANOUT group (hash, no kernel defragmentation) at
                                    * ctx_capture_open(), so that several engines share the frames */
    ctx_capture_pkt_fn on_packet;
    ctx_capture_log_fn on_log;     /* may be NULL */
    ctx_capture_tick_fn on_tick;   /* may be NULL */
    ctx_capture_round_fn on_round; /* may be NULL */
    ctx_capture_detach_fn on_detach; /* may be NULL; on this engine's thread, once per detach */
    void *ud;
};

struct ctx_capture_stats {
    uint64_t received;       /* frames handed to on_packet */
    uint64_t stale;          /* frames of an interface no longer attached (in the ring at detach): dropped */
    uint64_t kernel_drops;   /* frames the kernel dropped for a full ring (PACKET_STATISTICS) */
    uint64_t attach_events;
    uint64_t detach_events;
    uint64_t attach_errors;
    unsigned attached;       /* interfaces attached now */
};

/* Creates an engine (nothing is opened yet). Returns 0, CTX_ENOMEM, or CTX_EINVAL
 * with err set (bad configuration, or the filter does not compile). */
int ctx_capture_new(const struct ctx_capture_cfg *cfg, ctx_capture_t **out, char *err, size_t errlen);

/* Opens the capture socket and its ring (needs CAP_NET_RAW). With cfg.fanout, joins
 * a PACKET_FANOUT group: *fanout_group < 0 creates one with an id the kernel picks
 * among the ids not in use (so never another program's group) and writes the id
 * to *fanout_group; otherwise joins that group (the other engines of the input).
 * fanout_group may be NULL without fanout. Returns 0, or CTX_EIO / CTX_ENOMEM with
 * err set. Called once, before ctx_capture_run(). */
int ctx_capture_open(ctx_capture_t *c, int *fanout_group, char *err, size_t errlen);

/* Opens the link-notification socket (and the capture socket, if ctx_capture_open()
 * was not called: then without fanout), attaches the matching interfaces present
 * now, then loops until should_stop() returns non-zero or ctx_capture_stop() is
 * called. Returns 0, or CTX_EIO with err set if a socket cannot be opened. */
int ctx_capture_run(ctx_capture_t *c, int (*should_stop)(void), char *err, size_t errlen);

/* Asks a running loop to return (any thread; async-signal-safe). */
void ctx_capture_stop(ctx_capture_t *c);

/* The monotonic time (clock.h, ns) read once when the current round of frames began: the
 * "now" of every frame that round delivers (budgets, reassembly timeouts), so that a frame
 * costs no clock read. For the capture thread's callbacks; 0 before the first round. */
uint64_t ctx_capture_round_ns(const ctx_capture_t *c);

/* A consistent-enough snapshot of the counters (any thread). */
void ctx_capture_get_stats(ctx_capture_t *c, struct ctx_capture_stats *st);

/* Closes every handle and frees the engine; NULL is a no-op. Not while running. */
void ctx_capture_free(ctx_capture_t *c);

#endif
