/* mmctxenrich_names.c: the VM names more than one profile has (any tenant).
 *
 * A VM name is its tenant's choice and need not be unique. The compute-manager cache knows
 * a VM without uuid by its name alone, so two such VMs of one name (two tenants' "web-1")
 * would share one entry: a lookup by a name another profile has too is refused
 * (mmctxenrich_cm.c, cm.name.conflicts). Per message this is one atomic load and a binary
 * search of hashes; the list is rebuilt when the profiles change (a HUP).
 *
 * Concurrency: each worker has its own list (mmx_wrkr.names), built from the profiles
 * slot's current store (a reference taken for the build) when the slot's generation moved.
 */
#include "config.h"
#include "rsyslog.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mmctxenrich.h"

struct mmx_names {
    uint64_t gen; /* the profiles slot generation it was built for */
    size_t n;
    uint64_t h[]; /* hashes of the shared names, sorted */
};

uint64_t mmx_name_hash(const char *s) {
    uint64_t h = 0xcbf29ce484222325ull;
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 0x100000001b3ull;
    return h;
}

int mmx_cmp_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* the shared names of p (NULL: none); NULL without memory */
static struct mmx_names *build(const ctx_profiles_t *p, uint64_t gen) {
    size_t n = p ? ctx_profiles_count(p) : 0, k = 0;
    struct mmx_names *s = malloc(sizeof *s + (n ? n : 1) * sizeof s->h[0]);
    if (s == NULL) return NULL;
    for (size_t i = 0; i < n; i++) s->h[i] = mmx_name_hash(ctx_profiles_at(p, i)->name);
    qsort(s->h, n, sizeof s->h[0], mmx_cmp_u64);
    for (size_t i = 0; i + 1 < n; i++) /* each hash that occurs twice or more, once */
        if (s->h[i] == s->h[i + 1] && (k == 0 || s->h[k - 1] != s->h[i])) s->h[k++] = s->h[i];
    s->n = k;
    s->gen = gen;
    return s;
}

int mmx_name_shared(mmx_wrkr *w, const char *name) {
    ctx_slot_t *slot = w->inst->profiles;
    if (slot == NULL || name[0] == '\0') return 0;
    if (w->names == NULL || w->names->gen != ctx_slot_generation(slot)) {
        ctx_slot_ref_t *r = ctx_slot_acquire(slot);
        struct mmx_names *s = build(ctx_slot_obj(r), ctx_slot_ref_generation(r));
        ctx_slot_release(r);
        if (s == NULL) return 1; /* no memory: refuse, as for a shared name */
        free(w->names);
        w->names = s;
    }
    uint64_t h = mmx_name_hash(name); /* a unique name whose hash a shared one has is refused too */
    return bsearch(&h, w->names->h, w->names->n, sizeof h, mmx_cmp_u64) != NULL;
}

void mmx_names_free(mmx_wrkr *w) {
    free(w->names);
    w->names = NULL;
}
