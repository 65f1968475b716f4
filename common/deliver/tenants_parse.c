/* tenants_parse.c: the tenants file's key locator (the line of every key, duplicate keys),
 * its messages ("PATH:LINE: key.path: ..."), typed values and file checks (tenants.h,
 * docs/tenants.md). */
#include "tenants_int.h"
#include "grow.h"
#include "textcheck.h"

/* ---------------------------------------------------------------- key locator */



void tn_keyidx_free(keyidx_t *ki) {
    for (size_t i = 0; i < ki->n; i++)
        free(ki->v[i].key);
    free(ki->v);
}

/* decodes one escape at s[i] (after the backslash) into out; returns chars consumed */
static size_t unescape(const char *s, size_t len, size_t i, char *out, size_t *o) {
    static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
    const char *f = i < len ? strchr(from, s[i]) : NULL;
    if (f != NULL && *f) {
        out[(*o)++] = to[f - from];
        return 1;
    }
    if (i + 4 < len && s[i] == 'u') {
        int v = 0, ok = 1;
        for (size_t k = 1; k <= 4; k++) {
            int h = ctx_hexval((unsigned char)s[i + k]);
            ok = ok && h >= 0;
            v = v * 16 + (h < 0 ? 0 : h);
        }
        if (ok && v > 0 && v < 0x80) {
            out[(*o)++] = (char)v;
            return 5;
        }
    }
    out[(*o)++] = '\\'; /* keep it as written */
    return 0;
}

/* reads the string starting at s[i] == '"'; sets *key (malloc'd) if want_key;
 * returns the index after the closing quote (len if unterminated) */
static size_t scan_string(const char *s, size_t len, size_t i, int want_key, char **key) {
    size_t j = i + 1, o = 0;
    char *buf = NULL;
    size_t end = j;
    while (end < len && s[end] != '"')
        end += s[end] == '\\' ? 2 : 1;
    if (want_key && (buf = malloc(end - j + 1)) != NULL) {
        while (j < end && j < len) {
            if (s[j] == '\\')
                j += 1 + unescape(s, len, j + 1, buf, &o);
            else
                buf[o++] = s[j++];
        }
        buf[o] = '\0';
    }
    *key = buf;
    return end < len ? end + 1 : len;
}

static int keyidx_add(keyidx_t *ki, char *key, int parent, int container, int line) {
    if (ki->n == ki->cap) {
        keypos_t *p = ctx_grow(ki->v, &ki->cap, sizeof *p, 64);
        if (p == NULL)
            return CTX_ENOMEM;
        ki->v = p;
    }
    ki->v[ki->n++] = (keypos_t){key, parent, container, line};
    return CTX_OK;
}

typedef struct {
    int key[LOCATOR_DEPTH], cont[LOCATOR_DEPTH], is_obj[LOCATOR_DEPTH];
    int depth, expect_key, pending, ncont, line;
} scanstate_t;

static void scan_open(scanstate_t *st, char c) {
    if (st->depth == LOCATOR_DEPTH)
        return;
    int d = st->depth;
    st->key[d] = d == 0 ? -1 : (st->is_obj[d - 1] ? st->pending : st->key[d - 1]);
    st->cont[d] = st->ncont++;
    st->is_obj[d] = c == '{';
    st->depth++;
    st->expect_key = c == '{';
    st->pending = -1;
}

/* records the line of every key of a (syntactically valid) JSON text */
int tn_keyidx_scan(keyidx_t *ki, const char *s, size_t len) {
    scanstate_t st = {.line = 1, .pending = -1};
    for (size_t i = 0; i < len;) {
        char c = s[i];
        if (c == '\n')
            st.line++;
        if (c == '{' || c == '[') {
            scan_open(&st, c);
        } else if ((c == '}' || c == ']') && st.depth > 0) {
            st.depth--;
            st.expect_key = 0;
        } else if (c == ',') {
            st.expect_key = st.depth > 0 && st.is_obj[st.depth - 1];
        } else if (c == '"') {
            int want = st.expect_key && st.depth > 0;
            char *key = NULL;
            size_t from = i;
            i = scan_string(s, len, i, want, &key);
            for (size_t k = from; k < i; k++) /* a raw newline in a string (libfastjson accepts it) */
                st.line += s[k] == '\n';
            if (want) {
                if (key == NULL || keyidx_add(ki, key, st.key[st.depth - 1], st.cont[st.depth - 1], st.line) != 0) {
                    free(key);
                    return CTX_ENOMEM;
                }
                st.pending = (int)ki->n - 1;
                st.expect_key = 0;
            }
            continue;
        }
        i++;
    }
    return CTX_OK;
}

static int cmp_keypos(const void *a, const void *b) {
    const keypos_t *x = *(const keypos_t *const *)a, *y = *(const keypos_t *const *)b;
    if (x->container != y->container)
        return x->container < y->container ? -1 : 1;
    int c = strcmp(x->key, y->key);
    if (c != 0)
        return c;
    return x < y ? -1 : (x > y); /* same array: file order */
}

/* the first (in file order) key that repeats a key of the same object: its index,
 * and in *first the index of the earlier one; -1 if none (or out of memory) */
long tn_keyidx_dup(const keyidx_t *ki, size_t *first) {
    const keypos_t **ord = malloc((ki->n ? ki->n : 1) * sizeof *ord);
    if (ord == NULL)
        return -1;
    for (size_t i = 0; i < ki->n; i++)
        ord[i] = &ki->v[i];
    qsort(ord, ki->n, sizeof *ord, cmp_keypos);
    long best = -1;
    for (size_t i = 1; i < ki->n; i++) {
        const keypos_t *x = ord[i - 1], *y = ord[i];
        long yi = (long)(y - ki->v);
        if (x->container == y->container && strcmp(x->key, y->key) == 0 && (best < 0 || yi < best)) {
            best = yi;
            *first = (size_t)(x - ki->v);
        }
    }
    free(ord);
    return best;
}

/* the line of the deepest key of path[0..n) found (0 if none) */
int tn_keyidx_line(const keyidx_t *ki, const char *const *path, int n) {
    int parent = -1, line = 0;
    for (int d = 0; d < n; d++) {
        int found = -1;
        for (size_t i = 0; i < ki->n && found < 0; i++)
            if (ki->v[i].parent == parent && strcmp(ki->v[i].key, path[d]) == 0)
                found = (int)i;
        if (found < 0)
            break;
        parent = found;
        line = ki->v[found].line;
    }
    return line;
}

/* ---------------------------------------------------------------- messages */


/* a bounded, printable rendering of s (control and non-ASCII bytes as \xHH):
 * at most max input characters, then "..." */
static void shown_n(char *out, size_t outlen, const char *s, size_t max) {
    size_t o = 0;
    for (size_t i = 0; s[i] && o + 5 < outlen; i++) {
        unsigned char c = (unsigned char)s[i];
        if (i == max) {
            o += (size_t)snprintf(out + o, outlen - o, "...");
            break;
        }
        if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\')
            o += (size_t)snprintf(out + o, outlen - o, "\\x%02x", c);
        else
            out[o++] = (char)c;
    }
    out[o < outlen ? o : outlen - 1] = '\0';
}

void tn_shown(char *out, size_t outlen, const char *s) {
    shown_n(out, outlen, s, NAME_MAX_SHOWN);
}

/* "NAME:LINE: a.b.key: " + message */
static void vformat(pctx_t *pc, const char *key, char *buf, size_t len, const char *fmt, va_list ap) {
    const char *full[MAX_PATH + 2];
    int n = 0;
    for (int i = 0; i < pc->depth; i++)
        full[n++] = pc->path[i];
    if (key)
        full[n++] = key;
    int line = tn_keyidx_line(&pc->ki, full, n);
    size_t o = (size_t)snprintf(buf, len, "%s:%d: ", pc->name, line > 0 ? line : 1);
    for (int i = 0; i < n && o < len; i++) {
        char part[NAME_MAX_SHOWN * 4 + 8];
        tn_shown(part, sizeof part, full[i]);
        o += (size_t)snprintf(buf + o, len - o, "%s%s", i ? "." : "", part);
    }
    if (o < len && n > 0)
        o += (size_t)snprintf(buf + o, len - o, ": ");
    if (o < len)
        vsnprintf(buf + o, len - o, fmt, ap);
    for (char *p = buf; *p; p++)
        if (*p == '\n' || *p == '\r')
            *p = ' ';
}

int tn_perr(pctx_t *pc, const char *key, const char *fmt, ...) {
    if (pc->rc == 0 && pc->err && pc->errlen) {
        va_list ap;
        va_start(ap, fmt);
        vformat(pc, key, pc->err, pc->errlen, fmt, ap);
        va_end(ap);
    }
    if (pc->rc == 0)
        pc->rc = CTX_EPARSE;
    return pc->rc;
}

int tn_nomem(pctx_t *pc) {
    if (pc->rc == 0 && pc->err && pc->errlen)
        snprintf(pc->err, pc->errlen, "%s: out of memory", pc->name);
    if (pc->rc == 0)
        pc->rc = CTX_ENOMEM;
    return pc->rc;
}

int tn_pwarn(pctx_t *pc, const char *key, const char *fmt, ...) {
    ctx_tenants_t *t = pc->set;
    char buf[CTX_ERRLEN];
    va_list ap;
    va_start(ap, fmt);
    vformat(pc, key, buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (t->nwarn == t->capwarn) {
        char **p = ctx_grow(t->warn, &t->capwarn, sizeof *p, 8);
        if (p == NULL)
            return tn_nomem(pc);
        t->warn = p;
    }
    if ((t->warn[t->nwarn] = tn_arena_strndup(&t->arena, buf, strlen(buf))) == NULL)
        return tn_nomem(pc);
    t->nwarn++;
    return CTX_OK;
}

void tn_push(pctx_t *pc, const char *key) {
    if (pc->depth < MAX_PATH)
        pc->path[pc->depth++] = key;
}

void tn_pop(pctx_t *pc) {
    if (pc->depth > 0)
        pc->depth--;
}

/* ---------------------------------------------------------------- typed values */

const char *tn_jtype(fjson_object *v) {
    switch (fjson_object_get_type(v)) {
        case fjson_type_null: return "null";
        case fjson_type_boolean: return "a boolean";
        case fjson_type_double: return "a number with a fraction or exponent";
        case fjson_type_int: return "a number";
        case fjson_type_object: return "an object";
        case fjson_type_array: return "an array";
        case fjson_type_string: return "a string";
    }
    return "something else";
}

fjson_object *tn_member(fjson_object *obj, const char *key) {
    fjson_object *v = NULL;
    return fjson_object_object_get_ex(obj, key, &v) ? v : NULL;
}

/* the raw string at key (present, a string, no NUL, no control character);
 * 0 absent, 1 found, <0 error */
int tn_get_raw_string(pctx_t *pc, fjson_object *obj, const char *key, size_t maxlen, const char **s,
                          size_t *n) {
    fjson_object *v = tn_member(obj, key);
    if (v == NULL)
        return 0;
    if (!fjson_object_is_type(v, fjson_type_string))
        return tn_perr(pc, key, "expected a string, got %s", tn_jtype(v));
    *s = fjson_object_get_string(v);
    *n = (size_t)fjson_object_get_string_len(v);
    if (*n != strlen(*s))
        return tn_perr(pc, key, "expected a string without NUL characters");
    if (*n > maxlen)
        return tn_perr(pc, key, "expected at most %zu characters, got %zu", maxlen, *n);
    for (size_t i = 0; i < *n; i++)
        if ((unsigned char)(*s)[i] < 0x20 || (*s)[i] == 0x7f)
            return tn_perr(pc, key, "expected a string without control characters");
    return 1;
}

/* a non-empty string copied into the arena: 0 absent, 1 found, <0 error */
int tn_get_string(pctx_t *pc, fjson_object *obj, const char *key, size_t maxlen, const char **out) {
    const char *s;
    size_t n;
    int rc = tn_get_raw_string(pc, obj, key, maxlen, &s, &n);
    if (rc <= 0)
        return rc;
    if (n == 0)
        return tn_perr(pc, key, "expected a non-empty string");
    if ((*out = tn_arena_strndup(&pc->set->arena, s, n)) == NULL)
        return tn_nomem(pc);
    return 1;
}

int tn_get_bool(pctx_t *pc, fjson_object *obj, const char *key, int *out) {
    fjson_object *v = tn_member(obj, key);
    if (v == NULL)
        return 0;
    if (!fjson_object_is_type(v, fjson_type_boolean))
        return tn_perr(pc, key, "expected true or false, got %s", tn_jtype(v));
    *out = fjson_object_get_boolean(v) ? 1 : 0;
    return 1;
}

int tn_get_int(pctx_t *pc, fjson_object *obj, const char *key, int64_t min, int64_t max, int64_t *out) {
    fjson_object *v = tn_member(obj, key);
    if (v == NULL)
        return 0;
    if (!fjson_object_is_type(v, fjson_type_int))
        return tn_perr(pc, key, "expected an integer from %lld to %lld, got %s", (long long)min, (long long)max,
                    tn_jtype(v));
    int64_t x = fjson_object_get_int64(v);
    if (x < min || x > max)
        return tn_perr(pc, key, "expected an integer from %lld to %lld, got %lld", (long long)min, (long long)max,
                    (long long)x);
    *out = x;
    return 1;
}

/* one of names[] (NULL-terminated): *out = its index */
int tn_get_enum(pctx_t *pc, fjson_object *obj, const char *key, const char *const *names, int *out) {
    fjson_object *v = tn_member(obj, key);
    if (v == NULL)
        return 0;
    char list[256] = "";
    for (int i = 0; names[i]; i++) {
        size_t o = strlen(list);
        snprintf(list + o, sizeof list - o, "%s\"%s\"", i == 0 ? "" : (names[i + 1] ? ", " : " or "), names[i]);
    }
    if (!fjson_object_is_type(v, fjson_type_string))
        return tn_perr(pc, key, "expected %s, got %s", list, tn_jtype(v));
    const char *s = fjson_object_get_string(v);
    for (int i = 0; names[i]; i++) {
        if (strcmp(s, names[i]) == 0) {
            *out = i;
            return 1;
        }
    }
    char got[NAME_MAX_SHOWN * 4 + 8];
    tn_shown(got, sizeof got, s);
    return tn_perr(pc, key, "expected %s, got \"%s\"", list, got);
}

static int in_list(const char *k, const char *const *list) {
    for (int i = 0; list && list[i]; i++)
        if (strcmp(k, list[i]) == 0)
            return 1;
    return 0;
}

static void join_list(char *buf, size_t len, const char *const *a, const char *const *b) {
    size_t o = 0;
    buf[0] = '\0';
    for (int pass = 0; pass < 2; pass++)
        for (int i = 0; (pass ? b : a) && (pass ? b : a)[i] && o < len; i++)
            o += (size_t)snprintf(buf + o, len - o, "%s%s", o ? ", " : "", (pass ? b : a)[i]);
}

/* every key of obj must be in allowed or extra; a key in wrong_here (valid for
 * another transport) gets a message of its own */
int tn_check_keys(pctx_t *pc, fjson_object *obj, const char *const *allowed, const char *const *extra,
                      const char *const *wrong_here, const char *why) {
    struct fjson_object_iterator it = fjson_object_iter_begin(obj), end = fjson_object_iter_end(obj);
    for (; !fjson_object_iter_equal(&it, &end); fjson_object_iter_next(&it)) {
        const char *k = fjson_object_iter_peek_name(&it);
        if (in_list(k, allowed) || in_list(k, extra))
            continue;
        if (in_list(k, wrong_here))
            return tn_perr(pc, k, "not valid %s", why);
        char list[512];
        join_list(list, sizeof list, allowed, extra);
        return tn_perr(pc, k, "unknown key; expected one of: %s", list);
    }
    return CTX_OK;
}

/* the object at key (0 absent, 1 found, <0 error) */
int tn_get_object(pctx_t *pc, fjson_object *obj, const char *key, fjson_object **out) {
    fjson_object *v = tn_member(obj, key);
    if (v == NULL)
        return 0;
    if (!fjson_object_is_type(v, fjson_type_object))
        return tn_perr(pc, key, "expected an object, got %s", tn_jtype(v));
    *out = v;
    return 1;
}

/* ---------------------------------------------------------------- files */

static char *resolve_path(pctx_t *pc, const char *p) {
    if (p[0] == '/' || pc->base_dir == NULL)
        return tn_arena_strndup(&pc->set->arena, p, strlen(p));
    size_t n = strlen(pc->base_dir) + strlen(p) + 2;
    char *r = tn_arena_alloc(&pc->set->arena, n);
    if (r != NULL)
        snprintf(r, n, "%s/%s", pc->base_dir, p);
    return r;
}

/* a file that must exist and be readable; secret files (keys, passwords) must not
 * be world-readable (a warning) */
int tn_get_file(pctx_t *pc, fjson_object *obj, const char *key, int secret, const char **out) {
    const char *raw;
    int rc = tn_get_string(pc, obj, key, 4096, &raw);
    if (rc <= 0)
        return rc;
    char *path = resolve_path(pc, raw);
    if (path == NULL)
        return tn_nomem(pc);
    char shownp[PATH_MAX_SHOWN * 4 + 8];
    shown_n(shownp, sizeof shownp, path, PATH_MAX_SHOWN);
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
        int e = errno;
        if (fd >= 0)
            close(fd);
        return tn_perr(pc, key, "cannot read \"%s\": %s", shownp, strerror(e));
    }
    close(fd);
    if (!S_ISREG(st.st_mode))
        return tn_perr(pc, key, "\"%s\" is not a regular file", shownp);
    char why[160];
    int verdict = secret ? ctx_secret_check(&st, geteuid(), why, sizeof why) : CTX_SECRET_OK;
    if (verdict == CTX_SECRET_REFUSE)
        return tn_perr(pc, key, "\"%s\" cannot hold a secret: %s", shownp, why);
    if (verdict == CTX_SECRET_WARN && tn_pwarn(pc, key, "\"%s\" is %s", shownp, why) != CTX_OK)
        return pc->rc;
    *out = path;
    return 1;
}
