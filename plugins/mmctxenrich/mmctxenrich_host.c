/* mmctxenrich_host.c: the host side of mmctxenrich ($!ctx!host).
 *
 * The sampler's VM list comes from the profiles file: per VM its cgroup (the
 * profile's absolute path, made relative to host.cgroupRoot), else its pid, else the
 * module's host.cgroupTemplate / host.pidfileTemplate (not for a VM whose name another
 * VM has too, when the template names VMs by name). A message finds its VM by uuid, else
 * by (tenant, name): a name is a key only within one tenant (hs_snapshot_find). Per message a worker reads
 * the latest snapshot (hostsample_refresh: one atomic load when nothing changed) and
 * builds $!ctx!host; numbers are formatted once per snapshot where they are the
 * same for every message (host CPU, memory, load, disks). Those host-wide figures go in
 * only when the policy's hostwide action asks (docs/threat-model.md); otherwise a message
 * carries its own VM's figures and sampled_at.
 *
 * Concurrency: mmx_host_set_vms runs on the config or HUP thread (hostsample_set_vms
 * is thread-safe); mmx_host_object on a worker, with that worker's mmx_wrkr only.
 */
#include "config.h"
#include "rsyslog.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json.h>

#include "mmctxenrich.h"

/* keys below are literals, each added once to a fresh object */
#define KEYFLAGS (FJSON_OBJECT_KEY_IS_CONSTANT | FJSON_OBJECT_ADD_KEY_IS_NEW)

/* controller directories of a v1 / hybrid hierarchy: the sampler looks under each */
static const char *const controller_dirs[] = {"unified", "cpuacct", "cpu,cpuacct", "cpu", "memory", "systemd"};

/* The profile's absolute cgroup path relative to root ("/sys/fs/cgroup/cpuacct/vms/a"
 * -> "vms/a"): the root prefix goes, then a leading controller directory. A path
 * outside root is returned as it is (the sampler then takes it relative to root). */
static const char *cgroup_rel(const char *root, const char *path) {
    size_t rl = strlen(root);
    while (rl > 1 && root[rl - 1] == '/') rl--;
    if (strncmp(path, root, rl) != 0 || path[rl] != '/') return path;
    const char *rel = path + rl + 1;
    for (size_t i = 0; i < sizeof controller_dirs / sizeof controller_dirs[0]; i++) {
        size_t n = strlen(controller_dirs[i]);
        if (strncmp(rel, controller_dirs[i], n) == 0 && rel[n] == '/') return rel + n + 1;
    }
    return rel;
}

/* 1 if another profile, of any tenant, has v's name */
static int name_shared(const ctx_profiles_t *p, const ctx_profile_t *v) {
    for (size_t i = 0; i < ctx_profiles_count(p); i++) {
        const ctx_profile_t *o = ctx_profiles_at(p, i);
        if (o != v && strcmp(o->name, v->name) == 0) return 1;
    }
    return 0;
}

/* a template that names the VM by its name (not its uuid): two VMs of one name resolve alike */
static int by_name(const char *tmpl) {
    return tmpl != NULL && strstr(tmpl, "{name") != NULL;
}

int mmx_host_set_vms(mmx_inst *inst, const ctx_profiles_t *p, char *err, size_t errlen) {
    size_t n = ctx_profiles_count(p), k = 0, refused = 0;
    const char *root = inst->cgroup_root ? inst->cgroup_root : "/sys/fs/cgroup";
    hs_vm_spec_t *specs = calloc(n ? n : 1, sizeof *specs);
    if (specs == NULL) {
        snprintf(err, errlen, "out of memory");
        return CTX_ENOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        const ctx_profile_t *v = ctx_profiles_at(p, i);
        hs_vm_spec_t *s = &specs[k];
        const char *tmpl = inst->cgroup_tmpl ? inst->cgroup_tmpl : inst->pidfile_tmpl;
        s->name = v->name;
        s->uuid = v->uuid;
        s->tenant = v->tenant;
        if (v->cgroup) {
            s->cgroup = cgroup_rel(root, v->cgroup);
        } else if (v->pid) {
            s->pid = v->pid;
        } else if (tmpl == NULL) {
            continue; /* nothing to sample this VM by */
        } else if (by_name(tmpl) && name_shared(p, v)) {
            refused++; /* another VM of that name (maybe another tenant's) would be sampled as this one */
            continue;
        } else if (inst->cgroup_tmpl) {
            s->cgroup = inst->cgroup_tmpl;
        } else {
            s->pidfile = inst->pidfile_tmpl;
        }
        k++;
    }
    __atomic_store_n(&inst->host_tmpl_refused, (uint64_t)refused, __ATOMIC_RELAXED);
    if (refused > 0)
        LogMsg(0, NO_ERRCODE, LOG_WARNING, "mmctxenrich(%s): %zu VM(s) share their name with another VM and have no "
               "cgroup or pid of their own: not sampled by the {name} template (host.name.conflicts)", inst->name,
               refused);
    int rc = hostsample_set_vms(inst->hs, specs, k, err, errlen);
    free(specs);
    return rc;
}

/* d with dec (0..3) decimals, halves away from zero; buf >= 32 bytes */
static void fmt_fixed(double d, int dec, char *buf) {
    static const uint64_t P[] = {1, 10, 100, 1000};
    int neg = d < 0;
    if (neg) d = -d;
    if (!(d < 1e15)) d = 0; /* NaN, huge: never from /proc, but keep the JSON valid */
    uint64_t v = (uint64_t)(d * (double)P[dec] + 0.5);
    int len = snprintf(buf, 32, "%s%llu", neg && v ? "-" : "", (unsigned long long)(v / P[dec]));
    if (dec > 0) snprintf(buf + len, (size_t)(32 - len), ".%0*llu", dec, (unsigned long long)(v % P[dec]));
}

static void add_num(struct fjson_object *o, const char *k, double d, const char *text) {
    fjson_object_object_add_ex(o, k, fjson_object_new_double_s(d, text), KEYFLAGS);
}

static void add_fixed(struct fjson_object *o, const char *k, double d, int dec) {
    char buf[32];
    fmt_fixed(d, dec, buf);
    add_num(o, k, d, buf);
}

/* texts of the host-wide figures, once per snapshot and worker */
static void format_snapshot(mmx_wrkr *w, const hs_snapshot_t *s) {
    fmt_fixed(s->host_cpu_pct, 1, w->host_cpu);
    fmt_fixed(s->host_mem_pct, 1, w->host_mem);
    fmt_fixed(s->load1, 2, w->load[0]);
    fmt_fixed(s->load5, 2, w->load[1]);
    fmt_fixed(s->load15, 2, w->load[2]);
    double min = 101;
    for (size_t i = 0; i < s->n_disks; i++)
        if (s->disks[i].ok && s->disks[i].free_pct < min) min = s->disks[i].free_pct;
    if (min <= 100)
        fmt_fixed(min, 1, w->disk_min);
    else
        w->disk_min[0] = '\0';
    mmx_fmt_time_ms(s->wall_ms, w->sampled_at, sizeof w->sampled_at);
    w->fmt_seq = s->seq;
}

static void add_disks(struct fjson_object *o, const hs_snapshot_t *s, const mmx_wrkr *w) {
    if (w->disk_min[0] != '\0') add_num(o, "disk_free_pct", strtod(w->disk_min, NULL), w->disk_min);
    struct fjson_object *arr = fjson_object_new_array();
    for (size_t i = 0; arr != NULL && i < s->n_disks; i++) {
        struct fjson_object *d = fjson_object_new_object();
        if (d == NULL) break;
        fjson_object_object_add_ex(d, "path", fjson_object_new_string(s->disks[i].path), KEYFLAGS);
        if (s->disks[i].ok) {
            add_fixed(d, "free_pct", s->disks[i].free_pct, 1);
            fjson_object_object_add_ex(d, "free_bytes", fjson_object_new_int64((int64_t)s->disks[i].free_bytes),
                                       KEYFLAGS);
        } else {
            fjson_object_object_add_ex(d, "error", fjson_object_new_string("statvfs failed"),
                                       KEYFLAGS);
        }
        fjson_object_array_add(arr, d);
    }
    if (arr != NULL) fjson_object_object_add_ex(o, "disks", arr, KEYFLAGS);
}

static void add_vm(struct fjson_object *o, const hs_vm_t *v) {
    if (v->flags & HS_VM_CPU) add_fixed(o, "vm_cpu_pct", v->cpu_pct, 1);
    if (v->flags & HS_VM_MEM)
        fjson_object_object_add_ex(o, "vm_mem_bytes", fjson_object_new_int64((int64_t)v->mem_bytes),
                                   KEYFLAGS);
    if (v->flags & HS_VM_MEMPCT) add_fixed(o, "vm_mem_pct", v->mem_pct, 1);
    if (v->err != HS_VM_OK)
        fjson_object_object_add_ex(o, "vm_error", fjson_object_new_string(hs_vm_strerror(v->err)),
                                   KEYFLAGS);
}

static void add_hostwide(mmx_wrkr *w, const hs_snapshot_t *s, struct fjson_object *o);

/* a new $!ctx!host object for VM v (NULL: none) of snapshot s; the host-wide figures only
 * with hostwide (the policy's hostwide action: docs/threat-model.md) */
static struct fjson_object *host_build(mmx_wrkr *w, const hs_snapshot_t *s, const hs_vm_t *v, int hostwide) {
    struct fjson_object *o = fjson_object_new_object();
    if (o == NULL) return NULL;
    if (hostwide) add_hostwide(w, s, o);
    if (v != NULL) add_vm(o, v);
    fjson_object_object_add_ex(o, "sampled_at", fjson_object_new_string(w->sampled_at), KEYFLAGS);
    return o;
}

static void add_hostwide(mmx_wrkr *w, const hs_snapshot_t *s, struct fjson_object *o) {
    if (s->flags & HS_HOST_CPU) add_num(o, "host_cpu_pct", s->host_cpu_pct, w->host_cpu);
    if (s->flags & HS_HOST_MEM) add_num(o, "host_mem_pct", s->host_mem_pct, w->host_mem);
    if (s->flags & HS_HOST_LOAD) {
        add_num(o, "load1", s->load1, w->load[0]);
        add_num(o, "load5", s->load5, w->load[1]);
        add_num(o, "load15", s->load15, w->load[2]);
    }
    if (s->n_disks > 0) add_disks(o, s, w);
}

/* the worker's frozen object for this snapshot and VM (a reference), built on a miss */
struct fjson_object *mmx_host_object(mmx_wrkr *w, const char *uuid, const char *tenant, const char *name,
                                     int hostwide) {
    mmx_inst *inst = w->inst;
    if (inst->hs == NULL) return NULL;
    hostsample_refresh(inst->hs, &w->snap);
    const hs_snapshot_t *s = w->snap;
    if (s == NULL) return NULL; /* before the first pass */
    if (s->seq != w->fmt_seq) format_snapshot(w, s);
    const hs_vm_t *v = (uuid[0] || name[0]) ? hs_snapshot_find(s, uuid, tenant, name) : NULL;
    hostwide = hostwide != 0;
    if (v == NULL && !hostwide) return NULL; /* nothing of its own to show */
    if (!inst->share_host) return host_build(w, s, v, hostwide);
    /* entries of an older snapshot never match again (seq); the object owns its texts */
    uintptr_t k[MMX_SHARE_KEY] = {(uintptr_t)s, (uintptr_t)s->seq, (uintptr_t)v, 1 | (uintptr_t)hostwide << 1};
    struct fjson_object *o = mmx_share_get(w->host_share, k);
    return o != NULL ? o : mmx_share_put(&w->host_share, k, host_build(w, s, v, hostwide), NULL);
}
