/* mmctxenrich_flat.c: cached compute-manager parts, flattened once per worker for copying.
 *
 * Every message that carries $!ctx!cm needs its own copy of the cached fields (a cached
 * JSON object is shared and must not be handed to a message: see cmcache.h). Walking the
 * cached object with libfastjson's iterator, copying each key and formatting each number
 * per message cost more than the rest of the module together. So each worker keeps a
 * small direct-mapped memo: cached part (cmctx_t pointer) -> its fields as a flat array
 * of (interned key, type, value, number text), plus the fetched_at text. The memo holds a
 * reference to each cmctx_t it describes, so the address cannot be reused while the entry
 * lives; a refreshed part is a new cmctx_t and simply takes the slot over.
 *
 * Keys are interned in a process-wide table that is never freed (a few hundred bytes: the
 * field names of the mapping), so the objects built per message can use them as constant
 * keys (no copy per field) even in messages that outlive the module instance.
 *
 * Concurrency: a memo belongs to one worker (mmx_wrkr). The intern table is guarded by
 * its own mutex and touched only when a part is flattened (after a fetch), never per message.
 */
#include "config.h"
#include "rsyslog.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json.h>

#include "mmctxenrich.h"

#define MEMO_SLOTS 1024 /* per worker; a power of two */
#define INTERN_MAX 4096 /* distinct key names kept; past that, keys are copied per message */

struct flat_field {
    const char *key;   /* interned, or NULL (then copy from ckey) */
    const char *ckey;  /* the key in the cached object (valid while the entry holds its ref) */
    int type;          /* fjson_type_* of the value */
    int std;           /* shown in the standard group (host_ip, guest_os) */
    int64_t i;         /* int, boolean */
    double d;          /* double */
    const char *s;     /* string (in the cached object) or the double's text (in the entry) */
    int slen;
};

struct mmx_flat {
    cmctx_t *ctx;            /* held reference */
    int64_t fetched_at;      /* monotonic ms of the fetch */
    char fa_text[32];        /* fetched_at as RFC 3339, wall clock */
    size_t n;
    struct flat_field f[];   /* then the doubles' texts */
};

static pthread_mutex_t intern_mu = PTHREAD_MUTEX_INITIALIZER;
static const char *interned[INTERN_MAX];
static size_t n_interned;

/* a process-lifetime copy of k (never freed: see above), or NULL when the table is full */
static const char *intern(const char *k) {
    const char *r = NULL;
    pthread_mutex_lock(&intern_mu);
    for (size_t i = 0; i < n_interned && r == NULL; i++)
        if (strcmp(interned[i], k) == 0) r = interned[i];
    if (r == NULL && n_interned < INTERN_MAX && (r = strdup(k)) != NULL) interned[n_interned++] = r;
    pthread_mutex_unlock(&intern_mu);
    return r;
}

static int is_standard_field(const char *k) { return !strcmp(k, "host_ip") || !strcmp(k, "guest_os"); }

/* shortest text that reads back as d (the mapping rounded it: 12.3, not 12.300000000000001) */
static int double_text(double d, char *buf, size_t len) {
    int n = snprintf(buf, len, "%.15g", d);
    if (strtod(buf, NULL) != d) n = snprintf(buf, len, "%.17g", d);
    return n;
}

static void flat_fill(struct flat_field *ff, struct fjson_object *v, char **texts) {
    ff->type = fjson_object_get_type(v);
    switch (ff->type) {
    case fjson_type_string:
        ff->s = fjson_object_get_string(v);
        ff->slen = fjson_object_get_string_len(v);
        break;
    case fjson_type_int: ff->i = fjson_object_get_int64(v); break;
    case fjson_type_boolean: ff->i = fjson_object_get_boolean(v); break;
    case fjson_type_double:
        ff->d = fjson_object_get_double(v);
        ff->s = *texts;
        *texts += double_text(ff->d, *texts, 32) + 1;
        break;
    default: ff->type = -1; /* the mapping yields scalars only */
    }
}

static struct mmx_flat *flatten(mmx_inst *inst, cmctx_t *c, int64_t fetched_at) {
    struct fjson_object *src = cmctx_peek(c);
    size_t n = src ? (size_t)fjson_object_object_length(src) : 0;
    struct mmx_flat *fl = calloc(1, sizeof *fl + n * (sizeof(struct flat_field) + 32));
    if (fl == NULL) return NULL;
    char *texts = (char *)&fl->f[n];
    struct fjson_object_iterator it = fjson_object_iter_begin(src), end = fjson_object_iter_end(src);
    for (; src != NULL && !fjson_object_iter_equal(&it, &end) && fl->n < n; fjson_object_iter_next(&it)) {
        struct flat_field *ff = &fl->f[fl->n];
        ff->ckey = fjson_object_iter_peek_name(&it);
        ff->key = intern(ff->ckey);
        ff->std = is_standard_field(ff->ckey);
        flat_fill(ff, fjson_object_iter_peek_value(&it), &texts);
        if (ff->type >= 0) fl->n++;
    }
    fl->ctx = cmctx_ref(c);
    fl->fetched_at = fetched_at;
    mmx_fmt_time_ms(fetched_at + inst->wall_offset_ms, fl->fa_text, sizeof fl->fa_text);
    return fl;
}

static void flat_free(struct mmx_flat *fl) {
    if (fl == NULL) return;
    cmctx_unref(fl->ctx);
    free(fl);
}

const struct mmx_flat *mmx_flat_get(mmx_wrkr *w, cmctx_t *c, int64_t fetched_at) {
    if (c == NULL) return NULL;
    if (w->memo == NULL && (w->memo = calloc(MEMO_SLOTS, sizeof *w->memo)) == NULL) return NULL;
    uintptr_t h = (uintptr_t)c;
    h ^= h >> 17;
    struct mmx_flat **slot = &w->memo[(h >> 4) & (MEMO_SLOTS - 1)];
    if (*slot != NULL && (*slot)->ctx == c) return *slot;
    struct mmx_flat *fl = flatten(w->inst, c, fetched_at);
    if (fl == NULL) return NULL;
    flat_free(*slot);
    *slot = fl;
    return fl;
}

static struct fjson_object *value_of(const struct flat_field *ff) {
    switch (ff->type) {
    case fjson_type_string: return fjson_object_new_string_len(ff->s, ff->slen);
    case fjson_type_int: return fjson_object_new_int64(ff->i);
    case fjson_type_boolean: return fjson_object_new_boolean((int)ff->i);
    case fjson_type_double: return fjson_object_new_double_s(ff->d, ff->s);
    default: return NULL;
    }
}

int mmx_flat_add(struct fjson_object *obj, const struct mmx_flat *fl, int all, int may_exist) {
    int added = 0;
    for (size_t i = 0; i < fl->n; i++) {
        const struct flat_field *ff = &fl->f[i];
        if (!all && !ff->std) continue;
        struct fjson_object *v = value_of(ff);
        if (v == NULL) continue;
        if (ff->key == NULL || may_exist)
            fjson_object_object_add_ex(obj, ff->key ? ff->key : ff->ckey, v,
                                       ff->key ? FJSON_OBJECT_KEY_IS_CONSTANT : 0);
        else
            fjson_object_object_add_ex(obj, ff->key, v, FJSON_OBJECT_KEY_IS_CONSTANT | FJSON_OBJECT_ADD_KEY_IS_NEW);
        added++;
    }
    return added;
}

int64_t mmx_flat_fetched_at(const struct mmx_flat *fl) { return fl->fetched_at; }
const char *mmx_flat_fetched_at_text(const struct mmx_flat *fl) { return fl->fa_text; }

void mmx_flat_free_all(mmx_wrkr *w) {
    if (w->memo == NULL) return;
    for (size_t i = 0; i < MEMO_SLOTS; i++) flat_free(w->memo[i]);
    free(w->memo);
    w->memo = NULL;
}
