/* ipfrag.h: IPv4 / IPv6 fragment reassembly with bounded memory and a timeout.
 *
 * Feed it the packets for which ctx_pkt_decode() returned CTX_PKT_FRAGMENT; when
 * the last missing piece arrives it returns the whole datagram decoded down to
 * UDP / TCP, like ctx_pkt_decode() does for an unfragmented packet.
 *
 * Policy (see docs/decoder.md):
 * - Datagrams are keyed by (caller scope, VLAN ids, IP version, source, destination,
 *   identification, and for IPv4 the protocol).
 * - An exact duplicate (same offset, same length, same bytes) is ignored. Any other
 *   overlap, or a second "last" fragment with another end, or a fragment past the
 *   end, discards the whole datagram (RFC 5722; Linux does the same for IPv4 since
 *   4.19); fragments of it that arrive later, until its timeout, are dropped too.
 * - A datagram is dropped timeout_ms after its first fragment arrived.
 * - Memory: fragment data plus bookkeeping never exceeds max_bytes, and at most
 *   max_datagrams are pending. To make room, pending datagrams are evicted, oldest
 *   first (a flood of incomplete datagrams ages out; a datagram whose fragments
 *   arrive close together still completes). Besides that bound, the object holds
 *   one 64 KiB output buffer, allocated at the first reassembly, and one record of
 *   64 bytes per scope with pending datagrams (so at most max_datagrams of them).
 * - Scopes (the caller's unit of fairness, e.g. a vNIC): with a quota set
 *   (ctx_ipfrag_set_scope_quota()), no scope holds more than quota bytes and the
 *   same share of max_datagrams; a scope over its quota evicts its own oldest
 *   datagram (evicted_quota). When the object as a whole is full, the scope holding
 *   the most loses its oldest datagram (evicted). So a scope that floods evicts
 *   only its own datagrams and those of scopes holding more than it does.
 * - Fragments truncated by the snap length cannot be reassembled: they are rejected
 *   (capture with a snap length at least the interface MTU to reassemble).
 *
 * Concurrency: not thread-safe. One object per capture worker thread; all calls on
 * one object from one thread (or under the caller's lock), except
 * ctx_ipfrag_get_stats(), which any thread may call.
 * Allocation: only inside ctx_ipfrag_add(), i.e. only when a fragment arrives.
 */
#ifndef CTXLOG_IPFRAG_H
#define CTXLOG_IPFRAG_H

#include <stddef.h>
#include <stdint.h>

#include "pktdecode.h"

/* Result codes of ctx_ipfrag_add() beyond CTX_OK / CTX_E* / CTX_PKT_E*. */
enum ctx_ipfrag_rc {
    CTX_IPFRAG_QUEUED = 0,        /* fragment stored (or an exact duplicate ignored); datagram incomplete */
    CTX_IPFRAG_COMPLETE = 1,      /* datagram complete and decoded into *out */
    CTX_IPFRAG_EOVERLAP = -130,   /* overlapping / inconsistent fragment: datagram discarded */
    CTX_IPFRAG_EDISCARDED = -131, /* fragment of a datagram discarded earlier (until its timeout) */
    CTX_IPFRAG_ETRUNC = -132,     /* fragment cut by the snap length: cannot be reassembled */
    CTX_IPFRAG_ELIMIT = -133,     /* the datagram alone would exceed max_bytes: dropped */
};

/* Counters since ctx_ipfrag_new(). Plain numbers, copied out by ctx_ipfrag_get_stats(). */
struct ctx_ipfrag_stats {
    uint64_t fragments;      /* fragments offered to ctx_ipfrag_add() */
    uint64_t reassembled;    /* datagrams completed and decoded (CTX_IPFRAG_COMPLETE) */
    uint64_t timed_out;      /* incomplete datagrams dropped at their timeout */
    uint64_t evicted;        /* incomplete datagrams dropped to stay within max_bytes / max_datagrams */
    uint64_t evicted_quota;  /* incomplete datagrams dropped to keep their scope within its quota */
    uint64_t overlaps;       /* datagrams discarded for overlapping or inconsistent fragments */
    uint64_t duplicates;     /* exact duplicate fragments ignored */
    uint64_t bad;            /* fragments refused, all reasons (the five below) */
    uint64_t refused_truncated;  /* fragments cut by the snap length (CTX_IPFRAG_ETRUNC) */
    uint64_t refused_too_large;  /* fragments whose datagram alone exceeds the quota / bound (CTX_IPFRAG_ELIMIT) */
    uint64_t refused_discarded;  /* fragments of a datagram discarded earlier (CTX_IPFRAG_EDISCARDED) */
    uint64_t refused_nomem;      /* fragments dropped for lack of memory (CTX_ENOMEM) */
    uint64_t bad_l4;             /* datagrams whose transport header was bad once reassembled (CTX_PKT_E*) */
    size_t bytes_in_use;     /* bytes charged against max_bytes now */
    size_t datagrams_in_use; /* pending datagrams now (discarded ones waiting for their timeout included) */
};

struct ctx_ipfrag;

/* the smallest max_bytes ctx_ipfrag_new() takes (one page of bookkeeping and data) */
#define CTX_IPFRAG_MIN_BYTES 4096
/* the longest timeout_ms it takes (one day) */
#define CTX_IPFRAG_MAX_TIMEOUT_MS 86400000u

/* Create a reassembler. max_bytes: bound on fragment data + bookkeeping (>= CTX_IPFRAG_MIN_BYTES);
 * max_datagrams: bound on pending datagrams (1 .. 2^24); timeout_ms: lifetime of an
 * incomplete datagram (1 .. CTX_IPFRAG_MAX_TIMEOUT_MS). Returns NULL when an argument is out of range or
 * memory is short. The result is owned by the caller: ctx_ipfrag_free() it. */
struct ctx_ipfrag *ctx_ipfrag_new(size_t max_bytes, size_t max_datagrams, uint32_t timeout_ms);

/* Sets the quota of each scope: at most quota_bytes (CTX_IPFRAG_MIN_BYTES ..
 * max_bytes) and the same share of max_datagrams (at least 1). Without a call the
 * quota is max_bytes (no scope limit beyond the object's bound). Call it before
 * the first ctx_ipfrag_add(). Returns 0, or CTX_EINVAL for a value out of range. */
int ctx_ipfrag_set_scope_quota(struct ctx_ipfrag *f, size_t quota_bytes);

/* Free everything, including a datagram returned earlier. NULL is a no-op. */
void ctx_ipfrag_free(struct ctx_ipfrag *f);

/* Add one fragment. frag: a packet for which ctx_pkt_decode() returned
 * CTX_PKT_FRAGMENT (borrowed; its data is copied, the frame may go away after the
 * call). scope: any number the caller uses to keep apart fragments that must not
 * be mixed (e.g. the interface index); VLAN ids are part of the key already.
 * now_ms: a monotonic clock in milliseconds; datagrams older than the timeout are
 * expired first. out: receives the datagram on CTX_IPFRAG_COMPLETE (may be frag
 * itself): the L2/L3 fields of the fragment that completed it, frag.reassembled=1,
 * frag.is_fragment=0, and the transport fields with payload pointing into a
 * buffer owned by f, valid until the next ctx_ipfrag_add() or ctx_ipfrag_free().
 * Returns CTX_IPFRAG_QUEUED, CTX_IPFRAG_COMPLETE, or a negative code: CTX_EINVAL
 * (NULL, or frag is not a fragment), CTX_ENOMEM, CTX_IPFRAG_E*, or a CTX_PKT_E*
 * code when the reassembled datagram's transport header is bad (the datagram is
 * then dropped). *out is written only on CTX_IPFRAG_COMPLETE. */
int ctx_ipfrag_add(struct ctx_ipfrag *f, const struct ctx_pkt *frag, uint32_t scope, uint64_t now_ms,
                   struct ctx_pkt *out);

/* Drop datagrams whose timeout has passed at now_ms (call it now and then when no
 * fragment arrives, e.g. from the capture loop's idle tick). Returns how many
 * incomplete datagrams were counted as timed out. NULL: returns 0. */
int ctx_ipfrag_expire(struct ctx_ipfrag *f, uint64_t now_ms);

/* Copy the counters into *st (f NULL: all 0). May be called from any thread while
 * the owner thread works (e.g. from a statistics callback): each counter is read
 * atomically, but the set is not one snapshot. Not concurrently with ctx_ipfrag_free(). */
void ctx_ipfrag_get_stats(const struct ctx_ipfrag *f, struct ctx_ipfrag_stats *st);

/* A static one-line description of any code ctx_ipfrag_add() returns (falls back
 * to ctx_pkt_strerror()). Never NULL. */
const char *ctx_ipfrag_strerror(int rc);

#endif
