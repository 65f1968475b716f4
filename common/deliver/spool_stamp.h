/* spool_stamp.h: a tenant's spool is bound to the tenant it was written for.
 *
 * The spool directory holds a file "stamp": one line, "tenant=ID dest-sha256=HEX", the
 * tenant's id and the SHA-256 of its destination (the https URL, or
 * "syslog-tls://host:port" / "plain-tcp://host:port"). A spool found with another stamp
 * was written for another customer or another destination (a tenant id reused, a URL
 * changed while rsyslogd was down): it is moved aside, never sent.
 *
 * Thread-safety: no shared state; one caller per directory at a time.
 */
#ifndef CTXLOG_SPOOL_STAMP_H
#define CTXLOG_SPOOL_STAMP_H

#include <stddef.h>

#define CTX_SPOOL_STAMP_LEN 160

/* The stamp line (with its "\n") of tenant and destination into out (CTX_SPOOL_STAMP_LEN).
 * 0, or CTX_EINVAL (arguments), CTX_EFULL (an id too long). */
int ctx_spool_stamp_make(const char *tenant, const char *destination, char *out, size_t outlen);

/* Before the spool in dir is opened: 0 when dir does not exist, has no stamp (a spool of
 * an earlier version: it is kept and stamped), or has this stamp. 1 when its stamp
 * differs: dir was renamed to "<dir>.quarantine-<UTC time>" (written into moved_to) and a
 * fresh spool will be made. CTX_EIO (err says why) when it cannot be read or moved. */
int ctx_spool_stamp_check(const char *dir, const char *stamp, char *moved_to, size_t movedlen, char *err,
                          size_t errlen);

/* Writes the stamp into dir (which must exist), atomically (temporary file + rename). */
int ctx_spool_stamp_write(const char *dir, const char *stamp, char *err, size_t errlen);

#endif
