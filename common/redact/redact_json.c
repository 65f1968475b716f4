/* redact_json.c: redact a libfastjson tree in place ($!ctx, JSON messages): every string value goes
 * through the text rules, and the whole value of a member whose key is a secret key name is
 * replaced (rule kv-secret). libfastjson escapes the new strings when the tree is written, so the
 * result stays valid JSON whatever the replacement holds.
 *
 * Concurrency: uses the caller's per-thread ctx; the tree must not be used by another thread meanwhile.
 */
#include <json.h>
#include <string.h>

#include "ctxlog_common.h"
#include "redact_int.h"

#define JSON_DEPTH_MAX 64

static int walk(ctx_redact_ctx *ctx, const ctx_redact_set *set, struct fjson_object *o, int depth);

/* the replacement of value v (NULL if unchanged); *rc < 0 on error */
static struct fjson_object *new_value(ctx_redact_ctx *ctx, const ctx_redact_set *set, const char *key,
                                      struct fjson_object *v, int *rc) {
    enum fjson_type t = fjson_object_get_type(v);
    const char *out = NULL;
    size_t outlen = 0;
    *rc = 0;
    if (key != NULL && t != fjson_type_null && t != fjson_type_object && t != fjson_type_array &&
        rx_key_is_secret(ctx->rules, key, strlen(key))) {
        const char *s = fjson_object_get_string(v);
        size_t len = t == fjson_type_string ? (size_t)fjson_object_get_string_len(v) : strlen(s);
        *rc = rx_whole_value(ctx, set, s, len, &out, &outlen);
    }
    if (*rc == 0 && t == fjson_type_string)
        *rc = ctx_redact_apply(ctx, set, fjson_object_get_string(v), (size_t)fjson_object_get_string_len(v), &out,
                               &outlen);
    else if (*rc == 0 && t == fjson_type_int) { /* a card number written as a JSON number */
        const char *s = fjson_object_get_string(v);
        *rc = ctx_redact_apply(ctx, set, s, strlen(s), &out, &outlen);
    }
    if (*rc <= 0) return NULL;
    struct fjson_object *n = fjson_object_new_string_len(out, (int)outlen);
    if (n == NULL) *rc = CTX_ENOMEM;
    return n;
}

static int walk_object(ctx_redact_ctx *ctx, const ctx_redact_set *set, struct fjson_object *o, int depth) {
    struct fjson_object_iterator it = fjson_object_iter_begin(o), end = fjson_object_iter_end(o);
    int changed = 0;
    for (; !fjson_object_iter_equal(&it, &end); fjson_object_iter_next(&it)) {
        const char *key = fjson_object_iter_peek_name(&it);
        struct fjson_object *v = fjson_object_iter_peek_value(&it);
        int rc = 0;
        struct fjson_object *n = new_value(ctx, set, key, v, &rc);
        if (rc < 0) return rc;
        if (n != NULL) {
            fjson_object_object_add(o, key, n); /* replaces v in its slot; the iterator stays valid */
            changed++;
            continue;
        }
        if ((rc = walk(ctx, set, v, depth + 1)) < 0) return rc;
        changed += rc;
    }
    return changed;
}

static int walk_array(ctx_redact_ctx *ctx, const ctx_redact_set *set, struct fjson_object *a, int depth) {
    int n = fjson_object_array_length(a), changed = 0;
    for (int i = 0; i < n; i++) {
        struct fjson_object *v = fjson_object_array_get_idx(a, i);
        int rc = 0;
        struct fjson_object *nv = new_value(ctx, set, NULL, v, &rc);
        if (rc < 0) return rc;
        if (nv != NULL) {
            fjson_object_array_put_idx(a, i, nv);
            changed++;
            continue;
        }
        if ((rc = walk(ctx, set, v, depth + 1)) < 0) return rc;
        changed += rc;
    }
    return changed;
}

static int walk(ctx_redact_ctx *ctx, const ctx_redact_set *set, struct fjson_object *o, int depth) {
    enum fjson_type t = fjson_object_get_type(o);
    if (t != fjson_type_object && t != fjson_type_array) return 0;
    if (depth > JSON_DEPTH_MAX) return CTX_EINVAL;
    return t == fjson_type_object ? walk_object(ctx, set, o, depth) : walk_array(ctx, set, o, depth);
}

int ctx_redact_json(ctx_redact_ctx *ctx, const ctx_redact_set *set, struct fjson_object *root) {
    if (ctx == NULL || set == NULL || set->rules != ctx->rules) return CTX_EINVAL;
    if (root == NULL) return 0;
    return walk(ctx, set, root, 0);
}
