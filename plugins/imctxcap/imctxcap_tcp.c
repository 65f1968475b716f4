/* imctxcap_tcp.c: TCP capture of imctxcap (syslog over TCP, RFC 6587).
 *
 * The tcp.* input parameters, one reassembler per capture worker
 * (common/capture/tcpreasm.c, framing by common/capture/sysframe.c), and the TCP counters.
 * A connection is attributed once, at its first segment (imctxcap_attribute()), and
 * keeps that identity (and a reference to the profiles it came from) until it is
 * forgotten: a HUP, a detached or renamed vNIC never makes its buffered bytes another
 * VM's. Each frame is handed to imctxcap_deliver_as() (imctxcap_packet.c) with that
 * identity: $!ctx, submission as for UDP. docs/imctxcap.md, "TCP capture".
 *
 * Concurrency: struct imctxcap_tcp and inst->tcp_ports are written on the config
 * thread and read-only after activation. Each worker owns its reassembler
 * (w->tcp) and the identities of its connections (struct tcp_ident); with several workers, PACKET_FANOUT hashes all packets of a flow to
 * the same worker. Worker 0 sums the reassemblers' counters (their getter is safe
 * from any thread) into the statsobj counters, with relaxed atomic stores.
 */
#include "config.h"
#include "rsyslog.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "errmsg.h"
#include "glbl.h"
#include "msg.h"
#include "parserif.h"
#include "rainerscript.h"
#include "rsconf.h"
#include "statsobj.h"

#include "capture.h"
#include "cnfutil.h"
#include "imctxcap.h"
#include "pktdecode.h"
#include "profiles.h"
#include "tcpreasm.h"

/* TCP counters, appended to the input's statsobj (impstats record imctxcap(<name>)) */
enum {
    TC_SEGMENTS = 0, TC_FLOWS_OPENED, TC_FLOWS_PICKEDUP, TC_FLOWS_CLOSED, TC_FLOWS_TIMEDOUT, TC_FLOWS_EVICTED,
    TC_FLOWS_TRACKED, TC_GAPS, TC_BYTES_LOST, TC_BYTES_DROPPED, TC_BYTES_SKIPPED, TC_BYTES_DUP, TC_SEGMENTS_OOO,
    TC_FRAMES_OCTET, TC_FRAMES_LF, TC_FRAMES_NUL, TC_FRAMES_TRUNCATED, TC_FRAMES_PARTIAL, TC_FRAMES_PARTIAL_DROPPED,
    TC_FRAMING_ERRORS, TC_RESYNCS, TC_MEMORY, TC_GAPS_PIECELIMIT, TC_COUNT
};
static const char *const tc_names[TC_COUNT] = {
    "tcp.segments",       "tcp.flows.opened",   "tcp.flows.pickedup",   "tcp.flows.closed",
    "tcp.flows.timedout", "tcp.flows.evicted",  "tcp.flows.tracked",     "tcp.gaps",
    "tcp.bytes.lost",     "tcp.bytes.dropped",  "tcp.bytes.skipped",    "tcp.bytes.dup",
    "tcp.segments.ooo",   "tcp.frames.octet",   "tcp.frames.lf",        "tcp.frames.nul",
    "tcp.frames.truncated", "tcp.frames.partial", "tcp.frames.partial.dropped", "tcp.framing.errors",
    "tcp.resyncs",        "tcp.memory",         "tcp.gaps.piecelimit",
};

static int tc_gauge(int i) { return i == TC_FLOWS_TRACKED || i == TC_MEMORY; }

struct imctxcap_tcp {
    struct ctx_tcpreasm_cfg cfg; /* config; max_frame and the callback are set per worker at run start */
    intctr_t ctr[TC_COUNT];
    uint64_t ctr_last[TC_COUNT]; /* the workers' totals at the last publish() */
    DEF_ATOMIC_HELPER_MUT64(mut_ctr);
};

/* the tcp.* parameters: parsed from the same input() as imctxcap.c's table */
static struct cnfparamdescr tcppdescr[] = {
    {"tcp.port", eCmdHdlrArray, 0},           {"tcp.maxflows", eCmdHdlrPositiveInt, 0},
    {"tcp.maxmemory", eCmdHdlrSize, 0},       {"tcp.flow.maxmemory", eCmdHdlrSize, 0},
    {"tcp.window", eCmdHdlrSize, 0},          {"tcp.gaptimeout", eCmdHdlrPositiveInt, 0},
    {"tcp.idletimeout", eCmdHdlrPositiveInt, 0}, {"tcp.gap", eCmdHdlrGetWord, 0},
    {"tcp.nuldelimiter", eCmdHdlrBinary, 0},  {"tcp.maxframesize", eCmdHdlrPositiveInt, 0},
};
static struct cnfparamblk tcppblk = {CNFPARAMBLK_VERSION, sizeof(tcppdescr) / sizeof(struct cnfparamdescr),
                                     tcppdescr};

/* ---- configuration ---- */

static rsRetVal set_tcp_ports(imctxcap_inst_t *inst, struct cnfparamvals *v) {
    char **list = NULL;
    DEFiRet;
    CHKmalloc(list = cnf_list(v));
    size_t n = cnf_list_len(list);
    if (n == 1 && strcmp(list[0], "none") == 0) n = 0; /* TCP capture off */
    free(inst->tcp_ports);
    inst->tcp_ports = NULL;
    inst->n_tcp_ports = 0;
    if (n > 0) CHKmalloc(inst->tcp_ports = calloc(n, sizeof(uint16_t)));
    for (size_t i = 0; i < n; ++i) {
        char *end = NULL;
        errno = 0;
        long p = strtol(list[i], &end, 10);
        if (errno != 0 || end == list[i] || *end != '\0' || p < 1 || p > 65535) {
            parser_errmsg("imctxcap: parameter 'tcp.port': expected port numbers 1..65535 or \"none\", got '%s'",
                          list[i]);
            ABORT_FINALIZE(RS_RET_PARAM_ERROR);
        }
        inst->tcp_ports[i] = (uint16_t)p;
    }
    inst->n_tcp_ports = n;
finalize_it:
    cnf_list_free(list);
    RETiRet;
}

static rsRetVal set_gap_policy(struct ctx_tcpreasm_cfg *c, struct cnfparamvals *v) {
    char *s = NULL;
    DEFiRet;
    CHKmalloc(s = cnf_str(v));
    if (strcmp(s, "drop") == 0) {
        c->gap_emit = 0;
    } else if (strcmp(s, "truncate") == 0) {
        c->gap_emit = 1;
    } else {
        parser_errmsg("imctxcap: parameter 'tcp.gap': expected 'drop' or 'truncate', got '%s'", s);
        ABORT_FINALIZE(RS_RET_PARAM_ERROR);
    }
finalize_it:
    free(s);
    RETiRet;
}

/* one parameter; sizes and counts are range-checked together in check_ranges() */
static rsRetVal set_tcp_param(imctxcap_inst_t *inst, const char *name, struct cnfparamvals *v) {
    struct ctx_tcpreasm_cfg *c = &inst->tcp->cfg;
    DEFiRet;
    long long n = (!strcmp(name, "tcp.port") || !strcmp(name, "tcp.gap")) ? 0 : v->val.d.n;
    uint32_t n32 = n > 0xffffffffll ? 0xffffffffu : (uint32_t)n;
    if (!strcmp(name, "tcp.port")) {
        CHKiRet(set_tcp_ports(inst, v));
    } else if (!strcmp(name, "tcp.gap")) {
        CHKiRet(set_gap_policy(c, v));
    } else if (!strcmp(name, "tcp.nuldelimiter")) {
        c->nul_delimiter = n != 0;
    } else if (!strcmp(name, "tcp.maxflows")) {
        c->max_flows = (size_t)n;
    } else if (!strcmp(name, "tcp.maxmemory")) {
        c->max_bytes = (size_t)n;
    } else if (!strcmp(name, "tcp.flow.maxmemory")) {
        c->flow_max_bytes = (size_t)n;
    } else if (!strcmp(name, "tcp.window")) {
        c->window = n32;
    } else if (!strcmp(name, "tcp.gaptimeout")) {
        c->gap_timeout_ms = n32;
    } else if (!strcmp(name, "tcp.idletimeout")) {
        c->idle_timeout_ms = n32;
    } else if (!strcmp(name, "tcp.maxframesize")) {
        c->max_octet_count = (size_t)n;
    }
finalize_it:
    RETiRet;
}

/* the limits of tcpreasm.h, said in the operator's terms */
static rsRetVal check_ranges(const struct ctx_tcpreasm_cfg *c, size_t max_line) {
    size_t min_flow = ctx_tcpreasm_min_flow_bytes(max_line);
    DEFiRet;
    if (c->max_flows > (1u << 24)) {
        parser_errmsg("imctxcap: parameter 'tcp.maxflows': expected 1..16777216, got %zu", c->max_flows);
        ABORT_FINALIZE(RS_RET_PARAM_ERROR);
    }
    if (c->flow_max_bytes < min_flow || c->flow_max_bytes > (1u << 30)) {
        parser_errmsg("imctxcap: parameter 'tcp.flow.maxmemory': expected %zu (the power of two at or above "
                      "maxMessageSize + 16, plus 128k) .. 1g, "
                      "got %zu", min_flow, c->flow_max_bytes);
        ABORT_FINALIZE(RS_RET_PARAM_ERROR);
    }
    if (c->max_bytes < (1u << 20) || c->max_bytes < 2 * c->flow_max_bytes) {
        parser_errmsg("imctxcap: parameter 'tcp.maxmemory': expected at least 1m and 2 x tcp.flow.maxmemory (%zu), "
                      "got %zu", 2 * c->flow_max_bytes, c->max_bytes);
        ABORT_FINALIZE(RS_RET_PARAM_ERROR);
    }
    if (c->window < (64u << 10) || c->window > (1u << 30)) {
        parser_errmsg("imctxcap: parameter 'tcp.window': expected 64k .. 1g, got %u", c->window);
        ABORT_FINALIZE(RS_RET_PARAM_ERROR);
    }
    if (c->gap_timeout_ms > 86400000 || c->idle_timeout_ms > 86400000) {
        parser_errmsg("imctxcap: parameters 'tcp.gaptimeout' and 'tcp.idletimeout': expected 1..86400000 (ms), "
                      "got %u and %u", c->gap_timeout_ms, c->idle_timeout_ms);
        ABORT_FINALIZE(RS_RET_PARAM_ERROR);
    }
    if (c->max_octet_count > 0x7fffffff) {
        parser_errmsg("imctxcap: parameter 'tcp.maxframesize': expected at most 2147483647, got %zu",
                      c->max_octet_count);
        ABORT_FINALIZE(RS_RET_PARAM_ERROR);
    }
finalize_it:
    RETiRet;
}

rsRetVal imctxcap_tcp_params(imctxcap_inst_t *inst, struct nvlst *lst) {
    struct cnfparamvals *pvals = NULL;
    DEFiRet;
    CHKmalloc(inst->tcp = calloc(1, sizeof(*inst->tcp)));
    ctx_tcpreasm_cfg_defaults(&inst->tcp->cfg);
    inst->tcp->cfg.gap_emit = 1; /* tcp.gap="truncate" */
    CHKmalloc(inst->tcp_ports = calloc(2, sizeof(uint16_t)));
    inst->tcp_ports[0] = 514;
    inst->tcp_ports[1] = 601;
    inst->n_tcp_ports = 2;
    if ((pvals = nvlstGetParams(lst, &tcppblk, NULL)) == NULL) ABORT_FINALIZE(RS_RET_MISSING_CNFPARAMS);
    for (int i = 0; i < tcppblk.nParams; ++i) {
        if (!pvals[i].bUsed) continue;
        CHKiRet(set_tcp_param(inst, tcppblk.descr[i].name, &pvals[i]));
    }
    /* maxMessageSize as known now (a global() statement may still change it: see worker_init) */
    CHKiRet(check_ranges(&inst->tcp->cfg, (size_t)glblGetMaxLine(loadConf)));
finalize_it:
    if (pvals != NULL) cnfparamvalsDestruct(pvals, &tcppblk);
    RETiRet;
}

rsRetVal imctxcap_tcp_stats(imctxcap_inst_t *inst, statsobj_if_t *so) {
    DEFiRet;
    for (int i = 0; i < TC_COUNT; ++i) {
        intctr_t *ctr = &inst->tcp->ctr[i];
        STATSCOUNTER_INIT(*ctr, inst->tcp->mut_ctr);
        CHKiRet(STATSCTR_ADD(so, inst->stats, tc_names[i], tc_gauge(i), ctr));
    }
finalize_it:
    RETiRet;
}

void imctxcap_tcp_free(imctxcap_inst_t *inst) {
    free(inst->tcp_ports);
    inst->tcp_ports = NULL;
    inst->n_tcp_ports = 0;
    free(inst->tcp);
    inst->tcp = NULL;
}

/* ---- run time (capture workers) ---- */

/* who a connection is, fixed at its first segment (the flow's tag) */
struct tcp_ident {
    ctx_profiles_t *store; /* a reference: keeps a.vm valid across HUPs */
    ctx_attribution_t a;
};

static void *ident_open(void *ud, const struct ctx_tcp_flow_key *k, const struct ctx_pkt *first) {
    struct tcp_ident *id = malloc(sizeof(*id));
    if (id != NULL) id->store = imctxcap_attribute(ud, k->ifname, first, &id->a);
    return id; /* NULL (no memory): its frames are attributed like UDP, frame by frame */
}

static void ident_release(void *ud, void *tag) {
    struct tcp_ident *id = tag;
    (void)ud;
    ctx_profiles_unref(id->store);
    free(id);
}

/* a reassembled frame: into the UDP path as a payload of the flow's addresses */
static void on_frame(void *ud, const struct ctx_tcp_flow_info *fl, const struct ctx_sysframe_frame *fr) {
    imctxcap_worker_t *w = ud;
    const struct ctx_tcp_flow_key *k = fl->key;
    struct ctx_pkt p;
    memset(&p, 0, sizeof p);
    memcpy(p.src_mac, fl->src_mac, 6);
    memcpy(p.dst_mac, fl->dst_mac, 6);
    p.ethertype = k->ip_version == 6 ? 0x86dd : 0x0800;
    p.vlan_count = k->vlan_count;
    memcpy(p.vlan_id, k->vlan_id, sizeof p.vlan_id);
    p.ip_version = k->ip_version;
    p.src = k->src;
    p.dst = k->dst;
    p.proto = IPPROTO_TCP;
    p.sport = k->sport;
    p.dport = k->dport;
    p.payload = fr->data;
    p.payload_len = p.payload_wire_len = fr->len;
    p.truncated = fr->truncated || fr->partial;
    const struct tcp_ident *id = fl->tag;
    if (id != NULL)
        imctxcap_deliver_as(w, k->ifname, &fl->ts, &p, &id->a);
    else
        imctxcap_deliver(w, k->ifname, &fl->ts, &p);
}

int imctxcap_tcp_worker_init(imctxcap_worker_t *w, char *err, size_t errlen) {
    imctxcap_inst_t *inst = w->inst;
    if (inst->n_tcp_ports == 0) return 0;
    struct ctx_tcpreasm_cfg c = inst->tcp->cfg;
    c.max_frame = (size_t)inst->pkt->max_line;
    if (c.max_octet_count < c.max_frame) c.max_octet_count = c.max_frame;
    c.on_frame = on_frame;
    c.flow_open = ident_open;
    c.flow_release = ident_release;
    c.ud = w;
    size_t min_flow = ctx_tcpreasm_min_flow_bytes(c.max_frame);
    if (c.flow_max_bytes < min_flow) { /* maxMessageSize grew after the input() was read */
        if (w->index == 0)
            LogMsg(0, NO_ERRCODE, LOG_WARNING, "imctxcap(%s): tcp.flow.maxmemory raised from %zu to %zu for "
                   "maxMessageSize %zu", inst->name, c.flow_max_bytes, min_flow, c.max_frame);
        c.flow_max_bytes = min_flow;
        if (c.max_bytes < 2 * min_flow) c.max_bytes = 2 * min_flow;
    }
    char why[CTX_ERRLEN];
    int rc = ctx_tcpreasm_new(&c, &w->tcp, why, sizeof why);
    if (rc != 0) snprintf(err, errlen, "TCP reassembly: %s", rc == CTX_ENOMEM ? "out of memory" : why);
    return rc;
}

void imctxcap_tcp_interface_gone(imctxcap_worker_t *w, const char *ifname) {
    if (w->tcp != NULL && ctx_tcpreasm_end_interface(w->tcp, ifname) > 0) imctxcap_on_round(w);
}

void imctxcap_tcp_worker_release(imctxcap_worker_t *w) {
    ctx_tcpreasm_free(w->tcp); /* data of flows still open is dropped */
    w->tcp = NULL;
}

void imctxcap_tcp_packet(imctxcap_worker_t *w, const char *ifname, const struct timeval *ts, const struct ctx_pkt *p) {
    imctxcap_inst_t *inst = w->inst;
    if (w->tcp == NULL) return;
    for (size_t i = 0; i < inst->n_tcp_ports; ++i) {
        if (inst->tcp_ports[i] == p->dport) {
            ctx_tcpreasm_packet(w->tcp, ifname, ts, ctx_capture_round_ns(w->cap) / 1000000u, p);
            return;
        }
    }
}

static void publish(imctxcap_inst_t *inst) {
    uint64_t v[TC_COUNT] = {0};
    for (int i = 0; i < inst->n_workers; ++i) {
        imctxcap_worker_t *x = &inst->pkt->workers[i];
        struct ctx_tcpreasm_stats s;
        if (__atomic_load_n(&x->ready, __ATOMIC_ACQUIRE) == 0 || x->tcp == NULL) continue;
        ctx_tcpreasm_get_stats(x->tcp, &s);
        const uint64_t add[TC_COUNT] = {
            s.segments, s.flows_opened, s.flows_picked_up, s.flows_closed, s.flows_timed_out, s.flows_evicted,
            s.flows_in_use, s.gaps, s.bytes_lost, s.bytes_dropped, s.frames.bytes_skipped, s.bytes_dup,
            s.segments_ooo, s.frames.frames_octet, s.frames.frames_lf, s.frames.frames_nul, s.frames.truncated,
            s.frames.partial_emitted, s.frames.partial_dropped, s.frames.framing_errors, s.frames.resyncs,
            s.bytes_allocated, s.gaps_piecelimit,
        };
        for (int k = 0; k < TC_COUNT; ++k) v[k] += add[k];
    }
    for (int k = 0; k < TC_COUNT; ++k) {
        if (tc_gauge(k))
            statsctr_gauge(&inst->tcp->ctr[k], v[k]);
        else
            statsctr_publish(&inst->tcp->ctr[k], &inst->tcp->ctr_last[k], v[k]);
    }
}

/* every worker applies its timeouts (frames they complete are submitted now);
 * worker 0 also publishes the counters */
void imctxcap_tcp_tick(imctxcap_worker_t *w, uint64_t now_ms) {
    if (w->tcp != NULL && ctx_tcpreasm_expire(w->tcp, now_ms) >= 0) imctxcap_on_round(w);
    if (w->index == 0 && w->inst->tcp != NULL) publish(w->inst);
}
