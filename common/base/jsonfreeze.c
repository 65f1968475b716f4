/* jsonfreeze.c: pre-rendered, immutable libfastjson subtrees. Contract in jsonfreeze.h.
 *
 * Concurrency: freezing happens before the object is shared. Afterwards the serializer
 * only reads the object and its text and writes into the caller's print buffer.
 */
#include "jsonfreeze.h"

#include <json_object_private.h>
#include <stdlib.h>
#include <string.h>

#include "ctxlog_common.h"

/* libfastjson's print buffer (not installed as a header; layout checked in 1.2304) */
struct printbuf {
    char *buf;
    int bpos;
    int size;
};

/* libfastjson's own serializers, one per type, captured when the first object is frozen */
static fjson_object_to_json_string_fn *orig_object, *orig_array;

static int append(struct printbuf *pb, const char *s, int n) {
    if (pb->size - pb->bpos <= n) {
        int size = pb->size > 0 ? pb->size : 64;
        while (size - pb->bpos <= n) size *= 2;
        char *p = realloc(pb->buf, (size_t)size);
        if (p == NULL) return -1;
        pb->buf = p;
        pb->size = size;
    }
    memcpy(pb->buf + pb->bpos, s, (size_t)n);
    pb->bpos += n;
    pb->buf[pb->bpos] = '\0';
    return n;
}

static int frozen_to_json_string(struct fjson_object *jso, struct printbuf *pb, int level, int flags) {
    const struct printbuf *own = jso->_pb;
    if (flags == FJSON_TO_STRING_SPACED && pb != own && own != NULL && own->bpos > 0)
        return append(pb, own->buf, own->bpos);
    return (jso->o_type == fjson_type_array ? orig_array : orig_object)(jso, pb, level, flags);
}

/* libfastjson's serializer of a fresh object or array. Every module that links this file
 * has its own frozen_to_json_string, so an object frozen by another module (imctxcap's
 * $!ctx!vm, read by mmctxenrich) is recognized by its serializer NOT being the default. */
static fjson_object_to_json_string_fn *default_fn(enum fjson_type t) {
    static fjson_object_to_json_string_fn *fn[2];
    int i = t == fjson_type_array;
    fjson_object_to_json_string_fn *f = __atomic_load_n(&fn[i], __ATOMIC_ACQUIRE);
    if (f == NULL) {
        struct fjson_object *o = i ? fjson_object_new_array() : fjson_object_new_object();
        if (o == NULL) return NULL;
        f = o->_to_json_string;
        fjson_object_put(o);
        __atomic_store_n(&fn[i], f, __ATOMIC_RELEASE);
    }
    return f;
}

int ctx_json_freeze(struct fjson_object *o) {
    if (o == NULL || (o->o_type != fjson_type_object && o->o_type != fjson_type_array)) return CTX_EINVAL;
    if (ctx_json_is_frozen(o)) return 0;
    fjson_object_to_json_string_fn **orig = o->o_type == fjson_type_array ? &orig_array : &orig_object;
    if (__atomic_load_n(orig, __ATOMIC_ACQUIRE) == NULL) __atomic_store_n(orig, o->_to_json_string, __ATOMIC_RELEASE);
    const char *s = fjson_object_to_json_string_ext(o, FJSON_TO_STRING_SPACED); /* leaves the text in o->_pb */
    if (s == NULL || o->_pb == NULL || o->_pb->bpos <= 0) return CTX_ENOMEM;
    o->_to_json_string = frozen_to_json_string;
    return 0;
}

int ctx_json_is_frozen(const struct fjson_object *o) {
    if (o == NULL || (o->o_type != fjson_type_object && o->o_type != fjson_type_array)) return 0;
    if (o->_to_json_string == frozen_to_json_string) return 1;
    fjson_object_to_json_string_fn *d = default_fn(o->o_type);
    return d != NULL && o->_to_json_string != d;
}

const char *ctx_json_frozen_text(const struct fjson_object *o, size_t *len) {
    if (!ctx_json_is_frozen(o) || o->_pb == NULL) return NULL;
    *len = (size_t)o->_pb->bpos;
    return o->_pb->buf;
}
