/* imctxcap.h: what the files of imctxcap share (included after rsyslog's headers).
 *
 * Concurrency: every field marked "config" is written on the config thread and
 * read-only once activateCnf ran. "capture thread" fields are owned by the
 * worker's capture thread. The profile store is read through its slot (profiles.h).
 */
#ifndef IMCTXCAP_H
#define IMCTXCAP_H

#include <pthread.h>
#include <stdint.h>
#include <sys/time.h>

#include <json.h>

#include "ctxlog_common.h"
#include "slot.h"
#include "statsctr.h"

#define IMCTXCAP_IFNAMELEN 16 /* IFNAMSIZ: an interface name and its NUL */

typedef enum { IMCTXCAP_UNATTR_DROP = 0, IMCTXCAP_UNATTR_PASS = 1 } imctxcap_unattr_t;

/* impstats counters of one instance; names in imctxcap_counter_names[] */
enum {
    IMCTXCAP_CTR_PACKETS = 0,     /* packets.seen: frames the filter let through */
    IMCTXCAP_CTR_SUBMITTED,       /* msgs.submitted */
    IMCTXCAP_CTR_MALFORMED,       /* packets.malformed */
    IMCTXCAP_CTR_UNATTRIBUTED,    /* msgs.unattributed (dropped or passed as the policy says) */
    IMCTXCAP_CTR_UNATTR_DROPPED,  /* msgs.unattributed.dropped */
    IMCTXCAP_CTR_TRUNCATED,       /* msgs.truncated: payload longer than maxMessageSize */
    IMCTXCAP_CTR_EMPTY,           /* msgs.empty: zero-length payload, dropped */
    IMCTXCAP_CTR_FRAG_REASM,      /* fragments.reassembled (datagrams) */
    IMCTXCAP_CTR_FRAG_TIMEOUT,    /* fragments.timedout (datagrams) */
    IMCTXCAP_CTR_FRAG_DROPPED,    /* fragments.dropped: bad, overlapping or over the memory bound */
    IMCTXCAP_CTR_KERNEL_DROPS,    /* kernel.drops: frames dropped for a full ring, summed over workers */
    IMCTXCAP_CTR_IF_ATTACHED,     /* interfaces.attached: currently attached (a gauge) */
    IMCTXCAP_CTR_IF_ATTACH_EVENTS,/* interfaces.attach.events */
    IMCTXCAP_CTR_IF_DETACH_EVENTS,/* interfaces.detach.events */
    IMCTXCAP_CTR_PROFILE_RELOADS, /* profiles.reloads */
    IMCTXCAP_CTR_PROFILE_RELOAD_ERR, /* profiles.reload.errors */
    IMCTXCAP_CTR_SUBMIT_ERR,      /* msgs.submit.errors: rsyslog refused a message (out of memory) */
    IMCTXCAP_CTR_STALE,           /* packets.stale: frames of an interface detached while they sat in the ring */
    IMCTXCAP_CTR_FRAG_EVICTED,    /* fragments.evicted: datagrams evicted by fragment.maxMemory (all workers) */
    IMCTXCAP_CTR_FRAG_EVICTED_QUOTA, /* fragments.evicted.quota: datagrams evicted by fragment.maxMemoryPerVnic */
    IMCTXCAP_CTR_FRAG_OVERLAP,    /* fragments.overlap: datagrams discarded for overlapping fragments */
    IMCTXCAP_CTR_FRAG_TRUNCATED,  /* fragments.refused.truncated: fragments cut by snapLen */
    IMCTXCAP_CTR_FRAG_TOOLARGE,   /* fragments.refused.toolarge: datagram alone over the quota / bound */
    IMCTXCAP_CTR_FRAG_DISCARDED,  /* fragments.refused.discarded: fragments of a datagram discarded earlier */
    IMCTXCAP_CTR_FRAG_BADL4,      /* fragments.refused.badheader: reassembled datagrams with a bad UDP/TCP header */
    IMCTXCAP_CTR_FRAG_PENDING,    /* fragments.pending: incomplete datagrams held now (a gauge) */
    IMCTXCAP_CTR_FRAG_MEMORY,     /* fragments.memory: bytes they hold now (a gauge) */
    IMCTXCAP_CTR_SPOOFED,         /* msgs.spoofed: source MAC or IP of another VM than the sender ($!ctx!vm!spoof) */
    IMCTXCAP_CTR_OVERBUDGET,      /* packets.overbudget: frames over their vNIC's budget, dropped before decoding */
    IMCTXCAP_CTR_IF_ATTACH_ERRORS, /* interfaces.attach.errors: attaches that failed (summed over workers) */
    IMCTXCAP_CTR_VM_SHARED,       /* msgs.vm.shared: messages whose $!ctx!vm is a reference to a shared object */
    IMCTXCAP_CTR_LV_EVENTS,       /* profiles.libvirt.events: domain events received */
    IMCTXCAP_CTR_LV_UPDATES,      /* profiles.libvirt.updates: profile sets installed from libvirt */
    IMCTXCAP_CTR_LV_ERRORS,       /* profiles.libvirt.errors: failed scans, domains with values left out */
    IMCTXCAP_CTR_LV_RECONNECTS,   /* profiles.libvirt.reconnects: connections lost (then retried) */
    IMCTXCAP_CTR_LV_CONNECTED,    /* profiles.libvirt.connected: 1 while connected (a gauge) */
    IMCTXCAP_CTR_LV_DOMAINS,      /* profiles.libvirt.domains: domains in the last scan (a gauge) */
    IMCTXCAP_CTR_OVERBUDGET_UNLISTED, /* packets.overbudget.unlisted: of VMs without an object (vm.maxStatsObjects) */
    IMCTXCAP_CTR_OVERBUDGET_NOVM, /* packets.overbudget.novm: of vNICs that resolve to no VM */
    IMCTXCAP_CTR_MEM_TRIMS,       /* memory.trims: freed memory handed back after a burst (imctxcap_worker.c) */
    IMCTXCAP_CTR_COUNT
};
extern const char *const imctxcap_counter_names[IMCTXCAP_CTR_COUNT];

struct imctxcap_packet_state; /* below */
#define IMCTXCAP_BATCH 1024        /* most messages submitted to rsyslog at once */
#define IMCTXCAP_STRS_SLOTS 256    /* per worker: $!ctx!capture strings shared (addresses, protocol) */

/* rsyslog's im-helper.h wants the instance type to be instanceConf_t */
typedef instanceConf_t imctxcap_inst_t;
struct instanceConf_s {
    /* config */
    char **interfaces;            /* NULL-terminated names / globs */
    uint16_t *udp_ports;
    size_t n_udp_ports;
    char *profiles_path;          /* "profiles": a file, or NULL */
    char *libvirt_uri;            /* "profiles.libvirt": a URI, or NULL */
    imctxcap_unattr_t unattributed;
    char *unattr_tenant;          /* tenant given to unattributed messages (default "unknown") */
    uchar *pszBindRuleset;
    ruleset_t *pBindRuleset;
    char *name;                   /* statistics name: imctxcap(<name>) */
    size_t ring_bytes;
    int snaplen;
    unsigned frag_timeout_ms;
    size_t frag_max_bytes;
    size_t frag_max_bytes_vnic;   /* fragment.maxMemoryPerVnic; 0: a quarter of frag_max_bytes */
    int n_workers;                /* capture workers (one PACKET_FANOUT group when > 1) */
    uint16_t *tcp_ports;          /* tcp.port (default 514, 601); none: no TCP capture (imctxcap_tcp.c) */
    size_t n_tcp_ports;
    struct imctxcap_tcp *tcp;     /* the other tcp.* settings and the TCP counters (imctxcap_tcp.c) */
    uint64_t vm_max_pps;          /* vm.maxPacketsPerSecond per vNIC (0: off) */
    uint64_t vm_max_bps;          /* vm.maxBytesPerSecond per vNIC (0: off) */
    size_t vm_max_stats;          /* vm.maxStatsObjects: most per-VM impstats objects (imctxcap_vmstats.c) */
    struct imctxcap_vmstats *vmstats; /* per-VM counters of frames over budget; NULL when the budget is off */
    int share_vm;                 /* 1: $!ctx!vm is shared (imctxcap_vmshare.c); 0 when a template names it */
    struct ctx_vmbudget **budgets; /* one per worker (each its share of the rates), NULL when both are off;
                                    * budgets[i] is used by worker i only */
    /* run time */
    prop_t *pInputName;           /* borrowed from the module */
    statsobj_t *stats;
    intctr_t ctr[IMCTXCAP_CTR_COUNT];
    uint64_t ctr_last[IMCTXCAP_CTR_COUNT]; /* totals at the last imctxcap_ctr_set() (plugins/common/statsctr.h) */
    DEF_ATOMIC_HELPER_MUT64(mut_ctr);
    pthread_t tid;
    int running;
    struct imctxcap_packet_state *pkt; /* profiles, decoder state (imctxcap_packet.c) */
    imctxcap_inst_t *next;
};

/* gauges (values now) are not reset by impstats' resetCounters */
static inline int imctxcap_ctr_is_gauge(int which) {
    return which == IMCTXCAP_CTR_IF_ATTACHED || which == IMCTXCAP_CTR_FRAG_PENDING || which == IMCTXCAP_CTR_FRAG_MEMORY ||
           (which >= IMCTXCAP_CTR_LV_EVENTS && which <= IMCTXCAP_CTR_LV_DOMAINS); /* the source's own totals */
}

static inline void imctxcap_ctr_add(imctxcap_inst_t *inst, int which, uint64_t n) {
    __atomic_fetch_add(&inst->ctr[which], n, __ATOMIC_RELAXED);
}
/* a gauge's value now, or a counter's running total (published as what it gained) */
static inline void imctxcap_ctr_set(imctxcap_inst_t *inst, int which, uint64_t v) {
    if (imctxcap_ctr_is_gauge(which))
        statsctr_gauge(&inst->ctr[which], v);
    else
        statsctr_publish(&inst->ctr[which], &inst->ctr_last[which], v);
}

#define IMCTXCAP_VMCACHE 8 /* per worker: vNICs whose per-VM over-budget cell is remembered */
struct imctxcap_vmcache {
    char ifname[IMCTXCAP_IFNAMELEN];
    uint64_t gen;                 /* profile generation it was resolved with */
    intctr_t *cell;               /* NULL: empty */
};

/* One capture worker: owned by its thread (see imctxcap_worker.c). */
typedef struct imctxcap_worker_s {
    imctxcap_inst_t *inst;        /* borrowed */
    int index;                    /* 0 .. n_workers-1; worker 0 publishes the counters */
    int ready;                    /* set (release) once cap and frag exist */
    int started;                  /* a thread was created for it (index > 0) */
    pthread_t tid;
    int (*term_state)(void);
    struct ctx_capture *cap;
    struct ctx_ipfrag *frag;
    struct ctx_tcpreasm *tcp;     /* TCP reassembler; NULL when TCP capture is off (imctxcap_tcp.c) */
    ctx_slot_reader_t prof;       /* this worker's reference to the current profiles */
    uint64_t prof_gen;            /* the generation of the profiles its vmshare memo is of */
    prop_t *from_prop;            /* last fromhost / fromhost-ip, reused while the source is the same */
    struct imctxcap_vmshare *vmshare; /* this worker's $!ctx!vm memo (imctxcap_vmshare.c), NULL until used */
    struct ctx_json_intern *strs; /* $!ctx!capture's per-flow strings, shared (jsonintern.h); NULL until used */
    uint64_t trim_pending;        /* messages submitted since the last trim (imctxcap_worker.c: trim_tick) */
    uint64_t trim_seen;           /* trim_pending at the previous tick */
    uint64_t quiet_since_ms;      /* when trim_pending last changed */
    struct imctxcap_vmcache vmcache[IMCTXCAP_VMCACHE]; /* imctxcap_vmstats.c */
    multi_submit_t multi;         /* messages of this poll round, submitted together (one queue lock) */
    smsg_t *msgs[IMCTXCAP_BATCH];
} imctxcap_worker_t;

/* Shared by an input's workers. slot and globs: see imctxcap_worker.c. */
struct imctxcap_packet_state {
    struct ctx_profsrc *src;          /* the shared profile source (profsrc.h): one reference */
    ctx_slot_t *slot;             /* src's slot (common/base/slot.h) */
    struct ctx_ifglob *globs;
    int max_line;                 /* rsyslog's maxMessageSize, read at run start */
    int fanout_group;             /* the workers' PACKET_FANOUT group id (chosen by the kernel), -1: none */
    imctxcap_worker_t *workers;   /* n_workers of them */
};

/* imctxcap_worker.c */
void imctxcap_set_objs(void *prop_if, void *datetime_if, void *glbl_if);
int imctxcap_check_patterns(const char *const *patterns, char *err, size_t errlen);
rsRetVal imctxcap_packet_init(imctxcap_inst_t *inst);
void imctxcap_packet_start(imctxcap_inst_t *inst); /* activation: starts the libvirt watcher */  /* loads and validates the profiles */
void imctxcap_packet_destroy(imctxcap_inst_t *inst);
void imctxcap_packet_hup(imctxcap_inst_t *inst);
/* runs the capture workers until term_state() is non-zero */
void imctxcap_capture_run(imctxcap_inst_t *inst, int (*term_state)(void));
/* imctxcap_packet.c: the per-packet path (capture callbacks; ud is the worker) */
void imctxcap_packet_set_objs(void *prop_if, void *datetime_if);
void imctxcap_on_packet(void *ud, const char *ifname, unsigned ifindex, const struct timeval *ts, const uint8_t *frame,
                        size_t caplen, size_t wirelen);
void imctxcap_on_round(void *ud);
/* an interface was detached: forget its budget and end its TCP connections (called on
 * every worker's thread by its capture engine's on_detach) */
void imctxcap_interface_gone(imctxcap_worker_t *w, const char *ifname);
/* imctxcap_budget.c: the per-worker budgets of vm.maxPacketsPerSecond / vm.maxBytesPerSecond */
rsRetVal imctxcap_budget_init(imctxcap_inst_t *inst); /* config thread */
void imctxcap_budget_free(imctxcap_inst_t *inst);
/* 1 if the frame is within its vNIC's budget, else 0 (counted in packets.overbudget); worker w's thread */
int imctxcap_within_budget(imctxcap_worker_t *w, const char *ifname, size_t wirelen);
/* imctxcap_vmstats.c: frames over budget counted per VM (one impstats object each) */
rsRetVal imctxcap_vmstats_init(imctxcap_inst_t *inst, statsobj_if_t *so); /* activation, after the budgets */
void imctxcap_vmstats_free(imctxcap_inst_t *inst);
void imctxcap_vmstats_overbudget(imctxcap_worker_t *w, const char *ifname); /* worker w's thread */
/* the worker's current profiles (a new set is taken when a HUP installed one); w's thread */
struct ctx_profiles;
struct ctx_profiles *imctxcap_profiles(imctxcap_worker_t *w);
struct ctx_pkt;
/* attribute one payload (UDP datagram) to its VM and submit it */
void imctxcap_deliver(imctxcap_worker_t *w, const char *ifname, const struct timeval *ts, const struct ctx_pkt *p);
/* submit one payload (a TCP frame) as the VM *a says (attributed when its connection began) */
struct ctx_attribution;
void imctxcap_deliver_as(imctxcap_worker_t *w, const char *ifname, const struct timeval *ts, const struct ctx_pkt *p,
                         const struct ctx_attribution *a);
/* attribute a packet's source with the worker's current profiles into *a; returns a new
 * reference to those profiles (the caller unrefs it), which keeps a->vm valid */
struct ctx_profiles *imctxcap_attribute(imctxcap_worker_t *w, const char *ifname, const struct ctx_pkt *p,
                                        struct ctx_attribution *a);
/* keys are string literals: libfastjson need not copy them (saves an allocation each); each
 * caller adds a key once to an object it has just made, so libfastjson need not look for the
 * key first (a linear case-insensitive search: ~300 instructions an add, 9 adds a packet) */
static inline void imctxcap_json_add(struct json_object *o, const char *k, struct json_object *v) {
    json_object_object_add_ex(o, k, v, JSON_C_OBJECT_KEY_IS_CONSTANT | JSON_C_OBJECT_ADD_KEY_IS_NEW);
}
static inline void imctxcap_json_add_str(struct json_object *o, const char *k, const char *v) {
    if (v != NULL) imctxcap_json_add(o, k, json_object_new_string(v));
}
/* imctxcap_vmshare.c: $!ctx!vm of a message: a new reference to the worker's shared,
 * frozen object for this VM and source (a private object for a spoofed packet, or when
 * sharing is off); NULL when out of memory. Capture thread of w only. */
struct json_object *imctxcap_vm_object(imctxcap_worker_t *w, const struct ctx_attribution *a, const char *ifname,
                                       const char *src_ip, const char *src_mac);
void imctxcap_vmshare_clear(imctxcap_worker_t *w); /* w took a new profile set */
void imctxcap_vmshare_free(imctxcap_worker_t *w);
/* imctxcap_tcp.c: TCP capture (tcp.* parameters, one reassembler per worker, counters) */
struct nvlst;
rsRetVal imctxcap_tcp_params(imctxcap_inst_t *inst, struct nvlst *lst);
rsRetVal imctxcap_tcp_stats(imctxcap_inst_t *inst, statsobj_if_t *so);
void imctxcap_tcp_free(imctxcap_inst_t *inst);
int imctxcap_tcp_worker_init(imctxcap_worker_t *w, char *err, size_t errlen);
void imctxcap_tcp_worker_release(imctxcap_worker_t *w);
void imctxcap_tcp_packet(imctxcap_worker_t *w, const char *ifname, const struct timeval *ts, const struct ctx_pkt *p);
void imctxcap_tcp_tick(imctxcap_worker_t *w, uint64_t now_ms);
/* an interface was detached (or is gone): end its TCP connections now (complete messages
 * submitted, unfinished ones per tcp.gap, as the VM they began as), so that nothing of
 * them is left for a later interface of the same name. Capture thread of w only. */
void imctxcap_tcp_interface_gone(imctxcap_worker_t *w, const char *ifname);

#endif
