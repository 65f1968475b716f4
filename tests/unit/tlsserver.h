/* tlsserver.h: helpers for the transport unit tests (test_tls_client.c,
 * test_https_post.c): certificates made with the OpenSSL API into a temporary
 * directory, and a one-thread TLS (or plain TCP) server on 127.0.0.1 that records
 * what it receives, optionally speaking just enough HTTP/1.1 to answer POSTs.
 *
 * Concurrency: the server runs in its own thread; the test reads its results after
 * srv_stop() (which joins it).
 */
#ifndef CTXLOG_TLSSERVER_H
#define CTXLOG_TLSSERVER_H

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

/* ---------------------------------------------------------------- certificates */

typedef struct {
    X509 *cert;
    EVP_PKEY *key;
} tt_id_t;

static void tt_ext(X509 *c, X509 *issuer, int nid, const char *value) {
    X509V3_CTX v;
    X509V3_set_ctx(&v, issuer ? issuer : c, c, NULL, NULL, 0);
    X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, &v, nid, value);
    if (e == NULL) abort();
    X509_add_ext(c, e, -1);
    X509_EXTENSION_free(e);
}

/* a certificate for cn (san: "DNS:x,IP:y" or NULL), valid from..to days relative to
 * now, signed by issuer (NULL: self-signed) */
static tt_id_t tt_make(const char *cn, const char *san, const tt_id_t *issuer, long from_days, long to_days,
                       int is_ca) {
    static long serial = 1;
    tt_id_t id;
    id.key = EVP_EC_gen("P-256");
    id.cert = X509_new();
    if (id.key == NULL || id.cert == NULL) abort();
    X509_set_version(id.cert, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(id.cert), serial++);
    X509_gmtime_adj(X509_getm_notBefore(id.cert), from_days * 86400L);
    X509_gmtime_adj(X509_getm_notAfter(id.cert), to_days * 86400L);
    X509_set_pubkey(id.cert, id.key);
    X509_NAME *n = X509_get_subject_name(id.cert);
    X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
    X509_set_issuer_name(id.cert, issuer ? X509_get_subject_name(issuer->cert) : n);
    X509 *icert = issuer ? issuer->cert : id.cert;
    tt_ext(id.cert, icert, NID_basic_constraints, is_ca ? "critical,CA:TRUE" : "CA:FALSE");
    tt_ext(id.cert, icert, NID_key_usage, is_ca ? "critical,keyCertSign,cRLSign" : "digitalSignature");
    tt_ext(id.cert, icert, NID_subject_key_identifier, "hash");
    if (issuer) tt_ext(id.cert, icert, NID_authority_key_identifier, "keyid");
    if (san) tt_ext(id.cert, icert, NID_subject_alt_name, san);
    if (X509_sign(id.cert, issuer ? issuer->key : id.key, EVP_sha256()) == 0) abort();
    return id;
}

static void tt_free(tt_id_t *id) {
    X509_free(id->cert);
    EVP_PKEY_free(id->key);
}

static void tt_write(const char *dir, const char *name, const tt_id_t *id, char *certpath, char *keypath) {
    char p[512];
    snprintf(p, sizeof p, "%s/%s.pem", dir, name);
    FILE *f = fopen(p, "w");
    PEM_write_X509(f, id->cert);
    fclose(f);
    if (certpath) strcpy(certpath, p);
    snprintf(p, sizeof p, "%s/%s.key", dir, name);
    f = fopen(p, "w");
    PEM_write_PrivateKey(f, id->key, NULL, NULL, 0, NULL, NULL);
    fclose(f);
    if (keypath) strcpy(keypath, p);
}

/* The identities the TLS client tests use (test_tls_client.c, test_https_post.c): a CA,
 * another CA, servers for localhost (good, expired, signed by the other CA) and for
 * another name, and a client; the CA and the client written as PEM files. */
typedef struct {
    tt_id_t ca, evil_ca, srv, srv_other, srv_expired, srv_evil, client;
    char dir[256], ca_pem[512], client_pem[512], client_key[512];
} tt_pki_t;

/* makes them, in a new directory /tmp/NAME.XXXXXX; 0 or -1 */
static int tt_pki_make(tt_pki_t *p, const char *name) {
    snprintf(p->dir, sizeof p->dir, "/tmp/%s.XXXXXX", name);
    if (mkdtemp(p->dir) == NULL) return -1;
    p->ca = tt_make("Test CA", NULL, NULL, -1, 365, 1);
    p->evil_ca = tt_make("Evil CA", NULL, NULL, -1, 365, 1);
    p->srv = tt_make("localhost", "DNS:localhost,IP:127.0.0.1", &p->ca, -1, 30, 0);
    p->srv_other = tt_make("other.example", "DNS:other.example", &p->ca, -1, 30, 0);
    p->srv_expired = tt_make("localhost", "DNS:localhost,IP:127.0.0.1", &p->ca, -30, -1, 0);
    p->srv_evil = tt_make("localhost", "DNS:localhost,IP:127.0.0.1", &p->evil_ca, -1, 30, 0);
    p->client = tt_make("ctxlog-client", NULL, &p->ca, -1, 30, 0);
    tt_write(p->dir, "ca", &p->ca, p->ca_pem, NULL);
    tt_write(p->dir, "client", &p->client, p->client_pem, p->client_key);
    return 0;
}

/* frees them and removes the directory; 0 or -1 */
static int tt_pki_free(tt_pki_t *p) {
    tt_id_t *all[] = {&p->ca, &p->evil_ca, &p->srv, &p->srv_other, &p->srv_expired, &p->srv_evil, &p->client};
    for (size_t i = 0; i < sizeof all / sizeof *all; i++) tt_free(all[i]);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", p->dir);
    return system(cmd) == 0 ? 0 : -1;
}

/* ---------------------------------------------------------------- server */

typedef struct {
    SSL_CTX *ctx;          /* NULL: plain TCP */
    int http;              /* answer each request (headers + Content-Length body) */
    int status;            /* HTTP status to answer */
    const char *extra;     /* extra response header lines ("Retry-After: 3\r\n"), or NULL */
    const char *resp_body; /* response body, or NULL */
    int max_conns;         /* accept this many connections, then stop */
    int close_after;       /* plain/TLS: close each connection after this many bytes (0: at EOF) */
    int lfd, port;
    pthread_t thr;
    /* results */
    char buf[1 << 16];     /* everything received (requests, headers included), connections concatenated */
    size_t len;
    int conns, handshakes_ok, handshakes_failed, requests;
    int closed;            /* connections the server has closed (atomic: read it with tt_srv_wait_closed) */
} tt_srv_t;

static int tt_read(SSL *ssl, int fd, char *b, int n) {
    return ssl ? SSL_read(ssl, b, n) : (int)read(fd, b, (size_t)n);
}

static void tt_write_all(SSL *ssl, int fd, const char *b, size_t n) {
    if (ssl) {
        SSL_write(ssl, b, (int)n);
    } else if (write(fd, b, n) < 0) {
        perror("tt_write_all");
    }
}

/* answers every complete request found in buf[start..len) */
static void tt_http_answer(tt_srv_t *s, SSL *ssl, int fd, size_t *start) {
    for (;;) {
        char *hdr_end = memmem(s->buf + *start, s->len - *start, "\r\n\r\n", 4);
        if (hdr_end == NULL) return;
        size_t hlen = (size_t)(hdr_end + 4 - (s->buf + *start));
        char *cl = strcasestr(s->buf + *start, "content-length:");
        size_t blen = (cl && cl < hdr_end) ? strtoul(cl + 15, NULL, 10) : 0;
        if (*start + hlen + blen > s->len) return;
        *start += hlen + blen;
        s->requests++;
        char resp[1024];
        const char *body = s->resp_body ? s->resp_body : "";
        int n = snprintf(resp, sizeof resp, "HTTP/1.1 %d X\r\nContent-Length: %zu\r\n%s\r\n%s", s->status, strlen(body),
                         s->extra ? s->extra : "", body);
        tt_write_all(ssl, fd, resp, (size_t)n);
    }
}

static void tt_serve(tt_srv_t *s, SSL *ssl, int fd) {
    size_t start = s->len, conn_start = s->len;
    for (;;) {
        char tmp[4096];
        int n = tt_read(ssl, fd, tmp, sizeof tmp);
        if (n <= 0) return;
        if (s->len + (size_t)n > sizeof s->buf) n = (int)(sizeof s->buf - s->len);
        memcpy(s->buf + s->len, tmp, (size_t)n);
        s->len += (size_t)n;
        if (s->http) tt_http_answer(s, ssl, fd, &start);
        if (s->close_after && s->len - conn_start >= (size_t)s->close_after) return;
    }
}

static void *tt_srv_main(void *arg) {
    tt_srv_t *s = arg;
    while (s->conns < s->max_conns) {
        struct pollfd p = {s->lfd, POLLIN, 0};
        if (poll(&p, 1, 10000) <= 0) break;
        int fd = accept(s->lfd, NULL, NULL);
        if (fd < 0) break;
        s->conns++;
        SSL *ssl = NULL;
        if (s->ctx) {
            ssl = SSL_new(s->ctx);
            SSL_set_fd(ssl, fd);
            if (SSL_accept(ssl) != 1) {
                s->handshakes_failed++;
                ERR_clear_error();
                SSL_free(ssl);
                close(fd);
                continue;
            }
            s->handshakes_ok++;
        }
        tt_serve(s, ssl, fd);
        if (ssl) {
            SSL_shutdown(ssl);
            SSL_free(ssl);
        }
        ERR_clear_error();
        close(fd);
        __atomic_add_fetch(&s->closed, 1, __ATOMIC_RELEASE);
    }
    return NULL;
}

/* until the server has closed n connections (its close_notify and FIN are then queued
 * to the client), at most timeout_ms; 1 if it has */
static __attribute__((unused)) int tt_srv_wait_closed(tt_srv_t *s, int n, int timeout_ms) {
    struct timespec t0, t;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    while (__atomic_load_n(&s->closed, __ATOMIC_ACQUIRE) < n) {
        clock_gettime(CLOCK_MONOTONIC, &t);
        if ((t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000 > timeout_ms) return 0;
        struct pollfd none;
        poll(&none, 0, 5); /* a condition polled, not a fixed delay */
    }
    return 1;
}

/* listens on 127.0.0.1 (a free port), serves max_conns connections in a thread */
static void tt_srv_start(tt_srv_t *s) {
    struct sockaddr_in a = {0};
    socklen_t al = sizeof a;
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    s->lfd = socket(AF_INET, SOCK_STREAM, 0);
    if (s->lfd < 0 || bind(s->lfd, (struct sockaddr *)&a, sizeof a) != 0 || listen(s->lfd, 8) != 0) abort();
    getsockname(s->lfd, (struct sockaddr *)&a, &al);
    s->port = ntohs(a.sin_port);
    if (s->max_conns == 0) s->max_conns = 1;
    if (s->status == 0) s->status = 200;
    pthread_create(&s->thr, NULL, tt_srv_main, s);
}

static void tt_srv_stop(tt_srv_t *s) {
    pthread_join(s->thr, NULL);
    close(s->lfd);
    s->buf[s->len < sizeof s->buf ? s->len : sizeof s->buf - 1] = '\0';
}

/* a server context with cert/key; client_ca: require a client certificate from it */
static SSL_CTX *tt_server_ctx(const tt_id_t *id, const tt_id_t *chain, const tt_id_t *client_ca, int min_v, int max_v) {
    SSL_CTX *c = SSL_CTX_new(TLS_server_method());
    SSL_CTX_use_certificate(c, id->cert);
    SSL_CTX_use_PrivateKey(c, id->key);
    if (chain) SSL_CTX_add1_chain_cert(c, chain->cert);
    if (min_v) SSL_CTX_set_min_proto_version(c, min_v);
    if (max_v) SSL_CTX_set_max_proto_version(c, max_v);
    if (min_v && min_v < TLS1_2_VERSION) SSL_CTX_set_cipher_list(c, "DEFAULT:@SECLEVEL=0");
    if (client_ca) {
        X509_STORE_add_cert(SSL_CTX_get_cert_store(c), client_ca->cert);
        SSL_CTX_set_verify(c, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
    }
    return c;
}

#endif
