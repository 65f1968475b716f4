/* tls_settings.h: the TLS settings of one destination, one struct for the tenants file
 * (tenants.h), the syslog-over-TLS client (tls_client.h) and the HTTPS client
 * (https_post.h). Paths are absolute; strings are borrowed. */
#ifndef CTXLOG_TLS_SETTINGS_H
#define CTXLOG_TLS_SETTINGS_H

#define CTX_TLS_1_2 0x0303 /* = OpenSSL TLS1_2_VERSION */
#define CTX_TLS_1_3 0x0304 /* = OpenSSL TLS1_3_VERSION */

typedef struct {
    const char *ca_file;      /* trust anchors (PEM), or NULL: the system's default store */
    const char *cert_file;    /* client certificate (PEM) for mTLS, or NULL; set iff key_file is */
    const char *key_file;     /* its private key (PEM), or NULL */
    const char *server_name;  /* name checked in the server's certificate and sent as SNI; NULL =
                                 the host (syslog-tls) / the URL's host (https) */
    const char *ciphers;      /* OpenSSL cipher list for TLS 1.2, or NULL: OpenSSL's default */
    const char *ciphersuites; /* OpenSSL TLS 1.3 cipher suites, or NULL: OpenSSL's default */
    int min_version;          /* CTX_TLS_1_2 (also for 0) or CTX_TLS_1_3 */
    int verify_peer;          /* 1: the chain must verify and be in date (the tenants file's default) */
    int verify_hostname;      /* 1: the certificate must be for server_name (the tenants file's default) */
} ctx_tls_settings_t;

#endif
