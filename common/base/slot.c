/* slot.c: the generation-stamped, reference-counted reload slot (contract: slot.h).
 *
 * Concurrency: s->cur is read and written under s->mu only, and a reference is taken
 * while that mutex is held, so a version cannot lose its last reference between being
 * read and being held. s->gen is written under the mutex with a release store and read
 * without it (acquire), for readers' fast path. A version's count is atomic; the destroy
 * function runs after every lock is released.
 */
#include "slot.h"

#include <pthread.h>
#include <stdlib.h>

#include "ctxlog_common.h"

struct ctx_slot_ref {
    int refs;                    /* atomic */
    uint64_t gen;                /* the generation that made it current */
    void *obj;                   /* owned: destroyed with the last reference */
    ctx_slot_destroy_fn destroy;
};

struct ctx_slot {
    pthread_mutex_t mu;          /* guards cur */
    ctx_slot_ref_t *cur;         /* the current version (the slot's reference), or NULL */
    uint64_t gen;                /* atomic: cur's generation, or the emptying set's */
    ctx_slot_destroy_fn destroy;
};

int ctx_slot_new(ctx_slot_destroy_fn destroy, ctx_slot_t **out) {
    if (out == NULL) return CTX_EINVAL;
    *out = NULL;
    if (destroy == NULL) return CTX_EINVAL;
    ctx_slot_t *s = calloc(1, sizeof *s);
    if (s == NULL) return CTX_ENOMEM;
    if (pthread_mutex_init(&s->mu, NULL) != 0) {
        free(s);
        return CTX_ENOMEM;
    }
    s->destroy = destroy;
    *out = s;
    return CTX_OK;
}

void ctx_slot_free(ctx_slot_t *s) {
    if (s == NULL) return;
    ctx_slot_release(s->cur);
    pthread_mutex_destroy(&s->mu);
    free(s);
}

int ctx_slot_set(ctx_slot_t *s, void *obj) {
    if (s == NULL) return CTX_EINVAL;
    ctx_slot_ref_t *r = NULL;
    if (obj != NULL) {
        if ((r = malloc(sizeof *r)) == NULL) return CTX_ENOMEM;
        r->refs = 1;
        r->obj = obj;
        r->destroy = s->destroy;
    }
    pthread_mutex_lock(&s->mu);
    ctx_slot_ref_t *old = s->cur;
    uint64_t gen = s->gen + 1;
    if (r != NULL) r->gen = gen;
    s->cur = r;
    __atomic_store_n(&s->gen, gen, __ATOMIC_RELEASE);
    pthread_mutex_unlock(&s->mu);
    ctx_slot_release(old);
    return CTX_OK;
}

uint64_t ctx_slot_generation(const ctx_slot_t *s) {
    return s != NULL ? __atomic_load_n(&s->gen, __ATOMIC_ACQUIRE) : 0;
}

ctx_slot_ref_t *ctx_slot_acquire(ctx_slot_t *s) {
    if (s == NULL) return NULL;
    pthread_mutex_lock(&s->mu);
    ctx_slot_ref_t *r = ctx_slot_ref_hold(s->cur);
    pthread_mutex_unlock(&s->mu);
    return r;
}

ctx_slot_ref_t *ctx_slot_ref_hold(ctx_slot_ref_t *r) {
    if (r != NULL) __atomic_add_fetch(&r->refs, 1, __ATOMIC_RELAXED);
    return r;
}

void ctx_slot_release(ctx_slot_ref_t *r) {
    if (r == NULL || __atomic_sub_fetch(&r->refs, 1, __ATOMIC_ACQ_REL) != 0) return;
    r->destroy(r->obj);
    free(r);
}

void *ctx_slot_obj(const ctx_slot_ref_t *r) { return r != NULL ? r->obj : NULL; }

uint64_t ctx_slot_ref_generation(const ctx_slot_ref_t *r) { return r != NULL ? r->gen : 0; }

void *ctx_slot_read(ctx_slot_t *s, ctx_slot_reader_t *rd) {
    if (rd == NULL) return NULL;
    uint64_t gen = ctx_slot_generation(s);
    if (rd->ref == NULL || rd->ref->gen != gen) {
        ctx_slot_ref_t *fresh = ctx_slot_acquire(s);
        ctx_slot_release(rd->ref);
        rd->ref = fresh;
    }
    return ctx_slot_obj(rd->ref);
}

uint64_t ctx_slot_reader_generation(const ctx_slot_reader_t *rd) {
    return rd != NULL ? ctx_slot_ref_generation(rd->ref) : 0;
}

void ctx_slot_reader_drop(ctx_slot_reader_t *rd) {
    if (rd == NULL) return;
    ctx_slot_release(rd->ref);
    rd->ref = NULL;
}
