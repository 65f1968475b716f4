/* imctxcap_packet.c: the per-packet path of imctxcap.
 *
 * Per packet (on a capture worker thread): decode (common/capture/pktdecode) -> reassemble fragments
 * (common/capture/ipfrag) -> attribute to a VM (common/context/profiles: the vNIC decides, a MAC or IP
 * of another VM only marks the message as spoofed; docs/threat-model.md) -> build an smsg with the
 * raw payload for rsyslog's parser chain plus $!ctx!vm and $!ctx!capture -> submit.
 *
 * Concurrency: everything here runs on one capture worker and touches only that
 * worker's state (imctxcap_worker_t: fragment table, profile reference, cached
 * prop, message batch), the instance's read-only configuration, the profile slot
 * (its generation is read atomically; a HUP swaps the store in) and the counters
 * (atomics, imctxcap.h).
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
#include "jsonintern.h"
#include "ipfrag.h"
#include "pktdecode.h"
#include "profiles.h"
#include "timefmt.h"

const char *const imctxcap_counter_names[IMCTXCAP_CTR_COUNT] = {
    "packets.seen",      "msgs.submitted",          "packets.malformed",       "msgs.unattributed",
    "msgs.unattributed.dropped", "msgs.truncated",  "msgs.empty",              "fragments.reassembled",
    "fragments.timedout", "fragments.dropped",      "kernel.drops",            "interfaces.attached",
    "interfaces.attach.events", "interfaces.detach.events", "profiles.reloads", "profiles.reload.errors",
    "msgs.submit.errors", "packets.stale",      "fragments.evicted",       "fragments.evicted.quota",
    "fragments.overlap",  "fragments.refused.truncated", "fragments.refused.toolarge", "fragments.refused.discarded",
    "fragments.refused.badheader", "fragments.pending", "fragments.memory",
    "msgs.spoofed", "packets.overbudget", "interfaces.attach.errors", "msgs.vm.shared",
    "profiles.libvirt.events", "profiles.libvirt.updates", "profiles.libvirt.errors", "profiles.libvirt.reconnects",
    "profiles.libvirt.connected", "profiles.libvirt.domains", "packets.overbudget.unlisted", "packets.overbudget.novm",
    "memory.trims",
};

static prop_if_t *p_prop;
static datetime_if_t *p_datetime;

void imctxcap_packet_set_objs(void *prop_if, void *datetime_if) {
    p_prop = prop_if;
    p_datetime = datetime_if;
}

static int port_wanted(const imctxcap_inst_t *inst, uint16_t port) {
    for (size_t i = 0; i < inst->n_udp_ports; ++i)
        if (inst->udp_ports[i] == port) return 1;
    return 0;
}

/* a string member of $!ctx!capture that is the same for every packet of a flow: a
 * reference to the worker's shared object for that text (jsonintern.h) */
static void add_flow_str(imctxcap_worker_t *w, struct json_object *c, const char *k, const char *v) {
    if (w->strs == NULL) w->strs = ctx_json_intern_new(IMCTXCAP_STRS_SLOTS);
    imctxcap_json_add(c, k, w->strs != NULL ? ctx_json_intern_str(w->strs, v) : json_object_new_string(v));
}

/* $!ctx!capture: where and when the packet was seen. Only the time stamp and the
 * numbers are new objects; the addresses and the protocol are shared per text. */
static struct json_object *capture_json(imctxcap_worker_t *w, const struct ctx_pkt *pkt, const struct timeval *ts,
                                        const char *src_ip, int truncated) {
    char buf[CTX_PKT_ADDRSTRLEN > CTX_RFC3339_US_LEN ? CTX_PKT_ADDRSTRLEN : CTX_RFC3339_US_LEN];
    struct json_object *c = json_object_new_object();
    if (c == NULL) return NULL;
    if (ctx_rfc3339_us(ts, buf, sizeof buf) > 0) imctxcap_json_add_str(c, "ts", buf);
    add_flow_str(w, c, "src", src_ip);
    if (ctx_pkt_addr_ntop(pkt->ip_version, &pkt->dst, buf, sizeof buf) > 0) add_flow_str(w, c, "dst", buf);
    imctxcap_json_add(c, "sport", json_object_new_int(pkt->sport));
    imctxcap_json_add(c, "dport", json_object_new_int(pkt->dport));
    add_flow_str(w, c, "proto", pkt->proto == IPPROTO_UDP ? "udp" : "tcp");
    imctxcap_json_add(c, "ipv", json_object_new_int(pkt->ip_version));
    if (pkt->vlan_count > 0) imctxcap_json_add(c, "vlan", json_object_new_int(pkt->vlan_id[0]));
    if (pkt->vlan_count > 1) imctxcap_json_add(c, "vlan_inner", json_object_new_int(pkt->vlan_id[1]));
    if (pkt->frag.reassembled) imctxcap_json_add(c, "reassembled", json_object_new_boolean(1));
    if (truncated) imctxcap_json_add(c, "truncated", json_object_new_boolean(1));
    return c;
}

/* $! of a new message: {"ctx": ctx}, built here with a constant key (rsyslog's msgAddJSON
 * would copy the key and search the new root for it: one allocation and a lookup a
 * message). The message is not yet submitted: no other thread can see it. */
static rsRetVal set_root(smsg_t *pMsg, struct json_object *ctx) {
    struct json_object *root = json_object_new_object();
    if (root == NULL) return RS_RET_OUT_OF_MEMORY;
    imctxcap_json_add(root, "ctx", ctx);
    json_object_put(pMsg->json); /* NULL for a new message */
    pMsg->json = root;
    return RS_RET_OK;
}

/* the current profiles (a new reference only when a HUP installed new ones) */
ctx_profiles_t *imctxcap_profiles(imctxcap_worker_t *w) {
    ctx_profiles_t *p = ctx_slot_read(w->inst->pkt->slot, &w->prof);
    uint64_t gen = ctx_slot_reader_generation(&w->prof);
    if (gen != w->prof_gen) {
        imctxcap_vmshare_clear(w); /* before anything is attributed with the new set */
        w->prof_gen = gen;
    }
    return p;
}

static rsRetVal submit(imctxcap_worker_t *w, const char *ifname, const struct timeval *ts, const struct ctx_pkt *pkt,
                       const ctx_attribution_t *a) {
    imctxcap_inst_t *inst = w->inst;
    char src_ip[CTX_PKT_ADDRSTRLEN], src_mac[CTX_PKT_MACSTRLEN];
    struct syslogTime stime;
    smsg_t *pMsg = NULL;
    struct json_object *ctx = NULL;
    DEFiRet;
    size_t len = pkt->payload_len;
    int truncated = pkt->truncated;
    if (len > (size_t)inst->pkt->max_line) {
        len = (size_t)inst->pkt->max_line;
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
    /* as imudp: a capture cannot slow its sender down, so holding the capture thread at the
     * queue's light-delay mark (70 %) only lets the ring overflow sooner, for every VM */
    MsgSetFlowControlType(pMsg, eFLOWCTL_NO_DELAY);
    pMsg->msgFlags = NEEDS_PARSING | PARSE_HOSTNAME;
    MsgSetRcvFromStr(pMsg, (uchar *)src_ip, (int)strlen(src_ip), &w->from_prop);
    CHKiRet(MsgSetRcvFromIP(pMsg, w->from_prop));

    CHKmalloc(ctx = json_object_new_object());
    struct json_object *vm = imctxcap_vm_object(w, a, ifname, src_ip, src_mac);
    struct json_object *cap = capture_json(w, pkt, ts, src_ip, truncated);
    if (vm == NULL || cap == NULL) {
        json_object_put(vm);
        json_object_put(cap);
        ABORT_FINALIZE(RS_RET_OUT_OF_MEMORY);
    }
    imctxcap_json_add(ctx, "vm", vm);
    imctxcap_json_add(ctx, "capture", cap);
    CHKiRet(set_root(pMsg, ctx));
    ctx = NULL;
    w->msgs[w->multi.nElem++] = pMsg;
    pMsg = NULL;
    if (w->multi.nElem == w->multi.maxElem) CHKiRet(multiSubmitMsg2(&w->multi));
    imctxcap_ctr_add(inst, IMCTXCAP_CTR_SUBMITTED, 1);
    w->trim_pending++;
finalize_it:
    json_object_put(ctx);
    if (pMsg != NULL) msgDestruct(&pMsg);
    RETiRet;
}

/* fragments: returns 1 and fills *whole when a datagram completed, else 0. The
 * interface index keeps the vNICs' fragments apart (and is the unit of the quota). */
static int reassemble(imctxcap_worker_t *w, unsigned ifindex, const struct ctx_pkt *frag, struct ctx_pkt *whole) {
    imctxcap_inst_t *inst = w->inst;
    int rc = ctx_ipfrag_add(w->frag, frag, ifindex, ctx_capture_round_ns(w->cap) / 1000000u, whole);
    if (rc == CTX_IPFRAG_COMPLETE) return 1;
    if (rc < 0) imctxcap_ctr_add(inst, IMCTXCAP_CTR_FRAG_DROPPED, 1);
    return 0;
}

void imctxcap_on_packet(void *ud, const char *ifname, unsigned ifindex, const struct timeval *ts, const uint8_t *frame,
                        size_t caplen, size_t wirelen) {
    imctxcap_worker_t *w = ud;
    imctxcap_inst_t *inst = w->inst;
    struct ctx_pkt pkt, whole;
    const struct ctx_pkt *p = &pkt;

    imctxcap_ctr_add(inst, IMCTXCAP_CTR_PACKETS, 1);
    if (!imctxcap_within_budget(w, ifname, wirelen)) return; /* a flood costs nothing more */
    int rc = ctx_pkt_decode(frame, caplen, wirelen, &pkt);
    if (rc == CTX_PKT_FRAGMENT) {
        if (!reassemble(w, ifindex, &pkt, &whole)) return;
        p = &whole;
    } else if (rc < 0) {
        if (ctx_pkt_is_malformed(rc)) imctxcap_ctr_add(inst, IMCTXCAP_CTR_MALFORMED, 1);
        return;
    }
    if (p->proto == IPPROTO_TCP) {
        imctxcap_tcp_packet(w, ifname, ts, p); /* frames come back through imctxcap_deliver_as() */
        return;
    }
    if (p->proto != IPPROTO_UDP || !port_wanted(inst, p->dport)) return;
    imctxcap_deliver(w, ifname, ts, p);
}

ctx_profiles_t *imctxcap_attribute(imctxcap_worker_t *w, const char *ifname, const struct ctx_pkt *p,
                                   ctx_attribution_t *a) {
    uint8_t ip16[16];
    memcpy(ip16, &p->src, 16);
    ctx_profiles_t *prof = imctxcap_profiles(w);
    ctx_profiles_attribute(prof, ifname, p->src_mac, ip16, a);
    return ctx_profiles_ref(prof);
}

void imctxcap_deliver(imctxcap_worker_t *w, const char *ifname, const struct timeval *ts, const struct ctx_pkt *p) {
    ctx_attribution_t a;
    uint8_t ip16[16];
    memcpy(ip16, &p->src, 16);
    ctx_profiles_attribute(imctxcap_profiles(w), ifname, p->src_mac, ip16, &a);
    imctxcap_deliver_as(w, ifname, ts, p, &a);
}

void imctxcap_deliver_as(imctxcap_worker_t *w, const char *ifname, const struct timeval *ts, const struct ctx_pkt *p,
                         const ctx_attribution_t *a) {
    imctxcap_inst_t *inst = w->inst;
    if (p->payload_len == 0) {
        imctxcap_ctr_add(inst, IMCTXCAP_CTR_EMPTY, 1);
        return;
    }
    if (a->spoof != 0) imctxcap_ctr_add(inst, IMCTXCAP_CTR_SPOOFED, 1);
    if (a->vm == NULL) {
        imctxcap_ctr_add(inst, IMCTXCAP_CTR_UNATTRIBUTED, 1);
        if (inst->unattributed == IMCTXCAP_UNATTR_DROP) {
            imctxcap_ctr_add(inst, IMCTXCAP_CTR_UNATTR_DROPPED, 1);
            return;
        }
    }
    if (submit(w, ifname, ts, p, a) != RS_RET_OK) imctxcap_ctr_add(inst, IMCTXCAP_CTR_SUBMIT_ERR, 1);
}

/* end of a poll round: hand the batch to rsyslog's queue */
void imctxcap_on_round(void *ud) {
    imctxcap_worker_t *w = ud;
    if (w->multi.nElem > 0) multiSubmitFlush(&w->multi);
}
