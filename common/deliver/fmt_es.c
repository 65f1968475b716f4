/* fmt_es.c: the Elasticsearch / OpenSearch bulk API (fmt.h): the request body, the
 * per-item reply, and the selection of items for a new body.
 *
 * The body is NDJSON: an action line '{"create":{}}' (the index or data stream is in the
 * URL: POST <url>/<target>/_bulk; "create" is what data streams require and works for an
 * index too) and the document, for each record. The reply (a 200 even when items failed)
 * lists one result per item, in request order:
 *   {"took":3,"errors":true,"items":[{"create":{"status":201,...}},
 *     {"create":{"status":400,"error":{"type":"mapper_parsing_exception","reason":"..."}}}]}
 *
 * Concurrency: pure functions.
 */
#include "fmt.h"

#include <json.h>
#include <stdio.h>
#include <string.h>

#include "ctxlog_common.h"
#include "outrec.h"

#define PUT(b, lit) ctx_fmt_buf_append((b), (lit), sizeof(lit) - 1)

/* ,"key":"value" when the value is present */
static int member(ctx_fmt_buf_t *b, const char *key, ctx_fmt_str_t v, int *first) {
    if (v.n == 0) return 0;
    char k[48];
    int kn = snprintf(k, sizeof k, "%s\"%s\":", *first ? "" : ",", key);
    *first = 0;
    if (ctx_fmt_buf_append(b, k, (size_t)kn) != 0) return CTX_ENOMEM;
    return ctx_fmt_json_str(b, v.p, v.n);
}

/* "facility":{"code":N,"name":".."} (or severity) */
static int code_name(ctx_fmt_buf_t *b, const char *key, int code, const char *name, int *first) {
    if (code < 0) return 0;
    char s[96];
    int n = snprintf(s, sizeof s, "%s\"%s\":{\"code\":%d,\"name\":\"%s\"}", *first ? "" : ",", key, code, name);
    *first = 0;
    return ctx_fmt_buf_append(b, s, (size_t)n);
}

static int syslog_fields(ctx_fmt_buf_t *b, const ctx_fmt_rec_t *r) {
    int first = 1;
    if (PUT(b, ",\"log\":{\"syslog\":{") != 0 ||
        code_name(b, "facility", r->facility, ctx_facility_name(r->facility), &first) != 0 ||
        code_name(b, "severity", r->severity, ctx_severity_name(r->severity), &first) != 0 ||
        member(b, "appname", r->app, &first) != 0 || member(b, "procid", r->procid, &first) != 0 ||
        member(b, "msgid", r->msgid, &first) != 0)
        return CTX_ENOMEM;
    return PUT(b, "}}");
}

static int document(ctx_fmt_buf_t *b, const ctx_fmt_rec_t *r) {
    uint64_t t = r->time_unix_nano ? r->time_unix_nano : r->observed_unix_nano;
    if (PUT(b, "{\"@timestamp\":") != 0 || ctx_fmt_json_time(b, t) != 0) return CTX_ENOMEM;
    if (r->observed_unix_nano &&
        (PUT(b, ",\"event\":{\"created\":") != 0 || ctx_fmt_json_time(b, r->observed_unix_nano) != 0 || PUT(b, "}") != 0))
        return CTX_ENOMEM;
    if (r->host.n && (PUT(b, ",\"host\":{\"name\":") != 0 || ctx_fmt_json_str(b, r->host.p, r->host.n) != 0 ||
                      PUT(b, "}") != 0))
        return CTX_ENOMEM;
    if (syslog_fields(b, r) != 0) return CTX_ENOMEM;
    if (r->sd.n && (PUT(b, ",\"sd\":") != 0 || ctx_fmt_json_str(b, r->sd.p, r->sd.n) != 0)) return CTX_ENOMEM;
    if (PUT(b, ",\"message\":") != 0 || ctx_fmt_json_str(b, r->msg.p, r->msg.n) != 0) return CTX_ENOMEM;
    if (r->ctx.n && (PUT(b, ",\"ctx\":") != 0 || ctx_fmt_buf_append(b, r->ctx.p, r->ctx.n) != 0)) return CTX_ENOMEM;
    return PUT(b, "}\n");
}

int ctx_fmt_es_encode(const ctx_fmt_rec_t *recs, size_t n, ctx_fmt_buf_t *out) {
    if (recs == NULL || n == 0 || out == NULL) return CTX_EINVAL;
    size_t start = out->len;
    for (size_t i = 0; i < n; i++) {
        if (PUT(out, "{\"create\":{}}\n") != 0 || document(out, &recs[i]) != 0) {
            out->len = start;
            return CTX_ENOMEM;
        }
    }
    return 0;
}

/* ---------------------------------------------------------------- the reply */

static void fail(char *err, size_t errlen, const char *what) {
    if (err && errlen) snprintf(err, errlen, "%s", what);
}

static const char *str_of(fjson_object *o, const char *key) {
    fjson_object *v = NULL;
    if (!fjson_object_object_get_ex(o, key, &v) || v == NULL) return NULL;
    return fjson_object_is_type(v, fjson_type_string) ? fjson_object_get_string(v) : NULL;
}

/* "<type>: <reason>" of an item's "error" (an object, or a plain string in old servers) */
static void item_reason(fjson_object *res, ctx_fmt_item_t *it) {
    fjson_object *e = NULL;
    it->reason[0] = '\0';
    if (!fjson_object_object_get_ex(res, "error", &e) || e == NULL) return;
    if (fjson_object_is_type(e, fjson_type_string)) {
        snprintf(it->reason, sizeof it->reason, "%s", fjson_object_get_string(e));
    } else if (fjson_object_is_type(e, fjson_type_object)) {
        const char *t = str_of(e, "type"), *r = str_of(e, "reason");
        snprintf(it->reason, sizeof it->reason, "%s%s%s", t ? t : "error", r ? ": " : "", r ? r : "");
    }
    for (char *p = it->reason; *p; p++)
        if ((unsigned char)*p < 0x20) *p = ' ';
}

/* one element of "items": {"<op>":{"status":N,...}}; 0 or -1 */
static int one_item(fjson_object *el, ctx_fmt_item_t *it) {
    if (!fjson_object_is_type(el, fjson_type_object) || fjson_object_object_length(el) != 1) return -1;
    struct fjson_object_iterator i = fjson_object_iter_begin(el);
    fjson_object *res = fjson_object_iter_peek_value(&i), *st = NULL;
    if (res == NULL || !fjson_object_is_type(res, fjson_type_object) ||
        !fjson_object_object_get_ex(res, "status", &st) || st == NULL || !fjson_object_is_type(st, fjson_type_int))
        return -1;
    int64_t s = fjson_object_get_int64(st);
    if (s < 100 || s > 599) return -1;
    it->status = (int)s;
    if (s < 200 || s > 299) item_reason(res, it);
    return 0;
}

static int read_items(fjson_object *root, size_t nitems, ctx_fmt_item_t *items, char *err, size_t errlen) {
    fjson_object *arr = NULL, *errors = NULL;
    if (!fjson_object_object_get_ex(root, "items", &arr)) {
        if (fjson_object_object_get_ex(root, "errors", &errors) && errors != NULL &&
            fjson_object_is_type(errors, fjson_type_boolean) && !fjson_object_get_boolean(errors)) {
            for (size_t i = 0; i < nitems; i++) items[i].status = 201, items[i].reason[0] = '\0';
            return 0;
        }
        fail(err, errlen, "bulk reply without \"items\"");
        return CTX_EPARSE;
    }
    if (!fjson_object_is_type(arr, fjson_type_array) || (size_t)fjson_object_array_length(arr) != nitems) {
        char m[128];
        snprintf(m, sizeof m, "bulk reply lists %d items for a request of %zu",
                 fjson_object_is_type(arr, fjson_type_array) ? fjson_object_array_length(arr) : -1, nitems);
        fail(err, errlen, m);
        return CTX_EPARSE;
    }
    int failed = 0;
    for (size_t i = 0; i < nitems; i++) {
        memset(&items[i], 0, sizeof items[i]);
        if (one_item(fjson_object_array_get_idx(arr, (int)i), &items[i]) != 0) {
            char m[96];
            snprintf(m, sizeof m, "bulk reply item %zu has no valid status", i);
            fail(err, errlen, m);
            return CTX_EPARSE;
        }
        failed += items[i].status < 200 || items[i].status > 299;
    }
    return failed;
}

int ctx_fmt_es_reply(const char *body, size_t len, size_t nitems, ctx_fmt_item_t *items, char *err, size_t errlen) {
    if ((body == NULL && len > 0) || (items == NULL && nitems > 0)) return CTX_EINVAL;
    if (len == 0 || len > 0x7fffffff) {
        fail(err, errlen, len ? "bulk reply too large" : "empty bulk reply");
        return CTX_EPARSE;
    }
    fjson_tokener *tok = fjson_tokener_new();
    if (tok == NULL) return CTX_ENOMEM;
    fjson_object *root = fjson_tokener_parse_ex(tok, body, (int)len);
    int rc;
    if (root == NULL || fjson_tokener_get_error(tok) != fjson_tokener_success ||
        !fjson_object_is_type(root, fjson_type_object)) {
        fail(err, errlen, "bulk reply is not a JSON object (truncated or not JSON)");
        rc = CTX_EPARSE;
    } else {
        rc = read_items(root, nitems, items, err, errlen);
    }
    fjson_object_put(root);
    fjson_tokener_free(tok);
    return rc;
}

/* ---------------------------------------------------------------- selecting items */

int ctx_fmt_es_select(const char *body, size_t len, size_t nitems, const unsigned char *keep, ctx_fmt_buf_t *out) {
    if ((body == NULL && len > 0) || keep == NULL || out == NULL) return CTX_EINVAL;
    size_t start = out->len, pos = 0, item = 0;
    int kept = 0;
    while (pos < len) {
        const char *nl1 = memchr(body + pos, '\n', len - pos);
        const char *nl2 = nl1 ? memchr(nl1 + 1, '\n', len - (size_t)(nl1 + 1 - body)) : NULL;
        if (nl2 == NULL || item >= nitems) break;
        size_t end = (size_t)(nl2 + 1 - body);
        if (keep[item]) {
            if (ctx_fmt_buf_append(out, body + pos, end - pos) != 0) {
                out->len = start;
                return CTX_ENOMEM;
            }
            kept++;
        }
        item++;
        pos = end;
    }
    if (item != nitems || pos != len) {
        out->len = start;
        return CTX_EPARSE;
    }
    return kept;
}
