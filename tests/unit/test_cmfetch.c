/* Unit tests of common/context/cmfetch.c against a tiny HTTP server running in this process
 * (a thread on 127.0.0.1, port 0). The VM id in the path picks the server's answer:
 *   ok*   200 JSON         slow* 200 after 300 ms    hang* never answers
 *   nf*   404              busy* 429 + Retry-After 2 err*  500
 *   garbage* / html* / scalar* / trail* / empty*   200 with a body that is not a JSON object
 *   huge*  2 MB with Content-Length      hugechunk* 2 MB chunked (no length)
 *   trunc* Content-Length 100, 8 bytes, close     cut* close-delimited, half a JSON
 *   reject* 200 {"reject":true}: the test callback returns -1
 * and /bulk answers {"vms":[{"uuid":"b1"},{"uuid":"b2"}]}. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "check.h"
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

#include "cmcache.h"
#include "cmfetch.h"
#include "ctxlog_common.h"

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

static void send_all(int fd, const char *p, size_t n) {
    while (n > 0) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w <= 0) return;
        p += w;
        n -= (size_t)w;
    }
}

static void reply(int fd, int code, const char *extra, const char *body) {
    char head[512];
    int n = snprintf(head, sizeof head, "HTTP/1.1 %d X\r\nContent-Type: application/json\r\n%sContent-Length: %zu\r\n"
                     "Connection: close\r\n\r\n", code, extra, strlen(body));
    send_all(fd, head, (size_t)n);
    send_all(fd, body, strlen(body));
}

static void reply_huge(int fd, int chunked) {
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
static int wait_stop(struct srv *s, int ms) {
    for (int i = 0; i < ms / 10; i++) {
        if (atomic_load(&s->stop)) return 1;
        sleep_ms(10);
    }
    return atomic_load(&s->stop);
}

static void answer(struct srv *s, int fd, const char *path) {
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
static int read_request(struct srv *s, int fd, int idx) {
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

static void *handle(void *arg) {
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

static void *accept_loop(void *arg) {
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

static struct srv *srv_start(void) {
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

static void srv_stop(struct srv *s) {
    atomic_store(&s->stop, true);
    pthread_join(s->acceptor, NULL);
    for (int i = 0; i < s->nconn; i++) pthread_join(s->handlers[i], NULL);
    close(s->lfd);
    pthread_mutex_destroy(&s->mu);
    free(s);
}

static int srv_count(struct srv *s) {
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
static struct seen srv_seen(struct srv *s, int i) {
    struct seen r;
    pthread_mutex_lock(&s->mu);
    memcpy(r.path, s->path[i], sizeof r.path);
    memcpy(r.auth, s->auth[i], sizeof r.auth);
    r.at = s->at[i];
    pthread_mutex_unlock(&s->mu);
    return r;
}

static int srv_max_active(struct srv *s) {
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

static int on_reply(void *arg, const cm_request_t *req, struct fjson_object *reply_obj, int64_t now) {
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

static void on_log(void *arg, const char *line) {
    struct env *e = arg;
    pthread_mutex_lock(&e->mu);
    if (e->nlog < 64) snprintf(e->log[e->nlog++], sizeof e->log[0], "%s", line);
    pthread_mutex_unlock(&e->mu);
}

static cmfetch_conf_t base_conf(const struct srv *s, char *url, size_t urllen) {
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

static void env_start(struct env *e, const cmfetch_conf_t *fc) {
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

static void env_stop(struct env *e) {
    cmfetch_free(e->f);
    if (e->srv) srv_stop(e->srv);
    cmcache_free(e->cache);
    pthread_mutex_destroy(&e->mu);
}

static uint64_t completed(cmfetch_t *f) {
    cmfetch_stats_t s;
    cmfetch_get_stats(f, &s);
    return s.ok + s.errors + s.timeouts;
}

/* Waits (max 10 s) until n requests have completed. */
static void wait_completed(cmfetch_t *f, uint64_t n) {
    for (int i = 0; i < 2000 && completed(f) < n; i++) sleep_ms(5);
    assert_int_equal(completed(f), n);
}

static cm_status_t look(struct env *e, const char *uuid, const char *name, unsigned mask) {
    cmcache_result_t r;
    assert_int_equal(cmcache_lookup(e->cache, uuid, name, mask, cmcache_clock_ms(), &r), 0);
    cm_status_t st = r.status;
    cmcache_result_release(&r);
    return st;
}

/* ---- tests ---------------------------------------------------------------------------- */

static void fetches_once_and_stores(void **state) {
    (void)state;
    struct env e = {.srv = srv_start()};
    char url[256], tokpath[] = "/tmp/cmfetch_tokXXXXXX";
    int tfd = mkstemp(tokpath);
    ASSERT_GE(tfd, 0);
    assert_int_equal(write(tfd, "  tok123\t\nsecond line\n", 22), 22);
    close(tfd);
    cmfetch_conf_t fc = base_conf(e.srv, url, sizeof url);
    fc.token_file = tokpath;
    env_start(&e, &fc);
    unlink(tokpath);
    for (int i = 0; i < 20; i++) assert_int_equal(look(&e, "slow-1", "web 01/a", CM_MASK_STATIC), CM_PENDING);
    wait_completed(e.f, 1);
    cmcache_result_t r;
    assert_int_equal(cmcache_lookup(e.cache, "slow-1", "web 01/a", CM_MASK_STATIC, cmcache_clock_ms(), &r), 0);
    assert_int_equal(r.status, CM_OK);
    struct fjson_object *j = cmctx_to_json(r.ctx[CM_PART_STATIC]);
    assert_string_equal(fjson_object_to_json_string_ext(j, FJSON_TO_STRING_PLAIN), "{\"id\":\"slow-1\",\"n\":7}");
    fjson_object_put(j);
    cmcache_result_release(&r);
    assert_int_equal(srv_count(e.srv), 1);
    assert_string_equal(srv_seen(e.srv, 0).path, "/vm/slow-1?name=web%2001%2Fa");
    assert_string_equal(srv_seen(e.srv, 0).auth, "Bearer tok123");
    cmfetch_stats_t s;
    cmfetch_get_stats(e.f, &s);
    assert_int_equal(s.requests, 1);
    assert_int_equal(s.ok, 1);
    assert_int_equal(s.errors, 0);
    assert_int_equal(s.bytes, strlen("{\"id\":\"slow-1\",\"n\":7}"));
    assert_int_equal(s.inflight, 0);
    assert_int_equal(e.nlog, 0);
    env_stop(&e);
}

struct bad_case {
    const char *uuid;
    size_t counter; /* offsetof in cmfetch_stats_t */
    const char *log;
};

static void bad_replies_are_counted_and_cached_negatively(void **state) {
    (void)state;
    struct env e = {.srv = srv_start()};
    char url[256], expect[512];
    cmfetch_conf_t fc = base_conf(e.srv, url, sizeof url);
    fc.max_body = 1 << 20;
    env_start(&e, &fc);
    const struct bad_case cases[] = {
        {"nf-1", offsetof(cmfetch_stats_t, http_errors), "HTTP 404"},
        {"err-1", offsetof(cmfetch_stats_t, http_errors), "HTTP 500"},
        {"garbage-1", offsetof(cmfetch_stats_t, parse_errors), "not JSON (11 bytes)"},
        {"html-1", offsetof(cmfetch_stats_t, parse_errors), "not JSON (31 bytes)"},
        {"scalar-1", offsetof(cmfetch_stats_t, parse_errors), "JSON is not an object or array (3 bytes)"},
        {"cut-1", offsetof(cmfetch_stats_t, parse_errors), "truncated JSON (9 bytes)"},
        {"trail-1", offsetof(cmfetch_stats_t, parse_errors), "trailing data after the JSON value (9 bytes)"},
        {"empty-1", offsetof(cmfetch_stats_t, parse_errors), "empty body (0 bytes)"},
        {"trunc-1", offsetof(cmfetch_stats_t, transport_errors), "Transferred a partial file"},
        {"huge-1", offsetof(cmfetch_stats_t, too_big), "response larger than cm.maxResponseBytes=1048576"},
        {"hugechunk-1", offsetof(cmfetch_stats_t, too_big), "response larger than cm.maxResponseBytes=1048576"},
        {"reject-1", offsetof(cmfetch_stats_t, reply_rejected), "reply rejected by the field mapping"},
    };
    size_t n = sizeof cases / sizeof cases[0];
    for (size_t i = 0; i < n; i++) {
        cmfetch_stats_t before, after;
        cmfetch_get_stats(e.f, &before);
        assert_int_equal(look(&e, cases[i].uuid, NULL, CM_MASK_STATIC), CM_PENDING);
        wait_completed(e.f, i + 1);
        cmfetch_get_stats(e.f, &after);
        assert_int_equal(*(uint64_t *)((char *)&after + cases[i].counter),
                         *(uint64_t *)((char *)&before + cases[i].counter) + 1);
        assert_int_equal(after.errors, before.errors + 1);
        assert_int_equal(after.ok, 0);
        assert_int_equal(look(&e, cases[i].uuid, NULL, CM_MASK_STATIC), CM_UNAVAILABLE);
        snprintf(expect, sizeof expect, "cm request http://127.0.0.1:%d/vm/%s?name= failed: %s", e.srv->port,
                 cases[i].uuid, cases[i].log);
        pthread_mutex_lock(&e.mu);
        assert_int_equal(e.nlog, (int)i + 1);
        assert_string_equal(e.log[i], expect);
        pthread_mutex_unlock(&e.mu);
    }
    cmfetch_stats_t s;
    cmfetch_get_stats(e.f, &s);
    assert_int_equal(s.requests, n);
    assert_int_equal(s.errors, n);
    assert_int_equal(s.timeouts, 0);
    assert_int_equal(srv_count(e.srv), (int)n); /* backoff: nothing retried yet */
    cmcache_stats_t cs;
    cmcache_get_stats(e.cache, &cs);
    assert_int_equal(cs.failures, n);
    env_stop(&e);
}

static void throttle_holds_all_requests(void **state) {
    (void)state;
    struct env e = {.srv = srv_start()};
    char url[256];
    cmfetch_conf_t fc = base_conf(e.srv, url, sizeof url);
    env_start(&e, &fc);
    assert_int_equal(look(&e, "busy-1", NULL, CM_MASK_STATIC), CM_PENDING);
    wait_completed(e.f, 1);
    assert_int_equal(look(&e, "ok-after", NULL, CM_MASK_STATIC), CM_PENDING);
    wait_completed(e.f, 2);
    cmfetch_stats_t s;
    cmfetch_get_stats(e.f, &s);
    assert_int_equal(s.throttled, 1);
    assert_int_equal(s.ok, 1);
    assert_int_equal(srv_count(e.srv), 2);
    int64_t gap = srv_seen(e.srv, 1).at - srv_seen(e.srv, 0).at;
    ASSERT_GE(gap, 1900); /* Retry-After: 2 */
    ASSERT_LT(gap, 4000);
    env_stop(&e);
}

static void bounds_requests_in_flight(void **state) {
    (void)state;
    struct env e = {.srv = srv_start()};
    char url[256];
    cmfetch_conf_t fc = base_conf(e.srv, url, sizeof url);
    fc.max_inflight = 2;
    env_start(&e, &fc);
    const char *ids[] = {"slow-a", "slow-b", "slow-c", "slow-d", "slow-e", "slow-f"};
    uint64_t t0 = cmcache_clock_ms();
    for (int i = 0; i < 6; i++) assert_int_equal(look(&e, ids[i], NULL, CM_MASK_STATIC), CM_PENDING);
    wait_completed(e.f, 6);
    uint64_t took = cmcache_clock_ms() - t0;
    /* Each slow reply takes 300 ms. With at most 2 transfers in flight, 6 of them take
     * at least 3 rounds (900 ms); with 3 in flight they would be done after 2 rounds.
     * A loaded machine only makes it slower, so this cannot fail spuriously. (The
     * server's own "active" count is not used: the client starts the next request as
     * soon as it has read a reply, before the server thread notes that it is done.) */
    ASSERT_GE(took, 880);
    ASSERT_GE(srv_max_active(e.srv), 2);
    assert_int_equal(srv_count(e.srv), 6);
    for (int i = 0; i < 6; i++) assert_int_equal(look(&e, ids[i], NULL, CM_MASK_STATIC), CM_OK);
    env_stop(&e);
}

static void bounds_request_rate(void **state) {
    (void)state;
    struct env e = {.srv = srv_start()};
    char url[256];
    cmfetch_conf_t fc = base_conf(e.srv, url, sizeof url);
    fc.rate_per_sec = 5;
    fc.burst = 1;
    env_start(&e, &fc);
    char id[16];
    for (int i = 0; i < 6; i++) {
        snprintf(id, sizeof id, "ok-%d", i);
        assert_int_equal(look(&e, id, NULL, CM_MASK_STATIC), CM_PENDING);
    }
    wait_completed(e.f, 6);
    assert_int_equal(srv_count(e.srv), 6);
    int64_t lo = INT64_MAX, hi = 0;
    for (int i = 0; i < 6; i++) {
        if (srv_seen(e.srv, i).at < lo) lo = srv_seen(e.srv, i).at;
        if (srv_seen(e.srv, i).at > hi) hi = srv_seen(e.srv, i).at;
    }
    ASSERT_GE(hi - lo, 950); /* 5 gaps of 200 ms */
    ASSERT_LT(hi - lo, 2500);
    env_stop(&e);
}

static void timeout_is_counted(void **state) {
    (void)state;
    struct env e = {.srv = srv_start()};
    char url[256];
    cmfetch_conf_t fc = base_conf(e.srv, url, sizeof url);
    fc.timeout_ms = 300;
    env_start(&e, &fc);
    int64_t t0 = cmcache_clock_ms();
    assert_int_equal(look(&e, "hang-1", NULL, CM_MASK_STATIC), CM_PENDING);
    wait_completed(e.f, 1);
    ASSERT_LT(cmcache_clock_ms() - t0, 2000);
    cmfetch_stats_t s;
    cmfetch_get_stats(e.f, &s);
    assert_int_equal(s.timeouts, 1);
    assert_int_equal(s.errors, 0);
    assert_int_equal(look(&e, "hang-1", NULL, CM_MASK_STATIC), CM_UNAVAILABLE);
    pthread_mutex_lock(&e.mu);
    assert_int_equal(e.nlog, 1);
    assert_non_null(strstr(e.log[0], "/vm/hang-1?name= failed: timeout (Timeout was reached)"));
    pthread_mutex_unlock(&e.mu);
    env_stop(&e);
}

static void shutdown_with_hanging_server_is_prompt(void **state) {
    (void)state;
    struct env e = {.srv = srv_start()};
    char url[256];
    cmfetch_conf_t fc = base_conf(e.srv, url, sizeof url);
    fc.timeout_ms = 60000;
    env_start(&e, &fc);
    assert_int_equal(look(&e, "hang-2", NULL, CM_MASK_STATIC), CM_PENDING);
    for (int i = 0; i < 400 && srv_max_active(e.srv) == 0; i++) sleep_ms(5);
    assert_int_equal(srv_max_active(e.srv), 1);
    int64_t t0 = cmcache_clock_ms();
    cmfetch_free(e.f);
    e.f = NULL;
    ASSERT_LT(cmcache_clock_ms() - t0, 1000);
    /* the request was abandoned, not failed: the next lookup queues it again */
    assert_int_equal(look(&e, "hang-2", NULL, CM_MASK_STATIC), CM_PENDING);
    cmcache_stats_t cs;
    cmcache_get_stats(e.cache, &cs);
    assert_int_equal(cs.enqueued, 2);
    assert_int_equal(cs.failures, 0);
    env_stop(&e);
}

static void basic_auth_bulk_and_stats(void **state) {
    (void)state;
    struct env e = {.srv = srv_start()};
    char url[256], bulk[256], stats[256];
    cmfetch_conf_t fc = base_conf(e.srv, url, sizeof url);
    snprintf(bulk, sizeof bulk, "http://127.0.0.1:%d/bulk", e.srv->port);
    snprintf(stats, sizeof stats, "http://127.0.0.1:%d/stats/{name}/{uuid}", e.srv->port);
    fc.bulk_url = bulk;
    fc.stats_url = stats;
    fc.user = "alice";
    fc.password = "s3cret";
    env_start(&e, &fc);
    assert_int_equal(cmcache_request_bulk(e.cache, cmcache_clock_ms()), 0);
    wait_completed(e.f, 1);
    assert_int_equal(look(&e, "b1", NULL, CM_MASK_STATIC), CM_OK);
    assert_int_equal(look(&e, "b2", NULL, CM_MASK_STATIC), CM_OK);
    assert_int_equal(look(&e, "ok-s", "n1", CM_MASK_DYNAMIC), CM_PENDING);
    wait_completed(e.f, 2);
    assert_int_equal(look(&e, "ok-s", "n1", CM_MASK_DYNAMIC), CM_OK);
    assert_string_equal(srv_seen(e.srv, 0).path, "/bulk");
    assert_string_equal(srv_seen(e.srv, 1).path, "/stats/n1/ok-s");
    assert_string_equal(srv_seen(e.srv, 0).auth, "Basic YWxpY2U6czNjcmV0");
    env_stop(&e);
}

static void missing_url_and_refused_connection(void **state) {
    (void)state;
    struct env e = {.srv = NULL};
    struct srv *tmp = srv_start();
    char url[256];
    cmfetch_conf_t fc = base_conf(tmp, url, sizeof url);
    srv_stop(tmp); /* nobody listens on that port any more */
    env_start(&e, &fc);
    assert_int_equal(look(&e, "ok-1", NULL, CM_MASK_STATIC), CM_PENDING);
    wait_completed(e.f, 1);
    assert_int_equal(look(&e, "ok-2", NULL, CM_MASK_DYNAMIC), CM_PENDING); /* no cm.statsUrl */
    wait_completed(e.f, 2);
    cmfetch_stats_t s;
    cmfetch_get_stats(e.f, &s);
    assert_int_equal(s.transport_errors, 2);
    assert_int_equal(s.requests, 1);
    pthread_mutex_lock(&e.mu);
    assert_int_equal(e.nlog, 2);
    assert_non_null(strstr(e.log[0], "failed: Couldn't connect to server"));
    assert_string_equal(e.log[1],
                        "cm stats (cm.statsUrl) request for 'ok-2' failed: no URL configured for this kind of request");
    pthread_mutex_unlock(&e.mu);
    env_stop(&e);
}

static void log_lines_are_rate_limited(void **state) {
    (void)state;
    struct env e = {.srv = srv_start()};
    char url[256];
    cmfetch_conf_t fc = base_conf(e.srv, url, sizeof url);
    fc.log_interval_ms = 1500;
    env_start(&e, &fc);
    assert_int_equal(look(&e, "err-1", NULL, CM_MASK_STATIC), CM_PENDING);
    wait_completed(e.f, 1);
    assert_int_equal(look(&e, "err-2", NULL, CM_MASK_STATIC), CM_PENDING);
    assert_int_equal(look(&e, "err-3", NULL, CM_MASK_STATIC), CM_PENDING);
    wait_completed(e.f, 3);
    sleep_ms(1600);
    assert_int_equal(look(&e, "err-4", NULL, CM_MASK_STATIC), CM_PENDING);
    wait_completed(e.f, 4);
    char expect[256];
    pthread_mutex_lock(&e.mu);
    assert_int_equal(e.nlog, 2);
    snprintf(expect, sizeof expect,
             "cm request http://127.0.0.1:%d/vm/err-4?name= failed: HTTP 500 (2 similar suppressed)", e.srv->port);
    assert_string_equal(e.log[1], expect);
    pthread_mutex_unlock(&e.mu);
    env_stop(&e);
}

static void expect_conf_error(const cmfetch_conf_t *c, int rc, const char *msg) {
    char err[CTX_ERRLEN] = "";
    cmcache_t *cache = NULL;
    cmcache_conf_t cc;
    cmcache_conf_defaults(&cc);
    assert_int_equal(cmcache_new(&cache, &cc, err, sizeof err), 0);
    cmfetch_t *f = (cmfetch_t *)1;
    assert_int_equal(cmfetch_new(&f, c, cache, on_reply, NULL, NULL, err, sizeof err), rc);
    assert_null(f);
    assert_string_equal(err, msg);
    cmcache_free(cache);
}

static void conf_errors_name_the_key(void **state) {
    (void)state;
    cmfetch_conf_t d, c;
    cmfetch_conf_defaults(&d);
    d.url = "https://cm.example/vm/{uuid}";
    c = d;
    c.url = "ftp://cm/{uuid}";
    expect_conf_error(&c, CTX_EINVAL, "cm.url: 'ftp://cm/{uuid}' must start with http:// or https://");
    c = d;
    c.url = "http://cm.example/vms/{uuid}";
    expect_conf_error(&c, CTX_EINVAL, "cm.url: 'http://cm.example/vms/{uuid}' would send the token and the VMs' data "
                                      "in clear: expected https://, or cm.allowInsecure=\"on\"");
    c = d;
    c.bulk_url = "HTTP://cm.example/all";
    expect_conf_error(&c, CTX_EINVAL, "cm.bulkUrl: 'HTTP://cm.example/all' would send the token and the VMs' data "
                                      "in clear: expected https://, or cm.allowInsecure=\"on\"");
    d.allow_insecure = 1;
    c = d;
    c.url = "http://cm.example/vms/{uuid}";
    char e2[CTX_ERRLEN] = "";
    assert_int_equal(cmfetch_conf_check(&c, e2, sizeof e2), 0);
    c = d;
    c.url = "http://cm.example/vms/{id}?x=1";
    expect_conf_error(&c, CTX_EINVAL, "cm.url: unknown placeholder '{id}' at offset 22 (expected {uuid}, {name}, {host} or {section.field})");
    c = d;
    c.stats_url = "http://cm/a b";
    expect_conf_error(&c, CTX_EINVAL, "cm.statsUrl: control character or space at offset 11");
    c = d;
    c.bulk_url = "http://cm/all/{name}";
    expect_conf_error(&c, CTX_EINVAL, "cm.bulkUrl: placeholder {name} not allowed in the bulk URL");
    c = d;
    c.url = NULL;
    expect_conf_error(&c, CTX_EINVAL, "cm.url: no compute-manager URL set (need cm.url, cm.statsUrl or cm.bulkUrl)");
    c = d;
    c.token_file = "/x";
    c.user = "u";
    c.password = "p";
    expect_conf_error(&c, CTX_EINVAL, "cm.tokenFile: cannot be combined with cm.user (choose bearer or basic auth)");
    c = d;
    c.user = "u";
    expect_conf_error(&c, CTX_EINVAL, "cm.password: basic auth needs both cm.user and cm.password");
    c = d;
    c.timeout_ms = 0;
    expect_conf_error(&c, CTX_EINVAL, "cm.timeout: must be between 1 and 600000 (got 0)");
    c = d;
    c.connect_timeout_ms = 700000;
    expect_conf_error(&c, CTX_EINVAL, "cm.connectTimeout: must be between 1 and 600000 (got 700000)");
    c = d;
    c.max_body = 10;
    expect_conf_error(&c, CTX_EINVAL, "cm.maxResponseBytes: must be between 64 and 1073741824 (got 10)");
    c = d;
    c.max_inflight = 0;
    expect_conf_error(&c, CTX_EINVAL, "cm.maxInFlight: must be between 1 and 1000 (got 0)");
    c = d;
    c.burst = 0;
    expect_conf_error(&c, CTX_EINVAL, "cm.burst: must be between 1 and 100000 (got 0)");
    c = d;
    c.rate_per_sec = 0;
    expect_conf_error(&c, CTX_EINVAL, "cm.ratePerSec: must be > 0 and <= 100000 (got 0)");
    c = d;
    c.tls_verify = 2;
    expect_conf_error(&c, CTX_EINVAL, "cm.tlsVerify: must be between 0 and 1 (got 2)");
    c = d;
    c.ca_file = "/nonexistent/ca.pem";
    expect_conf_error(&c, CTX_EIO, "cm.caFile: cannot read '/nonexistent/ca.pem': No such file or directory");
    c = d;
    c.token_file = "/nonexistent/token";
    expect_conf_error(&c, CTX_EIO, "cm.tokenFile: cannot read '/nonexistent/token': No such file or directory");
    char tokpath[] = "/tmp/cmfetch_tokXXXXXX";
    int fd = mkstemp(tokpath);
    assert_int_equal(write(fd, " \n", 2), 2);
    close(fd);
    c.token_file = tokpath;
    char msg[256];
    snprintf(msg, sizeof msg, "cm.tokenFile: '%s': first line is empty", tokpath);
    expect_conf_error(&c, CTX_EPARSE, msg);
    unlink(tokpath);
    cmfetch_free(NULL);
}

static void expand_escapes_and_bounds(void **state) {
    (void)state;
    char out[64];
    assert_int_equal(cmfetch_expand("http://h/{uuid}/{name}", "a b", "x/y?z&é", out, sizeof out), 33);
    assert_string_equal(out, "http://h/a%20b/x%2Fy%3Fz%26%C3%A9");
    assert_int_equal(cmfetch_expand("http://h/{name}", "", "a~b-c_d.e", out, sizeof out), 18);
    assert_string_equal(out, "http://h/a~b-c_d.e");
    assert_int_equal(cmfetch_expand("http://h/{bad}", "u", "n", out, sizeof out), CTX_EINVAL);
    assert_int_equal(cmfetch_expand("http://h/{uuid}", "0123456789", NULL, out, 20), 19);
    assert_int_equal(cmfetch_expand("http://h/{uuid}", "0123456789", NULL, out, 19), CTX_EFULL);
    assert_string_equal(out, "");
    assert_int_equal(cmfetch_expand("http://h/{uuid}", "   ", NULL, out, 18), CTX_EFULL);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(fetches_once_and_stores),
        cmocka_unit_test(bad_replies_are_counted_and_cached_negatively),
        cmocka_unit_test(throttle_holds_all_requests),
        cmocka_unit_test(bounds_requests_in_flight),
        cmocka_unit_test(bounds_request_rate),
        cmocka_unit_test(timeout_is_counted),
        cmocka_unit_test(shutdown_with_hanging_server_is_prompt),
        cmocka_unit_test(basic_auth_bulk_and_stats),
        cmocka_unit_test(missing_url_and_refused_connection),
        cmocka_unit_test(log_lines_are_rate_limited),
        cmocka_unit_test(conf_errors_name_the_key),
        cmocka_unit_test(expand_escapes_and_bounds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
