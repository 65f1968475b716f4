/* slot.h: the one reload mechanism: a generation-stamped, reference-counted slot that
 * holds the current version of something a HUP reloads (a policy, a routing snapshot,
 * a tenants set, a profile store).
 *
 * Model: the object a slot holds is immutable while it is current. A reload builds a
 * new object and hands it to ctx_slot_set(), which makes it current, stamps it with the
 * next generation and drops the slot's reference to the previous one. Readers never see
 * the object change under them: they take a reference (ctx_slot_ref_t) to the version
 * that is current, use it, and release it. The last reference to a version, the slot's
 * or a reader's, destroys the object with the slot's destroy function.
 *
 *     writer (HUP)                        reader (worker)
 *     obj = load();                       ctx_slot_ref_t *r = ctx_slot_acquire(s);
 *     if (ctx_slot_set(s, obj) != 0)      const T *v = ctx_slot_obj(r);   (NULL: empty)
 *         destroy(obj);                   ... use v ...
 *                                         ctx_slot_release(r);
 *
 * A worker that reads the slot for every message keeps its reference instead, in a
 * ctx_slot_reader_t, and re-acquires only when the generation changed: one relaxed
 * atomic load a message, no lock, no reference count traffic.
 *
 *     ctx_slot_reader_t rd = CTX_SLOT_READER_INIT;   (per worker)
 *     const T *v = ctx_slot_read(s, &rd);            (each message)
 *     ctx_slot_reader_drop(&rd);                     (worker ends)
 *
 * Concurrency: every function may be called from any thread at the same time, except
 * ctx_slot_free() (no other call on that slot may run or follow) and a reader, which
 * belongs to one thread. The slot's mutex is held for a few instructions (never across
 * the destroy function or any I/O); the generation is read with an atomic load, so
 * ctx_slot_generation() and the fast path of ctx_slot_read() take no lock. The destroy
 * function runs on the thread that drops the last reference (a worker, possibly): it
 * must not block for long and must not call back into the slot.
 *
 * Ownership: ctx_slot_set() takes ownership of obj on success only. An object kept by a
 * slot must not be freed by anyone else; if its type has a reference count of its own
 * (ctx_policy_hold, ctx_tenants_ref), the slot owns one such reference and destroy drops
 * it.
 */
#ifndef CTXLOG_SLOT_H
#define CTXLOG_SLOT_H

#include <stdint.h>

typedef struct ctx_slot ctx_slot_t;         /* the slot (opaque) */
typedef struct ctx_slot_ref ctx_slot_ref_t; /* one reference to one version (opaque) */

/* Called with the object when its last reference goes. */
typedef void (*ctx_slot_destroy_fn)(void *obj);

/* Creates an empty slot (generation 0). destroy must not be NULL.
 * Returns 0, or CTX_EINVAL, CTX_ENOMEM (*out NULL). */
int ctx_slot_new(ctx_slot_destroy_fn destroy, ctx_slot_t **out);

/* Drops the slot's reference to its current version and frees the slot. NULL is a
 * no-op. References readers still hold stay valid; the last one destroys the object. */
void ctx_slot_free(ctx_slot_t *s);

/* Makes obj (takes ownership) the current version, or empties the slot with obj NULL;
 * the generation goes up by one either way. The previous version is destroyed when its
 * last reference goes (here, if no reader holds it).
 * Returns 0, or CTX_EINVAL (s NULL), CTX_ENOMEM: then nothing changed and obj is still
 * the caller's. */
int ctx_slot_set(ctx_slot_t *s, void *obj);

/* The generation of the current version: 0 for a slot never set, then one more for every
 * ctx_slot_set(). Atomic load, no lock. 0 for s NULL. */
uint64_t ctx_slot_generation(const ctx_slot_t *s);

/* A reference to the current version, or NULL when the slot is empty (or s NULL).
 * Release it with ctx_slot_release(). */
ctx_slot_ref_t *ctx_slot_acquire(ctx_slot_t *s);

/* Another reference to the same version; returns r. NULL-safe. */
ctx_slot_ref_t *ctx_slot_ref_hold(ctx_slot_ref_t *r);

/* Drops a reference; the last one destroys the object. NULL is a no-op. */
void ctx_slot_release(ctx_slot_ref_t *r);

/* The object of a reference (never NULL for r non-NULL), and the generation that made it
 * current. NULL-safe: NULL and 0. */
void *ctx_slot_obj(const ctx_slot_ref_t *r);
uint64_t ctx_slot_ref_generation(const ctx_slot_ref_t *r);

/* A reader's cached reference: one per thread, zero-initialised. */
typedef struct {
    ctx_slot_ref_t *ref; /* the version last read (one reference), or NULL */
} ctx_slot_reader_t;
#define CTX_SLOT_READER_INIT {NULL}

/* The current object, re-acquired only when the slot's generation differs from the one
 * rd holds (then rd's old reference is released); NULL when the slot is empty. The
 * object stays valid until the next ctx_slot_read() or ctx_slot_reader_drop() on rd. */
void *ctx_slot_read(ctx_slot_t *s, ctx_slot_reader_t *rd);

/* The generation of the version rd holds (0: none). */
uint64_t ctx_slot_reader_generation(const ctx_slot_reader_t *rd);

/* Releases rd's reference (rd can be used again). */
void ctx_slot_reader_drop(ctx_slot_reader_t *rd);

#endif
