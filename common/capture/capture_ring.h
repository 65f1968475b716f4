/* capture_ring.h: one AF_PACKET socket with a memory-mapped TPACKET_V3 ring.
 *
 * The socket is SOCK_RAW (frames with their Ethernet header), bound to ETH_P_ALL
 * on no interface (ifindex 0): it receives from every interface of the network
 * namespace, and the kernel filter (capture_filter.h) keeps only the frames of the
 * attached vNICs. Outgoing frames are not delivered (PACKET_IGNORE_OUTGOING, and
 * checked again per frame): only what arrives on a host-side vNIC, i.e. what the VM
 * sends. Until the first ctx_ring_set_filter() the filter rejects everything.
 *
 * VLAN: the kernel moves the outer tag of a frame into metadata (tp_vlan_tci) when
 * the device offloads VLAN; ctx_ring_drain() puts it back into the frame (the
 * socket reserves 4 bytes before each frame for it), so callers see every frame
 * with its tags as the guest sent it, offload or not.
 *
 * Concurrency: one thread uses a ring (the capture thread); not thread-safe.
 */
#ifndef CTXLOG_CAPTURE_RING_H
#define CTXLOG_CAPTURE_RING_H

#include <linux/filter.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/time.h>

struct ctx_ring;

struct ctx_ring_cfg {
    size_t ring_bytes;    /* whole ring; rounded down to whole blocks, at least 2 blocks */
    int snaplen;          /* bytes kept per frame (the filter's return value caps it too) */
    int block_timeout_ms; /* a block is handed over at the latest after this (TPACKET_V3 retire timeout) */
};

/* a frame: borrowed, valid during the call only */
typedef void (*ctx_ring_frame_fn)(void *ud, unsigned ifindex, const struct timeval *ts, const uint8_t *frame,
                                  size_t caplen, size_t wirelen);

/* Opens the socket, maps its ring and binds it to all interfaces (receiving nothing
 * until a filter is set). Returns 0, or CTX_EIO / CTX_ENOMEM with err naming the
 * step and errno's text (e.g. "socket(AF_PACKET): Operation not permitted"). */
int ctx_ring_open(const struct ctx_ring_cfg *cfg, struct ctx_ring **out, char *err, size_t errlen);

/* Closes the socket and unmaps the ring; NULL is a no-op. */
void ctx_ring_close(struct ctx_ring *r);

/* The descriptor to poll() for POLLIN. */
int ctx_ring_fd(const struct ctx_ring *r);

/* Bytes mapped for the ring (block size x blocks). */
size_t ctx_ring_bytes(const struct ctx_ring *r);

/* Replaces the kernel filter (SO_ATTACH_FILTER: atomic for the socket). prog is
 * borrowed. Returns 0 or CTX_EIO (errno set). */
int ctx_ring_set_filter(struct ctx_ring *r, const struct sock_filter *prog, size_t len);

/* Joins a PACKET_FANOUT group in hash mode (flow hash of the frame; IP fragments,
 * first and later alike, are hashed on addresses and protocol only, so all fragments
 * of a datagram reach the same member). *group < 0: creates a group with an id the
 * kernel picks among the free ones (PACKET_FANOUT_FLAG_UNIQUEID), written to *group;
 * else joins group *group. Returns 0 or CTX_EIO (errno set: EINVAL for an id in use
 * with other settings). */
int ctx_ring_join_fanout(struct ctx_ring *r, int *group);

/* Hands the frames of up to max_blocks ready blocks to fn and returns them to the
 * kernel. Outgoing frames are skipped. Returns the number of frames handed over. */
unsigned ctx_ring_drain(struct ctx_ring *r, unsigned max_blocks, ctx_ring_frame_fn fn, void *ud);

/* Frames the kernel dropped for a full ring since the last call (PACKET_STATISTICS). */
uint64_t ctx_ring_take_drops(struct ctx_ring *r);

#endif
