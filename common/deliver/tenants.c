/* tenants.c: load, validate and look up the tenants file (see tenants.h and
 * docs/tenants.md for the format and every message).
 *
 * libfastjson parses the text (strict mode); since its objects carry no source
 * positions, a small key locator (tenants_parse.c) scans the same text once and
 * records the line of every object key, so that an error about
 * "tenants.acme.tls.ca_file" can name its line; the same scan finds duplicate keys,
 * which libfastjson silently merges.
 *
 * Concurrency: a ctx_tenants_t is immutable once ctx_tenants_parse() returns; only
 * its reference count changes (C11 atomics).
 */
#include "tenants_int.h"
#include "grow.h"

/* ---------------------------------------------------------------- the set */



void *tn_arena_alloc(arena_t *a, size_t sz) {
    if (a->n == a->cap) {
        void **p = ctx_grow(a->v, &a->cap, sizeof *p, 64);
        if (p == NULL)
            return NULL;
        a->v = p;
    }
    void *m = calloc(1, sz ? sz : 1);
    if (m != NULL)
        a->v[a->n++] = m;
    return m;
}

char *tn_arena_strndup(arena_t *a, const char *s, size_t n) {
    char *d = tn_arena_alloc(a, n + 1);
    if (d != NULL)
        memcpy(d, s, n);
    return d;
}

static void arena_free(arena_t *a) {
    for (size_t i = 0; i < a->n; i++)
        free(a->v[i]);
    free(a->v);
}

static void set_destroy(ctx_tenants_t *t) {
    if (t == NULL)
        return;
    arena_free(&t->arena);
    free(t->v);
    free(t->warn);
    free(t);
}

/* ---------------------------------------------------------------- sections */

static int host_ok(const char *s) {
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') || strchr(".-:_%", *s)))
            return 0;
    return 1;
}

static int get_host(pctx_t *pc, fjson_object *obj, const char *key, const char **out) {
    int rc = tn_get_string(pc, obj, key, 253, out);
    if (rc > 0 && !host_ok(*out))
        return tn_perr(pc, key, "expected a host name or IP address (letters, digits, \".-:_%%\")");
    return rc;
}

static int name_ok(const char *s) {
    return ctx_tenants_id_ok(s, strlen(s));
}

static int check_cipher_list(pctx_t *pc, const char *key, const char *list, int tls13) {
    if (pc->ssl == NULL && (pc->ssl = SSL_CTX_new(TLS_client_method())) == NULL)
        return tn_nomem(pc);
    int ok = tls13 ? SSL_CTX_set_ciphersuites(pc->ssl, list) : SSL_CTX_set_cipher_list(pc->ssl, list);
    ERR_clear_error();
    if (!ok)
        return tn_perr(pc, key, "OpenSSL knows no cipher%s in this list", tls13 ? " suite" : "");
    return CTX_OK;
}

static const char *const TLS_KEYS[] = {"ca_file", "cert_file", "key_file", "server_name", "min_version",
                                       "ciphers", "ciphersuites", "verify_peer", "verify_hostname", NULL};

static int parse_tls_checks(pctx_t *pc, ctx_tenant_tls_t *tls) {
    if ((tls->cert_file == NULL) != (tls->key_file == NULL))
        return tn_perr(pc, tls->cert_file ? "cert_file" : "key_file", "cert_file and key_file must be given together");
    if (tls->ciphers && check_cipher_list(pc, "ciphers", tls->ciphers, 0) != CTX_OK)
        return pc->rc;
    if (tls->ciphersuites && check_cipher_list(pc, "ciphersuites", tls->ciphersuites, 1) != CTX_OK)
        return pc->rc;
    if (!tls->verify_peer && tn_pwarn(pc, "verify_peer",
                                   "false: the server's certificate chain and dates are NOT checked for tenant %s",
                                   pc->tenant) != CTX_OK)
        return pc->rc;
    if (!tls->verify_hostname && tn_pwarn(pc, "verify_hostname",
                                       "false: the server's certificate name is NOT checked for tenant %s",
                                       pc->tenant) != CTX_OK)
        return pc->rc;
    return CTX_OK;
}

static int parse_tls(pctx_t *pc, fjson_object *obj, ctx_tenant_tls_t *tls) {
    static const char *const versions[] = {"1.2", "1.3", NULL};
    fjson_object *o;
    int rc = tn_get_object(pc, obj, "tls", &o);
    if (rc <= 0)
        return rc;
    tn_push(pc, "tls");
    int ver = 0;
    if (tn_check_keys(pc, o, TLS_KEYS, NULL, NULL, NULL) < 0 || tn_get_file(pc, o, "ca_file", 0, &tls->ca_file) < 0 ||
        tn_get_file(pc, o, "cert_file", 0, &tls->cert_file) < 0 || tn_get_file(pc, o, "key_file", 1, &tls->key_file) < 0 ||
        get_host(pc, o, "server_name", &tls->server_name) < 0 ||
        tn_get_string(pc, o, "ciphers", 1024, &tls->ciphers) < 0 ||
        tn_get_string(pc, o, "ciphersuites", 1024, &tls->ciphersuites) < 0 ||
        tn_get_enum(pc, o, "min_version", versions, &ver) < 0 || tn_get_bool(pc, o, "verify_peer", &tls->verify_peer) < 0 ||
        tn_get_bool(pc, o, "verify_hostname", &tls->verify_hostname) < 0)
        return pc->rc;
    tls->min_version = ver == 1 ? CTX_TLS_1_3 : CTX_TLS_1_2;
    rc = parse_tls_checks(pc, tls);
    tn_pop(pc);
    return rc;
}

static const char *const BATCH_KEYS[] = {"max_messages", "max_bytes", "max_delay_ms", NULL};
static const char *const SPOOL_KEYS[] = {"max_bytes", "when_full", NULL};

static int parse_batch_spool(pctx_t *pc, fjson_object *obj, ctx_tenant_t *t) {
    static const char *const policies[] = {"block", "drop-oldest", NULL};
    fjson_object *o;
    int64_t v;
    int rc = tn_get_object(pc, obj, "batch", &o);
    if (rc > 0) {
        tn_push(pc, "batch");
        if (tn_check_keys(pc, o, BATCH_KEYS, NULL, NULL, NULL) < 0)
            return pc->rc;
        if ((rc = tn_get_int(pc, o, "max_messages", 1, 1000000, &v)) > 0)
            t->batch.max_messages = (size_t)v;
        if (rc >= 0 && (rc = tn_get_int(pc, o, "max_bytes", 1024, 64 << 20, &v)) > 0)
            t->batch.max_bytes = (size_t)v;
        if (rc >= 0 && (rc = tn_get_int(pc, o, "max_delay_ms", 1, 3600000, &v)) > 0)
            t->batch.max_delay_ms = (uint64_t)v;
        tn_pop(pc);
    }
    if (rc < 0 || (rc = tn_get_object(pc, obj, "spool", &o)) <= 0)
        return rc;
    tn_push(pc, "spool");
    int pol = 0;
    if (tn_check_keys(pc, o, SPOOL_KEYS, NULL, NULL, NULL) < 0 || tn_get_enum(pc, o, "when_full", policies, &pol) < 0)
        return pc->rc;
    t->spool_when_full = pol ? CTX_SPOOL_DROP_OLDEST : CTX_SPOOL_BLOCK;
    if ((rc = tn_get_int(pc, o, "max_bytes", 1 << 20, (int64_t)1 << 50, &v)) > 0)
        t->spool_max_bytes = (uint64_t)v;
    if (rc >= 0 && t->spool_max_bytes < 2 * (uint64_t)t->batch.max_bytes)
        return tn_perr(pc, "max_bytes", "expected at least 2 x batch.max_bytes (%llu), got %llu",
                    2 * (unsigned long long)t->batch.max_bytes, (unsigned long long)t->spool_max_bytes);
    tn_pop(pc);
    return rc;
}

/* "context": {"host": "vm-only" | "full"}: which $!ctx host context the tenant may receive
 * (docs/threat-model.md, "What a tenant can see") */
static int parse_context(pctx_t *pc, fjson_object *obj, ctx_tenant_t *t) {
    static const char *const KEYS[] = {"host", NULL};
    static const char *const HOST[] = {"vm-only", "full", NULL};
    fjson_object *o;
    int rc = tn_get_object(pc, obj, "context", &o), v = 0;
    if (rc <= 0) return rc;
    tn_push(pc, "context");
    if (tn_check_keys(pc, o, KEYS, NULL, NULL, NULL) < 0 || tn_get_enum(pc, o, "host", HOST, &v) < 0) return pc->rc;
    t->context_host_full = v == 1;
    tn_pop(pc);
    return CTX_OK;
}

static int parse_stream(pctx_t *pc, fjson_object *obj, ctx_tenant_t *t) {
    static const char *const encs[] = {"none", "zstd", "gzip", NULL};
    int64_t port;
    int enc = 0, rc;
    if ((rc = get_host(pc, obj, "host", &t->host)) == 0)
        return tn_perr(pc, NULL, "\"host\" is required for transport \"%s\"", ctx_transport_name(t->transport));
    if (rc < 0 || (rc = tn_get_int(pc, obj, "port", 1, 65535, &port)) < 0 ||
        tn_get_enum(pc, obj, "compression", encs, &enc) < 0)
        return pc->rc;
    t->port = rc > 0 ? (unsigned)port : (t->transport == CTX_TRANSPORT_PLAIN_TCP ? 514u : 6514u);
    t->encoding = (ctx_encoding_t)enc; /* the order of encs[] is that of ctx_encoding_t */
    t->body = CTX_BATCH_OCTET_COUNTED;
    return CTX_OK;
}

static int header_name_ok(const char *s) {
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              strchr("!#$%&'*+-.^_`|~", *s)))
            return 0;
    return 1;
}

static int parse_headers(pctx_t *pc, fjson_object *obj, ctx_tenant_t *t) {
    static const char *const reserved[] = {"Host", "Content-Length", "Content-Encoding", "Transfer-Encoding",
                                           "Connection", NULL};
    fjson_object *o;
    int rc = tn_get_object(pc, obj, "headers", &o);
    if (rc <= 0)
        return rc;
    int n = fjson_object_object_length(o);
    if (n > 64)
        return tn_perr(pc, "headers", "expected at most 64 headers, got %d", n);
    ctx_header_t *h = tn_arena_alloc(&pc->set->arena, (size_t)n * sizeof *h);
    if (h == NULL)
        return tn_nomem(pc);
    tn_push(pc, "headers");
    struct fjson_object_iterator it = fjson_object_iter_begin(o), end = fjson_object_iter_end(o);
    for (; !fjson_object_iter_equal(&it, &end); fjson_object_iter_next(&it)) {
        const char *k = fjson_object_iter_peek_name(&it), *v;
        size_t vlen;
        if (k[0] == '\0' || !header_name_ok(k))
            return tn_perr(pc, k, "expected a header name (letters, digits, !#$%%&'*+-.^_`|~)");
        for (int i = 0; reserved[i]; i++)
            if (strcasecmp(k, reserved[i]) == 0)
                return tn_perr(pc, k, "set by omtenant itself; it cannot be configured");
        if ((t->auth != CTX_AUTH_NONE || tn_member(obj, "splunk_hec") != NULL) && strcasecmp(k, "Authorization") == 0)
            return tn_perr(pc, k, t->auth != CTX_AUTH_NONE ? "conflicts with \"auth\"" : "conflicts with \"splunk_hec\"");
        if (tn_get_raw_string(pc, o, k, 4096, &v, &vlen) < 0)
            return pc->rc;
        ctx_header_t *e = &h[t->nheaders++];
        e->name = tn_arena_strndup(&pc->set->arena, k, strlen(k));
        e->value = tn_arena_strndup(&pc->set->arena, v, vlen);
        if (e->name == NULL || e->value == NULL)
            return tn_nomem(pc);
    }
    t->headers = h;
    tn_pop(pc);
    return CTX_OK;
}

static const char *const AUTH_KEYS[] = {"type", "token_file", "user", "password_file", NULL};

static int parse_auth(pctx_t *pc, fjson_object *obj, ctx_tenant_t *t) {
    static const char *const types[] = {"bearer", "basic", NULL};
    fjson_object *o;
    int rc = tn_get_object(pc, obj, "auth", &o), type = 0;
    if (rc <= 0)
        return rc;
    tn_push(pc, "auth");
    if (tn_check_keys(pc, o, AUTH_KEYS, NULL, NULL, NULL) < 0 || (rc = tn_get_enum(pc, o, "type", types, &type)) < 0)
        return pc->rc;
    if (rc == 0)
        return tn_perr(pc, NULL, "\"type\" is required: \"bearer\" or \"basic\"");
    t->auth = type ? CTX_AUTH_BASIC : CTX_AUTH_BEARER;
    const char *need = type ? "password_file" : "token_file", *other = type ? "token_file" : "password_file";
    if (tn_member(o, other) != NULL)
        return tn_perr(pc, other, "not valid for auth type \"%s\"", types[type]);
    if (!type && tn_member(o, "user") != NULL)
        return tn_perr(pc, "user", "not valid for auth type \"bearer\"");
    if ((rc = tn_get_file(pc, o, need, 1, &t->auth_file)) == 0)
        return tn_perr(pc, NULL, "\"%s\" is required for auth type \"%s\"", need, types[type]);
    if (rc < 0)
        return rc;
    if (type && (rc = tn_get_string(pc, o, "user", 256, &t->auth_user)) <= 0)
        return rc < 0 ? rc : tn_perr(pc, NULL, "\"user\" is required for auth type \"basic\"");
    if (type && strchr(t->auth_user, ':') != NULL)
        return tn_perr(pc, "user", "a basic-auth user name cannot contain \":\"");
    tn_pop(pc);
    return CTX_OK;
}

static int url_ok(const char *u, size_t skip) {
    if (u[skip] == '\0' || u[skip] == '/' || u[skip] == '?' || u[skip] == '#')
        return 0;
    for (; *u; u++)
        if (*u == ' ' || *u == '\t')
            return 0;
    return 1;
}

static int parse_https(pctx_t *pc, fjson_object *obj, ctx_tenant_t *t) {
    static const char *const encs[] = {"none", "zstd", "gzip", NULL};
    int rc, enc = CTX_ENC_ZSTD, enc_set;
    if ((rc = tn_get_string(pc, obj, "url", 2048, &t->url)) == 0)
        return tn_perr(pc, NULL, "\"url\" is required for transport \"https\"");
    if (rc < 0)
        return rc;
    int is_http = strncasecmp(t->url, "http://", 7) == 0;
    if (!is_http && strncasecmp(t->url, "https://", 8) != 0)
        return tn_perr(pc, "url", "expected an https:// URL");
    if (!url_ok(t->url, is_http ? 7 : 8))
        return tn_perr(pc, "url", "expected a URL with a host and no spaces");
    if (is_http && !t->allow_plaintext)
        return tn_perr(pc, "url", "http:// sends logs unencrypted: use https:// or set \"allow_plaintext\": true");
    if (is_http && tn_member(obj, "tls") != NULL)
        return tn_perr(pc, "tls", "not valid with an http:// url");
    if ((enc_set = tn_get_enum(pc, obj, "content_encoding", encs, &enc)) < 0 || parse_auth(pc, obj, t) < 0 ||
        parse_headers(pc, obj, t) < 0)
        return pc->rc;
    t->encoding = (ctx_encoding_t)enc;
    if (tn_parse_format(pc, obj, t, enc_set) < 0) return pc->rc;
    if (is_http && tn_pwarn(pc, "url", "logs of tenant %s are sent unencrypted (allow_plaintext)", t->id) != CTX_OK)
        return pc->rc;
    return CTX_OK;
}

/* ---------------------------------------------------------------- one tenant */

static const char *const COMMON_KEYS[] = {"transport", "allow_plaintext", "tls",     "batch",
                                          "spool",     "redaction",       "context", NULL};
static const char *const STREAM_KEYS[] = {"host", "port", "compression", NULL};
static const char *const HTTPS_KEYS[] = {"url", "format", "body", "content_encoding", "headers", "auth",
                                         "elasticsearch", "loki", "splunk_hec", NULL};
static const char *const TRANSPORTS[] = {"syslog-tls", "https", "plain-tcp", NULL};

static void tenant_defaults(ctx_tenant_t *t) {
    t->batch.max_messages = 1000;
    t->batch.max_bytes = 1u << 20;
    t->batch.max_delay_ms = 1000;
    t->spool_max_bytes = (uint64_t)1 << 30;
    t->spool_when_full = CTX_SPOOL_BLOCK;
    t->tls.min_version = CTX_TLS_1_2;
    t->tls.verify_peer = 1;
    t->tls.verify_hostname = 1;
}

static int parse_transport_keys(pctx_t *pc, fjson_object *obj, ctx_tenant_t *t) {
    char why[64];
    snprintf(why, sizeof why, "for transport \"%s\"", ctx_transport_name(t->transport));
    if (t->transport == CTX_TRANSPORT_HTTPS)
        return tn_check_keys(pc, obj, COMMON_KEYS, HTTPS_KEYS, STREAM_KEYS, why);
    if (t->transport == CTX_TRANSPORT_SYSLOG_TLS)
        return tn_check_keys(pc, obj, COMMON_KEYS, STREAM_KEYS, HTTPS_KEYS, why);
    static const char *const plain[] = {"transport", "allow_plaintext", "batch", "spool", "redaction", "context", NULL};
    static const char *const not_plain[] = {"url", "format", "body", "content_encoding", "headers", "auth", "tls",
                                            "elasticsearch", "loki", "splunk_hec", NULL};
    snprintf(why, sizeof why, "for transport \"plain-tcp\" (no TLS, no HTTP)");
    return tn_check_keys(pc, obj, plain, STREAM_KEYS, not_plain, why);
}

static int parse_tenant(pctx_t *pc, fjson_object *obj, ctx_tenant_t *t) {
    int tr, rc;
    tenant_defaults(t);
    if (!fjson_object_is_type(obj, fjson_type_object))
        return tn_perr(pc, NULL, "expected an object, got %s", tn_jtype(obj));
    if ((rc = tn_get_enum(pc, obj, "transport", TRANSPORTS, &tr)) == 0)
        return tn_perr(pc, NULL, "\"transport\" is required: \"syslog-tls\", \"https\" or \"plain-tcp\"");
    if (rc < 0)
        return rc;
    t->transport = (ctx_transport_t)tr;
    if (parse_transport_keys(pc, obj, t) < 0 || tn_get_bool(pc, obj, "allow_plaintext", &t->allow_plaintext) < 0)
        return pc->rc;
    if (t->transport == CTX_TRANSPORT_PLAIN_TCP && !t->allow_plaintext)
        return tn_perr(pc, "transport",
                    "\"plain-tcp\" sends logs unencrypted: set \"allow_plaintext\": true to allow it");
    if (t->transport == CTX_TRANSPORT_HTTPS)
        rc = parse_https(pc, obj, t);
    else
        rc = parse_stream(pc, obj, t);
    if (rc < 0 || parse_tls(pc, obj, &t->tls) < 0 || parse_batch_spool(pc, obj, t) < 0 ||
        tn_get_string(pc, obj, "redaction", CTX_TENANT_ID_MAX, &t->redaction) < 0 || parse_context(pc, obj, t) < 0)
        return pc->rc;
    if (t->redaction && !name_ok(t->redaction))
        return tn_perr(pc, "redaction", "expected a rule set name of 1..64 characters A-Z a-z 0-9 . _ -");
    if (t->transport == CTX_TRANSPORT_PLAIN_TCP &&
        tn_pwarn(pc, "transport", "logs of tenant %s are sent unencrypted (allow_plaintext)", t->id) != CTX_OK)
        return pc->rc;
    return CTX_OK;
}

/* ---------------------------------------------------------------- the file */

int ctx_tenants_id_ok(const char *id, size_t len) {
    if (id == NULL || len == 0 || len > CTX_TENANT_ID_MAX)
        return 0;
    if ((len == 1 && id[0] == '.') || (len == 2 && id[0] == '.' && id[1] == '.'))
        return 0;
    for (size_t i = 0; i < len; i++) {
        char c = id[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
              c == '-'))
            return 0;
    }
    return 1;
}

static int parse_tenants_obj(pctx_t *pc, fjson_object *tobj) {
    ctx_tenants_t *t = pc->set;
    int n = fjson_object_object_length(tobj);
    if ((t->v = calloc(n ? (size_t)n : 1, sizeof *t->v)) == NULL)
        return tn_nomem(pc);
    if (n == 0 && tn_pwarn(pc, NULL, "no tenant is defined: every message will be dropped") != CTX_OK)
        return pc->rc;
    struct fjson_object_iterator it = fjson_object_iter_begin(tobj), end = fjson_object_iter_end(tobj);
    for (; !fjson_object_iter_equal(&it, &end); fjson_object_iter_next(&it)) {
        const char *id = fjson_object_iter_peek_name(&it);
        if (!ctx_tenants_id_ok(id, strlen(id)))
            return tn_perr(pc, id, "a tenant id is 1..64 characters A-Z a-z 0-9 . _ - and not \".\" or \"..\" "
                                "(it names the tenant's spool directory)");
        ctx_tenant_t *e = &t->v[t->n];
        if ((e->id = tn_arena_strndup(&t->arena, id, strlen(id))) == NULL)
            return tn_nomem(pc);
        tn_push(pc, e->id);
        pc->tenant = e->id;
        e->line = tn_keyidx_line(&pc->ki, pc->path, pc->depth);
        if (parse_tenant(pc, fjson_object_iter_peek_value(&it), e) < 0)
            return pc->rc;
        tn_pop(pc);
        t->n++;
    }
    return CTX_OK;
}

static int syntax_error(pctx_t *pc, const char *text, size_t len, size_t off, const char *what) {
    int line = 1;
    size_t col = 1;
    for (size_t i = 0; i < off && i < len; i++, col++)
        if (text[i] == '\n') {
            line++;
            col = 0;
        }
    if (pc->err && pc->errlen)
        snprintf(pc->err, pc->errlen, "%s:%d:%zu: invalid JSON: %s", pc->name, line, col, what);
    return pc->rc = CTX_EPARSE;
}

/* strict JSON, one top-level object, nothing after it */
static fjson_object *parse_json(pctx_t *pc, const char *text, size_t len) {
    fjson_tokener *tok = fjson_tokener_new();
    if (tok == NULL) {
        tn_nomem(pc);
        return NULL;
    }
    fjson_tokener_set_flags(tok, FJSON_TOKENER_STRICT);
    fjson_object *root = len > INT32_MAX ? NULL : fjson_tokener_parse_ex(tok, text, (int)len);
    enum fjson_tokener_error e = fjson_tokener_get_error(tok);
    size_t off = (size_t)tok->char_offset;
    if (root == NULL && e == fjson_tokener_continue)
        syntax_error(pc, text, len, len, "unexpected end of file");
    else if (root == NULL)
        syntax_error(pc, text, len, off, fjson_tokener_error_desc(e));
    else if (off < len) {
        syntax_error(pc, text, len, off, "unexpected text after the top-level object");
        fjson_object_put(root);
        root = NULL;
    }
    fjson_tokener_free(tok);
    return root;
}

static int check_duplicates(pctx_t *pc) {
    size_t first = 0;
    long d = tn_keyidx_dup(&pc->ki, &first);
    if (d < 0)
        return CTX_OK;
    const char *path[MAX_PATH + 1];
    int n = 0;
    for (long i = pc->ki.v[d].parent; i >= 0 && n < MAX_PATH; i = pc->ki.v[i].parent)
        n++;
    int k = n;
    for (long i = pc->ki.v[d].parent; i >= 0 && k > 0; i = pc->ki.v[i].parent)
        path[--k] = pc->ki.v[i].key;
    char key[NAME_MAX_SHOWN * 4 + 8], where[NAME_MAX_SHOWN * 4 * MAX_PATH + 16] = "";
    tn_shown(key, sizeof key, pc->ki.v[d].key);
    for (int i = 0; i < n; i++) {
        char part[NAME_MAX_SHOWN * 4 + 8];
        tn_shown(part, sizeof part, path[i]);
        size_t o = strlen(where);
        snprintf(where + o, sizeof where - o, "%s%s", i ? "." : "", part);
    }
    if (pc->err && pc->errlen)
        snprintf(pc->err, pc->errlen, "%s:%d: %s%s%s: duplicate key (first at line %d)", pc->name,
                 pc->ki.v[d].line, where, n ? "." : "", key, pc->ki.v[first].line);
    return pc->rc = CTX_EPARSE;
}

static int parse_root(pctx_t *pc, fjson_object *root) {
    static const char *const top[] = {"tenants", NULL};
    fjson_object *tobj;
    if (!fjson_object_is_type(root, fjson_type_object))
        return tn_perr(pc, NULL, "expected a JSON object {\"tenants\": {...}}, got %s", tn_jtype(root));
    if (tn_check_keys(pc, root, top, NULL, NULL, NULL) < 0)
        return pc->rc;
    int rc = tn_get_object(pc, root, "tenants", &tobj);
    if (rc == 0)
        return tn_perr(pc, NULL, "\"tenants\" is required: an object of tenant id -> destination");
    if (rc < 0)
        return rc;
    tn_push(pc, "tenants");
    rc = parse_tenants_obj(pc, tobj);
    tn_pop(pc);
    return rc;
}

int ctx_tenants_parse(const char *text, size_t len, const char *name, const char *base_dir, ctx_tenants_t **out,
                      char *err, size_t errlen) {
    if (err && errlen)
        err[0] = '\0';
    if (out == NULL || (text == NULL && len > 0))
        return CTX_EINVAL;
    *out = NULL;
    pctx_t pc = {.name = name ? name : "tenants", .base_dir = base_dir, .err = err, .errlen = errlen};
    if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0) { /* a UTF-8 BOM */
        text += 3;
        len -= 3;
    }
    if ((pc.set = calloc(1, sizeof *pc.set)) == NULL)
        return tn_nomem(&pc);
    atomic_init(&pc.set->refs, 1);
    fjson_object *root = parse_json(&pc, text ? text : "", len);
    if (root != NULL) {
        if (tn_keyidx_scan(&pc.ki, text, len) != CTX_OK)
            tn_nomem(&pc);
        else if (check_duplicates(&pc) == CTX_OK)
            parse_root(&pc, root);
        fjson_object_put(root);
    }
    tn_keyidx_free(&pc.ki);
    SSL_CTX_free(pc.ssl);
    if (pc.rc != 0) {
        set_destroy(pc.set);
        return pc.rc;
    }
    *out = pc.set;
    return CTX_OK;
}


int ctx_tenants_load(const char *path, ctx_tenants_t **out, char *err, size_t errlen) {
    if (out == NULL || path == NULL)
        return CTX_EINVAL;
    *out = NULL;
    char *buf, *dir = strdup(path);
    size_t len;
    if (dir == NULL)
        return CTX_ENOMEM;
    char *slash = strrchr(dir, '/');
    if (slash == dir)
        slash[1] = '\0';
    else if (slash)
        *slash = '\0';
    int rc = ctx_cfg_read(path, "tenants file", MAX_FILE, &buf, &len, err, errlen);
    if (rc == CTX_OK) {
        rc = ctx_tenants_parse(buf, len, path, slash ? dir : NULL, out, err, errlen);
        free(buf);
    }
    free(dir);
    return rc;
}

/* ---------------------------------------------------------------- lookup */

ctx_tenants_t *ctx_tenants_ref(ctx_tenants_t *t) {
    if (t != NULL)
        atomic_fetch_add_explicit(&t->refs, 1, memory_order_relaxed);
    return t;
}

void ctx_tenants_free(ctx_tenants_t *t) {
    if (t != NULL && atomic_fetch_sub_explicit(&t->refs, 1, memory_order_acq_rel) == 1)
        set_destroy(t);
}

const ctx_tenant_t *ctx_tenants_get(const ctx_tenants_t *t, const char *id, size_t idlen) {
    for (size_t i = 0; t != NULL && id != NULL && i < t->n; i++)
        if (strncmp(t->v[i].id, id, idlen) == 0 && t->v[i].id[idlen] == '\0')
            return &t->v[i];
    return NULL;
}


size_t ctx_tenants_count(const ctx_tenants_t *t) {
    return t ? t->n : 0;
}

const ctx_tenant_t *ctx_tenants_at(const ctx_tenants_t *t, size_t i) {
    return t && i < t->n ? &t->v[i] : NULL;
}

size_t ctx_tenants_warning_count(const ctx_tenants_t *t) {
    return t ? t->nwarn : 0;
}

const char *ctx_tenants_warning(const ctx_tenants_t *t, size_t i) {
    return t && i < t->nwarn ? t->warn[i] : NULL;
}

const char *ctx_transport_name(ctx_transport_t tr) {
    return (unsigned)tr < 3 ? TRANSPORTS[tr] : "?";
}
