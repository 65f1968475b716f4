/* outrec_view.c: what of a message's $!ctx a tenant may see (docs/threat-model.md, "What a
 * tenant can see").
 *
 * Host-wide fields describe the hypervisor and so every VM on it, not the VM that sent the
 * message; a tenant receives them only when its tenants-file entry says
 * "context": {"host": "full"}. For every other tenant the record's $!ctx leaves out:
 *  - in "host" ($!ctx!host): every member but the VM's own figures (VM_OWN below): host CPU,
 *    memory, load, disks, and whatever a later version adds (an allow-list: fail closed);
 *  - in "cm" ($!ctx!cm): its "host" object (the compute manager's host part, mmctxenrich puts
 *    every field of the mapping's host section there) and the documented host figures
 *    (CM_HOST below) wherever a mapping put them.
 * Key names compare without regard to case, as rsyslog's property names do.
 *
 * Cost: one scan of the text (no parse, no allocation once the buffer has grown), only when
 * the $!ctx memo (outrec_memo.c) misses the whole document: the memo keys a document by its
 * rendered text and which view it was printed for (two views of one $!ctx never share an
 * entry), and its members by their text after the view. A text the scan cannot follow (an
 * escaped key, bad syntax) takes the parse path: parsed, members removed, printed.
 *
 * Concurrency: uses only the ctx_outrec_t of the calling thread.
 */
#include <json.h>
#include <string.h>
#include <strings.h>

#include "ctxlog_common.h"
#include "outrec_int.h"

enum { LVL_TOP, LVL_HOST, LVL_CM, LVL_OTHER };

#define MAX_GONE 64 /* members one parse-path pass removes from one object */

static const char *const VM_OWN[] = {"vm_cpu_pct", "vm_mem_bytes", "vm_mem_pct", "vm_error", "sampled_at", NULL};
static const char *const CM_HOST[] = {"host", "host_ip", "avg_host_cpu_pct", "avg_host_mem_pct", NULL};

static int in_list(const char *k, size_t kn, const char *const *list) {
    for (size_t i = 0; list[i] != NULL; i++)
        if (strlen(list[i]) == kn && strncasecmp(k, list[i], kn) == 0) return 1;
    return 0;
}

/* k[0..kn): a key without its quotes */
static int hostwide(int level, const char *k, size_t kn) {
    if (level == LVL_HOST) return !in_list(k, kn, VM_OWN);
    if (level == LVL_CM) return in_list(k, kn, CM_HOST);
    return 0;
}

static int sublevel(int level, const char *k, size_t kn) {
    if (level != LVL_TOP) return LVL_OTHER;
    if (kn == 4 && strncasecmp(k, "host", 4) == 0) return LVL_HOST;
    if (kn == 2 && strncasecmp(k, "cm", 2) == 0) return LVL_CM;
    return LVL_OTHER;
}

static const char *skip_ws(const char *p, const char *end) {
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')) p++;
    return p;
}

static int put(ctx_outrec_t *b, const char *s, size_t n) {
    if (outrec_reserve(&b->view, &b->view_len, &b->view_cap, n + 1) != 0) return CTX_ENOMEM;
    memcpy(b->view + b->view_len, s, n);
    b->view_len += n;
    return 0;
}

/* appends the object t[0..n) to b->view without its host-wide members (level: whose members
 * they are); returns the members left out, -1 (take the parse path) or CTX_ENOMEM */
static int rewrite(ctx_outrec_t *b, const char *t, size_t n, int level) {
    const char *end = t + n, *p = skip_ws(t + 1, end);
    int withheld = 0, first = 1, rc;
    if (put(b, "{", 1) != 0) return CTX_ENOMEM;
    if (p < end && *p == '}') return skip_ws(p + 1, end) == end ? (put(b, "}", 1) != 0 ? CTX_ENOMEM : 0) : -1;
    for (;;) {
        int esc = 0;
        if (p >= end || *p != '"') return -1;
        const char *k = p, *q = outrec_skip_string(p, end, &esc);
        if (q == NULL || memchr(k, '\\', (size_t)(q - k)) != NULL) return -1;
        size_t kn = (size_t)(q - k) - 2;
        q = skip_ws(q, end);
        if (q >= end || *q != ':') return -1;
        const char *v = skip_ws(q + 1, end), *ve = v < end ? outrec_skip_value(v, end) : NULL;
        if (ve == NULL || ve == v) return -1;
        int sub = sublevel(level, k + 1, kn);
        if (hostwide(level, k + 1, kn)) {
            withheld++;
        } else {
            if ((!first && put(b, ",", 1) != 0) || put(b, k, (size_t)(v - k)) != 0) return CTX_ENOMEM;
            first = 0;
            if (sub != LVL_OTHER && *v == '{') {
                if ((rc = rewrite(b, v, (size_t)(ve - v), sub)) < 0) return rc;
                withheld += rc;
            } else if (put(b, v, (size_t)(ve - v)) != 0) {
                return CTX_ENOMEM;
            }
        }
        p = skip_ws(ve, end);
        if (p < end && *p == ',') {
            p = skip_ws(p + 1, end);
            continue;
        }
        if (p < end && *p == '}' && skip_ws(p + 1, end) == end) return put(b, "}", 1) != 0 ? CTX_ENOMEM : withheld;
        return -1;
    }
}

/* removes the host-wide members of parsed object o (level: whose members they are) */
static int prune(struct fjson_object *o, int level) {
    int withheld = 0;
    const char *gone[MAX_GONE];
    size_t ngone = 0;
    struct fjson_object_iterator it = fjson_object_iter_begin(o), end = fjson_object_iter_end(o);
    for (; !fjson_object_iter_equal(&it, &end); fjson_object_iter_next(&it)) {
        const char *k = fjson_object_iter_peek_name(&it);
        struct fjson_object *v = fjson_object_iter_peek_value(&it);
        int sub = sublevel(level, k, strlen(k));
        if (hostwide(level, k, strlen(k))) {
            if (ngone == MAX_GONE) return -1;
            gone[ngone++] = k;
        } else if (sub != LVL_OTHER && v != NULL && fjson_object_is_type(v, fjson_type_object)) {
            int rc = prune(v, sub);
            if (rc < 0) return rc;
            withheld += rc;
        }
    }
    for (size_t i = 0; i < ngone; i++) fjson_object_object_del(o, gone[i]);
    return withheld + (int)ngone;
}

/* the parse path: t parsed, pruned, printed into b->view; a text that does not parse is
 * left as it is (the record carries it as a redacted string) */
static int parse_path(ctx_outrec_t *b, const char *t, size_t n) {
    struct fjson_object *o = outrec_parse_json(b, t, n);
    b->view_len = 0;
    if (o == NULL || !fjson_object_is_type(o, fjson_type_object)) {
        fjson_object_put(o);
        return 0;
    }
    int rc = prune(o, LVL_TOP);
    if (rc > 0) {
        const char *s = fjson_object_to_json_string_ext(o, FJSON_TO_STRING_PLAIN);
        if (s == NULL || put(b, s, strlen(s)) != 0) rc = CTX_ENOMEM;
    } else if (rc < 0) { /* more members than one pass can delete: withhold the whole $!ctx */
        rc = put(b, "{}", 2) != 0 ? CTX_ENOMEM : 1;
    }
    fjson_object_put(o);
    return rc;
}

int outrec_view_ctx(ctx_outrec_t *b, const char *t, size_t n, const char **out, size_t *outn) {
    *out = t;
    *outn = n;
    b->withheld = 0;
    b->view_len = 0;
    int rc = rewrite(b, t, n, LVL_TOP);
    if (rc == -1) rc = parse_path(b, t, n);
    if (rc < 0) return rc;
    if (rc > 0) {
        *out = b->view;
        *outn = b->view_len;
        b->withheld = (unsigned)rc;
    }
    return rc;
}
