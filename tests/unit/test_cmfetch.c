/* Unit tests of common/context/cmfetch.c against the test server of cmfetch_fx.h: one fetch
 * for many lookups, bearer and basic auth, the bulk and stats URLs, every kind of bad reply
 * counted and cached negatively, a refused connection, rate-limited log lines, configuration
 * errors that name the key, URL expansion. Throttling, bounds, timeouts and shutdown:
 * test_cmfetch_limits.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "check.h"
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cmcache.h"
#include "cmfetch.h"
#include "ctxlog_common.h"
#include "cmfetch_fx.h"
#include "conftab.h"

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

/* the fetcher's clock, driven by the test: the log interval is checked to the millisecond
 * without sleeping (requests still run on the real network) */
static _Atomic int64_t fake_now = 1000000;
static int64_t fake_clock(void) { return fake_now; }

static void log_lines_are_rate_limited(void **state) {
    (void)state;
    struct env e = {.srv = srv_start()};
    char url[256];
    cmfetch_conf_t fc = base_conf(e.srv, url, sizeof url);
    fc.log_interval_ms = 1500;
    fc.clock_ms = fake_clock;
    env_start(&e, &fc);
    assert_int_equal(look(&e, "err-1", NULL, CM_MASK_STATIC), CM_PENDING);
    wait_completed(e.f, 1);
    assert_int_equal(look(&e, "err-2", NULL, CM_MASK_STATIC), CM_PENDING);
    assert_int_equal(look(&e, "err-3", NULL, CM_MASK_STATIC), CM_PENDING);
    wait_completed(e.f, 3);
    fake_now += 1499; /* still within the interval: suppressed too */
    assert_int_equal(look(&e, "err-4", NULL, CM_MASK_STATIC), CM_PENDING);
    wait_completed(e.f, 4);
    fake_now += 1; /* the interval is over: logged, with the count of those held back */
    assert_int_equal(look(&e, "err-5", NULL, CM_MASK_STATIC), CM_PENDING);
    wait_completed(e.f, 5);
    char expect[256];
    pthread_mutex_lock(&e.mu);
    assert_int_equal(e.nlog, 2);
    snprintf(expect, sizeof expect, "cm request http://127.0.0.1:%d/vm/err-1?name= failed: HTTP 500", e.srv->port);
    assert_string_equal(e.log[0], expect);
    snprintf(expect, sizeof expect,
             "cm request http://127.0.0.1:%d/vm/err-5?name= failed: HTTP 500 (3 similar suppressed)", e.srv->port);
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

#define URL_CASE(f, v, msg) CONFTAB_STR(cmfetch_conf_t, f, v, CTX_EINVAL, msg)
#define NUM_CASE(f, v, msg) CONFTAB_NUM(cmfetch_conf_t, f, v, CTX_EINVAL, msg)
#define CLEAR "would send the token and the VMs' data in clear: expected https://, or cm.allowInsecure=\"on\""
/* one bad value per row, from the defaults with cm.url set: the error names the key */
static const conftab_row_t fetch_bad[] = {
    URL_CASE(url, "ftp://cm/{uuid}", "cm.url: 'ftp://cm/{uuid}' must start with http:// or https://"),
    URL_CASE(url, "http://cm.example/vms/{uuid}", "cm.url: 'http://cm.example/vms/{uuid}' " CLEAR),
    URL_CASE(bulk_url, "HTTP://cm.example/all", "cm.bulkUrl: 'HTTP://cm.example/all' " CLEAR),
    URL_CASE(url, NULL, "cm.url: no compute-manager URL set (need cm.url, cm.statsUrl or cm.bulkUrl)"),
    URL_CASE(user, "u", "cm.password: basic auth needs both cm.user and cm.password"),
    NUM_CASE(timeout_ms, 0, "cm.timeout: must be between 1 and 600000 (got 0)"),
    NUM_CASE(connect_timeout_ms, 700000, "cm.connectTimeout: must be between 1 and 600000 (got 700000)"),
    NUM_CASE(max_body, 10, "cm.maxResponseBytes: must be between 64 and 1073741824 (got 10)"),
    NUM_CASE(max_inflight, 0, "cm.maxInFlight: must be between 1 and 1000 (got 0)"),
    NUM_CASE(burst, 0, "cm.burst: must be between 1 and 100000 (got 0)"),
    NUM_CASE(rate_per_sec, 0, "cm.ratePerSec: must be > 0 and <= 100000 (got 0)"),
    NUM_CASE(tls_verify, 2, "cm.tlsVerify: must be between 0 and 1 (got 2)"),
    CONFTAB_STR(cmfetch_conf_t, ca_file, "/nonexistent/ca.pem", CTX_EIO,
                "cm.caFile: cannot read '/nonexistent/ca.pem': No such file or directory"),
    CONFTAB_STR(cmfetch_conf_t, token_file, "/nonexistent/token", CTX_EIO,
                "cm.tokenFile: cannot read '/nonexistent/token': No such file or directory"),
};
/* the same with cm.allowInsecure="on": what is wrong besides the scheme */
static const conftab_row_t fetch_bad_insecure[] = {
    URL_CASE(url, "http://cm.example/vms/{id}?x=1",
             "cm.url: unknown placeholder '{id}' at offset 22 (expected {uuid}, {name}, {host} or {section.field})"),
    URL_CASE(stats_url, "http://cm/a b", "cm.statsUrl: control character or space at offset 11"),
    URL_CASE(bulk_url, "http://cm/all/{name}", "cm.bulkUrl: placeholder {name} not allowed in the bulk URL"),
};

static void expect_rows(const cmfetch_conf_t *d, const conftab_row_t *rows, size_t n) {
    for (size_t i = 0; i < n; i++) {
        cmfetch_conf_t c = *d;
        conftab_set(&c, &rows[i]);
        expect_conf_error(&c, rows[i].rc, rows[i].msg);
    }
}

static void conf_errors_name_the_key(void **state) {
    (void)state;
    cmfetch_conf_t d, c;
    cmfetch_conf_defaults(&d);
    d.url = "https://cm.example/vm/{uuid}";
    expect_rows(&d, fetch_bad, CONFTAB_LEN(fetch_bad));
    c = d;
    c.token_file = "/x";
    c.user = "u";
    c.password = "p";
    expect_conf_error(&c, CTX_EINVAL, "cm.tokenFile: cannot be combined with cm.user (choose bearer or basic auth)");
    d.allow_insecure = 1;
    c = d;
    c.url = "http://cm.example/vms/{uuid}";
    char e2[CTX_ERRLEN] = "";
    assert_int_equal(cmfetch_conf_check(&c, e2, sizeof e2), 0);
    expect_rows(&d, fetch_bad_insecure, CONFTAB_LEN(fetch_bad_insecure));
    c = d;
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

CTX_TEST_MAIN(NULL, NULL,
    cmocka_unit_test(fetches_once_and_stores),
    cmocka_unit_test(bad_replies_are_counted_and_cached_negatively),
    cmocka_unit_test(basic_auth_bulk_and_stats),
    cmocka_unit_test(missing_url_and_refused_connection),
    cmocka_unit_test(log_lines_are_rate_limited),
    cmocka_unit_test(conf_errors_name_the_key),
    cmocka_unit_test(expand_escapes_and_bounds))
