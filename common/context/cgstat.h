/* cgstat.h: per-VM CPU time and memory use from a cgroup (v1 or v2) or a process, and
 * cgroup path templates. Used by the host sampler (hostsample.h); plain functions,
 * no state, no shell: every value comes from reading a file.
 *
 * cgroup layouts read (root = the cgroup root, "/sys/fs/cgroup" on a host; REL = the
 * VM's path relative to it), first found wins, per metric:
 *   CPU:    root/REL/cpu.stat (usage_usec), root/unified/REL/cpu.stat,
 *           root/cpuacct/REL/cpuacct.usage (ns), root/cpu,cpuacct/REL/cpuacct.usage
 *   memory: root/REL/memory.current + memory.max, root/unified/REL/memory.current +
 *           memory.max, root/memory/REL/memory.usage_in_bytes + memory.limit_in_bytes
 * A limit of "max" (v2) or >= 2^60 (v1's "unlimited") is reported as no limit.
 *
 * Templates (the VM's `cgroup` setting): a path relative to the cgroup root (a leading
 * '/' is ignored), components separated by '/'. In each component:
 *   {name}     the VM name         {uuid}  the VM uuid
 *   {name_sd}  the VM name escaped as systemd escapes unit names (libvirt's scopes):
 *              bytes other than [A-Za-z0-9:_.] become \xNN (lowercase), '/' becomes
 *              '-', a leading '.' becomes \x2e: "web-01" -> "web\x2d01"
 *   * ? [...]  shell-style wildcards within the component (fnmatch, a backslash is a
 *              literal character, a leading '.' must be matched explicitly)
 * e.g. "machine.slice/machine-qemu\x2d*\x2d{name_sd}.scope". Components "", "." and
 * ".." are rejected. A template is matched (directories only) under root, then
 * root/unified, root/cpuacct, root/cpu,cpuacct, root/cpu, root/memory, root/systemd;
 * the first of these where it matches anything decides; more than one match there is
 * an error (ambiguous), never a guess. A {name}/{uuid} value containing '/' or a
 * wildcard character cannot be used in a template (error).
 *
 * Thread-safety: all functions are reentrant (no shared state).
 */
#ifndef CTXLOG_CGSTAT_H
#define CTXLOG_CGSTAT_H

#include <stddef.h>
#include <stdint.h>

#define CG_HAVE_CPU 1u   /* cpu_ns valid */
#define CG_HAVE_MEM 2u   /* mem_bytes valid */
#define CG_HAVE_LIMIT 4u /* mem_limit valid (else no limit) */

typedef struct cg_usage {
    unsigned flags;     /* CG_HAVE_* */
    uint64_t cpu_ns;    /* cumulative CPU time, ns */
    uint64_t mem_bytes; /* memory in use (cgroup: incl. page cache; process: resident set) */
    uint64_t mem_limit; /* memory limit in bytes */
} cg_usage_t;

/* Validates a cgroup template (what = "cgroup") or a pidfile template (what =
 * "pidfile": must be absolute, no wildcards). 0 or CTX_EINVAL with one line, prefixed
 * with ctx (e.g. "vm 'web01'"): "vm 'web01': cgroup 'a/../b': component '..' not allowed". */
int cg_template_check(const char *tmpl, const char *what, const char *ctx, char *err, size_t errlen);

/* Writes the systemd-escaped form of in into out (always NUL-terminated when outlen > 0).
 * Returns the full escaped length (>= outlen means truncated). */
size_t cg_systemd_escape(const char *in, char *out, size_t outlen);

/* Substitutes {name}, {uuid}, {name_sd} in tmpl (no wildcard handling). Returns the length,
 * CTX_EINVAL (unknown placeholder; a {name} or {uuid} value with '/', or "." or "..": a VM's
 * name is its tenant's choice and must not walk the host's paths; a wildcard in a cgroup
 * template when for_glob is non-zero) or CTX_EFULL. */
int cg_subst(const char *tmpl, const char *name, const char *uuid, int for_glob, char *out, size_t outlen);

/* Resolves a template under cg_root into a relative path (see above). Returns 0 (out
 * filled), CTX_ENOENT (no match), CTX_EINVAL (ambiguous, or unusable name/uuid),
 * CTX_EFULL (out too small). */
int cg_resolve(const char *cg_root, const char *tmpl, const char *name, const char *uuid, char *out,
               size_t outlen);

/* Reads CPU and memory of the cgroup at rel (relative to cg_root). Returns 0 when at least
 * one metric was read (u->flags says which), CTX_ENOENT when no file of either metric
 * exists, CTX_EPARSE when a file exists but holds no number (u->flags says what was read). */
int cg_read(const char *cg_root, const char *rel, cg_usage_t *u);

/* Reads utime+stime (proc_root/PID/stat) and the resident set (statm) of a process.
 * clk_tck and page_size as sysconf() gives them. 0, CTX_ENOENT, CTX_EPARSE. */
int cg_read_pid(const char *proc_root, long pid, long clk_tck, long page_size, cg_usage_t *u);

/* Reads a pid file (a decimal number, optionally followed by whitespace). 0, CTX_ENOENT,
 * CTX_EPARSE. */
int cg_read_pidfile(const char *path, long *pid);

/* Reads a small file into buf (NUL-terminated). Returns bytes read, CTX_ENOENT (missing or
 * unreadable) or CTX_EFULL (longer than buflen - 1). */
int cg_read_file(const char *path, char *buf, size_t buflen);

#endif
