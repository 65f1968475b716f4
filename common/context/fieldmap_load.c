/* fieldmap_load.c: loading a compute-manager field mapping file: JSON text, sections,
 * fields, every error message (fieldmap.h, docs/fieldmap.md). */
#include "fieldmap_int.h"

/* ------------------------------------------------------------------ loading: errors */

struct loader {
    const char *name; /* file name for messages */
    char *err;
    size_t errlen;
};

#define KEYLEN 320

/* parent + "/" + key with ~ and / escaped (RFC 6901), truncated to KEYLEN. */
static void keypath(char *dst, const char *parent, const char *key) {
    size_t o = strlen(parent);
    memmove(dst, parent, o + 1);
    if (o + 2 >= KEYLEN) return;
    dst[o++] = '/';
    for (const char *k = key; *k && o + 3 < KEYLEN; k++) {
        if (*k == '~' || *k == '/') {
            dst[o++] = '~';
            dst[o++] = *k == '~' ? '0' : '1';
        } else {
            dst[o++] = *k;
        }
    }
    dst[o] = '\0';
}

/* "text" with quotes, controls as \xNN, at most 48 bytes of text. */
static void quote_text(char *buf, size_t buflen, const char *s, size_t len) {
    size_t o = 0, lim = len > 48 ? 48 : len;
    buf[o++] = '"';
    for (size_t i = 0; i < lim && o + 8 < buflen; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\')
            o += (size_t)snprintf(buf + o, buflen - o, "\\%c", c);
        else if (c < 0x20 || c == 0x7f)
            o += (size_t)snprintf(buf + o, buflen - o, "\\x%02x", c);
        else
            buf[o++] = (char)c;
    }
    if (lim < len) o += (size_t)snprintf(buf + o, buflen - o, "...");
    snprintf(buf + o, buflen - o, "\"");
}

static void describe(struct fjson_object *v, char *buf, size_t len) {
    if (fjson_object_get_type(v) == fjson_type_string) {
        quote_text(buf, len, fjson_object_get_string(v), (size_t)fjson_object_get_string_len(v));
        return;
    }
    const char *j = v == NULL ? "null" : fjson_object_to_json_string_ext(v, FJSON_TO_STRING_PLAIN);
    if (strlen(j) > 48)
        snprintf(buf, len, "%.48s...", j);
    else
        snprintf(buf, len, "%s", j);
}

/* "<file>: <key>: expected <what>, got <got>". Returns CTX_EPARSE. */
static int lerr(struct loader *L, const char *key, const char *what, const char *got) {
    if (L->err != NULL && L->errlen > 0)
        snprintf(L->err, L->errlen, "%s: %s: expected %s, got %s", L->name, key[0] ? key : "(root)", what, got);
    return CTX_EPARSE;
}

static int lerr_val(struct loader *L, const char *key, const char *what, struct fjson_object *v) {
    char got[128];
    describe(v, got, sizeof got);
    return lerr(L, key, what, got);
}

static int lerr_name(struct loader *L, const char *key, const char *what, const char *name) {
    char got[128];
    quote_text(got, sizeof got, name, strlen(name));
    return lerr(L, key, what, got);
}

/* ------------------------------------------------------------------ loading: fields */

#define POINTER_WHAT "a JSON pointer string (\"\" or \"/a/b\"; ~0 for ~, ~1 for /)"

static int load_pointer(struct loader *L, const char *key, struct fjson_object *v, struct jptr *p) {
    if (fjson_object_get_type(v) != fjson_type_string) return lerr_val(L, key, POINTER_WHAT, v);
    fm_jptr_free(p);
    int rc = fm_jptr_compile(fjson_object_get_string(v), p);
    if (rc == CTX_EINVAL) return lerr_val(L, key, POINTER_WHAT, v);
    return rc;
}

static int lookup_name(struct fjson_object *v, const char *const *names, int n) {
    if (fjson_object_get_type(v) != fjson_type_string) return -1;
    for (int i = 0; i < n; i++)
        if (strcmp(fjson_object_get_string(v), names[i]) == 0) return i;
    return -1;
}

static int load_per(struct loader *L, const char *key, struct fjson_object *v, struct fmfield *f) {
    const char *what = "a JSON pointer string or an array of 1 to 4 of them";
    for (size_t i = 0; i < f->nper; i++) fm_jptr_free(&f->per[i]);
    f->nper = 0;
    if (fjson_object_get_type(v) == fjson_type_string) {
        f->nper = 1;
        return load_pointer(L, key, v, &f->per[0]);
    }
    if (fjson_object_get_type(v) != fjson_type_array || fjson_object_array_length(v) < 1 ||
        fjson_object_array_length(v) > FM_MAX_PER)
        return lerr_val(L, key, what, v);
    for (int i = 0; i < fjson_object_array_length(v); i++) {
        char k[KEYLEN], idx[16];
        snprintf(idx, sizeof idx, "%d", i);
        keypath(k, key, idx);
        f->nper++;
        int rc = load_pointer(L, k, fjson_object_array_get_idx(v, i), &f->per[i]);
        if (rc < 0) return rc;
    }
    return 0;
}

static int load_scale(struct loader *L, const char *key, struct fjson_object *v, struct fmfield *f) {
    int t = fjson_object_get_type(v);
    double d = t == fjson_type_int ? (double)fjson_object_get_int64(v) : fjson_object_get_double(v);
    if ((t != fjson_type_int && t != fjson_type_double) || !isfinite(d) || d == 0)
        return lerr_val(L, key, "a non-zero number", v);
    f->scale = d;
    return 0;
}

static int load_decimals(struct loader *L, const char *key, struct fjson_object *v, struct fmfield *f) {
    if (fjson_object_get_type(v) != fjson_type_int || fjson_object_get_int64(v) < 0 || fjson_object_get_int64(v) > 9)
        return lerr_val(L, key, "an integer from 0 to 9", v);
    f->decimals = (int)fjson_object_get_int64(v);
    return 0;
}

/* Bits of struct field_seen: which optional keys a field spec had. */
enum {
    SEEN_POINTER = 1,
    SEEN_TYPE = 2,
    SEEN_ARRAY = 4,
    SEEN_REDUCE = 8,
    SEEN_PER = 16,
    SEEN_SCALE = 32,
    SEEN_DECIMALS = 64
};

static int field_member(struct loader *L, const char *key, const char *m, struct fjson_object *v, struct fmfield *f,
                        unsigned *seen) {
    static const char *const reduce_names[] = {"avg", "sum", "min", "max"};
    if (strcmp(m, "pointer") == 0) {
        *seen |= SEEN_POINTER;
        return load_pointer(L, key, v, &f->ptr);
    } else if (strcmp(m, "type") == 0) {
        *seen |= SEEN_TYPE;
        if ((f->type = lookup_name(v, type_names, 4)) < 0)
            return lerr_val(L, key, "one of \"string\", \"number\", \"integer\", \"bool\"", v);
    } else if (strcmp(m, "array") == 0) {
        *seen |= SEEN_ARRAY;
        return load_pointer(L, key, v, &f->arr);
    } else if (strcmp(m, "reduce") == 0) {
        *seen |= SEEN_REDUCE;
        int r = lookup_name(v, reduce_names, 4);
        if (r < 0) return lerr_val(L, key, "one of \"avg\", \"sum\", \"min\", \"max\"", v);
        f->reduce = R_AVG + r;
    } else if (strcmp(m, "per") == 0) {
        *seen |= SEEN_PER;
        return load_per(L, key, v, f);
    } else if (strcmp(m, "scale") == 0) {
        *seen |= SEEN_SCALE;
        return load_scale(L, key, v, f);
    } else if (strcmp(m, "decimals") == 0) {
        *seen |= SEEN_DECIMALS;
        return load_decimals(L, key, v, f);
    } else {
        return lerr_name(L, key, "a known key (pointer, type, array, reduce, per, scale, decimals)", m);
    }
    return 0;
}

/* Names the module knows and their type; other valid names are custom fields of any type. */
static int known_type_ok(const char *name, int type, const char **want) {
    static const char *const strs[] = {"host_ip", "guest_os", NULL};
    static const char *const nums[] = {"avg_host_cpu_pct", "avg_host_mem_pct", "avg_vm_cpu_pct", "avg_vm_mem_pct",
                                       NULL};
    for (int i = 0; strs[i]; i++)
        if (strcmp(name, strs[i]) == 0 && type != CTX_FM_STRING) return *want = "\"string\"", 0;
    for (int i = 0; nums[i]; i++)
        if (strcmp(name, nums[i]) == 0 && type != CTX_FM_NUMBER && type != CTX_FM_INTEGER)
            return *want = "\"number\" or \"integer\"", 0;
    return 1;
}

static int check_field(struct loader *L, const char *key, const struct fmfield *f, unsigned seen) {
    char k[KEYLEN], what[128];
    const char *want;
    if (!(seen & SEEN_POINTER)) return keypath(k, key, "pointer"), lerr(L, k, POINTER_WHAT, "nothing");
    if (!(seen & SEEN_TYPE))
        return keypath(k, key, "type"), lerr(L, k, "one of \"string\", \"number\", \"integer\", \"bool\"", "nothing");
    keypath(k, key, "type");
    if (!known_type_ok(f->name, f->type, &want)) {
        snprintf(what, sizeof what, "%s (%s is a %s field)", want, f->name, want[1] == 's' ? "string" : "numeric");
        return lerr_name(L, k, what, type_names[f->type]);
    }
    if ((seen & (SEEN_ARRAY | SEEN_PER | SEEN_SCALE)) && f->type != CTX_FM_NUMBER && f->type != CTX_FM_INTEGER)
        return lerr_name(L, k, "\"number\" or \"integer\" (array, per and scale compute numbers)", type_names[f->type]);
    if ((seen & SEEN_DECIMALS) && f->type != CTX_FM_NUMBER)
        return lerr_name(L, k, "\"number\" (decimals round numbers)", type_names[f->type]);
    if ((seen & SEEN_ARRAY) && !(seen & SEEN_REDUCE))
        return keypath(k, key, "reduce"), lerr(L, k, "one of \"avg\", \"sum\", \"min\", \"max\" with array", "nothing");
    if ((seen & SEEN_REDUCE) && !(seen & SEEN_ARRAY))
        return keypath(k, key, "array"), lerr(L, k, POINTER_WHAT " with reduce", "nothing");
    return 0;
}

static int valid_field_name(const char *n) {
    size_t len = strlen(n);
    if (len == 0 || len > 63 || n[0] < 'a' || n[0] > 'z') return 0;
    for (size_t i = 0; i < len; i++)
        if (!((n[i] >= 'a' && n[i] <= 'z') || (n[i] >= '0' && n[i] <= '9') || n[i] == '_')) return 0;
    return 1;
}

static int load_field(struct loader *L, const char *key, const char *name, struct fjson_object *v, struct fmfield *f) {
    unsigned seen = 0;
    if (!valid_field_name(name))
        return lerr_name(L, key, "a field name (a-z, 0-9, '_', starting with a letter, at most 63)", name);
    if (strcmp(name, "status") == 0 || strcmp(name, "fetched_at") == 0)
        return lerr_name(L, key, "a field name other than status and fetched_at (the module sets those)", name);
    if ((f->name = strdup(name)) == NULL) return CTX_ENOMEM;
    f->scale = 1.0;
    f->decimals = 2;
    if (fjson_object_get_type(v) != fjson_type_object)
        return lerr_val(L, key, "an object {\"pointer\": ..., \"type\": ...}", v);
    struct fjson_object_iterator it = fjson_object_iter_begin(v), end = fjson_object_iter_end(v);
    for (; !fjson_object_iter_equal(&it, &end); fjson_object_iter_next(&it)) {
        char k[KEYLEN];
        keypath(k, key, fjson_object_iter_peek_name(&it));
        int rc = field_member(L, k, fjson_object_iter_peek_name(&it), fjson_object_iter_peek_value(&it), f, &seen);
        if (rc < 0) return rc;
    }
    return check_field(L, key, f, seen);
}

static int load_fields(struct loader *L, const char *key, struct fjson_object *v, struct fmsection *sec) {
    char got[32];
    if (fjson_object_get_type(v) != fjson_type_object)
        return lerr_val(L, key, "an object of fields {\"name\": {\"pointer\": ..., \"type\": ...}}", v);
    int n = fjson_object_object_length(v);
    if (n < 1) return lerr(L, key, "at least one field", "{}");
    if (n > CTX_FM_MAX_FIELDS) {
        snprintf(got, sizeof got, "%d fields", n);
        return lerr(L, key, "at most 64 fields", got);
    }
    for (size_t i = 0; i < sec->nf; i++) fm_free_field(&sec->f[i]); /* a duplicate "fields" key: the last wins */
    free(sec->f);
    sec->nf = 0;
    if ((sec->f = calloc((size_t)n, sizeof *sec->f)) == NULL) return CTX_ENOMEM;
    struct fjson_object_iterator it = fjson_object_iter_begin(v), end = fjson_object_iter_end(v);
    for (; !fjson_object_iter_equal(&it, &end); fjson_object_iter_next(&it)) {
        char k[KEYLEN];
        keypath(k, key, fjson_object_iter_peek_name(&it));
        int rc =
            load_field(L, k, fjson_object_iter_peek_name(&it), fjson_object_iter_peek_value(&it), &sec->f[sec->nf++]);
        if (rc < 0) return rc;
    }
    return 0;
}

/* ------------------------------------------------------------------ loading: sections */

/* Bits of the keys a section had. */
enum { HAS_FIELDS = 1, HAS_ITEMS = 2, HAS_KEY_IS = 4 };

static int section_member(struct loader *L, const char *key, const char *m, struct fjson_object *v,
                          struct fmsection *sec, int bulk, unsigned *has) {
    static const char *const kinds[] = {"uuid", "name"};
    if (strcmp(m, "fields") == 0) {
        *has |= HAS_FIELDS;
        return load_fields(L, key, v, sec);
    } else if (strcmp(m, "path") == 0) {
        if (fjson_object_get_type(v) != fjson_type_string) return lerr_val(L, key, "a string", v);
        free(sec->path);
        if ((sec->path = strdup(fjson_object_get_string(v))) == NULL) return CTX_ENOMEM;
    } else if (bulk && strcmp(m, "items") == 0) {
        *has |= HAS_ITEMS;
        return load_pointer(L, key, v, &sec->items);
    } else if (bulk && strcmp(m, "key") == 0) {
        sec->has_key = 1;
        return load_pointer(L, key, v, &sec->key);
    } else if (bulk && strcmp(m, "key_is") == 0) {
        *has |= HAS_KEY_IS;
        if ((sec->key_kind = lookup_name(v, kinds, 2)) < 0) return lerr_val(L, key, "\"uuid\" or \"name\"", v);
    } else {
        return lerr_name(L, key, bulk ? "a known key (path, fields, items, key, key_is)" : "a known key (path, fields)",
                         m);
    }
    return 0;
}

static int load_section(struct loader *L, const char *key, struct fjson_object *v, int s, struct fmsection *sec) {
    char k[KEYLEN];
    unsigned has = 0;
    int bulk = s == CTX_FM_BULK;
    if (fjson_object_get_type(v) != fjson_type_object)
        return lerr_val(
            L, key,
            bulk ? "an object {\"items\": ..., \"key_is\": ..., \"fields\": {...}}" : "an object {\"fields\": {...}}",
            v);
    sec->present = 1;
    struct fjson_object_iterator it = fjson_object_iter_begin(v), end = fjson_object_iter_end(v);
    for (; !fjson_object_iter_equal(&it, &end); fjson_object_iter_next(&it)) {
        keypath(k, key, fjson_object_iter_peek_name(&it));
        int rc =
            section_member(L, k, fjson_object_iter_peek_name(&it), fjson_object_iter_peek_value(&it), sec, bulk, &has);
        if (rc < 0) return rc;
    }
    if (!(has & HAS_FIELDS)) return keypath(k, key, "fields"), lerr(L, k, "an object of fields", "nothing");
    if (bulk && !(has & HAS_ITEMS)) return keypath(k, key, "items"), lerr(L, k, POINTER_WHAT, "nothing");
    if (bulk && !(has & HAS_KEY_IS)) return keypath(k, key, "key_is"), lerr(L, k, "\"uuid\" or \"name\"", "nothing");
    return 0;
}

/* "headers": {"Name": "value", ...}: RFC 9110 token names, printable values; never the
 * headers ctxlog sets itself (authentication, Accept) */
static int load_headers(struct loader *L, const char *key, struct fjson_object *v, ctx_fieldmap *m) {
    static const char *const reserved[] = {"authorization", "x-auth-token", "vmware-api-session-id", "accept",
                                           "content-type", "content-length", "host"};
    char k[KEYLEN];
    if (fjson_object_get_type(v) != fjson_type_object)
        return lerr_val(L, key, "an object of request headers {\"Name\": \"value\"}", v);
    struct fjson_object_iterator it = fjson_object_iter_begin(v), end = fjson_object_iter_end(v);
    for (; !fjson_object_iter_equal(&it, &end); fjson_object_iter_next(&it)) {
        const char *name = fjson_object_iter_peek_name(&it);
        struct fjson_object *hv = fjson_object_iter_peek_value(&it);
        keypath(k, key, name);
        size_t n = strlen(name);
        if (n == 0 || n > 64 || strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789!#$%&'*+-.^_`|~") != n)
            return lerr_name(L, key, "a header name (letters, digits, -, at most 64)", name);
        for (size_t i = 0; i < sizeof reserved / sizeof reserved[0]; i++)
            if (strcasecmp(name, reserved[i]) == 0)
                return lerr_name(L, key, "a header ctxlog does not set itself (not Authorization, X-Auth-Token, "
                                         "vmware-api-session-id, Accept, Content-Type, Content-Length, Host)", name);
        if (fjson_object_get_type(hv) != fjson_type_string) return lerr_val(L, k, "a string", hv);
        const char *val = fjson_object_get_string(hv);
        for (const char *p = val; *p; p++)
            if ((unsigned char)*p < ' ' || *p == 0x7f) return lerr_val(L, k, "a value without control characters", hv);
        if (strlen(val) > 1024) return lerr_val(L, k, "a value of at most 1024 bytes", hv);
        if (m->nheaders >= FM_MAX_HEADERS) return lerr(L, key, "at most 16 headers", "more");
        if (asprintf(&m->headers[m->nheaders], "%s: %s", name, val) < 0) return CTX_ENOMEM;
        m->nheaders++;
    }
    return 0;
}

static int load_root(struct loader *L, struct fjson_object *root, ctx_fieldmap *m) {
    int nsec = 0;
    if (fjson_object_get_type(root) != fjson_type_object) return lerr_val(L, "", "an object", root);
    struct fjson_object_iterator it = fjson_object_iter_begin(root), end = fjson_object_iter_end(root);
    for (; !fjson_object_iter_equal(&it, &end); fjson_object_iter_next(&it)) {
        const char *name = fjson_object_iter_peek_name(&it);
        struct fjson_object *v = fjson_object_iter_peek_value(&it);
        char k[KEYLEN];
        int s, rc = 0;
        keypath(k, "", name);
        for (s = 0; s < CTX_FM_NSECTIONS; s++)
            if (strcmp(name, section_names[s]) == 0) break;
        if (s < CTX_FM_NSECTIONS) {
            rc = load_section(L, k, v, s, &m->sec[s]);
            nsec++;
        } else if (strcmp(name, "description") == 0) {
            if (fjson_object_get_type(v) != fjson_type_string) rc = lerr_val(L, k, "a string", v);
        } else if (strcmp(name, "headers") == 0) {
            rc = load_headers(L, k, v, m);
        } else {
            rc = lerr_name(L, k, "a known key (description, headers, vm, bulk, stats, host, hostid)", name);
        }
        if (rc < 0) return rc;
    }
    if (nsec == 0) return lerr(L, "", "at least one section (vm, bulk, stats, host, hostid)", "none");
    return 0;
}

/* ------------------------------------------------------------------ loading: JSON text */

static int line_of(const char *text, size_t off) {
    int line = 1;
    for (size_t i = 0; i < off; i++) line += text[i] == '\n';
    return line;
}

/* At most 16 bytes, and not past the end of the line. */
static size_t snippet_len(const char *s, size_t len) {
    size_t n = 0;
    while (n < len && n < 16 && s[n] != '\n' && s[n] != '\r') n++;
    return n;
}

static int json_err(struct loader *L, const char *text, size_t len, size_t off, const char *what, const char *why) {
    char got[128];
    if (off >= len)
        snprintf(got, sizeof got, "end of file");
    else
        quote_text(got, sizeof got, text + off, snippet_len(text + off, len - off));
    if (L->err != NULL && L->errlen > 0)
        snprintf(L->err, L->errlen, "%s:%d: expected %s, got %s%s%s%s", L->name, line_of(text, off < len ? off : len),
                 what, got, why ? " (" : "", why ? why : "", why ? ")" : "");
    return CTX_EPARSE;
}

static int parse_json(struct loader *L, const char *text, size_t len, struct fjson_object **root) {
    struct fjson_tokener *tok = fjson_tokener_new();
    if (tok == NULL) return CTX_ENOMEM;
    *root = fjson_tokener_parse_ex(tok, text, (int)len);
    enum fjson_tokener_error e = fjson_tokener_get_error(tok);
    size_t off = (size_t)tok->char_offset;
    fjson_tokener_free(tok);
    if (*root == NULL) {
        if (e == fjson_tokener_continue || e == fjson_tokener_success) off = len; /* empty or truncated */
        return json_err(L, text, len, off, "valid JSON", off < len ? fjson_tokener_error_desc(e) : NULL);
    }
    while (off < len && (text[off] == ' ' || text[off] == '\t' || text[off] == '\r' || text[off] == '\n')) off++;
    if (off < len) {
        fjson_object_put(*root);
        *root = NULL;
        return json_err(L, text, len, off, "the end of the JSON document", NULL);
    }
    size_t k1, k2;
    if (ctx_jpos_dup_key(text, len, &k1, &k2)) { /* as the other files: a repeated key is an error */
        fjson_object_put(*root);
        *root = NULL;
        char why[96];
        snprintf(why, sizeof why, "the same key on line %d", line_of(text, k1));
        return json_err(L, text, len, k2, "keys that appear once in their object", why);
    }
    return 0;
}

int ctx_fieldmap_parse(const char *text, size_t len, const char *name, ctx_fieldmap **out, char *err, size_t errlen) {
    struct loader L = {name != NULL ? name : "(fieldmap)", err, errlen};
    struct fjson_object *root;
    if (err != NULL && errlen > 0) err[0] = '\0';
    if (out == NULL || (text == NULL && len > 0)) return CTX_EINVAL;
    *out = NULL;
    if (len > CTX_FM_MAX_FILE) return lerr(&L, "", "a mapping of at most 1048576 bytes", "more");
    int rc = parse_json(&L, text != NULL ? text : "", len, &root);
    if (rc < 0) return rc;
    ctx_fieldmap *m = calloc(1, sizeof *m);
    if (m == NULL) {
        fjson_object_put(root);
        return CTX_ENOMEM;
    }
    rc = load_root(&L, root, m);
    fjson_object_put(root);
    if (rc < 0) {
        if (rc == CTX_ENOMEM && err != NULL && errlen > 0) snprintf(err, errlen, "%s: out of memory", L.name);
        ctx_fieldmap_free(m);
        return rc;
    }
    *out = m;
    return 0;
}

static int parse_file(const char *buf, size_t len, const char *name, void *out, char *err, size_t errlen) {
    return ctx_fieldmap_parse(buf, len, name, out, err, errlen);
}

int ctx_fieldmap_load(const char *path, ctx_fieldmap **out, char *err, size_t errlen) {
    if (err != NULL && errlen > 0) err[0] = '\0';
    if (out == NULL || path == NULL) return CTX_EINVAL;
    *out = NULL;
    return ctx_cfg_load(path, "field mapping file", CTX_FM_MAX_FILE, parse_file, out, err, errlen);
}
