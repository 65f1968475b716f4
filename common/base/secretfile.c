/* secretfile.c: owner and mode rules for files holding secrets (secretfile.h). */
#include "secretfile.h"

#include <stdio.h>

int ctx_secret_check(const struct stat *st, uid_t euid, char *msg, size_t msglen) {
    unsigned mode = (unsigned)(st->st_mode & 07777);
    if (!S_ISREG(st->st_mode)) {
        snprintf(msg, msglen, "not a regular file");
        return CTX_SECRET_REFUSE;
    }
    if (st->st_mode & S_IWOTH) {
        snprintf(msg, msglen, "writable by every user (mode %04o): expected 0600", mode);
        return CTX_SECRET_REFUSE;
    }
    if (st->st_uid != 0 && st->st_uid != euid) {
        snprintf(msg, msglen, "owned by uid %u, neither root nor the user rsyslogd runs as (uid %u)",
                 (unsigned)st->st_uid, (unsigned)euid);
        return CTX_SECRET_REFUSE;
    }
    if (st->st_mode & (S_IROTH | S_IRGRP | S_IWGRP)) {
        snprintf(msg, msglen, "%s (mode %04o): expected 0600",
                 (st->st_mode & S_IROTH) ? "readable by every user"
                 : (st->st_mode & S_IWGRP) ? "writable by its group"
                                           : "readable by its group",
                 mode);
        return CTX_SECRET_WARN;
    }
    return CTX_SECRET_OK;
}

int ctx_private_dir_check(const struct stat *lst, uid_t euid, char *msg, size_t msglen) {
    unsigned mode = (unsigned)(lst->st_mode & 07777);
    if (S_ISLNK(lst->st_mode) || !S_ISDIR(lst->st_mode)) {
        snprintf(msg, msglen, "%s", S_ISLNK(lst->st_mode) ? "a symbolic link: expected a directory" : "not a directory");
        return CTX_SECRET_REFUSE;
    }
    if (lst->st_uid != 0 && lst->st_uid != euid) {
        snprintf(msg, msglen, "owned by uid %u, neither root nor the user rsyslogd runs as (uid %u)",
                 (unsigned)lst->st_uid, (unsigned)euid);
        return CTX_SECRET_REFUSE;
    }
    if (lst->st_mode & (S_IWGRP | S_IWOTH)) {
        snprintf(msg, msglen, "writable by %s (mode %04o): expected 0700", (lst->st_mode & S_IWOTH) ? "every user" : "its group",
                 mode);
        return CTX_SECRET_REFUSE;
    }
    if (lst->st_mode & (S_IROTH | S_IXOTH)) {
        snprintf(msg, msglen, "open to every user (mode %04o): expected 0700", mode);
        return CTX_SECRET_WARN;
    }
    return CTX_SECRET_OK;
}
