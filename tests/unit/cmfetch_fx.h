/* cmfetch_fx.h: the fixture of the cmfetch tests (test_cmfetch.c, test_cmfetch_limits.c):
 * a tiny HTTP server running in the test process (a thread on 127.0.0.1, port 0) that records
 * each request's path, Authorization and time, and the module side (a cache, the fetcher, its
 * reply callback and log). The VM id in the path picks the server's answer:
 *   ok*   200 JSON         slow* 200 after 300 ms    hang* never answers
 *   nf*   404              busy* 429 + Retry-After 2 err*  500
 *   garbage* / html* / scalar* / trail* / empty*   200 with a body that is not a JSON object
 *   huge*  2 MB with Content-Length      hugechunk* 2 MB chunked (no length)
 *   trunc* Content-Length 100, 8 bytes, close     cut* close-delimited, half a JSON
 *   reject* 200 {"reject":true}: the test callback returns -1
 * and /bulk answers {"vms":[{"uuid":"b1"},{"uuid":"b2"}]}.
 * Include after cmocka.h, check.h, cmcache.h, cmfetch.h and ctxlog_common.h. */
#ifndef CTXLOG_TESTS_CMFETCH_FX_H
#define CTXLOG_TESTS_CMFETCH_FX_H

#include <arpa/inet.h>
#include <json.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

/* ---- the test server --------------------------------------------------------------- */
#define MAXCONN 256
struct srv {
    int lfd, port;
    atomic_bool stop;
    pthread_t acceptor;
    pthread_mutex_t mu;
    pthread_t handlers[MAXCONN];
    int nconn;                /* guarded by mu, as are the fields below */
    int active, max_active;
    char path[MAXCONN][512];
    char auth[MAXCONN][256];
    int64_t at[MAXCONN];      /* cmcache_clock_ms() of each request */
};

struct conn {
    struct srv *s;
    int fd;
    int idx; /* slot of this connection in path / auth / at */
};

static void sleep_ms(int ms) { poll(NULL, 0, ms); }

static inline void send_all(int fd, const char *p, size_t n) {
    while (n > 0) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w <= 0) return;
        p += w;
        n -= (size_t)w;
    }
}

static inline void reply(int fd, int code, const char *extra, const char *body) {
    char head[512];
    int n = snprintf(head, sizeof head, "HTTP/1.1 %d X\r\nContent-Type: application/json\r\n%sContent-Length: %zu\r\n"
                     "Connection: close\r\n\r\n", code, extra, strlen(body));
    send_all(fd, head, (size_t)n);
    send_all(fd, body, strlen(body));
}

static inline void reply_huge(int fd, int chunked) {
    size_t total = 2 << 20, chunk = 65536;
    char *buf = malloc(chunk);
    memset(buf, ' ', chunk);
    buf[0] = '[';
    char head[256];
    int n = chunked ? snprintf(head, sizeof head, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
                    : snprintf(head, sizeof head, "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\n\r\n", total);
    send_all(fd, head, (size_t)n);
    for (size_t sent = 0; sent < total; sent += chunk) {
        if (chunked) {
            n = snprintf(head, sizeof head, "%zx\r\n", chunk);
            send_all(fd, head, (size_t)n);
        }
        send_all(fd, buf, chunk);
        if (chunked) send_all(fd, "\r\n", 2);
        buf[0] = ' ';
    }
    if (chunked) send_all(fd, "0\r\n\r\n", 5);
    free(buf);
}

/* Waits up to ms for stop; returns 1 if stopping. */
static inline int wait_stop(struct srv *s, int ms) {
    for (int i = 0; i < ms / 10; i++) {
        if (atomic_load(&s->stop)) return 1;
        sleep_ms(10);
    }
    return atomic_load(&s->stop);
}

static inline void answer(struct srv *s, int fd, const char *path) {
    char body[1024], id[256];
    snprintf(id, sizeof id, "%.*s", (int)strcspn(strrchr(path, '/') + 1, "?"), strrchr(path, '/') + 1);
    if (strncmp(path, "/bulk", 5) == 0) return reply(fd, 200, "", "{\"vms\":[{\"uuid\":\"b1\"},{\"uuid\":\"b2\"}]}");
    if (strncmp(id, "slow", 4) == 0 && wait_stop(s, 300)) return;
    if (strncmp(id, "hang", 4) == 0) {
        while (!wait_stop(s, 1000)) {}
        return;
    }
    if (strncmp(id, "nf", 2) == 0) return reply(fd, 404, "", "{\"error\":\"not found\"}");
    if (strncmp(id, "busy", 4) == 0) return reply(fd, 429, "Retry-After: 2\r\n", "{}");
    if (strncmp(id, "err", 3) == 0) return reply(fd, 500, "", "{\"error\":\"boom\"}");
    if (strncmp(id, "garbage", 7) == 0) return reply(fd, 200, "", "xx}{garbage");
    if (strncmp(id, "html", 4) == 0) return reply(fd, 200, "", "<html><body>Login</body></html>");
    if (strncmp(id, "scalar", 6) == 0) return reply(fd, 200, "", "42 ");
    if (strncmp(id, "trail", 5) == 0) return reply(fd, 200, "", "{\"a\":1} x");
    if (strncmp(id, "empty", 5) == 0) return reply(fd, 200, "", "");
    if (strncmp(id, "reject", 6) == 0) return reply(fd, 200, "", "{\"reject\":true}");
    if (strncmp(id, "hugechunk", 9) == 0) return reply_huge(fd, 1);
    if (strncmp(id, "huge", 4) == 0) return reply_huge(fd, 0);
    if (strncmp(id, "trunc", 5) == 0) {
        const char *r = "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{\"a\":1,\"";
        return send_all(fd, r, strlen(r));
    }
    if (strncmp(id, "cut", 3) == 0) {
        const char *r = "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n{\"a\":[1,2";
        return send_all(fd, r, strlen(r));
    }
    snprintf(body, sizeof body, "{\"id\":\"%.64s\",\"n\":7}", id);
    reply(fd, 200, "", body);
}

/* Reads the request head; records path and Authorization in slot idx. */
static inline int read_request(struct srv *s, int fd, int idx) {
    char buf[4096] = "";
    size_t len = 0;
    while (len < sizeof buf - 1 && strstr(buf, "\r\n\r\n") == NULL) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (atomic_load(&s->stop)) return -1;
        if (poll(&p, 1, 50) <= 0) continue;
        ssize_t n = recv(fd, buf + len, sizeof buf - 1 - len, 0);
        if (n <= 0) return -1;
        len += (size_t)n;
        buf[len] = '\0';
    }
    char path[512] = "", auth[256] = "";
    if (sscanf(buf, "GET %511s", path) != 1 || path[0] != '/') return -1;
    for (char *l = strstr(buf, "\r\n"); l != NULL; l = strstr(l + 2, "\r\n"))
        if (strncasecmp(l + 2, "Authorization: ", 15) == 0) sscanf(l + 17, "%255[^\r]", auth);
    pthread_mutex_lock(&s->mu);
    snprintf(s->path[idx], sizeof s->path[idx], "%s", path);
    snprintf(s->auth[idx], sizeof s->auth[idx], "%s", auth);
    s->at[idx] = cmcache_clock_ms();
    pthread_mutex_unlock(&s->mu);
    return idx;
}

static inline void *handle(void *arg) {
    struct conn *c = arg;
    struct srv *s = c->s;
    int slot = read_request(s, c->fd, c->idx);
    if (slot >= 0) {
        pthread_mutex_lock(&s->mu);
        if (++s->active > s->max_active) s->max_active = s->active;
        pthread_mutex_unlock(&s->mu);
        answer(s, c->fd, s->path[slot]);
        pthread_mutex_lock(&s->mu);
        s->active--;
        pthread_mutex_unlock(&s->mu);
    }
    close(c->fd);
    free(c);
    return NULL;
}

static inline void *accept_loop(void *arg) {
    struct srv *s = arg;
    while (!atomic_load(&s->stop)) {
        struct pollfd p = {.fd = s->lfd, .events = POLLIN};
        if (poll(&p, 1, 20) <= 0) continue;
        int fd = accept(s->lfd, NULL, NULL);
        if (fd < 0) continue;
        struct conn *c = malloc(sizeof *c);
        c->s = s;
        c->fd = fd;
        pthread_mutex_lock(&s->mu);
        int i = s->nconn < MAXCONN ? s->nconn++ : -1;
        if (i >= 0) s->path[i][0] = '\0';
        pthread_mutex_unlock(&s->mu);
        c->idx = i;
        if (i < 0 || pthread_create(&s->handlers[i], NULL, handle, c) != 0) {
            close(fd);
            free(c);
        }
    }
    return NULL;
}

static inline struct srv *srv_start(void) {
    struct srv *s = calloc(1, sizeof *s);
    pthread_mutex_init(&s->mu, NULL);
    s->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t al = sizeof a;
    assert_int_equal(bind(s->lfd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(s->lfd, 64), 0);
    getsockname(s->lfd, (struct sockaddr *)&a, &al);
    s->port = ntohs(a.sin_port);
    assert_int_equal(pthread_create(&s->acceptor, NULL, accept_loop, s), 0);
    return s;
}

static inline void srv_stop(struct srv *s) {
    atomic_store(&s->stop, true);
    pthread_join(s->acceptor, NULL);
    for (int i = 0; i < s->nconn; i++) pthread_join(s->handlers[i], NULL);
    close(s->lfd);
    pthread_mutex_destroy(&s->mu);
    free(s);
}

static inline int srv_count(struct srv *s) {
    pthread_mutex_lock(&s->mu);
    int n = 0;
    for (int i = 0; i < s->nconn; i++) n += s->path[i][0] != '\0';
    pthread_mutex_unlock(&s->mu);
    return n;
}

/* Copies request i's record (under the lock: handlers write it). */
struct seen {
    char path[512], auth[256];
    int64_t at;
};
static inline struct seen srv_seen(struct srv *s, int i) {
    struct seen r;
    pthread_mutex_lock(&s->mu);
    memcpy(r.path, s->path[i], sizeof r.path);
    memcpy(r.auth, s->auth[i], sizeof r.auth);
    r.at = s->at[i];
    pthread_mutex_unlock(&s->mu);
    return r;
}

static inline int srv_max_active(struct srv *s) {
    pthread_mutex_lock(&s->mu);
    int n = s->max_active;
    pthread_mutex_unlock(&s->mu);
    return n;
}

/* ---- the module side: callback, log, helpers ---------------------------------------- */
struct env {
    struct srv *srv;
    cmcache_t *cache;
    cmfetch_t *f;
    pthread_mutex_t mu;
    int nlog;
    char log[64][CTX_ERRLEN + 64];
};

static inline int on_reply(void *arg, const cm_request_t *req, struct fjson_object *reply_obj, int64_t now) {
    struct env *e = arg;
    struct fjson_object *v;
    if (req->kind == CM_REQ_BULK) {
        if (!fjson_object_object_get_ex(reply_obj, "vms", &v)) return -1;
        for (int i = 0; i < fjson_object_array_length(v); i++) {
            struct fjson_object *vm = fjson_object_array_get_idx(v, i), *u;
            if (!fjson_object_object_get_ex(vm, "uuid", &u)) return -1;
            cmcache_store(e->cache, fjson_object_get_string(u), NULL, CM_PART_STATIC,
                          cmctx_new(fjson_object_get(vm)), 0, now);
        }
        return 0;
    }
    if (fjson_object_object_get_ex(reply_obj, "reject", &v)) return -1;
    return cmcache_store(e->cache, req->uuid, req->name, (cm_part_t)req->kind, cmctx_new(fjson_object_get(reply_obj)),
                         0, now);
}

static inline void on_log(void *arg, const char *line) {
    struct env *e = arg;
    pthread_mutex_lock(&e->mu);
    if (e->nlog < 64) snprintf(e->log[e->nlog++], sizeof e->log[0], "%s", line);
    pthread_mutex_unlock(&e->mu);
}

static inline cmfetch_conf_t base_conf(const struct srv *s, char *url, size_t urllen) {
    cmfetch_conf_t c;
    cmfetch_conf_defaults(&c);
    snprintf(url, urllen, "http://127.0.0.1:%d/vm/{uuid}?name={name}", s->port);
    c.url = url;
    c.allow_insecure = 1; /* the test server is plain HTTP on loopback */
    c.rate_per_sec = 1000;
    c.burst = 100;
    c.log_interval_ms = 0;
    return c;
}

static inline void env_start(struct env *e, const cmfetch_conf_t *fc) {
    cmcache_conf_t cc;
    cmcache_conf_defaults(&cc);
    char err[CTX_ERRLEN] = "";
    assert_int_equal(cmcache_new(&e->cache, &cc, err, sizeof err), 0);
    pthread_mutex_init(&e->mu, NULL);
    int rc = cmfetch_new(&e->f, fc, e->cache, on_reply, on_log, e, err, sizeof err);
    if (rc != 0) fail_msg("cmfetch_new: %s", err);
    assert_int_equal(cmfetch_start(e->f), 0);
    assert_int_equal(cmfetch_start(e->f), CTX_EINVAL);
}

static inline void env_stop(struct env *e) {
    cmfetch_free(e->f);
    if (e->srv) srv_stop(e->srv);
    cmcache_free(e->cache);
    pthread_mutex_destroy(&e->mu);
}

static inline uint64_t completed(cmfetch_t *f) {
    cmfetch_stats_t s;
    cmfetch_get_stats(f, &s);
    return s.ok + s.errors + s.timeouts;
}

/* Waits (max 10 s) until n requests have completed. */
static inline void wait_completed(cmfetch_t *f, uint64_t n) {
    for (int i = 0; i < 2000 && completed(f) < n; i++) sleep_ms(5);
    assert_int_equal(completed(f), n);
}

static inline cm_status_t look(struct env *e, const char *uuid, const char *name, unsigned mask) {
    cmcache_result_t r;
    assert_int_equal(cmcache_lookup(e->cache, uuid, name, mask, cmcache_clock_ms(), &r), 0);
    cm_status_t st = r.status;
    cmcache_result_release(&r);
    return st;
}

#endif
