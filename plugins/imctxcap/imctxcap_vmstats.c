/* imctxcap_vmstats.c: frames over the budget, counted per VM (issue 14: "excess is
 * counted per VM and per input"). packets.overbudget of the input counts them all; here
 * each VM that went over its budget at least once gets an impstats object of its own,
 * "imctxcap(<input>).vm.<tenant>:<name>" (origin imctxcap; bytes of the name other than
 * [A-Za-z0-9._-] shown as '_') with its packets.overbudget,
 * made when that first happens. At most vm.maxStatsObjects such objects (a VM keeps its
 * object until shutdown): frames of VMs beyond them are counted in the input's
 * packets.overbudget.unlisted, frames of vNICs that resolve to no VM in
 * packets.overbudget.novm. So packets.overbudget = the VMs' sum + unlisted + novm.
 *
 * The VM is the one the vNIC resolves to (the budget is the vNIC's; the frame is not
 * decoded). Each worker caches, per vNIC and profile generation, the cell it counts in:
 * a flood costs an atomic add; the registry (common/base/namereg.h, a mutex) is asked
 * on a cache miss only.
 *
 * Concurrency: the registry and the cells are shared by the input's workers (cells are
 * atomics, never moved: allocated at activation for every slot); objects are made by
 * the worker that registered the VM and registered with rsyslog's stats list (its own
 * mutex); destroyed at freeCnf. Each worker's cache is its own.
 */
#include "config.h"
#include "rsyslog.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errmsg.h"
#include "statsobj.h"

#include "imctxcap.h"
#include "namereg.h"
#include "profiles.h"

struct imctxcap_vmstats {
    ctx_namereg_t *reg;    /* "<tenant>:<name>" -> slot */
    statsobj_if_t *so;     /* rsyslog's statsobj interface (borrowed) */
    intctr_t *cells;       /* packets.overbudget of slot i (max of them) */
    statsobj_t **objs;     /* the impstats object of slot i, NULL until made (or if it failed) */
    size_t max;
};

rsRetVal imctxcap_vmstats_init(imctxcap_inst_t *inst, statsobj_if_t *so) {
    struct imctxcap_vmstats *v = NULL;
    DEFiRet;
    if (inst->budgets == NULL) FINALIZE; /* no budget, nothing over it */
    CHKmalloc(v = calloc(1, sizeof(*v)));
    v->so = so;
    v->max = inst->vm_max_stats;
    if (ctx_namereg_new(v->max, &v->reg) != 0) ABORT_FINALIZE(RS_RET_OUT_OF_MEMORY);
    if (v->max > 0) {
        CHKmalloc(v->cells = calloc(v->max, sizeof(*v->cells)));
        CHKmalloc(v->objs = calloc(v->max, sizeof(*v->objs)));
    }
    inst->vmstats = v;
    v = NULL;
finalize_it:
    if (v != NULL) {
        ctx_namereg_free(v->reg);
        free(v->cells);
        free(v);
    }
    RETiRet;
}

void imctxcap_vmstats_free(imctxcap_inst_t *inst) {
    struct imctxcap_vmstats *v = inst->vmstats;
    if (v == NULL) return;
    for (size_t i = 0; i < v->max; i++)
        if (v->objs[i] != NULL) v->so->Destruct(&v->objs[i]);
    ctx_namereg_free(v->reg);
    free(v->cells);
    free(v->objs);
    free(v);
    inst->vmstats = NULL;
}

/* the object's name: a VM name is the host's or a tenant's text (libvirt metadata), and
 * impstats' legacy format writes names as they are: only [A-Za-z0-9._-] is kept, any
 * other byte becomes '_' (a tenant id has no ':', so <tenant>:<name> is unambiguous) */
static void object_name(char *out, size_t n, const char *input, const ctx_profile_t *vm) {
    int len = snprintf(out, n, "imctxcap(%s).vm.%s:", input, vm->tenant);
    if (len < 0 || (size_t)len >= n) return;
    size_t i = (size_t)len;
    for (const char *k = vm->name; *k != '\0' && i + 1 < n; k++, i++) {
        char c = *k;
        int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                 c == '_' || c == '-';
        out[i] = ok ? c : '_';
        out[i + 1] = '\0';
    }
}

/* the impstats object of a VM just registered in slot i */
static rsRetVal make_object(imctxcap_inst_t *inst, size_t i, const ctx_profile_t *vm) {
    struct imctxcap_vmstats *v = inst->vmstats;
    statsobj_t *o = NULL;
    char name[600];
    DEFiRet;
    object_name(name, sizeof name, inst->name, vm);
    CHKiRet(v->so->Construct(&o));
    CHKiRet(v->so->SetName(o, (uchar *)name));
    CHKiRet(v->so->SetOrigin(o, (uchar *)"imctxcap"));
    CHKiRet(STATSCTR_ADD(v->so, o, "packets.overbudget", 0, &v->cells[i]));
    CHKiRet(v->so->ConstructFinalize(o));
    v->objs[i] = o;
    o = NULL;
finalize_it:
    if (o != NULL) v->so->Destruct(&o);
    if (iRet != RS_RET_OK)
        LogError(0, iRet, "imctxcap(%s): could not make the impstats object '%s': its frames over budget are "
                 "counted in packets.overbudget only", inst->name, name);
    RETiRet;
}

/* the cell that counts ifname's frames over budget: its VM's, or unlisted / novm */
static intctr_t *resolve(imctxcap_worker_t *w, const char *ifname) {
    imctxcap_inst_t *inst = w->inst;
    ctx_match_t how;
    const ctx_profile_t *vm = ctx_profiles_by_vnic(imctxcap_profiles(w), ifname, &how);
    if (vm == NULL) return &inst->ctr[IMCTXCAP_CTR_OVERBUDGET_NOVM];
    char key[512]; /* the registry's key: tenant ids have no ':' */
    snprintf(key, sizeof key, "%s:%s", vm->tenant, vm->name);
    int created = 0, slot = ctx_namereg_get(inst->vmstats->reg, key, &created);
    if (slot < 0) return &inst->ctr[IMCTXCAP_CTR_OVERBUDGET_UNLISTED];
    if (created) make_object(inst, (size_t)slot, vm);
    return &inst->vmstats->cells[slot];
}

static unsigned cache_slot(const char *ifname) {
    unsigned h = 2166136261u;
    for (size_t i = 0; i < IMCTXCAP_IFNAMELEN - 1 && ifname[i] != '\0'; i++) h = (h ^ (uint8_t)ifname[i]) * 16777619u;
    return (h ^ (h >> 16)) % IMCTXCAP_VMCACHE;
}

void imctxcap_vmstats_overbudget(imctxcap_worker_t *w, const char *ifname) {
    if (w->inst->vmstats == NULL) return;
    imctxcap_profiles(w); /* brings w->prof_gen up to date */
    struct imctxcap_vmcache *c = &w->vmcache[cache_slot(ifname)];
    if (c->cell == NULL || c->gen != w->prof_gen || strncmp(c->ifname, ifname, IMCTXCAP_IFNAMELEN - 1) != 0) {
        c->cell = resolve(w, ifname);
        c->gen = w->prof_gen;
        snprintf(c->ifname, sizeof c->ifname, "%s", ifname);
    }
    __atomic_fetch_add(c->cell, 1, __ATOMIC_RELAXED);
}
