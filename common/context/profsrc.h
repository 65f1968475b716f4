/* profsrc.h: profile sources, one per (profiles file, libvirt URI) in a process.
 *
 * imctxcap and mmctxenrich are separate shared objects in one rsyslogd. Each asks
 * for its source by the file path and URI of its parameters; both get the same
 * source, so one HUP reload and one libvirt connection feed both, and they never
 * disagree about a VM. Sources live in a process-wide registry: the first ctxlog
 * module that looks it up owns it; the others find it through the one symbol the
 * modules export besides modInit (ctxlog_profreg_v1, see profsrc.c).
 *
 * A source's store is in its reload slot (common/base/slot.h; ctx_profsrc_slot()):
 * readers take a generation-stamped reference to it. It is replaced by
 * - ctx_profsrc_reload() (HUP): the file is read again; identical bytes change
 *   nothing, so the second module's HUP handler finds the work done;
 * - the libvirt watcher (profiles_libvirt.c), after every domain event: define,
 *   undefine, start, stop, migrate, device added / removed, metadata changed.
 * With a URI, the store is ctx_profiles_merge(file, domains) (profiles_merge.h).
 *
 * Threads: acquire, release, reload, start run on rsyslog's main thread (config,
 * HUP, activation, shutdown); stats and the slot from any thread. A source's
 * mutex guards its file state and domain list; it is never held across I/O.
 */
#ifndef CTXLOG_PROFSRC_H
#define CTXLOG_PROFSRC_H

#include <stddef.h>
#include <stdint.h>

#include "profiles.h"

typedef struct ctx_profsrc ctx_profsrc_t;

/* level: 0 info, 1 warning, 2 error; line is one line without "module:" prefix */
typedef void (*ctx_profsrc_log_fn)(int level, const char *line);
/* called with each new store (borrowed) as it is installed, whatever installed it (the
 * libvirt watcher's thread, a HUP's ctx_profsrc_reload), under the source's mutex: in
 * the order of installation, so the last call is always the store in use */
typedef void (*ctx_profsrc_change_fn)(void *arg, const ctx_profiles_t *p);

/* Counters of a source (monotonic unless marked gauge). */
typedef struct ctx_profsrc_stats {
    uint64_t file_reloads;  /* file read again and installed (changed bytes) */
    uint64_t events;        /* libvirt domain events received */
    uint64_t lv_updates;    /* stores installed from libvirt (first scan, events, reconnects) */
    uint64_t lv_errors;     /* failed scans, domains left out as invalid */
    uint64_t reconnects;    /* connections to libvirt lost (each is then retried with backoff) */
    uint64_t connected;     /* gauge: 1 while connected to libvirt */
    uint64_t domains;       /* gauge: domains in the last scan */
} ctx_profsrc_stats_t;

/* Returns the source of (file, uri) (both borrowed; either may be NULL, not both),
 * creating it if needed: a new source reads and checks the file (the error line is
 * ctx_profiles_load_file()'s) and checks the URI's syntax, but does not connect.
 * Returns 0 with *out holding one more reference; CTX_EPARSE / CTX_EIO / CTX_EFULL /
 * CTX_EINVAL / CTX_ENOMEM with err. */
int ctx_profsrc_acquire(const char *file, const char *uri, ctx_profsrc_t **out, char *err, size_t errlen);

/* Drops a reference; the last one stops the watcher (joins it) and frees the source. */
void ctx_profsrc_release(ctx_profsrc_t *s);

/* 1 with one line in msg when another source shares s's file or s's URI (the modules
 * were given different profiles / profiles.libvirt pairs: they will not share one
 * store), else 0. */
int ctx_profsrc_overlap(ctx_profsrc_t *s, char *msg, size_t len);

/* The slot holding the source's current store (owned by the source). */
ctx_slot_t *ctx_profsrc_slot(ctx_profsrc_t *s);

/* A new reference to the current store (the caller unrefs), or NULL. */
ctx_profiles_t *ctx_profsrc_get(ctx_profsrc_t *s);

/* HUP: reads the file again. 0 with *changed = 1 when a new store was installed,
 * 0 with *changed = 0 when the bytes were the ones in use (or there is no file);
 * else the loader's error (the store in use stays) with err. */
int ctx_profsrc_reload(ctx_profsrc_t *s, int *changed, char *err, size_t errlen);

/* Starts the libvirt watcher (a no-op without a URI, or when started already):
 * it connects, scans, follows events and reconnects with backoff on its own thread.
 * log (may be NULL) receives its few lines (connected, lost, cannot connect).
 * Returns 0 or CTX_ENOMEM / CTX_EIO (thread) with err. */
int ctx_profsrc_start(ctx_profsrc_t *s, ctx_profsrc_log_fn log, char *err, size_t errlen);

/* Registers fn(arg) and calls it at once with the store in use, then for every store
 * installed (file reload or libvirt update; one per arg); unlisten before arg goes.
 * Returns 0 or CTX_EFULL (16 listeners already, profsrc_int.h). */
int ctx_profsrc_listen(ctx_profsrc_t *s, ctx_profsrc_change_fn fn, void *arg);
void ctx_profsrc_unlisten(ctx_profsrc_t *s, void *arg);

void ctx_profsrc_stats(ctx_profsrc_t *s, ctx_profsrc_stats_t *out);

/* "file", "libvirt URI" or "file + libvirt URI" for messages (owned by the source) */
const char *ctx_profsrc_name(const ctx_profsrc_t *s);
const char *ctx_profsrc_uri(const ctx_profsrc_t *s);

#endif
