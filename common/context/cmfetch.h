/* cmfetch.h: the background compute-manager fetcher of mmctxenrich.
 *
 * One thread running a libcurl multi handle takes requests from a cmcache_t queue
 * (cmcache_pop_request), bounded by max_inflight and a token bucket (rate_per_sec,
 * burst), builds the URL from a template, fetches it with a size limit and timeouts,
 * parses the body as JSON (libfastjson) and:
 *   - on a 2xx reply with valid JSON: calls the module's on_reply callback (which maps
 *     the reply and calls cmcache_store()), then cmcache_done();
 *   - otherwise (HTTP error status, timeout, transport or TLS error, body too big,
 *     not JSON, callback returned < 0): cmcache_fail() with the HTTP status (0 if none)
 *     and Retry-After, and one log line through the log callback (rate limited).
 * A 429 or 503 also holds ALL new requests for Retry-After (1 s if absent, max 60 s).
 * Every 10 s the thread also calls cmcache_sweep() (idle entries expire without lookups).
 * The token file is re-read when its mtime changes (checked every 10 s; a bad new
 * token is logged and the previous one kept). With conf.auth (cmauth.h) each launch
 * round gets the login header first (logging in if needed; requests wait while another
 * fetcher logs in, and fail as unauthenticated while logins back off); a 401 drops the
 * token and the request is sent once more after a new login. Templates may hold {host}
 * and {section.field} placeholders, the latter filled by the resolver (a request whose
 * value is not known yet fails as unresolved, without a transfer).
 *
 * Every completed request counts in exactly one of ok / errors / timeouts.
 *
 * Thread-safety: cmfetch_new / _start / _free from one thread (the module's config
 * and activation path); cmfetch_get_stats from any thread. The callbacks run on the
 * fetcher thread, one at a time.
 */
#ifndef CTXLOG_CMFETCH_H
#define CTXLOG_CMFETCH_H

#include <stddef.h>
#include <stdint.h>

#include "cmauth.h"
#include "cmcache.h"

struct fjson_object;
typedef struct cmfetch cmfetch_t;

/* All strings are borrowed by cmfetch_new() and copied. Keys in error messages are the
 * names in the comments (the module uses them as its parameter names). */
typedef struct cmfetch_conf {
    const char *url;          /* cm.url: per-VM template for STATIC requests ({uuid} {name} {host} {S.F}); NULL = none */
    const char *stats_url;    /* cm.statsUrl: per-VM template for DYNAMIC requests; NULL = none */
    const char *bulk_url;     /* cm.bulkUrl: all VMs of this host (no placeholders); NULL = none */
    const char *token_file;   /* cm.tokenFile: bearer token, first line, re-read when it changes */
    const char *user;         /* cm.user: basic auth (with cm.password); exclusive with cm.tokenFile */
    const char *password;     /* cm.password */
    const char *ca_file;      /* cm.caFile: PEM CA bundle; NULL = system default */
    int tls_verify;           /* cm.tlsVerify: 1 (default) verifies peer and host name */
    int allow_insecure;       /* cm.allowInsecure: 1 accepts http:// URLs (credentials in clear) */
    long connect_timeout_ms;  /* cm.connectTimeout: default 5000, 1..600000 */
    long timeout_ms;          /* cm.timeout: whole transfer, default 10000, 1..600000 */
    size_t max_body;          /* cm.maxResponseBytes: default 1048576, 64..1073741824 */
    int max_inflight;         /* cm.maxInFlight: default 4, 1..1000 */
    double rate_per_sec;      /* cm.ratePerSec: requests started per second, default 10, > 0 */
    int burst;                /* cm.burst: token bucket size, default 10, >= 1 */
    const char *user_agent;   /* default "ctxlog-mmctxenrich" */
    int64_t log_interval_ms;  /* at most one log line per interval (others counted), default 10000 */
    const char *host;         /* what {host} stands for (cm.hostName); NULL = "" */
    const char *const *headers; /* extra request headers ("Name: value"), from the mapping file */
    size_t nheaders;
    cmauth_t *auth;           /* borrowed, may be shared by fetchers: Keystone / vCenter login (cm.auth) */
    int64_t (*clock_ms)(void);  /* the fetcher's clock (rate, log interval, timestamps it hands the
                                   cache); NULL = cmcache_clock_ms(). Tests drive time with it. */
} cmfetch_conf_t;

/* Fills every field with its default. */
void cmfetch_conf_defaults(cmfetch_conf_t *conf);

/* Pure validation of the values (no file access): 0 or CTX_EINVAL with one line in err,
 * e.g. "cm.url: unknown placeholder '{id}' at offset 27 (expected {uuid}, {name}, {host} or {section.field})". */
int cmfetch_conf_check(const cmfetch_conf_t *conf, char *err, size_t errlen);

/* Fills a placeholder {section.field} of a URL template for req (name: "section.field",
 * not NUL-terminated, namelen bytes) into out (raw; cmfetch escapes it). Returns the
 * length, or CTX_ENOENT when the value is not known yet (the request then fails without
 * a transfer, counted in unresolved, and is retried after the cache's backoff), or
 * CTX_EFULL. Runs on the fetcher thread. */
typedef int (*cmfetch_resolve_fn)(void *arg, const cm_request_t *req, const char *name, size_t namelen, char *out,
                                  size_t outlen, int64_t now_ms);

/* Called on the fetcher thread for each 2xx reply that parsed as JSON. reply is
 * borrowed (take fjson_object_get() to keep it). The callback stores the mapped
 * context (cmcache_store) for req's VM, or for each VM of a BULK reply. now_ms is
 * cmcache_clock_ms(). Return 0, or < 0 to record the request as failed. */
typedef int (*cmfetch_reply_fn)(void *arg, const cm_request_t *req, struct fjson_object *reply, int64_t now_ms);
/* One line (no newline) describing a failure, e.g.
 * "cm request http://cm/vm/x failed: HTTP 500 (3 similar suppressed)". */
typedef void (*cmfetch_log_fn)(void *arg, const char *line);

/* Validates conf, checks that cm.caFile is readable, reads the token file once (so a
 * bad one fails at config load: "cm.caFile: cannot read '/x': No such file or directory") and
 * prepares the fetcher; no thread yet. cache is borrowed and must outlive the fetcher.
 * on_reply is required; log may be NULL. Returns 0 and *out, or CTX_EINVAL / CTX_EIO
 * (err: "cm.tokenFile: cannot read '/x': No such file or directory") / CTX_ENOMEM. */
int cmfetch_new(cmfetch_t **out, const cmfetch_conf_t *conf, cmcache_t *cache, cmfetch_reply_fn on_reply,
                cmfetch_log_fn log, void *arg, char *err, size_t errlen);
/* The resolver of {section.field} placeholders (required when a template has one;
 * without it such a request fails as unresolved). Before cmfetch_start(). */
void cmfetch_set_resolver(cmfetch_t *f, cmfetch_resolve_fn resolve);

/* Starts the fetcher thread. 0, CTX_EINVAL if already started, CTX_ENOMEM / CTX_EIO. */
int cmfetch_start(cmfetch_t *f);

/* Stops the thread (aborting transfers in flight, whatever the server does; their
 * requests are abandoned in the cache), joins it and frees everything. NULL is a no-op.
 * Returns within about one poll interval (100 ms) plus the time a callback runs. */
void cmfetch_free(cmfetch_t *f);

typedef struct cmfetch_stats {
    uint64_t requests;         /* transfers started */
    uint64_t ok;               /* 2xx, parsed, accepted by the callback */
    uint64_t errors;           /* failed other than by timeout (sum of the seven below) */
    uint64_t timeouts;         /* connect or total timeout */
    uint64_t bytes;            /* response body bytes received */
    uint64_t http_errors;      /* non-2xx status (incl. 404, 429) */
    uint64_t transport_errors; /* connection, DNS, TLS, no URL configured for the kind */
    uint64_t too_big;          /* body past max_body */
    uint64_t parse_errors;     /* body not JSON (garbage, HTML, truncated) */
    uint64_t reply_rejected;   /* callback returned < 0 */
    uint64_t unauthenticated;  /* not sent: no token or session (login failed, in backoff) */
    uint64_t unresolved;       /* not sent: a {section.field} placeholder had no value yet */
    uint64_t throttled;        /* 429 / 503 replies (also in http_errors) */
    uint64_t retried_401;      /* 401 replies answered by a new login and one more try (also in http_errors) */
    uint64_t inflight;         /* gauge: transfers now */
} cmfetch_stats_t;

/* Reads the counters (each atomically). f may not be NULL. */
void cmfetch_get_stats(cmfetch_t *f, cmfetch_stats_t *out);

/* Expands a URL template ({uuid}, {name}: URL-escaped) into out. Returns the length,
 * CTX_EINVAL (bad template, or a placeholder other than these two) or CTX_EFULL (out
 * too small). For the module's messages and tests; thread-safe. */
int cmfetch_expand(const char *tmpl, const char *uuid, const char *name, char *out, size_t outlen);

/* The placeholders of a template, one at a time: finds the next "{...}" from *pos,
 * sets *name / *namelen to what is between the braces and *pos past it. Returns 1,
 * 0 at the end, CTX_EINVAL for a '{' without a valid name and '}' (valid: {word} or
 * {word.word}, words of [A-Za-z0-9_], at most 64 bytes). For config checks. */
int cmfetch_next_placeholder(const char *tmpl, size_t *pos, const char **name, size_t *namelen);

#endif
