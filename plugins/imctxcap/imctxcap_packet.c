/* imctxcap_packet.c: profiles, the capture thread and the per-packet path of imctxcap.
 *
 * Per packet (capture thread): decode (common/pktdecode) -> reassemble fragments
 * (common/ipfrag) -> attribute to a VM (common/profiles) -> build an smsg with the
 * raw payload for rsyslog's parser chain plus $!ctx!vm and $!ctx!capture -> submit.
 *
 * Concurrency: the capture thread owns st->cap, st->frag, st->cur and the cached
 * props. The profile slot is shared with the HUP handler (main thread), which
 * loads a new store and swaps it in; the capture thread notices the generation
 * change and takes a new reference. Counters: atomics (imctxcap.h).
 */
#include "config.h"
#include "rsyslog.h"

#include <errno.h>
#include <json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "datetime.h"
#include "dirty.h"
#include "errmsg.h"
#include "glbl.h"
#include "msg.h"
#include "parserif.h"
#include "prop.h"
#include "rsconf.h"
#include "ruleset.h"
#include "srUtils.h"
#include "statsobj.h"

#include "capture.h"
#include "ifglob.h"
#include "imctxcap.h"
#include "ipfrag.h"
#include "pktdecode.h"
#include "profiles.h"
#include "timefmt.h"

const char *const imctxcap_counter_names[IMCTXCAP_CTR_COUNT] = {
    "packets.seen",      "msgs.submitted",          "packets.malformed",       "msgs.unattributed",
    "msgs.unattributed.dropped", "msgs.truncated",  "msgs.empty",              "fragments.reassembled",
    "fragments.timedout", "fragments.dropped",      "kernel.drops",            "interfaces.attached",
    "interfaces.attach.events", "interfaces.detach.events", "profiles.reloads", "profiles.reload.errors",
    "msgs.submit.errors",
};

struct imctxcap_packet_state {
    ctx_profiles_slot_t *slot;
    ctx_ifglob_t *globs;
    /* capture thread */
    ctx_capture_t *cap;
    struct ctx_ipfrag *frag;
    ctx_profiles_t *cur;
    uint64_t cur_gen;
    prop_t *from_prop; /* last fromhost / fromhost-ip, reused while the source stays the same */
    int max_line;
    multi_submit_t multi; /* messages of this poll round, submitted together (one queue lock) */
    smsg_t *msgs[IMCTXCAP_BATCH];
};

static prop_if_t *p_prop;
static datetime_if_t *p_datetime;
static glbl_if_t *p_glbl;

void imctxcap_set_objs(void *prop_if, void *datetime_if, void *glbl_if) {
    p_prop = prop_if;
    p_datetime = datetime_if;
    p_glbl = glbl_if;
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

rsRetVal imctxcap_packet_init(imctxcap_inst_t *inst) {
    char err[CTX_ERRLEN];
    ctx_profiles_t *prof = NULL;
    struct imctxcap_packet_state *st = NULL;
    DEFiRet;
    if (!ctx_tenant_id_valid(inst->unattr_tenant)) {
        parser_errmsg("imctxcap: parameter 'unattributed.tenant': expected 1..64 characters of [A-Za-z0-9._-], "
                      "got '%s'", inst->unattr_tenant);
        ABORT_FINALIZE(RS_RET_PARAM_ERROR);
    }
    if (ctx_profiles_load_file(inst->profiles_path, &prof, err, sizeof err) != 0) {
        parser_errmsg("imctxcap: parameter 'profiles': %s", err);
        ABORT_FINALIZE(RS_RET_PARAM_ERROR);
    }
    CHKmalloc(st = calloc(1, sizeof(*st)));
    if (ctx_profiles_slot_new(&st->slot) != 0) ABORT_FINALIZE(RS_RET_OUT_OF_MEMORY);
    ctx_profiles_slot_set(st->slot, prof);
    prof = NULL;
    if (ctx_ifglob_new_array((const char *const *)inst->interfaces, count_list((const char *const *)inst->interfaces),
                             &st->globs, err, sizeof err) != 0) {
        parser_errmsg("imctxcap: parameter 'interface': %s", err);
        ABORT_FINALIZE(RS_RET_PARAM_ERROR);
    }
    inst->pkt = st;
    st = NULL;
finalize_it:
    ctx_profiles_unref(prof);
    if (st != NULL) {
        ctx_profiles_slot_free(st->slot);
        ctx_ifglob_free(st->globs);
        free(st);
    }
    RETiRet;
}

void imctxcap_packet_destroy(imctxcap_inst_t *inst) {
    struct imctxcap_packet_state *st = inst->pkt;
    if (st == NULL) return;
    ctx_capture_free(st->cap);
    ctx_ipfrag_free(st->frag);
    ctx_profiles_unref(st->cur);
    ctx_profiles_slot_free(st->slot);
    ctx_ifglob_free(st->globs);
    if (st->from_prop != NULL) p_prop->Destruct(&st->from_prop);
    free(st);
    inst->pkt = NULL;
}

/* HUP (main thread): re-read the profiles; a bad file keeps the old ones */
void imctxcap_packet_hup(imctxcap_inst_t *inst) {
    char err[CTX_ERRLEN];
    ctx_profiles_t *prof = NULL;
    if (inst->pkt == NULL) return;
    if (ctx_profiles_load_file(inst->profiles_path, &prof, err, sizeof err) != 0) {
        imctxcap_ctr_add(inst, IMCTXCAP_CTR_PROFILE_RELOAD_ERR, 1);
        LogError(0, RS_RET_CONF_PARSE_ERROR, "imctxcap: profiles not reloaded, keeping the previous ones: %s", err);
        return;
    }
    size_t n = ctx_profiles_count(prof);
    ctx_profiles_slot_set(inst->pkt->slot, prof);
    imctxcap_ctr_add(inst, IMCTXCAP_CTR_PROFILE_RELOADS, 1);
    LogMsg(0, NO_ERRCODE, LOG_INFO, "imctxcap: reloaded profiles from '%s': %zu VMs", inst->profiles_path, n);
}

static uint64_t mono_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static int port_wanted(const imctxcap_inst_t *inst, uint16_t port) {
    for (size_t i = 0; i < inst->n_udp_ports; ++i)
        if (inst->udp_ports[i] == port) return 1;
    return 0;
}

/* keys are string literals: libfastjson need not copy them (saves an allocation each) */
static void json_add(struct json_object *o, const char *k, struct json_object *v) {
    json_object_object_add_ex(o, k, v, JSON_C_OBJECT_KEY_IS_CONSTANT);
}

static void json_add_str(struct json_object *o, const char *k, const char *v) {
    if (v != NULL) json_add(o, k, json_object_new_string(v));
}

/* $!ctx!vm: identity of the sending VM (or of nobody, for a passed unattributed packet) */
static struct json_object *vm_json(const imctxcap_inst_t *inst, const ctx_attribution_t *a, const char *ifname,
                                   const char *src_ip, const char *src_mac) {
    struct json_object *vm = json_object_new_object();
    if (vm == NULL) return NULL;
    if (a->vm != NULL) {
        json_add_str(vm, "name", a->vm->name);
        json_add_str(vm, "uuid", a->vm->uuid);
        json_add_str(vm, "tenant", a->vm->tenant);
        json_add_str(vm, "user", a->vm->user);
    } else {
        json_add_str(vm, "tenant", inst->unattr_tenant);
    }
    json_add_str(vm, "ip", src_ip);
    json_add_str(vm, "mac", src_mac);
    json_add_str(vm, "vnic", ifname);
    json_add_str(vm, "match", ctx_match_name(a->how));
    return vm;
}

/* $!ctx!capture: where and when the packet was seen */
static struct json_object *capture_json(const struct ctx_pkt *pkt, const struct timeval *ts, const char *src_ip,
                                        int truncated) {
    char buf[CTX_PKT_ADDRSTRLEN > CTX_RFC3339_US_LEN ? CTX_PKT_ADDRSTRLEN : CTX_RFC3339_US_LEN];
    struct json_object *c = json_object_new_object();
    if (c == NULL) return NULL;
    if (ctx_rfc3339_us(ts, buf, sizeof buf) > 0) json_add_str(c, "ts", buf);
    json_add_str(c, "src", src_ip);
    if (ctx_pkt_addr_ntop(pkt->ip_version, &pkt->dst, buf, sizeof buf) > 0) json_add_str(c, "dst", buf);
    json_add(c, "sport", json_object_new_int(pkt->sport));
    json_add(c, "dport", json_object_new_int(pkt->dport));
    json_add_str(c, "proto", pkt->proto == 17 ? "udp" : "tcp");
    json_add(c, "ipv", json_object_new_int(pkt->ip_version));
    if (pkt->vlan_count > 0) json_add(c, "vlan", json_object_new_int(pkt->vlan_id[0]));
    if (pkt->vlan_count > 1) json_add(c, "vlan_inner", json_object_new_int(pkt->vlan_id[1]));
    if (pkt->frag.reassembled) json_add(c, "reassembled", json_object_new_boolean(1));
    if (truncated) json_add(c, "truncated", json_object_new_boolean(1));
    return c;
}

/* the current profiles (a new reference only when a HUP installed new ones) */
static const ctx_profiles_t *current_profiles(struct imctxcap_packet_state *st) {
    uint64_t gen = ctx_profiles_slot_generation(st->slot);
    if (st->cur == NULL || gen != st->cur_gen) {
        ctx_profiles_unref(st->cur);
        st->cur = ctx_profiles_slot_get(st->slot);
        st->cur_gen = gen;
    }
    return st->cur;
}

static rsRetVal submit(imctxcap_inst_t *inst, const char *ifname, const struct timeval *ts, const struct ctx_pkt *pkt,
                       const ctx_attribution_t *a) {
    struct imctxcap_packet_state *st = inst->pkt;
    char src_ip[CTX_PKT_ADDRSTRLEN], src_mac[CTX_PKT_MACSTRLEN];
    struct syslogTime stime;
    smsg_t *pMsg = NULL;
    struct json_object *ctx = NULL;
    DEFiRet;
    size_t len = pkt->payload_len;
    int truncated = pkt->truncated;
    if (len > (size_t)st->max_line) {
        len = (size_t)st->max_line;
        truncated = 1;
    }
    if (truncated) imctxcap_ctr_add(inst, IMCTXCAP_CTR_TRUNCATED, 1);
    if (a->ip != NULL) memcpy(src_ip, a->ip->text, sizeof src_ip);
    else ctx_pkt_addr_ntop(pkt->ip_version, &pkt->src, src_ip, sizeof src_ip);
    if (a->mac != NULL) memcpy(src_mac, a->mac->text, sizeof src_mac);
    else ctx_pkt_mac_ntop(pkt->src_mac, src_mac, sizeof src_mac);

    struct timeval tv = *ts;
    p_datetime->timeval2syslogTime(&tv, &stime, 0 /* local time, as imudp */);
    CHKiRet(msgConstructWithTime(&pMsg, &stime, ts->tv_sec));
    MsgSetRawMsg(pMsg, (const char *)pkt->payload, len);
    MsgSetInputName(pMsg, inst->pInputName);
    if (inst->pBindRuleset != NULL) MsgSetRuleset(pMsg, inst->pBindRuleset);
    MsgSetFlowControlType(pMsg, eFLOWCTL_LIGHT_DELAY);
    pMsg->msgFlags = NEEDS_PARSING | PARSE_HOSTNAME;
    MsgSetRcvFromStr(pMsg, (uchar *)src_ip, (int)strlen(src_ip), &st->from_prop);
    CHKiRet(MsgSetRcvFromIP(pMsg, st->from_prop));

    CHKmalloc(ctx = json_object_new_object());
    struct json_object *vm = vm_json(inst, a, ifname, src_ip, src_mac);
    struct json_object *cap = capture_json(pkt, ts, src_ip, truncated);
    if (vm == NULL || cap == NULL) {
        json_object_put(vm);
        json_object_put(cap);
        ABORT_FINALIZE(RS_RET_OUT_OF_MEMORY);
    }
    json_add(ctx, "vm", vm);
    json_add(ctx, "capture", cap);
    CHKiRet(msgAddJSON(pMsg, (uchar *)"!ctx", ctx, 0, 0));
    ctx = NULL;
    st->msgs[st->multi.nElem++] = pMsg;
    pMsg = NULL;
    if (st->multi.nElem == st->multi.maxElem) CHKiRet(multiSubmitMsg2(&st->multi));
    imctxcap_ctr_add(inst, IMCTXCAP_CTR_SUBMITTED, 1);
finalize_it:
    json_object_put(ctx);
    if (pMsg != NULL) msgDestruct(&pMsg);
    RETiRet;
}

/* fragments: returns 1 and fills *whole when a datagram completed, else 0 */
static int reassemble(imctxcap_inst_t *inst, const char *ifname, const struct ctx_pkt *frag, struct ctx_pkt *whole) {
    uint32_t scope = 2166136261u; /* FNV-1a of the interface name keeps vNICs apart */
    for (const char *p = ifname; *p; ++p) scope = (scope ^ (uint8_t)*p) * 16777619u;
    int rc = ctx_ipfrag_add(inst->pkt->frag, frag, scope, mono_ms(), whole);
    if (rc == CTX_IPFRAG_COMPLETE) return 1;
    if (rc < 0) imctxcap_ctr_add(inst, IMCTXCAP_CTR_FRAG_DROPPED, 1);
    return 0;
}

static void on_packet(void *ud, const char *ifname, const struct timeval *ts, const uint8_t *frame, size_t caplen,
                      size_t wirelen) {
    imctxcap_inst_t *inst = ud;
    struct ctx_pkt pkt, whole;
    const struct ctx_pkt *p = &pkt;
    ctx_attribution_t a;
    uint8_t ip16[16];

    imctxcap_ctr_add(inst, IMCTXCAP_CTR_PACKETS, 1);
    int rc = ctx_pkt_decode(frame, caplen, wirelen, &pkt);
    if (rc == CTX_PKT_FRAGMENT) {
        if (!reassemble(inst, ifname, &pkt, &whole)) return;
        p = &whole;
    } else if (rc < 0) {
        if (ctx_pkt_is_malformed(rc)) imctxcap_ctr_add(inst, IMCTXCAP_CTR_MALFORMED, 1);
        return;
    }
    if (p->proto != 17 || !port_wanted(inst, p->dport)) return; /* TCP: see docs/imctxcap.md */
    if (p->payload_len == 0) {
        imctxcap_ctr_add(inst, IMCTXCAP_CTR_EMPTY, 1);
        return;
    }
    memcpy(ip16, &p->src, 16);
    ctx_profiles_attribute(current_profiles(inst->pkt), ifname, p->src_mac, ip16, &a);
    if (a.vm == NULL) {
        imctxcap_ctr_add(inst, IMCTXCAP_CTR_UNATTRIBUTED, 1);
        if (inst->unattributed == IMCTXCAP_UNATTR_DROP) {
            imctxcap_ctr_add(inst, IMCTXCAP_CTR_UNATTR_DROPPED, 1);
            return;
        }
    }
    if (submit(inst, ifname, ts, p, &a) != RS_RET_OK) imctxcap_ctr_add(inst, IMCTXCAP_CTR_SUBMIT_ERR, 1);
}

/* end of a poll round: hand the batch to rsyslog's queue */
static void on_round(void *ud) {
    imctxcap_inst_t *inst = ud;
    if (inst->pkt->multi.nElem > 0) multiSubmitFlush(&inst->pkt->multi);
}

static void on_log(void *ud, int level, const char *msg) {
    imctxcap_inst_t *inst = ud;
    if (level >= 2)
        LogError(0, RS_RET_ERR, "imctxcap(%s): %s", inst->name, msg);
    else
        LogMsg(0, NO_ERRCODE, level == 1 ? LOG_WARNING : LOG_INFO, "imctxcap(%s): %s", inst->name, msg);
}

static void on_tick(void *ud, uint64_t now) {
    imctxcap_inst_t *inst = ud;
    struct ctx_capture_stats cs;
    struct ctx_ipfrag_stats fs;
    ctx_ipfrag_expire(inst->pkt->frag, now);
    ctx_capture_get_stats(inst->pkt->cap, &cs);
    ctx_ipfrag_get_stats(inst->pkt->frag, &fs);
    imctxcap_ctr_set(inst, IMCTXCAP_CTR_KERNEL_DROPS, cs.kernel_drops);
    imctxcap_ctr_set(inst, IMCTXCAP_CTR_IF_ATTACHED, cs.attached);
    imctxcap_ctr_set(inst, IMCTXCAP_CTR_IF_ATTACH_EVENTS, cs.attach_events);
    imctxcap_ctr_set(inst, IMCTXCAP_CTR_IF_DETACH_EVENTS, cs.detach_events);
    imctxcap_ctr_set(inst, IMCTXCAP_CTR_FRAG_REASM, fs.reassembled);
    imctxcap_ctr_set(inst, IMCTXCAP_CTR_FRAG_TIMEOUT, fs.timed_out);
}

void imctxcap_capture_run(imctxcap_inst_t *inst, int (*term_state)(void)) {
    struct imctxcap_packet_state *st = inst->pkt;
    char err[CTX_ERRLEN];
    struct ctx_capture_cfg cfg = {
        .patterns = st->globs,
        .udp_ports = inst->udp_ports,
        .n_udp_ports = inst->n_udp_ports,
        .ring_bytes = inst->ring_bytes,
        .snaplen = inst->snaplen,
        .on_packet = on_packet,
        .on_log = on_log,
        .on_tick = on_tick,
        .on_round = on_round,
        .ud = inst,
    };
    st->max_line = p_glbl->GetMaxLine(runConf);
    st->multi.ppMsgs = st->msgs;
    st->multi.maxElem = IMCTXCAP_BATCH;
    st->multi.nElem = 0;
    st->frag = ctx_ipfrag_new(inst->frag_max_bytes, 4096, inst->frag_timeout_ms);
    if (st->frag == NULL || ctx_capture_new(&cfg, &st->cap, err, sizeof err) != 0) {
        LogError(0, RS_RET_NO_RUN, "imctxcap(%s): cannot start capturing: %s", inst->name,
                 st->frag == NULL ? "out of memory" : err);
        while (term_state() == 0) srSleep(0, 100000);
        return;
    }
    if (ctx_capture_run(st->cap, term_state, err, sizeof err) != 0)
        LogError(0, RS_RET_NO_RUN, "imctxcap(%s): capture stopped: %s", inst->name, err);
    on_round(inst);
    while (term_state() == 0) srSleep(0, 100000);
}
