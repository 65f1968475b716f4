/* https_post.h: POST of one batch body to an HTTPS (or, opted in, HTTP) endpoint
 * with libcurl, on a kept-alive connection.
 *
 * One ctx_https_t is one destination: URL, TLS settings, content type and
 * encoding, extra headers and authentication. ctx_https_new() validates the
 * options and reads the credential file (bearer token or basic-auth password:
 * its first line) without touching the network. ctx_https_post() sends one body
 * and reports the HTTP status; ctx_https_classify() says what a status means for
 * delivery: 2xx delivered; 4xx other than 408 and 429 a rejection that retrying
 * cannot fix; everything else (408, 429, 5xx, and 1xx / 3xx, which mean a
 * misconfigured URL rather than a verdict on the data), like any transport failure,
 * retryable. Redirects are not followed.
 *
 * Errors are one line naming the URL's host and the reason, e.g.
 *   "POST to https://logs.example:8443/bulk failed: SSL certificate problem: certificate has expired"
 *
 * Thread-safety: a ctx_https_t is NOT thread-safe (one libcurl easy handle): one
 * thread (a tenant's sender) uses it at a time. curl_global_init() must have been
 * called once by the process before any ctx_https_new() (ctx_https_global_init()).
 */
#ifndef CTXLOG_HTTPS_POST_H
#define CTXLOG_HTTPS_POST_H

#include <stddef.h>

#include "tls_settings.h"

typedef struct ctx_https ctx_https_t;

typedef struct {
    const char *name;  /* header name (an HTTP token) */
    const char *value; /* header value, no CR / LF */
} ctx_https_header_t;

typedef enum {
    CTX_HTTPS_AUTH_NONE = 0,
    CTX_HTTPS_AUTH_BEARER = 1, /* "Authorization: Bearer <token>" */
    CTX_HTTPS_AUTH_BASIC = 2,
    CTX_HTTPS_AUTH_SPLUNK = 3  /* "Authorization: Splunk <token>" (HTTP Event Collector) */
} ctx_https_auth_t;

typedef struct {
    const char *url;              /* https://... (http:// only with allow_plaintext) (required) */
    int allow_plaintext;          /* 1: an http:// URL is accepted (the caller's explicit opt-in) */
    const char *content_type;     /* NULL: "application/x-ndjson" */
    const char *content_encoding; /* "zstd", "gzip", or NULL (no header) */
    const ctx_https_header_t *headers; /* extra headers (borrowed, copied) */
    size_t nheaders;
    ctx_https_auth_t auth;
    const char *auth_user;        /* basic: the user name */
    const char *auth_file;        /* bearer: token file; basic: password file (first line is used) */
    ctx_tls_settings_t tls;       /* server_name, when set: the URL's host is connected to but this
                                     name is verified */
    unsigned connect_timeout_ms;  /* 0 = 10000 */
    unsigned timeout_ms;          /* whole request; 0 = 30000 */
    size_t reply_max;             /* keep up to this many bytes of each response body for
                                     ctx_https_reply() (a format that reads replies); 0: none */
} ctx_https_opts_t;

/* delivery classes of a POST's outcome */
typedef enum {
    CTX_HTTPS_DELIVERED = 0, /* 2xx */
    CTX_HTTPS_RETRY = 1,     /* transport failure, 408, 429, 5xx, 1xx, 3xx */
    CTX_HTTPS_REJECTED = 2   /* 4xx other than 408 / 429: do not retry (dead-letter) */
} ctx_https_class_t;

/* kinds of transport failure, for counters */
typedef enum {
    CTX_HTTPS_FAIL_NONE = 0,
    CTX_HTTPS_FAIL_CONNECT = 1, /* resolve, connect, timeout, connection reset */
    CTX_HTTPS_FAIL_TLS = 2      /* handshake refused: certificate, name, version, client certificate */
} ctx_https_failure_t;

/* curl_global_init(CURL_GLOBAL_DEFAULT) once per process (not thread-safe; call it
 * at module load). Returns 0 or CTX_EIO. */
int ctx_https_global_init(void);

/* Creates a client (options copied; the auth file is read now). Returns 0 and *out,
 * or CTX_EINVAL (bad URL / option, err says which), CTX_EIO (cannot read the auth
 * file: err names it), CTX_ENOMEM. */
int ctx_https_new(const ctx_https_opts_t *o, ctx_https_t **out, char *err, size_t errlen);

/* Frees the client and closes its connection; NULL is a no-op. */
void ctx_https_free(ctx_https_t *h);

/* POSTs body[0..len) (borrowed). Returns 0 when an HTTP response was received, with
 * *status its code (classify it with ctx_https_classify()) and, for 408/429/503,
 * *retry_after_ms the server's Retry-After in ms (0 if none; may be NULL);
 * err then holds "HTTP <status>: <first line of the response body>" for a non-2xx.
 * Returns CTX_EIO when no response was received (err: the reason;
 * ctx_https_failure() the kind), or CTX_ENOMEM. */
int ctx_https_post(ctx_https_t *h, const void *body, size_t len, long *status, unsigned long *retry_after_ms,
                   char *err, size_t errlen);

/* The body of the last response (up to reply_max bytes; borrowed until the next post),
 * *truncated 1 if it was longer. NULL with *len 0 when reply_max is 0 or there was none. */
const char *ctx_https_reply(const ctx_https_t *h, size_t *len, int *truncated);

/* The delivery class of an HTTP status. Pure, thread-safe. */
ctx_https_class_t ctx_https_classify(long status);

/* The kind of the last transport failure (CTX_HTTPS_FAIL_NONE after a response). */
ctx_https_failure_t ctx_https_failure(const ctx_https_t *h);

#endif
