/* tcpreasm_owner.c: the owners of the TCP reassembler's flows (see tcpreasm_owner.h).
 *
 * Concurrency: none; the reassembler's owner thread.
 */
#include "tcpreasm_owner.h"

#include <stdlib.h>
#include <string.h>

#define OWNER_BUCKETS 256 /* chained: interfaces are few, and only flow opening looks owners up */

static uint32_t name_hash(uint32_t seed, const char *s) {
    uint32_t h = seed ^ 0x811c9dc5u;
    for (size_t i = 0; i < TCP_OWNER_NAMSIZ - 1 && s[i] != '\0'; i++) h = (h ^ (uint8_t)s[i]) * 16777619u;
    return h ^ (h >> 15);
}

int tcp_owners_init(struct tcp_owners *o, uint32_t seed) {
    memset(o, 0, sizeof(*o));
    o->nbuckets = OWNER_BUCKETS;
    o->seed = seed;
    o->buckets = calloc(o->nbuckets, sizeof(*o->buckets));
    return o->buckets == NULL ? -1 : 0;
}

static void owner_free(struct tcp_owners *o, struct tcp_owner *w) {
    struct tcp_owner **pp = &o->buckets[w->hash & (o->nbuckets - 1)];
    while (*pp != w) pp = &(*pp)->hnext;
    *pp = w->hnext;
    if (w->prev != NULL) w->prev->next = w->next; else o->all = w->next;
    if (w->next != NULL) w->next->prev = w->prev;
    free(w);
}

void tcp_owners_fini(struct tcp_owners *o) {
    while (o->all != NULL) owner_free(o, o->all);
    free(o->buckets);
    o->buckets = NULL;
}

struct tcp_owner *tcp_owner_find(const struct tcp_owners *o, const char *ifname) {
    uint32_t h = name_hash(o->seed, ifname);
    for (struct tcp_owner *w = o->buckets[h & (o->nbuckets - 1)]; w != NULL; w = w->hnext)
        if (w->hash == h && strncmp(w->ifname, ifname, TCP_OWNER_NAMSIZ - 1) == 0) return w;
    return NULL;
}

struct tcp_owner *tcp_owner_get(struct tcp_owners *o, const char *ifname) {
    struct tcp_owner *w = tcp_owner_find(o, ifname);
    if (w != NULL) return w;
    if ((w = calloc(1, sizeof(*w))) == NULL) return NULL;
    memcpy(w->ifname, ifname, strnlen(ifname, TCP_OWNER_NAMSIZ - 1));
    w->hash = name_hash(o->seed, ifname);
    w->hnext = o->buckets[w->hash & (o->nbuckets - 1)];
    o->buckets[w->hash & (o->nbuckets - 1)] = w;
    w->next = o->all;
    if (o->all != NULL) o->all->prev = w;
    o->all = w;
    return w;
}

void tcp_owners_gc(struct tcp_owners *o) {
    for (struct tcp_owner *w = o->all, *next; w != NULL; w = next) {
        next = w->next;
        if (w->nflows == 0) owner_free(o, w);
    }
}

struct tcp_owner *tcp_owner_victim(const struct tcp_owners *o, const struct tcp_owner *cur, int by_bytes) {
    struct tcp_owner *best = NULL;
    size_t best_v = 0;
    for (struct tcp_owner *w = o->all; w != NULL; w = w->next) {
        if (w->nflows <= (w == cur ? 1u : 0u)) continue;
        size_t v = by_bytes ? w->bytes : w->nflows;
        if (best == NULL || v > best_v) {
            best = w;
            best_v = v;
        }
    }
    return best;
}
