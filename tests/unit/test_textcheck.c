/* test_textcheck.c: common/base/textcheck.h: hex digits of either case and nothing else;
 * addresses by family, with lengths that cut, embedded NULs and overlong text refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "check.h"
#include "textcheck.h"

static void hex_digits(void **state) {
    (void)state;
    assert_int_equal(ctx_hexval('0'), 0);
    assert_int_equal(ctx_hexval('9'), 9);
    assert_int_equal(ctx_hexval('a'), 10);
    assert_int_equal(ctx_hexval('F'), 15);
    for (int c = -1; c < 256; c++) {
        int want = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
        assert_int_equal(ctx_hexval(c) >= 0, want);
    }
}

static void addresses(void **state) {
    (void)state;
    assert_int_equal(ctx_inet_text(AF_UNSPEC, "10.0.0.2", 8), 1);
    assert_int_equal(ctx_inet_text(AF_UNSPEC, "fd00::2", 7), 1);
    assert_int_equal(ctx_inet_text(AF_INET, "fd00::2", 7), 0);
    assert_int_equal(ctx_inet_text(AF_INET6, "10.0.0.2", 8), 0);
    assert_int_equal(ctx_inet_text(AF_INET6, "::ffff:10.0.0.2", 15), 1);
    assert_int_equal(ctx_inet_text(AF_UNSPEC, "10.0.0.2x", 8), 1); /* the length decides */
    assert_int_equal(ctx_inet_text(AF_UNSPEC, "10.0.0.", 7), 0);
    assert_int_equal(ctx_inet_text(AF_UNSPEC, "192.0.2.300", 11), 0);
    assert_int_equal(ctx_inet_text(AF_UNSPEC, "010.0.0.2", 9), 0);
    assert_int_equal(ctx_inet_text(AF_UNSPEC, "10.0\0.0.2", 9), 0);
    assert_int_equal(ctx_inet_text(AF_UNSPEC, "", 0), 0);
    assert_int_equal(ctx_inet_text(AF_UNSPEC, NULL, 4), 0);
    static const char longest[] = "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255"; /* 45 */
    assert_int_equal(ctx_inet_text(AF_INET6, longest, sizeof longest - 1), 1);
    static const char over[] = "0000:0000:0000:0000:0000:ffff:255.255.255.255x";
    assert_int_equal(ctx_inet_text(AF_INET6, over, sizeof over - 1), 0);
}

CTX_TEST_MAIN(NULL, NULL, cmocka_unit_test(hex_digits), cmocka_unit_test(addresses))
