/* profiles_libvirt.c: a profile source's libvirt watcher (profsrc.h).
 *
 * One thread per source with a URI: it opens a read-only connection, lists the
 * active domains, reads each one's XML (profiles_lvxml.c), installs the merged
 * store (profsrc.c), then sleeps until a domain event (lifecycle: defined,
 * undefined, started, stopped, migrated...; device added / removed; metadata
 * changed) asks for a new scan. A whole scan per event keeps one code path; a host
 * has hundreds of domains, not millions.
 * When the connection closes (libvirtd stopped or restarted), the last store stays
 * in use, the loss is counted and logged in one line, and the thread reconnects
 * with backoff (common/base/backoff: 1 s doubling to 60 s, jittered).
 *
 * libvirt delivers events through an event loop the process registers once
 * (virEventRegisterDefaultImpl) and runs on a thread: one per process, in the
 * registry (profsrc_int.h), running while any watcher does.
 *
 * Concurrency: event callbacks (event loop thread) only count and set a flag under
 * the source's mutex; every libvirt call of a watcher is made on its own thread
 * without holding that mutex.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "backoff.h"
#include "clock.h"
#include "ctxlog_common.h"
#include "lvdl.h" /* libvirt, loaded by ctx_lvwatch_start() */
#include "profsrc_int.h"

#define BACKOFF_MIN_MS 1000
#define BACKOFF_MAX_MS 60000

enum { EV_LIFECYCLE, EV_DEV_ADDED, EV_DEV_REMOVED, EV_METADATA, EV_N };

struct ctx_lvwatch {
    pthread_t th;
    pthread_cond_t cv;     /* with the source's mu */
    int stop, dirty, lost; /* source's mu */
    virConnectPtr conn;    /* the watcher thread's */
    int cb[EV_N];
    ctx_backoff_t *bo;
    ctx_profsrc_log_fn log;
    char last_err[CTX_ERRLEN]; /* the last scan error logged (each distinct one once) */
    unsigned logged_no_tenant; /* the count of domains without a tenant last logged */
};

struct ctx_lvloop {
    pthread_t th;
    int users;           /* registry mu */
    atomic_int stop;
    int timer;           /* a disabled timeout, armed to wake the loop for stopping */
};

static void say(struct ctx_lvwatch *w, int level, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void say(struct ctx_lvwatch *w, int level, const char *fmt, ...) {
    char line[CTX_ERRLEN + 256];
    va_list ap;
    if (w->log == NULL) return;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    w->log(level, line);
}

static const char *lv_error(void) {
    const virError *e = virGetLastError();
    return e && e->message ? e->message : "unknown libvirt error";
}

int ctx_lv_uri_valid(const char *uri) {
    size_t n = strlen(uri);
    const char *colon = strchr(uri, ':');
    if (n == 0 || n > 1024 || colon == NULL || colon == uri) return 0;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)uri[i] <= 0x20 || uri[i] == 0x7f) return 0;
    return 1;
}

/* ---- the event loop ------------------------------------------------------------- */

static void wake_cb(int timer, void *opaque) {
    (void)opaque;
    virEventUpdateTimeout(timer, -1);
}

static void *loop_main(void *arg) {
    struct ctx_lvloop *l = arg;
    while (!atomic_load(&l->stop))
        if (virEventRunDefaultImpl() < 0) break;
    return NULL;
}

/* libvirt's default handler prints every error on stderr; ours are reported by the watcher */
static void quiet(void *arg, virErrorPtr e) {
    (void)arg, (void)e;
}

static int loop_acquire(char *err, size_t errlen) {
    struct ctx_profreg *g = ctx_profreg_get();
    int r = 0;
    pthread_mutex_lock(&g->mu);
    if (!g->lv_event_impl && virEventRegisterDefaultImpl() < 0) {
        snprintf(err, errlen, "libvirt: cannot set up its event loop: %s", lv_error());
        r = CTX_EIO;
    } else {
        if (!g->lv_event_impl) virSetErrorFunc(NULL, quiet);
        g->lv_event_impl = 1;
    }
    if (r == 0 && g->loop == NULL) {
        struct ctx_lvloop *l = calloc(1, sizeof *l);
        if (l == NULL || (l->timer = virEventAddTimeout(-1, wake_cb, NULL, NULL)) < 0 ||
            pthread_create(&l->th, NULL, loop_main, l) != 0) {
            free(l);
            snprintf(err, errlen, "libvirt: cannot start the event loop thread");
            r = CTX_EIO;
        } else {
            g->loop = l;
        }
    }
    if (r == 0) g->loop->users++;
    pthread_mutex_unlock(&g->mu);
    return r;
}

static void loop_release(void) {
    struct ctx_profreg *g = ctx_profreg_get();
    struct ctx_lvloop *l = NULL;
    pthread_mutex_lock(&g->mu);
    if (g->loop != NULL && --g->loop->users == 0) {
        l = g->loop;
        g->loop = NULL;
    }
    pthread_mutex_unlock(&g->mu);
    if (l == NULL) return;
    atomic_store(&l->stop, 1);
    virEventUpdateTimeout(l->timer, 0);
    pthread_join(l->th, NULL);
    virEventRemoveTimeout(l->timer);
    free(l);
}

/* ---- events --------------------------------------------------------------------- */

static void poke(struct ctx_profsrc *s, int lost) {
    pthread_mutex_lock(&s->mu);
    if (lost)
        s->watch->lost = 1;
    else
        s->watch->dirty = 1;
    if (!lost) atomic_fetch_add(&s->events, 1);
    pthread_cond_signal(&s->watch->cv);
    pthread_mutex_unlock(&s->mu);
}

static void on_lifecycle(virConnectPtr c, virDomainPtr d, int ev, int detail, void *opaque) {
    (void)c, (void)d, (void)ev, (void)detail;
    poke(opaque, 0);
}

static void on_device(virConnectPtr c, virDomainPtr d, const char *alias, void *opaque) {
    (void)c, (void)d, (void)alias;
    poke(opaque, 0);
}

static void on_metadata(virConnectPtr c, virDomainPtr d, int type, const char *nsuri, void *opaque) {
    (void)c, (void)d, (void)type, (void)nsuri;
    poke(opaque, 0);
}

static void on_close(virConnectPtr c, int reason, void *opaque) {
    (void)c, (void)reason;
    poke(opaque, 1);
}

/* ---- connection ------------------------------------------------------------------- */

static void disconnect(struct ctx_profsrc *s) {
    struct ctx_lvwatch *w = s->watch;
    if (w->conn == NULL) return;
    for (int i = 0; i < EV_N; i++)
        if (w->cb[i] >= 0) virConnectDomainEventDeregisterAny(w->conn, w->cb[i]);
    virConnectUnregisterCloseCallback(w->conn, on_close);
    virConnectClose(w->conn);
    w->conn = NULL;
    atomic_store(&s->connected, 0);
}

static int connect_lv(struct ctx_profsrc *s) {
    struct ctx_lvwatch *w = s->watch;
    virConnectPtr c = virConnectOpenReadOnly(s->uri);
    if (c == NULL) return -1;
    w->conn = c;
    w->cb[EV_LIFECYCLE] = virConnectDomainEventRegisterAny(c, NULL, VIR_DOMAIN_EVENT_ID_LIFECYCLE,
                                                           VIR_DOMAIN_EVENT_CALLBACK(on_lifecycle), s, NULL);
    w->cb[EV_DEV_ADDED] = virConnectDomainEventRegisterAny(c, NULL, VIR_DOMAIN_EVENT_ID_DEVICE_ADDED,
                                                           VIR_DOMAIN_EVENT_CALLBACK(on_device), s, NULL);
    w->cb[EV_DEV_REMOVED] = virConnectDomainEventRegisterAny(c, NULL, VIR_DOMAIN_EVENT_ID_DEVICE_REMOVED,
                                                             VIR_DOMAIN_EVENT_CALLBACK(on_device), s, NULL);
    w->cb[EV_METADATA] = virConnectDomainEventRegisterAny(c, NULL, VIR_DOMAIN_EVENT_ID_METADATA_CHANGE,
                                                          VIR_DOMAIN_EVENT_CALLBACK(on_metadata), s, NULL);
    if (w->cb[EV_LIFECYCLE] < 0) {
        say(w, 2, "libvirt %s: cannot follow domain events: %s", s->uri, lv_error());
        disconnect(s);
        return -1;
    }
    static const char *const what[EV_N] = {"lifecycle", "device-added", "device-removed", "metadata-change"};
    for (int i = EV_LIFECYCLE + 1; i < EV_N; i++)
        if (w->cb[i] < 0)
            say(w, 1, "libvirt %s: cannot follow %s events (%s): such changes show at the next lifecycle event",
                s->uri, what[i], lv_error());
    virConnectRegisterCloseCallback(c, on_close, s, NULL);
    virConnectSetKeepAlive(c, 5, 3);
    atomic_store(&s->connected, 1);
    return 0;
}

/* ---- scanning --------------------------------------------------------------------- */

/* reads every active domain; returns the number read (in *out) or -1 */
static long scan(struct ctx_profsrc *s, ctx_lvdom_t **out, unsigned *bad, char *err, size_t errlen) {
    virDomainPtr *doms = NULL;
    int n = virConnectListAllDomains(s->watch->conn, &doms, VIR_CONNECT_LIST_DOMAINS_ACTIVE);
    if (n < 0) {
        snprintf(err, errlen, "cannot list domains: %s", lv_error());
        return -1;
    }
    ctx_lvdom_t *v = calloc(n ? (size_t)n : 1, sizeof *v);
    long k = 0;
    char derr[CTX_ERRLEN];
    for (int i = 0; i < n; i++) {
        char *xml = v ? virDomainGetXMLDesc(doms[i], 0) : NULL; /* NULL: it went away meanwhile */
        if (xml != NULL && ctx_lvdom_parse(xml, strlen(xml), &v[k], derr, sizeof derr) == 0) {
            if (v[k].dropped) (*bad)++;
            k++;
        } else if (xml != NULL) {
            ctx_lvdom_clear(&v[k]);
            (*bad)++;
            snprintf(err, errlen, "%s", derr);
        }
        free(xml);
        virDomainFree(doms[i]);
    }
    free(doms);
    if (v == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    *out = v;
    return k;
}

static void install(struct ctx_profsrc *s, ctx_lvdom_t *v, size_t n, unsigned bad, const char *scan_err) {
    struct ctx_lvwatch *w = s->watch;
    char err[CTX_ERRLEN];
    pthread_mutex_lock(&s->mu);
    ctx_lvdom_t *old = s->doms;
    size_t old_n = s->n_doms;
    s->doms = v;
    s->n_doms = n;
    s->have_doms = 1;
    int r = ctx_profsrc_rebuild_locked(s, err, sizeof err);
    unsigned no_tenant = s->no_tenant;
    pthread_mutex_unlock(&s->mu);
    for (size_t i = 0; i < old_n; i++) ctx_lvdom_clear(&old[i]);
    free(old);
    atomic_store(&s->domains, n);
    atomic_fetch_add(r == 0 ? &s->lv_updates : &s->lv_errors, 1);
    atomic_fetch_add(&s->lv_errors, bad);
    if (r == 0 && no_tenant != w->logged_no_tenant) {
        say(w, 0, "libvirt %s: %u running domains have no tenant (no ctxlog or Nova metadata, no profiles file "
                  "entry): left out", s->uri, no_tenant);
        w->logged_no_tenant = no_tenant;
    }
    const char *e = r < 0 ? err : scan_err;
    if (e[0] != '\0' && strcmp(e, w->last_err) != 0) {
        say(w, 2, "libvirt %s: %s", s->uri, e);
        snprintf(w->last_err, sizeof w->last_err, "%s", e);
    }
}

static void rescan(struct ctx_profsrc *s) {
    ctx_lvdom_t *v = NULL;
    unsigned bad = 0;
    char err[CTX_ERRLEN] = "";
    long n = scan(s, &v, &bad, err, sizeof err);
    if (n >= 0) {
        install(s, v, (size_t)n, bad, err);
        return;
    }
    atomic_fetch_add(&s->lv_errors, 1);
    if (strcmp(err, s->watch->last_err) != 0) say(s->watch, 2, "libvirt %s: %s", s->uri, err);
    snprintf(s->watch->last_err, sizeof s->watch->last_err, "%s", err);
    if (virConnectIsAlive(s->watch->conn) != 1) poke(s, 1);
}

/* ---- the watcher thread -------------------------------------------------------------- */

static void wait_ms(struct ctx_profsrc *s, uint64_t ms) {
    struct timespec ts;
    ctx_clock_deadline(&ts, ms); /* the cv waits on CLOCK_MONOTONIC (ctx_lvwatch_start) */
    pthread_cond_timedwait(&s->watch->cv, &s->mu, &ts);
}

/* one connection attempt; mu held on entry and exit */
static void try_connect(struct ctx_profsrc *s, int *outage) {
    struct ctx_lvwatch *w = s->watch;
    pthread_mutex_unlock(&s->mu);
    int ok = connect_lv(s) == 0;
    pthread_mutex_lock(&s->mu);
    if (ok) {
        w->dirty = 1;
        w->lost = 0;
        ctx_backoff_reset(w->bo);
        say(w, 0, "libvirt %s: connected%s; following domain events", s->uri, *outage ? " again" : "");
        *outage = 0;
        return;
    }
    if (!*outage) {
        say(w, 1, "libvirt %s: cannot connect (%s); keeping the %zu domains known, retrying with backoff", s->uri,
            lv_error(), s->n_doms);
        *outage = 1;
    }
    if (!w->stop) wait_ms(s, ctx_backoff_next_ms(w->bo));
}

static void *watch_main(void *arg) {
    struct ctx_profsrc *s = arg;
    struct ctx_lvwatch *w = s->watch;
    int outage = 0;
    pthread_mutex_lock(&s->mu);
    while (!w->stop) {
        if (w->conn == NULL) {
            try_connect(s, &outage);
        } else if (w->lost) {
            w->lost = 0;
            pthread_mutex_unlock(&s->mu);
            disconnect(s);
            pthread_mutex_lock(&s->mu);
            atomic_fetch_add(&s->reconnects, 1);
            say(w, 1, "libvirt %s: connection lost; keeping the last %zu domains, reconnecting with backoff", s->uri,
                s->n_doms);
            outage = 1;
            wait_ms(s, ctx_backoff_next_ms(w->bo));
        } else if (w->dirty) {
            w->dirty = 0;
            pthread_mutex_unlock(&s->mu);
            rescan(s);
            pthread_mutex_lock(&s->mu);
        } else {
            pthread_cond_wait(&w->cv, &s->mu);
        }
    }
    pthread_mutex_unlock(&s->mu);
    disconnect(s);
    return NULL;
}

int ctx_lvwatch_start(struct ctx_profsrc *s, ctx_profsrc_log_fn log, char *err, size_t errlen) {
    if (s->watch != NULL) return 0;
    if (ctx_lvdl_load(err, errlen) != 0) return CTX_EIO;
    struct ctx_lvwatch *w = calloc(1, sizeof *w);
    if (w == NULL || ctx_backoff_new(BACKOFF_MIN_MS / 2, BACKOFF_MIN_MS, BACKOFF_MAX_MS, NULL, NULL, &w->bo) != 0) {
        free(w);
        snprintf(err, errlen, "out of memory");
        return CTX_ENOMEM;
    }
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&w->cv, &ca);
    pthread_condattr_destroy(&ca);
    for (int i = 0; i < EV_N; i++) w->cb[i] = -1;
    w->log = log;
    int r = loop_acquire(err, errlen);
    s->watch = w;
    if (r == 0 && pthread_create(&w->th, NULL, watch_main, s) != 0) {
        snprintf(err, errlen, "libvirt %s: cannot start the watcher thread", s->uri);
        loop_release();
        r = CTX_EIO;
    }
    if (r < 0) {
        s->watch = NULL;
        ctx_backoff_free(w->bo);
        pthread_cond_destroy(&w->cv);
        free(w);
    }
    return r;
}

void ctx_lvwatch_stop(struct ctx_profsrc *s) {
    struct ctx_lvwatch *w = s->watch;
    if (w == NULL) return;
    pthread_mutex_lock(&s->mu);
    w->stop = 1;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&s->mu);
    pthread_join(w->th, NULL);
    loop_release();
    ctx_backoff_free(w->bo);
    pthread_cond_destroy(&w->cv);
    free(w);
    s->watch = NULL;
}
