/* cgstat.c: per-VM CPU and memory from cgroup v1/v2 files or /proc/PID; cgroup path
 * templates (see cgstat.h for the layouts and the template syntax).
 *
 * Concurrency: no shared state; every function works on its arguments and local
 * buffers, so any number of threads may call them. They do file I/O: call them from
 * the sampler thread, never with a lock held.
 */
#include "cgstat.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ctxlog_common.h"

#define MAX_COMPONENTS 32
#define NO_LIMIT_V1 ((uint64_t)1 << 60)

int cg_read_file(const char *path, char *buf, size_t buflen) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return CTX_ENOENT;
    size_t n = 0;
    for (;;) {
        ssize_t r = read(fd, buf + n, buflen - 1 - n);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) break;
        n += (size_t)r;
        if (n == buflen - 1) {
            char extra;
            r = read(fd, &extra, 1);
            close(fd);
            buf[n] = '\0';
            return r > 0 ? CTX_EFULL : (int)n;
        }
    }
    close(fd);
    buf[n] = '\0';
    return (int)n;
}

/* ---- templates --------------------------------------------------------------------------- */

/* Length of the placeholder at p and which value it stands for (0 name, 1 uuid, 2 name_sd). */
static size_t placeholder(const char *p, int *which) {
    static const char *const names[] = {"{name}", "{uuid}", "{name_sd}"};
    for (int i = 0; i < 3; i++) {
        size_t n = strlen(names[i]);
        if (strncmp(p, names[i], n) == 0) {
            *which = i;
            return n;
        }
    }
    return 0;
}

static bool has_wildcard(const char *s, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (s[i] == '*' || s[i] == '?' || s[i] == '[') return true;
    return false;
}

static int check_placeholders(const char *tmpl, const char *what, const char *ctx, char *err, size_t errlen) {
    for (const char *p = strchr(tmpl, '{'); p != NULL; p = strchr(p + 1, '{')) {
        int which;
        if (placeholder(p, &which) > 0) continue;
        size_t n = strcspn(p, "}");
        int show = p[n] == '}' && n < 32 ? (int)n + 1 : 1;
        snprintf(err, errlen, "%s: %s '%s': unknown placeholder '%.*s' (expected {name}, {uuid} or {name_sd})", ctx,
                 what, tmpl, show, p);
        return CTX_EINVAL;
    }
    return CTX_OK;
}

static int check_components(const char *tmpl, const char *ctx, char *err, size_t errlen) {
    const char *p = tmpl + (*tmpl == '/');
    int count = 0;
    for (;;) {
        size_t n = strcspn(p, "/");
        const char *bad = n == 0 ? "an empty component" : (n == 1 && *p == '.') ? "component '.'"
                          : (n == 2 && p[0] == '.' && p[1] == '.') ? "component '..'" : NULL;
        if (bad != NULL || ++count > MAX_COMPONENTS) {
            snprintf(err, errlen, "%s: cgroup '%s': %s not allowed", ctx, tmpl, bad ? bad : "more than 32 components");
            return CTX_EINVAL;
        }
        if (p[n] == '\0') return CTX_OK;
        p += n + 1;
    }
}

int cg_template_check(const char *tmpl, const char *what, const char *ctx, char *err, size_t errlen) {
    if (tmpl == NULL || *tmpl == '\0' || strcmp(tmpl, "/") == 0) {
        snprintf(err, errlen, "%s: %s is empty", ctx, what);
        return CTX_EINVAL;
    }
    if (strlen(tmpl) >= PATH_MAX / 2) {
        snprintf(err, errlen, "%s: %s is longer than %d bytes", ctx, what, PATH_MAX / 2 - 1);
        return CTX_EINVAL;
    }
    int rc = check_placeholders(tmpl, what, ctx, err, errlen);
    if (rc < 0) return rc;
    if (strcmp(what, "pidfile") != 0) return check_components(tmpl, ctx, err, errlen);
    if (*tmpl != '/' || has_wildcard(tmpl, strlen(tmpl))) {
        snprintf(err, errlen, "%s: pidfile '%s': %s", ctx, tmpl,
                 *tmpl != '/' ? "must be an absolute path" : "wildcards are not allowed");
        return CTX_EINVAL;
    }
    return CTX_OK;
}

size_t cg_systemd_escape(const char *in, char *out, size_t outlen) {
    size_t n = 0;
    for (const char *p = in ? in : ""; *p; p++) {
        unsigned char c = (unsigned char)*p;
        char tmp[5];
        bool keep = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == ':' ||
                    c == '_' || (c == '.' && p != in);
        if (c == '/') snprintf(tmp, sizeof tmp, "-");
        else if (keep) snprintf(tmp, sizeof tmp, "%c", c);
        else snprintf(tmp, sizeof tmp, "\\x%02x", c);
        for (const char *t = tmp; *t; t++, n++)
            if (n + 1 < outlen) out[n] = *t;
    }
    if (outlen > 0) out[n < outlen ? n : outlen - 1] = '\0';
    return n;
}

int cg_subst(const char *tmpl, const char *name, const char *uuid, int for_glob, char *out, size_t outlen) {
    size_t n = 0;
    char esc[1024];
    for (const char *p = tmpl; *p; p++) {
        int which;
        size_t ph = *p == '{' ? placeholder(p, &which) : 0;
        if (*p == '{' && ph == 0) return CTX_EINVAL;
        if (ph == 0) {
            if (n + 1 < outlen) out[n] = *p;
            n++;
            continue;
        }
        const char *v = which == 1 ? uuid : name;
        if (v == NULL || *v == '\0') return CTX_EINVAL;
        if (which == 2) {
            if (cg_systemd_escape(v, esc, sizeof esc) >= sizeof esc) return CTX_EFULL;
            v = esc;
        } else if (strchr(v, '/') != NULL || strcmp(v, ".") == 0 || strcmp(v, "..") == 0 ||
                   (for_glob && has_wildcard(v, strlen(v)))) {
            return CTX_EINVAL; /* a VM name, chosen by its tenant, never walks the host's paths */
        }
        for (; *v; v++, n++)
            if (n + 1 < outlen) out[n] = *v;
        p += ph - 1;
    }
    if (n >= outlen) return CTX_EFULL;
    out[n] = '\0';
    return (int)n;
}

/* ---- resolving a template --------------------------------------------------------------- */

struct walk {
    char abs[PATH_MAX]; /* directory being looked at */
    char rel[PATH_MAX]; /* the same, relative to the base */
    char first[PATH_MAX];
    int count;          /* matches so far (stops at 2) */
};

static bool is_dir(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static void walk(struct walk *w, char **comp, int n);

/* Descends into entry (a name in w->abs) and matches the remaining components. */
static void descend(struct walk *w, const char *entry, char **comp, int n) {
    size_t al = strlen(w->abs), rl = strlen(w->rel);
    int a = snprintf(w->abs + al, sizeof w->abs - al, "/%s", entry);
    int r = snprintf(w->rel + rl, sizeof w->rel - rl, "%s%s", rl ? "/" : "", entry);
    if (a > 0 && (size_t)a < sizeof w->abs - al && r > 0 && (size_t)r < sizeof w->rel - rl && is_dir(w->abs))
        walk(w, comp, n);
    w->abs[al] = '\0';
    w->rel[rl] = '\0';
}

static void walk(struct walk *w, char **comp, int n) {
    if (n == 0) {
        if (w->count++ == 0) memcpy(w->first, w->rel, sizeof w->first);
        return;
    }
    if (!has_wildcard(comp[0], strlen(comp[0]))) {
        descend(w, comp[0], comp + 1, n - 1);
        return;
    }
    DIR *d = opendir(w->abs);
    if (d == NULL) return;
    struct dirent *de;
    while (w->count < 2 && (de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0) continue;
        if (fnmatch(comp[0], de->d_name, FNM_NOESCAPE | FNM_PERIOD) == 0) descend(w, de->d_name, comp + 1, n - 1);
    }
    closedir(d);
}

int cg_resolve(const char *cg_root, const char *tmpl, const char *name, const char *uuid, char *out,
               size_t outlen) {
    static const char *const bases[] = {"", "/unified", "/cpuacct", "/cpu,cpuacct", "/cpu", "/memory", "/systemd"};
    char path[PATH_MAX];
    int rc = cg_subst(tmpl + (*tmpl == '/'), name, uuid, 1, path, sizeof path);
    if (rc < 0) return rc;
    char *comp[MAX_COMPONENTS];
    int n = 0;
    for (char *save = NULL, *t = strtok_r(path, "/", &save); t != NULL; t = strtok_r(NULL, "/", &save)) {
        if (n == MAX_COMPONENTS) return CTX_EINVAL;
        comp[n++] = t;
    }
    struct walk *w = malloc(sizeof *w);
    if (w == NULL) return CTX_ENOMEM;
    rc = CTX_ENOENT;
    for (size_t b = 0; b < sizeof bases / sizeof bases[0] && rc == CTX_ENOENT; b++) {
        w->count = 0;
        w->rel[0] = '\0';
        if ((size_t)snprintf(w->abs, sizeof w->abs, "%s%s", cg_root, bases[b]) >= sizeof w->abs) continue;
        walk(w, comp, n);
        if (w->count > 1) rc = CTX_EINVAL;
        else if (w->count == 1) rc = strlen(w->first) < outlen ? CTX_OK : CTX_EFULL;
    }
    if (rc == CTX_OK) memcpy(out, w->first, strlen(w->first) + 1);
    free(w);
    return rc;
}

/* ---- reading cgroup and process files ------------------------------------------------------ */

/* Parses one unsigned decimal number followed only by whitespace. */
static int parse_u64(const char *s, uint64_t *v) {
    char *end;
    if (*s < '0' || *s > '9') return CTX_EPARSE;
    errno = 0;
    unsigned long long x = strtoull(s, &end, 10);
    if (errno != 0) return CTX_EPARSE;
    while (*end == ' ' || *end == '\n' || *end == '\t') end++;
    if (*end != '\0') return CTX_EPARSE;
    *v = x;
    return CTX_OK;
}

/* Reads a file holding one number: 0, CTX_ENOENT or CTX_EPARSE. */
static int read_u64(const char *path, uint64_t *v) {
    char buf[128];
    int n = cg_read_file(path, buf, sizeof buf);
    if (n == CTX_ENOENT) return CTX_ENOENT;
    return n < 0 ? CTX_EPARSE : parse_u64(buf, v);
}

/* Reads "key value" from a flat-keyed file (cpu.stat). */
static int read_key(const char *path, const char *key, uint64_t *v) {
    char buf[4096];
    int n = cg_read_file(path, buf, sizeof buf);
    if (n == CTX_ENOENT) return CTX_ENOENT;
    if (n < 0) return CTX_EPARSE;
    size_t kl = strlen(key);
    for (char *line = buf; line != NULL && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
        if (strncmp(line, key, kl) != 0 || line[kl] != ' ') continue;
        char num[32];
        size_t len = strcspn(line + kl + 1, "\n");
        if (len == 0 || len >= sizeof num) return CTX_EPARSE;
        memcpy(num, line + kl + 1, len);
        num[len] = '\0';
        return parse_u64(num, v);
    }
    return CTX_EPARSE;
}

static int read_cpu(const char *root, const char *rel, cg_usage_t *u) {
    static const char *const v2[] = {"", "/unified"}, *const v1[] = {"/cpuacct", "/cpu,cpuacct"};
    char path[PATH_MAX];
    uint64_t v;
    for (int i = 0; i < 2; i++) {
        snprintf(path, sizeof path, "%s%s/%s/cpu.stat", root, v2[i], rel);
        int rc = read_key(path, "usage_usec", &v);
        if (rc == CTX_OK) {
            u->cpu_ns = v * 1000;
            u->flags |= CG_HAVE_CPU;
        }
        if (rc != CTX_ENOENT) return rc;
    }
    for (int i = 0; i < 2; i++) {
        snprintf(path, sizeof path, "%s%s/%s/cpuacct.usage", root, v1[i], rel);
        int rc = read_u64(path, &v);
        if (rc == CTX_OK) {
            u->cpu_ns = v;
            u->flags |= CG_HAVE_CPU;
        }
        if (rc != CTX_ENOENT) return rc;
    }
    return CTX_ENOENT;
}

static int read_mem(const char *root, const char *rel, cg_usage_t *u) {
    static const struct { const char *base, *cur, *max; } L[] = {
        {"", "memory.current", "memory.max"},
        {"/unified", "memory.current", "memory.max"},
        {"/memory", "memory.usage_in_bytes", "memory.limit_in_bytes"},
    };
    char path[PATH_MAX], buf[128];
    for (size_t i = 0; i < sizeof L / sizeof L[0]; i++) {
        snprintf(path, sizeof path, "%s%s/%s/%s", root, L[i].base, rel, L[i].cur);
        int rc = read_u64(path, &u->mem_bytes);
        if (rc == CTX_ENOENT) continue;
        if (rc < 0) return rc;
        u->flags |= CG_HAVE_MEM;
        snprintf(path, sizeof path, "%s%s/%s/%s", root, L[i].base, rel, L[i].max);
        uint64_t lim;
        if (cg_read_file(path, buf, sizeof buf) >= 0 && strncmp(buf, "max", 3) != 0 && parse_u64(buf, &lim) == 0 &&
            lim < NO_LIMIT_V1) {
            u->mem_limit = lim;
            u->flags |= CG_HAVE_LIMIT;
        }
        return CTX_OK;
    }
    return CTX_ENOENT;
}

int cg_read(const char *cg_root, const char *rel, cg_usage_t *u) {
    memset(u, 0, sizeof *u);
    int c = read_cpu(cg_root, rel, u);
    int m = read_mem(cg_root, rel, u);
    if (c == CTX_EPARSE || m == CTX_EPARSE) return CTX_EPARSE;
    return u->flags != 0 ? CTX_OK : CTX_ENOENT;
}

int cg_read_pid(const char *proc_root, long pid, long clk_tck, long page_size, cg_usage_t *u) {
    memset(u, 0, sizeof *u);
    char path[PATH_MAX], buf[2048];
    if (pid <= 0 || clk_tck <= 0 || page_size <= 0) return CTX_EINVAL;
    snprintf(path, sizeof path, "%s/%ld/stat", proc_root, pid);
    int n = cg_read_file(path, buf, sizeof buf);
    if (n == CTX_ENOENT) return CTX_ENOENT;
    char *p = n > 0 ? strrchr(buf, ')') : NULL;
    unsigned long long ut, st, size, rss;
    char state;
    if (p == NULL || sscanf(p + 1, " %c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &state, &ut, &st) != 3)
        return CTX_EPARSE;
    u->cpu_ns = (uint64_t)((ut + st) * (1000000000.0 / (double)clk_tck));
    u->flags |= CG_HAVE_CPU;
    snprintf(path, sizeof path, "%s/%ld/statm", proc_root, pid);
    n = cg_read_file(path, buf, sizeof buf);
    if (n == CTX_ENOENT) return CTX_OK; /* exited between the two reads: CPU only */
    if (n <= 0 || sscanf(buf, "%llu %llu", &size, &rss) != 2) return CTX_EPARSE;
    u->mem_bytes = (uint64_t)rss * (uint64_t)page_size;
    u->flags |= CG_HAVE_MEM;
    return CTX_OK;
}

int cg_read_pidfile(const char *path, long *pid) {
    uint64_t v;
    int rc = read_u64(path, &v);
    if (rc < 0) return rc;
    if (v == 0 || v > INT_MAX) return CTX_EPARSE;
    *pid = (long)v;
    return CTX_OK;
}
