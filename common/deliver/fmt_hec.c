/* fmt_hec.c: Splunk's HTTP Event Collector, /services/collector/event (fmt.h). The body
 * is the events back to back (HEC reads a stream of JSON objects):
 *
 *   {"time":1764658851.123456,"host":"web1","source":"ctxlog","sourcetype":"syslog","index":"main",
 *    "event":{"message":"...","severity":"info","facility":"user","app":"sshd",...},
 *    "fields":{"vm_name":"web1","vm_uuid":"...","cm_guest_os":"..."}}
 *
 * "host" is the VM's name from the context (vm.name) when there is one (guests' own host
 * names are often useless: clones say "localhost"), else the message's host name.
 * "fields" are indexed fields: the context's scalars, flattened (rendered once per
 * distinct context text of the batch). source / sourcetype / index as configured.
 *
 * Concurrency: pure functions.
 */
#include "fmt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctxlog_common.h"
#include "outrec.h"

#define PUT(b, lit) ctx_fmt_buf_append((b), (lit), sizeof(lit) - 1)

static int opt(ctx_fmt_buf_t *b, const char *key, const char *v) {
    if (v[0] == '\0') return 0;
    if (PUT(b, ",") != 0 || ctx_fmt_json_str(b, key, strlen(key)) != 0 || PUT(b, ":") != 0) return CTX_ENOMEM;
    return ctx_fmt_json_str(b, v, strlen(v));
}

static int field(ctx_fmt_buf_t *b, const char *key, const char *v, size_t n) {
    if (n == 0) return 0;
    if (PUT(b, ",") != 0 || ctx_fmt_json_str(b, key, strlen(key)) != 0 || PUT(b, ":") != 0) return CTX_ENOMEM;
    return ctx_fmt_json_str(b, v, n);
}

static int host(ctx_fmt_buf_t *b, const ctx_fmt_rec_t *r) {
    const char *v;
    size_t vn;
    int is_str;
    if (ctx_fmt_ctx_get(r->ctx.p, r->ctx.n, "vm.name", &v, &vn, &is_str) && is_str && vn > 0)
        return (PUT(b, ",\"host\":\"") != 0 || ctx_fmt_buf_append(b, v, vn) != 0 || PUT(b, "\"") != 0) ? CTX_ENOMEM : 0;
    return field(b, "host", r->host.p, r->host.n);
}

static int event(ctx_fmt_buf_t *b, const ctx_fmt_rec_t *r) {
    if (PUT(b, ",\"event\":{\"message\":") != 0 || ctx_fmt_json_str(b, r->msg.p, r->msg.n) != 0) return CTX_ENOMEM;
    if (r->severity >= 0 && field(b, "severity", ctx_severity_name(r->severity), strlen(ctx_severity_name(r->severity))))
        return CTX_ENOMEM;
    if (r->facility >= 0 && field(b, "facility", ctx_facility_name(r->facility), strlen(ctx_facility_name(r->facility))))
        return CTX_ENOMEM;
    if (field(b, "hostname", r->host.p, r->host.n) || field(b, "app", r->app.p, r->app.n) ||
        field(b, "procid", r->procid.p, r->procid.n) || field(b, "msgid", r->msgid.p, r->msgid.n) ||
        field(b, "sd", r->sd.p, r->sd.n))
        return CTX_ENOMEM;
    return PUT(b, "}");
}

/* ,"fields":{...} from the context, through a one-entry cache (records of one VM come in runs) */
static int fields(ctx_fmt_buf_t *b, const ctx_fmt_rec_t *r, ctx_fmt_buf_t *cache, const char **cached, size_t *cached_n) {
    if (r->ctx.n == 0) return 0;
    if (*cached != r->ctx.p || *cached_n != r->ctx.n) {
        cache->len = 0;
        if (ctx_fmt_ctx_flat(cache, r->ctx.p, r->ctx.n, NULL) != 0) return CTX_ENOMEM;
        *cached = r->ctx.p, *cached_n = r->ctx.n;
    }
    if (cache->len == 0) return 0;
    if (PUT(b, ",\"fields\":{") != 0 || ctx_fmt_buf_append(b, cache->buf + 1, cache->len - 1) != 0) return CTX_ENOMEM;
    return PUT(b, "}");
}

int ctx_fmt_hec_encode(const ctx_fmt_opts_t *opts, const ctx_fmt_rec_t *recs, size_t n, ctx_fmt_buf_t *out) {
    if (opts == NULL || recs == NULL || n == 0 || out == NULL) return CTX_EINVAL;
    size_t start = out->len, cached_n = 0;
    ctx_fmt_buf_t cache = {0};
    const char *cached = NULL;
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        const ctx_fmt_rec_t *r = &recs[i];
        uint64_t t = r->time_unix_nano ? r->time_unix_nano : r->observed_unix_nano;
        char ts[64];
        int tn = snprintf(ts, sizeof ts, "{\"time\":%llu.%06u", (unsigned long long)(t / 1000000000u),
                          (unsigned)(t % 1000000000u / 1000u));
        rc = ctx_fmt_buf_append(out, ts, (size_t)tn) || host(out, r) || opt(out, "source", opts->source) ||
             opt(out, "sourcetype", opts->sourcetype) || opt(out, "index", opts->index) || event(out, r) ||
             fields(out, r, &cache, &cached, &cached_n) || PUT(out, "}\n");
    }
    free(cache.buf);
    if (rc != 0) out->len = start;
    return rc ? CTX_ENOMEM : 0;
}
