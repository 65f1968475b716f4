/* test_redact_multi.c: secrets over several messages of one sender (common/redact/redact_multi.c):
 * a PEM key one line per message, a configured pair, senders and tenants kept apart, and the
 * bounds (senders, idle time, lines) with their counters. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include "check.h"
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctxlog_common.h"
#include "redact_multi.h"

#define ALL (CTX_MULTI_PEM | CTX_MULTI_PAIR)

/* the span of one message: -1 when none, else s * 1000 + e */
static long step(ctx_redact_multi *m, const char *key, const char *msg, uint64_t now) {
    size_t s = 99, e = 99;
    const char *label = NULL;
    if (!ctx_redact_multi_step(m, ALL, key, strlen(key), msg, strlen(msg), now, &s, &e, &label)) return -1;
    assert_non_null(label);
    return (long)(s * 1000 + e);
}

static ctx_redact_multi *mk(unsigned max, unsigned timeout, unsigned lines) {
    ctx_redact_multi_conf c = {max, timeout, lines, "BEGIN-SECRET", "END-SECRET", "vault-dump"};
    ctx_redact_multi *m = NULL;
    char err[CTX_ERRLEN];
    assert_int_equal(ctx_redact_multi_new(&m, &c, err, sizeof err), 0);
    return m;
}

static void stats_are(ctx_redact_multi *m, uint64_t op, uint64_t cl, uint64_t li, uint64_t ev, uint64_t to,
                      uint64_t ol, uint64_t open) {
    ctx_redact_multi_stats_t st;
    ctx_redact_multi_stats(m, &st);
    assert_int_equal(st.opened, op);
    assert_int_equal(st.closed, cl);
    assert_int_equal(st.lines, li);
    assert_int_equal(st.evicted, ev);
    assert_int_equal(st.timeouts, to);
    assert_int_equal(st.overlong, ol);
    assert_int_equal(st.open, open);
}

static void pem_line_by_line(void **state) {
    (void)state;
    ctx_redact_multi *m = mk(0, 0, 0);
    const char *k = "t1\x1fvm-a\x1f" "app";
    assert_int_equal(ctx_redact_multi_wanted(m, ALL, "plain", 5), 0);
    assert_int_equal(step(m, k, "before", 0), -1);
    const char *b = "key: -----BEGIN RSA PRIVATE KEY-----";
    assert_int_equal(ctx_redact_multi_wanted(m, ALL, b, strlen(b)), 1);
    assert_int_equal(step(m, k, b, 1), 5 * 1000 + (long)strlen(b));
    assert_int_equal(ctx_redact_multi_wanted(m, ALL, "x", 1), 1); /* a secret is open */
    assert_int_equal(step(m, k, "MIIEpAIBAAKCAQEA3Tz2mr7SZiAMfQyuvBjM", 2), 36);
    assert_int_equal(step(m, k, "Proc-Type: 4,ENCRYPTED", 3), 22);
    assert_int_equal(step(m, k, "-----END RSA PRIVATE KEY----- done", 4), 29);
    assert_int_equal(step(m, k, "after", 5), -1);
    stats_are(m, 1, 1, 3, 0, 0, 0, 0);
    /* public keys and certificates are not secrets; a whole block in one message is the rule's */
    assert_int_equal(step(m, k, "-----BEGIN CERTIFICATE-----", 6), -1);
    assert_int_equal(step(m, k, "-----BEGIN PUBLIC KEY-----", 6), -1);
    assert_int_equal(step(m, k, "-----BEGIN PRIVATE KEY----- AAAA -----END PRIVATE KEY-----", 6), -1);
    assert_int_equal(step(m, k, "-----BEGIN PGP PRIVATE KEY BLOCK-----", 7), 37);
    assert_int_equal(step(m, k, "-----END PRIVATE KEY-----", 8), 25); /* any private-key end closes it */
    stats_are(m, 2, 2, 4, 0, 0, 0, 0);
    ctx_redact_multi_free(m);
}

static void senders_and_tenants_apart(void **state) {
    (void)state;
    ctx_redact_multi *m = mk(0, 0, 0);
    assert_int_equal(step(m, "t1\x1fvm\x1f" "app", "-----BEGIN EC PRIVATE KEY-----", 0), 30);
    assert_int_equal(step(m, "t2\x1fvm\x1f" "app", "line of another tenant", 1), -1);
    assert_int_equal(step(m, "t1\x1fvm\x1f" "app2", "line of another app", 1), -1);
    assert_int_equal(step(m, "t1\x1fvm2\x1f" "app", "line of another VM", 1), -1);
    /* another tenant's end marker closes nothing of t1's */
    assert_int_equal(step(m, "t2\x1fvm\x1f" "app", "-----END EC PRIVATE KEY-----", 1), -1);
    assert_int_equal(step(m, "t1\x1fvm\x1f" "app", "c2VjcmV0", 2), 8);
    stats_are(m, 1, 0, 1, 0, 0, 0, 1);
    ctx_redact_multi_free(m);
}

static void configured_pair(void **state) {
    (void)state;
    ctx_redact_multi *m = mk(0, 0, 0);
    size_t s, e;
    const char *label;
    const char *k = "t\x1fv\x1f" "a";
    assert_int_equal(step(m, k, "dump BEGIN-SECRET a=1", 0), 5 * 1000 + 21);
    assert_int_equal(ctx_redact_multi_step(m, ALL, k, strlen(k), "b=2", 3, 1, &s, &e, &label), 1);
    assert_string_equal(label, "vault-dump");
    assert_int_equal(step(m, k, "c=3 END-SECRET tail", 2), 14);
    /* begin and end in one message: between them; the kind a tenant does not track is ignored */
    assert_int_equal(step(m, k, "x BEGIN-SECRET y END-SECRET z", 3), 2 * 1000 + 27);
    assert_int_equal(ctx_redact_multi_step(m, CTX_MULTI_PEM, k, strlen(k), "BEGIN-SECRET", 12, 4, &s, &e, &label), 0);
    /* an end, then a new begin in the same message: stays open */
    assert_int_equal(step(m, k, "BEGIN-SECRET", 5), 12);
    assert_int_equal(step(m, k, "END-SECRET BEGIN-SECRET more", 6), 28);
    assert_int_equal(step(m, k, "still", 7), 5);
    stats_are(m, 3, 2, 4, 0, 0, 0, 1);
    ctx_redact_multi_free(m);
}

static void bounds(void **state) {
    (void)state;
    ctx_redact_multi *m = mk(2, 1000, 3);
    assert_int_equal(step(m, "a", "BEGIN-SECRET", 0), 12);
    assert_int_equal(step(m, "b", "BEGIN-SECRET", 10), 12);
    assert_int_equal(step(m, "c", "BEGIN-SECRET", 20), 12); /* full: a (idle longest) goes */
    stats_are(m, 3, 0, 0, 1, 0, 0, 2);
    assert_int_equal(step(m, "a", "line", 30), -1);
    assert_int_equal(step(m, "b", "line", 40), 4);
    /* idle past the timeout: forgotten (c at 20 and b at 40, now 1030: c goes) */
    assert_int_equal(step(m, "c", "line", 1030), -1);
    stats_are(m, 3, 0, 1, 1, 1, 0, 1);
    /* max_lines: the third line after the begin closes it */
    assert_int_equal(step(m, "b", "2", 1031), 1);
    assert_int_equal(step(m, "b", "3", 1032), 1);
    assert_int_equal(step(m, "b", "4", 1033), -1);
    stats_are(m, 3, 0, 3, 1, 1, 1, 0);
    ctx_redact_multi_free(m);
}

static void bad_conf(void **state) {
    (void)state;
    char err[CTX_ERRLEN];
    ctx_redact_multi *m = NULL;
    ctx_redact_multi_conf c = {0, 0, 0, "BEGIN", NULL, NULL};
    assert_int_equal(ctx_redact_multi_new(&m, &c, err, sizeof err), CTX_EINVAL);
    assert_string_equal(err, "multi-line secrets: begin and end: expected both or neither");
    c.end = "x";
    assert_int_equal(ctx_redact_multi_new(&m, &c, err, sizeof err), CTX_EINVAL);
    assert_string_equal(err, "multi-line secrets: begin and end: expected literals of 3..64 bytes without a newline");
    c.end = "END";
    c.max_senders = 70000;
    assert_int_equal(ctx_redact_multi_new(&m, &c, err, sizeof err), CTX_EINVAL);
    assert_string_equal(err, "multi-line secrets: maxSenders: expected 1..65536");
    assert_null(m);
    assert_int_equal(ctx_redact_multi_new(&m, NULL, err, sizeof err), 0); /* defaults: PEM only */
    assert_int_equal(step(m, "k", "BEGIN-SECRET", 0), -1);
    ctx_redact_multi_free(m);
}

/* threads share one tracker (omtenant's workers): each thread is its own sender, opens, continues
 * and closes its secrets; every line inside is redacted, every line outside is not, counts add up */
#define THREADS 4
#define ROUNDS 200
static void *sender(void *arg) {
    ctx_redact_multi *m = ((void **)arg)[0];
    char key[16];
    snprintf(key, sizeof key, "t\x1fvm%d", (int)(intptr_t)((void **)arg)[1]);
    long bad = 0;
    for (int r = 0; r < ROUNDS; r++) {
        size_t s, e;
        const char *l;
        const char *msgs[] = {"-----BEGIN PRIVATE KEY-----", "AAAA", "BBBB", "-----END PRIVATE KEY-----", "after"};
        for (int i = 0; i < 5; i++) {
            int in = ctx_redact_multi_wanted(m, ALL, msgs[i], strlen(msgs[i])) &&
                     ctx_redact_multi_step(m, ALL, key, strlen(key), msgs[i], strlen(msgs[i]), 0, &s, &e, &l);
            bad += in != (i < 4);
        }
    }
    return (void *)bad;
}

static void threads_share_one_tracker(void **state) {
    (void)state;
    ctx_redact_multi *m = mk(0, 0, 0);
    pthread_t t[THREADS];
    void *args[THREADS][2];
    for (int i = 0; i < THREADS; i++) {
        args[i][0] = m;
        args[i][1] = (void *)(intptr_t)i;
        assert_int_equal(pthread_create(&t[i], NULL, sender, args[i]), 0);
    }
    for (int i = 0; i < THREADS; i++) {
        void *bad;
        pthread_join(t[i], &bad);
        assert_int_equal((long)bad, 0);
    }
    stats_are(m, THREADS * ROUNDS, THREADS * ROUNDS, THREADS * ROUNDS * 3, 0, 0, 0, 0);
    ctx_redact_multi_free(m);
}

CTX_TEST_MAIN(NULL, NULL,
    cmocka_unit_test(pem_line_by_line),  cmocka_unit_test(senders_and_tenants_apart),
    cmocka_unit_test(configured_pair),   cmocka_unit_test(bounds),
    cmocka_unit_test(bad_conf),
    cmocka_unit_test(threads_share_one_tracker))
