/* https_post.c: batch POST over HTTPS with libcurl (one easy handle, kept alive).
 * Contract in https_post.h.
 *
 * Concurrency: a ctx_https_t is used by one thread at a time; libcurl easy handles
 * are independent of each other once curl_global_init() has run.
 */
#include "https_post.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>
#include <openssl/ssl.h>

#include "ctxlog_common.h"

#define RESP_KEEP 200 /* bytes of a response body kept for the error message */

struct ctx_https {
    CURL *curl;
    struct curl_slist *hdrs;
    char *url;          /* the URL requested (host replaced by server_name if that differs) */
    char *connect_to;   /* "name:port:host:port" for CURLOPT_CONNECT_TO, or NULL */
    struct curl_slist *connect_list; /* connect_to as the list libcurl takes */
    char *shown;        /* the URL as shown in messages (scheme://host:port/path) */
    char *user, *password;
    char resp[RESP_KEEP + 1];
    size_t resp_len;
    char *reply;        /* the whole response body, up to reply_max (formats that read replies) */
    size_t reply_len, reply_cap, reply_max;
    int reply_truncated;
    char curl_err[CURL_ERROR_SIZE];
    ctx_https_failure_t failure;
    int min_tls13; /* for messages */
    int has_cert;
    int cert_requested; /* the server asked for a client certificate in this request's handshake */
};

int ctx_https_global_init(void) {
    return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : CTX_EIO;
}

ctx_https_class_t ctx_https_classify(long status) {
    if (status >= 200 && status <= 299) return CTX_HTTPS_DELIVERED;
    if (status >= 400 && status <= 499 && status != 408 && status != 429) return CTX_HTTPS_REJECTED;
    return CTX_HTTPS_RETRY; /* 408, 429, 5xx; and 1xx / 3xx: a misconfigured URL, not a verdict on the data */
}

const char *ctx_https_reply(const ctx_https_t *h, size_t *len, int *truncated) {
    *len = h && h->reply ? h->reply_len : 0;
    if (truncated) *truncated = h ? h->reply_truncated : 0;
    return h && h->reply ? h->reply : NULL;
}

ctx_https_failure_t ctx_https_failure(const ctx_https_t *h) {
    return h ? h->failure : CTX_HTTPS_FAIL_NONE;
}

/* first line of a credential file, without CR / LF; malloc'd into *out */
static int read_first_line(const char *path, char **out, char *err, size_t errlen) {
    FILE *f = fopen(path, "re");
    if (f == NULL) {
        ctx_errf(err, errlen, "cannot read \"%s\": %s", path, strerror(errno));
        return CTX_EIO;
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t n = getline(&line, &cap, f);
    fclose(f);
    if (n <= 0) {
        free(line);
        ctx_errf(err, errlen, "\"%s\" is empty: expected the credential on its first line", path);
        return CTX_EINVAL;
    }
    while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r')) line[--n] = '\0';
    for (ssize_t i = 0; i < n; i++) {
        if ((unsigned char)line[i] < 0x20 || line[i] == 0x7f) {
            free(line);
            ctx_errf(err, errlen, "\"%s\": the credential contains control characters", path);
            return CTX_EINVAL;
        }
    }
    *out = line;
    return 0;
}

static int add_header(ctx_https_t *h, const char *name, const char *value) {
    size_t n = strlen(name) + strlen(value) + 3;
    char *line = malloc(n);
    if (line == NULL) return CTX_ENOMEM;
    snprintf(line, n, "%s:%s%s", name, value[0] ? " " : "", value);
    struct curl_slist *l = curl_slist_append(h->hdrs, line);
    free(line);
    if (l == NULL) return CTX_ENOMEM;
    h->hdrs = l;
    return 0;
}

static int build_headers(ctx_https_t *h, const ctx_https_opts_t *o, char *err, size_t errlen) {
    int own_type = 0; /* an extra header overrides Content-Type */
    for (size_t i = 0; i < o->nheaders; i++) own_type |= strcasecmp(o->headers[i].name, "Content-Type") == 0;
    int rc = own_type ? 0 : add_header(h, "Content-Type", o->content_type ? o->content_type : "application/x-ndjson");
    if (rc == 0 && o->content_encoding != NULL) rc = add_header(h, "Content-Encoding", o->content_encoding);
    if (rc == 0) rc = add_header(h, "Expect", ""); /* no 100-continue round trip */
    for (size_t i = 0; rc == 0 && i < o->nheaders; i++) rc = add_header(h, o->headers[i].name, o->headers[i].value);
    if (rc != 0 || o->auth == CTX_HTTPS_AUTH_NONE) return rc;
    char *secret = NULL;
    if (o->auth_file == NULL || (o->auth == CTX_HTTPS_AUTH_BASIC && o->auth_user == NULL)) {
        ctx_errf(err, errlen, "auth: a credential file (and, for basic, a user) is required");
        return CTX_EINVAL;
    }
    if ((rc = read_first_line(o->auth_file, &secret, err, errlen)) != 0) return rc;
    if (o->auth == CTX_HTTPS_AUTH_BEARER || o->auth == CTX_HTTPS_AUTH_SPLUNK) {
        size_t n = strlen(secret) + 8;
        char *v = malloc(n);
        if (v != NULL) snprintf(v, n, "%s %s", o->auth == CTX_HTTPS_AUTH_SPLUNK ? "Splunk" : "Bearer", secret);
        rc = v ? add_header(h, "Authorization", v) : CTX_ENOMEM;
        free(v);
        explicit_bzero(secret, strlen(secret));
        free(secret);
        return rc;
    }
    h->password = secret;
    h->user = strdup(o->auth_user);
    return h->user ? 0 : CTX_ENOMEM;
}

/* parses the URL; sets h->url / connect_to / shown (server_name: see the header) */
static int setup_url(ctx_https_t *h, const ctx_https_opts_t *o, char *err, size_t errlen) {
    CURLU *u = curl_url();
    char *scheme = NULL, *host = NULL, *port = NULL, *path = NULL;
    int rc = CTX_EINVAL;
    if (u == NULL) return CTX_ENOMEM;
    if (curl_url_set(u, CURLUPART_URL, o->url, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_PATH, &path, 0) != CURLUE_OK) {
        ctx_errf(err, errlen, "url: expected an https:// URL with a host, got \"%s\"", o->url);
    } else if (strcmp(scheme, "https") != 0 && !(strcmp(scheme, "http") == 0 && o->allow_plaintext)) {
        ctx_errf(err, errlen, "url: expected an https:// URL (http:// only with allow_plaintext), got \"%s\"", o->url);
    } else {
        size_t n = strlen(scheme) + strlen(host) + strlen(port) + strlen(path) + 8;
        h->shown = malloc(n);
        if (h->shown != NULL) snprintf(h->shown, n, "%s://%s:%s%s", scheme, host, port, path);
        rc = h->shown ? 0 : CTX_ENOMEM;
        const char *sn = o->tls.server_name;
        if (rc == 0 && sn != NULL && strcmp(sn, host) != 0 && strcmp(scheme, "https") == 0) {
            /* verify (and send as SNI and Host) server_name, but connect to the URL's host */
            char *newurl = NULL;
            n = strlen(sn) * 2 + strlen(host) + strlen(port) * 2 + 4;
            if ((h->connect_to = malloc(n)) != NULL) snprintf(h->connect_to, n, "%s:%s:%s:%s", sn, port, host, port);
            if (h->connect_to == NULL || curl_url_set(u, CURLUPART_HOST, sn, 0) != CURLUE_OK ||
                curl_url_get(u, CURLUPART_URL, &newurl, 0) != CURLUE_OK)
                rc = CTX_EINVAL;
            if (newurl != NULL) h->url = strdup(newurl);
            curl_free(newurl);
            if (rc != 0) ctx_errf(err, errlen, "tls.server_name: \"%s\" cannot be used as a host name", sn);
        }
        if (rc == 0 && h->url == NULL && (h->url = strdup(o->url)) == NULL) rc = CTX_ENOMEM;
    }
    curl_free(scheme), curl_free(host), curl_free(port), curl_free(path);
    curl_url_cleanup(u);
    return rc;
}

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *arg) {
    ctx_https_t *h = arg;
    size_t n = size * nmemb, room = RESP_KEEP - h->resp_len;
    size_t take = n < room ? n : room;
    memcpy(h->resp + h->resp_len, ptr, take);
    h->resp_len += take;
    h->resp[h->resp_len] = '\0';
    if (h->reply_max == 0) return n;
    size_t keep = h->reply_max - h->reply_len < n ? h->reply_max - h->reply_len : n;
    h->reply_truncated |= keep < n;
    if (keep > 0 && h->reply_cap - h->reply_len < keep + 1) {
        size_t cap = h->reply_cap ? h->reply_cap : 4096;
        while (cap - h->reply_len < keep + 1) cap *= 2;
        char *p = realloc(h->reply, cap);
        if (p == NULL) return 0; /* libcurl fails the transfer: retried */
        h->reply = p, h->reply_cap = cap;
    }
    if (keep > 0) memcpy(h->reply + h->reply_len, ptr, keep), h->reply_len += keep, h->reply[h->reply_len] = '\0';
    return n;
}

/* OpenSSL calls this when the server sends a CertificateRequest */
static int on_cert_request(SSL *ssl, void *arg) {
    (void)ssl;
    ((ctx_https_t *)arg)->cert_requested = 1;
    return 1;
}

/* libcurl (OpenSSL backend) hands over each new connection's SSL_CTX */
static CURLcode on_ssl_ctx(CURL *curl, void *sslctx, void *arg) {
    (void)curl;
    SSL_CTX_set_cert_cb((SSL_CTX *)sslctx, on_cert_request, arg);
    return CURLE_OK;
}

static void set_tls(ctx_https_t *h, const ctx_https_opts_t *o) {
    CURL *c = h->curl;
    long minv = o->tls.min_version == 0x0304 ? CURL_SSLVERSION_TLSv1_3 : CURL_SSLVERSION_TLSv1_2;
    curl_easy_setopt(c, CURLOPT_SSLVERSION, minv | CURL_SSLVERSION_MAX_DEFAULT);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, o->tls.verify_peer ? 1L : 0L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, o->tls.verify_hostname ? 2L : 0L);
    if (o->tls.ca_file) curl_easy_setopt(c, CURLOPT_CAINFO, o->tls.ca_file);
    if (o->tls.cert_file) curl_easy_setopt(c, CURLOPT_SSLCERT, o->tls.cert_file);
    if (o->tls.key_file) curl_easy_setopt(c, CURLOPT_SSLKEY, o->tls.key_file);
    if (o->tls.ciphers) curl_easy_setopt(c, CURLOPT_SSL_CIPHER_LIST, o->tls.ciphers);
    if (o->tls.ciphersuites) curl_easy_setopt(c, CURLOPT_TLS13_CIPHERS, o->tls.ciphersuites);
    curl_easy_setopt(c, CURLOPT_SSL_CTX_FUNCTION, on_ssl_ctx);
    curl_easy_setopt(c, CURLOPT_SSL_CTX_DATA, h);
}

static int setup_curl(ctx_https_t *h, const ctx_https_opts_t *o) {
    CURL *c = h->curl = curl_easy_init();
    if (c == NULL) return CTX_ENOMEM;
    curl_easy_setopt(c, CURLOPT_URL, h->url);
    if (h->connect_to != NULL) {
        if ((h->connect_list = curl_slist_append(NULL, h->connect_to)) == NULL) return CTX_ENOMEM;
        curl_easy_setopt(c, CURLOPT_CONNECT_TO, h->connect_list);
    }
    curl_easy_setopt(c, CURLOPT_POST, 1L);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h->hdrs);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, o->allow_plaintext ? "https,http" : "https");
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)(o->connect_timeout_ms ? o->connect_timeout_ms : 10000));
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)(o->timeout_ms ? o->timeout_ms : 30000));
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, h->curl_err);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, h);
    curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);
    if (h->user != NULL) {
        curl_easy_setopt(c, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
        curl_easy_setopt(c, CURLOPT_USERNAME, h->user);
        curl_easy_setopt(c, CURLOPT_PASSWORD, h->password);
    }
    set_tls(h, o);
    return 0;
}

int ctx_https_new(const ctx_https_opts_t *o, ctx_https_t **out, char *err, size_t errlen) {
    if (out == NULL) return CTX_EINVAL;
    *out = NULL;
    if (o == NULL || o->url == NULL) {
        ctx_errf(err, errlen, "url: required");
        return CTX_EINVAL;
    }
    if (o->tls.min_version != 0 && o->tls.min_version != 0x0303 && o->tls.min_version != 0x0304) {
        ctx_errf(err, errlen, "min_version: expected TLS 1.2 or 1.3, got 0x%04x", (unsigned)o->tls.min_version);
        return CTX_EINVAL;
    }
    ctx_https_t *h = calloc(1, sizeof *h);
    if (h == NULL) return CTX_ENOMEM;
    h->min_tls13 = o->tls.min_version == 0x0304;
    h->reply_max = o->reply_max;
    h->has_cert = o->tls.cert_file != NULL;
    int rc = setup_url(h, o, err, errlen);
    if (rc == 0) rc = build_headers(h, o, err, errlen);
    if (rc == 0) rc = setup_curl(h, o);
    if (rc == CTX_ENOMEM) ctx_errf(err, errlen, "out of memory");
    if (rc != 0) {
        ctx_https_free(h);
        return rc;
    }
    *out = h;
    return 0;
}

void ctx_https_free(ctx_https_t *h) {
    if (h == NULL) return;
    if (h->curl) curl_easy_cleanup(h->curl);
    curl_slist_free_all(h->hdrs);
    curl_slist_free_all(h->connect_list);
    free(h->connect_to);
    free(h->url);
    free(h->shown);
    free(h->reply);
    free(h->user);
    if (h->password) explicit_bzero(h->password, strlen(h->password));
    free(h->password);
    free(h);
}

static ctx_https_failure_t failure_kind(CURLcode cc, const char *msg) {
    switch (cc) {
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_CLIENTCERT:
        return CTX_HTTPS_FAIL_TLS;
    default: /* TLS 1.3 refuses a client certificate after the handshake: seen while receiving */
        return (strstr(msg, "alert") != NULL || strstr(msg, "SSL") != NULL) ? CTX_HTTPS_FAIL_TLS
                                                                             : CTX_HTTPS_FAIL_CONNECT;
    }
}

/* a plain-words explanation appended to some of OpenSSL's reasons */
static const char *hint(const ctx_https_t *h, const char *why) {
    if (strstr(why, "protocol version") != NULL || strstr(why, "unsupported protocol") != NULL)
        return h->min_tls13 ? " (the server offers no TLS version this client accepts: minimum TLS 1.3)"
                            : " (the server offers no TLS version this client accepts: minimum TLS 1.2)";
    if (h->cert_requested && !h->has_cert)
        return " (the server requires a client certificate (mutual TLS) and none is configured)";
    if (h->cert_requested && strstr(why, "alert") != NULL) return " (the server refused this client's certificate)";
    return "";
}

/* "HTTP 400: <first line of the body>" */
static void status_message(ctx_https_t *h, long status, char *err, size_t errlen) {
    size_t n = 0;
    while (n < h->resp_len && h->resp[n] != '\n' && h->resp[n] != '\r') n++;
    for (size_t i = 0; i < n; i++)
        if (!isprint((unsigned char)h->resp[i])) h->resp[i] = '?';
    ctx_errf(err, errlen, "POST to %s: HTTP %ld%s%.*s", h->shown, status, n ? ": " : "", (int)n, h->resp);
}

int ctx_https_post(ctx_https_t *h, const void *body, size_t len, long *status, unsigned long *retry_after_ms,
                   char *err, size_t errlen) {
    if (h == NULL || status == NULL || (body == NULL && len > 0)) return CTX_EINVAL;
    *status = 0;
    if (retry_after_ms) *retry_after_ms = 0;
    h->resp_len = 0;
    h->resp[0] = '\0';
    h->reply_len = 0;
    h->reply_truncated = 0;
    h->curl_err[0] = '\0';
    h->cert_requested = 0;
    curl_easy_setopt(h->curl, CURLOPT_POSTFIELDS, body ? body : "");
    curl_easy_setopt(h->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    CURLcode cc = curl_easy_perform(h->curl);
    if (cc != CURLE_OK) {
        const char *why = h->curl_err[0] ? h->curl_err : curl_easy_strerror(cc);
        h->failure = h->cert_requested ? CTX_HTTPS_FAIL_TLS : failure_kind(cc, why);
        ctx_errf(err, errlen, "POST to %s failed: %s%s", h->shown, why, hint(h, why));
        return cc == CURLE_OUT_OF_MEMORY ? CTX_ENOMEM : CTX_EIO;
    }
    h->failure = CTX_HTTPS_FAIL_NONE;
    curl_easy_getinfo(h->curl, CURLINFO_RESPONSE_CODE, status);
    curl_off_t ra = 0;
    if (retry_after_ms && curl_easy_getinfo(h->curl, CURLINFO_RETRY_AFTER, &ra) == CURLE_OK && ra > 0)
        *retry_after_ms = (unsigned long)(ra > 86400 ? 86400 : ra) * 1000ul;
    if (ctx_https_classify(*status) != CTX_HTTPS_DELIVERED)
        status_message(h, *status, err, errlen);
    else if (err && errlen)
        err[0] = '\0';
    return 0;
}
