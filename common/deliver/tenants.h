/* tenants.h: the tenants file (JSON): where each tenant's logs go and how.
 *
 * ctx_tenants_load() reads and validates the whole file into an immutable,
 * reference-counted ctx_tenants_t; the file format and every error message are in
 * docs/tenants.md. A HUP loads a new set, which omtenant swaps into its routing
 * snapshot (omtenant_route.c); a set that fails to load leaves the running one in place.
 *
 * Thread-safety: a loaded ctx_tenants_t is read-only; any number of threads may
 * look up tenants in it concurrently while they hold a reference. References are

 * The ctx_tenant_t pointers (and every string in them) stay valid while the caller
 * holds a reference to the set they came from.
 */
#ifndef CTXLOG_TENANTS_H
#define CTXLOG_TENANTS_H

#include <stddef.h>
#include <stdint.h>

#include "tls_settings.h"
#include "batch.h"
#include "fmt.h"
#include "spool.h"

#define CTX_TENANT_ID_MAX 64

typedef enum {
    CTX_TRANSPORT_SYSLOG_TLS = 0, /* RFC 5425: octet-counted frames over TLS */
    CTX_TRANSPORT_HTTPS = 1,      /* POST of a batch body (libcurl) */
    CTX_TRANSPORT_PLAIN_TCP = 2   /* RFC 6587 octet-counted frames over TCP, no TLS (opt-in) */
} ctx_transport_t;

typedef enum {
    CTX_AUTH_NONE = 0,
    CTX_AUTH_BEARER = 1, /* "Authorization: Bearer <first line of file>" */
    CTX_AUTH_BASIC = 2   /* user + password (first line of file) */
} ctx_auth_t;

typedef struct {
    const char *name;  /* header name (an HTTP token) */
    const char *value; /* header value, no CR / LF */
} ctx_header_t;

/* TLS of one tenant (syslog-tls and https): relative paths in the file are resolved
 * against the tenants file's directory. */
typedef ctx_tls_settings_t ctx_tenant_tls_t;

/* One tenant's destination. Invariants (checked at load): syslog-tls and plain-tcp
 * have host + port and body CTX_BATCH_OCTET_COUNTED; https has url and the body of its
 * format; elasticsearch / loki / splunk-hec never zstd; plain-tcp and "http://" URLs only with allow_plaintext. */
typedef struct {
    const char *id;               /* tenant id: 1..64 of [A-Za-z0-9._-], not "." / ".." */
    int line;                     /* line of the tenants file where its entry starts */
    ctx_transport_t transport;
    const char *host;             /* syslog-tls / plain-tcp: host name or IP address; else NULL */
    unsigned port;                /* syslog-tls (default 6514) / plain-tcp (default 514); else 0 */
    const char *url;              /* https: the URL batches are POSTed to (elasticsearch, loki and
                                     splunk-hec: the configured base URL with the API's path
                                     appended); else NULL */
    ctx_batch_format_t body;      /* how messages are framed in a batch (ctx_batch_format_of(format)) */
    ctx_fmt_t format;             /* https: the body format ("format", default ndjson) */
    ctx_fmt_opts_t fmt_opts;      /* https: loki labels, splunk-hec source / sourcetype / index */
    const char *es_target;        /* elasticsearch: the index or data stream (in url) */
    int es_data_stream;           /* elasticsearch: 1 if es_target is a data stream */
    const char *hec_token_file;   /* splunk-hec: the HEC token's file (absolute; "Authorization: Splunk") */
    const char *hec_channel;      /* splunk-hec: the indexer acknowledgement channel (a GUID), or NULL */
    ctx_encoding_t encoding;      /* https: Content-Encoding (default zstd); syslog-tls /
                                     plain-tcp: stream compression, only if the receiver
                                     declares it understands it (default none) */
    const ctx_header_t *headers;  /* https: extra headers, file order */
    size_t nheaders;
    ctx_auth_t auth;              /* https: authentication */
    const char *auth_user;        /* CTX_AUTH_BASIC: user name */
    const char *auth_file;        /* bearer: token file; basic: password file (absolute) */
    ctx_tenant_tls_t tls;         /* unused for plain-tcp and http:// URLs */
    int allow_plaintext;          /* 1 if the operator opted in to unencrypted transport */
    ctx_batch_limits_t batch;     /* max_messages (default 1000), max_bytes (1 MiB),
                                     max_delay_ms (1000) */
    uint64_t spool_max_bytes;     /* default 1 GiB */
    ctx_spool_policy_t spool_when_full; /* default block */
    const char *redaction;        /* name of the redaction rule set, or NULL: the module's default */
    int context_host_full;        /* "context": {"host": "full"}: host-wide $!ctx fields may reach this
                                     tenant; 0 (default, "vm-only"): omtenant withholds them */
} ctx_tenant_t;

typedef struct ctx_tenants ctx_tenants_t;

/* Reads, parses and validates the tenants file at path. On success returns 0 and
 * *out holding one reference; warnings (ctx_tenants_warning) are for the caller to
 * log. On failure returns CTX_EIO (cannot read), CTX_EPARSE (invalid) or CTX_ENOMEM,
 * *out is NULL and err holds one line: "PATH:LINE: KEY.PATH: what was expected". */
int ctx_tenants_load(const char *path, ctx_tenants_t **out, char *err, size_t errlen);

/* The same from text[0..len) (borrowed). name is used in messages in place of the
 * path; relative file paths in the text resolve against base_dir (NULL: the
 * current directory). */
int ctx_tenants_parse(const char *text, size_t len, const char *name, const char *base_dir, ctx_tenants_t **out,
                      char *err, size_t errlen);

/* Takes one more reference; returns t. NULL-safe. */
ctx_tenants_t *ctx_tenants_ref(ctx_tenants_t *t);

/* Drops one reference; the set is freed with the last one. NULL is a no-op. */
void ctx_tenants_free(ctx_tenants_t *t);

/* The tenant with exactly this id (idlen bytes, need not be NUL-terminated), or NULL.
 * A linear search: for inspection and tests; omtenant routes with its own index. */
const ctx_tenant_t *ctx_tenants_get(const ctx_tenants_t *t, const char *id, size_t idlen);

/* Number of tenants (the "default" entry included) and the i-th in file order. */
size_t ctx_tenants_count(const ctx_tenants_t *t);
const ctx_tenant_t *ctx_tenants_at(const ctx_tenants_t *t, size_t i);

/* Warnings of the load, one line each ("PATH:LINE: KEY.PATH: ..."), to be logged. */
size_t ctx_tenants_warning_count(const ctx_tenants_t *t);
const char *ctx_tenants_warning(const ctx_tenants_t *t, size_t i);

/* 1 if id[0..len) is a valid tenant id (safe as a directory name), else 0. */
int ctx_tenants_id_ok(const char *id, size_t len);

/* "syslog-tls", "https", "plain-tcp" */
const char *ctx_transport_name(ctx_transport_t tr);

#endif
