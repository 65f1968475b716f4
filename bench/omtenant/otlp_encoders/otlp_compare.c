/* otlp_compare.c: "a test decides" (issue 17): ctxlog's hand-written OTLP encoder
 * (ctx_fmt_otlp_encode) against one built on protobuf-c (protoc-c's generated code), on one
 * fixed batch. Both get the same records and produce one ExportLogsServiceRequest with the
 * same content; compare.sh checks that with the official protos, and the code sizes.
 *
 * The protobuf-c side is given every advantage: its message structs come from one arena
 * (no malloc per struct), it skips the UTF-8 repair (protobuf-c does not check it; a real
 * encoder would have to do it as ctxlog's does) and its attribute mapping handles only the
 * flat contexts of this batch.
 *
 *   otlp_compare RECORDS ROUNDS OUTDIR   (writes OUTDIR/hand.pb and OUTDIR/pbc.pb)
 */
#include <json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fmt.h"
#include "opentelemetry/proto/collector/logs/v1/logs_service.pb-c.h"

typedef Opentelemetry__Proto__Common__V1__KeyValue KV;
typedef Opentelemetry__Proto__Common__V1__AnyValue AV;
typedef Opentelemetry__Proto__Logs__V1__LogRecord LR;
typedef Opentelemetry__Proto__Logs__V1__ScopeLogs SL;
typedef Opentelemetry__Proto__Logs__V1__ResourceLogs RL;
typedef Opentelemetry__Proto__Resource__V1__Resource RES;
typedef Opentelemetry__Proto__Common__V1__InstrumentationScope SCOPE;
typedef Opentelemetry__Proto__Collector__Logs__V1__ExportLogsServiceRequest REQ;

/* ---- the batch: VMS VMs interleaved, log lines of a realistic mix */
#define VMS 10
static const char *LINES[] = {
    "Accepted publickey for deploy from 198.51.100.7 port 52214 ssh2: ED25519 SHA256:Yx3kq0V1a8n0f9",
    "192.0.2.44 - - [27/Nov/2026:10:00:00 +0000] \"GET /api/v2/orders?page=3 HTTP/1.1\" 200 5123 \"-\" \"curl/8.5\"",
    "{\"level\":\"info\",\"ts\":\"2026-11-27T10:00:00.123Z\",\"msg\":\"order created\",\"order_id\":48213,\"user\":\"u-77\"}",
    "kernel: [12345.678901] EXT4-fs (vda1): mounted filesystem with ordered data mode. Quota mode: none.",
    "postfix/smtp[2211]: 4F1A2C01B2: to=<ops@example.com>, relay=mx.example.com[203.0.113.5]:25, status=sent"};
static char ctxs[VMS][640];

static ctx_fmt_str_t S(const char *s) {
    return (ctx_fmt_str_t){s, strlen(s)};
}

static ctx_fmt_rec_t *make_batch(size_t n) {
    for (int v = 0; v < VMS; v++)
        snprintf(ctxs[v], sizeof(ctxs[v]),
                 "{\"vm\":{\"name\":\"web-%02d\",\"uuid\":\"6f1c2a4e-0d7b-4d54-9a51-3c1f0e2b7a%02d\",\"tenant\":\"acme\","
                 "\"user\":\"ops\"},\"cm\":{\"guest_os\":\"debian-12\",\"vm_state\":"
                 "\"active\",\"compute_host\":\"compute-1\",\"flavor\":\"m1.small\",\"vcpus\":2,\"ram_mb\":2048,"
                 "\"host_ip\":\"192.0.2.1\",\"status\":\"ok\",\"fetched_at\":\"2026-11-27T06:59:37.375Z\"},\"host\":{"
                 "\"host_cpu_pct\":23.4,\"load1\":3.51,\"vm_cpu_pct\":68.8,\"vm_mem_bytes\":2147483648,"
                 "\"sampled_at\":\"2026-11-27T06:54:28.664Z\"}}",
                 v, v);
    ctx_fmt_rec_t *r = calloc(n, sizeof(*r));
    static const char *apps[] = {"sshd", "nginx", "orders", "kernel", "postfix"};
    static char procids[5][8] = {"811", "1290", "4412", "", "2211"};
    for (size_t i = 0; i < n; i++) {
        int k = (int)(i % 5);
        r[i].time_unix_nano = 1764237600000000000ULL + i * 1000;
        r[i].observed_unix_nano = r[i].time_unix_nano + 420000;
        r[i].facility = k == 3 ? 0 : 1, r[i].severity = (int)(i % 8);
        r[i].host = S("web"), r[i].app = S(apps[k]), r[i].procid = S(procids[k]);
        r[i].msg = S(LINES[k]);
        r[i].sd = i % 10 == 0 ? S("[origin ip=\"192.0.2.44\"]") : S("");
        r[i].ctx = S(ctxs[(i * 3) % VMS]);
    }
    return r;
}

/* ---- protobuf-c: a bump arena for the structs */
static char *arena;
static size_t arena_used, arena_cap;
static void *A(size_t n) {
    n = (n + 15) & ~(size_t)15;
    if (arena_used + n > arena_cap) abort();
    void *p = arena + arena_used;
    arena_used += n;
    return p;
}
static char *Astr(ctx_fmt_str_t s) {
    char *p = A(s.n + 1);
    memcpy(p, s.p, s.n);
    p[s.n] = '\0';
    return p;
}
static KV *kv_str(const char *k, char *v) {
    KV *kv = A(sizeof(KV));
    AV *av = A(sizeof(AV));
    *kv = (KV)OPENTELEMETRY__PROTO__COMMON__V1__KEY_VALUE__INIT;
    *av = (AV)OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__INIT;
    av->value_case = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE, av->string_value = v;
    kv->key = (char *)k, kv->value = av;
    return kv;
}
static KV *kv_json(const char *k, struct fjson_object *v) {
    KV *kv = kv_str(k, NULL);
    AV *av = kv->value;
    switch (fjson_object_get_type(v)) {
        case fjson_type_int:
            av->value_case = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_INT_VALUE;
            av->int_value = fjson_object_get_int64(v);
            break;
        case fjson_type_double:
            av->value_case = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_DOUBLE_VALUE;
            av->double_value = fjson_object_get_double(v);
            break;
        default:
            av->string_value = Astr(S(fjson_object_get_string(v)));
    }
    return kv;
}

/* the resource attributes of a (flat) context, named as ctxlog names them */
static RES *pbc_resource(const char *ctx) {
    static const char *sc[][3] = {{"vm", "name", "host.name"}, {"vm", "uuid", "host.id"},
                                  {"cm", "flavor", "host.type"}, {"cm", "guest_os", "os.description"}};
    RES *res = A(sizeof(RES));
    *res = (RES)OPENTELEMETRY__PROTO__RESOURCE__V1__RESOURCE__INIT;
    res->attributes = A(64 * sizeof(KV *));
    struct fjson_object *o = fjson_tokener_parse(ctx);
    struct fjson_object_iterator it = fjson_object_iter_begin(o), end = fjson_object_iter_end(o);
    for (; !fjson_object_iter_equal(&it, &end); fjson_object_iter_next(&it)) {
        const char *g = fjson_object_iter_peek_name(&it);
        struct fjson_object *go = fjson_object_iter_peek_value(&it);
        struct fjson_object_iterator i2 = fjson_object_iter_begin(go), e2 = fjson_object_iter_end(go);
        for (; !fjson_object_iter_equal(&i2, &e2); fjson_object_iter_next(&i2)) {
            const char *k = fjson_object_iter_peek_name(&i2), *name = NULL;
            for (size_t s = 0; s < 4; s++)
                if (strcmp(sc[s][0], g) == 0 && strcmp(sc[s][1], k) == 0) name = sc[s][2];
            if (name == NULL) {
                char *key = A(strlen(g) + strlen(k) + 9);
                sprintf(key, "ctxlog.%s.%s", g, k);
                name = key;
            }
            res->attributes[res->n_attributes++] = kv_json(name, fjson_object_iter_peek_value(&i2));
        }
    }
    fjson_object_put(o);
    return res;
}

static const unsigned SEV_NUMBER[8] = {21, 19, 18, 17, 13, 10, 9, 5};
static const char *SEV_TEXT[8] = {"emerg", "alert", "crit", "err", "warning", "notice", "info", "debug"};

static LR *pbc_record(const ctx_fmt_rec_t *r) {
    LR *lr = A(sizeof(LR));
    *lr = (LR)OPENTELEMETRY__PROTO__LOGS__V1__LOG_RECORD__INIT;
    lr->time_unix_nano = r->time_unix_nano, lr->observed_time_unix_nano = r->observed_unix_nano;
    lr->severity_number = SEV_NUMBER[r->severity], lr->severity_text = (char *)SEV_TEXT[r->severity];
    lr->body = kv_str("", Astr(r->msg))->value;
    lr->attributes = A(6 * sizeof(KV *));
    if (r->app.n) lr->attributes[lr->n_attributes++] = kv_str("syslog.appname", Astr(r->app));
    if (r->procid.n) lr->attributes[lr->n_attributes++] = kv_str("syslog.procid", Astr(r->procid));
    KV *fac = kv_str("syslog.facility", NULL);
    fac->value->value_case = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_INT_VALUE;
    fac->value->int_value = r->facility;
    lr->attributes[lr->n_attributes++] = fac;
    if (r->host.n) lr->attributes[lr->n_attributes++] = kv_str("syslog.hostname", Astr(r->host));
    if (r->sd.n) lr->attributes[lr->n_attributes++] = kv_str("syslog.structured_data", Astr(r->sd));
    return lr;
}

/* one request, grouped by context address as ctxlog groups */
static size_t pbc_encode(const ctx_fmt_rec_t *r, size_t n, unsigned char **out) {
    arena_used = 0;
    REQ req = OPENTELEMETRY__PROTO__COLLECTOR__LOGS__V1__EXPORT_LOGS_SERVICE_REQUEST__INIT;
    const char *keys[VMS];
    req.resource_logs = A(VMS * sizeof(RL *));
    static SCOPE scope = OPENTELEMETRY__PROTO__COMMON__V1__INSTRUMENTATION_SCOPE__INIT;
    scope.name = "ctxlog", scope.version = "0.1.0";
    for (size_t i = 0; i < n; i++) {
        size_t g = 0;
        while (g < req.n_resource_logs && keys[g] != r[i].ctx.p) g++;
        if (g == req.n_resource_logs) {
            RL *rl = A(sizeof(RL));
            SL *sl = A(sizeof(SL));
            *rl = (RL)OPENTELEMETRY__PROTO__LOGS__V1__RESOURCE_LOGS__INIT;
            *sl = (SL)OPENTELEMETRY__PROTO__LOGS__V1__SCOPE_LOGS__INIT;
            rl->resource = pbc_resource(r[i].ctx.p);
            rl->scope_logs = A(sizeof(SL *)), rl->scope_logs[0] = sl, rl->n_scope_logs = 1;
            sl->scope = &scope;
            sl->log_records = A(n * sizeof(LR *));
            keys[g] = r[i].ctx.p;
            req.resource_logs[req.n_resource_logs++] = rl;
        }
        SL *sl = req.resource_logs[g]->scope_logs[0];
        sl->log_records[sl->n_log_records++] = pbc_record(&r[i]);
    }
    size_t len = opentelemetry__proto__collector__logs__v1__export_logs_service_request__get_packed_size(&req);
    *out = malloc(len);
    return opentelemetry__proto__collector__logs__v1__export_logs_service_request__pack(&req, *out);
}

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void save(const char *dir, const char *name, const void *p, size_t n) {
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (f == NULL || fwrite(p, 1, n, f) != n || fclose(f) != 0) {
        perror(path);
        exit(1);
    }
}

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: otlp_compare RECORDS ROUNDS OUTDIR\n");
        return 1;
    }
    size_t n = strtoul(argv[1], NULL, 10), rounds = strtoul(argv[2], NULL, 10);
    ctx_fmt_rec_t *r = make_batch(n);
    arena_cap = n * 2048 + (1 << 20), arena = malloc(arena_cap);
    ctx_fmt_buf_t hb = {0};
    unsigned char *pb = NULL;
    size_t plen = 0;
    double t0 = now();
    for (size_t k = 0; k < rounds; k++) {
        hb.len = 0;
        if (ctx_fmt_otlp_encode(r, n, 0, &hb) != 0) return 1;
    }
    double t1 = now();
    for (size_t k = 0; k < rounds; k++) {
        free(pb);
        plen = pbc_encode(r, n, &pb);
    }
    double t2 = now();
    printf("hand-written: %zu bytes, %.0f ns per record\n", hb.len, (t1 - t0) * 1e9 / (double)(n * rounds));
    printf("protobuf-c:   %zu bytes, %.0f ns per record\n", plen, (t2 - t1) * 1e9 / (double)(n * rounds));
    save(argv[3], "hand.pb", hb.buf, hb.len);
    save(argv[3], "pbc.pb", pb, plen);
    free(hb.buf), free(pb), free(arena), free(r);
    return 0;
}
