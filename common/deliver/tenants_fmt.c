/* tenants_fmt.c: an https tenant's "format" and the keys of each format (docs/tenants.md):
 *   "elasticsearch": {"index": NAME} or {"data_stream": NAME}
 *   "loki":          {"labels": [KEY, ...]}
 *   "splunk_hec":    {"token_file": FILE, "source", "sourcetype", "index", "channel"}
 * and what follows from the format: the URL the batches go to, the default (and the
 * refused) content encodings. "body" (ndjson / json-array) is the older name of "format".
 *
 * Concurrency: config thread only (part of ctx_tenants_parse).
 */
#include "tenants_int.h"

static const char *const FORMATS[] = {"ndjson", "json-array", "otlp", "otlp-json", "elasticsearch", "loki",
                                      "splunk-hec", NULL};
static const char *const BLOCKS[] = {"elasticsearch", "loki", "splunk_hec", NULL};
static const ctx_fmt_t BLOCK_FMT[] = {CTX_FMT_ELASTICSEARCH, CTX_FMT_LOKI, CTX_FMT_SPLUNK_HEC};
static const char *const PRODUCT[] = {"", "", "", "", "Elasticsearch's bulk API", "Loki's push API",
                                      "Splunk's HTTP Event Collector"};

/* ---------------------------------------------------------------- urls */

/* t->url with path appended (a trailing '/' of the URL dropped) */
static int url_join(pctx_t *pc, ctx_tenant_t *t, const char *path) {
    size_t n = strlen(t->url), pn = strlen(path);
    while (n > 0 && t->url[n - 1] == '/') n--;
    char *u = tn_arena_alloc(&pc->set->arena, n + pn + 1);
    if (u == NULL) return tn_nomem(pc);
    memcpy(u, t->url, n);
    memcpy(u + n, path, pn + 1);
    t->url = u;
    return CTX_OK;
}

static int ends_with(const char *s, const char *tail) {
    size_t n = strlen(s), tn = strlen(tail);
    while (n > 0 && s[n - 1] == '/') n--;
    return n >= tn && memcmp(s + n - tn, tail, tn) == 0;
}

/* ---------------------------------------------------------------- elasticsearch */

/* an index / data stream name as Elasticsearch accepts it */
static const char *es_name_problem(const char *s) {
    if (s[0] == '\0' || strlen(s) > 255) return "expected 1..255 bytes";
    if (!strcmp(s, ".") || !strcmp(s, "..")) return "\".\" and \"..\" are not index names";
    if (s[0] == '-' || s[0] == '_' || s[0] == '+') return "cannot start with '-', '_' or '+'";
    for (const char *p = s; *p; p++) {
        if (*p >= 'A' && *p <= 'Z') return "must be lowercase";
        if (strchr("\\/*?\"<>| ,#:%", *p) != NULL || (unsigned char)*p < 0x20) return "cannot contain \\ / * ? \" < > | space , # : %";
    }
    return NULL;
}

static int parse_es(pctx_t *pc, fjson_object *o, ctx_tenant_t *t) {
    static const char *const keys[] = {"index", "data_stream", NULL};
    const char *idx = NULL, *ds = NULL, *why;
    if (tn_check_keys(pc, o, keys, NULL, NULL, NULL) < 0 || tn_get_string(pc, o, "index", 255, &idx) < 0 ||
        tn_get_string(pc, o, "data_stream", 255, &ds) < 0)
        return pc->rc;
    if ((idx == NULL) == (ds == NULL))
        return tn_perr(pc, NULL, "expected exactly one of \"index\" or \"data_stream\": where the documents go");
    t->es_target = idx ? idx : ds;
    t->es_data_stream = ds != NULL;
    if ((why = es_name_problem(t->es_target)) != NULL)
        return tn_perr(pc, idx ? "index" : "data_stream", "\"%s\": %s", t->es_target, why);
    if (ds != NULL && strncmp(ds, "logs-", 5) != 0 &&
        tn_pwarn(pc, "data_stream", "\"%s\" does not match Elasticsearch's built-in \"logs-*-*\" template: the cluster "
                 "needs an index template with a data_stream for it", ds) != CTX_OK)
        return pc->rc;
    return CTX_OK;
}

static int es_url(pctx_t *pc, ctx_tenant_t *t) {
    if (strstr(t->url, "_bulk") != NULL)
        return tn_perr(pc, "url", "expected the cluster's URL (e.g. https://es.example:9200): omtenant posts to "
                                  "<url>/<index or data_stream>/_bulk itself");
    char path[300];
    snprintf(path, sizeof path, "/%s/_bulk", t->es_target);
    return url_join(pc, t, path);
}

/* ---------------------------------------------------------------- loki */

/* NULL if key may be a label; else why not */
static const char *label_problem(const char *k) {
    static const char *const per_msg[] = {"msg", "message", "time", "procid", "msgid", "sd", "pid", NULL};
    static const char *const per_msg_prefix[] = {"capture.", "host.", "vm.process.", "cm.avg_", "cm.fetched_at", NULL};
    static const char *const ok_fields[] = {"hostname", "app", "severity", "facility", NULL};
    static const char *const ok_prefix[] = {"vm.", "cm.", "tags.", NULL};
    for (int i = 0; per_msg[i]; i++)
        if (!strcmp(k, per_msg[i])) return "is different for (almost) every message";
    for (int i = 0; per_msg_prefix[i]; i++)
        if (!strncmp(k, per_msg_prefix[i], strlen(per_msg_prefix[i])))
            return "changes with every message or sample";
    if (!strcmp(k, "vm.spoof")) return "is different for every spoofed packet";
    for (int i = 0; ok_fields[i]; i++)
        if (!strcmp(k, ok_fields[i])) return NULL;
    for (int i = 0; ok_prefix[i]; i++)
        if (!strncmp(k, ok_prefix[i], strlen(ok_prefix[i])) && k[strlen(ok_prefix[i])] != '\0') {
            for (const char *p = k; *p; p++)
                if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '_' ||
                      *p == '.'))
                    return "expected a context key of letters, digits, '_' and '.'";
            return NULL;
        }
    return "unknown: expected \"hostname\", \"app\", \"severity\", \"facility\", or a context key under "
           "\"vm.\", \"cm.\" or \"tags.\" such as \"vm.name\"";
}

static int one_label(pctx_t *pc, ctx_fmt_opts_t *o, fjson_object *v, size_t i) {
    char idx[24];
    snprintf(idx, sizeof idx, "labels[%zu]", i);
    if (!fjson_object_is_type(v, fjson_type_string)) return tn_perr(pc, idx, "expected a string, got %s", tn_jtype(v));
    const char *k = fjson_object_get_string(v), *why;
    char shown[NAME_MAX_SHOWN * 4 + 8];
    tn_shown(shown, sizeof shown, k);
    if (strlen(k) >= CTX_FMT_PATH_MAX) return tn_perr(pc, idx, "\"%s\": longer than %d bytes", shown, CTX_FMT_PATH_MAX - 1);
    if ((why = label_problem(k)) != NULL)
        return tn_perr(pc, idx, "\"%s\" %s%s", shown, why,
                       strncmp(why, "unknown", 7) && strncmp(why, "expected", 8)
                           ? ": a Loki label must have few values (each label set is a stream Loki indexes); it is "
                             "sent as structured metadata instead"
                           : "");
    for (unsigned j = 0; j < o->nlabels; j++)
        if (!strcmp(o->label_key[j], k)) return tn_perr(pc, idx, "\"%s\" is listed twice", shown);
    snprintf(o->label_key[o->nlabels], CTX_FMT_PATH_MAX, "%s", k);
    char *name = o->label_name[o->nlabels];
    snprintf(name, CTX_FMT_LABEL_NAME_MAX, "%s", k);
    for (char *p = name; *p; p++)
        if (*p == '.') *p = '_';
    o->nlabels++;
    return CTX_OK;
}

static int parse_loki(pctx_t *pc, fjson_object *o, ctx_tenant_t *t) {
    static const char *const keys[] = {"labels", NULL};
    ctx_fmt_opts_t *fo = &t->fmt_opts;
    if (o != NULL && tn_check_keys(pc, o, keys, NULL, NULL, NULL) < 0) return pc->rc;
    fjson_object *arr = o ? tn_member(o, "labels") : NULL;
    if (arr == NULL) { /* default: the VM's name */
        snprintf(fo->label_key[0], CTX_FMT_PATH_MAX, "vm.name");
        snprintf(fo->label_name[0], CTX_FMT_LABEL_NAME_MAX, "vm_name");
        fo->nlabels = 1;
        return CTX_OK;
    }
    if (!fjson_object_is_type(arr, fjson_type_array)) return tn_perr(pc, "labels", "expected an array of context keys, got %s", tn_jtype(arr));
    size_t n = (size_t)fjson_object_array_length(arr);
    if (n == 0 || n > CTX_FMT_LABELS_MAX)
        return tn_perr(pc, "labels", "expected 1..%d keys (Loki wants few labels), got %zu", CTX_FMT_LABELS_MAX, n);
    for (size_t i = 0; i < n; i++)
        if (one_label(pc, fo, fjson_object_array_get_idx(arr, (int)i), i) < 0) return pc->rc;
    return CTX_OK;
}

static int loki_url(pctx_t *pc, ctx_tenant_t *t) {
    return ends_with(t->url, "/loki/api/v1/push") ? CTX_OK : url_join(pc, t, "/loki/api/v1/push");
}

/* ---------------------------------------------------------------- splunk-hec */

static int guid_ok(const char *s) {
    if (strlen(s) != 36) return 0;
    for (int i = 0; i < 36; i++) {
        int dash = i == 8 || i == 13 || i == 18 || i == 23;
        char c = s[i];
        if (dash ? c != '-' : !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) return 0;
    }
    return 1;
}

static int hec_field(pctx_t *pc, fjson_object *o, const char *key, char *out) {
    const char *v = NULL;
    if (tn_get_string(pc, o, key, CTX_FMT_FIELD_MAX - 1, &v) < 0) return pc->rc;
    if (v != NULL) snprintf(out, CTX_FMT_FIELD_MAX, "%s", v);
    return CTX_OK;
}

static int parse_hec(pctx_t *pc, fjson_object *o, ctx_tenant_t *t) {
    static const char *const keys[] = {"token_file", "source", "sourcetype", "index", "channel", NULL};
    int rc;
    if (o == NULL) return tn_perr(pc, NULL, "\"splunk_hec\" with \"token_file\" is required for format \"splunk-hec\"");
    tn_push(pc, "splunk_hec");
    if (tn_check_keys(pc, o, keys, NULL, NULL, NULL) < 0) return pc->rc;
    if ((rc = tn_get_file(pc, o, "token_file", 1, &t->hec_token_file)) == 0)
        return tn_perr(pc, NULL, "\"token_file\" is required: the file holding the HEC token");
    if (rc < 0 || hec_field(pc, o, "source", t->fmt_opts.source) < 0 ||
        hec_field(pc, o, "sourcetype", t->fmt_opts.sourcetype) < 0 || hec_field(pc, o, "index", t->fmt_opts.index) < 0 ||
        tn_get_string(pc, o, "channel", 36, &t->hec_channel) < 0)
        return pc->rc;
    if (t->hec_channel != NULL && !guid_ok(t->hec_channel))
        return tn_perr(pc, "channel", "expected a GUID such as \"0aeeac95-ac74-4aa9-b30d-6c4c0ac581ba\"");
    tn_pop(pc);
    if (t->auth != CTX_AUTH_NONE) return tn_perr(pc, "auth", "not valid with format \"splunk-hec\": the token is splunk_hec.token_file");
    return ends_with(t->url, "/services/collector/event") ? CTX_OK : url_join(pc, t, "/services/collector/event");
}

/* ---------------------------------------------------------------- the format */

static int which_format(pctx_t *pc, fjson_object *obj, int *f) {
    static const char *const bodies[] = {"ndjson", "json-array", NULL};
    int rc, body = 0;
    *f = CTX_FMT_NDJSON;
    if ((rc = tn_get_enum(pc, obj, "format", FORMATS, f)) < 0) return rc;
    if (tn_member(obj, "body") == NULL) return CTX_OK;
    if (rc > 0) return tn_perr(pc, "body", "the older name of \"format\": give only \"format\"");
    if (tn_get_enum(pc, obj, "body", bodies, &body) < 0) return pc->rc;
    *f = body;
    return tn_pwarn(pc, "body", "deprecated: use \"format\": \"%s\"", bodies[body]);
}

/* each format block only with its format */
static int blocks_fit(pctx_t *pc, fjson_object *obj, ctx_fmt_t f) {
    for (int i = 0; BLOCKS[i]; i++)
        if (tn_member(obj, BLOCKS[i]) != NULL && BLOCK_FMT[i] != f)
            return tn_perr(pc, BLOCKS[i], "valid only with \"format\": \"%s\" (this tenant's format is \"%s\")",
                           FORMATS[BLOCK_FMT[i]], FORMATS[f]);
    return CTX_OK;
}

/* elasticsearch, loki, splunk-hec: gzip by default; zstd refused */
static int encoding_fits(pctx_t *pc, ctx_tenant_t *t, int enc_set) {
    if (t->format != CTX_FMT_ELASTICSEARCH && t->format != CTX_FMT_LOKI && t->format != CTX_FMT_SPLUNK_HEC) return CTX_OK;
    if (!enc_set) {
        t->encoding = CTX_ENC_GZIP;
        return CTX_OK;
    }
    if (t->encoding == CTX_ENC_ZSTD)
        return tn_perr(pc, "content_encoding", "\"zstd\" is not accepted by %s (it takes gzip request bodies only): "
                       "use \"gzip\" or \"none\"", PRODUCT[t->format]);
    return CTX_OK;
}

int tn_parse_format(pctx_t *pc, fjson_object *obj, ctx_tenant_t *t, int enc_set) {
    int f;
    fjson_object *blk = NULL;
    if (which_format(pc, obj, &f) < 0 || blocks_fit(pc, obj, (ctx_fmt_t)f) < 0) return pc->rc;
    t->format = (ctx_fmt_t)f;
    t->body = ctx_batch_format_of(t->format);
    if (encoding_fits(pc, t, enc_set) < 0) return pc->rc;
    switch (t->format) {
    case CTX_FMT_ELASTICSEARCH:
        if (tn_get_object(pc, obj, "elasticsearch", &blk) <= 0)
            return pc->rc ? pc->rc
                          : tn_perr(pc, NULL, "\"elasticsearch\" is required for format \"elasticsearch\": "
                                              "{\"index\": NAME} or {\"data_stream\": NAME}");
        tn_push(pc, "elasticsearch");
        if (parse_es(pc, blk, t) < 0) return pc->rc;
        tn_pop(pc);
        return es_url(pc, t);
    case CTX_FMT_LOKI:
        if (tn_get_object(pc, obj, "loki", &blk) < 0) return pc->rc;
        tn_push(pc, "loki");
        if (parse_loki(pc, blk, t) < 0) return pc->rc;
        tn_pop(pc);
        return loki_url(pc, t);
    case CTX_FMT_SPLUNK_HEC:
        if (tn_get_object(pc, obj, "splunk_hec", &blk) < 0) return pc->rc;
        return parse_hec(pc, blk, t);
    default:
        return CTX_OK;
    }
}
