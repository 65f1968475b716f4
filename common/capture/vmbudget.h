/* vmbudget.h: a packets/s and bytes/s budget per interface (vNIC), so that one VM's
 * flood is dropped before any work is done on it (docs/threat-model.md).
 *
 * Each interface has two token buckets (packets, bytes), kept as a "theoretical
 * arrival time" (GCRA, the cell-rate algorithm of ATM): a packet costs 1/rate
 * seconds of it, and passes if the bucket is no more than `burst` ahead of now. So a
 * VM may send `burst` worth of its rate at once (1 s: rate packets), then its rate.
 * Integer arithmetic, no allocation per packet once an interface was seen.
 *
 * The clock is the caller's (a monotonic time in ns): tests drive it by hand.
 *
 * Concurrency: none; one object per capture worker.
 */
#ifndef CTXLOG_VMBUDGET_H
#define CTXLOG_VMBUDGET_H

#include <stddef.h>
#include <stdint.h>

typedef struct ctx_vmbudget ctx_vmbudget_t;

/* A budget of pps packets/s and bps bytes/s per interface (0: that limit is off),
 * allowing bursts of burst_ms worth of either (>= 1). Returns 0 and *out, CTX_EINVAL
 * (both limits 0, burst_ms 0, NULL out) or CTX_ENOMEM. ctx_vmbudget_free() it. */
int ctx_vmbudget_new(uint64_t pps, uint64_t bps, uint32_t burst_ms, ctx_vmbudget_t **out);

/* NULL is a no-op. */
void ctx_vmbudget_free(ctx_vmbudget_t *b);

/* One packet of `bytes` bytes on interface ifname (borrowed, cut at 15 bytes) at
 * now_ns: 1 if it is within the interface's budget (and is charged), 0 if over it
 * (nothing charged, counted for the interface). An interface seen for the first time
 * starts with a full burst; if its entry cannot be allocated the packet passes. */
int ctx_vmbudget_take(ctx_vmbudget_t *b, const char *ifname, size_t bytes, uint64_t now_ns);

/* Packets refused on ifname so far (0 if unknown). */
uint64_t ctx_vmbudget_refused(const ctx_vmbudget_t *b, const char *ifname);

/* Forget an interface (detached): a later one of the same name starts afresh. */
void ctx_vmbudget_forget(ctx_vmbudget_t *b, const char *ifname);

#endif
