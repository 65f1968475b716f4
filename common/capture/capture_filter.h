/* capture_filter.h: the kernel (classic BPF) filter of the capture socket.
 *
 * imctxcap captures with one AF_PACKET socket per worker that is bound to no
 * interface, so the kernel runs its filter on every frame of every interface of
 * the network namespace. The filter has two parts:
 *
 *   1. the interface test: the ancillary load SKF_AD_IFINDEX (the index of the
 *      interface the frame arrived on), then a binary search over the sorted
 *      indexes of the attached vNICs; anything else is rejected here, after about
 *      2 log2(n/16) + 16 instructions at most;
 *   2. the port test: the expression of ctx_capture_filter(), compiled by libpcap
 *      for Ethernet (no live handle, so VLAN tags are tested in the frame data;
 *      the expression covers a tag still in the data and one the kernel moved to
 *      metadata). Its return value is the snap length.
 *
 * The interface test is rebuilt and re-attached (SO_ATTACH_FILTER replaces the old
 * program atomically) whenever an interface is attached or detached.
 *
 * Concurrency: no state; every function is reentrant.
 */
#ifndef CTXLOG_CAPTURE_FILTER_H
#define CTXLOG_CAPTURE_FILTER_H

#include <linux/filter.h>
#include <stddef.h>
#include <stdint.h>

/* the longest program the kernel takes (BPF_MAXINSNS) */
#define CTX_CAPFILTER_MAX_INSNS 4096
/* interface indexes tested one after the other in a leaf of the search tree */
#define CTX_CAPFILTER_LEAF 16

/* Builds the port filter expression (pcap syntax) for the ports into buf
 * (NUL-terminated). It passes UDP (and TCP) to those destination ports, IP
 * fragments and IPv6 packets with extension headers (decoded in user space), each
 * also under one or two VLAN tags. Returns the length, or CTX_EINVAL if it does
 * not fit or there is no UDP port. */
int ctx_capture_filter(const uint16_t *udp_ports, size_t n_udp, const uint16_t *tcp_ports, size_t n_tcp, char *buf,
                       size_t buflen);

/* Compiles expr for Ethernet frames with libpcap; the program returns snaplen for
 * an accepted frame. On success *out (malloc'ed, owned by the caller: free()) holds
 * *n instructions and 0 is returned; else CTX_EINVAL with libpcap's message in err,
 * or CTX_ENOMEM. */
int ctx_capfilter_compile(const char *expr, int snaplen, struct sock_filter **out, size_t *n, char *err,
                          size_t errlen);

/* Instructions ctx_capfilter_build() writes for n_if indexes and a port program of
 * port_len instructions. */
size_t ctx_capfilter_size(size_t n_if, size_t port_len);

/* Writes the whole filter into out: the interface test for ifindex[0..n_if) (sorted
 * ascending, no duplicates; borrowed), then the port program (borrowed, copied).
 * With n_if == 0 the program rejects everything (one instruction). Returns the
 * number of instructions, or CTX_EINVAL when the indexes are not sorted and unique,
 * or the program would exceed out_cap or CTX_CAPFILTER_MAX_INSNS. */
int ctx_capfilter_build(const uint32_t *ifindex, size_t n_if, const struct sock_filter *port, size_t port_len,
                        struct sock_filter *out, size_t out_cap);

#endif
