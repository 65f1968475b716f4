/* cmauth.c: Keystone v3 tokens and vCenter sessions for the compute-manager fetchers.
 *
 * Concurrency: conf strings are copied in cmauth_new() and read-only. `mu` guards the
 * token, its generation and deadlines, the backoff and the log state; it is never held
 * across the login transfer: a thread claims the login (`busy`), unlocks, logs in, and
 * publishes the result under the lock. Counters are atomics.
 */
#include "cmauth.h"

#include <ctype.h>
#include <curl/curl.h>
#include <errno.h>
#include <json.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "backoff.h"
#include "clock.h"
#include "counters.h"
#include "cmhttp.h"
#include "ctxlog_common.h"
#include "secretfile.h"

#define TOKEN_MAX 16384
#define SECRET_MAX 4096
#define REASON_MAX 200
#define RENEW_MAX_MS 60000
#define NO_EXPIRY_MS 3600000 /* renew a token whose expires_at we could not use after 1 h */
#define FRESH_MS 1000

struct cmauth {
    cmauth_conf_t conf;
    char *own[10];
    cmauth_log_fn log;
    void *log_arg;
    atomic_bool down;            /* cmauth_shutdown() */
    pthread_mutex_t mu;
    char *token;                 /* guarded: the header value, or NULL */
    uint64_t gen;                /* guarded: bumped with each new token */
    int64_t got_at;              /* guarded: when the token was obtained */
    int64_t renew_at;            /* guarded: log in again from then (0 = never by time) */
    int64_t retry_at;            /* guarded: after a failure, no login before */
    bool busy;                   /* guarded: a thread is logging in */
    unsigned fails;              /* guarded: consecutive failed logins */
    char last_reason[CTX_ERRLEN];/* guarded: the failure last logged */
    ctx_backoff_t *backoff;      /* guarded */
    cmauth_stats_t st;  /* counters.h */
};

#define INC(a, c) CTX_CTR_INC((a)->st, c)

void cmauth_conf_defaults(cmauth_conf_t *c) {
    memset(c, 0, sizeof *c);
    c->user_domain = "Default";
    c->project_domain = "Default";
    CM_HTTP_DEFAULTS(c);
    c->backoff_min_ms = 1000;
    c->backoff_max_ms = 300000;
}

int cmauth_type_parse(const char *s) {
    if (s == NULL) return -1;
    if (!strcmp(s, "keystone")) return CM_AUTH_KEYSTONE;
    if (!strcmp(s, "vcenter")) return CM_AUTH_VCENTER;
    return -1;
}

/* ---- secrets ---------------------------------------------------------------------------- */

/* Reads a secret file's first line into out (checked: owner, mode 0600 or stricter). */
static int read_secret(const char *key, const char *path, char *out, size_t outlen, char *err, size_t errlen) {
    FILE *fp = fopen(path, "re");
    struct stat st;
    if (fp == NULL || fstat(fileno(fp), &st) != 0) {
        snprintf(err, errlen, "%s: cannot read '%s': %s", key, path, strerror(errno));
        if (fp) fclose(fp);
        return CTX_EIO;
    }
    char why[160];
    if (ctx_secret_check(&st, geteuid(), why, sizeof why) != CTX_SECRET_OK) {
        snprintf(err, errlen, "%s: '%s' cannot hold a secret: %s", key, path, why);
        fclose(fp);
        return CTX_EINVAL;
    }
    size_t n = fread(out, 1, outlen - 1, fp);
    fclose(fp);
    out[n] = '\0';
    size_t len = strcspn(out, "\r\n");
    if (len == n && n == outlen - 1) {
        snprintf(err, errlen, "%s: '%s': first line longer than %zu bytes", key, path, outlen - 2);
        return CTX_EPARSE;
    }
    out[len] = '\0';
    if (len == 0) {
        snprintf(err, errlen, "%s: '%s': first line is empty (expected the secret)", key, path);
        return CTX_EPARSE;
    }
    return (int)len;
}

/* ---- configuration ---------------------------------------------------------------------- */

static int need(const char *key, const char *v, const char *why, char *err, size_t errlen) {
    if (v != NULL && *v) return CTX_OK;
    snprintf(err, errlen, "%s: required %s", key, why);
    return CTX_EINVAL;
}

static int check_conf(const cmauth_conf_t *c, char *err, size_t errlen) {
    int rc;
    const char *t = c->type == CM_AUTH_KEYSTONE ? "with cm.auth=\"keystone\"" : "with cm.auth=\"vcenter\"";
    if (c->type != CM_AUTH_KEYSTONE && c->type != CM_AUTH_VCENTER) {
        snprintf(err, errlen, "cm.auth: expected \"keystone\" or \"vcenter\"");
        return CTX_EINVAL;
    }
    if ((rc = need("cm.authUrl", c->url, t, err, errlen)) < 0) return rc;
    if (strncasecmp(c->url, "https://", 8) != 0 && !(c->allow_insecure && strncasecmp(c->url, "http://", 7) == 0)) {
        snprintf(err, errlen, "cm.authUrl: '%s' %s", c->url,
                 strncasecmp(c->url, "http://", 7) == 0
                     ? "would send the credentials in clear: expected https://, or cm.allowInsecure=\"on\""
                     : "must start with https://");
        return CTX_EINVAL;
    }
    if (c->type == CM_AUTH_VCENTER || c->appcred_id == NULL) {
        if ((rc = need("cm.user", c->user, t, err, errlen)) < 0) return rc;
        if ((rc = need("cm.passwordFile", c->password_file, t, err, errlen)) < 0) return rc;
        if (c->appcred_secret_file != NULL) {
            snprintf(err, errlen, "cm.appCredSecretFile: needs cm.appCredId (and cm.auth=\"keystone\")");
            return CTX_EINVAL;
        }
    } else {
        if ((rc = need("cm.appCredSecretFile", c->appcred_secret_file, "with cm.appCredId", err, errlen)) < 0)
            return rc;
        if (c->user != NULL || c->password_file != NULL) {
            snprintf(err, errlen, "cm.appCredId: cannot be combined with %s (choose a password or an application "
                     "credential)", c->user ? "cm.user" : "cm.passwordFile");
            return CTX_EINVAL;
        }
    }
    if (c->type == CM_AUTH_VCENTER && (c->appcred_id || c->project)) {
        snprintf(err, errlen, "%s: only with cm.auth=\"keystone\"", c->appcred_id ? "cm.appCredId" : "cm.project");
        return CTX_EINVAL;
    }
    return CTX_OK;
}

static int copy_conf(cmauth_t *a, const cmauth_conf_t *conf) {
    a->conf = *conf;
    const char **s[] = {&a->conf.url, &a->conf.user, &a->conf.user_domain, &a->conf.project,
                        &a->conf.project_domain, &a->conf.password_file, &a->conf.appcred_id,
                        &a->conf.appcred_secret_file, &a->conf.ca_file, &a->conf.user_agent};
    for (size_t i = 0; i < sizeof s / sizeof s[0]; i++) {
        if (*s[i] == NULL) continue;
        if ((a->own[i] = strdup(*s[i])) == NULL) return CTX_ENOMEM;
        *s[i] = a->own[i];
    }
    return CTX_OK;
}

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static void curl_init(void) { curl_global_init(CURL_GLOBAL_DEFAULT); }

int cmauth_new(cmauth_t **out, const cmauth_conf_t *conf, cmauth_log_fn log, void *log_arg, char *err,
               size_t errlen) {
    *out = NULL;
    int rc = check_conf(conf, err, errlen);
    if (rc < 0) return rc;
    char secret[SECRET_MAX];
    const char *key = conf->appcred_id && conf->type == CM_AUTH_KEYSTONE ? "cm.appCredSecretFile" : "cm.passwordFile";
    const char *file = conf->appcred_id && conf->type == CM_AUTH_KEYSTONE ? conf->appcred_secret_file
                                                                          : conf->password_file;
    rc = read_secret(key, file, secret, sizeof secret, err, errlen);
    memset(secret, 0, sizeof secret);
    if (rc < 0) return rc;
    if (conf->ca_file != NULL && access(conf->ca_file, R_OK) != 0) {
        snprintf(err, errlen, "cm.caFile: cannot read '%s': %s", conf->ca_file, strerror(errno));
        return CTX_EIO;
    }
    pthread_once(&curl_once, curl_init);
    cmauth_t *a = calloc(1, sizeof *a);
    if (a == NULL || copy_conf(a, conf) < 0 ||
        ctx_backoff_new((uint64_t)conf->backoff_min_ms, (uint64_t)conf->backoff_min_ms,
                        (uint64_t)conf->backoff_max_ms, NULL, NULL, &a->backoff) < 0) {
        snprintf(err, errlen, "cm.auth: out of memory");
        cmauth_free(a);
        return CTX_ENOMEM;
    }
    pthread_mutex_init(&a->mu, NULL);
    a->log = log;
    a->log_arg = log_arg;
    *out = a;
    return CTX_OK;
}

void cmauth_free(cmauth_t *a) {
    if (a == NULL) return;
    if (a->backoff) pthread_mutex_destroy(&a->mu);
    ctx_backoff_free(a->backoff);
    for (size_t i = 0; i < sizeof a->own / sizeof a->own[0]; i++) free(a->own[i]);
    if (a->token) memset(a->token, 0, strlen(a->token));
    free(a->token);
    free(a);
}

void cmauth_shutdown(cmauth_t *a) { atomic_store(&a->down, true); }

/* ---- reply parsers ---------------------------------------------------------------------- */

static struct fjson_object *parse(const char *body, size_t len) {
    if (body == NULL || len == 0 || len > (1u << 30)) return NULL;
    struct fjson_tokener *tok = fjson_tokener_new();
    if (tok == NULL) return NULL;
    struct fjson_object *o = fjson_tokener_parse_ex(tok, body, (int)len);
    if (fjson_tokener_get_error(tok) != fjson_tokener_success) {
        fjson_object_put(o);
        o = NULL;
    }
    fjson_tokener_free(tok);
    return o;
}

static struct fjson_object *get(struct fjson_object *o, const char *k) {
    struct fjson_object *v = NULL;
    if (o == NULL || !fjson_object_is_type(o, fjson_type_object)) return NULL;
    return fjson_object_object_get_ex(o, k, &v) ? v : NULL;
}

static const char *get_str(struct fjson_object *o, const char *k) {
    struct fjson_object *v = get(o, k);
    return v != NULL && fjson_object_is_type(v, fjson_type_string) ? fjson_object_get_string(v) : NULL;
}

/* "YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM)" -> Unix ms; -1 if not that */
static int64_t parse_iso8601(const char *s) {
    int y, mo, d, h, mi, sec, n = 0;
    if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &sec, &n) != 6 || n != 19) return -1;
    if (y < 1970 || y > 9999 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60) return -1;
    const char *p = s + n;
    int64_t ms = 0;
    if (*p == '.') {
        int digits = 0;
        for (p++; isdigit((unsigned char)*p); p++, digits++)
            if (digits < 3) ms = ms * 10 + (*p - '0');
        if (digits == 0) return -1;
        for (; digits < 3; digits++) ms *= 10;
    }
    int64_t off = 0;
    if (*p == 'Z') {
        p++;
    } else if ((*p == '+' || *p == '-') && isdigit((unsigned char)p[1]) && isdigit((unsigned char)p[2]) &&
               p[3] == ':' && isdigit((unsigned char)p[4]) && isdigit((unsigned char)p[5])) {
        off = ((p[1] - '0') * 10 + (p[2] - '0')) * 3600 + ((p[4] - '0') * 10 + (p[5] - '0')) * 60;
        if (*p == '-') off = -off;
        p += 6;
    } else {
        return -1;
    }
    if (*p != '\0') return -1;
    struct tm tm = {.tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d, .tm_hour = h, .tm_min = mi, .tm_sec = sec};
    time_t t = timegm(&tm);
    if (t == (time_t)-1) return -1;
    return ((int64_t)t - off) * 1000 + ms;
}

int cmauth_keystone_expiry(const char *body, size_t len, int64_t *exp_ms, const char **why) {
    struct fjson_object *o = parse(body, len);
    if (o == NULL) { *why = "reply is not JSON"; return CTX_EPARSE; }
    const char *s = get_str(get(o, "token"), "expires_at");
    int64_t t = s != NULL ? parse_iso8601(s) : -1;
    fjson_object_put(o);
    if (s == NULL) { *why = "reply has no token.expires_at string"; return CTX_EPARSE; }
    if (t < 0) { *why = "token.expires_at is not an ISO 8601 time"; return CTX_EPARSE; }
    *exp_ms = t;
    return CTX_OK;
}

static int header_safe(const char *s, size_t n) {
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] <= ' ' || (unsigned char)s[i] >= 0x7f) return 0;
    return n > 0;
}

int cmauth_vcenter_session(const char *body, size_t len, char *out, size_t outlen, const char **why) {
    struct fjson_object *o = parse(body, len);
    if (o == NULL) { *why = "reply is not JSON"; return CTX_EPARSE; }
    struct fjson_object *v = fjson_object_is_type(o, fjson_type_object) ? get(o, "value") : o;
    int rc;
    if (v == NULL || !fjson_object_is_type(v, fjson_type_string)) {
        *why = "reply is not a session id (expected a JSON string)";
        rc = CTX_EPARSE;
    } else {
        const char *s = fjson_object_get_string(v);
        size_t n = (size_t)fjson_object_get_string_len(v);
        if (!header_safe(s, n) || strlen(s) != n) {
            *why = "session id is empty or has spaces or control characters";
            rc = CTX_EPARSE;
        } else if (n >= outlen) {
            *why = "session id too long";
            rc = CTX_EFULL;
        } else {
            memcpy(out, s, n + 1);
            rc = (int)n;
        }
    }
    fjson_object_put(o);
    return rc;
}

static void printable(const char *s, char *out, size_t outlen) {
    size_t n = 0;
    for (; s != NULL && *s && n + 1 < outlen; s++) out[n++] = (unsigned char)*s < ' ' || *s == 0x7f ? ' ' : *s;
    out[n] = '\0';
}

void cmauth_reason(const char *body, size_t len, char *out, size_t outlen) {
    if (outlen == 0) return;
    out[0] = '\0';
    struct fjson_object *o = parse(body, len);
    if (o == NULL) return;
    const char *s = get_str(get(o, "error"), "message");
    struct fjson_object *msgs = get(o, "messages");
    if (s == NULL && msgs != NULL && fjson_object_is_type(msgs, fjson_type_array) &&
        fjson_object_array_length(msgs) > 0)
        s = get_str(fjson_object_array_get_idx(msgs, 0), "default_message");
    if (s == NULL) s = get_str(o, "error_type");
    if (s == NULL) s = get_str(get(o, "value"), "error_type");
    char buf[REASON_MAX + 1];
    printable(s, buf, sizeof buf < outlen ? sizeof buf : outlen);
    snprintf(out, outlen, "%s", buf);
    fjson_object_put(o);
}

/* ---- the login transfer ------------------------------------------------------------------- */

struct reply {
    cm_body_t body;
    char token[TOKEN_MAX + 1]; /* X-Subject-Token */
    bool token_too_long;
    const atomic_bool *stop;
    const atomic_bool *down;
};

static size_t on_header(char *p, size_t size, size_t nmemb, void *ud) {
    struct reply *r = ud;
    size_t n = size * nmemb;
    static const char name[] = "x-subject-token:";
    if (n > sizeof name - 1 && strncasecmp(p, name, sizeof name - 1) == 0) {
        const char *v = p + sizeof name - 1;
        size_t vl = n - (sizeof name - 1);
        while (vl > 0 && (*v == ' ' || *v == '\t')) v++, vl--;
        while (vl > 0 && (v[vl - 1] == '\r' || v[vl - 1] == '\n' || v[vl - 1] == ' ')) vl--;
        if (vl > TOKEN_MAX || !header_safe(v, vl)) {
            r->token_too_long = true;
        } else {
            memcpy(r->token, v, vl);
            r->token[vl] = '\0';
        }
    }
    return n;
}

static int on_progress(void *ud, curl_off_t a, curl_off_t b, curl_off_t c, curl_off_t d) {
    (void)a, (void)b, (void)c, (void)d;
    struct reply *r = ud;
    return (r->stop && atomic_load(r->stop)) || (r->down && atomic_load(r->down));
}

static char *keystone_body(const cmauth_t *a, const char *secret) {
    const cmauth_conf_t *c = &a->conf;
    struct fjson_object *root = fjson_object_new_object(), *auth = fjson_object_new_object();
    struct fjson_object *id = fjson_object_new_object(), *methods = fjson_object_new_array();
    fjson_object_object_add(root, "auth", auth);
    fjson_object_object_add(auth, "identity", id);
    fjson_object_object_add(id, "methods", methods);
    if (c->appcred_id) {
        struct fjson_object *ac = fjson_object_new_object();
        fjson_object_array_add(methods, fjson_object_new_string("application_credential"));
        fjson_object_object_add(ac, "id", fjson_object_new_string(c->appcred_id));
        fjson_object_object_add(ac, "secret", fjson_object_new_string(secret));
        fjson_object_object_add(id, "application_credential", ac);
    } else {
        struct fjson_object *pw = fjson_object_new_object(), *user = fjson_object_new_object();
        struct fjson_object *ud = fjson_object_new_object();
        fjson_object_array_add(methods, fjson_object_new_string("password"));
        fjson_object_object_add(ud, "name", fjson_object_new_string(c->user_domain));
        fjson_object_object_add(user, "name", fjson_object_new_string(c->user));
        fjson_object_object_add(user, "domain", ud);
        fjson_object_object_add(user, "password", fjson_object_new_string(secret));
        fjson_object_object_add(pw, "user", user);
        fjson_object_object_add(id, "password", pw);
        if (c->project) {
            struct fjson_object *scope = fjson_object_new_object(), *proj = fjson_object_new_object();
            struct fjson_object *pd = fjson_object_new_object();
            fjson_object_object_add(pd, "name", fjson_object_new_string(c->project_domain));
            fjson_object_object_add(proj, "name", fjson_object_new_string(c->project));
            fjson_object_object_add(proj, "domain", pd);
            fjson_object_object_add(scope, "project", proj);
            fjson_object_object_add(auth, "scope", scope);
        }
    }
    const char *s = fjson_object_to_json_string_ext(root, FJSON_TO_STRING_PLAIN);
    char *out = s ? strdup(s) : NULL;
    fjson_object_put(root);
    return out;
}

static void setup_login(const cmauth_t *a, CURL *e, struct reply *r, struct curl_slist *h) {
    curl_easy_setopt(e, CURLOPT_URL, a->conf.url);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, cm_body_write);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, &r->body);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, r);
    curl_easy_setopt(e, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(e, CURLOPT_XFERINFODATA, r);
    curl_easy_setopt(e, CURLOPT_NOPROGRESS, 0L);
    cm_http_conf_t hc = {a->conf.connect_timeout_ms, a->conf.timeout_ms, a->conf.tls_verify, a->conf.ca_file,
                         a->conf.user_agent};
    cm_http_setopts(e, &hc);
}

/* The outcome of one login: a header value and its renewal time, or a reason. */
struct outcome {
    char *value;       /* malloc'd header value */
    int64_t renew_at;  /* monotonic ms; 0 = only on a 401 */
    char reason[CTX_ERRLEN];
};

static void judge(const cmauth_t *a, CURL *e, CURLcode res, struct reply *r, int64_t now, struct outcome *o) {
    long code = 0;
    char why[REASON_MAX + 1];
    const char *w = NULL;
    curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &code);
    if (res != CURLE_OK || r->body.too_big) {
        snprintf(o->reason, sizeof o->reason, "%s", r->body.too_big ? "reply larger than cm.maxResponseBytes"
                                                                  : curl_easy_strerror(res));
        return;
    }
    if (code < 200 || code > 299) {
        cmauth_reason(r->body.data, r->body.len, why, sizeof why);
        snprintf(o->reason, sizeof o->reason, "HTTP %ld%s%s%s", code, *why ? " (" : "", why, *why ? ")" : "");
        return;
    }
    if (a->conf.type == CM_AUTH_VCENTER) {
        char sid[TOKEN_MAX + 1];
        if (cmauth_vcenter_session(r->body.data, r->body.len, sid, sizeof sid, &w) < 0) {
            snprintf(o->reason, sizeof o->reason, "HTTP %ld but %s", code, w);
            return;
        }
        o->value = strdup(sid);
        return;
    }
    if (r->token[0] == '\0') {
        snprintf(o->reason, sizeof o->reason, "HTTP %ld but %s", code,
                 r->token_too_long ? "X-Subject-Token too long or not printable" : "no X-Subject-Token header");
        return;
    }
    int64_t exp;
    struct timespec rt;
    clock_gettime(CLOCK_REALTIME, &rt);
    int64_t wall = (int64_t)rt.tv_sec * 1000 + rt.tv_nsec / 1000000;
    if (cmauth_keystone_expiry(r->body.data, r->body.len, &exp, &w) < 0 || exp <= wall) {
        /* no usable expiry (or one in the past by our clock): renew after an hour, and on a 401 */
        o->renew_at = now + NO_EXPIRY_MS;
    } else {
        int64_t life = exp - wall, early = life / 5 < RENEW_MAX_MS ? life / 5 : RENEW_MAX_MS;
        o->renew_at = now + life - early;
    }
    o->value = strdup(r->token);
}

static void login(cmauth_t *a, const atomic_bool *stop, struct outcome *o) {
    char secret[SECRET_MAX];
    bool ac = a->conf.type == CM_AUTH_KEYSTONE && a->conf.appcred_id != NULL;
    if (read_secret(ac ? "cm.appCredSecretFile" : "cm.passwordFile",
                    ac ? a->conf.appcred_secret_file : a->conf.password_file, secret, sizeof secret, o->reason,
                    sizeof o->reason) < 0)
        return;
    struct reply *r = calloc(1, sizeof *r);
    CURL *e = curl_easy_init();
    struct curl_slist *h = curl_slist_append(NULL, "Accept: application/json");
    char *body = NULL;
    if (r == NULL || e == NULL || h == NULL || (h = curl_slist_append(h, "Content-Type: application/json")) == NULL ||
        (a->conf.type == CM_AUTH_KEYSTONE && (body = keystone_body(a, secret)) == NULL)) {
        snprintf(o->reason, sizeof o->reason, "out of memory");
    } else {
        r->body.max = a->conf.max_body;
        r->stop = stop;
        r->down = &a->down;
        setup_login(a, e, r, h);
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, body ? body : "");
        if (a->conf.type == CM_AUTH_VCENTER) {
            curl_easy_setopt(e, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
            curl_easy_setopt(e, CURLOPT_USERNAME, a->conf.user);
            curl_easy_setopt(e, CURLOPT_PASSWORD, secret);
        }
        INC(a, requests);
        CURLcode res = curl_easy_perform(e);
        judge(a, e, res, r, (int64_t)ctx_clock_ms(), o);
    }
    memset(secret, 0, sizeof secret);
    if (body) memset(body, 0, strlen(body));
    free(body);
    curl_slist_free_all(h);
    if (e) curl_easy_cleanup(e);
    if (r) free(r->body.data);
    free(r);
}

/* ---- tokens ------------------------------------------------------------------------------- */

static void log_outcome(cmauth_t *a, int ok, const char *reason, unsigned nfail) {
    if (a->log == NULL) return;
    char line[CTX_ERRLEN + 256];
    if (ok)
        snprintf(line, sizeof line, "cm authentication at %s succeeded after %u failed attempts", a->conf.url, nfail);
    else
        snprintf(line, sizeof line, "cm authentication at %s failed: %s (retried with backoff; logged again only "
                 "if the reason changes; counted in cm.auth.failures)", a->conf.url, reason);
    a->log(a->log_arg, line);
}

static const char *header_name(const cmauth_t *a) {
    return a->conf.type == CM_AUTH_KEYSTONE ? "X-Auth-Token" : "vmware-api-session-id";
}

/* Publishes a login's outcome (under mu); the log line, if any, is written after unlocking. */
static void publish(cmauth_t *a, struct outcome *o, int64_t now, char *logbuf, size_t loglen, unsigned *nfail) {
    logbuf[0] = '\0';
    a->busy = false;
    if (o->value != NULL) {
        if (a->fails > 0) {
            *nfail = a->fails;
            snprintf(logbuf, loglen, "ok");
        }
        if (a->token) memset(a->token, 0, strlen(a->token));
        free(a->token);
        a->token = o->value;
        a->gen++;
        a->got_at = now;
        a->renew_at = o->renew_at;
        a->fails = 0;
        a->retry_at = 0;
        a->last_reason[0] = '\0';
        ctx_backoff_reset(a->backoff);
        return;
    }
    INC(a, failures);
    a->fails++;
    a->retry_at = now + (int64_t)ctx_backoff_next_ms(a->backoff);
    if (strcmp(a->last_reason, o->reason) != 0) {
        snprintf(a->last_reason, sizeof a->last_reason, "%s", o->reason);
        snprintf(logbuf, loglen, "%s", o->reason);
    }
}

int cmauth_header(cmauth_t *a, int64_t now, char *hdr, size_t hdrlen, uint64_t *gen, const atomic_bool *stop) {
    if (atomic_load(&a->down)) return CM_AUTH_DOWN;
    pthread_mutex_lock(&a->mu);
    bool due = a->token == NULL || (a->renew_at != 0 && now >= a->renew_at);
    /* a token due for renewal is still valid: use it while another thread renews it, or
     * while renewals back off after a failure */
    if (!due || (a->token != NULL && (a->busy || now < a->retry_at))) {
        snprintf(hdr, hdrlen, "%s: %s", header_name(a), a->token);
        *gen = a->gen;
        pthread_mutex_unlock(&a->mu);
        return CM_AUTH_OK;
    }
    if (a->busy || now < a->retry_at) {
        int rc = a->busy ? CM_AUTH_BUSY : CM_AUTH_DOWN;
        pthread_mutex_unlock(&a->mu);
        return rc;
    }
    bool renewal = a->token != NULL;
    a->busy = true;
    pthread_mutex_unlock(&a->mu);
    if (renewal) INC(a, renewals);
    struct outcome o = {0};
    login(a, stop, &o);
    now = (int64_t)ctx_clock_ms(); /* the token's life counts from its reply (a login can take seconds) */
    if (o.value == NULL && ((stop != NULL && atomic_load(stop)) || atomic_load(&a->down))) {
        pthread_mutex_lock(&a->mu); /* aborted by a shutdown: neither a failure nor worth a line */
        a->busy = false;
        pthread_mutex_unlock(&a->mu);
        return CM_AUTH_DOWN;
    }
    char logbuf[CTX_ERRLEN];
    unsigned nfail = 0;
    pthread_mutex_lock(&a->mu);
    publish(a, &o, now, logbuf, sizeof logbuf, &nfail);
    int rc = a->token != NULL && o.value != NULL ? CM_AUTH_OK : CM_AUTH_DOWN;
    if (rc == CM_AUTH_OK) {
        snprintf(hdr, hdrlen, "%s: %s", header_name(a), a->token);
        *gen = a->gen;
    }
    pthread_mutex_unlock(&a->mu);
    if (logbuf[0]) log_outcome(a, rc == CM_AUTH_OK, logbuf, nfail);
    return rc;
}

int cmauth_rejected(cmauth_t *a, uint64_t gen, int64_t now) {
    int retry = 1;
    pthread_mutex_lock(&a->mu);
    if (gen == a->gen && a->token != NULL) {
        if (now - a->got_at < FRESH_MS) {
            retry = 0;
        } else {
            memset(a->token, 0, strlen(a->token));
            free(a->token);
            a->token = NULL;
            INC(a, rejected);
        }
    }
    pthread_mutex_unlock(&a->mu);
    return retry;
}

void cmauth_get_stats(cmauth_t *a, cmauth_stats_t *out) { ctx_counters_read(out, &a->st, sizeof *out); }

/* vCenter limits the sessions a user may hold: end ours rather than leave it to idle out */
void cmauth_logout(cmauth_t *a) {
    if (a == NULL || a->conf.type != CM_AUTH_VCENTER) return;
    pthread_mutex_lock(&a->mu);
    char *sid = a->token;
    a->token = NULL;
    pthread_mutex_unlock(&a->mu);
    if (sid == NULL) return;
    char hdr[TOKEN_MAX + 64];
    snprintf(hdr, sizeof hdr, "%s: %s", header_name(a), sid);
    memset(sid, 0, strlen(sid));
    free(sid);
    struct reply *r = calloc(1, sizeof *r);
    CURL *e = curl_easy_init();
    struct curl_slist *h = curl_slist_append(NULL, hdr);
    memset(hdr, 0, sizeof hdr);
    if (r != NULL && e != NULL && h != NULL) {
        r->body.max = 65536;
        setup_login(a, e, r, h);
        curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, "DELETE");
        curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, a->conf.timeout_ms < 2000 ? a->conf.timeout_ms : 2000L);
        curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, a->conf.connect_timeout_ms < 2000 ? a->conf.connect_timeout_ms : 2000L);
        curl_easy_perform(e); /* best effort: the session idles out otherwise */
    }
    curl_slist_free_all(h);
    if (e) curl_easy_cleanup(e);
    if (r) free(r->body.data);
    free(r);
}
