/* cmfetch_int.h: what cmfetch.c and cmfetch_url.c share. Internal: use cmfetch.h. */
#ifndef CTXLOG_CMFETCH_INT_H
#define CTXLOG_CMFETCH_INT_H

#include <stdbool.h>
#include <stddef.h>

/* 1 if the n bytes at name are the literal lit */
bool cmfetch_is(const char *name, size_t n, const char *lit);

/* Checks a URL template for key: scheme (http:// only with allow_http), no spaces or
 * control characters, known placeholders ({uuid} / {name} only with allow_ph). 0, or
 * CTX_EINVAL with "key: ..." in err. NULL is fine. */
int cmfetch_check_url(const char *key, const char *tmpl, bool allow_ph, bool allow_http, char *err, size_t errlen);

/* A placeholder's raw value: 0 and *val (may point into buf), or CTX_ENOENT / CTX_EFULL /
 * CTX_EINVAL. */
typedef int (*cmfetch_value_fn)(void *arg, const char *name, size_t n, char *buf, size_t buflen, const char **val);

/* Expands tmpl into out, each placeholder's value from fn, percent-encoded. Length, or
 * CTX_EINVAL (bad template) / CTX_EFULL / fn's error (out is then ""). */
int cmfetch_expand_with(const char *tmpl, cmfetch_value_fn fn, void *arg, char *out, size_t outlen);

#endif
