/* jsonpos.c: text positions in a JSON document (see jsonpos.h).
 *
 * Concurrency: pure functions over a caller's buffer; no state.
 */
#include "jsonpos.h"

#include <string.h>


static int jpos_blank(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

size_t ctx_jpos_ws(const char *b, size_t n, size_t i) {
    while (i < n && jpos_blank(b[i])) i++;
    return i;
}

/* i at the opening quote (" or '); returns the offset after the closing one. */
static size_t jpos_str_end(const char *b, size_t n, size_t i) {
    char q = b[i];
    for (i++; i < n; i++) {
        if (b[i] == '\\') i++;
        else if (b[i] == q) return i + 1;
    }
    return n;
}

/* Offset just after the value that starts at i. */
size_t ctx_jpos_skip(const char *b, size_t n, size_t i) {
    long depth = 0;
    while (i < n) {
        char c = b[i];
        if (c == '"' || c == '\'') {
            i = jpos_str_end(b, n, i);
            if (depth == 0) return i;
            continue;
        }
        if (c == '{' || c == '[') {
            depth++;
        } else if (c == '}' || c == ']') {
            if (--depth <= 0) return depth == 0 ? i + 1 : i;
        } else if (depth == 0 && (c == ',' || jpos_blank(c))) {
            return i;
        }
        i++;
    }
    return n;
}

/* Next member of the object being walked; *pos starts just after its '{'. */
int ctx_jpos_member_next(const char *b, size_t n, size_t *pos, struct ctx_jmember *m) {
    size_t i = ctx_jpos_ws(b, n, *pos);
    if (i < n && b[i] == ',') i = ctx_jpos_ws(b, n, i + 1);
    if (i >= n || (b[i] != '"' && b[i] != '\'')) return 0;
    m->key = i;
    m->key_end = jpos_str_end(b, n, i);
    i = ctx_jpos_ws(b, n, m->key_end);
    if (i >= n || b[i] != ':') return 0;
    m->val = ctx_jpos_ws(b, n, i + 1);
    size_t end = ctx_jpos_skip(b, n, m->val);
    if (end <= m->val) return 0;
    *pos = end;
    return 1;
}

/* Next element of the array being walked; *pos starts just after its '['. */
int ctx_jpos_elem_next(const char *b, size_t n, size_t *pos, size_t *val) {
    size_t i = ctx_jpos_ws(b, n, *pos);
    if (i < n && b[i] == ',') i = ctx_jpos_ws(b, n, i + 1);
    if (i >= n || b[i] == ']') return 0;
    size_t end = ctx_jpos_skip(b, n, i);
    if (end <= i) return 0;
    *val = i;
    *pos = end;
    return 1;
}

int ctx_jpos_key_is(const char *b, const struct ctx_jmember *m, const char *key) {
    size_t kl = strlen(key);
    return m->key_end - m->key == kl + 2 && memcmp(b + m->key + 1, key, kl) == 0;
}

int ctx_jpos_find_member(const char *b, size_t n, size_t obj, const char *key, struct ctx_jmember *m) {
    size_t pos = obj + 1;
    if (obj >= n || b[obj] != '{') return 0;
    while (ctx_jpos_member_next(b, n, &pos, m))
        if (ctx_jpos_key_is(b, m, key)) return 1;
    return 0;
}

int ctx_jpos_find_elem(const char *b, size_t n, size_t arr, long idx, size_t *val) {
    size_t pos = arr + 1;
    if (arr >= n || b[arr] != '[') return 0;
    for (long k = 0; ctx_jpos_elem_next(b, n, &pos, val); k++)
        if (k == idx) return 1;
    return 0;
}

unsigned ctx_jpos_line(const char *b, size_t n, size_t off) {
    unsigned line = 1;
    for (size_t i = 0; i < off && i < n; i++) line += (b[i] == '\n');
    return line;
}

size_t ctx_jpos_column(const char *b, size_t n, size_t off) {
    size_t i = off < n ? off : n;
    while (i > 0 && b[i - 1] != '\n') i--;
    return off - i + 1;
}

/* a repeated key among the members of the object at obj ('{'): 1, offsets set */
static int dup_in_object(const char *b, size_t n, size_t obj, size_t *first, size_t *second) {
    struct ctx_jmember m, o;
    size_t pos = obj + 1;
    while (ctx_jpos_member_next(b, n, &pos, &m)) {
        size_t p2 = obj + 1, len = m.key_end - m.key;
        while (ctx_jpos_member_next(b, n, &p2, &o) && o.key < m.key) {
            if (o.key_end - o.key == len && memcmp(b + o.key, b + m.key, len) == 0) {
                *first = o.key;
                *second = m.key;
                return 1;
            }
        }
    }
    return 0;
}

int ctx_jpos_dup_key(const char *b, size_t n, size_t *first, size_t *second) {
    int in_str = 0;
    char quote = 0;
    for (size_t i = 0; i < n; i++) {
        char c = b[i];
        if (in_str) {
            if (c == '\\') i++;
            else if (c == quote) in_str = 0;
        } else if (c == '"' || c == '\'') {
            in_str = 1;
            quote = c;
        } else if (c == '{' && dup_in_object(b, n, i, first, second)) {
            return 1;
        }
    }
    return 0;
}
