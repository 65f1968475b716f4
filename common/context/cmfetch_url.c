/* cmfetch_url.c: URL templates of the compute-manager fetcher: their placeholders
 * ({uuid}, {name}, {host}, {section.field}), checks and expansion (percent-encoded).
 * Pure functions; thread-safe. */
#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "cmfetch.h"
#include "cmfetch_int.h"
#include "ctxlog_common.h"

static bool word_char(char c) { return isalnum((unsigned char)c) || c == '_'; }

int cmfetch_next_placeholder(const char *tmpl, size_t *pos, const char **name, size_t *namelen) {
    const char *p = strchr(tmpl + *pos, '{');
    if (p == NULL) return 0;
    const char *q = p + 1;
    int dots = 0;
    while (word_char(*q) || (*q == '.' && dots++ == 0 && q > p + 1 && word_char(q[1]))) q++;
    if (*q != '}' || q == p + 1 || q - p - 1 > 64) {
        *pos = (size_t)(p - tmpl);
        return CTX_EINVAL;
    }
    *name = p + 1;
    *namelen = (size_t)(q - p - 1);
    *pos = (size_t)(q + 1 - tmpl);
    return 1;
}

bool cmfetch_is(const char *name, size_t n, const char *lit) { return strlen(lit) == n && !memcmp(name, lit, n); }

int cmfetch_check_url(const char *key, const char *tmpl, bool allow_ph, bool allow_http, char *err, size_t errlen) {
    if (tmpl == NULL) return CTX_OK;
    if (strncasecmp(tmpl, "http://", 7) != 0 && strncasecmp(tmpl, "https://", 8) != 0) {
        snprintf(err, errlen, "%s: '%s' must start with http:// or https://", key, tmpl);
        return CTX_EINVAL;
    }
    if (!allow_http && strncasecmp(tmpl, "http://", 7) == 0) {
        snprintf(err, errlen, "%s: '%s' would send the token and the VMs' data in clear: expected https://, or "
                 "cm.allowInsecure=\"on\"", key, tmpl);
        return CTX_EINVAL;
    }
    for (const char *p = tmpl; *p; p++)
        if ((unsigned char)*p <= ' ' || *p == 0x7f) {
            snprintf(err, errlen, "%s: control character or space at offset %zu", key, (size_t)(p - tmpl));
            return CTX_EINVAL;
        }
    size_t pos = 0, n;
    const char *name;
    int rc;
    while ((rc = cmfetch_next_placeholder(tmpl, &pos, &name, &n)) != 0) {
        bool vm = rc > 0 && (cmfetch_is(name, n, "uuid") || cmfetch_is(name, n, "name"));
        if (rc < 0 || (!vm && !cmfetch_is(name, n, "host") && memchr(name, '.', n) == NULL)) {
            const char *b = tmpl + (rc < 0 ? pos : (size_t)(name - 1 - tmpl));
            const char *e = strchr(b, '}');
            int show = e != NULL && e - b < 72 ? (int)(e - b + 1) : 1;
            snprintf(err, errlen, "%s: unknown placeholder '%.*s' at offset %zu (expected {uuid}, {name}, {host} or "
                     "{section.field})", key, show, b, (size_t)(b - tmpl));
            return CTX_EINVAL;
        }
        if (vm && !allow_ph) {
            snprintf(err, errlen, "%s: placeholder {%.*s} not allowed in the bulk URL", key, (int)n, name);
            return CTX_EINVAL;
        }
    }
    return CTX_OK;
}

static size_t escape_into(const char *s, char *out, size_t room) {
    static const char hex[] = "0123456789ABCDEF";
    size_t n = 0;
    for (; s != NULL && *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (isalnum(ch) || ch == '-' || ch == '.' || ch == '_' || ch == '~') {
            if (n + 1 < room) out[n] = (char)ch;
            n++;
        } else {
            if (n + 3 < room) { out[n] = '%'; out[n + 1] = hex[ch >> 4]; out[n + 2] = hex[ch & 15]; }
            n += 3;
        }
    }
    return n;
}

int cmfetch_expand_with(const char *tmpl, cmfetch_value_fn fn, void *arg, char *out, size_t outlen) {
    if (tmpl == NULL || out == NULL || outlen == 0) return CTX_EINVAL;
    size_t n = 0, pos = 0, len, last = 0;
    const char *name;
    char buf[1024];
    int rc;
    for (;;) {
        rc = cmfetch_next_placeholder(tmpl, &pos, &name, &len);
        if (rc < 0) { out[0] = '\0'; return CTX_EINVAL; }
        size_t lit = rc > 0 ? (size_t)(name - 1 - tmpl) - last : strlen(tmpl + last);
        if (n + lit < outlen) memcpy(out + n, tmpl + last, lit);
        n += lit;
        if (rc == 0) break;
        const char *val = NULL;
        int vr = fn(arg, name, len, buf, sizeof buf, &val);
        if (vr < 0) { out[0] = '\0'; return vr; }
        n += escape_into(val, n < outlen ? out + n : out, n < outlen ? outlen - n : 0);
        last = pos;
    }
    if (n >= outlen) { out[0] = '\0'; return CTX_EFULL; }
    out[n] = '\0';
    return (int)n;
}

struct simple { const char *uuid, *name; };

static int simple_value(void *arg, const char *name, size_t n, char *buf, size_t buflen, const char **val) {
    const struct simple *s = arg;
    (void)buf, (void)buflen;
    if (cmfetch_is(name, n, "uuid")) *val = s->uuid;
    else if (cmfetch_is(name, n, "name")) *val = s->name;
    else return CTX_EINVAL;
    return CTX_OK;
}

int cmfetch_expand(const char *tmpl, const char *uuid, const char *name, char *out, size_t outlen) {
    struct simple s = {uuid, name};
    return cmfetch_expand_with(tmpl, simple_value, &s, out, outlen);
}
