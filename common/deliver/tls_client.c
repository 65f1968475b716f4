/* tls_client.c: RFC 5425 syslog-over-TLS client (OpenSSL 3) with opt-in plain TCP.
 * Contract in tls_client.h.
 *
 * All socket I/O is non-blocking, driven by poll() against one deadline per
 * operation, so no call waits longer than its timeout. SIGPIPE must be ignored by
 * the process (rsyslogd does): a write to a closed connection then fails with EPIPE.
 *
 * Concurrency: a client is used by one thread at a time; the SSL_CTX is private to
 * the client. No global state beyond OpenSSL's own (thread-safe since 1.1.0).
 */
#include "tls_client.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "clock.h"
#include "ctxlog_common.h"
#include "textcheck.h"

struct ctx_tls_client {
    char *host;
    char *server_name; /* NULL: host */
    unsigned port;
    int plaintext;
    int verify_peer;
    int verify_hostname;
    int has_cert;           /* a client certificate is configured */
    unsigned connect_ms;
    unsigned io_ms;
    SSL_CTX *ctx;           /* NULL for plaintext */
    SSL *ssl;               /* the open TLS connection, or NULL */
    int fd;                 /* the open socket, or -1 */
    int cert_requested;     /* the server asked for a client certificate in this handshake */
    ctx_tls_failure_t failure;
    char where[300];        /* "host:port", for messages */
};


/* OpenSSL's reason for the oldest queued error, or dflt; clears the queue */
static const char *ssl_reason(char *buf, size_t len, const char *dflt) {
    unsigned long e = ERR_peek_last_error();
    const char *r = e ? ERR_reason_error_string(e) : NULL;
    snprintf(buf, len, "%s", r ? r : dflt);
    ERR_clear_error();
    return buf;
}

static const char *peer_name(const ctx_tls_client_t *c) {
    return c->server_name ? c->server_name : c->host;
}

/* called by OpenSSL when the server sends a CertificateRequest */
static int on_cert_request(SSL *ssl, void *arg) {
    (void)arg;
    ctx_tls_client_t *c = SSL_get_app_data(ssl);
    if (c != NULL) c->cert_requested = 1;
    return 1;
}

/* ---------------------------------------------------------------- context */

static int ctx_load_files(ctx_tls_client_t *c, const ctx_tls_opts_t *o, char *err, size_t errlen) {
    char why[160];
    if (o->tls.ca_file != NULL) {
        if (SSL_CTX_load_verify_locations(c->ctx, o->tls.ca_file, NULL) != 1) {
            ctx_errf(err, errlen, "cannot load CA file \"%s\": %s", o->tls.ca_file, ssl_reason(why, sizeof why, "error"));
            return CTX_EIO;
        }
    } else if (SSL_CTX_set_default_verify_paths(c->ctx) != 1) {
        ctx_errf(err, errlen, "cannot load the system's CA store: %s", ssl_reason(why, sizeof why, "error"));
        return CTX_EIO;
    }
    if ((o->tls.cert_file == NULL) != (o->tls.key_file == NULL)) {
        ctx_errf(err, errlen, "a client certificate needs both cert_file and key_file");
        return CTX_EINVAL;
    }
    if (o->tls.cert_file == NULL) return 0;
    if (SSL_CTX_use_certificate_chain_file(c->ctx, o->tls.cert_file) != 1) {
        ctx_errf(err, errlen, "cannot load client certificate \"%s\": %s", o->tls.cert_file,
             ssl_reason(why, sizeof why, "error"));
        return CTX_EIO;
    }
    int loaded = SSL_CTX_use_PrivateKey_file(c->ctx, o->tls.key_file, SSL_FILETYPE_PEM) == 1;
    if (!loaded && ERR_GET_REASON(ERR_peek_last_error()) != X509_R_KEY_VALUES_MISMATCH) {
        ctx_errf(err, errlen, "cannot load client key \"%s\": %s", o->tls.key_file, ssl_reason(why, sizeof why, "error"));
        return CTX_EIO;
    }
    if (!loaded || SSL_CTX_check_private_key(c->ctx) != 1) {
        ctx_errf(err, errlen, "client key \"%s\" does not match certificate \"%s\"", o->tls.key_file, o->tls.cert_file);
        ERR_clear_error();
        return CTX_EINVAL;
    }
    c->has_cert = 1;
    return 0;
}

static int ctx_build(ctx_tls_client_t *c, const ctx_tls_opts_t *o, char *err, size_t errlen) {
    int minv = o->tls.min_version == 0 ? TLS1_2_VERSION : o->tls.min_version;
    if (minv != TLS1_2_VERSION && minv != TLS1_3_VERSION) {
        ctx_errf(err, errlen, "min_version: expected TLS 1.2 or 1.3, got 0x%04x", (unsigned)minv);
        return CTX_EINVAL;
    }
    if ((c->ctx = SSL_CTX_new(TLS_client_method())) == NULL) return CTX_ENOMEM;
    SSL_CTX_set_min_proto_version(c->ctx, minv);
    SSL_CTX_set_mode(c->ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    SSL_CTX_set_verify(c->ctx, o->tls.verify_peer ? SSL_VERIFY_PEER : SSL_VERIFY_NONE, NULL);
    SSL_CTX_set_cert_cb(c->ctx, on_cert_request, NULL);
    if (o->tls.ciphers != NULL && SSL_CTX_set_cipher_list(c->ctx, o->tls.ciphers) != 1) {
        ctx_errf(err, errlen, "ciphers: OpenSSL knows no cipher in \"%s\"", o->tls.ciphers);
        ERR_clear_error();
        return CTX_EINVAL;
    }
    if (o->tls.ciphersuites != NULL && SSL_CTX_set_ciphersuites(c->ctx, o->tls.ciphersuites) != 1) {
        ctx_errf(err, errlen, "ciphersuites: OpenSSL knows no cipher suite in \"%s\"", o->tls.ciphersuites);
        ERR_clear_error();
        return CTX_EINVAL;
    }
    return ctx_load_files(c, o, err, errlen);
}

static char *dup_or_null(const char *s, int *oom) {
    if (s == NULL) return NULL;
    char *d = strdup(s);
    if (d == NULL) *oom = 1;
    return d;
}

int ctx_tls_client_new(const ctx_tls_opts_t *o, ctx_tls_client_t **out, char *err, size_t errlen) {
    if (out == NULL) return CTX_EINVAL;
    *out = NULL;
    if (o == NULL || o->host == NULL || o->host[0] == '\0' || o->port == 0 || o->port > 65535) {
        ctx_errf(err, errlen, "a destination needs a host and a port 1..65535");
        return CTX_EINVAL;
    }
    ctx_tls_client_t *c = calloc(1, sizeof *c);
    if (c == NULL) return CTX_ENOMEM;
    int oom = 0;
    c->fd = -1;
    c->host = dup_or_null(o->host, &oom);
    c->server_name = dup_or_null(o->tls.server_name, &oom);
    c->port = o->port;
    c->plaintext = o->plaintext;
    c->verify_peer = o->tls.verify_peer;
    c->verify_hostname = o->tls.verify_hostname;
    c->connect_ms = o->connect_timeout_ms ? o->connect_timeout_ms : 10000;
    c->io_ms = o->io_timeout_ms ? o->io_timeout_ms : 10000;
    snprintf(c->where, sizeof c->where, strchr(o->host, ':') ? "[%s]:%u" : "%s:%u", o->host, o->port);
    int rc = oom ? CTX_ENOMEM : 0;
    if (rc == 0 && !c->plaintext) rc = ctx_build(c, o, err, errlen);
    if (rc != 0) {
        ctx_tls_client_free(c);
        return rc;
    }
    *out = c;
    return 0;
}

void ctx_tls_client_free(ctx_tls_client_t *c) {
    if (c == NULL) return;
    ctx_tls_client_close(c);
    SSL_CTX_free(c->ctx);
    free(c->host);
    free(c->server_name);
    free(c);
}

/* ---------------------------------------------------------------- TCP */

/* waits until fd is ready for events or the deadline passes: 1 ready, 0 timeout, -1 error */
static int wait_fd(int fd, short events, uint64_t deadline) {
    for (;;) {
        uint64_t now = ctx_clock_ms();
        if (now >= deadline) return 0;
        struct pollfd p = {fd, events, 0};
        int n = poll(&p, 1, (int)(deadline - now));
        if (n > 0) return 1;
        if (n == 0) return 0;
        if (errno != EINTR) return -1;
    }
}

/* one address: non-blocking connect with deadline; returns the fd or -1 (errno set) */
static int connect_one(const struct addrinfo *ai, uint64_t deadline) {
    int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0) return -1;
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) return fd;
    if (errno == EINPROGRESS) {
        int r = wait_fd(fd, POLLOUT, deadline);
        int soerr = 0;
        socklen_t sl = sizeof soerr;
        if (r == 1 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) == 0 && soerr == 0) return fd;
        errno = r == 0 ? ETIMEDOUT : (soerr ? soerr : errno);
    }
    int saved = errno;
    close(fd);
    errno = saved;
    return -1;
}

static int tcp_connect(ctx_tls_client_t *c, uint64_t deadline, char *err, size_t errlen) {
    struct addrinfo hints = {0}, *res = NULL;
    char port[8];
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_ADDRCONFIG;
    snprintf(port, sizeof port, "%u", c->port);
    int g = getaddrinfo(c->host, port, &hints, &res);
    if (g != 0) {
        ctx_errf(err, errlen, "cannot resolve %s: %s", c->where, gai_strerror(g));
        return CTX_EIO;
    }
    int saved = 0;
    for (struct addrinfo *ai = res; ai != NULL && c->fd < 0; ai = ai->ai_next) {
        c->fd = connect_one(ai, deadline);
        if (c->fd < 0) saved = errno;
    }
    freeaddrinfo(res);
    if (c->fd < 0) {
        ctx_errf(err, errlen, "cannot connect to %s: %s", c->where, strerror(saved ? saved : EHOSTUNREACH));
        return CTX_EIO;
    }
    return 0;
}

/* ---------------------------------------------------------------- TLS */

/* drives one SSL call that returned r <= 0: waits for the socket as OpenSSL asks;
 * returns 1 to call again, 0 on timeout, -1 on a failure */
static int ssl_wait(ctx_tls_client_t *c, int r, uint64_t deadline) {
    int e = SSL_get_error(c->ssl, r);
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
        int w = wait_fd(c->fd, e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, deadline);
        return w == 1 ? 1 : (w == 0 ? 0 : -1);
    }
    return -1;
}

static int is_version_reason(int reason) {
    return reason == SSL_R_UNSUPPORTED_PROTOCOL || reason == SSL_R_TLSV1_ALERT_PROTOCOL_VERSION ||
           reason == SSL_R_WRONG_VERSION_NUMBER || reason == SSL_R_NO_PROTOCOLS_AVAILABLE;
}

static int is_client_cert_reason(int reason) {
    return reason == SSL_R_TLSV13_ALERT_CERTIFICATE_REQUIRED || reason == SSL_R_SSLV3_ALERT_HANDSHAKE_FAILURE ||
           reason == SSL_R_SSLV3_ALERT_BAD_CERTIFICATE || reason == SSL_R_TLSV1_ALERT_UNKNOWN_CA ||
           reason == SSL_R_TLSV1_ALERT_ACCESS_DENIED;
}

/* the one-line reason of a failed handshake (verification, version, client certificate, alert) */
static void describe_tls_failure(ctx_tls_client_t *c, char *buf, size_t len) {
    long vr = SSL_get_verify_result(c->ssl);
    unsigned long e = ERR_peek_last_error();
    int reason = e ? ERR_GET_REASON(e) : 0;
    const char *rs = e ? ERR_reason_error_string(e) : NULL;
    if (reason == SSL_R_CERTIFICATE_VERIFY_FAILED && vr == X509_V_ERR_HOSTNAME_MISMATCH)
        snprintf(buf, len, "certificate verify failed: the server's certificate is not for \"%s\"", peer_name(c));
    else if (reason == SSL_R_CERTIFICATE_VERIFY_FAILED && vr != X509_V_OK)
        snprintf(buf, len, "certificate verify failed: %s", X509_verify_cert_error_string(vr));
    else if (is_version_reason(reason))
        snprintf(buf, len, "%s: the server offers no TLS version this client accepts (minimum TLS %s)",
                 rs ? rs : "protocol version", SSL_CTX_get_min_proto_version(c->ctx) == TLS1_3_VERSION ? "1.3" : "1.2");
    else if (is_client_cert_reason(reason) && c->cert_requested && !c->has_cert)
        snprintf(buf, len, "%s: the server requires a client certificate (mutual TLS) and none is configured",
                 rs ? rs : "alert");
    else if (is_client_cert_reason(reason) && c->cert_requested)
        snprintf(buf, len, "%s: the server refused this client's certificate", rs ? rs : "alert");
    else if (rs != NULL)
        snprintf(buf, len, "%s", rs);
    else
        snprintf(buf, len, "the server closed the connection during the handshake");
    ERR_clear_error();
}

static int tls_fail(ctx_tls_client_t *c, const char *what, char *err, size_t errlen) {
    char why[256];
    describe_tls_failure(c, why, sizeof why);
    ctx_errf(err, errlen, "TLS %s with %s failed: %s", what, c->where, why);
    c->failure = CTX_TLS_FAIL_TLS;
    return CTX_EIO;
}

static int tls_setup(ctx_tls_client_t *c, char *err, size_t errlen) {
    const char *name = peer_name(c);
    if ((c->ssl = SSL_new(c->ctx)) == NULL) return CTX_ENOMEM;
    SSL_set_app_data(c->ssl, c);
    if (SSL_set_fd(c->ssl, c->fd) != 1) return CTX_ENOMEM;
    int ip = ctx_inet_text(AF_UNSPEC, name, strlen(name));
    if (!ip) SSL_set_tlsext_host_name(c->ssl, name);
    if (c->verify_peer && c->verify_hostname) {
        int ok = ip ? X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(c->ssl), name) : SSL_set1_host(c->ssl, name);
        if (ok != 1) {
            ctx_errf(err, errlen, "TLS setup for %s failed: cannot check name \"%s\"", c->where, name);
            ERR_clear_error();
            return CTX_EINVAL;
        }
    }
    return 0;
}

/* verify_peer off but verify_hostname on: OpenSSL ignores all checks with SSL_VERIFY_NONE,
 * so the name is checked here */
static int check_name_only(ctx_tls_client_t *c, char *err, size_t errlen) {
    if (c->verify_peer || !c->verify_hostname) return 0;
    const char *name = peer_name(c);
    X509 *cert = SSL_get1_peer_certificate(c->ssl);
    int ok = 0;
    if (cert != NULL)
        ok = ctx_inet_text(AF_UNSPEC, name, strlen(name)) ? X509_check_ip_asc(cert, name, 0) == 1 : X509_check_host(cert, name, 0, 0, NULL) == 1;
    X509_free(cert);
    if (ok) return 0;
    ctx_errf(err, errlen, "TLS handshake with %s failed: certificate verify failed: the server's certificate is not for \"%s\"",
         c->where, name);
    c->failure = CTX_TLS_FAIL_TLS;
    return CTX_EIO;
}

/* TLS 1.3, certificate requested: the server judges our certificate after our side of
 * the handshake; wait for its first records (session tickets, or an alert) */
static int await_verdict(ctx_tls_client_t *c, char *err, size_t errlen) {
    if (!c->cert_requested || SSL_version(c->ssl) != TLS1_3_VERSION) return 0;
    uint64_t deadline = ctx_clock_ms() + (c->io_ms < 2000 ? c->io_ms : 2000);
    char scratch[256];
    for (;;) {
        int w = wait_fd(c->fd, POLLIN, deadline);
        if (w <= 0) return 0; /* nothing said: accepted (or the server sends no tickets) */
        int r = SSL_read(c->ssl, scratch, sizeof scratch);
        if (r > 0) continue;
        int e = SSL_get_error(c->ssl, r);
        if (e == SSL_ERROR_WANT_READ) {
            if (SSL_pending(c->ssl) == 0 && SSL_has_pending(c->ssl) == 0) return 0; /* tickets processed */
            continue;
        }
        return tls_fail(c, "handshake", err, errlen);
    }
}

static int tls_handshake(ctx_tls_client_t *c, uint64_t deadline, char *err, size_t errlen) {
    int rc = tls_setup(c, err, errlen);
    if (rc != 0) return rc;
    c->cert_requested = 0;
    ERR_clear_error();
    for (;;) {
        int r = SSL_connect(c->ssl);
        if (r == 1) break;
        int w = ssl_wait(c, r, deadline);
        if (w == 1) continue;
        if (w == 0) {
            ctx_errf(err, errlen, "TLS handshake with %s failed: timeout after %u ms", c->where, c->connect_ms);
            c->failure = CTX_TLS_FAIL_CONNECT;
            return CTX_EIO;
        }
        return tls_fail(c, "handshake", err, errlen);
    }
    rc = check_name_only(c, err, errlen);
    return rc != 0 ? rc : await_verdict(c, err, errlen);
}

/* ---------------------------------------------------------------- connection */

void ctx_tls_client_close(ctx_tls_client_t *c) {
    if (c == NULL) return;
    if (c->ssl != NULL) {
        SSL_shutdown(c->ssl); /* best effort, non-blocking: one close_notify */
        SSL_free(c->ssl);
        c->ssl = NULL;
    }
    if (c->fd >= 0) close(c->fd);
    c->fd = -1;
    ERR_clear_error();
}

int ctx_tls_client_connected(const ctx_tls_client_t *c) {
    return c != NULL && c->fd >= 0;
}

ctx_tls_failure_t ctx_tls_client_failure(const ctx_tls_client_t *c) {
    return c ? c->failure : CTX_TLS_FAIL_NONE;
}

const char *ctx_tls_client_protocol(const ctx_tls_client_t *c) {
    if (c == NULL || c->fd < 0) return "";
    return c->ssl ? SSL_get_version(c->ssl) : "tcp";
}

/* 1 if the open connection still looks usable: the server neither closed it nor sent
 * an alert (data it sends, e.g. TLS 1.3 session tickets, is consumed) */
static int probe_alive(ctx_tls_client_t *c) {
    char scratch[512];
    for (int i = 0; i < 64; i++) {
        struct pollfd p = {c->fd, POLLIN, 0};
        if (poll(&p, 1, 0) <= 0 || !(p.revents & (POLLIN | POLLHUP | POLLERR))) return 1;
        if (c->ssl == NULL) {
            ssize_t n = recv(c->fd, scratch, sizeof scratch, MSG_DONTWAIT);
            if (n > 0) continue;
            return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
        }
        int r = SSL_read(c->ssl, scratch, sizeof scratch);
        if (r > 0) continue;
        int e = SSL_get_error(c->ssl, r);
        ERR_clear_error();
        if (e != SSL_ERROR_WANT_READ) return 0;
        if (!(p.revents & (POLLHUP | POLLERR))) return 1;
    }
    return 1;
}

int ctx_tls_client_connect(ctx_tls_client_t *c, char *err, size_t errlen) {
    if (c == NULL) return CTX_EINVAL;
    if (c->fd >= 0 && probe_alive(c)) {
        c->failure = CTX_TLS_FAIL_NONE;
        return 0;
    }
    ctx_tls_client_close(c);
    uint64_t deadline = ctx_clock_ms() + c->connect_ms;
    c->failure = CTX_TLS_FAIL_CONNECT;
    int rc = tcp_connect(c, deadline, err, errlen);
    if (rc == 0 && !c->plaintext) rc = tls_handshake(c, deadline, err, errlen);
    if (rc != 0) {
        ctx_tls_client_close(c);
        return rc;
    }
    c->failure = CTX_TLS_FAIL_NONE;
    return 0;
}

/* ---------------------------------------------------------------- write */

static int write_plain(ctx_tls_client_t *c, const unsigned char *p, size_t len, uint64_t deadline) {
    while (len > 0) {
        ssize_t n = send(c->fd, p, len, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n > 0) {
            p += n;
            len -= (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            int w = wait_fd(c->fd, POLLOUT, deadline);
            if (w == 1) continue;
            errno = w == 0 ? ETIMEDOUT : errno;
        }
        return -1;
    }
    return 0;
}

static int write_tls(ctx_tls_client_t *c, const unsigned char *p, size_t len, uint64_t deadline) {
    while (len > 0) {
        int chunk = len > (1u << 30) ? (1 << 30) : (int)len;
        ERR_clear_error();
        int n = SSL_write(c->ssl, p, chunk);
        if (n > 0) {
            p += n;
            len -= (size_t)n;
            continue;
        }
        int w = ssl_wait(c, n, deadline);
        if (w == 1) continue;
        errno = w == 0 ? ETIMEDOUT : (errno ? errno : EPIPE);
        return -1;
    }
    return 0;
}

int ctx_tls_client_send(ctx_tls_client_t *c, const void *buf, size_t len, char *err, size_t errlen) {
    if (c == NULL || (buf == NULL && len > 0)) return CTX_EINVAL;
    int rc = ctx_tls_client_connect(c, err, errlen);
    if (rc != 0) return rc;
    uint64_t deadline = ctx_clock_ms() + c->io_ms;
    int w = c->ssl ? write_tls(c, buf, len, deadline) : write_plain(c, buf, len, deadline);
    if (w != 0) {
        int saved = errno;
        char why[160];
        if (c->ssl != NULL && ERR_peek_last_error() != 0)
            ssl_reason(why, sizeof why, "error");
        else
            snprintf(why, sizeof why, "%s", strerror(saved));
        ctx_errf(err, errlen, "write to %s failed: %s", c->where, why);
        ctx_tls_client_close(c);
        c->failure = CTX_TLS_FAIL_IO;
        return CTX_EIO;
    }
    c->failure = CTX_TLS_FAIL_NONE;
    return 0;
}
