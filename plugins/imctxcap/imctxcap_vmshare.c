/* imctxcap_vmshare.c: $!ctx!vm, built once per VM and source address, shared by every
 * message that carries it (issue 12: context at the cost of a reference).
 *
 * $!ctx!vm depends only on the attribution (the profile, or none, and which key
 * matched), the vNIC name, the source IP and MAC text and the instance's
 * unattributed.tenant. Each capture worker keeps a direct-mapped memo from that key to
 * one object, frozen (common/base/jsonfreeze.h: pre-rendered, so `%$!ctx%` copies its
 * text), and gives each message a reference (fjson_object_get) instead of a new tree.
 *
 * - A spoofed packet ($!ctx!vm!spoof) gets a private object, as before: the verdict
 *   is per packet and rare; the shared objects never carry one.
 * - The key holds a profile pointer. Profiles are allocated only when a profile set is
 *   loaded, and a worker empties its memo whenever it takes a new set
 *   (imctxcap_packet.c: imctxcap_profiles), before it attributes anything with it; so a
 *   key's pointer is never that of a later profile at a reused address.
 * - Sharing is off (each message builds its own, as before) when a template names
 *   $!ctx!vm itself (plugins/common/tplscan.h); its string members are safe to name.
 * - Nothing changes a shared $!ctx!vm: mmctxenrich replaces it instead of editing it
 *   (mmctxenrich_msg.c: prune_vm).
 *
 * Concurrency: a memo belongs to one capture worker; the frozen objects are read by any
 * thread; their reference counts are atomic in libfastjson.
 */
#include "config.h"
#include "rsyslog.h"

#include <json.h>
#include <stdlib.h>
#include <string.h>

#include "statsobj.h"

#include "imctxcap.h"
#include "jsonfreeze.h"
#include "pktdecode.h"
#include "profiles.h"

#define VMSHARE_SLOTS 256 /* per worker; a power of two */

struct vmshare_ent {
    const ctx_profile_t *vm;
    ctx_match_t how;
    char ifname[IMCTXCAP_IFNAMELEN];
    char ip[CTX_PKT_ADDRSTRLEN];
    char mac[CTX_PKT_MACSTRLEN];
    struct json_object *obj; /* frozen; one reference; NULL: empty slot */
};

struct imctxcap_vmshare {
    struct vmshare_ent e[VMSHARE_SLOTS];
};

/* $!ctx!vm: identity of the sending VM (or of nobody, for a passed unattributed packet) */
static struct json_object *vm_json(const imctxcap_inst_t *inst, const ctx_attribution_t *a, const char *ifname,
                                   const char *src_ip, const char *src_mac) {
    struct json_object *vm = json_object_new_object();
    if (vm == NULL) return NULL;
    if (a->vm != NULL) {
        imctxcap_json_add_str(vm, "name", a->vm->name);
        imctxcap_json_add_str(vm, "uuid", a->vm->uuid);
        imctxcap_json_add_str(vm, "tenant", a->vm->tenant);
        imctxcap_json_add_str(vm, "user", a->vm->user);
    } else {
        imctxcap_json_add_str(vm, "tenant", inst->unattr_tenant);
    }
    imctxcap_json_add_str(vm, "ip", src_ip);
    imctxcap_json_add_str(vm, "mac", src_mac);
    imctxcap_json_add_str(vm, "vnic", ifname);
    imctxcap_json_add_str(vm, "match", ctx_match_name(a->how));
    imctxcap_json_add_str(vm, "spoof", ctx_spoof_name(a->spoof)); /* absent unless a key names another VM */
    return vm;
}

static uint64_t str_hash(uint64_t h, const char *s) {
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

static struct vmshare_ent *slot(struct imctxcap_vmshare *m, const ctx_attribution_t *a, const char *ifname,
                                const char *ip, const char *mac) {
    uint64_t h = 1469598103934665603ull ^ (uint64_t)(uintptr_t)a->vm ^ ((uint64_t)a->how << 56);
    h = str_hash(str_hash(str_hash(h, ifname), ip), mac);
    h ^= h >> 29;
    return &m->e[h & (VMSHARE_SLOTS - 1)];
}

static int ent_is(const struct vmshare_ent *e, const ctx_attribution_t *a, const char *ifname, const char *ip,
                  const char *mac) {
    return e->obj != NULL && e->vm == a->vm && e->how == a->how && strcmp(e->ifname, ifname) == 0 &&
           strcmp(e->ip, ip) == 0 && strcmp(e->mac, mac) == 0;
}

/* copies s into dst of size n; 0 if it does not fit (the key is then not remembered) */
static int copy_key(char *dst, size_t n, const char *s) {
    size_t l = strlen(s);
    if (l >= n) return 0;
    memcpy(dst, s, l + 1);
    return 1;
}

static struct json_object *remember(imctxcap_worker_t *w, const ctx_attribution_t *a, const char *ifname,
                                    const char *ip, const char *mac) {
    struct json_object *obj = vm_json(w->inst, a, ifname, ip, mac);
    if (obj == NULL || ctx_json_freeze(obj) != 0) return obj; /* unshared: the message's own */
    if (w->vmshare == NULL && (w->vmshare = calloc(1, sizeof *w->vmshare)) == NULL) return obj;
    struct vmshare_ent *e = slot(w->vmshare, a, ifname, ip, mac);
    json_object_put(e->obj);
    e->obj = NULL;
    if (!copy_key(e->ifname, sizeof e->ifname, ifname) || !copy_key(e->ip, sizeof e->ip, ip) ||
        !copy_key(e->mac, sizeof e->mac, mac))
        return obj;
    e->vm = a->vm;
    e->how = a->how;
    e->obj = json_object_get(obj);
    return obj;
}

struct json_object *imctxcap_vm_object(imctxcap_worker_t *w, const ctx_attribution_t *a, const char *ifname,
                                       const char *src_ip, const char *src_mac) {
    if (a->spoof != 0 || !w->inst->share_vm) return vm_json(w->inst, a, ifname, src_ip, src_mac);
    if (w->vmshare != NULL) {
        struct vmshare_ent *e = slot(w->vmshare, a, ifname, src_ip, src_mac);
        if (ent_is(e, a, ifname, src_ip, src_mac)) {
            imctxcap_ctr_add(w->inst, IMCTXCAP_CTR_VM_SHARED, 1);
            return json_object_get(e->obj);
        }
    }
    return remember(w, a, ifname, src_ip, src_mac);
}

void imctxcap_vmshare_clear(imctxcap_worker_t *w) {
    if (w->vmshare == NULL) return;
    for (size_t i = 0; i < VMSHARE_SLOTS; i++) {
        json_object_put(w->vmshare->e[i].obj);
        w->vmshare->e[i].obj = NULL;
    }
}

void imctxcap_vmshare_free(imctxcap_worker_t *w) {
    imctxcap_vmshare_clear(w);
    free(w->vmshare);
    w->vmshare = NULL;
}
