/* cmhttp.h: what the compute manager's two HTTP clients share (cmfetch.c: the
 * requests, cmauth.c: the logins): a bounded reply body for libcurl's write callback,
 * and the transfer options both set.
 *
 * Concurrency: none of its own. A cm_body_t belongs to one transfer; the functions
 * keep no state.
 */
#ifndef CTXLOG_CMHTTP_H
#define CTXLOG_CMHTTP_H

#include <stdbool.h>
#include <stddef.h>

#include <curl/curl.h>

/* A reply body: zero-initialise, set max, free data once the transfer is done. */
typedef struct {
    char *data;      /* received bytes, NUL-terminated; NULL until the first; owned */
    size_t len, cap; /* bytes in data, bytes allocated */
    size_t max;      /* the most accepted (cm.maxResponseBytes) */
    bool too_big;    /* the reply passed max: the transfer was stopped */
} cm_body_t;

/* CURLOPT_WRITEFUNCTION with CURLOPT_WRITEDATA a cm_body_t: appends the bytes.
 * Returns 0 (libcurl then stops the transfer) past max (too_big is set) or without
 * memory, else size * nmemb. */
size_t cm_body_write(char *p, size_t size, size_t nmemb, void *body);

/* The settings every compute-manager transfer uses (borrowed strings). */
typedef struct {
    long connect_timeout_ms; /* cm.connectTimeout */
    long timeout_ms;         /* cm.timeout: the whole transfer */
    int tls_verify;          /* cm.tlsVerify: peer and host name */
    const char *ca_file;     /* cm.caFile, or NULL: the system's */
    const char *user_agent;
} cm_http_conf_t;

/* The defaults both clients' settings start from (cm.tlsVerify, cm.connectTimeout, cm.timeout,
 * cm.maxResponseBytes, the user agent): c is a cmfetch_conf_t or cmauth_conf_t. */
#define CM_HTTP_DEFAULTS(c)                                                                              \
    ((c)->tls_verify = 1, (c)->connect_timeout_ms = 5000, (c)->timeout_ms = 10000, (c)->max_body = 1048576, \
     (c)->user_agent = "ctxlog-mmctxenrich")

/* Sets them on e: no signals, the timeouts, http and https only, no redirects, TLS
 * verification and CA, the user agent. */
void cm_http_setopts(CURL *e, const cm_http_conf_t *c);

#endif
