/* tcpreasm_owner.h: the TCP reassembler's owners (internal to tcpreasm.c).
 *
 * An owner is the interface (vNIC) flows were seen on, named by the flow key's
 * ifname: every flow belongs to exactly one. An owner keeps its flows on its own
 * age lists and accounts their memory, so that when the reassembler must make room
 * it takes from the owner that holds the most (flows, or bytes): one VM's flood
 * evicts its own flows, never those of a VM that holds less (docs/threat-model.md).
 *
 * Invariants: nflows is the number of flows on the owner's lists; bytes is the sum
 * of its flows' accounted memory (struct flow's acct). An owner with no flow stays
 * until tcp_owners_gc() (so that loops over flows never see their owner freed).
 *
 * Concurrency: none; the reassembler's owner thread.
 */
#ifndef CTXLOG_TCPREASM_OWNER_H
#define CTXLOG_TCPREASM_OWNER_H

#include <stddef.h>
#include <stdint.h>

#define TCP_OWNER_LISTS 3   /* ended, without data yet, with data (tcpreasm.c's L_*) */
#define TCP_OWNER_NAMSIZ 16 /* CTX_TCP_IFNAMSIZ */

struct flow;

struct tcp_flist {
    struct flow *oldest, *newest;
};

struct tcp_owner {
    char ifname[TCP_OWNER_NAMSIZ];              /* NUL-terminated */
    uint32_t hash;
    struct tcp_owner *hnext;                    /* hash chain */
    struct tcp_owner *next, *prev;              /* every owner */
    struct tcp_flist lists[TCP_OWNER_LISTS];    /* this owner's flows by last activity, oldest first */
    size_t nflows;                              /* flows on the lists */
    size_t bytes;                               /* their accounted memory */
};

struct tcp_owners {
    struct tcp_owner **buckets;
    size_t nbuckets;                            /* power of two */
    uint32_t seed;
    struct tcp_owner *all;                      /* every owner, newest first */
};

/* 0, or -1 if out of memory. */
int tcp_owners_init(struct tcp_owners *o, uint32_t seed);
/* Frees every owner (their flows must be gone). */
void tcp_owners_fini(struct tcp_owners *o);
/* The owner of ifname (borrowed, cut at 15 bytes), or NULL. */
struct tcp_owner *tcp_owner_find(const struct tcp_owners *o, const char *ifname);
/* The owner of ifname, created if needed; NULL if out of memory. */
struct tcp_owner *tcp_owner_get(struct tcp_owners *o, const char *ifname);
/* Frees owners without flows. */
void tcp_owners_gc(struct tcp_owners *o);
/* The owner to take room from: the most bytes (by_bytes) or the most flows, among
 * owners with a flow other than the one being worked on (which belongs to cur,
 * may be NULL). NULL if there is none. O(owners). */
struct tcp_owner *tcp_owner_victim(const struct tcp_owners *o, const struct tcp_owner *cur, int by_bytes);

#endif
