/* vmbudget.c: per-interface packets/s and bytes/s budgets (GCRA), see vmbudget.h.
 *
 * Concurrency: none; one object per capture worker.
 */
#include "vmbudget.h"

#include <stdlib.h>
#include <string.h>

#include "ctxlog_common.h"
#include "gcra.h"

#define NAMSIZ 16
#define BUCKETS 256 /* chained: interfaces are few and chosen by the host, not by guests */

struct entry {
    char ifname[NAMSIZ];
    uint32_t hash;
    struct entry *next;
    uint64_t tat_pkt, tat_byte; /* theoretical arrival times (ns) */
    uint64_t refused;
};

struct ctx_vmbudget {
    uint64_t pps, bps;
    uint64_t ns_per_pkt;        /* 1e9 / pps */
    uint64_t ns_per_byte_q32;   /* 1e9 / bps in 32.32 fixed point: a multiply per frame, not a 128-bit divide */
    uint64_t burst_ns;
    struct entry *buckets[BUCKETS];
};

static uint32_t name_hash(const char *s) {
    uint32_t h = 0x811c9dc5u;
    for (size_t i = 0; i < NAMSIZ - 1 && s[i] != '\0'; i++) h = (h ^ (uint8_t)s[i]) * 16777619u;
    return h ^ (h >> 13);
}

int ctx_vmbudget_new(uint64_t pps, uint64_t bps, uint32_t burst_ms, ctx_vmbudget_t **out) {
    if (out == NULL) return CTX_EINVAL;
    *out = NULL;
    if ((pps == 0 && bps == 0) || burst_ms == 0 || pps > 1000000000u) return CTX_EINVAL;
    ctx_vmbudget_t *b = calloc(1, sizeof(*b));
    if (b == NULL) return CTX_ENOMEM;
    b->pps = pps;
    b->bps = bps;
    b->ns_per_pkt = pps > 0 ? 1000000000u / pps : 0;
    b->ns_per_byte_q32 = bps > 0 ? ((uint64_t)1000000000u << 32) / bps : 0; /* < 2^63 for any bps >= 1 */
    b->burst_ns = (uint64_t)burst_ms * 1000000u;
    *out = b;
    return 0;
}

void ctx_vmbudget_free(ctx_vmbudget_t *b) {
    if (b == NULL) return;
    for (int i = 0; i < BUCKETS; i++) {
        for (struct entry *e = b->buckets[i], *next; e != NULL; e = next) {
            next = e->next;
            free(e);
        }
    }
    free(b);
}

static struct entry **find(const ctx_vmbudget_t *b, const char *ifname, uint32_t h) {
    struct entry *const *pp = &b->buckets[h % BUCKETS];
    while (*pp != NULL && ((*pp)->hash != h || strncmp((*pp)->ifname, ifname, NAMSIZ - 1) != 0)) pp = &(*pp)->next;
    return (struct entry **)pp;
}

static struct entry *entry_get(ctx_vmbudget_t *b, const char *ifname) {
    uint32_t h = name_hash(ifname);
    struct entry **pp = find(b, ifname, h);
    if (*pp != NULL) return *pp;
    struct entry *e = calloc(1, sizeof(*e));
    if (e == NULL) return NULL;
    memcpy(e->ifname, ifname, strnlen(ifname, NAMSIZ - 1));
    e->hash = h;
    *pp = e;
    return e;
}

int ctx_vmbudget_take(ctx_vmbudget_t *b, const char *ifname, size_t bytes, uint64_t now_ns) {
    if (b == NULL || ifname == NULL) return 1;
    struct entry *e = entry_get(b, ifname);
    if (e == NULL) return 1;
    uint64_t tp = e->tat_pkt, tb = e->tat_byte;
    int ok = b->pps == 0 || ctx_gcra_next(tp, b->ns_per_pkt, now_ns, b->burst_ns, &tp);
    if (ok && b->bps > 0) {
        uint64_t cost = (uint64_t)(((unsigned __int128)bytes * b->ns_per_byte_q32) >> 32);
        ok = cost <= b->burst_ns && ctx_gcra_next(tb, cost, now_ns, b->burst_ns, &tb);
    }
    if (!ok) {
        e->refused++;
        return 0;
    }
    e->tat_pkt = tp;
    e->tat_byte = tb;
    return 1;
}

uint64_t ctx_vmbudget_refused(const ctx_vmbudget_t *b, const char *ifname) {
    if (b == NULL || ifname == NULL) return 0;
    struct entry *const *pp = find(b, ifname, name_hash(ifname));
    return *pp != NULL ? (*pp)->refused : 0;
}

void ctx_vmbudget_forget(ctx_vmbudget_t *b, const char *ifname) {
    if (b == NULL || ifname == NULL) return;
    struct entry **pp = find(b, ifname, name_hash(ifname));
    struct entry *e = *pp;
    if (e == NULL) return;
    *pp = e->next;
    free(e);
}
