/* profiles_tables.c: a profiles store's lookup tables (vNIC, MAC, IP, UUID, name),
 * filled in file order, which is where duplicates across VMs are found (the message
 * names both entries). Part of loading a store (profiles_load.c).
 *
 * Concurrency: touches only the store being built.
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "ctxlog_common.h"
#include "profiles.h"
#include "profiles_int.h"
#include "profiles_ld.h"

/* The path of a VM's list entry k for messages (ips: ipv4 entries first). */
static struct jpath entry_path(const struct ld *l, uint32_t vm, const char *key, uint32_t k) {
    const ctx_profile_t *p = &l->p->vms[vm];
    struct jpath jp = {"vms", (long)vm, key, -1};
    uint8_t bit = ARR_MAC;
    if (strcmp(key, "ip") == 0) {
        uint32_t n4 = 0;
        while (n4 < p->n_ips && p->ips[n4].family == AF_INET) n4++;
        jp.key = k < n4 ? "ipv4" : "ipv6";
        bit = k < n4 ? ARR_IPV4 : ARR_IPV6;
        k = k < n4 ? k : k - n4;
    } else if (strcmp(key, "vnic") == 0) {
        bit = ARR_VNIC;
    }
    if (l->vm_arr[vm] & bit) jp.elem = (long)k;
    return jp;
}

static int dup_fail(struct ld *l, uint32_t vm, const char *key, uint32_t k, const char *text,
                    const struct tslot *old) {
    struct jpath jp = entry_path(l, vm, key, k);
    char q[160], qn[160];
    const ctx_profile_t *o = &l->p->vms[old->vm - 1];
    ctx_prof_quote(q, sizeof q, text, strlen(text));
    if (old->vm - 1 == vm) return ctx_pld_fail(l, &jp, "%s appears twice in this VM", q);
    ctx_prof_quote(qn, sizeof qn, o->name, strlen(o->name));
    return ctx_pld_fail(l, &jp, "%s is already used by vms[%u] (%s, line %u)", q, o->index, qn, o->line);
}

static int put_vm_keys(struct ld *l, uint32_t i, struct table *t_glob, const char **globs, uint32_t *nglob) {
    ctx_profiles_t *p = l->p;
    const ctx_profile_t *vm = &p->vms[i];
    const struct tslot *old;
    struct name_key nk = {vm->tenant, vm->name};
    if (vm->uuid && (old = tab_put(p, &p->t_uuid, hash_str(vm->uuid), i, 0, eq_uuid, vm->uuid)) != NULL)
        return dup_fail(l, i, "uuid", 0, vm->uuid, old);
    for (uint32_t k = 0; k < vm->n_macs; k++)
        if ((old = tab_put(p, &p->t_mac, hash_mac(vm->macs[k].addr), i, k, eq_mac, vm->macs[k].addr)) != NULL)
            return dup_fail(l, i, "mac", k, vm->macs[k].text, old);
    for (uint32_t k = 0; k < vm->n_ips; k++)
        if ((old = tab_put(p, &p->t_ip, hash_ip(vm->ips[k].addr), i, k, eq_ip, vm->ips[k].addr)) != NULL)
            return dup_fail(l, i, "ip", k, vm->ips[k].text, old);
    for (uint32_t k = 0; k < vm->n_vnics; k++) {
        const char *v = vm->vnics[k];
        int glob = strcspn(v, "*?[") != strlen(v);
        if ((old = tab_put(p, glob ? t_glob : &p->t_vnic, hash_str(v), i, k, eq_vnic, v)) != NULL)
            return dup_fail(l, i, "vnic", k, v, old);
        if (glob) {
            p->glob_vm[*nglob] = i;
            globs[(*nglob)++] = v;
        }
    }
    tab_put(p, &p->t_name, hash_name(&nk), i, 0, eq_name, &nk); /* first one wins */
    return 0;
}

static int tab_init(struct prof_arena *a, struct table *t, size_t count) {
    size_t size = 4;
    while (size < 2 * count) size *= 2;
    t->slots = ctx_prof_arena_alloc(a, size * sizeof *t->slots);
    t->mask = (uint32_t)(size - 1);
    return t->slots ? 0 : CTX_ENOMEM;
}

int ctx_pld_build_tables(struct ld *l) {
    ctx_profiles_t *p = l->p;
    size_t nmac = 0, nip = 0, nvnic = 0, nuuid = 0;
    struct table t_glob = {NULL, 0};
    for (uint32_t i = 0; i < p->n; i++) {
        nmac += p->vms[i].n_macs;
        nip += p->vms[i].n_ips;
        nvnic += p->vms[i].n_vnics;
        nuuid += p->vms[i].uuid != NULL;
    }
    const char **globs = malloc((nvnic ? nvnic : 1) * sizeof *globs);
    p->glob_vm = ctx_prof_arena_alloc(&p->arena, (nvnic ? nvnic : 1) * sizeof *p->glob_vm);
    if (globs == NULL || p->glob_vm == NULL || tab_init(&p->arena, &p->t_mac, nmac) < 0 ||
        tab_init(&p->arena, &p->t_ip, nip) < 0 || tab_init(&p->arena, &p->t_vnic, nvnic) < 0 ||
        tab_init(&p->arena, &t_glob, nvnic) < 0 || tab_init(&p->arena, &p->t_uuid, nuuid) < 0 ||
        tab_init(&p->arena, &p->t_name, p->n) < 0) {
        free(globs);
        return ctx_pld_nomem(l);
    }
    uint32_t nglob = 0;
    int r = 0;
    for (uint32_t i = 0; i < p->n && r == 0; i++) r = put_vm_keys(l, i, &t_glob, globs, &nglob);
    if (r == 0 && nglob > 0 && ctx_ifglob_new_array(globs, nglob, &p->globs, NULL, 0) < 0) r = ctx_pld_nomem(l);
    free(globs);
    return r;
}

