/* ctxlog_common.h: conventions shared by every unit of common/.
 *
 * common/ is plain C with no rsyslog header, so that each unit can be tested
 * alone. Functions return int: 0 (or a non-negative count) on success, or a
 * negative CTX_E* code; a function that can fail for a reason the operator must
 * read takes a caller-provided error buffer (char *err, size_t errlen) and fills
 * it with one line naming the file / key / line and what was expected.
 * Every x_new() has an x_free(); x_free(NULL) is a no-op.
 */
#ifndef CTXLOG_COMMON_H
#define CTXLOG_COMMON_H

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

#define CTX_OK 0
#define CTX_ENOMEM (-1)     /* allocation failed */
#define CTX_EINVAL (-2)     /* invalid argument or input */
#define CTX_EIO (-3)        /* I/O error (errno is set) */
#define CTX_EPARSE (-4)     /* malformed file / record; err buffer says where */
#define CTX_ETRUNC (-5)     /* input truncated */
#define CTX_ENOENT (-6)     /* not found */
#define CTX_EFULL (-7)      /* a configured bound was reached */
#define CTX_EAGAIN (-8)     /* try again later (e.g. more input needed) */

/* each module compiles the common/ units it uses and exports only modInit (version
 * script), so two modules never see each other's copy */
#define CTX_ERRLEN 512

/* Writes the formatted message into the caller's error buffer (nothing when err is
 * NULL or errlen 0). */
static inline void ctx_errf(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static inline void ctx_errf(char *err, size_t errlen, const char *fmt, ...) {
    va_list ap;
    if (err == NULL || errlen == 0) return;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

#endif
