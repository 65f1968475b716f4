/* mmctxenrich.h: what the files of the mmctxenrich module share (rsyslog glue).
 *
 * mmctxenrich.c        entry points, parameter table, life cycle, HUP
 * mmctxenrich_conf.c   parameter values -> validated settings and objects (config-load thread)
 * mmctxenrich_cm.c     compute manager: fetcher callbacks, lookups, the $!ctx!cm object
 * mmctxenrich_flat.c   per-worker memo of cached parts flattened for copying into messages
 * mmctxenrich_host.c   host sampler: VM list from the profiles, the $!ctx!host object
 * mmctxenrich_msg.c    per message: policy, pruning, attaching, drop marker
 * mmctxenrich_names.c  per-worker list of VM names more than one profile has
 * mmctxenrich_share.c  per-worker memo of frozen $!ctx!cm / $!ctx!host objects shared by messages
 * mmctxenrich_stats.c  impstats counters
 *
 * Concurrency (of mmx_inst, i.e. instanceData): every field marked "config" is
 * written on the config-load thread (newActInst) and read-only afterwards. The
 * common/ objects (cache, fetchers, sampler, profiles slot) are thread-safe by
 * their own contracts. `policy` is a reload slot (common/base/slot.h): a HUP swaps it,
 * workers keep a reference and re-take one only when its generation changed. Counters are uint64 cells
 * updated with atomic builtins. Workers (mmx_wrkr) are per worker thread.
 */
#ifndef MMCTXENRICH_H
#define MMCTXENRICH_H

#include <pthread.h>
#include <stdint.h>

#include "cmcache.h"
#include "cmfetch.h"
#include "ctxlog_common.h"
#include "fieldmap.h"
#include "hostsample.h"
#include "policy.h"
#include "profiles.h"
#include "slot.h"

/* impstats counters of one action; names in mmx_counter_names[] (docs/mmctxenrich.md) */
enum mmx_ctr {
    MMX_CTR_PROCESSED,       /* msgs.processed */
    MMX_CTR_DROPPED,         /* msgs.dropped: marked for drop by the policy */
    MMX_CTR_DEFAULTED,       /* policy.defaulted: groups chosen by the built-in defaults */
    MMX_CTR_NOVM,            /* msgs.novm: no $!ctx!vm identity (no per-VM context possible) */
    MMX_CTR_ST_OK,           /* cm.status.ok ... unavailable: $!ctx!cm!status written */
    MMX_CTR_ST_STALE,
    MMX_CTR_ST_PENDING,
    MMX_CTR_ST_UNAVAIL,
    MMX_CTR_CACHE_HITS,      /* copied from the VM cache (cmcache_get_stats) */
    MMX_CTR_CACHE_MISSES,
    MMX_CTR_CACHE_STALE,
    MMX_CTR_CACHE_EVICTIONS,
    MMX_CTR_CACHE_EXPIRED,
    MMX_CTR_CACHE_COALESCED,
    MMX_CTR_CACHE_QFULL,
    MMX_CTR_CACHE_ENTRIES,
    MMX_CTR_CM_REQUESTS,     /* copied from both fetchers (per-VM and host), summed */
    MMX_CTR_CM_OK,
    MMX_CTR_CM_ERRORS,
    MMX_CTR_CM_TIMEOUTS,
    MMX_CTR_CM_BYTES,
    MMX_CTR_CM_HTTP_ERRORS,
    MMX_CTR_CM_TRANSPORT_ERRORS,
    MMX_CTR_CM_PARSE_ERRORS,
    MMX_CTR_CM_TOO_BIG,
    MMX_CTR_CM_REJECTED,
    MMX_CTR_CM_THROTTLED,
    MMX_CTR_CM_UNAUTH,       /* cm.unauthenticated: not sent, no token / session */
    MMX_CTR_CM_UNRESOLVED,   /* cm.unresolved: not sent, a {section.field} placeholder had no value */
    MMX_CTR_CM_RETRY401,     /* cm.auth.retries401: 401 -> new login -> one more try */
    MMX_CTR_AUTH_REQUESTS,   /* cm.auth.requests / failures / renewals (cmauth_get_stats) */
    MMX_CTR_AUTH_FAILURES,
    MMX_CTR_AUTH_RENEWALS,
    MMX_CTR_CM_MAP_PROBLEMS, /* cm.mapping.problems: mapped fields missing / null / wrong type / out of range */
    MMX_CTR_CM_BULK_NAME_CONFLICTS, /* cm.bulk.name.conflicts: bulk items keyed by a name that is no unique key */
    MMX_CTR_CM_NAME_CONFLICTS, /* cm.name.conflicts: messages of a VM without uuid whose name is shared: no lookup */
    MMX_CTR_HOST_VM_ERRORS,  /* host.vm.errors, host.errors: from the latest snapshot */
    MMX_CTR_HOST_ERRORS,
    MMX_CTR_HOST_PASSES,     /* host.passes: sampler passes (snapshot seq) */
    MMX_CTR_HOST_NAME_CONFLICTS, /* host.name.conflicts: VMs found by no name lookup (name shared) */
    MMX_CTR_POLICY_REGEX_ERR,/* policy.regex.errors */
    MMX_CTR_POLICY_RELOADS,  /* policy.reloads: rulebase re-read on HUP */
    MMX_CTR_POLICY_RELOAD_ERRORS,   /* policy.reload.errors: a HUP found a bad rulebase (old one kept) */
    MMX_CTR_PROFILES_RELOADS,       /* profiles.reloads */
    MMX_CTR_PROFILES_RELOAD_ERRORS, /* profiles.reload.errors */
    MMX_CTR_LV_EVENTS,       /* profiles.libvirt.events .. .domains: the profile source's (profsrc.h), */
    MMX_CTR_LV_UPDATES,      /* the same figures as imctxcap's when both use one source */
    MMX_CTR_LV_ERRORS,
    MMX_CTR_LV_RECONNECTS,
    MMX_CTR_LV_CONNECTED,
    MMX_CTR_LV_DOMAINS,
    MMX_CTR_COUNT
};
extern const char *const mmx_counter_names[MMX_CTR_COUNT];
#define MMX_ALIAS_COUNT 11 /* renamed counters still emitted under their old names until 0.3 */

/* Which compute-manager data the context groups need (computed at config time). */
#define MMX_NEED_VM_STATIC 1u  /* per-VM static part (cm.url or cm.bulkUrl) */
#define MMX_NEED_VM_DYNAMIC 2u /* per-VM dynamic part (cm.statsUrl) */
#define MMX_NEED_HOST 4u       /* host part (cm.hostUrl) */

typedef struct mmx_inst {
    struct mmx_inst *next;     /* config: the load's instance list (activateCnf starts them) */
    char *name;                /* config: statistics origin "mmctxenrich(<name>)" */
    /* files */
    char *policy_path;         /* config: NULL = built-in rulebase */
    char *profiles_path;       /* config: NULL = no per-VM host sampling (unless libvirt_uri) */
    char *libvirt_uri;         /* config "profiles.libvirt": NULL = none */
    struct ctx_profsrc *psrc;  /* the shared profile source (profsrc.h), or NULL without one */
    char *mapping_path;        /* config: cm.mapping */
    /* host sampler */
    unsigned sample_interval;  /* config: seconds */
    char *proc_root, *cgroup_root, *cgroup_tmpl, *pidfile_tmpl; /* config */
    char **disk_paths;         /* config: NULL-terminated */
    /* compute manager */
    char *url, *stats_url, *bulk_url, *host_url, *host_name; /* config */
    char *token_file, *user, *password, *ca_file;            /* config */
    char *hostid_url;          /* config: cm.hostIdUrl */
    char *auth_type, *auth_url, *user_domain, *project, *project_domain; /* config: cm.auth ... */
    char *password_file, *appcred_id, *appcred_secret_file; /* config */
    int64_t start_jitter_ms;   /* config: cm.startJitter */
    cmauth_t *auth;            /* shared by both fetchers; NULL without cm.auth */
    char *rate_text;           /* config: cm.ratePerSec as written */
    cmfetch_conf_t fetch_conf; /* config: strings point into the fields above */
    cmcache_conf_t cache_conf; /* config */
    int64_t host_ttl_ms;       /* config: cache.hostTTL, 0 = cache.dynamicTTL */
    unsigned need_standard;    /* config: MMX_NEED_* a standard message asks for */
    unsigned need_verbose;     /* config: MMX_NEED_* a verbose message asks for */
    int64_t bulk_period_ms;    /* config: bulk listing re-requested this often (static TTL / 2) */
    int cm_overlap;            /* config: a field name is mapped by sections feeding different parts */
    int share_cm, share_host;  /* config (activateCnf): groups shared by reference (mmctxenrich_share.c) */
    /* objects */
    ctx_fieldmap *map;         /* config: immutable */
    cmcache_t *cache;          /* per-VM parts (thread-safe) */
    cmcache_t *hcache;         /* the host part: one entry, keyed by host_name */
    cmfetch_t *fetch, *hfetch; /* fetcher threads (started by mmx_start) */
    hostsample_t *hs;          /* sampler thread (started by mmx_start) */
    ctx_slot_t *profiles;      /* current profiles: psrc's slot, or own_profiles (empty) */
    ctx_slot_t *own_profiles;  /* without a source: an empty slot of our own */
    ctx_slot_t *policy;        /* current rulebase (a ctx_policy; HUP swaps) */
    int started;               /* threads started (activation thread only) */
    int64_t wall_offset_ms;    /* realtime - cmcache_clock_ms(), fixed at start */
    int64_t next_bulk_ms;      /* atomic: when to re-request the bulk listing */
    int64_t next_copy_ms;      /* atomic: when a worker next copies the counters */
    uint64_t host_tmpl_refused; /* atomic: VMs not sampled by a {name} template: their name is shared */
    /* statistics */
    void *stats;               /* statsobj_t* (opaque here) */
    uint64_t ctr[MMX_CTR_COUNT];   /* running totals (gauges: values now), atomics */
    uint64_t cell[MMX_CTR_COUNT];  /* the statsobj's cells, published from ctr (plugins/common/statsctr.h) */
    uint64_t cell_last[MMX_CTR_COUNT];
    uint64_t alias_cell[MMX_ALIAS_COUNT]; /* deprecated names (mmctxenrich_stats.c) */
    uint64_t alias_last[MMX_ALIAS_COUNT];
    void **rule_ctrs;          /* ctr_t* per rule of ctr_policy (statsobj managed counters) */
    size_t n_rule_ctrs;
    ctx_policy *ctr_policy;    /* the policy whose cells rule_ctrs point to (held) */
    pthread_mutex_t log_lock;  /* guards the mapping-problem log limiter below */
    int64_t log_next_ms;
    unsigned log_suppressed;
} mmx_inst;

struct mmx_flat;
struct mmx_share;
struct mmx_names;

/* One worker thread's state. */
typedef struct mmx_wrkr {
    mmx_inst *inst;
    ctx_slot_reader_t pol;     /* the policy in use (one reference) */
    ctx_policy_scratch *scratch;
    const hs_snapshot_t *snap; /* held reference (hostsample_refresh) */
    uint64_t fmt_seq;          /* snapshot seq the host texts below were made for */
    char host_cpu[24], host_mem[24], load[3][24], disk_min[24], sampled_at[40];
    struct mmx_flat **memo;    /* flattened cached parts (mmctxenrich_flat.c), lazily allocated */
    struct mmx_share *cm_share;   /* frozen $!ctx!cm objects (mmctxenrich_share.c), lazily allocated */
    struct mmx_share *host_share; /* frozen $!ctx!host objects */
    struct mmx_share *vm_share;   /* frozen pruned copies of imctxcap's shared $!ctx!vm (mmctxenrich_msg.c) */
    struct mmx_names *names;      /* names more than one profile has (mmctxenrich_names.c), lazily built */
} mmx_wrkr;

static inline void mmx_inc(mmx_inst *inst, enum mmx_ctr c) { __atomic_fetch_add(&inst->ctr[c], 1, __ATOMIC_RELAXED); }
static inline void mmx_add(mmx_inst *inst, enum mmx_ctr c, uint64_t n) {
    __atomic_fetch_add(&inst->ctr[c], n, __ATOMIC_RELAXED);
}
static inline void mmx_set(mmx_inst *inst, enum mmx_ctr c, uint64_t v) {
    __atomic_store_n(&inst->ctr[c], v, __ATOMIC_RELAXED);
}

/* ---- mmctxenrich_conf.c (config-load thread) ---- */
struct cnfparamvals;
void mmx_set_defaults(mmx_inst *inst);
/* one parameter; reports with parser_errmsg; rsRetVal */
int mmx_set_param(mmx_inst *inst, const char *name, struct cnfparamvals *v);
/* after all parameters: validates, loads the files, builds the objects (no threads) */
int mmx_finish(mmx_inst *inst);
void mmx_inst_free(mmx_inst *inst);
/* HUP: re-reads the policy and profiles files (keeps the old ones on error, logged) */
void mmx_reload(mmx_inst *inst);
/* starts the sampler and fetcher threads and requests the bulk listing; idempotent */
int mmx_start(mmx_inst *inst);

/* ---- mmctxenrich_cm.c ---- */
/* fetcher callbacks (arg = mmx_inst) */
int mmx_cm_on_reply(void *arg, const cm_request_t *req, struct fjson_object *reply, int64_t now_ms);
int mmx_cm_on_host_reply(void *arg, const cm_request_t *req, struct fjson_object *reply, int64_t now_ms);
void mmx_cm_on_log(void *arg, const char *line);
/* fills {section.field} placeholders (cmfetch_resolve_fn) */
int mmx_cm_resolve(void *arg, const cm_request_t *req, const char *name, size_t n, char *out, size_t outlen,
                   int64_t now_ms);

/* ---- mmctxenrich_cmconf.c (config-load thread) ---- */
/* checks the {placeholders} of the cm.*Url parameters and of the mapping's paths (rsRetVal) */
int mmx_cm_check_templates(mmx_inst *inst);
/* cm.auth: builds inst->auth and sets fetch_conf.auth; report() prints "key: ..." errors */
int mmx_cm_make_auth(mmx_inst *inst, void (*report)(const char *err));
/* The $!ctx!cm object for a message with the given groups (CTX_POLICY_G_*), or NULL when
 * the module has no compute manager. uuid/name may be "" (no identity). */
struct fjson_object *mmx_cm_object(mmx_wrkr *w, unsigned groups, const char *uuid, const char *name, int64_t now);

/* ---- mmctxenrich_flat.c (one worker's memo) ---- */
/* the flattened fields of cached part c (fetched at monotonic fetched_at), or NULL (no memory) */
const struct mmx_flat *mmx_flat_get(mmx_wrkr *w, cmctx_t *c, int64_t fetched_at);
/* adds its fields (all, or the standard group's) to obj; may_exist: a key may already be there */
int mmx_flat_add(struct fjson_object *obj, const struct mmx_flat *fl, int all, int may_exist);
int64_t mmx_flat_fetched_at(const struct mmx_flat *fl);
const char *mmx_flat_fetched_at_text(const struct mmx_flat *fl);
void mmx_flat_free_all(mmx_wrkr *w);

/* ---- mmctxenrich_share.c (one worker's memo of shared groups) ---- */
#define MMX_SHARE_KEY 4
/* a new reference to the frozen object for key k, or NULL */
struct fjson_object *mmx_share_get(struct mmx_share *m, const uintptr_t k[MMX_SHARE_KEY]);
/* freezes obj (takes ownership), keeps it for key k holding held[0..2] (may be NULL),
 * returns a new reference for the message; obj itself (unshared) if it cannot be frozen */
struct fjson_object *mmx_share_put(struct mmx_share **m, const uintptr_t k[MMX_SHARE_KEY], struct fjson_object *obj,
                                   cmctx_t *const held[3]);
/* the same for a group derived from another shared object src (its pointer is in k):
 * the entry keeps a reference to src, so that the key's pointer stays unique */
struct fjson_object *mmx_share_put_src(struct mmx_share **m, const uintptr_t k[MMX_SHARE_KEY],
                                       struct fjson_object *obj, struct fjson_object *src);
void mmx_share_free(struct mmx_share **m);
/* sets inst->share_cm / share_host: off for a group some template names below $!ctx */
struct rsconf_s;
void mmx_share_scan_templates(struct rsconf_s *conf, mmx_inst *inst);

/* ---- mmctxenrich_names.c (one worker's list) ---- */
/* a VM name's 64-bit hash (FNV-1a), and the order of such hashes (qsort, bsearch) */
uint64_t mmx_name_hash(const char *s);
int mmx_cmp_u64(const void *a, const void *b);

/* 1 if more than one profile (of any tenant) has this VM name: a name is then no key */
int mmx_name_shared(mmx_wrkr *w, const char *name);
void mmx_names_free(mmx_wrkr *w);

/* ---- mmctxenrich_host.c ---- */
/* builds the sampler's VM list from a profiles store; 0 or CTX_E* with err */
int mmx_host_set_vms(mmx_inst *inst, const ctx_profiles_t *p, char *err, size_t errlen);
/* The $!ctx!host object (verbose group): the VM's own figures, plus the host-wide ones with
 * hostwide (CTX_POLICY_G_HOSTWIDE); NULL before the first sample, or with neither. */
struct fjson_object *mmx_host_object(mmx_wrkr *w, const char *uuid, const char *tenant, const char *name,
                                     int hostwide);

/* ---- mmctxenrich_stats.c ---- */
int mmx_stats_setup(mmx_inst *inst);                 /* rsRetVal */
void mmx_stats_policy(mmx_inst *inst, ctx_policy *p); /* (re)registers rule.<name> counters */
void mmx_stats_copy(mmx_inst *inst);                 /* copies cache/fetcher/sampler counters */
void mmx_stats_maybe_copy(mmx_inst *inst, int64_t now_ms);
void mmx_stats_destroy(mmx_inst *inst);
void mmx_stats_use(void *statsobj_if);               /* the statsobj interface (modInit) */

/* ---- shared helpers ---- */
/* "2024-05-01T12:00:00.123Z" for wall-clock ms; returns the length */
int mmx_fmt_time_ms(int64_t wall_ms, char *buf, size_t len);

#endif
