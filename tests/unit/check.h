/* check.h: what the unit test programs share. Include after cmocka.h.
 *
 * CTX_TEST_MAIN(SETUP, TEARDOWN, tests...): the program's main, its tests run as one
 * cmocka group with a group setup and teardown (NULL for none), as systemd's
 * DEFINE_TEST_MAIN does for its tests:
 *
 *     CTX_TEST_MAIN(NULL, NULL,
 *         cmocka_unit_test(parses_a_line),
 *         cmocka_unit_test_setup(refuses_a_bad_line, reset))
 *
 * Ordering asserts that print both operands (as libuv's ASSERT_GE), for what cmocka's
 * assert_int_equal / assert_string_equal do not cover:
 *
 *     ASSERT_GE(st.flows_evicted, 5000);   fails with
 *     "st.flows_evicted >= 5000: 4999 vs 5000"
 *
 * Operands are compared as intmax_t (every value these tests compare fits); a pointer
 * or a value above INTMAX_MAX does not belong here. */
#ifndef CTXLOG_TESTS_CHECK_H
#define CTXLOG_TESTS_CHECK_H

#include <stdint.h>

#define CTX_ASSERT_CMP_(a, op, b)                                                                   \
    do {                                                                                           \
        intmax_t a_ = (intmax_t)(a), b_ = (intmax_t)(b);                                           \
        if (!(a_ op b_)) fail_msg("%s %s %s: %jd vs %jd", #a, #op, #b, a_, b_);                    \
    } while (0)

#define ASSERT_GE(a, b) CTX_ASSERT_CMP_(a, >=, b)
#define ASSERT_GT(a, b) CTX_ASSERT_CMP_(a, >, b)
#define ASSERT_LE(a, b) CTX_ASSERT_CMP_(a, <=, b)
#define ASSERT_LT(a, b) CTX_ASSERT_CMP_(a, <, b)

#define CTX_TEST_MAIN(setup, teardown, ...)                                                        \
    int main(void) {                                                                               \
        const struct CMUnitTest tests[] = {__VA_ARGS__};                                           \
        return cmocka_run_group_tests(tests, setup, teardown);                                     \
    }

#endif
