/* cmfetch.c: background compute-manager fetcher: libcurl multi in one thread.
 *
 * Concurrency: conf strings are copied in cmfetch_new() and read-only afterwards.
 * Everything else in struct cmfetch marked "fetcher" (transfers in flight, token
 * bucket, hold, auth header, log rate limit) is touched only by the fetcher thread
 * (or by cmfetch_free() after joining it). `stop` and the counters are atomics. The
 * cache is reached only through its API (its mutex is never held across I/O: this
 * file pops a request, then does the transfer without any lock).
 */
#include "cmfetch.h"

#include <ctype.h>
#include <curl/curl.h>
#include <errno.h>
#include <json.h>
#include <malloc.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmfetch_int.h"
#include "counters.h"
#include "cmhttp.h"
#include "ctxlog_common.h"
#include "gcra.h"
#include "secretfile.h"

#define URL_MAX 8192
#define TOKEN_MAX 16384
#define TOKEN_RECHECK_MS 10000
#define POLL_MAX_MS 200
#define US(ms) ((uint64_t)(ms) * 1000u) /* the monotonic ms clock in the rate bucket's unit */
#define HOLD_MAX_MS 60000
#define SWEEP_MS 10000

/* One transfer in flight (fetcher thread only). */
struct xfer {
    struct xfer *next;
    CURL *easy;
    struct curl_slist *headers;
    cm_request_t req;
    char url[URL_MAX];
    cm_body_t body;  /* received body (max: conf max_body) */
    bool retried;    /* a second try after a 401 */
    uint64_t gen;    /* the auth token it was sent with */
};

/* A request to send again after a 401 and a new login (fetcher thread only). */
struct retry {
    struct retry *next;
    cm_request_t req;
};

struct cmfetch {
    cmfetch_conf_t conf;          /* read-only; strings point into owned copies below */
    char *own[9];                 /* owned copies of the conf strings */
    char **hdrs;                  /* owned copies of conf.headers */
    cmfetch_resolve_fn resolve;
    cmcache_t *cache;             /* borrowed */
    cmfetch_reply_fn on_reply;
    cmfetch_log_fn log;
    void *arg;
    CURLM *multi;
    pthread_t thread;
    bool started;
    atomic_bool stop;
    struct xfer *inflight;        /* fetcher */
    int ninflight;                /* fetcher */
    uint64_t rate_tat;            /* fetcher: cm.ratePerSec's bucket (gcra.h, microseconds) */
    uint64_t rate_cost_us;        /* fetcher: one request, 1e6 / cm.ratePerSec */
    uint64_t rate_burst_us;       /* fetcher: cm.burst requests */
    int64_t hold_until;           /* fetcher: no new request before (429 / 503) */
    char *auth;                   /* fetcher: "Authorization: Bearer ..." or NULL */
    char *session;                /* fetcher: the cmauth header of this launch round, or NULL */
    uint64_t session_gen;         /* fetcher */
    struct retry *retries;        /* fetcher: after a 401 */
    struct timespec token_mtime;  /* fetcher */
    int64_t token_checked;        /* fetcher */
    int64_t log_last;             /* fetcher */
    int64_t swept_at;             /* fetcher: last cmcache_sweep() */
    unsigned log_suppressed;      /* fetcher */
    cmfetch_stats_t st;           /* counters.h */
};

#define INC(f, c) CTX_CTR_INC((f)->st, c)

void cmfetch_conf_defaults(cmfetch_conf_t *conf) {
    memset(conf, 0, sizeof *conf);
    CM_HTTP_DEFAULTS(conf);
    conf->max_inflight = 4;
    conf->rate_per_sec = 10;
    conf->burst = 10;
    conf->log_interval_ms = 10000;
}

/* ---- URL templates ------------------------------------------------------------------- */


/* ---- configuration ------------------------------------------------------------------ */

static int check_range(const char *key, long long v, long long lo, long long hi, char *err, size_t errlen) {
    if (v >= lo && v <= hi) return CTX_OK;
    snprintf(err, errlen, "%s: must be between %lld and %lld (got %lld)", key, lo, hi, v);
    return CTX_EINVAL;
}

int cmfetch_conf_check(const cmfetch_conf_t *c, char *err, size_t errlen) {
    int rc;
    bool http = c->allow_insecure != 0;
    if ((rc = cmfetch_check_url("cm.url", c->url, true, http, err, errlen)) < 0) return rc;
    if ((rc = cmfetch_check_url("cm.statsUrl", c->stats_url, true, http, err, errlen)) < 0) return rc;
    if ((rc = cmfetch_check_url("cm.bulkUrl", c->bulk_url, false, http, err, errlen)) < 0) return rc;
    if (c->url == NULL && c->stats_url == NULL && c->bulk_url == NULL) {
        snprintf(err, errlen, "cm.url: no compute-manager URL set (need cm.url, cm.statsUrl or cm.bulkUrl)");
        return CTX_EINVAL;
    }
    if (c->auth != NULL && (c->token_file != NULL || c->password != NULL)) {
        snprintf(err, errlen, "%s: cannot be combined with cm.auth (which logs in for a token or session)",
                 c->token_file ? "cm.tokenFile" : "cm.password");
        return CTX_EINVAL;
    }
    if (c->token_file != NULL && c->user != NULL) {
        snprintf(err, errlen, "cm.tokenFile: cannot be combined with cm.user (choose bearer or basic auth)");
        return CTX_EINVAL;
    }
    if (c->auth == NULL && (c->user == NULL) != (c->password == NULL)) {
        snprintf(err, errlen, "%s: basic auth needs both cm.user and cm.password", c->user ? "cm.password" : "cm.user");
        return CTX_EINVAL;
    }
    if ((rc = check_range("cm.tlsVerify", c->tls_verify, 0, 1, err, errlen)) < 0) return rc;
    if ((rc = check_range("cm.connectTimeout", c->connect_timeout_ms, 1, 600000, err, errlen)) < 0) return rc;
    if ((rc = check_range("cm.timeout", c->timeout_ms, 1, 600000, err, errlen)) < 0) return rc;
    if ((rc = check_range("cm.maxResponseBytes", (long long)c->max_body, 64, 1 << 30, err, errlen)) < 0) return rc;
    if ((rc = check_range("cm.maxInFlight", c->max_inflight, 1, 1000, err, errlen)) < 0) return rc;
    if ((rc = check_range("cm.burst", c->burst, 1, 100000, err, errlen)) < 0) return rc;
    if (!(c->rate_per_sec > 0 && c->rate_per_sec <= 100000)) {
        snprintf(err, errlen, "cm.ratePerSec: must be > 0 and <= 100000 (got %g)", c->rate_per_sec);
        return CTX_EINVAL;
    }
    return check_range("cm.logInterval", c->log_interval_ms, 0, 86400000, err, errlen);
}

/* Reads the first line of the token file into a fresh "Authorization: Bearer" header. */
static int read_token(const char *path, char **header, struct timespec *mtime, char *err, size_t errlen) {
    FILE *fp = fopen(path, "re");
    struct stat st;
    if (fp == NULL || fstat(fileno(fp), &st) != 0) {
        snprintf(err, errlen, "cm.tokenFile: cannot read '%s': %s", path, strerror(errno));
        if (fp) fclose(fp);
        return CTX_EIO;
    }
    char why[160];
    if (ctx_secret_check(&st, geteuid(), why, sizeof why) == CTX_SECRET_REFUSE) {
        snprintf(err, errlen, "cm.tokenFile: '%s' cannot hold a secret: %s", path, why);
        fclose(fp);
        return CTX_EINVAL;
    }
    char buf[TOKEN_MAX + 2];
    size_t n = fread(buf, 1, sizeof buf - 1, fp);
    fclose(fp);
    buf[n] = '\0';
    size_t len = strcspn(buf, "\r\n");
    while (len > 0 && (buf[len - 1] == ' ' || buf[len - 1] == '\t')) len--;
    size_t start = strspn(buf, " \t");
    if (start >= len || len > TOKEN_MAX) {
        snprintf(err, errlen, "cm.tokenFile: '%s': %s", path, start >= len ? "first line is empty" : "token too long");
        return CTX_EPARSE;
    }
    for (size_t i = start; i < len; i++)
        if ((unsigned char)buf[i] < 0x20 || buf[i] == 0x7f) {
            snprintf(err, errlen, "cm.tokenFile: '%s': control character in token at offset %zu", path, i);
            return CTX_EPARSE;
        }
    char *h = NULL;
    if (asprintf(&h, "Authorization: Bearer %.*s", (int)(len - start), buf + start) < 0) return CTX_ENOMEM;
    free(*header);
    *header = h;
    *mtime = st.st_mtim;
    return CTX_OK;
}

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc = CURLE_FAILED_INIT;
static void curl_init(void) { curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT); }

static int copy_conf(cmfetch_t *f, const cmfetch_conf_t *conf) {
    f->conf = *conf;
    const char **s[] = {&f->conf.url, &f->conf.stats_url, &f->conf.bulk_url, &f->conf.token_file, &f->conf.user,
                        &f->conf.password, &f->conf.ca_file, &f->conf.user_agent, &f->conf.host};
    for (size_t i = 0; i < sizeof s / sizeof s[0]; i++) {
        if (*s[i] == NULL) continue;
        f->own[i] = strdup(*s[i]);
        if (f->own[i] == NULL) return CTX_ENOMEM;
        *s[i] = f->own[i];
    }
    if (conf->nheaders > 0) {
        if ((f->hdrs = calloc(conf->nheaders, sizeof *f->hdrs)) == NULL) return CTX_ENOMEM;
        for (size_t i = 0; i < conf->nheaders; i++)
            if ((f->hdrs[i] = strdup(conf->headers[i])) == NULL) return CTX_ENOMEM;
    }
    f->conf.headers = (const char *const *)f->hdrs;
    return CTX_OK;
}

int cmfetch_new(cmfetch_t **out, const cmfetch_conf_t *conf, cmcache_t *cache, cmfetch_reply_fn on_reply,
                cmfetch_log_fn log, void *arg, char *err, size_t errlen) {
    *out = NULL;
    if (cache == NULL || on_reply == NULL) {
        snprintf(err, errlen, "cm: internal error: cmfetch_new() needs a cache and a reply callback");
        return CTX_EINVAL;
    }
    int rc = cmfetch_conf_check(conf, err, errlen);
    if (rc < 0) return rc;
    pthread_once(&curl_once, curl_init);
    if (curl_init_rc != CURLE_OK) {
        snprintf(err, errlen, "cm: curl_global_init failed: %s", curl_easy_strerror(curl_init_rc));
        return CTX_EIO;
    }
    cmfetch_t *f = calloc(1, sizeof *f);
    if (f == NULL || copy_conf(f, conf) < 0 || (f->multi = curl_multi_init()) == NULL) {
        snprintf(err, errlen, "cm: out of memory creating the fetcher");
        cmfetch_free(f);
        return CTX_ENOMEM;
    }
    if (f->conf.ca_file != NULL && access(f->conf.ca_file, R_OK) != 0) {
        snprintf(err, errlen, "cm.caFile: cannot read '%s': %s", f->conf.ca_file, strerror(errno));
        cmfetch_free(f);
        return CTX_EIO;
    }
    if (f->conf.token_file != NULL &&
        (rc = read_token(f->conf.token_file, &f->auth, &f->token_mtime, err, errlen)) < 0) {
        cmfetch_free(f);
        return rc;
    }
    f->cache = cache;
    f->on_reply = on_reply;
    f->log = log;
    f->arg = arg;
    double cost = 1e6 / f->conf.rate_per_sec; /* rate in (0, 100000]: capped at ~4 months a request */
    f->rate_cost_us = cost > 1e13 ? (uint64_t)1e13 : cost < 1 ? 1 : (uint64_t)cost;
    f->rate_burst_us = f->rate_cost_us * (uint64_t)f->conf.burst; /* a full bucket at start */
    if (f->conf.clock_ms == NULL) f->conf.clock_ms = cmcache_clock_ms;
    f->token_checked = f->conf.clock_ms();
    atomic_init(&f->stop, false);
    *out = f;
    return CTX_OK;
}

/* ---- fetcher thread: logging and auth ------------------------------------------------ */

__attribute__((format(printf, 3, 4))) static void logf_(cmfetch_t *f, int64_t now, const char *fmt, ...) {
    if (f->log == NULL) return;
    if (f->log_last != 0 && now - f->log_last < f->conf.log_interval_ms) {
        f->log_suppressed++;
        return;
    }
    char line[CTX_ERRLEN + 64];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (f->log_suppressed > 0 && n >= 0 && (size_t)n < sizeof line)
        snprintf(line + n, sizeof line - (size_t)n, " (%u similar suppressed)", f->log_suppressed);
    f->log_suppressed = 0;
    f->log_last = now;
    f->log(f->arg, line);
}

static void maybe_reload_token(cmfetch_t *f, int64_t now) {
    if (f->conf.token_file == NULL || now - f->token_checked < TOKEN_RECHECK_MS) return;
    f->token_checked = now;
    struct stat st;
    if (stat(f->conf.token_file, &st) == 0 && st.st_mtim.tv_sec == f->token_mtime.tv_sec &&
        st.st_mtim.tv_nsec == f->token_mtime.tv_nsec)
        return;
    char err[CTX_ERRLEN];
    if (read_token(f->conf.token_file, &f->auth, &f->token_mtime, err, sizeof err) < 0)
        logf_(f, now, "%s (keeping the previous token)", err);
}

/* ---- fetcher thread: starting transfers ------------------------------------------------ */

static const char *kind_template(const cmfetch_t *f, cm_req_kind_t k) {
    return k == CM_REQ_STATIC ? f->conf.url : k == CM_REQ_DYNAMIC ? f->conf.stats_url : f->conf.bulk_url;
}

static const char *kind_name(cm_req_kind_t k) {
    return k == CM_REQ_STATIC ? "static (cm.url)" : k == CM_REQ_DYNAMIC ? "stats (cm.statsUrl)" : "bulk (cm.bulkUrl)";
}

static int setup_easy(cmfetch_t *f, struct xfer *x) {
    CURL *e = x->easy;
    x->headers = curl_slist_append(NULL, "Accept: application/json");
    if (x->headers == NULL || (f->auth && curl_slist_append(x->headers, f->auth) == NULL) ||
        (f->session && curl_slist_append(x->headers, f->session) == NULL))
        return CTX_ENOMEM;
    for (size_t i = 0; i < f->conf.nheaders; i++)
        if (curl_slist_append(x->headers, f->conf.headers[i]) == NULL) return CTX_ENOMEM;
    x->gen = f->session_gen;
    curl_easy_setopt(e, CURLOPT_URL, x->url);
    curl_easy_setopt(e, CURLOPT_PRIVATE, x);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, cm_body_write);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, &x->body);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, x->headers);
    cm_http_conf_t hc = {f->conf.connect_timeout_ms, f->conf.timeout_ms, f->conf.tls_verify, f->conf.ca_file,
                         f->conf.user_agent};
    cm_http_setopts(e, &hc);
    if (f->conf.user && f->conf.auth == NULL) {
        curl_easy_setopt(e, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
        curl_easy_setopt(e, CURLOPT_USERNAME, f->conf.user);
        curl_easy_setopt(e, CURLOPT_PASSWORD, f->conf.password);
    }
    curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)f->conf.max_body);
    curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");
    curl_easy_setopt(e, CURLOPT_QUICK_EXIT, 1L);
    return CTX_OK;
}

static void xfer_free(struct xfer *x) {
    if (x == NULL) return;
    if (x->easy) curl_easy_cleanup(x->easy);
    curl_slist_free_all(x->headers);
    free(x->body.data);
    free(x);
}

/* Fails req before any transfer (no URL for the kind, URL too long, no memory). */
static void fail_early(cmfetch_t *f, const cm_request_t *req, int64_t now, const char *why) {
    INC(f, errors);
    INC(f, transport_errors);
    cmcache_fail(f->cache, req, 0, 0, now);
    logf_(f, now, "cm %s request for '%s' failed: %s", kind_name(req->kind), *req->uuid ? req->uuid : req->name, why);
}

struct req_values {
    cmfetch_t *f;
    const cm_request_t *req;
    int64_t now;
};

static int req_value(void *arg, const char *name, size_t n, char *buf, size_t buflen, const char **val) {
    struct req_values *v = arg;
    if (cmfetch_is(name, n, "uuid")) { *val = v->req->uuid; return CTX_OK; }
    if (cmfetch_is(name, n, "name")) { *val = v->req->name; return CTX_OK; }
    if (cmfetch_is(name, n, "host")) { *val = v->f->conf.host ? v->f->conf.host : ""; return CTX_OK; }
    if (v->f->resolve == NULL) return CTX_ENOENT;
    int rc = v->f->resolve(v->f->arg, v->req, name, n, buf, buflen, v->now);
    if (rc < 0) return rc;
    *val = buf;
    return CTX_OK;
}

void cmfetch_set_resolver(cmfetch_t *f, cmfetch_resolve_fn resolve) { f->resolve = resolve; }

static void start_xfer(cmfetch_t *f, const cm_request_t *req, int64_t now, bool retried) {
    const char *tmpl = kind_template(f, req->kind);
    if (tmpl == NULL) { fail_early(f, req, now, "no URL configured for this kind of request"); return; }
    struct xfer *x = calloc(1, sizeof *x);
    if (x == NULL) { fail_early(f, req, now, "out of memory"); return; }
    x->req = *req;
    x->body.max = f->conf.max_body;
    x->retried = retried;
    struct req_values v = {f, req, now};
    int rc = cmfetch_expand_with(tmpl, req_value, &v, x->url, sizeof x->url);
    if (rc == CTX_ENOENT) {
        xfer_free(x);
        INC(f, errors);
        INC(f, unresolved);
        cmcache_fail(f->cache, req, 0, 0, now);
        logf_(f, now, "cm %s request for '%s' not sent: a placeholder of '%s' has no value yet (its section was not "
              "fetched, or did not map it)", kind_name(req->kind), *req->uuid ? req->uuid : req->name, tmpl);
        return;
    }
    if (rc < 0) {
        xfer_free(x);
        fail_early(f, req, now, "URL longer than 8191 bytes");
        return;
    }
    if ((x->easy = curl_easy_init()) == NULL || setup_easy(f, x) < 0 ||
        curl_multi_add_handle(f->multi, x->easy) != CURLM_OK) {
        xfer_free(x);
        fail_early(f, req, now, "cannot set up the transfer (out of memory)");
        return;
    }
    x->next = f->inflight;
    f->inflight = x;
    f->ninflight++;
    ctx_gcra_take(&f->rate_tat, f->rate_cost_us, US(now), f->rate_burst_us);
    INC(f, requests);
    CTX_CTR_SET(f->st, inflight, f->ninflight);
}

/* Fails req without a transfer: no token or session (the login failure is logged by cmauth). */
static void unauthenticated(cmfetch_t *f, const cm_request_t *req, int64_t now) {
    INC(f, errors);
    INC(f, unauthenticated);
    cmcache_fail(f->cache, req, 0, 0, now);
}

/* The login header for this round: 1 (in f->session, or no login configured), 0 (busy:
 * another fetcher logs in; try again soon), -1 (down: requests cannot be sent). */
static int session_header(cmfetch_t *f, int64_t now) {
    if (f->conf.auth == NULL) return 1;
    if (f->session == NULL && (f->session = malloc(TOKEN_MAX + 64)) == NULL) return -1;
    int rc = cmauth_header(f->conf.auth, now, f->session, TOKEN_MAX + 64, &f->session_gen, &f->stop);
    return rc == CM_AUTH_OK ? 1 : rc == CM_AUTH_BUSY ? 0 : -1;
}

static bool may_start(const cmfetch_t *f, int64_t now) {
    return f->ninflight < f->conf.max_inflight && now >= f->hold_until &&
           ctx_gcra_wait(f->rate_tat, f->rate_cost_us, US(now), f->rate_burst_us) == 0;
}

static void launch(cmfetch_t *f, int64_t now) {
    cm_request_t req;
    if (!may_start(f, now) || (f->retries == NULL && cmcache_queue_len(f->cache) == 0)) return;
    int auth = session_header(f, now);
    if (auth == 0) return;
    while (f->retries != NULL && may_start(f, now)) {
        struct retry *r = f->retries;
        f->retries = r->next;
        if (auth > 0) start_xfer(f, &r->req, now, true);
        else unauthenticated(f, &r->req, now);
        free(r);
    }
    while (may_start(f, now) && cmcache_pop_request(f->cache, &req)) {
        if (auth > 0) start_xfer(f, &req, now, false);
        else unauthenticated(f, &req, now);
    }
}

/* ---- fetcher thread: completed transfers ----------------------------------------------- */

/* Parses a whole body as one JSON object or array; NULL if not (truncated, trailing
 * garbage, HTML, a bare scalar). */
static struct fjson_object *parse_body(const char *buf, size_t len, const char **why) {
    struct fjson_tokener *tok = fjson_tokener_new();
    if (tok == NULL) { *why = "out of memory"; return NULL; }
    struct fjson_object *o = len > 0 && len <= INT32_MAX ? fjson_tokener_parse_ex(tok, buf, (int)len) : NULL;
    enum fjson_tokener_error je = fjson_tokener_get_error(tok);
    size_t used = (size_t)tok->char_offset;
    fjson_tokener_free(tok);
    *why = len == 0 ? "empty body" : je == fjson_tokener_continue ? "truncated JSON" : "not JSON";
    if (o == NULL || je != fjson_tokener_success) { fjson_object_put(o); return NULL; }
    while (used < len && isspace((unsigned char)buf[used])) used++;
    enum fjson_type t = fjson_object_get_type(o);
    if (used < len || (t != fjson_type_object && t != fjson_type_array)) {
        *why = used < len ? "trailing data after the JSON value" : "JSON is not an object or array";
        fjson_object_put(o);
        return NULL;
    }
    return o;
}

static void http_failed(cmfetch_t *f, struct xfer *x, long code, int64_t now) {
    curl_off_t ra = -1;
    if (curl_easy_getinfo(x->easy, CURLINFO_RETRY_AFTER, &ra) != CURLE_OK || ra < 0) ra = 0;
    int64_t ra_ms = ra > 86400 ? 86400000 : (int64_t)ra * 1000;
    INC(f, errors);
    INC(f, http_errors);
    if (code == 429 || code == 503) {
        INC(f, throttled);
        int64_t hold = ra_ms > 0 ? ra_ms : 1000;
        f->hold_until = now + (hold < HOLD_MAX_MS ? hold : HOLD_MAX_MS);
    }
    cmcache_fail(f->cache, &x->req, (int)code, ra_ms, now);
    logf_(f, now, "cm request %s failed: HTTP %ld", x->url, code);
}

static void transfer_failed(cmfetch_t *f, struct xfer *x, CURLcode res, int64_t now) {
    if (x->body.too_big || res == CURLE_FILESIZE_EXCEEDED) {
        INC(f, errors);
        INC(f, too_big);
        logf_(f, now, "cm request %s failed: response larger than cm.maxResponseBytes=%zu", x->url, x->body.max);
    } else if (res == CURLE_OPERATION_TIMEDOUT) {
        INC(f, timeouts);
        logf_(f, now, "cm request %s failed: timeout (%s)", x->url, curl_easy_strerror(res));
    } else {
        INC(f, errors);
        INC(f, transport_errors);
        logf_(f, now, "cm request %s failed: %s", x->url, curl_easy_strerror(res));
    }
    cmcache_fail(f->cache, &x->req, 0, 0, now);
}

/* A bulk listing names every VM: its parse tree (~2.5 KiB a VM) is freed once the cache
 * took the values, and glibc keeps such freed pages resident below the top of the
 * fetcher's arena (1,000 VMs: ~4 MiB). Hand them back, as the profiles loader does
 * (profsrc.c): once per listing, every cache.staticTTL / 2, never per message. */
static void trim_after_bulk(const struct xfer *x) {
#ifdef __GLIBC__
    if (x->req.kind == CM_REQ_BULK) malloc_trim(0);
#else
    (void)x;
#endif
}

static void finish(cmfetch_t *f, struct xfer *x, CURLcode res) {
    int64_t now = f->conf.clock_ms();
    long code = 0;
    CTX_CTR_ADD(f->st, bytes, x->body.len);
    if (res != CURLE_OK || x->body.too_big) {
        transfer_failed(f, x, res, now);
        return;
    }
    curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &code);
    if (code == 401 && f->conf.auth != NULL && !x->retried && cmauth_rejected(f->conf.auth, x->gen, now)) {
        struct retry *r = malloc(sizeof *r);
        if (r != NULL) {
            INC(f, errors);
            INC(f, http_errors);
            INC(f, retried_401);
            r->req = x->req;
            r->next = f->retries;
            f->retries = r;
            return;
        }
    }
    if (code < 200 || code > 299) {
        http_failed(f, x, code, now);
        return;
    }
    const char *why;
    struct fjson_object *reply = parse_body(x->body.data, x->body.len, &why);
    if (reply == NULL) {
        INC(f, errors);
        INC(f, parse_errors);
        cmcache_fail(f->cache, &x->req, 0, 0, now);
        logf_(f, now, "cm request %s failed: %s (%zu bytes)", x->url, why, x->body.len);
        return;
    }
    int rc = f->on_reply(f->arg, &x->req, reply, now);
    fjson_object_put(reply);
    trim_after_bulk(x);
    if (rc < 0) {
        INC(f, errors);
        INC(f, reply_rejected);
        cmcache_fail(f->cache, &x->req, 0, 0, now);
        logf_(f, now, "cm request %s failed: reply rejected by the field mapping", x->url);
        return;
    }
    INC(f, ok);
    cmcache_done(f->cache, &x->req, now);
}

static void unlink_xfer(cmfetch_t *f, struct xfer *x) {
    for (struct xfer **pp = &f->inflight; *pp; pp = &(*pp)->next)
        if (*pp == x) { *pp = x->next; break; }
    f->ninflight--;
    CTX_CTR_SET(f->st, inflight, f->ninflight);
    curl_multi_remove_handle(f->multi, x->easy);
}

static int reap(cmfetch_t *f) {
    int n = 0, left;
    CURLMsg *m;
    while ((m = curl_multi_info_read(f->multi, &left)) != NULL) {
        if (m->msg != CURLMSG_DONE) continue;
        struct xfer *x = NULL;
        CURLcode res = m->data.result;
        curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&x);
        unlink_xfer(f, x); /* m is invalid from here */
        finish(f, x, res);
        xfer_free(x);
        n++;
    }
    return n;
}

/* ---- the thread --------------------------------------------------------------------------- */

static int poll_timeout(const cmfetch_t *f, int64_t now) {
    int64_t t = POLL_MAX_MS;
    if (f->retries != NULL || (f->conf.auth != NULL && cmcache_queue_len(f->cache) > 0)) t = 20;
    if (f->hold_until > now && f->hold_until - now < t) t = f->hold_until - now;
    uint64_t wait_us = ctx_gcra_wait(f->rate_tat, f->rate_cost_us, US(now), f->rate_burst_us);
    if (wait_us > 0 && (int64_t)(wait_us / 1000 + 1) < t) t = (int64_t)(wait_us / 1000 + 1);
    return t < 1 ? 1 : (int)t;
}

static void *run(void *arg) {
    cmfetch_t *f = arg;
    int efd = cmcache_notify_fd(f->cache);
    while (!atomic_load(&f->stop)) {
        uint64_t v;
        ssize_t r = read(efd, &v, sizeof v); /* reset the wake-up; EAGAIN when not set */
        (void)r;
        int64_t now = f->conf.clock_ms();
        maybe_reload_token(f, now);
        if (now - f->swept_at >= SWEEP_MS) {
            cmcache_sweep(f->cache, now);
            f->swept_at = now;
        }
        launch(f, now);
        int running = 0;
        curl_multi_perform(f->multi, &running);
        if (reap(f) > 0) continue;
        struct curl_waitfd wfd = {.fd = efd, .events = CURL_WAIT_POLLIN, .revents = 0};
        curl_multi_poll(f->multi, &wfd, 1, poll_timeout(f, now), NULL);
    }
    while (f->inflight != NULL) {
        struct xfer *x = f->inflight;
        unlink_xfer(f, x);
        cmcache_abandon(f->cache, &x->req);
        xfer_free(x);
    }
    while (f->retries != NULL) {
        struct retry *r = f->retries;
        f->retries = r->next;
        cmcache_abandon(f->cache, &r->req);
        free(r);
    }
    return NULL;
}

int cmfetch_start(cmfetch_t *f) {
    if (f == NULL || f->started) return CTX_EINVAL;
    int rc = pthread_create(&f->thread, NULL, run, f);
    if (rc != 0) return rc == ENOMEM || rc == EAGAIN ? CTX_ENOMEM : CTX_EIO;
    f->started = true;
    return CTX_OK;
}

void cmfetch_free(cmfetch_t *f) {
    if (f == NULL) return;
    if (f->started) {
        atomic_store(&f->stop, true);
        curl_multi_wakeup(f->multi);
        pthread_join(f->thread, NULL);
    }
    if (f->multi) curl_multi_cleanup(f->multi);
    for (size_t i = 0; i < sizeof f->own / sizeof f->own[0]; i++) free(f->own[i]);
    for (size_t i = 0; f->hdrs != NULL && i < f->conf.nheaders; i++) free(f->hdrs[i]);
    free(f->hdrs);
    while (f->retries != NULL) {
        struct retry *r = f->retries;
        f->retries = r->next;
        free(r);
    }
    if (f->session) memset(f->session, 0, strlen(f->session));
    free(f->session);
    free(f->auth);
    free(f);
}

void cmfetch_get_stats(cmfetch_t *f, cmfetch_stats_t *out) { ctx_counters_read(out, &f->st, sizeof *out); }
