/* otlp_encode: encodes the records of a file with ctx_fmt_otlp_encode (fmt.h), for the tests
 * that decode the result with the official protos (tests/unit/fmt_otlp_decode.py).
 *
 *   otlp_encode pb|json RECORDS OUT
 *   otlp_encode reply-pb|reply-json BODY   prints "rejected=N message=TEXT" (ctx_fmt_otlp_reply)
 *
 * RECORDS holds records one after the other, each: four decimal numbers, one per line
 * (time_unix_nano, observed_unix_nano, facility, severity), then the eight strings host, app,
 * procid, msgid, sd, msg, ctx as "<length>:<bytes>\n" (raw bytes, any value). The batch is
 * the whole file. Exit status 0, or 1 with a message on stderr.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fmt.h"

static int get_num(FILE *f, long long *v) {
    return fscanf(f, "%lld\n", v) == 1 ? 0 : -1;
}

static int get_str(FILE *f, ctx_fmt_str_t *s) {
    size_t n;
    if (fscanf(f, "%zu:", &n) != 1 || n > (1u << 26)) return -1;
    char *p = malloc(n + 1);
    if (p == NULL || fread(p, 1, n, f) != n || fgetc(f) != '\n') {
        free(p);
        return -1;
    }
    s->p = p, s->n = n;
    return 0;
}

static int get_rec(FILE *f, ctx_fmt_rec_t *r) {
    long long t, o, fac, sev;
    memset(r, 0, sizeof(*r));
    if (get_num(f, &t) || get_num(f, &o) || get_num(f, &fac) || get_num(f, &sev)) return -1;
    r->time_unix_nano = (uint64_t)t, r->observed_unix_nano = (uint64_t)o;
    r->facility = (int)fac, r->severity = (int)sev;
    ctx_fmt_str_t *s[] = {&r->host, &r->app, &r->procid, &r->msgid, &r->sd, &r->msg, &r->ctx};
    for (size_t i = 0; i < sizeof(s) / sizeof(s[0]); i++)
        if (get_str(f, s[i]) != 0) return -1;
    return 0;
}

/* reads a reply body with ctx_fmt_otlp_reply */
static int reply(const char *mode, const char *path) {
    FILE *f = fopen(path, "rb");
    static char body[1 << 20];
    size_t n = f ? fread(body, 1, sizeof(body), f) : 0;
    if (f == NULL) {
        perror(path);
        return 1;
    }
    fclose(f);
    uint64_t rejected;
    char msg[256];
    int rc = ctx_fmt_otlp_reply(body, n, strcmp(mode, "reply-json") == 0, &rejected, msg, sizeof(msg));
    if (rc != 0) {
        printf("error %d\n", rc);
        return 1;
    }
    printf("rejected=%llu message=%s\n", (unsigned long long)rejected, msg);
    return 0;
}

int main(int argc, char **argv) {
    if (argc == 3 && strncmp(argv[1], "reply-", 6) == 0) return reply(argv[1], argv[2]);
    if (argc != 4 || (strcmp(argv[1], "pb") != 0 && strcmp(argv[1], "json") != 0)) {
        fprintf(stderr, "usage: otlp_encode pb|json RECORDS OUT\n");
        return 1;
    }
    FILE *f = fopen(argv[2], "rb");
    if (f == NULL) {
        perror(argv[2]);
        return 1;
    }
    size_t n = 0, cap = 0;
    ctx_fmt_rec_t *recs = NULL;
    for (int c; (c = fgetc(f)) != EOF;) {
        ungetc(c, f);
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            recs = realloc(recs, cap * sizeof(*recs));
            if (recs == NULL) return 1;
        }
        if (get_rec(f, &recs[n]) != 0) {
            fprintf(stderr, "%s: record %zu: bad format\n", argv[2], n);
            return 1;
        }
        n++;
    }
    fclose(f);
    ctx_fmt_buf_t out = {0};
    int rc = ctx_fmt_otlp_encode(recs, n, strcmp(argv[1], "json") == 0, &out);
    if (rc != 0) {
        fprintf(stderr, "ctx_fmt_otlp_encode: %d\n", rc);
        return 1;
    }
    FILE *o = fopen(argv[3], "wb");
    if (o == NULL || fwrite(out.buf, 1, out.len, o) != out.len || fclose(o) != 0) {
        perror(argv[3]);
        return 1;
    }
    free(out.buf);
    for (size_t i = 0; i < n; i++) {
        const ctx_fmt_str_t *s[] = {&recs[i].host, &recs[i].app, &recs[i].procid, &recs[i].msgid,
                                    &recs[i].sd, &recs[i].msg, &recs[i].ctx};
        for (size_t k = 0; k < sizeof(s) / sizeof(s[0]); k++) free((void *)s[k]->p);
    }
    free(recs);
    return 0;
}
