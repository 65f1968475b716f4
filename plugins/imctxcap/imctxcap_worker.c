/* imctxcap_worker.c: profiles (load, HUP) and the capture workers of imctxcap.
 *
 * An input has `workers` capture workers. Each runs a capture engine
 * (common/capture/capture.c): one socket and one ring for all matching interfaces. With
 * more than one worker the engines' sockets form one PACKET_FANOUT group (hash of
 * the flow; no kernel defragmentation: the flow hash of an IP fragment, first or
 * later, covers addresses and protocol only, so all fragments of a datagram reach
 * the same worker, which reassembles them itself), so each packet reaches exactly
 * one worker. Worker 0 creates the group with an id the kernel picks among the
 * free ones; the others join it.
 *
 * Concurrency: the profile slot is written by the HUP handler (main thread) and
 * read by the workers (see profiles.h). Each worker's state is its own; worker 0
 * also sums the engines' and fragment tables' statistics into the counters (their
 * getters are safe from any thread). Everything else is read-only after config.
 */
#include "config.h"
#include "rsyslog.h"

#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "dirty.h"
#include "errmsg.h"
#include "glbl.h"
#include "msg.h"
#include "parserif.h"
#include "prop.h"
#include "rsconf.h"
#include "srUtils.h"
#include "statsobj.h"

#include "capture.h"
#include "cnfutil.h"
#include "ifglob.h"
#include "imctxcap.h"
#include "jsonintern.h"
#include "ipfrag.h"
#include "profiles.h"
#include "profsrc.h"

static prop_if_t *p_prop;
static glbl_if_t *p_glbl;

void imctxcap_set_objs(void *prop_if, void *datetime_if, void *glbl_if) {
    p_prop = prop_if;
    p_glbl = glbl_if;
    imctxcap_packet_set_objs(prop_if, datetime_if);
}

static size_t count_list(const char *const *l) {
    size_t n = 0;
    while (l != NULL && l[n] != NULL) ++n;
    return n;
}

int imctxcap_check_patterns(const char *const *patterns, char *err, size_t errlen) {
    ctx_ifglob_t *g = NULL;
    int rc = ctx_ifglob_new_array(patterns, count_list(patterns), &g, err, errlen);
    ctx_ifglob_free(g);
    return rc;
}

/* config load: the profiles file and the patterns are validated here, so that
 * rsyslogd -N1 reports a bad one */
rsRetVal imctxcap_packet_init(imctxcap_inst_t *inst) {
    char err[CTX_ERRLEN];
    struct imctxcap_packet_state *st = NULL;
    DEFiRet;
    if (!ctx_tenant_id_valid(inst->unattr_tenant)) {
        parser_errmsg("imctxcap: parameter 'unattributed.tenant': expected 1..64 characters of [A-Za-z0-9._-], "
                      "got '%s'", inst->unattr_tenant);
        ABORT_FINALIZE(RS_RET_PARAM_ERROR);
    }
    if (inst->profiles_path == NULL && inst->libvirt_uri == NULL) {
        parser_errmsg("imctxcap: parameter 'profiles' or 'profiles.libvirt' is required (a profiles file, a libvirt "
                      "connection URI, or both)");
        ABORT_FINALIZE(RS_RET_PARAM_ERROR);
    }
    CHKmalloc(st = calloc(1, sizeof(*st)));
    if (ctx_profsrc_acquire(inst->profiles_path, inst->libvirt_uri, &st->src, err, sizeof err) != 0) {
        parser_errmsg("imctxcap: parameter '%s': %s", inst->profiles_path ? "profiles" : "profiles.libvirt", err);
        ABORT_FINALIZE(RS_RET_PARAM_ERROR);
    }
    if (ctx_profsrc_overlap(st->src, err, sizeof err)) cnf_warning("imctxcap: warning: %s", err);
    st->slot = ctx_profsrc_slot(st->src);
    if (ctx_ifglob_new_array((const char *const *)inst->interfaces, count_list((const char *const *)inst->interfaces),
                             &st->globs, err, sizeof err) != 0) {
        parser_errmsg("imctxcap: parameter 'interface': %s", err);
        ABORT_FINALIZE(RS_RET_PARAM_ERROR);
    }
    CHKmalloc(st->workers = calloc((size_t)inst->n_workers, sizeof(*st->workers)));
    inst->pkt = st;
    st = NULL;
finalize_it:
    if (st != NULL) {
        ctx_profsrc_release(st->src);
        ctx_ifglob_free(st->globs);
        free(st);
    }
    RETiRet;
}

static void worker_release(imctxcap_worker_t *w) {
    ctx_capture_free(w->cap);
    w->cap = NULL;
    ctx_ipfrag_free(w->frag);
    w->frag = NULL;
    imctxcap_tcp_worker_release(w);
    imctxcap_vmshare_free(w);
    ctx_json_intern_free(w->strs);
    w->strs = NULL;
    ctx_slot_reader_drop(&w->prof);
    if (w->from_prop != NULL) p_prop->Destruct(&w->from_prop);
}

void imctxcap_packet_destroy(imctxcap_inst_t *inst) {
    struct imctxcap_packet_state *st = inst->pkt;
    if (st == NULL) return;
    for (int i = 0; st->workers != NULL && i < inst->n_workers; ++i) worker_release(&st->workers[i]);
    free(st->workers);
    ctx_profsrc_release(st->src);
    ctx_ifglob_free(st->globs);
    free(st);
    inst->pkt = NULL;
}

/* HUP (main thread): re-read the profiles file; a bad file keeps the old profiles.
 * The source is shared with mmctxenrich: whichever handler runs first installs the
 * new file, the other finds the same bytes in use. */
void imctxcap_packet_hup(imctxcap_inst_t *inst) {
    char err[CTX_ERRLEN];
    int changed = 0;
    if (inst->pkt == NULL || inst->profiles_path == NULL) return;
    if (ctx_profsrc_reload(inst->pkt->src, &changed, err, sizeof err) != 0) {
        imctxcap_ctr_add(inst, IMCTXCAP_CTR_PROFILE_RELOAD_ERR, 1);
        LogError(0, RS_RET_CONF_PARSE_ERROR, "imctxcap: profiles not reloaded, keeping the previous ones: %s", err);
        return;
    }
    ctx_profiles_t *prof = ctx_profsrc_get(inst->pkt->src);
    size_t n = ctx_profiles_count(prof);
    ctx_profiles_unref(prof);
    imctxcap_ctr_add(inst, IMCTXCAP_CTR_PROFILE_RELOADS, 1);
    LogMsg(0, NO_ERRCODE, LOG_INFO, "imctxcap: reloaded profiles from '%s': %zu VMs%s", inst->profiles_path, n,
           changed ? "" : " (unchanged)");
}

static void lv_log(int level, const char *line) {
    if (level >= 2)
        LogError(0, RS_RET_ERR, "ctxlog profiles: %s", line);
    else
        LogMsg(0, NO_ERRCODE, level == 1 ? LOG_WARNING : LOG_INFO, "ctxlog profiles: %s", line);
}

/* activation: the libvirt watcher (if any) starts following domains */
void imctxcap_packet_start(imctxcap_inst_t *inst) {
    char err[CTX_ERRLEN];
    if (inst->pkt != NULL && ctx_profsrc_start(inst->pkt->src, lv_log, err, sizeof err) != 0)
        LogError(0, RS_RET_ERR, "imctxcap(%s): profiles.libvirt: %s", inst->name, err);
}

/* the profile source's libvirt counters (shared with mmctxenrich: the same figures) */
static void publish_profsrc(imctxcap_inst_t *inst) {
    ctx_profsrc_stats_t ps;
    ctx_profsrc_stats(inst->pkt->src, &ps);
    imctxcap_ctr_set(inst, IMCTXCAP_CTR_LV_EVENTS, ps.events);
    imctxcap_ctr_set(inst, IMCTXCAP_CTR_LV_UPDATES, ps.lv_updates);
    imctxcap_ctr_set(inst, IMCTXCAP_CTR_LV_ERRORS, ps.lv_errors);
    imctxcap_ctr_set(inst, IMCTXCAP_CTR_LV_RECONNECTS, ps.reconnects);
    imctxcap_ctr_set(inst, IMCTXCAP_CTR_LV_CONNECTED, ps.connected);
    imctxcap_ctr_set(inst, IMCTXCAP_CTR_LV_DOMAINS, ps.domains);
}

static void on_log(void *ud, int level, const char *msg) {
    imctxcap_worker_t *w = ud;
    if (w->index > 0 && level < 2) return; /* attach/detach notices: once per input, not per worker */
    if (level >= 2)
        LogError(0, RS_RET_ERR, "imctxcap(%s): %s", w->inst->name, msg);
    else
        LogMsg(0, NO_ERRCODE, level == 1 ? LOG_WARNING : LOG_INFO, "imctxcap(%s): %s", w->inst->name, msg);
}

/* the capture engines' counters, summed; an interface counts as attached once every
 * worker has it (the attach / detach events are worker 0's) */
static void publish_capture(imctxcap_inst_t *inst) {
    uint64_t drops = 0, stale = 0, attach_errors = 0;
    struct ctx_capture_stats cs0 = {0};
    for (int i = 0; i < inst->n_workers; ++i) {
        imctxcap_worker_t *x = &inst->pkt->workers[i];
        struct ctx_capture_stats cs;
        if (__atomic_load_n(&x->ready, __ATOMIC_ACQUIRE) == 0) continue;
        ctx_capture_get_stats(x->cap, &cs);
        if (i == 0 || cs.attached < cs0.attached) {
            uint64_t events_attach = i == 0 ? cs.attach_events : cs0.attach_events;
            uint64_t events_detach = i == 0 ? cs.detach_events : cs0.detach_events;
            cs0 = cs;
            cs0.attach_events = events_attach;
            cs0.detach_events = events_detach;
        }
        drops += cs.kernel_drops;
        stale += cs.stale;
        attach_errors += cs.attach_errors;
    }
    imctxcap_ctr_set(inst, IMCTXCAP_CTR_KERNEL_DROPS, drops);
    imctxcap_ctr_set(inst, IMCTXCAP_CTR_STALE, stale);
    imctxcap_ctr_set(inst, IMCTXCAP_CTR_IF_ATTACH_ERRORS, attach_errors);
    imctxcap_ctr_set(inst, IMCTXCAP_CTR_IF_ATTACHED, cs0.attached);
    imctxcap_ctr_set(inst, IMCTXCAP_CTR_IF_ATTACH_EVENTS, cs0.attach_events);
    imctxcap_ctr_set(inst, IMCTXCAP_CTR_IF_DETACH_EVENTS, cs0.detach_events);
}

/* the fragment tables' counters, summed over the workers: which field feeds which counter
 * (bytes_in_use and datagrams_in_use are size_t, the rest uint64_t) */
#define FRAG_U64(field, ctr) {offsetof(struct ctx_ipfrag_stats, field), ctr}
static const struct {
    size_t off;
    int ctr;
} FRAG_CTRS[] = {
    FRAG_U64(reassembled, IMCTXCAP_CTR_FRAG_REASM),         FRAG_U64(timed_out, IMCTXCAP_CTR_FRAG_TIMEOUT),
    FRAG_U64(evicted, IMCTXCAP_CTR_FRAG_EVICTED),           FRAG_U64(evicted_quota, IMCTXCAP_CTR_FRAG_EVICTED_QUOTA),
    FRAG_U64(overlaps, IMCTXCAP_CTR_FRAG_OVERLAP),          FRAG_U64(refused_truncated, IMCTXCAP_CTR_FRAG_TRUNCATED),
    FRAG_U64(refused_too_large, IMCTXCAP_CTR_FRAG_TOOLARGE), FRAG_U64(refused_discarded, IMCTXCAP_CTR_FRAG_DISCARDED),
    FRAG_U64(bad_l4, IMCTXCAP_CTR_FRAG_BADL4),
};
#undef FRAG_U64

static void publish_fragments(imctxcap_inst_t *inst) {
    uint64_t sum[sizeof FRAG_CTRS / sizeof FRAG_CTRS[0]] = {0};
    uint64_t pending = 0, memory = 0;
    for (int i = 0; i < inst->n_workers; ++i) {
        imctxcap_worker_t *x = &inst->pkt->workers[i];
        struct ctx_ipfrag_stats fs;
        if (__atomic_load_n(&x->ready, __ATOMIC_ACQUIRE) == 0) continue;
        ctx_ipfrag_get_stats(x->frag, &fs);
        for (size_t k = 0; k < sizeof FRAG_CTRS / sizeof FRAG_CTRS[0]; k++) {
            uint64_t v;
            memcpy(&v, (const char *)&fs + FRAG_CTRS[k].off, sizeof v);
            sum[k] += v;
        }
        pending += fs.datagrams_in_use;
        memory += fs.bytes_in_use;
    }
    for (size_t k = 0; k < sizeof FRAG_CTRS / sizeof FRAG_CTRS[0]; k++) imctxcap_ctr_set(inst, FRAG_CTRS[k].ctr, sum[k]);
    imctxcap_ctr_set(inst, IMCTXCAP_CTR_FRAG_PENDING, pending);
    imctxcap_ctr_set(inst, IMCTXCAP_CTR_FRAG_MEMORY, memory);
}

/* every worker expires its fragments; worker 0 publishes the sums */
/* After a burst the messages' memory is free again, but glibc keeps the freed pages of
 * this thread's arena resident (rsyslog itself trims only every 100,000 messages): once
 * a worker that submitted at least IMCTXCAP_TRIM_MIN_MSGS has been quiet for
 * IMCTXCAP_TRIM_QUIET_MS, hand them back. Never while messages flow; at most once per
 * burst. (bench/e2e --smaps: "after" the load case; docs/cost-model.md.) */
#define IMCTXCAP_TRIM_MIN_MSGS 10000
#define IMCTXCAP_TRIM_QUIET_MS 1000
static void trim_tick(imctxcap_worker_t *w, uint64_t now) {
    if (w->trim_pending != w->trim_seen) {
        w->trim_seen = w->trim_pending;
        w->quiet_since_ms = now;
        return;
    }
    if (w->trim_pending < IMCTXCAP_TRIM_MIN_MSGS || now - w->quiet_since_ms < IMCTXCAP_TRIM_QUIET_MS) return;
    w->trim_pending = w->trim_seen = 0;
#ifdef __GLIBC__
    malloc_trim(0);
    imctxcap_ctr_add(w->inst, IMCTXCAP_CTR_MEM_TRIMS, 1);
#endif
}

static void on_tick(void *ud, uint64_t now) {
    imctxcap_worker_t *w = ud;
    trim_tick(w, now);
    ctx_ipfrag_expire(w->frag, now);
    imctxcap_tcp_tick(w, now);
    if (w->index != 0) return;
    publish_capture(w->inst);
    publish_fragments(w->inst);
    publish_profsrc(w->inst);
}

/* a vNIC went away: its TCP connections end as the VM they began as, its budget is
 * forgotten (each worker's engine sees the detach on the worker's own thread) */
static void on_detach(void *ud, const char *ifname, unsigned ifindex) {
    (void)ifindex;
    imctxcap_interface_gone(ud, ifname);
}

static int worker_setup(imctxcap_worker_t *w, char *err, size_t errlen) {
    imctxcap_inst_t *inst = w->inst;
    struct ctx_capture_cfg cfg = {
        .patterns = inst->pkt->globs,
        .udp_ports = inst->udp_ports,
        .n_udp_ports = inst->n_udp_ports,
        .tcp_ports = inst->tcp_ports,
        .n_tcp_ports = inst->n_tcp_ports,
        .ring_bytes = inst->ring_bytes,
        .snaplen = inst->snaplen,
        .fanout = inst->n_workers > 1,
        .on_packet = imctxcap_on_packet,
        .on_log = on_log,
        .on_tick = on_tick,
        .on_round = imctxcap_on_round,
        .on_detach = on_detach,
        .ud = w,
    };
    w->multi.ppMsgs = w->msgs;
    w->multi.maxElem = IMCTXCAP_BATCH;
    w->multi.nElem = 0;
    if ((w->frag = ctx_ipfrag_new(inst->frag_max_bytes, 4096, inst->frag_timeout_ms)) == NULL) {
        snprintf(err, errlen, "out of memory for the fragment table");
        return CTX_ENOMEM;
    }
    ctx_ipfrag_set_scope_quota(w->frag, inst->frag_max_bytes_vnic); /* within range: checked at config */
    if (imctxcap_tcp_worker_init(w, err, errlen) != 0) return CTX_EINVAL;
    int rc = ctx_capture_new(&cfg, &w->cap, err, errlen);
    if (rc == 0) rc = ctx_capture_open(w->cap, &inst->pkt->fanout_group, err, errlen);
    if (rc == 0) __atomic_store_n(&w->ready, 1, __ATOMIC_RELEASE);
    return rc;
}

static void *worker_main(void *arg) {
    imctxcap_worker_t *w = arg;
    char err[CTX_ERRLEN];
    sigset_t all;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, NULL);
    if (w->ready && ctx_capture_run(w->cap, w->term_state, err, sizeof err) != 0)
        LogError(0, RS_RET_NO_RUN, "imctxcap(%s): capture stopped: %s", w->inst->name, err);
    imctxcap_on_round(w);
    return NULL;
}

/* runs on the instance's thread: worker 0 here, the others on threads of their own */
void imctxcap_capture_run(imctxcap_inst_t *inst, int (*term_state)(void)) {
    struct imctxcap_packet_state *st = inst->pkt;
    char err[CTX_ERRLEN];
    st->max_line = p_glbl->GetMaxLine(runConf);
    st->fanout_group = -1; /* worker 0 creates it */
    for (int i = 0; i < inst->n_workers; ++i) {
        imctxcap_worker_t *w = &st->workers[i];
        w->inst = inst;
        w->index = i;
        w->term_state = term_state;
        if (worker_setup(w, err, sizeof err) != 0) {
            LogError(0, RS_RET_NO_RUN, "imctxcap(%s): cannot start capture worker %d: %s", inst->name, i, err);
            worker_release(w);
        }
    }
    if (inst->n_workers > 1 && st->fanout_group >= 0)
        LogMsg(0, NO_ERRCODE, LOG_INFO, "imctxcap(%s): %d capture workers share PACKET_FANOUT group %d",
               inst->name, inst->n_workers, st->fanout_group);
    for (int i = 1; i < inst->n_workers; ++i) {
        imctxcap_worker_t *w = &st->workers[i];
        int prc = w->ready ? pthread_create(&w->tid, NULL, worker_main, w) : 0;
        w->started = w->ready && prc == 0;
        if (w->ready && prc != 0) { /* its socket must leave the fanout group, or its share is never read */
            LogError(prc, RS_RET_ERR, "imctxcap(%s): cannot start capture worker %d; the other workers take its share",
                     inst->name, i);
            worker_release(w);
        }
    }
    worker_main(&st->workers[0]);
    while (term_state() == 0) srSleep(0, 100000);
    for (int i = 1; i < inst->n_workers; ++i)
        if (st->workers[i].started) pthread_join(st->workers[i].tid, NULL);
}
