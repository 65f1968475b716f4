/* capture_ring.c: AF_PACKET socket + TPACKET_V3 ring (see capture_ring.h).
 *
 * Ring geometry: the block size is the smallest power of two of at least 64 KiB
 * that holds one frame of snaplen bytes with its headers (the kernel cuts a frame
 * at the end of a block); the ring is ring_bytes / block size blocks, at least 2.
 * Each block is handed to user space when full or after block_timeout_ms.
 *
 * Concurrency: see capture_ring.h. The block status word is shared with the
 * kernel: read with acquire, written back with release.
 */
#include "capture_ring.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ctxlog_common.h"

#define RING_MIN_BLOCK (64u * 1024u)
#define RING_VLAN_RESERVE 4 /* room before each frame to put a VLAN tag back */

struct ctx_ring {
    int fd;
    uint8_t *map;
    size_t block_size;
    unsigned n_blocks;
    unsigned cur; /* next block to read */
};

static int fail(char *err, size_t errlen, const char *step) {
    snprintf(err, errlen, "%s: %s", step, strerror(errno));
    return CTX_EIO;
}

static size_t block_size_for(int snaplen) {
    size_t frame = TPACKET_ALIGN(TPACKET3_HDRLEN) + 16 + RING_VLAN_RESERVE + (size_t)(snaplen > 0 ? snaplen : 65535) +
                   TPACKET_ALIGNMENT;
    size_t b = RING_MIN_BLOCK;
    while (b < frame) b <<= 1;
    return b;
}

/* socket options before the ring is mapped; returns NULL or the failed step */
static const char *setup_socket(int fd) {
    static const struct sock_filter deny = BPF_STMT(BPF_RET | BPF_K, 0);
    struct sock_fprog none = {.len = 1, .filter = (struct sock_filter *)&deny};
    int v3 = TPACKET_V3, reserve = RING_VLAN_RESERVE;
    if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &none, sizeof none) != 0) return "SO_ATTACH_FILTER";
    if (setsockopt(fd, SOL_PACKET, PACKET_VERSION, &v3, sizeof v3) != 0) return "PACKET_VERSION (TPACKET_V3)";
    if (setsockopt(fd, SOL_PACKET, PACKET_RESERVE, &reserve, sizeof reserve) != 0) return "PACKET_RESERVE";
    return NULL;
}

static const char *map_ring(struct ctx_ring *r, const struct ctx_ring_cfg *cfg) {
    struct tpacket_req3 req;
    memset(&req, 0, sizeof req);
    r->block_size = block_size_for(cfg->snaplen);
    size_t n = cfg->ring_bytes / r->block_size;
    r->n_blocks = n < 2 ? 2 : (unsigned)n;
    req.tp_block_size = (unsigned)r->block_size;
    req.tp_block_nr = r->n_blocks;
    req.tp_frame_size = (unsigned)r->block_size; /* TPACKET_V3 packs frames of any size into a block */
    req.tp_frame_nr = r->n_blocks;
    req.tp_retire_blk_tov = (unsigned)(cfg->block_timeout_ms > 0 ? cfg->block_timeout_ms : 10);
    if (setsockopt(r->fd, SOL_PACKET, PACKET_RX_RING, &req, sizeof req) != 0) return "PACKET_RX_RING";
    void *m = mmap(NULL, r->block_size * r->n_blocks, PROT_READ | PROT_WRITE, MAP_SHARED, r->fd, 0);
    if (m == MAP_FAILED) return "mmap of the ring";
    r->map = m;
    return NULL;
}

int ctx_ring_open(const struct ctx_ring_cfg *cfg, struct ctx_ring **out, char *err, size_t errlen) {
    *out = NULL;
    struct ctx_ring *r = calloc(1, sizeof *r);
    if (r == NULL) return CTX_ENOMEM;
    r->fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, 0); /* protocol 0: receives nothing yet */
    if (r->fd < 0) {
        free(r);
        return fail(err, errlen, "socket(AF_PACKET)");
    }
    const char *step = setup_socket(r->fd);
    if (step == NULL) step = map_ring(r, cfg);
    if (step == NULL) {
        int one = 1; /* kernel >= 4.20; frames are also checked one by one in ctx_ring_drain() */
        (void)setsockopt(r->fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof one);
        struct sockaddr_ll sll = {.sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL), .sll_ifindex = 0};
        if (bind(r->fd, (struct sockaddr *)&sll, sizeof sll) != 0) step = "bind to all interfaces";
    }
    if (step != NULL) {
        int rc = fail(err, errlen, step);
        ctx_ring_close(r);
        return rc;
    }
    *out = r;
    return 0;
}

void ctx_ring_close(struct ctx_ring *r) {
    if (r == NULL) return;
    if (r->map != NULL) munmap(r->map, r->block_size * r->n_blocks);
    if (r->fd >= 0) close(r->fd);
    free(r);
}

int ctx_ring_fd(const struct ctx_ring *r) { return r->fd; }

size_t ctx_ring_bytes(const struct ctx_ring *r) { return r->block_size * r->n_blocks; }

int ctx_ring_set_filter(struct ctx_ring *r, const struct sock_filter *prog, size_t len) {
    struct sock_fprog fp = {.len = (unsigned short)len, .filter = (struct sock_filter *)prog};
    if (len == 0 || len > 0xffff) {
        errno = EINVAL;
        return CTX_EIO;
    }
    return setsockopt(r->fd, SOL_SOCKET, SO_ATTACH_FILTER, &fp, sizeof fp) == 0 ? 0 : CTX_EIO;
}

int ctx_ring_join_fanout(struct ctx_ring *r, int *group) {
    int arg;
    if (*group >= 0) {
        arg = (*group & 0xffff) | (PACKET_FANOUT_HASH << 16);
        return setsockopt(r->fd, SOL_PACKET, PACKET_FANOUT, &arg, sizeof arg) == 0 ? 0 : CTX_EIO;
    }
    arg = (PACKET_FANOUT_HASH | PACKET_FANOUT_FLAG_UNIQUEID) << 16; /* id 0: the kernel picks a free one */
    if (setsockopt(r->fd, SOL_PACKET, PACKET_FANOUT, &arg, sizeof arg) != 0) return CTX_EIO;
    socklen_t len = sizeof arg;
    if (getsockopt(r->fd, SOL_PACKET, PACKET_FANOUT, &arg, &len) != 0) return CTX_EIO;
    *group = arg & 0xffff;
    return 0;
}

/* one frame: put a VLAN tag the kernel moved into metadata back in front of the ethertype */
static void deliver(struct tpacket3_hdr *h, unsigned ifindex, ctx_ring_frame_fn fn, void *ud) {
    uint8_t *frame = (uint8_t *)h + h->tp_mac;
    size_t cap = h->tp_snaplen, wire = h->tp_len;
    if ((h->tp_status & TP_STATUS_VLAN_VALID) && cap >= 12) {
        uint16_t tpid = (h->tp_status & TP_STATUS_VLAN_TPID_VALID) && h->hv1.tp_vlan_tpid ? h->hv1.tp_vlan_tpid
                                                                                          : ETH_P_8021Q;
        uint16_t tag[2] = {htons(tpid), htons((uint16_t)h->hv1.tp_vlan_tci)};
        memmove(frame - RING_VLAN_RESERVE, frame, 12);
        frame -= RING_VLAN_RESERVE;
        memcpy(frame + 12, tag, sizeof tag);
        cap += RING_VLAN_RESERVE;
        wire += RING_VLAN_RESERVE;
    }
    struct timeval tv = {.tv_sec = (time_t)h->tp_sec, .tv_usec = (suseconds_t)(h->tp_nsec / 1000)};
    fn(ud, ifindex, &tv, frame, cap, wire);
}

static unsigned walk_block(struct tpacket_block_desc *bd, ctx_ring_frame_fn fn, void *ud) {
    unsigned delivered = 0;
    uint8_t *p = (uint8_t *)bd + bd->hdr.bh1.offset_to_first_pkt;
    for (uint32_t i = 0; i < bd->hdr.bh1.num_pkts; ++i) {
        struct tpacket3_hdr *h = (struct tpacket3_hdr *)p;
        const struct sockaddr_ll *sll = (const struct sockaddr_ll *)(p + TPACKET_ALIGN(sizeof *h));
        if (sll->sll_pkttype != PACKET_OUTGOING) {
            deliver(h, (unsigned)sll->sll_ifindex, fn, ud);
            ++delivered;
        }
        p += h->tp_next_offset;
    }
    return delivered;
}

unsigned ctx_ring_drain(struct ctx_ring *r, unsigned max_blocks, ctx_ring_frame_fn fn, void *ud) {
    unsigned frames = 0;
    for (unsigned b = 0; b < max_blocks; ++b) {
        struct tpacket_block_desc *bd = (struct tpacket_block_desc *)(r->map + (size_t)r->cur * r->block_size);
        if ((__atomic_load_n(&bd->hdr.bh1.block_status, __ATOMIC_ACQUIRE) & TP_STATUS_USER) == 0) break;
        frames += walk_block(bd, fn, ud);
        __atomic_store_n(&bd->hdr.bh1.block_status, TP_STATUS_KERNEL, __ATOMIC_RELEASE);
        r->cur = (r->cur + 1) % r->n_blocks;
    }
    return frames;
}

uint64_t ctx_ring_take_drops(struct ctx_ring *r) {
    struct tpacket_stats_v3 st;
    socklen_t len = sizeof st;
    memset(&st, 0, sizeof st);
    if (getsockopt(r->fd, SOL_PACKET, PACKET_STATISTICS, &st, &len) != 0) return 0;
    return st.tp_drops;
}
