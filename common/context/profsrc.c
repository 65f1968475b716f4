/* profsrc.c: profile sources and their process-wide registry (contract in profsrc.h).
 *
 * The registry. imctxcap.so and mmctxenrich.so each carry a copy of this code and
 * export nothing but modInit and ctxlog_profreg_v1(), which returns the registry
 * that copy uses (NULL before it chose one). On first use a copy looks through the
 * shared objects loaded in the process (dl_iterate_phdr, then dlopen RTLD_NOLOAD)
 * for another copy's registry with the same abi string, and uses it; if there is
 * none it uses its own. rsyslog loads modules and builds configurations on its main
 * thread, so the first module to need a source creates the registry the others find.
 *
 * Concurrency: the registry mutex guards the list and reference counts; a source's
 * mutex guards its file state, scan and listeners, and is held while a store is
 * built (CPU only) but never across file or libvirt I/O. Counters are atomics.
 */
#include "profsrc.h"

#include <dlfcn.h>
#include <link.h>
#include <stdio.h>
#include <stdlib.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <string.h>

#include "cfgfile.h"
#include "ctxlog_common.h"
#include "lvdl.h"
#include "profiles_int.h"
#include "profiles_merge.h"
#include "profsrc_int.h"
#include "grow.h"

/* ---- the registry ---------------------------------------------------------------- */

static struct ctx_profreg own_reg = {.mu = PTHREAD_MUTEX_INITIALIZER};
static struct ctx_profreg *resolved;
static pthread_mutex_t resolve_mu = PTHREAD_MUTEX_INITIALIZER;

/* the one symbol a module exports besides modInit (plugins/common/module.map) */
__attribute__((visibility("default"))) void *ctxlog_profreg_v1(void);
__attribute__((visibility("default"))) void *ctxlog_profreg_v1(void) {
    return resolved;
}

static void abi_text(char *buf, size_t len) {
    snprintf(buf, len, "ctxlog-profreg-1/%zu/%zu/%zu/%zu", sizeof(struct ctx_profreg), sizeof(struct ctx_profsrc),
             sizeof(ctx_profile_t), sizeof(ctx_lvdom_t));
}

struct names {
    char **v;
    size_t n, cap;
};

static int collect(struct dl_phdr_info *info, size_t size, void *data) {
    struct names *nm = data;
    (void)size;
    if (info->dlpi_name == NULL || info->dlpi_name[0] == '\0') return 0;
    if (nm->n == nm->cap) {
        char **v = ctx_grow(nm->v, &nm->cap, sizeof *v, 32);
        if (v == NULL) return 1;
        nm->v = v;
    }
    if ((nm->v[nm->n] = strdup(info->dlpi_name)) != NULL) nm->n++;
    return 0;
}

/* another loaded copy's registry with our abi, or NULL */
static struct ctx_profreg *find_peer(const char *abi) {
    struct names nm = {NULL, 0, 0};
    struct ctx_profreg *found = NULL;
    dl_iterate_phdr(collect, &nm);
    for (size_t i = 0; i < nm.n; i++) {
        void *h = found ? NULL : dlopen(nm.v[i], RTLD_LAZY | RTLD_NOLOAD);
        void *sym = h ? dlsym(h, "ctxlog_profreg_v1") : NULL;
        void *(*fn)(void) = NULL;
        memcpy(&fn, &sym, sizeof fn);
        struct ctx_profreg *r = fn != NULL ? fn() : NULL;
        if (r != NULL && r != &own_reg && strcmp(r->abi, abi) == 0) found = r;
        if (h != NULL) dlclose(h);
        free(nm.v[i]);
    }
    free(nm.v);
    return found;
}

struct ctx_profreg *ctx_profreg_get(void) {
    pthread_mutex_lock(&resolve_mu);
    if (resolved == NULL) {
        char abi[sizeof own_reg.abi];
        abi_text(abi, sizeof abi);
        resolved = find_peer(abi);
        if (resolved == NULL) {
            memcpy(own_reg.abi, abi, sizeof abi);
            resolved = &own_reg;
        }
    }
    pthread_mutex_unlock(&resolve_mu);
    return resolved;
}

/* ---- one source --------------------------------------------------------------------- */

static int same(const char *a, const char *b) {
    return (a == NULL && b == NULL) || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

static void src_free(struct ctx_profsrc *s) {
    if (s == NULL) return;
    ctx_slot_free(s->slot);
    ctx_profiles_unref(s->file_store);
    for (size_t i = 0; i < s->n_doms; i++) ctx_lvdom_clear(&s->doms[i]);
    free(s->doms);
    free(s->file_text);
    free(s->file);
    free(s->uri);
    free(s->name);
    pthread_mutex_destroy(&s->mu);
    free(s);
}

/* reads the file: its bytes and its store, or an error. Loading parses the whole
 * document into a JSON tree (~2.5 KiB per VM) and frees it once the store is built:
 * glibc keeps freed pages below the top of the heap resident, so they are handed back
 * (1,000 VMs: 1.5 MiB of RSS; 10,000: 23 MiB; bench/e2e/RESULTS.md). Config thread or
 * HUP, never the hot path. */
static int read_file(const char *path, char **text, size_t *len, ctx_profiles_t **store, char *err, size_t errlen) {
    int r = ctx_cfg_read(path, "profiles file", CTX_PROFILES_MAX_FILE, text, len, err, errlen);
    if (r == 0) r = ctx_profiles_load_buffer(*text, *len, path, store, err, errlen);
#ifdef __GLIBC__
    malloc_trim(0);
#endif
    if (r < 0) {
        free(*text);
        *text = NULL;
    }
    return r;
}

static const ctx_profiles_t *empty_store(char *err, size_t errlen, ctx_profiles_t **out) {
    static const char doc[] = "{\"vms\":[]}";
    ctx_profiles_load_buffer(doc, sizeof doc - 1, "libvirt", out, err, errlen);
    return *out;
}

int ctx_profsrc_rebuild_locked(struct ctx_profsrc *s, char *err, size_t errlen) {
    ctx_profiles_t *p = NULL;
    int r = 0;
    if (s->uri != NULL && s->have_doms) {
        ctx_merge_stats_t st;
        r = ctx_profiles_merge(s->file_text, s->file_len, s->file_store, s->doms, s->n_doms, s->name, &p, &st, err,
                               errlen);
        if (r == 0) s->no_tenant = st.no_tenant;
    } else if (s->file_store != NULL) {
        p = ctx_profiles_ref(s->file_store);
    } else if (empty_store(err, errlen, &p) == NULL) {
        r = CTX_ENOMEM;
    }
    if (r != 0) return r;
    if (ctx_slot_set(s->slot, p) != 0) {
        ctx_profiles_unref(p);
        return CTX_ENOMEM;
    }
    /* every listener sees every store, in the order they are installed (s->mu): a HUP
     * and a libvirt event at once cannot leave one the older store */
    for (int i = 0; i < PROFSRC_LISTENERS; i++)
        if (s->listeners[i].fn) s->listeners[i].fn(s->listeners[i].arg, p);
    return 0;
}

static int src_new(const char *file, const char *uri, struct ctx_profsrc **out, char *err, size_t errlen) {
    struct ctx_profsrc *s = calloc(1, sizeof *s);
    if (s == NULL) return CTX_ENOMEM;
    pthread_mutex_init(&s->mu, NULL);
    size_t nl = (file ? strlen(file) : 0) + (uri ? strlen(uri) : 0) + 16;
    int r = 0;
    if ((file && !(s->file = strdup(file))) || (uri && !(s->uri = strdup(uri))) || !(s->name = malloc(nl)) ||
        ctx_profiles_slot_new(&s->slot) != 0)
        r = CTX_ENOMEM;
    if (r == 0)
        snprintf(s->name, nl, "%s%s%s", file ? file : "", file && uri ? " + " : "", uri ? uri : "");
    if (r == 0 && file) r = read_file(file, &s->file_text, &s->file_len, &s->file_store, err, errlen);
    pthread_mutex_lock(&s->mu);
    if (r == 0) r = ctx_profsrc_rebuild_locked(s, err, errlen);
    pthread_mutex_unlock(&s->mu);
    if (r == CTX_ENOMEM && err != NULL && errlen > 0 && err[0] == '\0') snprintf(err, errlen, "out of memory");
    if (r < 0) {
        src_free(s);
        return r;
    }
    s->refs = 1;
    *out = s;
    return 0;
}

int ctx_profsrc_acquire(const char *file, const char *uri, ctx_profsrc_t **out, char *err, size_t errlen) {
    if (err != NULL && errlen > 0) err[0] = '\0';
    if (out == NULL || (file == NULL && uri == NULL)) return CTX_EINVAL;
    *out = NULL;
    if (uri != NULL && !ctx_lv_uri_valid(uri)) {
        if (err != NULL && errlen > 0)
            snprintf(err, errlen, "\"%.200s\": expected a libvirt connection URI like \"qemu:///system\"", uri);
        return CTX_EINVAL;
    }
    if (uri != NULL && ctx_lvdl_load(err, errlen) != 0) return CTX_EIO; /* reported at config (rsyslogd -N1) */
    struct ctx_profreg *g = ctx_profreg_get();
    pthread_mutex_lock(&g->mu);
    struct ctx_profsrc *s = g->head;
    while (s != NULL && !(same(s->file, file) && same(s->uri, uri))) s = s->next;
    int r = 0;
    if (s != NULL) {
        s->refs++;
    } else if ((r = src_new(file, uri, &s, err, errlen)) == 0) {
        s->next = g->head;
        g->head = s;
    }
    pthread_mutex_unlock(&g->mu);
    *out = s;
    return r;
}

void ctx_profsrc_release(ctx_profsrc_t *s) {
    if (s == NULL) return;
    struct ctx_profreg *g = ctx_profreg_get();
    pthread_mutex_lock(&g->mu);
    int last = --s->refs == 0;
    if (last) {
        struct ctx_profsrc **pp = &g->head;
        while (*pp != s) pp = &(*pp)->next;
        *pp = s->next;
    }
    pthread_mutex_unlock(&g->mu);
    if (!last) return;
    ctx_lvwatch_stop(s);
    src_free(s);
}

int ctx_profsrc_overlap(ctx_profsrc_t *s, char *msg, size_t len) {
    struct ctx_profreg *g = ctx_profreg_get();
    int r = 0;
    if (s == NULL) return 0;
    pthread_mutex_lock(&g->mu);
    for (struct ctx_profsrc *o = g->head; o != NULL && r == 0; o = o->next) {
        if (o == s || !((s->file && o->file && strcmp(s->file, o->file) == 0) ||
                         (s->uri && o->uri && strcmp(s->uri, o->uri) == 0)))
            continue;
        snprintf(msg, len, "profiles '%s' and '%s' are two sources, read, reloaded and followed apart: the modules "
                 "using them may see a VM differently; give every ctxlog module the same profiles and "
                 "profiles.libvirt", s->name, o->name);
        r = 1;
    }
    pthread_mutex_unlock(&g->mu);
    return r;
}

ctx_slot_t *ctx_profsrc_slot(ctx_profsrc_t *s) {
    return s ? s->slot : NULL;
}

ctx_profiles_t *ctx_profsrc_get(ctx_profsrc_t *s) {
    return s ? ctx_profiles_current(s->slot) : NULL;
}

int ctx_profsrc_reload(ctx_profsrc_t *s, int *changed, char *err, size_t errlen) {
    char *text = NULL;
    size_t len = 0;
    ctx_profiles_t *store = NULL;
    *changed = 0;
    if (err != NULL && errlen > 0) err[0] = '\0';
    if (s == NULL || s->file == NULL) return 0;
    int r = read_file(s->file, &text, &len, &store, err, errlen);
    if (r < 0) return r;
    pthread_mutex_lock(&s->mu);
    if (len == s->file_len && memcmp(text, s->file_text, len) == 0) {
        pthread_mutex_unlock(&s->mu);
        free(text);
        ctx_profiles_unref(store);
        return 0;
    }
    char *old_text = s->file_text;
    size_t old_len = s->file_len;
    ctx_profiles_t *old_store = s->file_store;
    s->file_text = text;
    s->file_len = len;
    s->file_store = store;
    r = ctx_profsrc_rebuild_locked(s, err, errlen);
    if (r < 0) { /* the file is fine alone but not with libvirt's domains: keep the old one */
        s->file_text = old_text;
        s->file_len = old_len;
        s->file_store = old_store;
        old_text = text;
        old_store = store;
    }
    pthread_mutex_unlock(&s->mu);
    free(old_text);
    ctx_profiles_unref(old_store);
    if (r == 0) {
        atomic_fetch_add(&s->file_reloads, 1);
        *changed = 1;
    }
    return r;
}

int ctx_profsrc_start(ctx_profsrc_t *s, ctx_profsrc_log_fn log, char *err, size_t errlen) {
    if (s == NULL || s->uri == NULL) return 0;
    return ctx_lvwatch_start(s, log, err, errlen);
}

int ctx_profsrc_listen(ctx_profsrc_t *s, ctx_profsrc_change_fn fn, void *arg) {
    int r = CTX_EFULL;
    pthread_mutex_lock(&s->mu);
    for (int i = 0; i < PROFSRC_LISTENERS && r < 0; i++) {
        if (s->listeners[i].fn != NULL) continue;
        s->listeners[i].fn = fn;
        s->listeners[i].arg = arg;
        r = 0;
    }
    /* the store in use now: one installed between the caller's last look and here
     * (another module's watcher started first) is not missed */
    ctx_profiles_t *p = r == 0 ? ctx_profiles_current(s->slot) : NULL;
    if (p != NULL) fn(arg, p);
    pthread_mutex_unlock(&s->mu);
    ctx_profiles_unref(p);
    return r;
}

void ctx_profsrc_unlisten(ctx_profsrc_t *s, void *arg) {
    if (s == NULL) return;
    pthread_mutex_lock(&s->mu);
    for (int i = 0; i < PROFSRC_LISTENERS; i++)
        if (s->listeners[i].arg == arg) s->listeners[i].fn = NULL;
    pthread_mutex_unlock(&s->mu);
}

void ctx_profsrc_stats(ctx_profsrc_t *s, ctx_profsrc_stats_t *o) {
    memset(o, 0, sizeof *o);
    if (s == NULL) return;
    o->file_reloads = atomic_load(&s->file_reloads);
    o->events = atomic_load(&s->events);
    o->lv_updates = atomic_load(&s->lv_updates);
    o->lv_errors = atomic_load(&s->lv_errors);
    o->reconnects = atomic_load(&s->reconnects);
    o->connected = atomic_load(&s->connected);
    o->domains = atomic_load(&s->domains);
}

const char *ctx_profsrc_name(const ctx_profsrc_t *s) {
    return s ? s->name : NULL;
}

const char *ctx_profsrc_uri(const ctx_profsrc_t *s) {
    return s ? s->uri : NULL;
}
