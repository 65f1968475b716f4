/* cfgfile.h: the one way every ctxlog configuration file is read (profiles, policy,
 * field mapping, tenants, redaction rules): whole, bounded, with one wording of errors.
 *
 *   PATH: cannot read: REASON                                (CTX_EIO: strerror, or "not a regular file")
 *   PATH: larger than N bytes, the most a WHAT may be        (CTX_EFULL)
 *
 * Thread-safety: reentrant.
 */
#ifndef CTXLOG_CFGFILE_H
#define CTXLOG_CFGFILE_H

#include <stddef.h>

/* Reads the file at path, at most max_bytes, into *buf (malloc'd, NUL-terminated; the
 * caller frees it) and *len. what names the kind of file in the too-large message
 * ("policy file"). Returns 0, CTX_EIO, CTX_EFULL or CTX_ENOMEM; err (may be NULL)
 * receives the message. */
int ctx_cfg_read(const char *path, const char *what, size_t max_bytes, char **buf, size_t *len, char *err,
                 size_t errlen);

/* A parser of a whole file's text (name: the file's, for messages) into *out, where
 * out is the loader's result pointer (a T **). */
typedef int (*ctx_cfg_parse_fn)(const char *buf, size_t len, const char *name, void *out, char *err, size_t errlen);

/* A loader's body: reads path with ctx_cfg_read() and hands the text to parse, then
 * frees it. err may be NULL (then a private buffer takes the message); it is set to ""
 * first. Returns ctx_cfg_read()'s error or parse's result. */
int ctx_cfg_load(const char *path, const char *what, size_t max_bytes, ctx_cfg_parse_fn parse, void *out, char *err,
                 size_t errlen);

#endif
