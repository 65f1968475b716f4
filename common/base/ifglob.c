/* ifglob.c: checking, compiling and matching glob patterns for interface names.
 *
 * Concurrency: a ctx_ifglob_t is immutable after ctx_ifglob_new_*() returns; any
 * number of threads may match against it at once. ctx_ifglob_check() and
 * ctx_ifglob_match_one() are pure functions.
 */
#include "ifglob.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctxlog_common.h"

struct ifpat {
    char *text;           /* the pattern as given (trimmed), NUL-terminated */
    unsigned short prefix; /* bytes before the first wildcard: compared with memcmp first */
    unsigned char literal; /* 1: no wildcard, matched with strcmp */
};

struct ctx_ifglob {
    size_t n;            /* number of patterns */
    struct ifpat *pats;  /* n patterns, in list order */
};

static int name_char(unsigned char c) {
    return c > 0x20 && c < 0x7f && c != '/' && c != ':' && c != '\\';
}

static int fail(char *reason, size_t rl, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(char *reason, size_t rl, const char *fmt, ...) {
    if (reason != NULL && rl > 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(reason, rl, fmt, ap);
        va_end(ap);
    }
    return CTX_EINVAL;
}

static int bad_char(const char *p, size_t i, char *reason, size_t rl) {
    unsigned char c = (unsigned char)p[i];
    if (c == ':' && i > 0 && p[i - 1] == '[')
        return fail(reason, rl, "character classes like [:digit:] are not supported, write e.g. [0-9]");
    if (c == '\\') return fail(reason, rl, "'\\' at offset %zu: escapes are not supported", i);
    if (c > 0x20 && c < 0x7f)
        return fail(reason, rl, "character '%c' at offset %zu is not allowed in an interface name", c, i);
    return fail(reason, rl, "byte 0x%02x at offset %zu is not allowed in an interface name (no blanks or control "
                "characters)", c, i);
}

/* Checks the set that opens at p[i] == '['; on success *next is the offset after its ']'. */
static int check_set(const char *p, size_t i, size_t *next, char *reason, size_t rl) {
    size_t j = i + 1;
    if (p[j] == '!' || p[j] == '^') j++;
    size_t start = j;
    for (;;) {
        unsigned char c = (unsigned char)p[j];
        if (c == '\0') return fail(reason, rl, "'[' at offset %zu is not closed", i);
        if (c == ']' && j > start) break;
        if (c == '[') return fail(reason, rl, "'[' at offset %zu inside a set is not supported (write e.g. [0-9])", j);
        if (!name_char(c)) return bad_char(p, j, reason, rl);
        if (p[j + 1] == '-' && p[j + 2] != ']' && p[j + 2] != '\0') {
            unsigned char hi = (unsigned char)p[j + 2];
            if (hi == '[' || !name_char(hi)) return hi == '[' ? fail(reason, rl, "'[' at offset %zu inside a set is "
                                                                      "not supported (write e.g. [0-9])", j + 2)
                                                              : bad_char(p, j + 2, reason, rl);
            if (hi < c) return fail(reason, rl, "range '%c-%c' at offset %zu is reversed", c, hi, j);
            j += 3;
        } else {
            j++;
        }
    }
    *next = j + 1;
    return 0;
}

int ctx_ifglob_check(const char *p, char *reason, size_t rl) {
    if (p == NULL) return fail(reason, rl, "no pattern");
    size_t len = strlen(p), minlen = 0, i = 0;
    int wild = 0;
    if (len == 0) return fail(reason, rl, "empty pattern");
    if (len > CTX_IFGLOB_MAXLEN) return fail(reason, rl, "longer than %d bytes", CTX_IFGLOB_MAXLEN);
    while (i < len) {
        unsigned char c = (unsigned char)p[i];
        if (c == '*') {
            wild = 1;
            i++;
        } else if (c == '[') {
            int r = check_set(p, i, &i, reason, rl);
            if (r < 0) return r;
            wild = 1;
            minlen++;
        } else {
            if (c != '?' && !name_char(c)) return bad_char(p, i, reason, rl);
            wild |= (c == '?');
            minlen++;
            i++;
        }
    }
    if (minlen > CTX_IFNAME_MAXLEN)
        return fail(reason, rl, "can never match: it needs names of at least %zu bytes, interface names have at most %d",
                    minlen, CTX_IFNAME_MAXLEN);
    if (!wild && (strcmp(p, ".") == 0 || strcmp(p, "..") == 0))
        return fail(reason, rl, "\".\" and \"..\" are not interface names");
    return wild;
}

/* Matches byte c against the set opening at *pp == '[' and moves *pp past its ']'.
 * Returns 1 / 0, or -1 if the set is not closed (an unchecked pattern). */
static int set_match(const char **pp, unsigned char c) {
    const char *p = *pp + 1;
    int neg = 0, hit = 0;
    if (*p == '!' || *p == '^') {
        neg = 1;
        p++;
    }
    const char *start = p;
    while (*p != ']' || p == start) {
        unsigned char lo = (unsigned char)*p, hi = lo;
        if (lo == '\0') return -1;
        if (p[1] == '-' && p[2] != ']' && p[2] != '\0') {
            hi = (unsigned char)p[2];
            p += 3;
        } else {
            p++;
        }
        if (c >= lo && c <= hi) hit = 1;
    }
    *pp = p + 1;
    return hit != neg;
}

int ctx_ifglob_match_one(const char *p, const char *s) {
    const char *star_p = NULL, *star_s = NULL;
    if (p == NULL || s == NULL) return 0;
    while (*s != '\0') {
        if (*p == '*') {
            while (*p == '*') p++;
            if (*p == '\0') return 1;
            star_p = p;
            star_s = s;
            continue;
        }
        if (*p == '?' || (*p != '[' && *p != '\0' && *p == *s)) {
            p++;
            s++;
            continue;
        }
        if (*p == '[') {
            const char *q = p;
            int r = set_match(&q, (unsigned char)*s);
            if (r < 0) return 0;
            if (r == 1) {
                p = q;
                s++;
                continue;
            }
        }
        if (star_p == NULL) return 0;
        p = star_p;
        s = ++star_s;
    }
    while (*p == '*') p++;
    return *p == '\0';
}

void ctx_ifglob_free(ctx_ifglob_t *g) {
    if (g == NULL) return;
    for (size_t i = 0; i < g->n; i++) free(g->pats[i].text);
    free(g->pats);
    free(g);
}

/* Writes s (n bytes) as a quoted string, non-printables as \xNN, cut at 48 bytes. */
static void quote(char *dst, size_t dl, const char *s, size_t n) {
    size_t o = 0;
    if (dl < 8) {
        if (dl > 0) dst[0] = '\0';
        return;
    }
    dst[o++] = '"';
    for (size_t i = 0; i < n && o + 6 < dl; i++) {
        unsigned char c = (unsigned char)s[i];
        if (i == 48) {
            o += (size_t)snprintf(dst + o, dl - o, "...");
            break;
        }
        if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\')
            o += (size_t)snprintf(dst + o, dl - o, c == '"' || c == '\\' ? "\\%c" : "\\x%02x", c);
        else
            dst[o++] = (char)c;
    }
    if (o + 1 < dl) dst[o++] = '"';
    dst[o < dl ? o : dl - 1] = '\0';
}

/* Checks and stores pattern number idx (0-based) of n bytes into g->pats[g->n]. */
static int add_pattern(ctx_ifglob_t *g, const char *text, size_t n, size_t idx, char *err, size_t errlen) {
    char reason[160], q[80];
    char *copy = strndup(text, n);
    if (copy == NULL) return CTX_ENOMEM;
    int r = strlen(copy) != n ? fail(reason, sizeof reason, "NUL byte in pattern")
                              : ctx_ifglob_check(copy, reason, sizeof reason);
    if (r < 0) {
        quote(q, sizeof q, text, n);
        fail(err, errlen, "pattern %zu %s: %s", idx + 1, q, reason);
        free(copy);
        return r;
    }
    struct ifpat *pt = &g->pats[g->n++];
    pt->text = copy;
    pt->literal = r == 0;
    pt->prefix = (unsigned short)strcspn(copy, "*?[");
    return 0;
}

static ctx_ifglob_t *alloc_list(size_t n) {
    ctx_ifglob_t *g = calloc(1, sizeof *g);
    if (g == NULL) return NULL;
    g->pats = calloc(n ? n : 1, sizeof *g->pats);
    if (g->pats == NULL) {
        free(g);
        return NULL;
    }
    return g;
}

static int out_of_memory(char *err, size_t errlen) {
    fail(err, errlen, "out of memory");
    return CTX_ENOMEM;
}

int ctx_ifglob_new_array(const char *const *patterns, size_t n, ctx_ifglob_t **out, char *err, size_t errlen) {
    if (out == NULL) return CTX_EINVAL;
    *out = NULL;
    if (n > 0 && patterns == NULL) return fail(err, errlen, "no patterns");
    if (n > CTX_IFGLOB_MAXCOUNT) return fail(err, errlen, "more than %d patterns", CTX_IFGLOB_MAXCOUNT);
    ctx_ifglob_t *g = alloc_list(n);
    if (g == NULL) return out_of_memory(err, errlen);
    for (size_t i = 0; i < n; i++) {
        const char *p = patterns[i] ? patterns[i] : "";
        int r = add_pattern(g, p, strlen(p), i, err, errlen);
        if (r < 0) {
            ctx_ifglob_free(g);
            return r;
        }
    }
    *out = g;
    return 0;
}

static int is_blank(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

int ctx_ifglob_new_csv(const char *list, ctx_ifglob_t **out, char *err, size_t errlen) {
    if (out == NULL) return CTX_EINVAL;
    *out = NULL;
    if (list == NULL) return fail(err, errlen, "no pattern list");
    size_t n = 1;
    for (const char *c = list; *c; c++) n += (*c == ',');
    if (n > CTX_IFGLOB_MAXCOUNT) return fail(err, errlen, "more than %d patterns", CTX_IFGLOB_MAXCOUNT);
    ctx_ifglob_t *g = alloc_list(n);
    if (g == NULL) return out_of_memory(err, errlen);
    const char *item = list;
    for (size_t i = 0; i < n; i++) {
        const char *end = strchr(item, ',');
        if (end == NULL) end = item + strlen(item);
        const char *b = item, *e = end;
        while (b < e && is_blank(*b)) b++;
        while (e > b && is_blank(e[-1])) e--;
        int r = b == e ? fail(err, errlen, "pattern %zu is empty (list \"%.64s\")", i + 1, list)
                       : add_pattern(g, b, (size_t)(e - b), i, err, errlen);
        if (r < 0) {
            ctx_ifglob_free(g);
            return r;
        }
        item = end + 1;
    }
    *out = g;
    return 0;
}

int ctx_ifglob_match(const ctx_ifglob_t *g, const char *name) {
    if (g == NULL || name == NULL) return CTX_ENOENT;
    for (size_t i = 0; i < g->n; i++) {
        const struct ifpat *pt = &g->pats[i];
        if (pt->literal) {
            if (strcmp(pt->text, name) == 0) return (int)i;
            continue;
        }
        if (strncmp(pt->text, name, pt->prefix) != 0) continue;
        if (ctx_ifglob_match_one(pt->text + pt->prefix, name + pt->prefix)) return (int)i;
    }
    return CTX_ENOENT;
}

size_t ctx_ifglob_count(const ctx_ifglob_t *g) {
    return g ? g->n : 0;
}

const char *ctx_ifglob_pattern(const ctx_ifglob_t *g, size_t i) {
    return g && i < g->n ? g->pats[i].text : NULL;
}

int ctx_ifglob_is_literal(const ctx_ifglob_t *g, size_t i) {
    return g && i < g->n ? g->pats[i].literal : 0;
}
