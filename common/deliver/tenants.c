/* tenants.c: load, validate and look up the tenants file (see tenants.h and
 * docs/tenants.md for the format and every message).
 *
 * libfastjson parses the text (strict mode); since its objects carry no source
 * positions, a small key locator scans the same text once and records the line of
 * every object key, so that an error about "tenants.acme.tls.ca_file" can name its
 * line; the same scan finds duplicate keys, which libfastjson silently merges.
 *
 * Concurrency: a ctx_tenants_t is immutable once ctx_tenants_parse() returns; only
 * its reference count changes (C11 atomics). A ctx_tenants_slot_t guards its one
 * pointer with a mutex held just for the pointer read + ref, or the swap.
 */
#include "tenants.h"

#include <errno.h>
#include <fcntl.h>
#include <libfastjson/json.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cfgfile.h"
#include "ctxlog_common.h"
#include "secretfile.h"

#define MAX_PATH 6            /* depth of a key path: tenants.ID.auth.KEY */
#define MAX_FILE (16u << 20)  /* the largest tenants file read */
#define LOCATOR_DEPTH 64
#define NAME_MAX_SHOWN 64     /* characters of a key or value quoted in a message */
#define PATH_MAX_SHOWN 256    /* characters of a file path quoted in a message */

/* ---------------------------------------------------------------- the set */

typedef struct {
    void **v;
    size_t n, cap;
} arena_t;

struct ctx_tenants {
    atomic_int refs;         /* the only mutable field */
    ctx_tenant_t *v;         /* tenants in file order */
    size_t n;
    char **warn;             /* warnings (strings in the arena) */
    size_t nwarn, capwarn;
    arena_t arena;           /* every string and the headers arrays */
};

static void *arena_alloc(arena_t *a, size_t sz) {
    if (a->n == a->cap) {
        size_t cap = a->cap ? a->cap * 2 : 64;
        void **p = realloc(a->v, cap * sizeof *p);
        if (p == NULL)
            return NULL;
        a->v = p;
        a->cap = cap;
    }
    void *m = calloc(1, sz ? sz : 1);
    if (m != NULL)
        a->v[a->n++] = m;
    return m;
}

static char *arena_strndup(arena_t *a, const char *s, size_t n) {
    char *d = arena_alloc(a, n + 1);
    if (d != NULL)
        memcpy(d, s, n);
    return d;
}

static void arena_free(arena_t *a) {
    for (size_t i = 0; i < a->n; i++)
        free(a->v[i]);
    free(a->v);
}

static void set_destroy(ctx_tenants_t *t) {
    if (t == NULL)
        return;
    arena_free(&t->arena);
    free(t->v);
    free(t->warn);
    free(t);
}

/* ---------------------------------------------------------------- key locator */

typedef struct {
    char *key;     /* decoded key (\uXXXX above ASCII kept as written) */
    int parent;    /* index of the key whose value holds this key, -1 at top level */
    int container; /* id of the object holding this key */
    int line;
} keypos_t;

typedef struct {
    keypos_t *v;
    size_t n, cap;
} keyidx_t;

static void keyidx_free(keyidx_t *ki) {
    for (size_t i = 0; i < ki->n; i++)
        free(ki->v[i].key);
    free(ki->v);
}

static int hexval(int c) {
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
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
            int h = hexval((unsigned char)s[i + k]);
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
        size_t cap = ki->cap ? ki->cap * 2 : 64;
        keypos_t *p = realloc(ki->v, cap * sizeof *p);
        if (p == NULL)
            return CTX_ENOMEM;
        ki->v = p;
        ki->cap = cap;
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
static int keyidx_scan(keyidx_t *ki, const char *s, size_t len) {
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
static long keyidx_dup(const keyidx_t *ki, size_t *first) {
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
static int keyidx_line(const keyidx_t *ki, const char *const *path, int n) {
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

typedef struct {
    const char *name;     /* file name for messages */
    const char *base_dir; /* for relative paths, or NULL */
    keyidx_t ki;
    const char *path[MAX_PATH + 1];
    int depth;
    char *err;
    size_t errlen;
    int rc;               /* first error, 0 while none */
    ctx_tenants_t *set;   /* being built: arena and warnings */
    SSL_CTX *ssl;         /* made on demand to check cipher lists */
    const char *tenant;   /* id of the tenant being parsed */
} pctx_t;

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

static void shown(char *out, size_t outlen, const char *s) {
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
    int line = keyidx_line(&pc->ki, full, n);
    size_t o = (size_t)snprintf(buf, len, "%s:%d: ", pc->name, line > 0 ? line : 1);
    for (int i = 0; i < n && o < len; i++) {
        char part[NAME_MAX_SHOWN * 4 + 8];
        shown(part, sizeof part, full[i]);
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

static int perr(pctx_t *pc, const char *key, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int perr(pctx_t *pc, const char *key, const char *fmt, ...) {
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

static int nomem(pctx_t *pc) {
    if (pc->rc == 0 && pc->err && pc->errlen)
        snprintf(pc->err, pc->errlen, "%s: out of memory", pc->name);
    if (pc->rc == 0)
        pc->rc = CTX_ENOMEM;
    return pc->rc;
}

static int pwarn(pctx_t *pc, const char *key, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int pwarn(pctx_t *pc, const char *key, const char *fmt, ...) {
    ctx_tenants_t *t = pc->set;
    char buf[CTX_ERRLEN];
    va_list ap;
    va_start(ap, fmt);
    vformat(pc, key, buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (t->nwarn == t->capwarn) {
        size_t cap = t->capwarn ? t->capwarn * 2 : 8;
        char **p = realloc(t->warn, cap * sizeof *p);
        if (p == NULL)
            return nomem(pc);
        t->warn = p;
        t->capwarn = cap;
    }
    if ((t->warn[t->nwarn] = arena_strndup(&t->arena, buf, strlen(buf))) == NULL)
        return nomem(pc);
    t->nwarn++;
    return CTX_OK;
}

static void push(pctx_t *pc, const char *key) {
    if (pc->depth < MAX_PATH)
        pc->path[pc->depth++] = key;
}

static void pop(pctx_t *pc) {
    if (pc->depth > 0)
        pc->depth--;
}

/* ---------------------------------------------------------------- typed values */

static const char *jtype(fjson_object *v) {
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

static fjson_object *member(fjson_object *obj, const char *key) {
    fjson_object *v = NULL;
    return fjson_object_object_get_ex(obj, key, &v) ? v : NULL;
}

/* the raw string at key (present, a string, no NUL, no control character);
 * 0 absent, 1 found, <0 error */
static int get_raw_string(pctx_t *pc, fjson_object *obj, const char *key, size_t maxlen, const char **s,
                          size_t *n) {
    fjson_object *v = member(obj, key);
    if (v == NULL)
        return 0;
    if (!fjson_object_is_type(v, fjson_type_string))
        return perr(pc, key, "expected a string, got %s", jtype(v));
    *s = fjson_object_get_string(v);
    *n = (size_t)fjson_object_get_string_len(v);
    if (*n != strlen(*s))
        return perr(pc, key, "expected a string without NUL characters");
    if (*n > maxlen)
        return perr(pc, key, "expected at most %zu characters, got %zu", maxlen, *n);
    for (size_t i = 0; i < *n; i++)
        if ((unsigned char)(*s)[i] < 0x20 || (*s)[i] == 0x7f)
            return perr(pc, key, "expected a string without control characters");
    return 1;
}

/* a non-empty string copied into the arena: 0 absent, 1 found, <0 error */
static int get_string(pctx_t *pc, fjson_object *obj, const char *key, size_t maxlen, const char **out) {
    const char *s;
    size_t n;
    int rc = get_raw_string(pc, obj, key, maxlen, &s, &n);
    if (rc <= 0)
        return rc;
    if (n == 0)
        return perr(pc, key, "expected a non-empty string");
    if ((*out = arena_strndup(&pc->set->arena, s, n)) == NULL)
        return nomem(pc);
    return 1;
}

static int get_bool(pctx_t *pc, fjson_object *obj, const char *key, int *out) {
    fjson_object *v = member(obj, key);
    if (v == NULL)
        return 0;
    if (!fjson_object_is_type(v, fjson_type_boolean))
        return perr(pc, key, "expected true or false, got %s", jtype(v));
    *out = fjson_object_get_boolean(v) ? 1 : 0;
    return 1;
}

static int get_int(pctx_t *pc, fjson_object *obj, const char *key, int64_t min, int64_t max, int64_t *out) {
    fjson_object *v = member(obj, key);
    if (v == NULL)
        return 0;
    if (!fjson_object_is_type(v, fjson_type_int))
        return perr(pc, key, "expected an integer from %lld to %lld, got %s", (long long)min, (long long)max,
                    jtype(v));
    int64_t x = fjson_object_get_int64(v);
    if (x < min || x > max)
        return perr(pc, key, "expected an integer from %lld to %lld, got %lld", (long long)min, (long long)max,
                    (long long)x);
    *out = x;
    return 1;
}

/* one of names[] (NULL-terminated): *out = its index */
static int get_enum(pctx_t *pc, fjson_object *obj, const char *key, const char *const *names, int *out) {
    fjson_object *v = member(obj, key);
    if (v == NULL)
        return 0;
    char list[256] = "";
    for (int i = 0; names[i]; i++) {
        size_t o = strlen(list);
        snprintf(list + o, sizeof list - o, "%s\"%s\"", i == 0 ? "" : (names[i + 1] ? ", " : " or "), names[i]);
    }
    if (!fjson_object_is_type(v, fjson_type_string))
        return perr(pc, key, "expected %s, got %s", list, jtype(v));
    const char *s = fjson_object_get_string(v);
    for (int i = 0; names[i]; i++) {
        if (strcmp(s, names[i]) == 0) {
            *out = i;
            return 1;
        }
    }
    char got[NAME_MAX_SHOWN * 4 + 8];
    shown(got, sizeof got, s);
    return perr(pc, key, "expected %s, got \"%s\"", list, got);
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
static int check_keys(pctx_t *pc, fjson_object *obj, const char *const *allowed, const char *const *extra,
                      const char *const *wrong_here, const char *why) {
    struct fjson_object_iterator it = fjson_object_iter_begin(obj), end = fjson_object_iter_end(obj);
    for (; !fjson_object_iter_equal(&it, &end); fjson_object_iter_next(&it)) {
        const char *k = fjson_object_iter_peek_name(&it);
        if (in_list(k, allowed) || in_list(k, extra))
            continue;
        if (in_list(k, wrong_here))
            return perr(pc, k, "not valid %s", why);
        char list[512];
        join_list(list, sizeof list, allowed, extra);
        return perr(pc, k, "unknown key; expected one of: %s", list);
    }
    return CTX_OK;
}

/* the object at key (0 absent, 1 found, <0 error) */
static int get_object(pctx_t *pc, fjson_object *obj, const char *key, fjson_object **out) {
    fjson_object *v = member(obj, key);
    if (v == NULL)
        return 0;
    if (!fjson_object_is_type(v, fjson_type_object))
        return perr(pc, key, "expected an object, got %s", jtype(v));
    *out = v;
    return 1;
}

/* ---------------------------------------------------------------- files */

static char *resolve_path(pctx_t *pc, const char *p) {
    if (p[0] == '/' || pc->base_dir == NULL)
        return arena_strndup(&pc->set->arena, p, strlen(p));
    size_t n = strlen(pc->base_dir) + strlen(p) + 2;
    char *r = arena_alloc(&pc->set->arena, n);
    if (r != NULL)
        snprintf(r, n, "%s/%s", pc->base_dir, p);
    return r;
}

/* a file that must exist and be readable; secret files (keys, passwords) must not
 * be world-readable (a warning) */
static int get_file(pctx_t *pc, fjson_object *obj, const char *key, int secret, const char **out) {
    const char *raw;
    int rc = get_string(pc, obj, key, 4096, &raw);
    if (rc <= 0)
        return rc;
    char *path = resolve_path(pc, raw);
    if (path == NULL)
        return nomem(pc);
    char shownp[PATH_MAX_SHOWN * 4 + 8];
    shown_n(shownp, sizeof shownp, path, PATH_MAX_SHOWN);
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
        int e = errno;
        if (fd >= 0)
            close(fd);
        return perr(pc, key, "cannot read \"%s\": %s", shownp, strerror(e));
    }
    close(fd);
    if (!S_ISREG(st.st_mode))
        return perr(pc, key, "\"%s\" is not a regular file", shownp);
    char why[160];
    int verdict = secret ? ctx_secret_check(&st, geteuid(), why, sizeof why) : CTX_SECRET_OK;
    if (verdict == CTX_SECRET_REFUSE)
        return perr(pc, key, "\"%s\" cannot hold a secret: %s", shownp, why);
    if (verdict == CTX_SECRET_WARN && pwarn(pc, key, "\"%s\" is %s", shownp, why) != CTX_OK)
        return pc->rc;
    *out = path;
    return 1;
}

/* ---------------------------------------------------------------- sections */

static int host_ok(const char *s) {
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') || strchr(".-:_%", *s)))
            return 0;
    return 1;
}

static int get_host(pctx_t *pc, fjson_object *obj, const char *key, const char **out) {
    int rc = get_string(pc, obj, key, 253, out);
    if (rc > 0 && !host_ok(*out))
        return perr(pc, key, "expected a host name or IP address (letters, digits, \".-:_%%\")");
    return rc;
}

static int name_ok(const char *s) {
    return ctx_tenants_id_ok(s, strlen(s));
}

static int check_cipher_list(pctx_t *pc, const char *key, const char *list, int tls13) {
    if (pc->ssl == NULL && (pc->ssl = SSL_CTX_new(TLS_client_method())) == NULL)
        return nomem(pc);
    int ok = tls13 ? SSL_CTX_set_ciphersuites(pc->ssl, list) : SSL_CTX_set_cipher_list(pc->ssl, list);
    ERR_clear_error();
    if (!ok)
        return perr(pc, key, "OpenSSL knows no cipher%s in this list", tls13 ? " suite" : "");
    return CTX_OK;
}

static const char *const TLS_KEYS[] = {"ca_file", "cert_file", "key_file", "server_name", "min_version",
                                       "ciphers", "ciphersuites", "verify_peer", "verify_hostname", NULL};

static int parse_tls_checks(pctx_t *pc, ctx_tenant_tls_t *tls) {
    if ((tls->cert_file == NULL) != (tls->key_file == NULL))
        return perr(pc, tls->cert_file ? "cert_file" : "key_file", "cert_file and key_file must be given together");
    if (tls->ciphers && check_cipher_list(pc, "ciphers", tls->ciphers, 0) != CTX_OK)
        return pc->rc;
    if (tls->ciphersuites && check_cipher_list(pc, "ciphersuites", tls->ciphersuites, 1) != CTX_OK)
        return pc->rc;
    if (!tls->verify_peer && pwarn(pc, "verify_peer",
                                   "false: the server's certificate chain and dates are NOT checked for tenant %s",
                                   pc->tenant) != CTX_OK)
        return pc->rc;
    if (!tls->verify_hostname && pwarn(pc, "verify_hostname",
                                       "false: the server's certificate name is NOT checked for tenant %s",
                                       pc->tenant) != CTX_OK)
        return pc->rc;
    return CTX_OK;
}

static int parse_tls(pctx_t *pc, fjson_object *obj, ctx_tenant_tls_t *tls) {
    static const char *const versions[] = {"1.2", "1.3", NULL};
    fjson_object *o;
    int rc = get_object(pc, obj, "tls", &o);
    if (rc <= 0)
        return rc;
    push(pc, "tls");
    int ver = 0;
    if (check_keys(pc, o, TLS_KEYS, NULL, NULL, NULL) < 0 || get_file(pc, o, "ca_file", 0, &tls->ca_file) < 0 ||
        get_file(pc, o, "cert_file", 0, &tls->cert_file) < 0 || get_file(pc, o, "key_file", 1, &tls->key_file) < 0 ||
        get_host(pc, o, "server_name", &tls->server_name) < 0 ||
        get_string(pc, o, "ciphers", 1024, &tls->ciphers) < 0 ||
        get_string(pc, o, "ciphersuites", 1024, &tls->ciphersuites) < 0 ||
        get_enum(pc, o, "min_version", versions, &ver) < 0 || get_bool(pc, o, "verify_peer", &tls->verify_peer) < 0 ||
        get_bool(pc, o, "verify_hostname", &tls->verify_hostname) < 0)
        return pc->rc;
    tls->min_version = ver == 1 ? CTX_TLS_1_3 : CTX_TLS_1_2;
    rc = parse_tls_checks(pc, tls);
    pop(pc);
    return rc;
}

static const char *const BATCH_KEYS[] = {"max_messages", "max_bytes", "max_delay_ms", NULL};
static const char *const SPOOL_KEYS[] = {"max_bytes", "when_full", NULL};

static int parse_batch_spool(pctx_t *pc, fjson_object *obj, ctx_tenant_t *t) {
    static const char *const policies[] = {"block", "drop-oldest", NULL};
    fjson_object *o;
    int64_t v;
    int rc = get_object(pc, obj, "batch", &o);
    if (rc > 0) {
        push(pc, "batch");
        if (check_keys(pc, o, BATCH_KEYS, NULL, NULL, NULL) < 0)
            return pc->rc;
        if ((rc = get_int(pc, o, "max_messages", 1, 1000000, &v)) > 0)
            t->batch.max_messages = (size_t)v;
        if (rc >= 0 && (rc = get_int(pc, o, "max_bytes", 1024, 64 << 20, &v)) > 0)
            t->batch.max_bytes = (size_t)v;
        if (rc >= 0 && (rc = get_int(pc, o, "max_delay_ms", 1, 3600000, &v)) > 0)
            t->batch.max_delay_ms = (uint64_t)v;
        pop(pc);
    }
    if (rc < 0 || (rc = get_object(pc, obj, "spool", &o)) <= 0)
        return rc;
    push(pc, "spool");
    int pol = 0;
    if (check_keys(pc, o, SPOOL_KEYS, NULL, NULL, NULL) < 0 || get_enum(pc, o, "when_full", policies, &pol) < 0)
        return pc->rc;
    t->spool_when_full = pol ? CTX_SPOOL_DROP_OLDEST : CTX_SPOOL_BLOCK;
    if ((rc = get_int(pc, o, "max_bytes", 1 << 20, (int64_t)1 << 50, &v)) > 0)
        t->spool_max_bytes = (uint64_t)v;
    if (rc >= 0 && t->spool_max_bytes < 2 * (uint64_t)t->batch.max_bytes)
        return perr(pc, "max_bytes", "expected at least 2 x batch.max_bytes (%llu), got %llu",
                    2 * (unsigned long long)t->batch.max_bytes, (unsigned long long)t->spool_max_bytes);
    pop(pc);
    return rc;
}

static int parse_stream(pctx_t *pc, fjson_object *obj, ctx_tenant_t *t) {
    static const char *const encs[] = {"none", "zstd", "gzip", NULL};
    int64_t port;
    int enc = 0, rc;
    if ((rc = get_host(pc, obj, "host", &t->host)) == 0)
        return perr(pc, NULL, "\"host\" is required for transport \"%s\"", ctx_transport_name(t->transport));
    if (rc < 0 || (rc = get_int(pc, obj, "port", 1, 65535, &port)) < 0 ||
        get_enum(pc, obj, "compression", encs, &enc) < 0)
        return pc->rc;
    t->port = rc > 0 ? (unsigned)port : (t->transport == CTX_TRANSPORT_PLAIN_TCP ? 514u : 6514u);
    t->encoding = (ctx_encoding_t)enc; /* the order of encs[] is that of ctx_encoding_t */
    t->body = CTX_BATCH_OCTET_COUNTED;
    return CTX_OK;
}

static int header_name_ok(const char *s) {
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              strchr("!#$%&'*+-.^_`|~", *s)))
            return 0;
    return 1;
}

static int parse_headers(pctx_t *pc, fjson_object *obj, ctx_tenant_t *t) {
    static const char *const reserved[] = {"Host", "Content-Length", "Content-Encoding", "Transfer-Encoding",
                                           "Connection", NULL};
    fjson_object *o;
    int rc = get_object(pc, obj, "headers", &o);
    if (rc <= 0)
        return rc;
    int n = fjson_object_object_length(o);
    if (n > 64)
        return perr(pc, "headers", "expected at most 64 headers, got %d", n);
    ctx_header_t *h = arena_alloc(&pc->set->arena, (size_t)n * sizeof *h);
    if (h == NULL)
        return nomem(pc);
    push(pc, "headers");
    struct fjson_object_iterator it = fjson_object_iter_begin(o), end = fjson_object_iter_end(o);
    for (; !fjson_object_iter_equal(&it, &end); fjson_object_iter_next(&it)) {
        const char *k = fjson_object_iter_peek_name(&it), *v;
        size_t vlen;
        if (k[0] == '\0' || !header_name_ok(k))
            return perr(pc, k, "expected a header name (letters, digits, !#$%%&'*+-.^_`|~)");
        for (int i = 0; reserved[i]; i++)
            if (strcasecmp(k, reserved[i]) == 0)
                return perr(pc, k, "set by omtenant itself; it cannot be configured");
        if (t->auth != CTX_AUTH_NONE && strcasecmp(k, "Authorization") == 0)
            return perr(pc, k, "conflicts with \"auth\"");
        if (get_raw_string(pc, o, k, 4096, &v, &vlen) < 0)
            return pc->rc;
        ctx_header_t *e = &h[t->nheaders++];
        e->name = arena_strndup(&pc->set->arena, k, strlen(k));
        e->value = arena_strndup(&pc->set->arena, v, vlen);
        if (e->name == NULL || e->value == NULL)
            return nomem(pc);
    }
    t->headers = h;
    pop(pc);
    return CTX_OK;
}

static const char *const AUTH_KEYS[] = {"type", "token_file", "user", "password_file", NULL};

static int parse_auth(pctx_t *pc, fjson_object *obj, ctx_tenant_t *t) {
    static const char *const types[] = {"bearer", "basic", NULL};
    fjson_object *o;
    int rc = get_object(pc, obj, "auth", &o), type = 0;
    if (rc <= 0)
        return rc;
    push(pc, "auth");
    if (check_keys(pc, o, AUTH_KEYS, NULL, NULL, NULL) < 0 || (rc = get_enum(pc, o, "type", types, &type)) < 0)
        return pc->rc;
    if (rc == 0)
        return perr(pc, NULL, "\"type\" is required: \"bearer\" or \"basic\"");
    t->auth = type ? CTX_AUTH_BASIC : CTX_AUTH_BEARER;
    const char *need = type ? "password_file" : "token_file", *other = type ? "token_file" : "password_file";
    if (member(o, other) != NULL)
        return perr(pc, other, "not valid for auth type \"%s\"", types[type]);
    if (!type && member(o, "user") != NULL)
        return perr(pc, "user", "not valid for auth type \"bearer\"");
    if ((rc = get_file(pc, o, need, 1, &t->auth_file)) == 0)
        return perr(pc, NULL, "\"%s\" is required for auth type \"%s\"", need, types[type]);
    if (rc < 0)
        return rc;
    if (type && (rc = get_string(pc, o, "user", 256, &t->auth_user)) <= 0)
        return rc < 0 ? rc : perr(pc, NULL, "\"user\" is required for auth type \"basic\"");
    if (type && strchr(t->auth_user, ':') != NULL)
        return perr(pc, "user", "a basic-auth user name cannot contain \":\"");
    pop(pc);
    return CTX_OK;
}

static int url_ok(const char *u, size_t skip) {
    if (u[skip] == '\0' || u[skip] == '/' || u[skip] == '?' || u[skip] == '#')
        return 0;
    for (; *u; u++)
        if (*u == ' ' || *u == '\t')
            return 0;
    return 1;
}

static int parse_https(pctx_t *pc, fjson_object *obj, ctx_tenant_t *t) {
    static const char *const bodies[] = {"ndjson", "json-array", NULL};
    static const char *const encs[] = {"none", "zstd", "gzip", NULL};
    int rc, body = 0, enc = CTX_ENC_ZSTD;
    if ((rc = get_string(pc, obj, "url", 2048, &t->url)) == 0)
        return perr(pc, NULL, "\"url\" is required for transport \"https\"");
    if (rc < 0)
        return rc;
    int is_http = strncasecmp(t->url, "http://", 7) == 0;
    if (!is_http && strncasecmp(t->url, "https://", 8) != 0)
        return perr(pc, "url", "expected an https:// URL");
    if (!url_ok(t->url, is_http ? 7 : 8))
        return perr(pc, "url", "expected a URL with a host and no spaces");
    if (is_http && !t->allow_plaintext)
        return perr(pc, "url", "http:// sends logs unencrypted: use https:// or set \"allow_plaintext\": true");
    if (is_http && member(obj, "tls") != NULL)
        return perr(pc, "tls", "not valid with an http:// url");
    if (get_enum(pc, obj, "body", bodies, &body) < 0 || get_enum(pc, obj, "content_encoding", encs, &enc) < 0 ||
        parse_auth(pc, obj, t) < 0 || parse_headers(pc, obj, t) < 0)
        return pc->rc;
    t->body = body ? CTX_BATCH_JSON_ARRAY : CTX_BATCH_NDJSON;
    t->encoding = (ctx_encoding_t)enc;
    if (is_http && pwarn(pc, "url", "logs of tenant %s are sent unencrypted (allow_plaintext)", t->id) != CTX_OK)
        return pc->rc;
    return CTX_OK;
}

/* ---------------------------------------------------------------- one tenant */

static const char *const COMMON_KEYS[] = {"transport", "allow_plaintext", "tls", "batch", "spool", "redaction", NULL};
static const char *const STREAM_KEYS[] = {"host", "port", "compression", NULL};
static const char *const HTTPS_KEYS[] = {"url", "body", "content_encoding", "headers", "auth", NULL};
static const char *const TRANSPORTS[] = {"syslog-tls", "https", "plain-tcp", NULL};

static void tenant_defaults(ctx_tenant_t *t) {
    t->batch.max_messages = 1000;
    t->batch.max_bytes = 1u << 20;
    t->batch.max_delay_ms = 1000;
    t->spool_max_bytes = (uint64_t)1 << 30;
    t->spool_when_full = CTX_SPOOL_BLOCK;
    t->tls.min_version = CTX_TLS_1_2;
    t->tls.verify_peer = 1;
    t->tls.verify_hostname = 1;
}

static int parse_transport_keys(pctx_t *pc, fjson_object *obj, ctx_tenant_t *t) {
    char why[64];
    snprintf(why, sizeof why, "for transport \"%s\"", ctx_transport_name(t->transport));
    if (t->transport == CTX_TRANSPORT_HTTPS)
        return check_keys(pc, obj, COMMON_KEYS, HTTPS_KEYS, STREAM_KEYS, why);
    if (t->transport == CTX_TRANSPORT_SYSLOG_TLS)
        return check_keys(pc, obj, COMMON_KEYS, STREAM_KEYS, HTTPS_KEYS, why);
    static const char *const plain[] = {"transport", "allow_plaintext", "batch", "spool", "redaction", NULL};
    static const char *const not_plain[] = {"url", "body", "content_encoding", "headers", "auth", "tls", NULL};
    snprintf(why, sizeof why, "for transport \"plain-tcp\" (no TLS, no HTTP)");
    return check_keys(pc, obj, plain, STREAM_KEYS, not_plain, why);
}

static int parse_tenant(pctx_t *pc, fjson_object *obj, ctx_tenant_t *t) {
    int tr, rc;
    tenant_defaults(t);
    if (!fjson_object_is_type(obj, fjson_type_object))
        return perr(pc, NULL, "expected an object, got %s", jtype(obj));
    if ((rc = get_enum(pc, obj, "transport", TRANSPORTS, &tr)) == 0)
        return perr(pc, NULL, "\"transport\" is required: \"syslog-tls\", \"https\" or \"plain-tcp\"");
    if (rc < 0)
        return rc;
    t->transport = (ctx_transport_t)tr;
    if (parse_transport_keys(pc, obj, t) < 0 || get_bool(pc, obj, "allow_plaintext", &t->allow_plaintext) < 0)
        return pc->rc;
    if (t->transport == CTX_TRANSPORT_PLAIN_TCP && !t->allow_plaintext)
        return perr(pc, "transport",
                    "\"plain-tcp\" sends logs unencrypted: set \"allow_plaintext\": true to allow it");
    if (t->transport == CTX_TRANSPORT_HTTPS)
        rc = parse_https(pc, obj, t);
    else
        rc = parse_stream(pc, obj, t);
    if (rc < 0 || parse_tls(pc, obj, &t->tls) < 0 || parse_batch_spool(pc, obj, t) < 0 ||
        get_string(pc, obj, "redaction", CTX_TENANT_ID_MAX, &t->redaction) < 0)
        return pc->rc;
    if (t->redaction && !name_ok(t->redaction))
        return perr(pc, "redaction", "expected a rule set name of 1..64 characters A-Z a-z 0-9 . _ -");
    if (t->transport == CTX_TRANSPORT_PLAIN_TCP &&
        pwarn(pc, "transport", "logs of tenant %s are sent unencrypted (allow_plaintext)", t->id) != CTX_OK)
        return pc->rc;
    return CTX_OK;
}

/* ---------------------------------------------------------------- the file */

int ctx_tenants_id_ok(const char *id, size_t len) {
    if (id == NULL || len == 0 || len > CTX_TENANT_ID_MAX)
        return 0;
    if ((len == 1 && id[0] == '.') || (len == 2 && id[0] == '.' && id[1] == '.'))
        return 0;
    for (size_t i = 0; i < len; i++) {
        char c = id[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
              c == '-'))
            return 0;
    }
    return 1;
}

static int parse_tenants_obj(pctx_t *pc, fjson_object *tobj) {
    ctx_tenants_t *t = pc->set;
    int n = fjson_object_object_length(tobj);
    if ((t->v = calloc(n ? (size_t)n : 1, sizeof *t->v)) == NULL)
        return nomem(pc);
    if (n == 0 && pwarn(pc, NULL, "no tenant is defined: every message will be dropped") != CTX_OK)
        return pc->rc;
    struct fjson_object_iterator it = fjson_object_iter_begin(tobj), end = fjson_object_iter_end(tobj);
    for (; !fjson_object_iter_equal(&it, &end); fjson_object_iter_next(&it)) {
        const char *id = fjson_object_iter_peek_name(&it);
        if (!ctx_tenants_id_ok(id, strlen(id)))
            return perr(pc, id, "a tenant id is 1..64 characters A-Z a-z 0-9 . _ - and not \".\" or \"..\" "
                                "(it names the tenant's spool directory)");
        ctx_tenant_t *e = &t->v[t->n];
        if ((e->id = arena_strndup(&t->arena, id, strlen(id))) == NULL)
            return nomem(pc);
        push(pc, e->id);
        pc->tenant = e->id;
        e->line = keyidx_line(&pc->ki, pc->path, pc->depth);
        if (parse_tenant(pc, fjson_object_iter_peek_value(&it), e) < 0)
            return pc->rc;
        pop(pc);
        t->n++;
    }
    return CTX_OK;
}

static int syntax_error(pctx_t *pc, const char *text, size_t len, size_t off, const char *what) {
    int line = 1;
    size_t col = 1;
    for (size_t i = 0; i < off && i < len; i++, col++)
        if (text[i] == '\n') {
            line++;
            col = 0;
        }
    if (pc->err && pc->errlen)
        snprintf(pc->err, pc->errlen, "%s:%d:%zu: invalid JSON: %s", pc->name, line, col, what);
    return pc->rc = CTX_EPARSE;
}

/* strict JSON, one top-level object, nothing after it */
static fjson_object *parse_json(pctx_t *pc, const char *text, size_t len) {
    fjson_tokener *tok = fjson_tokener_new();
    if (tok == NULL) {
        nomem(pc);
        return NULL;
    }
    fjson_tokener_set_flags(tok, FJSON_TOKENER_STRICT);
    fjson_object *root = len > INT32_MAX ? NULL : fjson_tokener_parse_ex(tok, text, (int)len);
    enum fjson_tokener_error e = fjson_tokener_get_error(tok);
    size_t off = (size_t)tok->char_offset;
    if (root == NULL && e == fjson_tokener_continue)
        syntax_error(pc, text, len, len, "unexpected end of file");
    else if (root == NULL)
        syntax_error(pc, text, len, off, fjson_tokener_error_desc(e));
    else if (off < len) {
        syntax_error(pc, text, len, off, "unexpected text after the top-level object");
        fjson_object_put(root);
        root = NULL;
    }
    fjson_tokener_free(tok);
    return root;
}

static int check_duplicates(pctx_t *pc) {
    size_t first = 0;
    long d = keyidx_dup(&pc->ki, &first);
    if (d < 0)
        return CTX_OK;
    const char *path[MAX_PATH + 1];
    int n = 0;
    for (long i = pc->ki.v[d].parent; i >= 0 && n < MAX_PATH; i = pc->ki.v[i].parent)
        n++;
    int k = n;
    for (long i = pc->ki.v[d].parent; i >= 0 && k > 0; i = pc->ki.v[i].parent)
        path[--k] = pc->ki.v[i].key;
    char key[NAME_MAX_SHOWN * 4 + 8], where[NAME_MAX_SHOWN * 4 * MAX_PATH + 16] = "";
    shown(key, sizeof key, pc->ki.v[d].key);
    for (int i = 0; i < n; i++) {
        char part[NAME_MAX_SHOWN * 4 + 8];
        shown(part, sizeof part, path[i]);
        size_t o = strlen(where);
        snprintf(where + o, sizeof where - o, "%s%s", i ? "." : "", part);
    }
    if (pc->err && pc->errlen)
        snprintf(pc->err, pc->errlen, "%s:%d: %s%s%s: duplicate key (first at line %d)", pc->name,
                 pc->ki.v[d].line, where, n ? "." : "", key, pc->ki.v[first].line);
    return pc->rc = CTX_EPARSE;
}

static int parse_root(pctx_t *pc, fjson_object *root) {
    static const char *const top[] = {"tenants", NULL};
    fjson_object *tobj;
    if (!fjson_object_is_type(root, fjson_type_object))
        return perr(pc, NULL, "expected a JSON object {\"tenants\": {...}}, got %s", jtype(root));
    if (check_keys(pc, root, top, NULL, NULL, NULL) < 0)
        return pc->rc;
    int rc = get_object(pc, root, "tenants", &tobj);
    if (rc == 0)
        return perr(pc, NULL, "\"tenants\" is required: an object of tenant id -> destination");
    if (rc < 0)
        return rc;
    push(pc, "tenants");
    rc = parse_tenants_obj(pc, tobj);
    pop(pc);
    return rc;
}

int ctx_tenants_parse(const char *text, size_t len, const char *name, const char *base_dir, ctx_tenants_t **out,
                      char *err, size_t errlen) {
    if (err && errlen)
        err[0] = '\0';
    if (out == NULL || (text == NULL && len > 0))
        return CTX_EINVAL;
    *out = NULL;
    pctx_t pc = {.name = name ? name : "tenants", .base_dir = base_dir, .err = err, .errlen = errlen};
    if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0) { /* a UTF-8 BOM */
        text += 3;
        len -= 3;
    }
    if ((pc.set = calloc(1, sizeof *pc.set)) == NULL)
        return nomem(&pc);
    atomic_init(&pc.set->refs, 1);
    fjson_object *root = parse_json(&pc, text ? text : "", len);
    if (root != NULL) {
        if (keyidx_scan(&pc.ki, text, len) != CTX_OK)
            nomem(&pc);
        else if (check_duplicates(&pc) == CTX_OK)
            parse_root(&pc, root);
        fjson_object_put(root);
    }
    keyidx_free(&pc.ki);
    SSL_CTX_free(pc.ssl);
    if (pc.rc != 0) {
        set_destroy(pc.set);
        return pc.rc;
    }
    *out = pc.set;
    return CTX_OK;
}


int ctx_tenants_load(const char *path, ctx_tenants_t **out, char *err, size_t errlen) {
    if (out == NULL || path == NULL)
        return CTX_EINVAL;
    *out = NULL;
    char *buf, *dir = strdup(path);
    size_t len;
    if (dir == NULL)
        return CTX_ENOMEM;
    char *slash = strrchr(dir, '/');
    if (slash == dir)
        slash[1] = '\0';
    else if (slash)
        *slash = '\0';
    int rc = ctx_cfg_read(path, "tenants file", MAX_FILE, &buf, &len, err, errlen);
    if (rc == CTX_OK) {
        rc = ctx_tenants_parse(buf, len, path, slash ? dir : NULL, out, err, errlen);
        free(buf);
    }
    free(dir);
    return rc;
}

/* ---------------------------------------------------------------- lookup */

ctx_tenants_t *ctx_tenants_ref(ctx_tenants_t *t) {
    if (t != NULL)
        atomic_fetch_add_explicit(&t->refs, 1, memory_order_relaxed);
    return t;
}

void ctx_tenants_free(ctx_tenants_t *t) {
    if (t != NULL && atomic_fetch_sub_explicit(&t->refs, 1, memory_order_acq_rel) == 1)
        set_destroy(t);
}

const ctx_tenant_t *ctx_tenants_get(const ctx_tenants_t *t, const char *id, size_t idlen) {
    for (size_t i = 0; t != NULL && id != NULL && i < t->n; i++)
        if (strncmp(t->v[i].id, id, idlen) == 0 && t->v[i].id[idlen] == '\0')
            return &t->v[i];
    return NULL;
}


size_t ctx_tenants_count(const ctx_tenants_t *t) {
    return t ? t->n : 0;
}

const ctx_tenant_t *ctx_tenants_at(const ctx_tenants_t *t, size_t i) {
    return t && i < t->n ? &t->v[i] : NULL;
}

size_t ctx_tenants_warning_count(const ctx_tenants_t *t) {
    return t ? t->nwarn : 0;
}

const char *ctx_tenants_warning(const ctx_tenants_t *t, size_t i) {
    return t && i < t->nwarn ? t->warn[i] : NULL;
}

const char *ctx_transport_name(ctx_transport_t tr) {
    return (unsigned)tr < 3 ? TRANSPORTS[tr] : "?";
}
