/* Unit tests of common/context/hostsample.c and common/context/cgstat.c on fake /proc and cgroup trees
 * (tests/data/proc/t0, t1 and tests/data/cgroup/t0, t1: two moments 5 s apart). The
 * test points symlinks at t0, samples, re-points them at t1 and samples again. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "check.h"
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cgstat.h"
#include "ctxlog_common.h"
#include "hostsample.h"

#define WEB_TMPL "machine.slice/machine-qemu\\x2d*\\x2d{name_sd}.scope"

static char tmp[PATH_MAX / 2], data[PATH_MAX / 2], proc_link[PATH_MAX], cg_link[PATH_MAX];

static void point_at(const char *moment) {
    char target[PATH_MAX];
    unlink(proc_link);
    unlink(cg_link);
    snprintf(target, sizeof target, "%s/proc/%s", data, moment);
    assert_int_equal(symlink(target, proc_link), 0);
    snprintf(target, sizeof target, "%s/cgroup/%s", data, moment);
    assert_int_equal(symlink(target, cg_link), 0);
}

static int setup(void **state) {
    (void)state;
    const char *top = getenv("top_srcdir");
    char *abs = realpath(top ? top : ".", NULL);
    if (abs == NULL) return -1;
    snprintf(data, sizeof data, "%s/tests/data", abs);
    free(abs);
    snprintf(tmp, sizeof tmp, "/tmp/hs_testXXXXXX");
    if (mkdtemp(tmp) == NULL) return -1;
    snprintf(proc_link, sizeof proc_link, "%s/proc", tmp);
    snprintf(cg_link, sizeof cg_link, "%s/cg", tmp);
    return 0;
}

static int teardown(void **state) {
    (void)state;
    char p[PATH_MAX + 16];
    unlink(proc_link);
    unlink(cg_link);
    snprintf(p, sizeof p, "%s/pf-vm.pid", tmp);
    unlink(p);
    rmdir(tmp);
    return 0;
}

static hostsample_t *make(int64_t interval_ms) {
    static const char *const disks[] = {"/", "/nonexistent-ctxlog-disk"};
    hs_conf_t c;
    hs_conf_defaults(&c);
    c.proc_root = proc_link;
    c.cgroup_root = cg_link;
    c.interval_ms = interval_ms;
    c.disk_paths = disks;
    c.n_disk_paths = 2;
    c.clk_tck = 100;
    c.page_size = 4096;
    hostsample_t *hs = NULL;
    char err[CTX_ERRLEN] = "";
    assert_int_equal(hostsample_new(&hs, &c, err, sizeof err), 0);
    return hs;
}

static void set_vms(hostsample_t *hs, const hs_vm_spec_t *v, size_t n) {
    char err[CTX_ERRLEN] = "";
    int rc = hostsample_set_vms(hs, v, n, err, sizeof err);
    if (rc != 0) fail_msg("set_vms: %s", err);
}

static const hs_vm_t *vm(const hs_snapshot_t *s, const char *name) {
    const hs_vm_t *v = hs_snapshot_find(s, NULL, NULL, name);
    if (v == NULL) fail_msg("no VM '%s' in the snapshot", name);
    return v;
}

static void good_vms(hostsample_t *hs) {
    char pidfile[PATH_MAX + 16], tmpl[PATH_MAX + 16];
    snprintf(pidfile, sizeof pidfile, "%s/pf-vm.pid", tmp);
    FILE *fp = fopen(pidfile, "w");
    assert_non_null(fp);
    fputs("4242\n", fp);
    fclose(fp);
    snprintf(tmpl, sizeof tmpl, "%s/{name}.pid", tmp);
    const hs_vm_spec_t vms[] = {
        {.name = "web-01", .uuid = "u-web", .cgroup = WEB_TMPL},
        {.name = "db", .uuid = "u-db", .cgroup = WEB_TMPL},
        {.name = "app", .cgroup = "/system.slice/app.scope"},
        {.name = "proc-vm", .pid = 4242},
        {.name = "pf-vm", .pidfile = tmpl},
    };
    set_vms(hs, vms, 5);
}

static void host_and_vm_figures_from_two_passes(void **state) {
    (void)state;
    point_at("t0");
    hostsample_t *hs = make(5000);
    good_vms(hs);
    assert_null(hostsample_acquire(hs));
    assert_int_equal(hostsample_sample(hs, 1000), 0);
    const hs_snapshot_t *s = hostsample_acquire(hs);
    assert_non_null(s);
    assert_int_equal(s->seq, 1);
    assert_int_equal(s->taken_ms, 1000);
    assert_int_equal(s->flags, HS_HOST_MEM | HS_HOST_LOAD); /* no CPU before a delta */
    assert_int_equal(s->ncpu, 4);
    assert_float_equal(s->host_mem_pct, 25.0, 1e-9);
    assert_int_equal(s->mem_total, 8000000ULL * 1024);
    assert_int_equal(s->mem_available, 6000000ULL * 1024);
    assert_float_equal(s->load1, 0.5, 1e-9);
    assert_float_equal(s->load5, 0.75, 1e-9);
    assert_float_equal(s->load15, 1.25, 1e-9);
    assert_int_equal(s->n_disks, 2);
    assert_string_equal(s->disks[0].path, "/");
    assert_int_equal(s->disks[0].ok, 1);
    assert_true(s->disks[0].free_pct >= 0 && s->disks[0].free_pct <= 100);
    ASSERT_GT(s->disks[0].total_bytes, 0);
    assert_int_equal(s->disks[1].ok, 0);
    assert_int_equal(s->n_vms, 5);
    const hs_vm_t *w = vm(s, "web-01");
    assert_int_equal(w->err, HS_VM_OK);
    assert_string_equal(w->source, "machine.slice/machine-qemu\\x2d1\\x2dweb\\x2d01.scope");
    assert_int_equal(w->flags, HS_VM_MEM | HS_VM_MEMPCT | HS_VM_LIMIT);
    assert_int_equal(w->mem_bytes, 1073741824);
    assert_int_equal(w->mem_limit_bytes, 2147483648ULL);
    assert_float_equal(w->mem_pct, 50.0, 1e-9);
    assert_string_equal(vm(s, "db")->source, "machine.slice/machine-qemu\\x2d2\\x2ddb.scope");
    assert_string_equal(vm(s, "proc-vm")->source, "pid:4242");
    assert_string_equal(vm(s, "pf-vm")->source, "pid:4242");
    assert_int_equal(s->vm_errors, 0);
    assert_int_equal(s->host_errors, 0);

    point_at("t1");
    assert_int_equal(hostsample_sample(hs, 6000), 0);
    assert_int_equal(hostsample_refresh(hs, &s), 1);
    assert_int_equal(hostsample_refresh(hs, &s), 0);
    assert_int_equal(s->seq, 2);
    assert_int_equal(s->flags, HS_HOST_CPU | HS_HOST_MEM | HS_HOST_LOAD);
    assert_float_equal(s->host_cpu_pct, 40.0, 1e-9); /* 800 busy of 2000 jiffies */
    assert_float_equal(s->host_mem_pct, 75.0, 1e-9);
    w = hs_snapshot_find(s, "u-web", NULL, "ignored");
    assert_non_null(w);
    assert_string_equal(w->name, "web-01");
    assert_int_equal(w->flags, HS_VM_CPU | HS_VM_MEM | HS_VM_MEMPCT | HS_VM_LIMIT);
    assert_float_equal(w->cpu_pct, 50.0, 1e-6);       /* 2.5 s in 5 s */
    assert_float_equal(w->cpu_host_pct, 12.5, 1e-6);  /* of 4 CPUs */
    const hs_vm_t *d = vm(s, "db");                   /* cgroup v1 */
    assert_float_equal(d->cpu_pct, 150.0, 1e-6);
    assert_int_equal(d->flags, HS_VM_CPU | HS_VM_MEM | HS_VM_MEMPCT); /* v1 "unlimited" */
    assert_int_equal(d->mem_bytes, 536870912);
    assert_float_equal(d->mem_pct, 100.0 * 536870912 / (8000000.0 * 1024), 1e-6); /* of MemTotal */
    const hs_vm_t *a = vm(s, "app");                  /* hybrid: unified cpu, v1 memory */
    assert_string_equal(a->source, "system.slice/app.scope");
    assert_float_equal(a->cpu_pct, 10.0, 1e-6);
    assert_float_equal(a->mem_pct, 25.0, 1e-6);
    const hs_vm_t *p = vm(s, "proc-vm");              /* 500 ticks of 10 ms in 5 s */
    assert_float_equal(p->cpu_pct, 100.0, 1e-6);
    assert_int_equal(p->mem_bytes, 51200ULL * 4096);
    assert_int_equal(p->flags, HS_VM_CPU | HS_VM_MEM | HS_VM_MEMPCT);
    assert_float_equal(vm(s, "pf-vm")->cpu_pct, 100.0, 1e-6);
    assert_null(hs_snapshot_find(s, "nope", NULL, "nope"));
    assert_null(hs_snapshot_find(s, NULL, NULL, NULL));
    hostsample_free(hs);
    assert_string_equal(vm(s, "db")->name, "db"); /* a held snapshot outlives the sampler */
    hs_snapshot_release(s);
    hs_snapshot_release(NULL);
    hostsample_free(NULL);
}

static void missing_and_bad_files_set_errors(void **state) {
    (void)state;
    point_at("t0");
    hostsample_t *hs = make(5000);
    char pidfile[PATH_MAX + 16];
    snprintf(pidfile, sizeof pidfile, "%s/none/{uuid}.pid", tmp);
    const hs_vm_spec_t vms[] = {
        {.name = "dup", .cgroup = "machine.slice/machine-qemu*{name_sd}.scope"},
        {.name = "garbage", .cgroup = "machine.slice/{name}.scope"},
        {.name = "empty", .cgroup = "machine.slice/{name}.scope"},
        {.name = "missing", .cgroup = "machine.slice/{name}.scope"},
        {.name = "gone", .pid = 9999},
        {.name = "broken", .pid = 4343},
        {.name = "nopidfile", .uuid = "u-x", .pidfile = pidfile},
        {.name = "a*b", .cgroup = "machine.slice/{name}.scope"},
        {.name = "no-uuid", .cgroup = "machine.slice/{uuid}.scope"},
    };
    const int expect[] = {HS_VM_EAMBIGUOUS, HS_VM_EPARSE,  HS_VM_EREAD,    HS_VM_ENOCGROUP, HS_VM_ENOPROC,
                          HS_VM_EPARSE,     HS_VM_ENOPROC, HS_VM_EBADNAME, HS_VM_EBADNAME};
    set_vms(hs, vms, 9);
    assert_int_equal(hostsample_sample(hs, 1000), 0);
    point_at("t1");
    assert_int_equal(hostsample_sample(hs, 6000), 0);
    const hs_snapshot_t *s = hostsample_acquire(hs);
    for (int i = 0; i < 9; i++) {
        const hs_vm_t *v = vm(s, vms[i].name);
        if (v->err != expect[i]) fail_msg("%s: err %d (%s), expected %d", vms[i].name, v->err,
                                          hs_vm_strerror(v->err), expect[i]);
        assert_int_equal(v->errors, 2);
        if (i != 1) assert_int_equal(v->flags, 0);
    }
    const hs_vm_t *g = vm(s, "garbage"); /* bad cpu.stat, memory still read */
    assert_int_equal(g->flags, HS_VM_MEM | HS_VM_MEMPCT);
    assert_int_equal(g->mem_bytes, 4096);
    assert_string_equal(vm(s, "dup")->source, "");
    assert_int_equal(s->vm_errors, 18);
    assert_string_equal(hs_vm_strerror(HS_VM_EAMBIGUOUS), "cgroup template matches more than one cgroup");
    assert_string_equal(hs_vm_strerror(99), "unknown error");
    hs_snapshot_release(s);
    hostsample_free(hs);

    /* a proc root without the files: host flags off, counted, no crash */
    hs_conf_t c;
    hs_conf_defaults(&c);
    c.proc_root = tmp;
    c.cgroup_root = tmp;
    char err[CTX_ERRLEN];
    assert_int_equal(hostsample_new(&hs, &c, err, sizeof err), 0);
    assert_int_equal(hostsample_sample(hs, 1), 0);
    assert_int_equal(hostsample_sample(hs, 2), 0);
    s = hostsample_acquire(hs);
    assert_int_equal(s->flags, 0);
    assert_int_equal(s->host_errors, 6);
    assert_int_equal(s->n_vms, 0);
    hs_snapshot_release(s);
    hostsample_free(hs);
}

static void vm_list_changes_keep_state_of_kept_vms(void **state) {
    (void)state;
    point_at("t0");
    hostsample_t *hs = make(5000);
    good_vms(hs);
    assert_int_equal(hostsample_sample(hs, 1000), 0);
    /* web-01 stays as it was; db gets another (here: missing) cgroup; proc-vm is new */
    const hs_vm_spec_t vms[] = {
        {.name = "web-01", .uuid = "u-web", .cgroup = WEB_TMPL},
        {.name = "db", .uuid = "u-db", .cgroup = "machine.slice/other.scope"},
        {.name = "proc-vm2", .pid = 4242},
    };
    set_vms(hs, vms, 3);
    point_at("t1");
    assert_int_equal(hostsample_sample(hs, 6000), 0);
    const hs_snapshot_t *s = hostsample_acquire(hs);
    assert_int_equal(s->n_vms, 3);
    assert_float_equal(vm(s, "web-01")->cpu_pct, 50.0, 1e-6);
    assert_int_equal(vm(s, "db")->err, HS_VM_ENOCGROUP);
    assert_int_equal(vm(s, "db")->errors, 1);
    assert_int_equal(vm(s, "proc-vm2")->flags & HS_VM_CPU, 0); /* new: no delta yet */
    assert_null(hs_snapshot_find(s, NULL, NULL, "app"));
    hs_snapshot_release(s);
    hostsample_free(hs);
}

static void expect_vm_error(const hs_vm_spec_t *v, const char *msg) {
    hostsample_t *hs = make(5000);
    char err[CTX_ERRLEN] = "";
    const hs_vm_spec_t ok = {.name = "fine", .pid = 1};
    hs_vm_spec_t two[2] = {ok, *v};
    assert_int_equal(hostsample_set_vms(hs, two, 2, err, sizeof err), CTX_EINVAL);
    assert_string_equal(err, msg);
    hostsample_free(hs);
}

static void vm_spec_errors_name_the_vm(void **state) {
    (void)state;
    expect_vm_error(&(hs_vm_spec_t){.cgroup = "x"}, "vm #2: needs a name or a uuid");
    expect_vm_error(&(hs_vm_spec_t){.name = "", .uuid = ""}, "vm #2: needs a name or a uuid");
    expect_vm_error(&(hs_vm_spec_t){.name = "web01"}, "vm 'web01': needs a cgroup, a pidfile or a pid");
    expect_vm_error(&(hs_vm_spec_t){.uuid = "u-1", .pid = -3}, "vm 'u-1': needs a cgroup, a pidfile or a pid");
    expect_vm_error(&(hs_vm_spec_t){.name = "w", .cgroup = "a/../b"},
                    "vm 'w': cgroup 'a/../b': component '..' not allowed");
    expect_vm_error(&(hs_vm_spec_t){.name = "w", .cgroup = "a/./b"},
                    "vm 'w': cgroup 'a/./b': component '.' not allowed");
    expect_vm_error(&(hs_vm_spec_t){.name = "w", .cgroup = "a//b"},
                    "vm 'w': cgroup 'a//b': an empty component not allowed");
    expect_vm_error(&(hs_vm_spec_t){.name = "w", .cgroup = "a/"},
                    "vm 'w': cgroup 'a/': an empty component not allowed");
    expect_vm_error(&(hs_vm_spec_t){.name = "w", .cgroup = ""}, "vm 'w': cgroup is empty");
    expect_vm_error(&(hs_vm_spec_t){.name = "w", .cgroup = "/"}, "vm 'w': cgroup is empty");
    expect_vm_error(&(hs_vm_spec_t){.name = "w", .cgroup = "m/{id}.scope"},
                    "vm 'w': cgroup 'm/{id}.scope': unknown placeholder '{id}' (expected {name}, {uuid} or {name_sd})");
    expect_vm_error(&(hs_vm_spec_t){.name = "w", .pidfile = "run/{name}.pid"},
                    "vm 'w': pidfile 'run/{name}.pid': must be an absolute path");
    expect_vm_error(&(hs_vm_spec_t){.name = "w", .pidfile = "/run/*.pid"},
                    "vm 'w': pidfile '/run/*.pid': wildcards are not allowed");
    expect_vm_error(&(hs_vm_spec_t){.name = "w", .pidfile = "/run/{nam"},
                    "vm 'w': pidfile '/run/{nam': unknown placeholder '{' (expected {name}, {uuid} or {name_sd})");
}

static void expect_conf_error(const hs_conf_t *c, const char *msg) {
    hostsample_t *hs = (hostsample_t *)1;
    char err[CTX_ERRLEN] = "";
    assert_int_equal(hostsample_new(&hs, c, err, sizeof err), CTX_EINVAL);
    assert_null(hs);
    assert_string_equal(err, msg);
}

static void conf_errors_name_the_key(void **state) {
    (void)state;
    hs_conf_t d, c;
    hs_conf_defaults(&d);
    c = d;
    c.interval_ms = 50;
    expect_conf_error(&c, "host.interval: must be between 100 and 3600000 (got 50)");
    c = d;
    c.proc_root = "proc";
    expect_conf_error(&c, "host.procRoot: 'proc' must be an absolute path (shorter than 2048 bytes)");
    c = d;
    c.cgroup_root = NULL;
    expect_conf_error(&c, "host.cgroupRoot: '' must be an absolute path (shorter than 2048 bytes)");
    static const char *const bad[] = {"/", "var"};
    c = d;
    c.disk_paths = bad;
    c.n_disk_paths = 2;
    expect_conf_error(&c, "host.diskPaths: 'var' must be an absolute path (shorter than 2048 bytes)");
    c.n_disk_paths = 65;
    expect_conf_error(&c, "host.diskPaths: at most 64 paths (got 65)");
}

/* ---- the thread and concurrent readers ------------------------------------------------ */
struct reader {
    hostsample_t *hs;
    atomic_bool stop;
    atomic_long reads;
    atomic_int bad;
};

static void *read_loop(void *arg) {
    struct reader *r = arg;
    const hs_snapshot_t *cur = NULL;
    while (!atomic_load(&r->stop)) {
        hostsample_refresh(r->hs, &cur);
        const hs_snapshot_t *s = hostsample_acquire(r->hs);
        if (s != NULL) {
            const hs_vm_t *v = hs_snapshot_find(s, "u-web", NULL, NULL);
            if (v == NULL || strcmp(v->name, "web-01") != 0) r->bad++;
            hs_snapshot_release(s);
        }
        r->reads++;
    }
    hs_snapshot_release(cur);
    return NULL;
}

/* a name is a key only within a tenant; a (tenant, name) two VMs share finds neither */
static void names_are_keys_only_within_a_tenant(void **state) {
    (void)state;
    point_at("t0");
    hostsample_t *hs = make(5000);
    const hs_vm_spec_t vms[] = {
        {.name = "web", .tenant = "acme", .pid = 4242},
        {.name = "web", .tenant = "globex", .pid = 1},
        {.name = "web", .uuid = "u-initech", .tenant = "initech", .pid = 2},
        {.name = "db", .tenant = "acme", .pid = 3},
        {.name = "db", .tenant = "acme", .pid = 4}, /* twice in one tenant: ambiguous */
        {.name = "solo", .pid = 5},                 /* no tenant */
    };
    set_vms(hs, vms, 6);
    assert_int_equal(hostsample_sample(hs, 1000), 0);
    const hs_snapshot_t *s = hostsample_acquire(hs);
    const hs_vm_t *v = hs_snapshot_find(s, NULL, "acme", "web");
    assert_non_null(v);
    assert_string_equal(v->tenant, "acme");
    assert_string_equal(v->source, "pid:4242");
    v = hs_snapshot_find(s, "", "globex", "web");
    assert_non_null(v);
    assert_string_equal(v->source, "pid:1");
    assert_null(hs_snapshot_find(s, NULL, "umbrella", "web")); /* another tenant's name: nothing */
    assert_null(hs_snapshot_find(s, NULL, NULL, "web"));       /* no tenant: only VMs without one */
    assert_string_equal(hs_snapshot_find(s, "u-initech", "acme", "web")->tenant, "initech"); /* uuid decides */
    assert_string_equal(hs_snapshot_find(s, "u-unknown", "globex", "web")->tenant, "globex");
    assert_null(hs_snapshot_find(s, NULL, "acme", "db")); /* shared: refused */
    assert_int_equal(s->name_conflicts, 2);
    assert_string_equal(hs_snapshot_find(s, NULL, "", "solo")->name, "solo");
    assert_null(hs_snapshot_find(s, NULL, "acme", "solo"));
    hs_snapshot_release(s);
    hostsample_free(hs);
}

static void thread_publishes_every_interval(void **state) {
    (void)state;
    point_at("t1");
    hostsample_t *hs = make(100);
    good_vms(hs);
    struct reader r = {.hs = hs};
    pthread_t t[2];
    assert_int_equal(hostsample_start(hs), 0);
    assert_int_equal(hostsample_start(hs), CTX_EINVAL);
    assert_int_equal(hostsample_sample(hs, 1), CTX_EAGAIN);
    for (int i = 0; i < 2; i++) assert_int_equal(pthread_create(&t[i], NULL, read_loop, &r), 0);
    const hs_snapshot_t *s = NULL;
    for (int i = 0; i < 300 && (s == NULL || s->seq < 5); i++) {
        hostsample_refresh(hs, &s);
        poll(NULL, 0, 10);
    }
    assert_non_null(s);
    ASSERT_GE(s->seq, 5);
    int64_t first_ms = s->taken_ms;
    uint64_t first_seq = s->seq;
    /* at least one more sample (the thread keeps publishing), however loaded the machine */
    for (int i = 0; i < 500 && s->seq == first_seq; i++) {
        poll(NULL, 0, 10);
        hostsample_refresh(hs, &s);
    }
    poll(NULL, 0, 350);
    hostsample_refresh(hs, &s);
    /* the readers stop before any check: a failed assertion must not leave them running
     * on this stack frame */
    hostsample_stop(hs);
    atomic_store(&r.stop, true);
    for (int i = 0; i < 2; i++) pthread_join(t[i], NULL);
    ASSERT_GT(s->seq, first_seq);
    int64_t per = (s->taken_ms - first_ms) / (int64_t)(s->seq - first_seq);
    /* interval 100 ms: never faster (a loaded machine can only make it slower) */
    ASSERT_GE(per, 95);
    /* same files every pass (t1 only): zero CPU, but a valid figure */
    assert_int_equal(vm(s, "web-01")->flags & HS_VM_CPU, HS_VM_CPU);
    assert_float_equal(vm(s, "web-01")->cpu_pct, 0.0, 1e-9);
    int64_t t0 = s->taken_ms;
    assert_int_equal(r.bad, 0);
    ASSERT_GT(r.reads, 10);
    assert_int_equal(hostsample_sample(hs, t0 + 100), 0); /* stopped: callable again */
    hostsample_stop(hs);
    hs_snapshot_release(s);
    hostsample_free(hs);
}

/* ---- cgstat helpers ---------------------------------------------------------------------- */

static void cgstat_helpers(void **state) {
    (void)state;
    char out[64];
    assert_int_equal(cg_systemd_escape("web-01", out, sizeof out), 9);
    assert_string_equal(out, "web\\x2d01");
    assert_int_equal(cg_systemd_escape(".a/b c:d_e.f", out, sizeof out), 18);
    assert_string_equal(out, "\\x2ea-b\\x20c:d_e.f");
    assert_int_equal(cg_systemd_escape("abcdef", out, 4), 6);
    assert_string_equal(out, "abc");
    assert_int_equal(cg_subst("m/{name}-{uuid}/{name_sd}", "a-b", "U", 1, out, sizeof out), 14);
    assert_string_equal(out, "m/a-b-U/a\\x2db");
    assert_int_equal(cg_subst("{name}", "x/y", "", 1, out, sizeof out), CTX_EINVAL);
    assert_int_equal(cg_subst("{name}", "x/y", "", 0, out, sizeof out), CTX_EINVAL); /* pidfile: no traversal */
    assert_int_equal(cg_subst("/run/libvirt/qemu/{name}.pid", "../../sshd", "", 0, out, sizeof out), CTX_EINVAL);
    assert_int_equal(cg_subst("/run/{name}/x.pid", "..", "", 0, out, sizeof out), CTX_EINVAL);
    assert_int_equal(cg_subst("/run/{name}.pid", "..x", "", 0, out, sizeof out), 12);
    assert_string_equal(out, "/run/..x.pid");
    assert_int_equal(cg_subst("{name_sd}", "x/y", "", 1, out, sizeof out), 3);
    assert_string_equal(out, "x-y");
    assert_int_equal(cg_subst("{uuid}", "n", NULL, 0, out, sizeof out), CTX_EINVAL);
    assert_int_equal(cg_subst("{nope}", "n", "u", 0, out, sizeof out), CTX_EINVAL);
    assert_int_equal(cg_subst("abcdef", "n", "u", 0, out, 6), CTX_EFULL);

    point_at("t0");
    assert_int_equal(cg_resolve(cg_link, WEB_TMPL, "web-01", NULL, out, 20), CTX_EFULL);
    assert_int_equal(cg_resolve(cg_link, "machine.slice/*.nothing", "x", NULL, out, sizeof out), CTX_ENOENT);
    assert_int_equal(cg_resolve(cg_link, "machine.slice/.*", "x", NULL, out, sizeof out), CTX_ENOENT);
    assert_int_equal(cg_resolve(cg_link, "*/garbage.scope", "x", NULL, out, sizeof out), 0);
    assert_string_equal(out, "machine.slice/garbage.scope");
    cg_usage_t u;
    assert_int_equal(cg_read(cg_link, "machine.slice/nothing", &u), CTX_ENOENT);
    assert_int_equal(u.flags, 0);

    char path[PATH_MAX + 16], buf[8];
    long pid = 0;
    snprintf(path, sizeof path, "%s/pidfile", tmp);
    const char *bad[] = {"", "0\n", "12x\n", "-5\n", "99999999999\n"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        FILE *fp = fopen(path, "w");
        fputs(bad[i], fp);
        fclose(fp);
        assert_int_equal(cg_read_pidfile(path, &pid), CTX_EPARSE);
    }
    FILE *fp = fopen(path, "w");
    fputs("123 \n", fp);
    fclose(fp);
    assert_int_equal(cg_read_pidfile(path, &pid), 0);
    assert_int_equal(pid, 123);
    assert_int_equal(cg_read_file(path, buf, sizeof buf), 5);
    assert_int_equal(cg_read_file(path, buf, 5), CTX_EFULL);
    unlink(path);
    assert_int_equal(cg_read_pidfile(path, &pid), CTX_ENOENT);
    assert_int_equal(cg_read_pid(proc_link, 4242, 0, 4096, &u), CTX_EINVAL);
}

CTX_TEST_MAIN(setup, teardown,
    cmocka_unit_test(host_and_vm_figures_from_two_passes),
    cmocka_unit_test(names_are_keys_only_within_a_tenant),
    cmocka_unit_test(missing_and_bad_files_set_errors),
    cmocka_unit_test(vm_list_changes_keep_state_of_kept_vms),
    cmocka_unit_test(vm_spec_errors_name_the_vm),
    cmocka_unit_test(conf_errors_name_the_key),
    cmocka_unit_test(thread_publishes_every_interval),
    cmocka_unit_test(cgstat_helpers))
