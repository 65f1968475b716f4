#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include "check.h"
#include <string.h>

#include "ctxlog_common.h"
#include "timefmt.h"

static void formats_epoch_and_micros(void **state) {
    (void)state;
    char buf[CTX_RFC3339_US_LEN];
    struct timeval tv = {0, 0};
    assert_int_equal(ctx_rfc3339_us(&tv, buf, sizeof buf), 27);
    assert_string_equal(buf, "1970-01-01T00:00:00.000000Z");
    tv.tv_sec = 1795760024; /* 2026-11-27T06:13:44Z */
    tv.tv_usec = 123456;
    assert_int_equal(ctx_rfc3339_us(&tv, buf, sizeof buf), 27);
    assert_string_equal(buf, "2026-11-27T06:13:44.123456Z");
    tv.tv_usec = 999999;
    ctx_rfc3339_us(&tv, buf, sizeof buf);
    assert_string_equal(buf, "2026-11-27T06:13:44.999999Z");
}

static void rejects_small_buffer_and_bad_usec(void **state) {
    (void)state;
    char buf[CTX_RFC3339_US_LEN];
    struct timeval tv = {0, 1000000};
    assert_int_equal(ctx_rfc3339_us(&tv, buf, sizeof buf), CTX_EINVAL);
    assert_string_equal(buf, "");
    tv.tv_usec = -1;
    assert_int_equal(ctx_rfc3339_us(&tv, buf, sizeof buf), CTX_EINVAL);
    tv.tv_usec = 0;
    assert_int_equal(ctx_rfc3339_us(&tv, buf, sizeof buf - 1), CTX_EINVAL);
    assert_int_equal(ctx_rfc3339_us(NULL, buf, sizeof buf), CTX_EINVAL);
    tv.tv_sec = (time_t)400000000000LL; /* year > 9999 */
    assert_int_equal(ctx_rfc3339_us(&tv, buf, sizeof buf), CTX_EINVAL);
}

CTX_TEST_MAIN(NULL, NULL,
    cmocka_unit_test(formats_epoch_and_micros),
    cmocka_unit_test(rejects_small_buffer_and_bad_usec))
