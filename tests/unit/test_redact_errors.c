/* test_redact_errors.c: every error message of a rules file and of the key file, exactly as the
 * operator reads it (docs/redaction.md lists the same messages). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include "check.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>

#include "ctxlog_common.h"
#include "redact.h"

struct bad {
    const char *text;
    const char *err;
};

static const struct bad bad_files[] = {
    {"[rule a]\npattern = x\npattern = y\n", "t.rules:3: duplicate key 'pattern' in this section"},
    {"replace.card = scramble\n",
     "t.rules:1: replace.card: expected redact, hash, mask or mask:N (N 0..32), got 'scramble'"},
    {"replace.card = mask:33\n",
     "t.rules:1: replace.card: expected redact, hash, mask or mask:N (N 0..32), got 'mask:33'"},
    {"secret_keys += a b\n",
     "t.rules:1: secret_keys: key name 'a b' invalid, expected [A-Za-z0-9_.-], 1..48 characters, "
     "optionally after '='"},
    {"secret_keys = ,\n", "t.rules:1: secret_keys: empty list, expected at least one key name"},
    {"enable += email\n", "t.rules:1: '+=' is only allowed with secret_keys, got 'enable +='"},
    {"key_file = /a\nkey_file = /b\n", "t.rules:2: duplicate key 'key_file' in this section"},
    {"hash_length = 3\n", "t.rules:1: hash_length: expected an integer 4..64, got '3'"},
    {"hash_length = 8x\n", "t.rules:1: hash_length: expected an integer 4..64, got '8x'"},
    {"invalid_utf8 = drop\n", "t.rules:1: invalid_utf8: expected replace or keep, got 'drop'"},
    {"colour = blue\n",
     "t.rules:1: unknown key 'colour' in [global], expected key_file, hash_length, invalid_utf8, "
     "secret_keys, enable, disable or replace.RULE"},
    {"[rule a]\npattern = x\nvalidator = crc\n", "t.rules:3: validator: expected none, luhn, ipv4 or ipv6, got 'crc'"},
    {"[rule a]\npattern = x\ncaseless = maybe\n", "t.rules:3: caseless: expected yes or no, got 'maybe'"},
    {"[rule a]\npatern = x\n",
     "t.rules:2: unknown key 'patern' in [rule a], expected pattern, group, replace, validator, "
     "trigger, trigger_nocase, caseless, enabled or tenants"},
    {"[rule a]\npattern = x\ngroup = first\n",
     "t.rules:3: group: expected a capture group number 0..99 or 'any', "
     "got 'first'"},
    {"[rule a]\npattern = x\nreplace = blank\n",
     "t.rules:3: replace: expected redact, hash, mask or mask:N (N 0..32), "
     "got 'blank'"},
    {"[tenant t]\npattern = x\n",
     "t.rules:2: unknown key 'pattern' in [tenant t], expected enable, disable or "
     "replace.RULE"},
    {"[rule a]\npattern = x\n[rule a]\n", "t.rules:3: duplicate [rule a] (first at line 1)"},
    {"[tenant t]\n\n[tenant t]\n", "t.rules:3: duplicate [tenant t] (first at line 1)"},
    {"[rule a\n", "t.rules:1: expected ']' at the end of the section header"},
    {"[rules]\n", "t.rules:1: unknown section '[rules]', expected [global], [rule NAME] or [tenant NAME]"},
    {"[rule a b]\n", "t.rules:1: rule name 'a b' invalid, expected [A-Za-z0-9_-], 1..48 characters"},
    {"[tenant a/b]\n", "t.rules:1: tenant name 'a/b' invalid, expected [A-Za-z0-9_-], 1..48 characters"},
    {"# ok\nenable\n", "t.rules:2: expected 'key = value' or '[section]'"},
    {"= x\n", "t.rules:1: expected 'key = value' or '[section]'"},
    {"enable =\n", "t.rules:1: enable: empty value"},
    {"[rule a]\ngroup = 1\n\n[global]\n", "t.rules:1: [rule a] has no pattern, expected 'pattern = REGEX'"},
    {"\n\n[rule a]\npattern = (ab\n",
     "t.rules:4: [rule a] pattern: PCRE2 error at offset 3: missing closing parenthesis"},
    {"[rule a]\nvalidator = luhn\npattern = (ab\n",
     "t.rules:3: [rule a] pattern: PCRE2 error at offset 3: missing closing parenthesis"},
    {"[rule a]\npattern = a(b)\ngroup = 2\n",
     "t.rules:2: [rule a] group: 2, but the pattern has only 1 capture group(s)"},
    {"[rule a]\npattern = (*UTF)x\n",
     "t.rules:2: [rule a] pattern: PCRE2 error at offset 6: using UTF is disabled by the application"},
    {"[rule a]\npattern = x\ntrigger_nocase = okay, ab\n",
     "t.rules:3: [rule a] trigger 'ab' too short, expected at least 3 bytes"},
    {"[rule a]\npattern = x\ntenants = acme, a.b\n",
     "t.rules:3: [rule a] tenants: tenant name 'a.b' invalid, expected [A-Za-z0-9_-], 1..48 characters"},
    {"[rule a]\npattern = x\ntenants = ,\n", "t.rules:3: [rule a] tenants: empty list, expected tenant names"},
    {"[rule card]\npattern = x\n", "t.rules:1: [rule card] has the name of a built-in rule, expected another name"},
    {"enable = email, cards\n", "t.rules:1: enable: unknown rule 'cards', expected a built-in rule or a [rule] name"},
    {"[tenant t]\ndisable = nope\n",
     "t.rules:2: disable: unknown rule 'nope', expected a built-in rule or a [rule] name"},
    {"replace.nope = hash\n",
     "t.rules:1: replace.nope: unknown rule 'nope', expected a built-in rule or a [rule] name"},
    {"[rule a]\npattern = x\ntenants = acme\n[global]\nenable = a\n",
     "t.rules:5: enable: rule 'a' is limited by its tenants key, not on for the global view"},
    {"[rule a]\npattern = x\ntenants = acme\n[tenant b]\nenable = a\n",
     "t.rules:5: enable: rule 'a' is limited by its tenants key, not on for b"},
    {"replace.card = hash\n",
     "t.rules:1: rule 'card' uses replace = hash but no key is set, expected key_file = PATH "
     "(or the key file parameter)"},
    {"[rule a]\npattern = x\nreplace = hash\n",
     "t.rules:3: rule 'a' uses replace = hash but no key is set, expected "
     "key_file = PATH (or the key file parameter)"},
    {"[tenant t]\nreplace.jwt = hash\n",
     "t.rules:2: rule 'jwt' uses replace = hash but no key is set, expected "
     "key_file = PATH (or the key file parameter)"},
    {"key_file = /nonexistent/redact.key\n",
     "key file /nonexistent/redact.key: cannot read: No such file or directory"},
};

static void each_file_error(void **state) {
    (void)state;
    for (size_t i = 0; i < sizeof bad_files / sizeof bad_files[0]; i++) {
        ctx_redact_rules *r = (ctx_redact_rules *)&r;
        char err[CTX_ERRLEN] = "unset";
        int rc = ctx_redact_rules_load_string(&r, bad_files[i].text, strlen(bad_files[i].text), "t.rules", NULL, err,
                                              sizeof err);
        if (rc >= 0 || strcmp(err, bad_files[i].err) != 0)
            fail_msg("case %zu: rc %d\ngot:  %s\nwant: %s", i, rc, err, bad_files[i].err);
        assert_true(rc == CTX_EPARSE || rc == CTX_EIO);
        assert_null(r);
    }
}

static void nul_byte_and_files(void **state) {
    (void)state;
    ctx_redact_rules *r = NULL;
    char err[CTX_ERRLEN];
    assert_int_equal(ctx_redact_rules_load_string(&r, "# a\nen\0able = x\n", 16, "t.rules", NULL, err, sizeof err),
                     CTX_EPARSE);
    assert_string_equal(err, "t.rules:2: NUL byte in the line, expected text");
    assert_int_equal(ctx_redact_rules_load_file(&r, "/nonexistent/redact.rules", NULL, err, sizeof err), CTX_EIO);
    assert_string_equal(err, "/nonexistent/redact.rules: cannot read: No such file or directory");
    char key[] = "/tmp/test_redact_shortkeyXXXXXX";
    int fd = mkstemp(key);
    assert_int_equal(write(fd, "short\n", 6), 6);
    close(fd);
    assert_int_equal(ctx_redact_rules_load_file(&r, NULL, key, err, sizeof err), CTX_EPARSE);
    char want[CTX_ERRLEN];
    snprintf(want, sizeof want, "key file %s: 5 bytes, expected at least 16", key);
    assert_string_equal(err, want);
    fd = open(key, O_WRONLY | O_TRUNC);
    char big[5000];
    memset(big, 'k', sizeof big);
    assert_int_equal(write(fd, big, sizeof big), (ssize_t)sizeof big);
    close(fd);
    assert_int_equal(ctx_redact_rules_load_file(&r, NULL, key, err, sizeof err), CTX_EPARSE);
    snprintf(want, sizeof want, "key file %s: longer than 4096 bytes, expected a key", key);
    assert_string_equal(err, want);
    unlink(key);
    /* a good file with every key, from disk */
    char path[] = "/tmp/test_redact_goodXXXXXX";
    fd = mkstemp(path);
    dprintf(fd,
            "[global]\nhash_length = 16\ninvalid_utf8 = keep\nsecret_keys = password\nsecret_keys += pin\n"
            "enable = email\ndisable = card\nreplace.jwt = mask:3\n"
            "[rule r1]\npattern = R1-(\\d+)\ngroup = any\nreplace = mask\nvalidator = none\ntrigger = R1-\n"
            "caseless = yes\nenabled = no\ntenants = t1\n[tenant t1]\nenable = r1, ipv4\n");
    close(fd);
    assert_int_equal(ctx_redact_rules_load_file(&r, path, NULL, err, sizeof err), 0);
    assert_string_equal(err, "");
    const ctx_redact_set *g = ctx_redact_for_tenant(r, NULL), *t1 = ctx_redact_for_tenant(r, "t1");
    assert_int_equal(ctx_redact_set_enabled(g, ctx_redact_rules_find(r, "card")), 0);
    assert_int_equal(ctx_redact_set_enabled(g, ctx_redact_rules_find(r, "email")), 1);
    assert_int_equal(ctx_redact_set_enabled(g, ctx_redact_rules_find(r, "r1")), 0);
    assert_int_equal(ctx_redact_set_enabled(t1, ctx_redact_rules_find(r, "r1")), 1);
    assert_int_equal(ctx_redact_set_enabled(t1, ctx_redact_rules_find(r, "ipv4")), 1);
    ctx_redact_ctx *c = ctx_redact_ctx_new(r);
    const char *out;
    size_t outlen;
    assert_int_equal(ctx_redact_apply(c, t1, "r1-12345 pin=1 token=2 \xff", 24, &out, &outlen), 1);
    assert_string_equal(out, "r1-*2345 pin=[REDACTED:kv-secret] token=2 \xff");
    ctx_redact_ctx_free(c);
    ctx_redact_rules_free(r);
    unlink(path);
}

CTX_TEST_MAIN(NULL, NULL,
    cmocka_unit_test(each_file_error),
    cmocka_unit_test(nul_byte_and_files))
