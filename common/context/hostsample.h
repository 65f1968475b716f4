/* hostsample.h: the host-context sampler of mmctxenrich.
 *
 * A background thread samples, every interval (default 5 s): host CPU % (/proc/stat),
 * memory % (/proc/meminfo), load average (/proc/loadavg), free space of configured
 * paths (statvfs), and per VM: CPU % and memory use from its cgroup or process
 * (cgstat.h). Each pass publishes a new immutable, refcounted snapshot by swapping a
 * pointer; workers take a reference (a pointer copy and an atomic increment under a
 * tiny mutex, never held across I/O) or, cheaper, keep one per worker and call
 * hostsample_refresh() per message, which takes the mutex only when a newer snapshot
 * exists. Never a shell command; a missing or unreadable file sets a per-VM error and
 * counts, never crashes.
 *
 * Percentages are computed from the deltas between two passes: the first snapshot has
 * no CPU figures (HS_HOST_CPU / HS_VM_CPU unset).
 *
 * Thread-safety: hostsample_acquire / _refresh / hs_snapshot_release / hs_snapshot_find
 * and hostsample_set_vms from any thread. hostsample_new / _start / _free from one
 * thread (the module's config/activation path). hostsample_sample() only while the
 * thread is not running (tests, or a module that samples on its own schedule).
 */
#ifndef CTXLOG_HOSTSAMPLE_H
#define CTXLOG_HOSTSAMPLE_H

#include <stddef.h>
#include <stdint.h>

typedef struct hostsample hostsample_t;

typedef struct hs_conf {
    const char *proc_root;              /* host.procRoot: default "/proc" */
    const char *cgroup_root;            /* host.cgroupRoot: default "/sys/fs/cgroup" */
    int64_t interval_ms;                /* host.interval: default 5000, 100..3600000 */
    const char *const *disk_paths;      /* host.diskPaths: absolute paths for statvfs, max 64 */
    size_t n_disk_paths;
    long clk_tck;                       /* 0 = sysconf(_SC_CLK_TCK) (tests set it) */
    long page_size;                     /* 0 = sysconf(_SC_PAGESIZE) */
} hs_conf_t;

/* Fills every field with its default. */
void hs_conf_defaults(hs_conf_t *conf);

/* One VM to sample. Strings are borrowed by hostsample_set_vms() and copied. Source:
 * cgroup if set (a path or template relative to the cgroup root, see cgstat.h), else
 * pidfile (an absolute path, {name}/{uuid}/{name_sd} allowed, read every pass), else pid. */
typedef struct hs_vm_spec {
    const char *name;    /* at least one of name / uuid */
    const char *uuid;
    const char *tenant;  /* NULL or "" = none: a name identifies a VM only within its tenant */
    const char *cgroup;  /* NULL = none */
    const char *pidfile; /* NULL = none */
    long pid;            /* 0 = none */
} hs_vm_spec_t;

/* ---- snapshots (read-only for everyone) -------------------------------------------- */

#define HS_HOST_CPU 1u   /* host_cpu_pct valid */
#define HS_HOST_MEM 2u   /* host_mem_pct, mem_total, mem_available valid */
#define HS_HOST_LOAD 4u  /* load1/5/15 valid */

#define HS_VM_CPU 1u     /* cpu_pct, cpu_host_pct valid */
#define HS_VM_MEM 2u     /* mem_bytes valid */
#define HS_VM_MEMPCT 4u  /* mem_pct valid */
#define HS_VM_LIMIT 8u   /* mem_limit_bytes valid (else no limit) */

/* Per-VM error of the last pass (hs_vm_t.err). */
enum {
    HS_VM_OK = 0,
    HS_VM_ENOCGROUP,  /* the cgroup (template) matched nothing */
    HS_VM_EAMBIGUOUS, /* the template matched more than one cgroup */
    HS_VM_EBADNAME,   /* name/uuid empty or unusable in the template */
    HS_VM_ENOPROC,    /* pid file unreadable, or no such process */
    HS_VM_EREAD,      /* cgroup found but none of its files could be read */
    HS_VM_EPARSE,     /* a file held something that is not a number */
};
/* "ok", "cgroup not found", ... (static strings; "unknown error" for bad values) */
const char *hs_vm_strerror(int err);

typedef struct hs_vm {
    const char *name;         /* "" if none */
    const char *uuid;         /* "" if none */
    const char *tenant;       /* "" if none */
    const char *source;       /* resolved cgroup path relative to the root, or "pid:N"; "" if none */
    unsigned flags;           /* HS_VM_* bits above */
    int err;                  /* HS_VM_OK or an HS_VM_E* code */
    double cpu_pct;           /* % of one CPU over the last interval (a 4-vCPU VM can show 400) */
    double cpu_host_pct;      /* % of the host's CPU capacity (cpu_pct / ncpu) */
    uint64_t mem_bytes;       /* cgroup memory in use (incl. page cache) or process RSS */
    uint64_t mem_limit_bytes; /* cgroup limit (HS_VM_LIMIT) */
    double mem_pct;           /* of the limit, else of the host's MemTotal */
    uint64_t errors;          /* passes that failed for this VM since it was added */
} hs_vm_t;

typedef struct hs_disk {
    const char *path;
    int ok;                   /* 1 if statvfs worked */
    double free_pct;          /* available to unprivileged users (f_bavail) / f_blocks */
    uint64_t free_bytes;      /* f_bavail * f_frsize */
    uint64_t total_bytes;     /* f_blocks * f_frsize */
} hs_disk_t;

typedef struct hs_snapshot {
    uint64_t seq;             /* 1, 2, ...: pass number */
    int64_t taken_ms;         /* sampler clock (the now_ms of the pass) */
    int64_t wall_ms;          /* CLOCK_REALTIME of the pass, ms since the epoch */
    unsigned flags;           /* HS_HOST_* */
    int ncpu;                 /* "cpuN" lines in /proc/stat (0 if unknown) */
    double host_cpu_pct;      /* busy / total jiffies between the last two passes */
    double host_mem_pct;      /* (MemTotal - MemAvailable) / MemTotal */
    uint64_t mem_total;       /* bytes */
    uint64_t mem_available;   /* bytes */
    double load1, load5, load15;
    size_t n_disks;
    const hs_disk_t *disks;   /* in configuration order */
    size_t n_vms;
    const hs_vm_t *vms;       /* in hostsample_set_vms() order */
    uint64_t vm_errors;       /* total failed VM samples since start */
    uint64_t host_errors;     /* total failed host-file reads since start */
    size_t name_conflicts;    /* VMs whose (tenant, name) another VM of the list has too */
} hs_snapshot_t;

/* The VM by uuid (if non-empty and present), else by (tenant, name): a name is a key only
 * within one tenant (NULL tenant = ""), and a (tenant, name) two VMs share finds neither
 * (counted in name_conflicts): a VM never gets another VM's figures. NULL if none. O(log n). */
const hs_vm_t *hs_snapshot_find(const hs_snapshot_t *s, const char *uuid, const char *tenant, const char *name);
/* Drops a reference. NULL is a no-op. */
void hs_snapshot_release(const hs_snapshot_t *s);

/* ---- the sampler ------------------------------------------------------------------- */

/* Validates and copies conf. 0 and *out, CTX_EINVAL (err: "host.interval: must be
 * between 100 and 3600000 (got 50)") or CTX_ENOMEM. No thread yet. */
int hostsample_new(hostsample_t **out, const hs_conf_t *conf, char *err, size_t errlen);

/* Replaces the VM list (copied; taken by the next pass; state such as the previous CPU
 * counter is kept for VMs with the same uuid, or tenant and name, and source). Validates every entry:
 * 0, CTX_EINVAL (err names the VM: "vm 'web01': needs a cgroup, a pidfile or a pid";
 * the previous list stays) or CTX_ENOMEM. */
int hostsample_set_vms(hostsample_t *hs, const hs_vm_spec_t *vms, size_t n, char *err, size_t errlen);

/* Runs one pass now in the caller's thread with the given clock (ms, monotonic) and
 * publishes its snapshot. 0, CTX_EAGAIN if the thread is running, CTX_ENOMEM. */
int hostsample_sample(hostsample_t *hs, int64_t now_ms);

/* Starts the sampler thread (a first pass at once, then every interval). 0, CTX_EINVAL
 * if running, CTX_ENOMEM / CTX_EIO. */
int hostsample_start(hostsample_t *hs);
/* Stops and joins the thread (returns within one file-read pass). No-op if not running. */
void hostsample_stop(hostsample_t *hs);
/* Stops the thread if running and frees everything except snapshots still referenced
 * (they stay valid until released). NULL is a no-op. */
void hostsample_free(hostsample_t *hs);

/* A new reference to the latest snapshot, or NULL before the first pass. */
const hs_snapshot_t *hostsample_acquire(hostsample_t *hs);
/* Per-worker cache: if a newer snapshot than *cur exists (or *cur is NULL), releases
 * *cur and stores a reference to the latest. Returns 1 if *cur changed, else 0. Without
 * a lock when nothing changed (one atomic load). */
int hostsample_refresh(hostsample_t *hs, const hs_snapshot_t **cur);

#endif
