/* hostsample.c: host-context sampler: host and per-VM metrics published as immutable,
 * refcounted snapshots (see hostsample.h).
 *
 * Concurrency: conf (roots, interval, disk paths, clk_tck, page_size) is read-only
 * after hostsample_new(). hs->mu guards `cur` (the latest snapshot pointer), `staged`
 * (a VM list waiting for the next pass), `running` and `stopping`; it is held only for
 * pointer swaps and a refcount increment, never across file I/O. `cur_seq` mirrors
 * cur->seq as an atomic for the lock-free check in hostsample_refresh(). The sampler
 * state (vms, previous CPU counters, error totals) belongs to whichever thread runs
 * passes: the sampler thread, or the caller of hostsample_sample() when no thread
 * runs. Snapshots are immutable once published; their refcount is atomic.
 */
#include "hostsample.h"

#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "cgstat.h"
#include "clock.h"
#include "ctxlog_common.h"

#define MAX_DISKS 64

/* One VM's spec and sampler state (sampler only, except while staged). */
struct vmstate {
    char *name, *uuid, *tenant, *cgroup, *pidfile; /* owned; name/uuid/tenant never NULL */
    long pid;
    char source[PATH_MAX];                /* resolved cgroup path or "pid:N" */
    bool resolved;                        /* source holds a resolved cgroup path */
    bool have_prev;                       /* prev_* valid for a CPU delta */
    uint64_t prev_cpu_ns;
    int64_t prev_ms;
    uint64_t errors;
};

struct vmlist {
    size_t n;
    struct vmstate *v;
};

/* A published snapshot: the public part plus what only this file sees. */
struct snap {
    atomic_uint refs;
    hs_snapshot_t pub;
    size_t *by_uuid, *by_name; /* indices into pub.vms sorted by uuid / (tenant, name) (non-empty only) */
    size_t n_uuid, n_name;
    char *strings;             /* arena holding every string of pub */
};

struct hostsample {
    char *proc_root, *cgroup_root; /* read-only */
    int64_t interval_ms;           /* read-only */
    char **disks;                  /* read-only */
    size_t n_disks;
    long clk_tck, page_size;       /* read-only */
    pthread_mutex_t mu;
    pthread_cond_t cv;             /* with mu: wakes the thread to stop */
    struct snap *cur;              /* guarded by mu */
    atomic_uint_fast64_t cur_seq;  /* == cur->seq */
    struct vmlist *staged;         /* guarded by mu */
    bool running, stopping;        /* guarded by mu */
    pthread_t thread;
    /* sampler state */
    struct vmlist *vms;
    uint64_t seq, vm_errors, host_errors;
    uint64_t prev_total, prev_idle;
    bool have_prev_cpu;
    int ncpu;
};

/* Host figures of one pass. */
struct hostdata {
    unsigned flags;
    int ncpu;
    double cpu_pct, mem_pct, load[3];
    uint64_t mem_total, mem_avail;
};

const char *hs_vm_strerror(int err) {
    switch (err) {
    case HS_VM_OK: return "ok";
    case HS_VM_ENOCGROUP: return "cgroup not found";
    case HS_VM_EAMBIGUOUS: return "cgroup template matches more than one cgroup";
    case HS_VM_EBADNAME: return "name or uuid unusable in the template";
    case HS_VM_ENOPROC: return "process not found";
    case HS_VM_EREAD: return "cgroup files unreadable";
    case HS_VM_EPARSE: return "unexpected content in a cgroup or proc file";
    }
    return "unknown error";
}

void hs_conf_defaults(hs_conf_t *conf) {
    memset(conf, 0, sizeof *conf);
    conf->proc_root = "/proc";
    conf->cgroup_root = "/sys/fs/cgroup";
    conf->interval_ms = 5000;
}

/* ---- lifetime ------------------------------------------------------------------------- */

static int check_abs(const char *key, const char *p, char *err, size_t errlen) {
    if (p != NULL && p[0] == '/' && strlen(p) < PATH_MAX / 2) return CTX_OK;
    snprintf(err, errlen, "%s: '%s' must be an absolute path (shorter than %d bytes)", key, p ? p : "",
             PATH_MAX / 2);
    return CTX_EINVAL;
}

static int conf_check(const hs_conf_t *c, char *err, size_t errlen) {
    if (c->interval_ms < 100 || c->interval_ms > 3600000) {
        snprintf(err, errlen, "host.interval: must be between 100 and 3600000 (got %lld)", (long long)c->interval_ms);
        return CTX_EINVAL;
    }
    if (check_abs("host.procRoot", c->proc_root, err, errlen) < 0) return CTX_EINVAL;
    if (check_abs("host.cgroupRoot", c->cgroup_root, err, errlen) < 0) return CTX_EINVAL;
    if (c->n_disk_paths > MAX_DISKS) {
        snprintf(err, errlen, "host.diskPaths: at most %d paths (got %zu)", MAX_DISKS, c->n_disk_paths);
        return CTX_EINVAL;
    }
    for (size_t i = 0; i < c->n_disk_paths; i++)
        if (check_abs("host.diskPaths", c->disk_paths[i], err, errlen) < 0) return CTX_EINVAL;
    return CTX_OK;
}

int hostsample_new(hostsample_t **out, const hs_conf_t *conf, char *err, size_t errlen) {
    *out = NULL;
    int rc = conf_check(conf, err, errlen);
    if (rc < 0) return rc;
    hostsample_t *hs = calloc(1, sizeof *hs);
    if (hs == NULL) goto nomem;
    hs->interval_ms = conf->interval_ms;
    hs->clk_tck = conf->clk_tck > 0 ? conf->clk_tck : sysconf(_SC_CLK_TCK);
    hs->page_size = conf->page_size > 0 ? conf->page_size : sysconf(_SC_PAGESIZE);
    hs->proc_root = strdup(conf->proc_root);
    hs->cgroup_root = strdup(conf->cgroup_root);
    hs->disks = calloc(conf->n_disk_paths + 1, sizeof *hs->disks);
    hs->vms = calloc(1, sizeof *hs->vms);
    if (!hs->proc_root || !hs->cgroup_root || !hs->disks || !hs->vms) goto nomem;
    for (; hs->n_disks < conf->n_disk_paths; hs->n_disks++)
        if ((hs->disks[hs->n_disks] = strdup(conf->disk_paths[hs->n_disks])) == NULL) goto nomem;
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&hs->cv, &ca);
    pthread_condattr_destroy(&ca);
    pthread_mutex_init(&hs->mu, NULL);
    *out = hs;
    return CTX_OK;
nomem:
    snprintf(err, errlen, "host: out of memory");
    if (hs) {
        free(hs->proc_root);
        free(hs->cgroup_root);
        for (size_t i = 0; i < hs->n_disks; i++) free(hs->disks[i]);
        free(hs->disks);
        free(hs->vms);
        free(hs);
    }
    return CTX_ENOMEM;
}

static void vmlist_free(struct vmlist *l) {
    if (l == NULL) return;
    for (size_t i = 0; i < l->n; i++) {
        free(l->v[i].name);
        free(l->v[i].uuid);
        free(l->v[i].tenant);
        free(l->v[i].cgroup);
        free(l->v[i].pidfile);
    }
    free(l->v);
    free(l);
}

void hostsample_free(hostsample_t *hs) {
    if (hs == NULL) return;
    hostsample_stop(hs);
    hs_snapshot_release(hs->cur ? &hs->cur->pub : NULL);
    vmlist_free(hs->staged);
    vmlist_free(hs->vms);
    for (size_t i = 0; i < hs->n_disks; i++) free(hs->disks[i]);
    free(hs->disks);
    free(hs->proc_root);
    free(hs->cgroup_root);
    pthread_cond_destroy(&hs->cv);
    pthread_mutex_destroy(&hs->mu);
    free(hs);
}

/* ---- the VM list ------------------------------------------------------------------------- */

static int check_spec(const hs_vm_spec_t *s, size_t i, char *err, size_t errlen) {
    char ctx[256];
    bool has_name = s->name && *s->name, has_uuid = s->uuid && *s->uuid;
    if (!has_name && !has_uuid) {
        snprintf(err, errlen, "vm #%zu: needs a name or a uuid", i + 1);
        return CTX_EINVAL;
    }
    snprintf(ctx, sizeof ctx, "vm '%.200s'", has_name ? s->name : s->uuid);
    if (s->cgroup == NULL && s->pidfile == NULL && s->pid <= 0) {
        snprintf(err, errlen, "%s: needs a cgroup, a pidfile or a pid", ctx);
        return CTX_EINVAL;
    }
    if (s->cgroup && cg_template_check(s->cgroup, "cgroup", ctx, err, errlen) < 0) return CTX_EINVAL;
    if (s->pidfile && cg_template_check(s->pidfile, "pidfile", ctx, err, errlen) < 0) return CTX_EINVAL;
    return CTX_OK;
}

static char *dup_or_empty(const char *s, bool keep_null, bool *fail) {
    if (s == NULL && keep_null) return NULL;
    char *d = strdup(s ? s : "");
    if (d == NULL) *fail = true;
    return d;
}

int hostsample_set_vms(hostsample_t *hs, const hs_vm_spec_t *vms, size_t n, char *err, size_t errlen) {
    for (size_t i = 0; i < n; i++)
        if (check_spec(&vms[i], i, err, errlen) < 0) return CTX_EINVAL;
    struct vmlist *l = calloc(1, sizeof *l);
    bool fail = l == NULL || (n > 0 && (l->v = calloc(n, sizeof *l->v)) == NULL);
    for (size_t i = 0; !fail && i < n; i++, l->n++) {
        struct vmstate *v = &l->v[i];
        v->name = dup_or_empty(vms[i].name, false, &fail);
        v->uuid = dup_or_empty(vms[i].uuid, false, &fail);
        v->tenant = dup_or_empty(vms[i].tenant, false, &fail);
        v->cgroup = dup_or_empty(vms[i].cgroup, true, &fail);
        v->pidfile = dup_or_empty(vms[i].pidfile, true, &fail);
        v->pid = vms[i].pid;
    }
    if (fail) {
        vmlist_free(l);
        snprintf(err, errlen, "host: out of memory setting %zu VMs", n);
        return CTX_ENOMEM;
    }
    pthread_mutex_lock(&hs->mu);
    struct vmlist *old = hs->staged;
    hs->staged = l;
    pthread_mutex_unlock(&hs->mu);
    vmlist_free(old);
    return CTX_OK;
}

static bool same_str(const char *a, const char *b) {
    return (a == NULL && b == NULL) || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

static bool same_vm(const struct vmstate *a, const struct vmstate *b) {
    bool id = *a->uuid ? strcmp(a->uuid, b->uuid) == 0
                       : strcmp(a->name, b->name) == 0 && strcmp(a->tenant, b->tenant) == 0;
    return id && same_str(a->cgroup, b->cgroup) && same_str(a->pidfile, b->pidfile) && a->pid == b->pid;
}

/* Takes a staged list, carrying over the state of VMs that stay. */
static void take_staged(hostsample_t *hs) {
    pthread_mutex_lock(&hs->mu);
    struct vmlist *l = hs->staged;
    hs->staged = NULL;
    pthread_mutex_unlock(&hs->mu);
    if (l == NULL) return;
    for (size_t i = 0; i < l->n; i++)
        for (size_t j = 0; j < hs->vms->n; j++) {
            struct vmstate *o = &hs->vms->v[j];
            if (!same_vm(&l->v[i], o)) continue;
            memcpy(l->v[i].source, o->source, sizeof o->source);
            l->v[i].resolved = o->resolved;
            l->v[i].have_prev = o->have_prev;
            l->v[i].prev_cpu_ns = o->prev_cpu_ns;
            l->v[i].prev_ms = o->prev_ms;
            l->v[i].errors = o->errors;
            break;
        }
    vmlist_free(hs->vms);
    hs->vms = l;
}

/* ---- host metrics --------------------------------------------------------------------------- */

static void read_proc_stat(hostsample_t *hs, struct hostdata *h) {
    char path[PATH_MAX], buf[65536];
    unsigned long long f[8] = {0};
    snprintf(path, sizeof path, "%s/stat", hs->proc_root);
    int n = cg_read_file(path, buf, sizeof buf);
    if (n < 0 || sscanf(buf, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &f[0], &f[1], &f[2], &f[3], &f[4], &f[5],
                        &f[6], &f[7]) < 4) {
        hs->host_errors++;
        hs->have_prev_cpu = false;
        return;
    }
    h->ncpu = 0;
    for (const char *l = buf; l != NULL; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
        if (strncmp(l, "cpu", 3) == 0 && l[3] >= '0' && l[3] <= '9') h->ncpu++;
    uint64_t total = 0, idle = f[3] + f[4]; /* idle + iowait; guest time is inside user */
    for (int i = 0; i < 8; i++) total += f[i];
    if (hs->have_prev_cpu && total > hs->prev_total && idle >= hs->prev_idle &&
        total - hs->prev_total >= idle - hs->prev_idle) {
        uint64_t dt = total - hs->prev_total, di = idle - hs->prev_idle;
        h->cpu_pct = 100.0 * (double)(dt - di) / (double)dt;
        h->flags |= HS_HOST_CPU;
    }
    hs->prev_total = total;
    hs->prev_idle = idle;
    hs->have_prev_cpu = true;
}

/* The value in kB of "key:" in meminfo, in bytes; 0 if absent. */
static uint64_t meminfo_value(const char *buf, const char *key) {
    size_t kl = strlen(key);
    for (const char *l = buf; l != NULL; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
        unsigned long long kb;
        if (strncmp(l, key, kl) == 0 && l[kl] == ':' && sscanf(l + kl + 1, "%llu", &kb) == 1)
            return (uint64_t)kb * 1024;
    }
    return 0;
}

static void read_meminfo(hostsample_t *hs, struct hostdata *h) {
    char path[PATH_MAX], buf[16384];
    snprintf(path, sizeof path, "%s/meminfo", hs->proc_root);
    if (cg_read_file(path, buf, sizeof buf) < 0) {
        hs->host_errors++;
        return;
    }
    uint64_t total = meminfo_value(buf, "MemTotal"), avail = meminfo_value(buf, "MemAvailable");
    if (avail == 0) /* kernels before 3.14 */
        avail = meminfo_value(buf, "MemFree") + meminfo_value(buf, "Buffers") + meminfo_value(buf, "Cached");
    if (total == 0 || avail > total) {
        hs->host_errors++;
        return;
    }
    h->mem_total = total;
    h->mem_avail = avail;
    h->mem_pct = 100.0 * (double)(total - avail) / (double)total;
    h->flags |= HS_HOST_MEM;
}

static void read_loadavg(hostsample_t *hs, struct hostdata *h) {
    char path[PATH_MAX], buf[256];
    snprintf(path, sizeof path, "%s/loadavg", hs->proc_root);
    if (cg_read_file(path, buf, sizeof buf) < 0 ||
        sscanf(buf, "%lf %lf %lf", &h->load[0], &h->load[1], &h->load[2]) != 3) {
        hs->host_errors++;
        return;
    }
    h->flags |= HS_HOST_LOAD;
}

static void read_disk(const char *path, hs_disk_t *d) {
    struct statvfs sv;
    d->ok = statvfs(path, &sv) == 0 && sv.f_blocks > 0;
    if (!d->ok) return;
    d->free_bytes = (uint64_t)sv.f_bavail * sv.f_frsize;
    d->total_bytes = (uint64_t)sv.f_blocks * sv.f_frsize;
    d->free_pct = 100.0 * (double)sv.f_bavail / (double)sv.f_blocks;
}

/* ---- per-VM metrics --------------------------------------------------------------------------- */

static void set_source(struct vmstate *v, const char *src, bool resolved) {
    if (strcmp(v->source, src) != 0) {
        snprintf(v->source, sizeof v->source, "%s", src);
        v->have_prev = false; /* another cgroup or process: no delta across it */
    }
    v->resolved = resolved;
}

static int read_vm_cgroup(hostsample_t *hs, struct vmstate *v, cg_usage_t *u) {
    char rel[PATH_MAX];
    int rc;
    if (v->resolved) {
        rc = cg_read(hs->cgroup_root, v->source, u);
        if (rc != CTX_ENOENT) return rc == CTX_OK ? HS_VM_OK : HS_VM_EPARSE;
    }
    if (cg_subst(v->cgroup, v->name, v->uuid, 1, rel, sizeof rel) < 0) return HS_VM_EBADNAME;
    rc = cg_resolve(hs->cgroup_root, v->cgroup, v->name, v->uuid, rel, sizeof rel);
    if (rc < 0) {
        v->resolved = false;
        return rc == CTX_EINVAL ? HS_VM_EAMBIGUOUS : HS_VM_ENOCGROUP;
    }
    set_source(v, rel, true);
    rc = cg_read(hs->cgroup_root, rel, u);
    return rc == CTX_OK ? HS_VM_OK : rc == CTX_ENOENT ? HS_VM_EREAD : HS_VM_EPARSE;
}

static int read_vm(hostsample_t *hs, struct vmstate *v, cg_usage_t *u) {
    memset(u, 0, sizeof *u);
    if (v->cgroup != NULL) return read_vm_cgroup(hs, v, u);
    long pid = v->pid;
    if (v->pidfile != NULL) {
        char path[PATH_MAX];
        if (cg_subst(v->pidfile, v->name, v->uuid, 0, path, sizeof path) < 0) return HS_VM_EBADNAME;
        if (cg_read_pidfile(path, &pid) < 0) return HS_VM_ENOPROC;
    }
    char src[32];
    snprintf(src, sizeof src, "pid:%ld", pid);
    set_source(v, src, false);
    int rc = cg_read_pid(hs->proc_root, pid, hs->clk_tck, hs->page_size, u);
    return rc == CTX_OK ? HS_VM_OK : rc == CTX_EPARSE ? HS_VM_EPARSE : HS_VM_ENOPROC;
}

static void sample_vm(hostsample_t *hs, struct vmstate *v, const struct hostdata *h, int64_t now, hs_vm_t *o) {
    cg_usage_t u;
    memset(o, 0, sizeof *o);
    o->err = read_vm(hs, v, &u);
    if (o->err != HS_VM_OK) {
        v->errors++;
        hs->vm_errors++;
    }
    o->errors = v->errors;
    if (u.flags & CG_HAVE_CPU) {
        if (v->have_prev && u.cpu_ns >= v->prev_cpu_ns && now > v->prev_ms) {
            o->cpu_pct = (double)(u.cpu_ns - v->prev_cpu_ns) / ((double)(now - v->prev_ms) * 1e4);
            o->cpu_host_pct = hs->ncpu > 0 ? o->cpu_pct / hs->ncpu : o->cpu_pct;
            o->flags |= HS_VM_CPU;
        }
        v->prev_cpu_ns = u.cpu_ns;
        v->prev_ms = now;
        v->have_prev = true;
    } else {
        v->have_prev = false;
    }
    if (u.flags & CG_HAVE_MEM) {
        o->mem_bytes = u.mem_bytes;
        o->flags |= HS_VM_MEM;
        uint64_t of = (u.flags & CG_HAVE_LIMIT) ? u.mem_limit : (h->flags & HS_HOST_MEM) ? h->mem_total : 0;
        if (u.flags & CG_HAVE_LIMIT) {
            o->mem_limit_bytes = u.mem_limit;
            o->flags |= HS_VM_LIMIT;
        }
        if (of > 0) {
            o->mem_pct = 100.0 * (double)u.mem_bytes / (double)of;
            o->flags |= HS_VM_MEMPCT;
        }
    }
}

/* ---- snapshots ---------------------------------------------------------------------------------- */

static struct snap *snap_of(const hs_snapshot_t *s) {
    return (struct snap *)((char *)(uintptr_t)s - offsetof(struct snap, pub));
}

void hs_snapshot_release(const hs_snapshot_t *s) {
    if (s == NULL) return;
    struct snap *sn = snap_of(s);
    if (atomic_fetch_sub_explicit(&sn->refs, 1, memory_order_acq_rel) != 1) return;
    free((void *)(uintptr_t)sn->pub.vms);
    free((void *)(uintptr_t)sn->pub.disks);
    free(sn->by_uuid);
    free(sn->by_name);
    free(sn->strings);
    free(sn);
}

static int cmp_uuid(const void *a, const void *b, void *arg) {
    const hs_vm_t *v = arg;
    return strcmp(v[*(const size_t *)a].uuid, v[*(const size_t *)b].uuid);
}

/* (tenant, name) order: a name is a key only within its tenant */
static int cmp_key(const hs_vm_t *v, const char *tenant, const char *name) {
    int c = strcmp(v->tenant, tenant);
    return c != 0 ? c : strcmp(v->name, name);
}

static int cmp_name(const void *a, const void *b, void *arg) {
    const hs_vm_t *v = arg, *y = &v[*(const size_t *)b];
    return cmp_key(&v[*(const size_t *)a], y->tenant, y->name);
}

/* the position of the first entry >= key in idx[0..n) */
static size_t lower_bound(const hs_vm_t *vms, const size_t *idx, size_t n, bool by_uuid, const char *tenant,
                          const char *key) {
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const hs_vm_t *v = &vms[idx[mid]];
        int c = by_uuid ? strcmp(v->uuid, key) : cmp_key(v, tenant, key);
        if (c < 0) lo = mid + 1; else hi = mid;
    }
    return lo;
}

const hs_vm_t *hs_snapshot_find(const hs_snapshot_t *s, const char *uuid, const char *tenant, const char *name) {
    if (s == NULL) return NULL;
    const struct snap *sn = snap_of(s);
    size_t i;
    if (uuid != NULL && *uuid) {
        i = lower_bound(s->vms, sn->by_uuid, sn->n_uuid, true, "", uuid);
        if (i < sn->n_uuid && strcmp(s->vms[sn->by_uuid[i]].uuid, uuid) == 0) return &s->vms[sn->by_uuid[i]];
    }
    if (name == NULL || *name == '\0') return NULL;
    if (tenant == NULL) tenant = "";
    i = lower_bound(s->vms, sn->by_name, sn->n_name, false, tenant, name);
    if (i >= sn->n_name || cmp_key(&s->vms[sn->by_name[i]], tenant, name) != 0) return NULL;
    if (i + 1 < sn->n_name && cmp_key(&s->vms[sn->by_name[i + 1]], tenant, name) == 0) return NULL; /* shared */
    return &s->vms[sn->by_name[i]];
}

/* VMs whose (tenant, name) another VM has too (by_name sorted) */
static size_t count_conflicts(const hs_vm_t *vms, const size_t *idx, size_t n) {
    size_t c = 0;
    for (size_t i = 0; i < n; i++) {
        const hs_vm_t *v = &vms[idx[i]];
        if ((i > 0 && cmp_key(&vms[idx[i - 1]], v->tenant, v->name) == 0) ||
            (i + 1 < n && cmp_key(&vms[idx[i + 1]], v->tenant, v->name) == 0))
            c++;
    }
    return c;
}

static char *arena_put(char **p, const char *s) {
    char *r = *p;
    size_t n = strlen(s) + 1;
    memcpy(r, s, n);
    *p += n;
    return r;
}

/* Copies the strings into one arena and builds the lookup indices. 0 or CTX_ENOMEM. */
static int snap_finish(hostsample_t *hs, struct snap *sn, hs_vm_t *vms, hs_disk_t *disks) {
    size_t len = 1, n = hs->vms->n;
    for (size_t i = 0; i < n; i++) {
        const struct vmstate *v = &hs->vms->v[i];
        len += strlen(v->name) + strlen(v->uuid) + strlen(v->tenant) + strlen(v->source) + 4;
    }
    for (size_t i = 0; i < hs->n_disks; i++) len += strlen(hs->disks[i]) + 1;
    char *p = sn->strings = malloc(len);
    sn->by_uuid = calloc(n + 1, sizeof *sn->by_uuid);
    sn->by_name = calloc(n + 1, sizeof *sn->by_name);
    if (p == NULL || sn->by_uuid == NULL || sn->by_name == NULL) return CTX_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        const struct vmstate *v = &hs->vms->v[i];
        bool show = v->cgroup == NULL || v->resolved;
        vms[i].name = arena_put(&p, v->name);
        vms[i].uuid = arena_put(&p, v->uuid);
        vms[i].tenant = arena_put(&p, v->tenant);
        vms[i].source = arena_put(&p, show ? v->source : "");
        if (*v->uuid) sn->by_uuid[sn->n_uuid++] = i;
        if (*v->name) sn->by_name[sn->n_name++] = i;
    }
    for (size_t i = 0; i < hs->n_disks; i++) disks[i].path = arena_put(&p, hs->disks[i]);
    qsort_r(sn->by_uuid, sn->n_uuid, sizeof *sn->by_uuid, cmp_uuid, vms);
    qsort_r(sn->by_name, sn->n_name, sizeof *sn->by_name, cmp_name, vms);
    sn->pub.name_conflicts = count_conflicts(vms, sn->by_name, sn->n_name);
    return CTX_OK;
}

static void publish(hostsample_t *hs, struct snap *sn) {
    pthread_mutex_lock(&hs->mu);
    struct snap *old = hs->cur;
    hs->cur = sn;
    atomic_store_explicit(&hs->cur_seq, sn->pub.seq, memory_order_release);
    pthread_mutex_unlock(&hs->mu);
    hs_snapshot_release(old ? &old->pub : NULL);
}

const hs_snapshot_t *hostsample_acquire(hostsample_t *hs) {
    pthread_mutex_lock(&hs->mu);
    struct snap *sn = hs->cur;
    if (sn != NULL) atomic_fetch_add_explicit(&sn->refs, 1, memory_order_relaxed);
    pthread_mutex_unlock(&hs->mu);
    return sn ? &sn->pub : NULL;
}

int hostsample_refresh(hostsample_t *hs, const hs_snapshot_t **cur) {
    uint64_t latest = atomic_load_explicit(&hs->cur_seq, memory_order_acquire);
    if (*cur != NULL && (*cur)->seq == latest) return 0;
    const hs_snapshot_t *s = hostsample_acquire(hs);
    if (s == NULL) return 0;
    if (s == *cur) {
        hs_snapshot_release(s);
        return 0;
    }
    hs_snapshot_release(*cur);
    *cur = s;
    return 1;
}

/* ---- one pass ------------------------------------------------------------------------------------- */

static int64_t wall_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int run_pass(hostsample_t *hs, int64_t now_ms) {
    take_staged(hs);
    struct hostdata h = {0};
    read_proc_stat(hs, &h);
    if (h.ncpu > 0) hs->ncpu = h.ncpu;
    read_meminfo(hs, &h);
    read_loadavg(hs, &h);
    size_t n = hs->vms->n;
    struct snap *sn = calloc(1, sizeof *sn);
    hs_vm_t *vms = calloc(n + 1, sizeof *vms);
    hs_disk_t *disks = calloc(hs->n_disks + 1, sizeof *disks);
    if (sn != NULL) {
        atomic_init(&sn->refs, 1);
        sn->pub.vms = vms;
        sn->pub.disks = disks;
    }
    if (sn == NULL || vms == NULL || disks == NULL) goto nomem;
    for (size_t i = 0; i < n; i++) sample_vm(hs, &hs->vms->v[i], &h, now_ms, &vms[i]);
    for (size_t i = 0; i < hs->n_disks; i++) read_disk(hs->disks[i], &disks[i]);
    if (snap_finish(hs, sn, vms, disks) < 0) goto nomem;
    hs_snapshot_t *p = &sn->pub;
    p->seq = ++hs->seq;
    p->taken_ms = now_ms;
    p->wall_ms = wall_ms();
    p->flags = h.flags;
    p->ncpu = hs->ncpu;
    p->host_cpu_pct = h.cpu_pct;
    p->host_mem_pct = h.mem_pct;
    p->mem_total = h.mem_total;
    p->mem_available = h.mem_avail;
    p->load1 = h.load[0];
    p->load5 = h.load[1];
    p->load15 = h.load[2];
    p->n_disks = hs->n_disks;
    p->n_vms = n;
    p->vm_errors = hs->vm_errors;
    p->host_errors = hs->host_errors;
    publish(hs, sn);
    return CTX_OK;
nomem:
    if (sn != NULL) hs_snapshot_release(&sn->pub);
    else {
        free(vms);
        free(disks);
    }
    return CTX_ENOMEM;
}

int hostsample_sample(hostsample_t *hs, int64_t now_ms) {
    pthread_mutex_lock(&hs->mu);
    bool running = hs->running;
    pthread_mutex_unlock(&hs->mu);
    return running ? CTX_EAGAIN : run_pass(hs, now_ms);
}

/* ---- the thread ------------------------------------------------------------------------------------ */

static int64_t mono_ms(void) { return (int64_t)ctx_clock_ms(); }

static void *sampler(void *arg) {
    hostsample_t *hs = arg;
    int64_t next = mono_ms();
    pthread_mutex_lock(&hs->mu);
    while (!hs->stopping) {
        pthread_mutex_unlock(&hs->mu);
        int64_t now = mono_ms();
        run_pass(hs, now);
        next += hs->interval_ms;
        if (next <= now) next = now + hs->interval_ms; /* a pass overran: skip, do not catch up */
        pthread_mutex_lock(&hs->mu);
        while (!hs->stopping && mono_ms() < next) {
            struct timespec ts = {.tv_sec = next / 1000, .tv_nsec = (next % 1000) * 1000000};
            pthread_cond_timedwait(&hs->cv, &hs->mu, &ts);
        }
    }
    pthread_mutex_unlock(&hs->mu);
    return NULL;
}

int hostsample_start(hostsample_t *hs) {
    pthread_mutex_lock(&hs->mu);
    int rc = hs->running ? CTX_EINVAL : CTX_OK;
    if (rc == CTX_OK) {
        hs->stopping = false;
        int e = pthread_create(&hs->thread, NULL, sampler, hs);
        if (e != 0) rc = CTX_ENOMEM;
        else hs->running = true;
    }
    pthread_mutex_unlock(&hs->mu);
    return rc;
}

void hostsample_stop(hostsample_t *hs) {
    pthread_mutex_lock(&hs->mu);
    bool running = hs->running;
    hs->stopping = true;
    pthread_cond_broadcast(&hs->cv);
    pthread_mutex_unlock(&hs->mu);
    if (!running) return;
    pthread_join(hs->thread, NULL);
    pthread_mutex_lock(&hs->mu);
    hs->running = false;
    pthread_mutex_unlock(&hs->mu);
}
