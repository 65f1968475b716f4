/* omtenant.h: what the files of omtenant share (included after rsyslog's headers).
 *
 * Concurrency:
 *  - "config" fields are written on the config thread (newActInst) and read-only
 *    afterwards;
 *  - the routing snapshot (omt_route_t) is immutable; the instance's current one sits
 *    in a reload slot (common/base/slot.h): a HUP swaps it, a transaction holds a
 *    reference to the one it uses, the last reference frees it;
 *  - the tenant runtime objects (omt_tenant_t) form an append-only list guarded by
 *    inst->mu; each lives until the instance is freed, so a snapshot's pointers to
 *    them stay valid; each has its own delivery pipeline (common/deliver/delivery.h, thread-
 *    safe) and atomic counters;
 *  - a worker's omt_wrk_t (encoder, record builder, redaction context) is used by
 *    that worker only.
 */
#ifndef OMTENANT_H
#define OMTENANT_H

#include <pthread.h>
#include <stdint.h>

#include "statsobj.h"

#include "ctxlog_common.h"
#include "delivery.h"
#include "outrec.h"
#include "redact.h"
#include "redact_multi.h"
#include "slot.h"
#include "spool_stamp.h"
#include "tenants.h"

/* impstats counters of one tenant: names in omt_tenant_counter_names[] */
enum {
    OMT_TC_MSGS = 0,         /* msgs: messages routed to this tenant and accepted */
    OMT_TC_BATCHES,          /* batches: batches sealed */
    OMT_TC_BYTES_RAW,        /* bytes.raw: batch bytes before compression */
    OMT_TC_BYTES_COMPRESSED, /* bytes.compressed: ... after */
    OMT_TC_REDACTIONS,       /* redactions: values changed by redaction */
    OMT_TC_DELIVERED_BATCHES,/* delivered.batches */
    OMT_TC_DELIVERED_MSGS,   /* delivered.msgs */
    OMT_TC_DELIVERED_BYTES,  /* delivered.bytes: bytes on the wire (compressed bodies) */
    OMT_TC_RETRIES,          /* retries: failed attempts that will be retried */
    OMT_TC_TLS_FAILURES,     /* tls.failures */
    OMT_TC_SPOOLED_BATCHES,  /* spooled.batches: batches written to the spool */
    OMT_TC_SPOOLED_BYTES,    /* spooled.bytes */
    OMT_TC_SPOOL_BATCHES,    /* spool.batches: in the spool now (gauge) */
    OMT_TC_SPOOL_BYTES,      /* spool.bytes: spool size on disk now (gauge) */
    OMT_TC_SPOOL_DROPPED,    /* spool.dropped: batches dropped by drop-oldest */
    OMT_TC_SPOOL_FULL,       /* spool.full: batches the full spool refused (block) */
    OMT_TC_SPOOL_ERRORS,     /* spool.errors: disk errors (ENOSPC, I/O) */
    OMT_TC_DEADLETTER_BATCHES, /* deadletter.batches */
    OMT_TC_DEADLETTER_MSGS,  /* deadletter.msgs */
    OMT_TC_DEADLETTER_BYTES, /* deadletter.bytes: bytes appended to the dead-letter file */
    OMT_TC_DEADLETTER_ROTATIONS, /* deadletter.rotations: rotations at deadletter.maxSize */
    OMT_TC_DEADLETTER_DROPPED, /* deadletter.dropped: rejected messages too large for the file */
    OMT_TC_REFUSED,          /* refused: messages refused while blocked (rsyslog retries them) */
    OMT_TC_DROPPED_BLOCKED,  /* dropped.blocked: blocked with blocked.maxMemory used: dropped */
    OMT_TC_INVALID,          /* invalid: messages the body format cannot carry (dropped) */
    OMT_TC_LOST_MSGS,        /* lost.msgs: neither delivered nor spooled at shutdown */
    OMT_TC_BLOCKED,          /* blocked: 1 while the tenant is blocked (gauge) */
    OMT_TC_CTX_WITHHELD,     /* ctx.withheld: messages whose record left out host-wide $!ctx fields */
    OMT_TC_RECONFIG_RETRIES, /* reconfig.retries: timer tries of a HUP's batch settings (open batch still filling) */
    OMT_TC_RECONFIG_PENDING, /* reconfig.pending: 1 while a HUP's batch settings wait (gauge) */
    OMT_TC_PARTIAL_BATCHES,  /* partial.batches: batches the server took in part (per-item failures) */
    OMT_TC_PARTIAL_RETRIED,  /* partial.retried: their messages sent again in a new batch */
    OMT_TC_PARTIAL_REJECTED, /* partial.rejected: their messages refused for good (dead-lettered) */
    OMT_TC_REPLY_UNREADABLE, /* reply.unreadable: 2xx replies the format could not read (delivered, logged) */
    OMT_TC_COUNT
};
extern const char *const omt_tenant_counter_names[OMT_TC_COUNT];

/* impstats counters of the action */
enum {
    OMT_MC_MSGS = 0,         /* msgs: messages processed */
    OMT_MC_NO_TENANT,        /* dropped.notenant: no entry for the tenant and no "default" */
    OMT_MC_DEFAULT,          /* routed.default: sent to "default" */
    OMT_MC_REDACT_ERRORS,    /* redact.errors: redaction failed (message withheld) */
    OMT_MC_RELOADS,          /* tenants.reloads: successful HUP reloads (was: reloads) */
    OMT_MC_RELOAD_ERRORS,    /* tenants.reload.errors (was: reload.errors) */
    OMT_MC_SPOOL_QUARANTINED, /* spool.quarantined: spools of another tenant or destination moved aside */
    OMT_MC_MEMO_HITS,        /* ctxmemo.hits: $!ctx documents and members found in the record builder's memo */
    OMT_MC_MEMO_MISSES,      /* ctxmemo.misses: not found (redacted afresh) */
    OMT_MC_ML_OPENED,        /* multiline.opened: secrets over several messages opened (redact_multi.h) */
    OMT_MC_ML_CLOSED,        /* multiline.closed: ... closed by their end marker */
    OMT_MC_ML_LINES,         /* multiline.lines: messages after a begin redacted because its secret was open */
    OMT_MC_ML_EVICTED,       /* multiline.evicted: open secrets dropped for a new one (maxSenders reached) */
    OMT_MC_ML_TIMEOUTS,      /* multiline.timeouts: open secrets forgotten after the timeout without a line */
    OMT_MC_ML_OVERLONG,      /* multiline.overlong: closed after maxLines lines without an end */
    OMT_MC_ML_OPEN,          /* multiline.open: open now (gauge) */
    OMT_MC_COUNT
};
extern const char *const omt_module_counter_names[OMT_MC_COUNT];

/* the redaction rules of one generation, with their per-rule counters */
typedef struct omt_rules {
    ctx_redact_rules *r;
    int nrules;
    uint64_t *hits;          /* per rule, atomics; read by the stats notifier */
    intctr_t *ctr;           /* per rule, the statsobj's cells */
    uint64_t *ctr_last;      /* per rule, hits at the last publication (plugins/common/statsctr.h) */
    int refs;                /* atomic */
} omt_rules_t;

typedef struct omt_tenant {
    struct omt_tenant *next;     /* the instance's list (append-only, under inst->mu) */
    char id[CTX_TENANT_ID_MAX + 1];
    char stamp[CTX_SPOOL_STAMP_LEN]; /* the tenant and destination its spool is for (omtenant_stamp.c) */
    ctx_batch_format_t body;     /* the batch format its pipeline makes now (set with stamp) */
    char fmt_stamp[16][CTX_SPOOL_STAMP_LEN]; /* per batch format: the stamp of its last destination in
                                                this process ("": none), whose batches may be pending */
    ctx_dest_t *dest;
    uint64_t msgs, redactions, refused, invalid; /* atomics */
    uint64_t withheld;           /* atomic: messages whose record left out host-wide $!ctx fields */
    statsobj_t *stats;           /* "omtenant(<tenant>)" */
    intctr_t ctr[OMT_TC_COUNT];
    uint64_t ctr_last[OMT_TC_COUNT]; /* totals at the last publication (plugins/common/statsctr.h) */
} omt_tenant_t;

/* one entry of a routing snapshot */
typedef struct {
    const ctx_tenant_t *t;       /* borrowed from the snapshot's set */
    omt_tenant_t *ot;
    const ctx_redact_set *set;   /* borrowed from the snapshot's rules */
    ctx_outrec_kind_t kind;      /* the default record for its transport */
} omt_route_ent_t;

typedef struct {
    ctx_tenants_t *set;          /* one reference */
    omt_rules_t *rules;          /* one reference */
    size_t n;
    omt_route_ent_t *ent;        /* n entries, file order */
    size_t nb;                   /* hash buckets (power of two) */
    int32_t *bucket;             /* index into ent, -1 empty (open addressing) */
    omt_route_ent_t *dflt;       /* the "default" entry, or NULL */
} omt_route_t;

typedef struct _instanceData {
    /* config */
    char *tenants_path;
    char *tenant_property;       /* "$!ctx!vm!tenant" */
    char *template_name;         /* NULL: the built-in record */
    char *name;                  /* statistics name */
    char *spool_dir;
    char *deadletter_dir;
    char *redact_rules_path;     /* NULL: built-in rules */
    char *redact_key_path;
    int ml_max_senders, ml_timeout_ms, ml_max_lines; /* redaction.multiline.*: secrets over several messages (0: default) */
    char *ml_begin, *ml_end, *ml_name;
    ctx_redact_multi *multi;     /* their open secrets, shared by the workers (made by omt_validate) */
    uint64_t deadletter_max_bytes; /* a tenant's dead-letter file rotates at this size */
    uint64_t hold_max_bytes;     /* blocked.maxMemory: what a blocked tenant may still hold in memory */
    int deadletter_keep;         /* rotated dead-letter files kept */
    int level;                   /* zstd / gzip level */
    int max_pending;
    int memo_entries;            /* ctxMemo.entries: the record builder's $!ctx memo per worker (0: off) */
    int write_ahead;
    int backoff_initial_ms, backoff_max_ms;
    int connect_timeout_ms, send_timeout_ms, shutdown_timeout_ms;
    ctx_tenants_t *loaded;       /* the tenants file as validated at config load */
    omt_rules_t *loaded_rules;   /* the rules as validated at config load */
    /* run time */
    pthread_mutex_t mu;
    int started;
    ctx_slot_t *route;           /* the current omt_route_t (HUP swaps; made by omt_start) */
    omt_tenant_t *tenants;       /* every tenant ever configured (under mu) */
    pthread_t timer;
    int timer_running;
    int stop;                    /* atomic */
    uint64_t mctr_val[OMT_MC_COUNT]; /* atomics */
    statsobj_t *stats;           /* "omtenant(<name>)" */
    intctr_t mctr[OMT_MC_COUNT];
    uint64_t mctr_last[OMT_MC_COUNT];
    intctr_t mctr_alias[2];      /* deprecated names: reloads, reload.errors */
    uint64_t mctr_alias_last[2];
    statsobj_t *rules_stats;     /* "omtenant(<name>)-redaction": one counter per rule */
    omt_rules_t *rules_shown;    /* the generation rules_stats reports (one reference) */
    struct _instanceData *next_loaded; /* instances of the config being loaded */
} instanceData;

/* per worker */
typedef struct {
    ctx_batch_encoder_t *enc;
    ctx_outrec_t *rec;
    ctx_redact_ctx *rx;
    omt_rules_t *rx_rules;       /* the rules rx belongs to (one reference) */
    uint64_t *scratch;           /* per-rule counts taken from rx */
    omt_tenant_t *blocked_on;    /* tenant that refused the last transaction, for tryResume */
    const omt_route_ent_t **ents; /* the route of each message of the transaction */
    unsigned nents;              /* allocated entries */
    uint64_t memo_hits, memo_misses; /* the record builder's memo counts already added to the counters */
    int pem_rule;                /* rule number of pem-private-key in rx_rules (CTX_ENOENT: none) */
    uint64_t now_ms;             /* the transaction's time (clock.h), for the multi-line tracker */
} omt_wrk_t;

static inline void omt_add(uint64_t *ctr, uint64_t n) {
    __atomic_add_fetch(ctr, n, __ATOMIC_RELAXED);
}

/* the templates omtenant asks rsyslog for, by slot (omt_request_templates) */
enum {
    OMT_TPL_TENANT = 0, /* the tenant property */
    OMT_TPL_HDR,        /* PRI 0x1f TIMESTAMP 0x1f HOSTNAME 0x1f APP-NAME 0x1f PROCID 0x1f MSGID 0x1f
                           %timegenerated% (received) */
    OMT_TPL_MSG,        /* %msg% */
    OMT_TPL_SD,         /* %structured-data% */
    OMT_TPL_CTX,        /* %$!ctx% */
    OMT_TPL_COUNT       /* 5: rsyslog gives an output module at most 5 strings (CONF_OMOD_NUMSTRINGS_MAXSIZE) */
};
#define OMT_TPL_CUSTOM 1 /* with template=: the operator's template */
#define OMT_TPL_TMETA 2  /* with template=: $!ctx!capture!truncated 0x1f $!ctx!vm!uuid 0x1f HOSTNAME 0x1f APP-NAME */
#define OMT_TPL_TMSG 3   /* with template=: %msg% (found in the output: cut tail, multi-line secrets) */

/* omtenant_conf.c */
int omt_check_formats(const instanceData *pData, const ctx_tenants_t *set, char *err, size_t errlen);
void omt_set_defaults(instanceData *pData);
rsRetVal omt_set_param(instanceData *pData, const char *name, struct cnfparamvals *v);
rsRetVal omt_validate(instanceData *pData);
rsRetVal omt_dirs(instanceData *pData, rsconf_t *conf);
rsRetVal omt_request_templates(instanceData *pData, rsconf_t *conf, omodStringRequest_t *pOMSR);
int omt_num_templates(const instanceData *pData);

/* omtenant_route.c */
omt_rules_t *omt_rules_load(instanceData *pData, char *err, size_t errlen);
omt_rules_t *omt_rules_ref(omt_rules_t *r);
/* omtenant_stamp.c */
int omt_stamp_before_open(instanceData *pData, const ctx_tenant_t *t, const char *spool, char *stamp, size_t len);
void omt_stamp_after_open(const ctx_tenant_t *t, const char *spool, const char *stamp);
int omt_stamp_reload_check(omt_tenant_t *ot, const ctx_tenant_t *t, char *err, size_t errlen);
void omt_stamp_reload_apply(instanceData *pData, omt_tenant_t *ot, const ctx_tenant_t *t);
void omt_rules_check_views(const instanceData *pData, const ctx_tenants_t *set, const omt_rules_t *rules);
/* with a template and a "vm-only" tenant: 1 and the warning in buf (the template's output is not
 * filtered per tenant: docs/omtenant.md, "The record"); else 0 */
int omt_template_view_warning(const instanceData *pData, const ctx_tenants_t *set, char *buf, size_t len);
void omt_rules_release(omt_rules_t *r);
/* Starts the action (directories, counters, routing, timer). On failure, why says what
 * failed in a few words (details were logged). */
rsRetVal omt_start(instanceData *pData, char *why, size_t whylen);
void omt_stop(instanceData *pData);
void omt_reload(instanceData *pData);
const omt_route_ent_t *omt_route_find(const omt_route_t *rt, const char *id, size_t len, int *used_default);

/* omtenant_transport.c */
int omt_transport_new(const instanceData *pData, const ctx_tenant_t *t, ctx_dest_transport_t *out, char *err,
                      size_t errlen);

/* omtenant_stats.c */
rsRetVal omt_stats_module(instanceData *pData);
rsRetVal omt_stats_tenant(instanceData *pData, omt_tenant_t *ot);
rsRetVal omt_stats_rules(instanceData *pData, omt_rules_t *r);
void omt_stats_destruct(statsobj_t **s);
void omt_stats_free_all(instanceData *pData);
void omt_stats_set_obj(statsobj_if_t *statsobj_if);

/* omtenant_commit.c */
omt_wrk_t *omt_wrk_new(void);
void omt_wrk_free(omt_wrk_t *w);
rsRetVal omt_commit(instanceData *pData, omt_wrk_t *w, actWrkrIParams_t *pParams, unsigned nParams);
rsRetVal omt_try_resume(omt_wrk_t *w);

#endif
