/* secretfile.h: is a file fit to hold a secret (a token, a password, a private key, an
 * HMAC key)? One rule for every secret ctxlog reads:
 *   - refused: not a regular file; writable by every user; owned by a user other
 *     than root and the user rsyslogd runs as (that user could replace the secret);
 *   - warned: readable or writable by its group, or readable by every user (chmod 0600).
 *
 * Directories holding tenants' data have their own rule (ctx_private_dir_check).
 *
 * Thread-safety: pure functions.
 */
#ifndef CTXLOG_SECRETFILE_H
#define CTXLOG_SECRETFILE_H

#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>

enum { CTX_SECRET_OK = 0, CTX_SECRET_WARN = 1, CTX_SECRET_REFUSE = -1 };

/* The verdict on a file with status st, for a process running as euid. On WARN and
 * REFUSE, msg receives why, naming nothing but the mode and owner ("readable by its
 * group (mode 0640): expected 0600"); the caller prefixes the file's name. */
int ctx_secret_check(const struct stat *st, uid_t euid, char *msg, size_t msglen);

/* The same for a directory that holds tenants' data (a spool, dead letters), from its
 * lstat(): refused when a symbolic link or not a directory, owned by a user other than
 * root and euid, or writable by its group or every user (another user could plant
 * files or links in it); warned when readable or searchable by every user. */
int ctx_private_dir_check(const struct stat *lst, uid_t euid, char *msg, size_t msglen);

#endif
