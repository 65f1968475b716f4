/* statsctr.h: how ctxlog's modules name, register and publish impstats counters
 * (rsyslog glue: include after rsyslog.h and statsobj.h).
 *
 * Names follow rsyslog's own modules (imudp `msgs.received`, the queues' `discarded.full`,
 * omfwd `bytes.sent`, imtcp `sessions.opened`): lower-case words joined by dots, the
 * object first, then what happened to it (`cm.http.errors`, `policy.reload.errors`,
 * `profiles.reloads`). No underscores. A renamed counter keeps its old name for one
 * release as a deprecated alias (same value; docs say "deprecated, removed in 0.3").
 *
 * Kinds, as rsyslog's queue object registers `enqueued` and `size`:
 *  - a counter only grows: ctrType_IntCtr with CTR_FLAG_RESETTABLE, so that impstats'
 *    resetCounters="on" shows what is new since the last record;
 *  - a gauge is a value now (bytes in a spool, entries in a cache, 1 while blocked):
 *    CTR_FLAG_NONE, never reset. It is registered as ctrType_IntCtr (64 bits; ctrType_Int
 *    would read an int).
 *
 * Many values are running totals kept elsewhere (a common/ unit's statistics, a private
 * atomic). statsctr_publish() adds to the impstats cell what the total gained since the
 * previous publication, so the cell shows the total without resets and the delta with
 * them. Concurrency: publications of one cell may race (the compare-and-swap on the last
 * total counts each gain once); impstats' reset of a cell is a plain store, as for
 * rsyslog's own counters.
 */
#ifndef CTXLOG_STATSCTR_H
#define CTXLOG_STATSCTR_H

#include <stdint.h>

_Static_assert(sizeof(intctr_t) == sizeof(uint64_t), "a cell is an intctr_t or a uint64_t");

/* publish a running total into a counter's cell; *last: the highest total published
 * (starts at 0). Only a total above it adds, so two threads publishing totals read at
 * different times count each gain once; a total that went down (its source was remade)
 * adds nothing until it passes the old one. cell: an intctr_t or a uint64_t (modules whose
 * headers do not see statsobj.h keep uint64_t). */
static inline void statsctr_publish(void *cell, uint64_t *last, uint64_t total) {
    uint64_t prev = __atomic_load_n(last, __ATOMIC_RELAXED);
    do {
        if (total <= prev) return;
    } while (!__atomic_compare_exchange_n(last, &prev, total, 1, __ATOMIC_RELAXED, __ATOMIC_RELAXED));
    __atomic_fetch_add((uint64_t *)cell, total - prev, __ATOMIC_RELAXED);
}

/* publish a gauge's value now */
static inline void statsctr_gauge(void *cell, uint64_t now) { __atomic_store_n((uint64_t *)cell, now, __ATOMIC_RELAXED); }

/* registers name on o: a gauge (never reset) or a counter (reset by resetCounters="on") */
#define STATSCTR_ADD(so, o, name, gauge, cell)                                                          \
    (so)->AddCounter((o), (const uchar *)(name), ctrType_IntCtr, (gauge) ? CTR_FLAG_NONE : CTR_FLAG_RESETTABLE, \
                     (cell))

/* a deprecated name of counter `idx` of a module's table, emitted for one more release */
typedef struct {
    const char *old_name;
    int idx;
} statsctr_alias_t;

#endif
