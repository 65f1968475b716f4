/* test_ifglob.c: interface-name glob patterns: checking, matching (against libc's
 * fnmatch as the reference), lists from CSV and arrays. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "check.h"
#include <fnmatch.h>
#include <stdio.h>
#include <string.h>

#include "ctxlog_common.h"
#include "ifglob.h"

static void check_classifies_names_and_globs(void **state) {
    (void)state;
    char reason[160];
    assert_int_equal(ctx_ifglob_check("vnet3", reason, sizeof reason), 0);
    assert_int_equal(ctx_ifglob_check("eth0.100", reason, sizeof reason), 0);
    assert_int_equal(ctx_ifglob_check("abcdefghijklmno", reason, sizeof reason), 0); /* 15 bytes */
    assert_int_equal(ctx_ifglob_check("vnet*", reason, sizeof reason), 1);
    assert_int_equal(ctx_ifglob_check("tap*", reason, sizeof reason), 1);
    assert_int_equal(ctx_ifglob_check("veth?", reason, sizeof reason), 1);
    assert_int_equal(ctx_ifglob_check("[ab]*", reason, sizeof reason), 1);
    assert_int_equal(ctx_ifglob_check("tap[0-9a-f]*", reason, sizeof reason), 1);
    assert_int_equal(ctx_ifglob_check("x[!0-9]", reason, sizeof reason), 1);
    assert_int_equal(ctx_ifglob_check("x[^-]", reason, sizeof reason), 1);
    assert_int_equal(ctx_ifglob_check("x[]]", reason, sizeof reason), 1);
    assert_int_equal(ctx_ifglob_check("x[a-]", reason, sizeof reason), 1);
    assert_int_equal(ctx_ifglob_check("*", reason, sizeof reason), 1);
    /* 15 fixed bytes plus stars can still match */
    assert_int_equal(ctx_ifglob_check("abcdefghijklmn?*", reason, sizeof reason), 1);
}

struct bad {
    const char *pattern;
    const char *reason;
};

static void check_rejects_with_reason(void **state) {
    (void)state;
    static const struct bad cases[] = {
        {"", "empty pattern"},
        {"tap[3", "'[' at offset 3 is not closed"},
        {"tap[]", "'[' at offset 3 is not closed"},
        {"tap[!]", "'[' at offset 3 is not closed"},
        {"a b", "byte 0x20 at offset 1 is not allowed in an interface name (no blanks or control characters)"},
        {"tap\t", "byte 0x09 at offset 3 is not allowed in an interface name (no blanks or control characters)"},
        {"eth0:1", "character ':' at offset 4 is not allowed in an interface name"},
        {"a/b", "character '/' at offset 1 is not allowed in an interface name"},
        {"x\\*", "'\\' at offset 1: escapes are not supported"},
        {"vnet\xc3\xa9", "byte 0xc3 at offset 4 is not allowed in an interface name (no blanks or control characters)"},
        {"tap[z-a]", "range 'z-a' at offset 4 is reversed"},
        {"tap[[:digit:]]", "'[' at offset 4 inside a set is not supported (write e.g. [0-9])"},
        {"tap[:digit:]", "character classes like [:digit:] are not supported, write e.g. [0-9]"},
        {"tap[a-[]", "'[' at offset 6 inside a set is not supported (write e.g. [0-9])"},
        {"tap[ ]", "byte 0x20 at offset 4 is not allowed in an interface name (no blanks or control characters)"},
        {"abcdefghijklmnop", "can never match: it needs names of at least 16 bytes, interface names have at most 15"},
        {"abcdefghijklmno?*", "can never match: it needs names of at least 16 bytes, interface names have at most 15"},
        {".", "\".\" and \"..\" are not interface names"},
        {"..", "\".\" and \"..\" are not interface names"},
        {"*abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijkl", "longer than 64 bytes"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char reason[160] = "unchanged";
        int r = ctx_ifglob_check(cases[i].pattern, reason, sizeof reason);
        if (r != CTX_EINVAL || strcmp(reason, cases[i].reason) != 0)
            fail_msg("pattern \"%s\": got %d \"%s\", expected \"%s\"", cases[i].pattern, r, reason, cases[i].reason);
    }
    char reason[8];
    assert_int_equal(ctx_ifglob_check(NULL, reason, sizeof reason), CTX_EINVAL);
    assert_int_equal(ctx_ifglob_check("[", NULL, 0), CTX_EINVAL); /* no reason buffer: still safe */
}

/* Our matcher must agree with glibc's fnmatch(pattern, name, 0) for checked patterns. */
static void match_one_agrees_with_fnmatch(void **state) {
    (void)state;
    static const char *pats[] = {"vnet*", "tap*", "veth?", "[ab]*", "tap3f*", "*", "?", "*a*b", "a*b*c", "x[!0-9]",
                                 "x[^-]", "x[]]", "x[]a]", "x[a-]", "x[--0]", "[a-c][0-9]?", "*[0-9]", "**x**",
                                 "v*n*e*t", "tap[!a-f]*z", "e?h*.1[0-9]", "a", "eth0"};
    static const char *names[] = {"vnet", "vnet0", "vnet12", "tap", "tap3f01", "veth", "veth1", "veth12", "a", "b9",
                                  "c", "x1", "xa", "x-", "x]", "x", "xb", "x/", "x.", "b5q", "c0", "q7", "axb",
                                  "aXbYc", "abc", "ac", "vxnxext", "tapz", "tap0z", "tapaz", "eth.10", "ethX.19",
                                  "eth0", "", "x0", "tap3F01"};
    unsigned checked = 0;
    for (size_t i = 0; i < sizeof pats / sizeof *pats; i++) {
        ASSERT_GE(ctx_ifglob_check(pats[i], NULL, 0), 0);
        for (size_t j = 0; j < sizeof names / sizeof *names; j++) {
            int want = fnmatch(pats[i], names[j], 0) == 0;
            int got = ctx_ifglob_match_one(pats[i], names[j]);
            if (want != got) fail_msg("\"%s\" vs \"%s\": fnmatch %d, ours %d", pats[i], names[j], want, got);
            checked++;
        }
    }
    assert_int_equal(checked, 23 * 36);
    /* a few answers spelled out, so the reference itself is pinned */
    assert_int_equal(ctx_ifglob_match_one("vnet*", "vnet12"), 1);
    assert_int_equal(ctx_ifglob_match_one("vnet*", "vne"), 0);
    assert_int_equal(ctx_ifglob_match_one("veth?", "veth12"), 0);
    assert_int_equal(ctx_ifglob_match_one("x[!0-9]", "x5"), 0);
    assert_int_equal(ctx_ifglob_match_one("x[]]", "x]"), 1);
    assert_int_equal(ctx_ifglob_match_one("tap3f*", "tap3F01"), 0); /* case-sensitive */
}

static void match_one_is_safe_on_unchecked_patterns(void **state) {
    (void)state;
    assert_int_equal(ctx_ifglob_match_one("tap[3", "tap3"), 0);
    assert_int_equal(ctx_ifglob_match_one("[", "["), 0);
    assert_int_equal(ctx_ifglob_match_one("a[!", "ab"), 0);
    assert_int_equal(ctx_ifglob_match_one(NULL, "a"), 0);
    assert_int_equal(ctx_ifglob_match_one("a", NULL), 0);
}

static void csv_list_matches_in_order(void **state) {
    (void)state;
    ctx_ifglob_t *g = NULL;
    char err[CTX_ERRLEN];
    assert_int_equal(ctx_ifglob_new_csv(" vnet*, tap3f*,eth0 ,\ttap*", &g, err, sizeof err), 0);
    assert_int_equal(ctx_ifglob_count(g), 4);
    assert_string_equal(ctx_ifglob_pattern(g, 0), "vnet*");
    assert_string_equal(ctx_ifglob_pattern(g, 1), "tap3f*");
    assert_string_equal(ctx_ifglob_pattern(g, 2), "eth0");
    assert_string_equal(ctx_ifglob_pattern(g, 3), "tap*");
    assert_null(ctx_ifglob_pattern(g, 4));
    assert_int_equal(ctx_ifglob_is_literal(g, 2), 1);
    assert_int_equal(ctx_ifglob_is_literal(g, 0), 0);
    assert_int_equal(ctx_ifglob_is_literal(g, 9), 0);
    assert_int_equal(ctx_ifglob_match(g, "vnet12"), 0);
    assert_int_equal(ctx_ifglob_match(g, "tap3f01"), 1); /* the first match in list order */
    assert_int_equal(ctx_ifglob_match(g, "tap40"), 3);
    assert_int_equal(ctx_ifglob_match(g, "eth0"), 2);
    assert_int_equal(ctx_ifglob_match(g, "eth01"), CTX_ENOENT);
    assert_int_equal(ctx_ifglob_match(g, "ta"), CTX_ENOENT); /* shorter than a literal prefix */
    assert_int_equal(ctx_ifglob_match(g, ""), CTX_ENOENT);
    assert_int_equal(ctx_ifglob_match(g, NULL), CTX_ENOENT);
    assert_int_equal(ctx_ifglob_match(NULL, "vnet1"), CTX_ENOENT);
    ctx_ifglob_free(g);
    ctx_ifglob_free(NULL);
}

static void csv_errors_name_the_pattern(void **state) {
    (void)state;
    ctx_ifglob_t *g = (ctx_ifglob_t *)1;
    char err[CTX_ERRLEN];
    assert_int_equal(ctx_ifglob_new_csv("vnet*,,tap*", &g, err, sizeof err), CTX_EINVAL);
    assert_null(g);
    assert_string_equal(err, "pattern 2 is empty (list \"vnet*,,tap*\")");
    assert_int_equal(ctx_ifglob_new_csv("vnet*, tap[3", &g, err, sizeof err), CTX_EINVAL);
    assert_string_equal(err, "pattern 2 \"tap[3\": '[' at offset 3 is not closed");
    assert_int_equal(ctx_ifglob_new_csv("vnet*,", &g, err, sizeof err), CTX_EINVAL);
    assert_string_equal(err, "pattern 2 is empty (list \"vnet*,\")");
    assert_int_equal(ctx_ifglob_new_csv("", &g, err, sizeof err), CTX_EINVAL);
    assert_string_equal(err, "pattern 1 is empty (list \"\")");
    assert_int_equal(ctx_ifglob_new_csv("eth0, a\"b:c", &g, err, sizeof err), CTX_EINVAL);
    assert_string_equal(err, "pattern 2 \"a\\\"b:c\": character ':' at offset 3 is not allowed in an interface name");
    assert_int_equal(ctx_ifglob_new_csv(NULL, &g, err, sizeof err), CTX_EINVAL);
    assert_string_equal(err, "no pattern list");
    assert_int_equal(ctx_ifglob_new_csv("a", NULL, err, sizeof err), CTX_EINVAL);
}

static void array_list(void **state) {
    (void)state;
    ctx_ifglob_t *g = NULL;
    char err[CTX_ERRLEN];
    const char *pats[] = {"veth?", "[ab]*", "vnet3"};
    assert_int_equal(ctx_ifglob_new_array(pats, 3, &g, err, sizeof err), 0);
    assert_int_equal(ctx_ifglob_count(g), 3);
    assert_int_equal(ctx_ifglob_match(g, "veth1"), 0);
    assert_int_equal(ctx_ifglob_match(g, "bond0"), 1);
    assert_int_equal(ctx_ifglob_match(g, "vnet3"), 2);
    assert_int_equal(ctx_ifglob_match(g, "vnet33"), CTX_ENOENT);
    ctx_ifglob_free(g);

    assert_int_equal(ctx_ifglob_new_array(NULL, 0, &g, err, sizeof err), 0); /* empty list: matches nothing */
    assert_int_equal(ctx_ifglob_count(g), 0);
    assert_int_equal(ctx_ifglob_match(g, "vnet0"), CTX_ENOENT);
    ctx_ifglob_free(g);

    const char *bad[] = {"vnet*", "eth 0"};
    assert_int_equal(ctx_ifglob_new_array(bad, 2, &g, err, sizeof err), CTX_EINVAL);
    assert_null(g);
    assert_string_equal(err, "pattern 2 \"eth 0\": byte 0x20 at offset 3 is not allowed in an interface name (no "
                             "blanks or control characters)");
}

CTX_TEST_MAIN(NULL, NULL,
    cmocka_unit_test(check_classifies_names_and_globs),
    cmocka_unit_test(check_rejects_with_reason),
    cmocka_unit_test(match_one_agrees_with_fnmatch),
    cmocka_unit_test(match_one_is_safe_on_unchecked_patterns),
    cmocka_unit_test(csv_list_matches_in_order),
    cmocka_unit_test(csv_errors_name_the_pattern),
    cmocka_unit_test(array_list))
