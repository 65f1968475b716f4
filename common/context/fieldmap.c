/* fieldmap.c: apply a compute-manager field mapping to parsed replies (loading: fieldmap_load.c)
 * (format: docs/fieldmap.md).
 *
 * Concurrency: a ctx_fieldmap is built by one thread and read-only afterwards; the apply
 * functions keep all state on the stack and only read the reply (fjson_object_get_* calls that do
 * not cache anything in it), so any number of threads may apply one map, to the same reply or
 * different ones, at once.
 */
#include "fieldmap_int.h"

/* ------------------------------------------------------------------ JSON pointers */

void fm_jptr_free(struct jptr *p) {
    for (size_t i = 0; i < p->n; i++) free(p->tok[i]);
    free(p->tok);
    free(p->idx);
    free(p->text);
    memset(p, 0, sizeof *p);
}

static long token_index(const char *t) {
    size_t len = strlen(t);
    if (len == 0 || len > 9 || (len > 1 && t[0] == '0')) return -1;
    long v = 0;
    for (size_t i = 0; i < len; i++) {
        if (t[i] < '0' || t[i] > '9') return -1;
        v = v * 10 + (t[i] - '0');
    }
    return v;
}

/* Unescapes one reference token of length len into a new string; NULL on a bad escape (*bad set)
 * or allocation failure. */
static char *token_dup(const char *s, size_t len, int *bad) {
    char *t = malloc(len + 1);
    size_t o = 0;
    if (t == NULL) return NULL;
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '~') {
            if (i + 1 >= len || (s[i + 1] != '0' && s[i + 1] != '1')) {
                *bad = 1;
                free(t);
                return NULL;
            }
            t[o++] = s[++i] == '0' ? '~' : '/';
        } else {
            t[o++] = s[i];
        }
    }
    t[o] = '\0';
    return t;
}

/* Returns 0, CTX_EINVAL (not a pointer) or CTX_ENOMEM. */
int fm_jptr_compile(const char *text, struct jptr *p) {
    memset(p, 0, sizeof *p);
    if (text[0] != '\0' && text[0] != '/') return CTX_EINVAL;
    size_t n = 0;
    for (const char *c = text; *c; c++) n += *c == '/';
    p->text = strdup(text);
    p->tok = calloc(n + 1, sizeof *p->tok);
    p->idx = calloc(n + 1, sizeof *p->idx);
    if (p->text == NULL || p->tok == NULL || p->idx == NULL) return CTX_ENOMEM;
    const char *c = text;
    while (*c == '/') {
        const char *e = strchr(c + 1, '/');
        size_t len = e ? (size_t)(e - c - 1) : strlen(c + 1);
        int bad = 0;
        if ((p->tok[p->n] = token_dup(c + 1, len, &bad)) == NULL) return bad ? CTX_EINVAL : CTX_ENOMEM;
        p->idx[p->n] = token_index(p->tok[p->n]);
        p->n++;
        c += len + 1;
    }
    return 0;
}

/* 0 and *out (NULL for JSON null), or CTX_ENOENT. */
static int jptr_get(const struct jptr *p, struct fjson_object *root, struct fjson_object **out) {
    struct fjson_object *cur = root;
    for (size_t i = 0; i < p->n; i++) {
        enum fjson_type t = fjson_object_get_type(cur);
        if (cur == NULL) return CTX_ENOENT;
        if (t == fjson_type_object) {
            struct fjson_object *next = NULL;
            if (!fjson_object_object_get_ex(cur, p->tok[i], &next)) return CTX_ENOENT;
            cur = next;
        } else if (t == fjson_type_array) {
            if (p->idx[i] < 0 || p->idx[i] >= (long)fjson_object_array_length(cur)) return CTX_ENOENT;
            cur = fjson_object_array_get_idx(cur, (int)p->idx[i]);
        } else {
            return CTX_ENOENT;
        }
    }
    *out = cur;
    return 0;
}

int ctx_json_pointer_get(struct fjson_object *root, const char *ptr, struct fjson_object **out) {
    struct jptr p;
    if (ptr == NULL || out == NULL) return CTX_EINVAL;
    *out = NULL;
    int rc = fm_jptr_compile(ptr, &p);
    if (rc == 0) rc = root == NULL ? CTX_ENOENT : jptr_get(&p, root, out);
    fm_jptr_free(&p);
    return rc;
}

/* ------------------------------------------------------------------ conversions */

struct conv {
    int kind; /* problem kind, or -1 when fine */
    int got;  /* fjson type that caused it */
};

static int set_problem(struct conv *c, int kind, struct fjson_object *v) {
    c->kind = kind;
    c->got = (int)fjson_object_get_type(v);
    return -1;
}

static struct fjson_object *no_value(struct conv *c, int kind, struct fjson_object *v) {
    set_problem(c, kind, v);
    return NULL;
}

static size_t skip_digits(const char *s, size_t i, size_t len) {
    while (i < len && s[i] >= '0' && s[i] <= '9') i++;
    return i;
}

/* Strict decimal: optional blanks, sign, digits with optional fraction, optional exponent. */
static int parse_decimal(const char *s, size_t len, double *d) {
    char buf[64];
    while (len > 0 && (*s == ' ' || *s == '\t')) {
        s++;
        len--;
    }
    while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t')) len--;
    if (len == 0 || len >= sizeof buf) return -1;
    size_t i = (s[0] == '-' || s[0] == '+') ? 1 : 0;
    size_t int_end = skip_digits(s, i, len), digits = int_end - i;
    i = int_end;
    if (i < len && s[i] == '.') {
        size_t frac_end = skip_digits(s, i + 1, len);
        digits += frac_end - (i + 1);
        i = frac_end;
    }
    if (digits == 0) return -1;
    if (i < len && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < len && (s[i] == '-' || s[i] == '+')) i++;
        size_t exp_end = skip_digits(s, i, len);
        if (exp_end == i) return -1;
        i = exp_end;
    }
    if (i != len) return -1;
    memcpy(buf, s, len);
    buf[len] = '\0';
    *d = strtod(buf, NULL);
    return 0;
}

/* A JSON number, or a string holding one, as a double. */
static int to_double(struct fjson_object *v, double *d, struct conv *c) {
    switch (fjson_object_get_type(v)) {
        case fjson_type_int:
            *d = (double)fjson_object_get_int64(v);
            break;
        case fjson_type_double:
            *d = fjson_object_get_double(v);
            break;
        case fjson_type_string:
            if (parse_decimal(fjson_object_get_string(v), (size_t)fjson_object_get_string_len(v), d) < 0)
                return set_problem(c, CTX_FM_WRONG_TYPE, v);
            break;
        case fjson_type_null:
            return set_problem(c, CTX_FM_NULL, v);
        default:
            return set_problem(c, CTX_FM_WRONG_TYPE, v);
    }
    if (!isfinite(*d)) return set_problem(c, CTX_FM_RANGE, v);
    return 0;
}

static int resolve_double(const struct jptr *p, struct fjson_object *root, double *d, struct conv *c) {
    struct fjson_object *v = NULL;
    if (jptr_get(p, root, &v) < 0) return set_problem(c, CTX_FM_MISSING, NULL);
    return to_double(v, d, c);
}

/* "array" + "reduce": elements whose value is missing or not a number are skipped. */
static int reduce_array(const struct fmfield *f, struct fjson_object *root, double *d, struct conv *c) {
    struct fjson_object *arr = NULL;
    if (jptr_get(&f->arr, root, &arr) < 0) return set_problem(c, CTX_FM_MISSING, NULL);
    if (arr == NULL) return set_problem(c, CTX_FM_NULL, NULL);
    if (fjson_object_get_type(arr) != fjson_type_array) return set_problem(c, CTX_FM_WRONG_TYPE, arr);
    size_t n = 0, len = (size_t)fjson_object_array_length(arr);
    double acc = 0;
    for (size_t i = 0; i < len; i++) {
        double x;
        struct conv ignored;
        if (resolve_double(&f->ptr, fjson_object_array_get_idx(arr, (int)i), &x, &ignored) < 0) continue;
        if (n == 0)
            acc = x;
        else if (f->reduce == R_MIN)
            acc = x < acc ? x : acc;
        else if (f->reduce == R_MAX)
            acc = x > acc ? x : acc;
        else
            acc += x;
        n++;
    }
    if (n == 0) return set_problem(c, CTX_FM_MISSING, NULL);
    *d = f->reduce == R_AVG ? acc / (double)n : acc;
    return isfinite(*d) ? 0 : set_problem(c, CTX_FM_RANGE, arr);
}

/* The numeric value of a number / integer field after "array", "per" and "scale". */
static int field_double(const struct fmfield *f, struct fjson_object *root, double *d, struct conv *c) {
    int rc = f->reduce != R_NONE ? reduce_array(f, root, d, c) : resolve_double(&f->ptr, root, d, c);
    if (rc < 0) return rc;
    for (size_t i = 0; i < f->nper; i++) {
        double div;
        if (resolve_double(&f->per[i], root, &div, c) < 0) return -1;
        if (div == 0) return set_problem(c, CTX_FM_RANGE, NULL);
        *d /= div;
    }
    *d *= f->scale;
    return isfinite(*d) ? 0 : set_problem(c, CTX_FM_RANGE, NULL);
}

/* Shortest "%.Ng" that reads back as the same double. */
static void format_double(char *buf, size_t len, double d) {
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(buf, len, "%.*g", prec, d);
        if (strtod(buf, NULL) == d) return;
    }
}

/* Rounds to dec digits after the point, halves away from zero (like integers; printf alone would
 * round ties to even). Values too large to carry those digits are already integral. */
static double round_decimals(double d, int dec) {
    double p = 1;
    for (int i = 0; i < dec; i++) p *= 10;
    double x = d * p;
    if (!(x > -4503599627370496.0 && x < 4503599627370496.0)) return d; /* |x| >= 2^52 */
    return (double)(int64_t)(x + (x >= 0 ? 0.5 : -0.5)) / p;
}

/* Rounds to f->decimals and keeps that text, so "12.3" prints as 12.3, not 12.300000000000001. */
static struct fjson_object *make_number(const struct fmfield *f, double d) {
    char buf[64];
    d = round_decimals(d, f->decimals);
    if (d >= 1e15 || d <= -1e15) {
        format_double(buf, sizeof buf, d);
        return fjson_object_new_double_s(d, buf);
    }
    snprintf(buf, sizeof buf, "%.*f", f->decimals, d);
    char *dot = strchr(buf, '.');
    if (dot != NULL) {
        char *e = buf + strlen(buf) - 1;
        while (e > dot && *e == '0') *e-- = '\0';
        if (e == dot) *e = '\0';
    }
    if (strcmp(buf, "-0") == 0) strcpy(buf, "0");
    return fjson_object_new_double_s(strtod(buf, NULL), buf);
}

/* Nearest integer, halves away from zero (no libm: the cast truncates toward zero). */
static int double_to_int(double d, int64_t *i) {
    double r = d + (d >= 0 ? 0.5 : -0.5);
    if (!(r >= -9223372036854775808.0 && r < 9223372036854775808.0)) return -1;
    *i = (int64_t)r;
    return 0;
}

static struct fjson_object *conv_integer(const struct fmfield *f, struct fjson_object *root, struct conv *c) {
    struct fjson_object *v = NULL;
    int64_t i;
    if (f->reduce == R_NONE && f->nper == 0 && f->scale == 1.0) { /* exact path for plain integers */
        if (jptr_get(&f->ptr, root, &v) < 0) return no_value(c, CTX_FM_MISSING, NULL);
        if (fjson_object_get_type(v) == fjson_type_int) return fjson_object_new_int64(fjson_object_get_int64(v));
    }
    double d;
    if (field_double(f, root, &d, c) < 0) return NULL;
    if (double_to_int(d, &i) < 0) return no_value(c, CTX_FM_RANGE, v);
    return fjson_object_new_int64(i);
}

static struct fjson_object *conv_bool(struct fjson_object *v, struct conv *c) {
    switch (fjson_object_get_type(v)) {
        case fjson_type_boolean:
            return fjson_object_new_boolean(fjson_object_get_boolean(v));
        case fjson_type_int: {
            int64_t i = fjson_object_get_int64(v);
            if (i == 0 || i == 1) return fjson_object_new_boolean((fjson_bool)i);
            break;
        }
        case fjson_type_string: {
            const char *s = fjson_object_get_string(v);
            if (strcasecmp(s, "true") == 0) return fjson_object_new_boolean(1);
            if (strcasecmp(s, "false") == 0) return fjson_object_new_boolean(0);
            break;
        }
        case fjson_type_null:
            return no_value(c, CTX_FM_NULL, v);
        default:
            break;
    }
    return no_value(c, CTX_FM_WRONG_TYPE, v);
}

static struct fjson_object *conv_string(struct fjson_object *v, struct conv *c) {
    char buf[64];
    switch (fjson_object_get_type(v)) {
        case fjson_type_string:
            if (fjson_object_get_string_len(v) > CTX_FM_MAX_STRING) return no_value(c, CTX_FM_RANGE, v);
            return fjson_object_new_string_len(fjson_object_get_string(v), fjson_object_get_string_len(v));
        case fjson_type_int:
            snprintf(buf, sizeof buf, "%lld", (long long)fjson_object_get_int64(v));
            break;
        case fjson_type_double:
            if (!isfinite(fjson_object_get_double(v))) return no_value(c, CTX_FM_RANGE, v);
            format_double(buf, sizeof buf, fjson_object_get_double(v));
            break;
        case fjson_type_boolean:
            strcpy(buf, fjson_object_get_boolean(v) ? "true" : "false");
            break;
        case fjson_type_null:
            return no_value(c, CTX_FM_NULL, v);
        default:
            return no_value(c, CTX_FM_WRONG_TYPE, v);
    }
    return fjson_object_new_string(buf);
}

/* The converted value of one field, or NULL with c->kind set (or c->kind == -1: out of memory). */
static struct fjson_object *convert_field(const struct fmfield *f, struct fjson_object *root, struct conv *c) {
    struct fjson_object *v = NULL;
    double d;
    c->kind = -1;
    c->got = 0;
    if (f->type == CTX_FM_NUMBER) return field_double(f, root, &d, c) < 0 ? NULL : make_number(f, d);
    if (f->type == CTX_FM_INTEGER) return conv_integer(f, root, c);
    if (root == NULL || jptr_get(&f->ptr, root, &v) < 0) return no_value(c, CTX_FM_MISSING, NULL);
    return f->type == CTX_FM_BOOL ? conv_bool(v, c) : conv_string(v, c);
}

/* ------------------------------------------------------------------ apply */

static void note_problem(ctx_fm_problems *pr, size_t field, const struct conv *c) {
    if (pr == NULL || pr->n >= CTX_FM_MAX_FIELDS) return;
    pr->p[pr->n].field = (uint16_t)field;
    pr->p[pr->n].kind = (uint8_t)c->kind;
    pr->p[pr->n].got = (uint8_t)c->got;
    pr->n++;
    pr->count[c->kind]++;
}

static int apply_section(const struct fmsection *sec, struct fjson_object *root, struct fjson_object **out,
                         ctx_fm_problems *pr) {
    int nset = 0;
    if (pr != NULL) memset(pr, 0, sizeof *pr);
    if ((*out = fjson_object_new_object()) == NULL) return CTX_ENOMEM;
    for (size_t i = 0; i < sec->nf; i++) {
        struct conv c;
        struct fjson_object *v = convert_field(&sec->f[i], root, &c);
        if (v == NULL && c.kind < 0) goto nomem;
        if (v == NULL) {
            note_problem(pr, i, &c);
            continue;
        }
        fjson_object_object_add(*out, sec->f[i].name, v);
        nset++;
    }
    return nset;
nomem:
    fjson_object_put(*out);
    *out = NULL;
    return CTX_ENOMEM;
}

int ctx_fieldmap_apply(const ctx_fieldmap *m, ctx_fm_section s, struct fjson_object *reply, struct fjson_object **out,
                       ctx_fm_problems *probs) {
    if (out != NULL) *out = NULL;
    if (probs != NULL) memset(probs, 0, sizeof *probs);
    if (m == NULL || out == NULL || (unsigned)s >= CTX_FM_NSECTIONS || s == CTX_FM_BULK) return CTX_EINVAL;
    if (!m->sec[s].present) return CTX_ENOENT;
    return apply_section(&m->sec[s], reply, out, probs);
}

/* The key of one bulk item: a non-empty string without NUL, or an integer; lower-cased for uuids. */
static int item_key(const struct fmsection *sec, struct fjson_object *item, const char *name, char *buf, size_t len) {
    struct fjson_object *k = NULL;
    char num[32];
    const char *v = name;
    size_t n = name != NULL ? strlen(name) : 0;
    if (sec->has_key) {
        if (jptr_get(&sec->key, item, &k) < 0) return -1;
        if (fjson_object_get_type(k) == fjson_type_int) {
            snprintf(num, sizeof num, "%lld", (long long)fjson_object_get_int64(k));
            v = num;
            n = strlen(num);
        } else if (fjson_object_get_type(k) == fjson_type_string) {
            v = fjson_object_get_string(k);
            n = (size_t)fjson_object_get_string_len(k);
            if (strlen(v) != n) return -1;
        } else {
            return -1;
        }
    }
    if (v == NULL || n == 0 || n >= len) return -1;
    memcpy(buf, v, n + 1);
    if (sec->key_kind == CTX_FM_KEY_UUID)
        for (char *p = buf; *p; p++)
            if (*p >= 'A' && *p <= 'Z') *p = (char)(*p - 'A' + 'a');
    return 0;
}

struct bulk_run {
    const struct fmsection *sec;
    ctx_fm_bulk_cb cb;
    void *ud;
    size_t delivered, skipped;
};

/* Returns 1 to stop, 0 to go on, CTX_ENOMEM. */
static int bulk_item(struct bulk_run *br, struct fjson_object *item, const char *name) {
    char key[CTX_FM_MAX_KEY + 1];
    ctx_fm_problems pr;
    struct fjson_object *fields;
    if (item_key(br->sec, item, name, key, sizeof key) < 0) {
        br->skipped++;
        return 0;
    }
    int rc = apply_section(br->sec, item, &fields, &pr);
    if (rc < 0) return rc;
    br->delivered++;
    return br->cb(br->ud, key, fields, &pr) != 0;
}

static int bulk_object(struct bulk_run *br, struct fjson_object *items) {
    struct fjson_object_iterator it = fjson_object_iter_begin(items);
    struct fjson_object_iterator end = fjson_object_iter_end(items);
    for (; !fjson_object_iter_equal(&it, &end); fjson_object_iter_next(&it)) {
        int rc = bulk_item(br, fjson_object_iter_peek_value(&it), fjson_object_iter_peek_name(&it));
        if (rc != 0) return rc < 0 ? rc : 0;
    }
    return 0;
}

int ctx_fieldmap_apply_bulk(const ctx_fieldmap *m, struct fjson_object *reply, ctx_fm_bulk_cb cb, void *ud,
                            size_t *nskipped) {
    struct fjson_object *items = NULL;
    if (nskipped != NULL) *nskipped = 0;
    if (m == NULL || cb == NULL) return CTX_EINVAL;
    const struct fmsection *sec = &m->sec[CTX_FM_BULK];
    if (!sec->present) return CTX_ENOENT;
    if (reply == NULL || jptr_get(&sec->items, reply, &items) < 0) return CTX_ENOENT;
    struct bulk_run br = {sec, cb, ud, 0, 0};
    int rc = 0;
    if (fjson_object_get_type(items) == fjson_type_array) {
        size_t len = (size_t)fjson_object_array_length(items);
        for (size_t i = 0; i < len && rc == 0; i++)
            rc = bulk_item(&br, fjson_object_array_get_idx(items, (int)i), NULL);
        if (rc > 0) rc = 0;
    } else if (fjson_object_get_type(items) == fjson_type_object) {
        rc = bulk_object(&br, items);
    } else {
        return CTX_EINVAL;
    }
    if (nskipped != NULL) *nskipped = br.skipped;
    return rc < 0 ? rc : (int)br.delivered;
}

/* ------------------------------------------------------------------ accessors */

int ctx_fieldmap_has(const ctx_fieldmap *m, ctx_fm_section s) {
    return m != NULL && (unsigned)s < CTX_FM_NSECTIONS && m->sec[s].present;
}

const char *ctx_fieldmap_path(const ctx_fieldmap *m, ctx_fm_section s) {
    return ctx_fieldmap_has(m, s) ? m->sec[s].path : NULL;
}

size_t ctx_fieldmap_nfields(const ctx_fieldmap *m, ctx_fm_section s) {
    return ctx_fieldmap_has(m, s) ? m->sec[s].nf : 0;
}

const char *ctx_fieldmap_field_name(const ctx_fieldmap *m, ctx_fm_section s, size_t i) {
    return i < ctx_fieldmap_nfields(m, s) ? m->sec[s].f[i].name : NULL;
}

int ctx_fieldmap_field_type(const ctx_fieldmap *m, ctx_fm_section s, size_t i) {
    return i < ctx_fieldmap_nfields(m, s) ? m->sec[s].f[i].type : -1;
}

int ctx_fieldmap_bulk_key_kind(const ctx_fieldmap *m) {
    return ctx_fieldmap_has(m, CTX_FM_BULK) ? m->sec[CTX_FM_BULK].key_kind : -1;
}

const char *ctx_fm_problem_name(int kind) {
    static const char *const names[] = {"missing", "null", "wrong type", "out of range"};
    return kind >= 0 && kind < CTX_FM_NKINDS ? names[kind] : "?";
}

static const char *json_type_name(int t) {
    static const char *const names[] = {"null", "boolean", "number", "integer", "object", "array", "string"};
    return t >= 0 && t <= 6 ? names[t] : "?";
}

int ctx_fieldmap_problem_str(const ctx_fieldmap *m, ctx_fm_section s, const ctx_fm_problem *p, char *buf,
                             size_t buflen) {
    if (p == NULL || buf == NULL || buflen == 0 || p->field >= ctx_fieldmap_nfields(m, s)) return CTX_EINVAL;
    const struct fmfield *f = &m->sec[s].f[p->field];
    int n;
    if (p->kind == CTX_FM_WRONG_TYPE || (p->kind == CTX_FM_RANGE && p->got != 0))
        n = snprintf(buf, buflen, "%s (%s): %s (expected %s, got %s)", f->name, f->ptr.text,
                     ctx_fm_problem_name(p->kind), type_names[f->type], json_type_name(p->got));
    else
        n = snprintf(buf, buflen, "%s (%s): %s", f->name, f->ptr.text, ctx_fm_problem_name(p->kind));
    return n < 0 ? CTX_EINVAL : (n >= (int)buflen ? (int)buflen - 1 : n);
}

/* ------------------------------------------------------------------ free */

void fm_free_field(struct fmfield *f) {
    free(f->name);
    fm_jptr_free(&f->ptr);
    fm_jptr_free(&f->arr);
    for (size_t i = 0; i < FM_MAX_PER; i++) fm_jptr_free(&f->per[i]);
}

void ctx_fieldmap_free(ctx_fieldmap *m) {
    if (m == NULL) return;
    for (int s = 0; s < CTX_FM_NSECTIONS; s++) {
        struct fmsection *sec = &m->sec[s];
        for (size_t i = 0; i < sec->nf; i++) fm_free_field(&sec->f[i]);
        free(sec->f);
        free(sec->path);
        fm_jptr_free(&sec->items);
        fm_jptr_free(&sec->key);
    }
    for (size_t i = 0; i < m->nheaders; i++) free(m->headers[i]);
    free(m);
}

const char *ctx_fieldmap_section_name(ctx_fm_section s) {
    return (unsigned)s < CTX_FM_NSECTIONS ? section_names[s] : NULL;
}

int ctx_fieldmap_section_by_name(const char *name, size_t len) {
    for (int s = 0; s < CTX_FM_NSECTIONS; s++)
        if (strlen(section_names[s]) == len && memcmp(section_names[s], name, len) == 0) return s;
    return -1;
}

int ctx_fieldmap_field_index(const ctx_fieldmap *m, ctx_fm_section s, const char *name, size_t len) {
    if (!ctx_fieldmap_has(m, s)) return -1;
    for (size_t i = 0; i < m->sec[s].nf; i++)
        if (strlen(m->sec[s].f[i].name) == len && memcmp(m->sec[s].f[i].name, name, len) == 0) return (int)i;
    return -1;
}

size_t ctx_fieldmap_nheaders(const ctx_fieldmap *m) { return m != NULL ? m->nheaders : 0; }

const char *const *ctx_fieldmap_headers(const ctx_fieldmap *m) {
    return m != NULL ? (const char *const *)m->headers : NULL;
}
