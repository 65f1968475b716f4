/* bench_redact: throughput of the redaction engine and of zstd -3 on the same bytes, same process.
 *
 *   bench_redact LOGFILE [SECONDS]
 *
 * Redaction: every line of LOGFILE through ctx_redact_apply() (one call per message, as omtenant
 * does), repeated for at least SECONDS (default 3) of thread CPU time; zstd: ZSTD_compressCCtx()
 * at level 3 on 64 KiB blocks of the same bytes (and on 32-line batches, omtenant's batch shape).
 * Prints MB/s per core (CPU time of this thread, 1 MB = 10^6 bytes) and the ratio.
 *
 * Concurrency: single-threaded.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zstd.h>

#include "ctxlog_common.h"
#include "redact.h"

static double cpu_now(void) {
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static char *slurp(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (f == NULL) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)n + 1);
    if (b != NULL && fread(b, 1, (size_t)n, f) != (size_t)n) {
        free(b);
        b = NULL;
    }
    fclose(f);
    *len = (size_t)n;
    return b;
}

struct lines {
    const char **p;
    size_t *len;
    size_t n;
};

static int split(char *buf, size_t len, struct lines *l) {
    size_t cap = 1024;
    l->p = malloc(cap * sizeof *l->p);
    l->len = malloc(cap * sizeof *l->len);
    l->n = 0;
    for (size_t i = 0; i < len && l->p && l->len;) {
        char *nl = memchr(buf + i, '\n', len - i);
        size_t e = nl ? (size_t)(nl - buf) : len;
        if (l->n == cap) {
            cap *= 2;
            l->p = realloc(l->p, cap * sizeof *l->p);
            l->len = realloc(l->len, cap * sizeof *l->len);
            if (l->p == NULL || l->len == NULL) return -1;
        }
        l->p[l->n] = buf + i;
        l->len[l->n++] = e - i;
        i = e + 1;
    }
    return l->p && l->len ? 0 : -1;
}

static double bench_redact(const ctx_redact_rules *rules, const struct lines *l, double secs, size_t *changed) {
    const ctx_redact_set *set = ctx_redact_for_tenant(rules, NULL);
    ctx_redact_ctx *ctx = ctx_redact_ctx_new(rules);
    size_t bytes = 0;
    double t0 = cpu_now(), t;
    *changed = 0;
    int pass = 0;
    do {
        for (size_t i = 0; i < l->n; i++) {
            const char *out;
            size_t outlen;
            int rc = ctx_redact_apply(ctx, set, l->p[i], l->len[i], &out, &outlen);
            if (pass == 0 && rc == 1) (*changed)++;
            bytes += l->len[i] + 1;
        }
        pass++;
        t = cpu_now() - t0;
    } while (t < secs);
    ctx_redact_ctx_free(ctx);
    return (double)bytes / t / 1e6;
}

/* zstd level 3: blocks of `block` bytes (or of `nlines` lines when nlines > 0) */
static double bench_zstd(const char *buf, size_t len, const struct lines *l, size_t block, size_t nlines, double secs,
                         double *ratio) {
    ZSTD_CCtx *cc = ZSTD_createCCtx();
    size_t cap = ZSTD_compressBound(block), bytes = 0, zbytes = 0;
    char *dst = malloc(cap);
    double t0 = cpu_now(), t;
    do {
        if (nlines == 0) {
            for (size_t off = 0; off < len; off += block) {
                size_t n = len - off < block ? len - off : block;
                zbytes += ZSTD_compressCCtx(cc, dst, cap, buf + off, n, 3);
                bytes += n;
            }
        } else {
            for (size_t i = 0; i + nlines <= l->n; i += nlines) {
                size_t n = (size_t)(l->p[i + nlines - 1] + l->len[i + nlines - 1] + 1 - l->p[i]);
                if (n > block) continue;
                zbytes += ZSTD_compressCCtx(cc, dst, cap, l->p[i], n, 3);
                bytes += n;
            }
        }
        t = cpu_now() - t0;
    } while (t < secs);
    *ratio = (double)bytes / (double)zbytes;
    free(dst);
    ZSTD_freeCCtx(cc);
    return (double)bytes / t / 1e6;
}

static int load(ctx_redact_rules **r, const char *text) {
    char err[CTX_ERRLEN];
    if (ctx_redact_rules_load_string(r, text, strlen(text), "bench", NULL, err, sizeof err) < 0) {
        fprintf(stderr, "bench_redact: %s\n", err);
        return -1;
    }
    return 0;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: bench_redact LOGFILE [SECONDS]  (env BENCH_RULES: a third rules text to measure)\n");
        return 2;
    }
    double secs = argc > 2 ? atof(argv[2]) : 3.0;
    size_t len;
    char *buf = slurp(argv[1], &len);
    struct lines l;
    ctx_redact_rules *def = NULL, *all = NULL;
    if (buf == NULL || split(buf, len, &l) < 0 || load(&def, "") < 0 || load(&all, "enable = email, ipv4, ipv6\n") < 0)
        return 1;
    size_t ch_def, ch_all;
    double zr_blk = 0, zr_b32 = 0;
    int nozstd = getenv("BENCH_NOZSTD") != NULL; /* for profiling the redaction alone */
    double z_blk = nozstd ? 1 : bench_zstd(buf, len, &l, 64 * 1024, 0, secs, &zr_blk);
    double z_b32 = nozstd ? 1 : bench_zstd(buf, len, &l, 64 * 1024, 32, secs, &zr_b32);
    double r_def = bench_redact(def, &l, secs, &ch_def);
    double r_all = bench_redact(all, &l, secs, &ch_all);
    const char *extra = getenv("BENCH_RULES"); /* a third configuration, for experiments */
    if (extra != NULL) {
        ctx_redact_rules *x = NULL;
        size_t ch_x = 0;
        if (load(&x, extra) < 0) return 1;
        double r_x = bench_redact(x, &l, secs, &ch_x);
        printf("redact, BENCH_RULES:           %8.1f MB/s per core, %zu lines changed\n", r_x, ch_x);
        ctx_redact_rules_free(x);
    }
    printf("input: %s, %zu bytes, %zu lines\n", argv[1], len, l.n);
    printf("zstd -3, 64 KiB blocks:        %8.1f MB/s per core (ratio %.2f)\n", z_blk, zr_blk);
    printf("zstd -3, 32-line batches:      %8.1f MB/s per core (ratio %.2f)\n", z_b32, zr_b32);
    printf("redact, default rules (12 on): %8.1f MB/s per core, %zu lines changed = %.2fx zstd (64 KiB)\n", r_def,
           ch_def, r_def / z_blk);
    printf("redact, all built-in rules:    %8.1f MB/s per core, %zu lines changed = %.2fx zstd (64 KiB)\n", r_all,
           ch_all, r_all / z_blk);
    ctx_redact_rules_free(def);
    ctx_redact_rules_free(all);
    free(l.p);
    free(l.len);
    free(buf);
    return 0;
}
