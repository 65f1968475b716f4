/* profiles.c: the VM profiles store: lifetime, lookups, the HUP slot.
 * (Building a store from a document is profiles_load.c.)
 *
 * Every string and array of a store lives in one arena, so a store is a handful of
 * allocations and frees in one sweep.
 *
 * Concurrency: a store is immutable after ctx_profiles_load_*() returns; lookups
 * only read it. Its reference count is atomic. The current store is kept in a
 * reload slot (common/base/slot.h), whose contract covers the swap.
 */
#include "profiles.h"

#include <stdlib.h>

#include "ctxlog_common.h"
#include "profiles_int.h"

/* ---- arena ---- */

/* Regular chunks double from 4 KiB up to 1 MiB (a small file costs little); a
 * request larger than half the next chunk gets a chunk of its own, linked behind
 * the current one so that the current one's free space stays in use. */
void *ctx_prof_arena_alloc(struct prof_arena *a, size_t n) {
    n = (n + 15) & ~(size_t)15;
    struct prof_chunk *c = a->head;
    if (c == NULL || c->cap - c->used < n) {
        size_t cap = a->next_cap < 4096 ? 4096 : a->next_cap;
        int own = n > cap / 2;
        if (own) cap = n;
        c = malloc(sizeof *c + cap);
        if (c == NULL) return NULL;
        c->cap = cap;
        c->used = 0;
        if (own && a->head != NULL) {
            c->next = a->head->next;
            a->head->next = c;
        } else {
            c->next = a->head;
            a->head = c;
            if (!own) a->next_cap = cap < (1u << 20) ? cap * 2 : cap;
        }
    }
    void *r = (char *)c->data + c->used;
    c->used += n;
    return memset(r, 0, n);
}

char *ctx_prof_arena_strndup(struct prof_arena *a, const char *s, size_t n) {
    char *d = ctx_prof_arena_alloc(a, n + 1);
    if (d != NULL) memcpy(d, s, n);
    return d;
}

void ctx_prof_arena_free(struct prof_arena *a) {
    struct prof_chunk *c = a->head;
    while (c != NULL) {
        struct prof_chunk *next = c->next;
        free(c);
        c = next;
    }
    a->head = NULL;
}

/* ---- UUID text ---- */

static int hexval(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

int ctx_prof_uuid_norm(const char *s, size_t n, char out[37]) {
    if (n != 36) return 0;
    for (size_t i = 0; i < 36; i++) {
        int dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash ? s[i] != '-' : hexval(s[i]) < 0) return 0;
        out[i] = (char)(dash ? '-' : "0123456789abcdef"[hexval(s[i])]);
    }
    out[36] = '\0';
    return 1;
}


/* ---- references ------------------------------------------------------------------------------- */

ctx_profiles_t *ctx_profiles_ref(ctx_profiles_t *p) {
    if (p != NULL) atomic_fetch_add_explicit(&p->refs, 1, memory_order_relaxed);
    return p;
}

void ctx_profiles_unref(ctx_profiles_t *p) {
    if (p == NULL || atomic_fetch_sub_explicit(&p->refs, 1, memory_order_acq_rel) != 1) return;
    ctx_ifglob_free(p->globs);
    ctx_prof_arena_free(&p->arena);
    free(p);
}

/* ---- lookups ------------------------------------------------------------------------------------ */

const ctx_profile_t *ctx_profiles_by_vnic(const ctx_profiles_t *p, const char *ifname, ctx_match_t *how) {
    const struct tslot *s;
    int g;
    if (how) *how = CTX_MATCH_NONE;
    if (p == NULL || ifname == NULL) return NULL;
    if ((s = tab_find(p, &p->t_vnic, hash_str(ifname), eq_vnic, ifname)) != NULL) {
        if (how) *how = CTX_MATCH_VNIC;
        return &p->vms[s->vm - 1];
    }
    if ((g = ctx_ifglob_match(p->globs, ifname)) < 0) return NULL;
    if (how) *how = CTX_MATCH_VNIC_GLOB;
    return &p->vms[p->glob_vm[g]];
}

const ctx_profile_t *ctx_profiles_by_mac(const ctx_profiles_t *p, const uint8_t mac[6], const ctx_mac_t **entry) {
    const struct tslot *s = p && mac ? tab_find(p, &p->t_mac, hash_mac(mac), eq_mac, mac) : NULL;
    if (entry) *entry = s ? &p->vms[s->vm - 1].macs[s->key] : NULL;
    return s ? &p->vms[s->vm - 1] : NULL;
}

const ctx_profile_t *ctx_profiles_by_ip(const ctx_profiles_t *p, const uint8_t ip16[16], const ctx_ip_t **entry) {
    const struct tslot *s = p && ip16 ? tab_find(p, &p->t_ip, hash_ip(ip16), eq_ip, ip16) : NULL;
    if (entry) *entry = s ? &p->vms[s->vm - 1].ips[s->key] : NULL;
    return s ? &p->vms[s->vm - 1] : NULL;
}

const ctx_profile_t *ctx_profiles_by_uuid(const ctx_profiles_t *p, const char *uuid) {
    char norm[37];
    if (p == NULL || uuid == NULL || !ctx_prof_uuid_norm(uuid, strnlen(uuid, 37), norm)) return NULL;
    const struct tslot *s = tab_find(p, &p->t_uuid, hash_str(norm), eq_uuid, norm);
    return s ? &p->vms[s->vm - 1] : NULL;
}

const ctx_profile_t *ctx_profiles_by_name(const ctx_profiles_t *p, const char *tenant, const char *name) {
    if (p == NULL || tenant == NULL || name == NULL) return NULL;
    struct name_key k = {tenant, name};
    const struct tslot *s = tab_find(p, &p->t_name, hash_name(&k), eq_name, &k);
    return s ? &p->vms[s->vm - 1] : NULL;
}

/* a VM found by MAC or IP may be the sender only if it has no vNIC of its own */
static const ctx_profile_t *mac_ip_candidate(const ctx_profile_t *vm) {
    return vm != NULL && vm->n_vnics == 0 ? vm : NULL;
}

int ctx_profiles_attribute(const ctx_profiles_t *p, const char *ifname, const uint8_t *mac, const uint8_t *ip16,
                           ctx_attribution_t *out) {
    const ctx_mac_t *me;
    const ctx_ip_t *ie;
    if (out == NULL) return CTX_EINVAL;
    *out = (ctx_attribution_t){NULL, CTX_MATCH_NONE, NULL, NULL, 0};
    if (p == NULL) return 0;
    const ctx_profile_t *by_mac = ctx_profiles_by_mac(p, mac, &me);
    const ctx_profile_t *by_ip = ctx_profiles_by_ip(p, ip16, &ie);
    out->vm = ctx_profiles_by_vnic(p, ifname, &out->how);
    if (out->vm == NULL && (out->vm = mac_ip_candidate(by_mac)) != NULL) {
        out->how = CTX_MATCH_MAC;
    } else if (out->vm == NULL && (out->vm = mac_ip_candidate(by_ip)) != NULL) {
        out->how = CTX_MATCH_IP;
    }
    if (by_mac != NULL && by_mac != out->vm) out->spoof |= CTX_SPOOF_MAC;
    if (by_ip != NULL && by_ip != out->vm) out->spoof |= CTX_SPOOF_IP;
    out->mac = out->vm != NULL && by_mac == out->vm ? me : NULL;
    out->ip = out->vm != NULL && by_ip == out->vm ? ie : NULL;
    return out->vm != NULL;
}

/* ---- accessors ------------------------------------------------------------------------------------ */

size_t ctx_profiles_count(const ctx_profiles_t *p) {
    return p ? p->n : 0;
}

const ctx_profile_t *ctx_profiles_at(const ctx_profiles_t *p, size_t i) {
    return p && i < p->n ? &p->vms[i] : NULL;
}

const char *ctx_profiles_source(const ctx_profiles_t *p) {
    return p ? p->source : NULL;
}

const char *ctx_match_name(ctx_match_t how) {
    switch (how) {
    case CTX_MATCH_VNIC: return "vnic";
    case CTX_MATCH_VNIC_GLOB: return "vnic-glob";
    case CTX_MATCH_MAC: return "mac";
    case CTX_MATCH_IP: return "ip";
    default: return "none";
    }
}

const char *ctx_spoof_name(unsigned spoof) {
    switch (spoof & (CTX_SPOOF_MAC | CTX_SPOOF_IP)) {
    case CTX_SPOOF_MAC: return "mac";
    case CTX_SPOOF_IP: return "ip";
    case CTX_SPOOF_MAC | CTX_SPOOF_IP: return "both";
    default: return NULL;
    }
}

/* ---- the slot ------------------------------------------------------------------------------------------ */

static void slot_drop(void *p) { ctx_profiles_unref(p); }

int ctx_profiles_slot_new(ctx_slot_t **out) { return ctx_slot_new(slot_drop, out); }

ctx_profiles_t *ctx_profiles_current(ctx_slot_t *s) {
    ctx_slot_ref_t *r = ctx_slot_acquire(s);
    ctx_profiles_t *p = ctx_profiles_ref(ctx_slot_obj(r));
    ctx_slot_release(r);
    return p;
}
