/* tls_client.h: a stream client for syslog over TLS (RFC 5425) and, on explicit
 * opt-in, over plain TCP (RFC 6587 octet counting): connect, verify, write.
 *
 * One ctx_tls_client_t is one destination (host, port, TLS settings) and at most
 * one connection to it. ctx_tls_client_new() builds the OpenSSL context (CA, client
 * certificate and key, minimum version, ciphers) without touching the network, so a
 * bad file is reported at configuration time. ctx_tls_client_send() connects when
 * needed (TCP, then the TLS handshake with the server's chain, dates and name
 * verified) and writes the whole buffer; the write having completed on a
 * connection that was healthy just before it is what "sent" means (the weaker
 * promise of syslog over TLS: the protocol has no application-level ack).
 *
 * Before each write on an existing connection the client checks that the server
 * has not closed it (an RFC 5425 server never sends application data; a close or
 * an alert means the connection is gone) and reconnects if so.
 *
 * With TLS 1.3 a server that requires a client certificate rejects it only after
 * the client's side of the handshake is complete; when the server asked for a
 * certificate, the client therefore waits (up to the I/O timeout) for the server's
 * first records after the handshake, so that a refusal is reported as such and not
 * as a lost write.
 *
 * Errors name the destination and the reason in one line, e.g.
 *   "TLS handshake with logs.example:6514 failed: certificate verify failed: certificate has expired"
 * ctx_tls_client_failure() tells the kind of the last failure (for counters).
 *
 * Thread-safety: a client is NOT thread-safe; one thread (a tenant's sender) uses
 * it at a time. Different clients may be used concurrently from different threads.
 */
#ifndef CTXLOG_TLS_CLIENT_H
#define CTXLOG_TLS_CLIENT_H

#include <stddef.h>

#include "tls_settings.h"

typedef struct ctx_tls_client ctx_tls_client_t;

typedef struct {
    const char *host;         /* host name or IP address (required) */
    unsigned port;            /* 1..65535 (required) */
    int plaintext;            /* 1: plain TCP, no TLS: the caller's explicit opt-in; TLS fields ignored */
    ctx_tls_settings_t tls;   /* verification, client certificate, versions, ciphers */
    unsigned connect_timeout_ms; /* TCP connect + TLS handshake; 0 = 10000 */
    unsigned io_timeout_ms;      /* one write of a buffer; 0 = 10000 */
} ctx_tls_opts_t;

/* kinds of failure, for counters */
typedef enum {
    CTX_TLS_FAIL_NONE = 0,    /* the last call succeeded */
    CTX_TLS_FAIL_CONNECT = 1, /* name resolution, TCP connect, timeout */
    CTX_TLS_FAIL_TLS = 2,     /* handshake refused: verification, version, client certificate, alert */
    CTX_TLS_FAIL_IO = 3       /* the connection broke while writing */
} ctx_tls_failure_t;

/* Creates a client for the destination in o (copied; o's strings are borrowed only
 * during the call). Loads the CA file, the client certificate and key (and checks
 * that they match), sets the minimum version and the cipher lists. No network I/O.
 * Returns 0 and *out, or CTX_EINVAL (bad option: err names it), CTX_EIO (a file
 * cannot be loaded: err names the file and OpenSSL's reason), CTX_ENOMEM. */
int ctx_tls_client_new(const ctx_tls_opts_t *o, ctx_tls_client_t **out, char *err, size_t errlen);

/* Closes the connection (if any, with a close_notify) and frees the client; NULL is a no-op. */
void ctx_tls_client_free(ctx_tls_client_t *c);

/* Connects if there is no healthy connection (TCP connect, TLS handshake and
 * verification). Returns 0 (connected), CTX_EIO (err: one line naming host:port and
 * the reason; ctx_tls_client_failure() says which kind) or CTX_ENOMEM. */
int ctx_tls_client_connect(ctx_tls_client_t *c, char *err, size_t errlen);

/* Writes buf[0..len) (borrowed) completely, connecting first if needed. Returns 0
 * once the last byte was accepted by the TLS layer (or the kernel, for plain TCP),
 * or CTX_EIO / CTX_ENOMEM with err set; after a failure the connection is closed and
 * it is unknown how much of buf the server received (the caller sends it again). */
int ctx_tls_client_send(ctx_tls_client_t *c, const void *buf, size_t len, char *err, size_t errlen);

/* Closes the connection (close_notify for TLS); the next send reconnects. */
void ctx_tls_client_close(ctx_tls_client_t *c);

/* 1 if a connection is open (not probed), else 0. */
int ctx_tls_client_connected(const ctx_tls_client_t *c);

/* The kind of the last failure of connect / send (CTX_TLS_FAIL_NONE after a success). */
ctx_tls_failure_t ctx_tls_client_failure(const ctx_tls_client_t *c);

/* The negotiated protocol of the open connection ("TLSv1.3", "TLSv1.2", "tcp"), or "" */
const char *ctx_tls_client_protocol(const ctx_tls_client_t *c);

#endif
