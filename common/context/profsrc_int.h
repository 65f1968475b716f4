/* profsrc_int.h: the inside of a profile source, shared by profsrc.c (registry,
 * file, store) and profiles_libvirt.c (the libvirt watcher). Not for modules.
 *
 * A source may be created by one module's copy of this code and used by another's
 * (profsrc.h): both are the same build, checked by the registry's abi string, so
 * the layout below is the same in both.
 */
#ifndef CTXLOG_PROFSRC_INT_H
#define CTXLOG_PROFSRC_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "profiles.h"
#include "profiles_lvxml.h"
#include "profsrc.h"

#define PROFSRC_LISTENERS 16

struct ctx_lvwatch; /* profiles_libvirt.c */
struct ctx_lvloop;  /* profiles_libvirt.c: the process's one libvirt event loop */

struct ctx_profsrc {
    struct ctx_profsrc *next; /* registry list (registry mutex) */
    unsigned refs;            /* registry mutex */
    char *file, *uri, *name;  /* read-only; file / uri may be NULL */
    ctx_slot_t *slot;
    pthread_mutex_t mu;       /* guards everything below except the counters */
    char *file_text;          /* the file's bytes in use, or NULL */
    size_t file_len;
    ctx_profiles_t *file_store; /* the file alone (a reference), or NULL */
    ctx_lvdom_t *doms;        /* the last scan (owned) */
    size_t n_doms;
    int have_doms;            /* a scan succeeded once */
    unsigned no_tenant;       /* domains the last build left out for want of a tenant */
    struct {
        ctx_profsrc_change_fn fn;
        void *arg;
    } listeners[PROFSRC_LISTENERS];
    struct ctx_lvwatch *watch; /* NULL until started */
    _Atomic uint64_t file_reloads, events, lv_updates, lv_errors, reconnects, connected, domains;
};

/* The process-wide registry (one per rsyslogd, whatever module made it). */
struct ctx_profreg {
    char abi[96];
    pthread_mutex_t mu;        /* guards head, refs, loop */
    struct ctx_profsrc *head;
    struct ctx_lvloop *loop;   /* profiles_libvirt.c */
    int lv_event_impl;         /* virEventRegisterDefaultImpl() was called */
};

struct ctx_profreg *ctx_profreg_get(void);

/* Builds the store from the file and the last scan and installs it; s->mu held.
 * Returns 0 or an error with err (the store in use stays). */
int ctx_profsrc_rebuild_locked(struct ctx_profsrc *s, char *err, size_t errlen);

/* profiles_libvirt.c */
int ctx_lvwatch_start(struct ctx_profsrc *s, ctx_profsrc_log_fn log, char *err, size_t errlen);
void ctx_lvwatch_stop(struct ctx_profsrc *s);
int ctx_lv_uri_valid(const char *uri);

#endif
