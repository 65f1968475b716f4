/* test_policy.c: the policy rulebase parser (every error message), matcher, counters, threads. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "check.h"
#include <dirent.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctxlog_common.h"
#include "corpusdir.h"
#include "policy.h"

#define DATA CTX_SRCDIR "/tests/data/policy/"

static ctx_policy *parse_ok(const char *text) {
    char err[CTX_ERRLEN] = "";
    ctx_policy *p = NULL;
    int rc = ctx_policy_parse(text, strlen(text), "t.rules", &p, err, sizeof err);
    if (rc != 0) fail_msg("unexpected parse error %d: %s", rc, err);
    assert_non_null(p);
    return p;
}

static void expect_err(const char *text, const char *msg) {
    char err[CTX_ERRLEN] = "";
    ctx_policy *p = (ctx_policy *)&err; /* must be reset to NULL */
    assert_int_equal(ctx_policy_parse(text, strlen(text), "t.rules", &p, err, sizeof err), CTX_EPARSE);
    assert_null(p);
    assert_string_equal(err, msg);
    assert_null(strchr(err, '\n'));
}

static ctx_policy_msg mk(int sev, int fac, const char *tenant, const char *vm, const char *uuid, const char *app,
                         const char *msg) {
    ctx_policy_msg m = {sev, fac, tenant, vm, uuid, app, msg, msg ? strlen(msg) : 0};
    return m;
}

static ctx_policy_result eval(const ctx_policy *p, ctx_policy_msg m) {
    ctx_policy_result r;
    ctx_policy_scratch *s = ctx_policy_scratch_new();
    assert_non_null(s);
    assert_int_equal(ctx_policy_eval(p, &m, s, &r), 0);
    ctx_policy_scratch_free(s);
    return r;
}

/* Bit n set when a message of severity n (facility 1, nothing else) matches a rule at all. */
static unsigned sev_matches(const char *cond) {
    char text[256];
    snprintf(text, sizeof text, "rule r when %s then minimal\n", cond);
    ctx_policy *p = parse_ok(text);
    unsigned bits = 0;
    for (int sev = 0; sev < 8; sev++)
        if (eval(p, mk(sev, 1, NULL, NULL, NULL, NULL, "x")).rule == 0) bits |= 1u << sev;
    ctx_policy_free(p);
    return bits;
}

static void severity_comparisons(void **state) {
    (void)state;
    static const struct {
        const char *cond;
        unsigned want; /* bit n: a message of severity n matches */
    } cases[] = {
        {"severity <= err", 0x0f},
        {"severity < err", 0x07},
        {"severity > err", 0xf0},
        {"severity >= warning", 0xf0},
        {"severity == debug", 0x80},
        {"severity != debug", 0x7f},
        {"severity == warning,notice , 0", 0x31},
        {"severity != emerg,alert", 0xfc},
        {"severity<=3", 0x0f}, /* no blanks needed */
        {"severity <= ERROR", 0x0f}, /* names: any case, aliases */
        {"severity == warn,panic", 0x11},
        {"severity < emerg", 0x00},
        {"severity > debug", 0x00},
        {"severity >= 0 and severity <= 7", 0xff},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        unsigned got = sev_matches(cases[i].cond);
        if (got != cases[i].want) fail_msg("'%s': matches 0x%02x, expected 0x%02x", cases[i].cond, got, cases[i].want);
    }
    /* out-of-range severities never match a severity test, even != */
    ctx_policy *p = parse_ok("rule r when severity != debug then minimal\n");
    assert_int_equal(eval(p, mk(8, 1, NULL, NULL, NULL, NULL, NULL)).rule, -1);
    assert_int_equal(eval(p, mk(-1, 1, NULL, NULL, NULL, NULL, NULL)).rule, -1);
    ctx_policy_free(p);
}

static void facility_lists(void **state) {
    (void)state;
    ctx_policy *p = parse_ok(
        "rule a when facility == auth,authpriv,local7 then verbose\n"
        "rule b when facility != kern,13 then minimal\n");
    assert_int_equal(eval(p, mk(6, 4, NULL, NULL, NULL, NULL, NULL)).rule, 0);
    assert_int_equal(eval(p, mk(6, 10, NULL, NULL, NULL, NULL, NULL)).rule, 0);
    assert_int_equal(eval(p, mk(6, 23, NULL, NULL, NULL, NULL, NULL)).rule, 0);
    assert_int_equal(eval(p, mk(6, 1, NULL, NULL, NULL, NULL, NULL)).rule, 1);
    assert_int_equal(eval(p, mk(6, 0, NULL, NULL, NULL, NULL, NULL)).rule, -1);
    assert_int_equal(eval(p, mk(6, 13, NULL, NULL, NULL, NULL, NULL)).rule, -1);
    assert_int_equal(eval(p, mk(6, 24, NULL, NULL, NULL, NULL, NULL)).rule, -1);
    ctx_policy_free(p);
}

static void string_matches(void **state) {
    (void)state;
    ctx_policy *p = parse_ok(
        "rule t when tenant == acme,\"globex inc\" then minimal\n"
        "rule nt when tenant == \"\" then standard\n"
        "rule g when vm like \"web-[0-9]*\" then verbose\n"
        "rule ng when vm !like \"db-*\" and app != sshd then debug\n"
        "rule u when uuid == 6F1C2F0E-3B7A-4C55-9D1E-0A8B7C6D5E4F then verbose tag u=1\n"
        "rule ul when uuid like \"AB*\" then verbose tag ul=1\n"
        "rule re when app =~ \"^cron(d)?$\" then minimal tag re=1\n"
        "rule nre when app !~ \"^x\" then minimal tag nre=1\n");
    const char *u = "6f1c2f0e-3b7a-4c55-9d1e-0a8b7c6d5e4f";
    assert_int_equal(eval(p, mk(6, 1, "acme", "db-1", NULL, NULL, NULL)).rule, 0);
    assert_int_equal(eval(p, mk(6, 1, "globex inc", "db-1", NULL, NULL, NULL)).rule, 0);
    assert_int_equal(eval(p, mk(6, 1, "Acme", "db-1", u, NULL, NULL)).rule, 4);  /* tenant is case-sensitive */
    assert_int_equal(eval(p, mk(6, 1, NULL, "db-1", NULL, NULL, NULL)).rule, 1); /* NULL tenant is "" */
    assert_int_equal(eval(p, mk(6, 1, "", "db-1", NULL, NULL, NULL)).rule, 1);
    assert_int_equal(eval(p, mk(6, 1, "x", "web-12", NULL, NULL, NULL)).rule, 2);
    assert_int_equal(eval(p, mk(6, 1, "x", "web-a", NULL, "app", NULL)).rule, 3);
    assert_int_equal(eval(p, mk(6, 1, "x", "web-a", NULL, "sshd", NULL)).rule, 7);
    assert_int_equal(eval(p, mk(6, 1, "x", "db-2", u, "sshd", NULL)).rule, 4);
    assert_int_equal(eval(p, mk(6, 1, "x", "db-2", "abcd", "sshd", NULL)).rule, 5);
    assert_int_equal(eval(p, mk(6, 1, "x", "db-2", "ffff", "crond", NULL)).rule, 6);
    assert_int_equal(eval(p, mk(6, 1, "x", "db-2", "ffff", "cron", NULL)).rule, 6);
    assert_int_equal(eval(p, mk(6, 1, "x", "db-2", "ffff", "xcron", NULL)).rule, -1);
    ctx_policy_free(p);
}

static void msg_regex_uses_length(void **state) {
    (void)state;
    ctx_policy *p = parse_ok(
        "rule seg when msg =~ \"segfault at [0-9a-f]+\\b\" then debug\n"
        "rule end when msg =~ \"tail$\" then minimal\n"
        "rule quote when msg =~ \"say \\\"hi\\\"\" then verbose\n"
        "rule empty when msg !~ . then minimal\n");
    ctx_policy_msg m = mk(6, 1, NULL, NULL, NULL, NULL, "app[1]: segfault at 7f3a ip 0000");
    assert_int_equal(eval(p, m).rule, 0);
    /* only msglen bytes count: the "tail" after them is not part of the message */
    const char buf[] = "no match here tail";
    m = mk(6, 1, NULL, NULL, NULL, NULL, buf);
    m.msglen = 13;
    assert_int_equal(eval(p, m).rule, -1);
    m.msglen = sizeof buf - 1;
    assert_int_equal(eval(p, m).rule, 1);
    assert_int_equal(eval(p, mk(6, 1, NULL, NULL, NULL, NULL, "they say \"hi\" twice")).rule, 2);
    assert_int_equal(eval(p, mk(6, 1, NULL, NULL, NULL, NULL, NULL)).rule, 3);
    /* bytes that are not UTF-8, and NULs, are fine: patterns match bytes */
    m = mk(6, 1, NULL, NULL, NULL, NULL, NULL);
    m.msg = "\xff\xfe\0segfault at 1f";
    m.msglen = 17;
    assert_int_equal(eval(p, m).rule, 0);
    ctx_policy_free(p);
}

static void first_match_continue_tags_drop(void **state) {
    (void)state;
    ctx_policy *p = parse_ok(
        "rule tag1 when tenant == acme then tag team=pay tag env=prod continue\n"
        "rule tag2 when tenant == acme then tag team=other tag zone=\"eu west\" minimal continue\n"
        "rule noise when app == dhclient then drop\n"
        "rule errs when severity <= err then verbose\n"
        "rule never when severity <= err then debug\n"
        "rule tagonly when app == tagger then tag t=1\n");
    ctx_policy_result r = eval(p, mk(3, 1, "acme", NULL, NULL, "app", NULL));
    assert_int_equal(r.rule, 3);
    assert_int_equal(r.nmatched, 3);
    assert_int_equal(r.groups, CTX_POLICY_LEVEL_VERBOSE); /* minimal | verbose */
    assert_int_equal(r.defaulted, 0);
    assert_int_equal(r.drop, 0);
    assert_int_equal(r.ntags, 3);
    assert_string_equal(r.tags[0].key, "team");
    assert_string_equal(r.tags[0].value, "pay"); /* the earlier rule's value is kept */
    assert_string_equal(r.tags[1].key, "env");
    assert_string_equal(r.tags[2].key, "zone");
    assert_string_equal(r.tags[2].value, "eu west");
    /* continue rules that match, then nothing decides: groups of the continue rules stay */
    r = eval(p, mk(6, 1, "acme", NULL, NULL, "app", NULL));
    assert_int_equal(r.rule, -1);
    assert_int_equal(r.groups, CTX_POLICY_LEVEL_MINIMAL);
    assert_int_equal(r.defaulted, 0);
    /* a drop after continue rules: no groups, no tags */
    r = eval(p, mk(3, 1, "acme", NULL, NULL, "dhclient", NULL));
    assert_int_equal(r.drop, 1);
    assert_int_equal(r.rule, 2);
    assert_int_equal(r.groups, 0);
    assert_int_equal(r.ntags, 0);
    assert_int_equal(r.nmatched, 3);
    /* a tag-only rule decides, the defaults pick the groups */
    r = eval(p, mk(7, 1, NULL, NULL, NULL, "tagger", NULL));
    assert_int_equal(r.rule, 5);
    assert_int_equal(r.defaulted, 1);
    assert_int_equal(r.groups, CTX_POLICY_LEVEL_DEBUG);
    assert_int_equal(r.ntags, 1);
    /* counters: tag1 3, tag2 3, noise 1, errs 1, never 0, tagonly 1; 1 drop; 1 defaulted */
    const uint64_t want[] = {3, 3, 1, 1, 0, 1};
    assert_int_equal(ctx_policy_nrules(p), 6);
    for (size_t i = 0; i < 6; i++) assert_int_equal(ctx_policy_rule_hits(p, i), want[i]);
    assert_int_equal(ctx_policy_drops(p), 1);
    assert_int_equal(ctx_policy_defaulted(p), 1);
    assert_int_equal(*ctx_policy_drops_ctr(p), 1);
    assert_int_equal(*ctx_policy_rule_hits_ctr(p, 0), 3);
    assert_null(ctx_policy_rule_hits_ctr(p, 6));
    ctx_policy_free(p);
}

static void defaults_and_empty(void **state) {
    (void)state;
    ctx_policy *d = NULL;
    assert_int_equal(ctx_policy_default(&d), 0);
    assert_int_equal(ctx_policy_nrules(d), 3);
    assert_string_equal(ctx_policy_rule_name(d, 0), "default-err");
    assert_string_equal(ctx_policy_rule_name(d, 1), "default-debug");
    assert_string_equal(ctx_policy_rule_name(d, 2), "default-rest");
    assert_int_equal(ctx_policy_rule_line(d, 0), 0);
    assert_string_equal(ctx_policy_source(d), "(built-in)");
    ctx_policy *e = parse_ok("# nothing but a comment\n\n   \n");
    assert_int_equal(ctx_policy_nrules(e), 0);
    const unsigned want[8] = {CTX_POLICY_LEVEL_VERBOSE,  CTX_POLICY_LEVEL_VERBOSE,  CTX_POLICY_LEVEL_VERBOSE,
                              CTX_POLICY_LEVEL_VERBOSE,  CTX_POLICY_LEVEL_STANDARD, CTX_POLICY_LEVEL_STANDARD,
                              CTX_POLICY_LEVEL_STANDARD, CTX_POLICY_LEVEL_DEBUG};
    for (int sev = 0; sev < 8; sev++) {
        ctx_policy_result r = eval(d, mk(sev, 1, NULL, NULL, NULL, NULL, NULL));
        assert_int_equal(r.groups, want[sev]);
        assert_int_equal(r.defaulted, 0);
        assert_int_equal(r.rule, sev <= 3 ? 0 : (sev == 7 ? 1 : 2));
        r = eval(e, mk(sev, 1, NULL, NULL, NULL, NULL, NULL));
        assert_int_equal(r.groups, want[sev]);
        assert_int_equal(r.defaulted, 1);
        assert_int_equal(r.rule, -1);
        assert_int_equal(ctx_policy_default_groups(sev), want[sev]);
    }
    assert_int_equal(ctx_policy_rule_hits(d, 0), 4);
    assert_int_equal(ctx_policy_rule_hits(d, 1), 1);
    assert_int_equal(ctx_policy_rule_hits(d, 2), 3);
    assert_int_equal(ctx_policy_defaulted(d), 0);
    assert_int_equal(ctx_policy_defaulted(e), 8);
    assert_int_equal(CTX_POLICY_LEVEL_DEBUG, 0xf);
    assert_string_equal(ctx_policy_group_name(CTX_POLICY_G_VERBOSE), "verbose");
    assert_null(ctx_policy_group_name(3));
    ctx_policy_free(d);
    ctx_policy_free(e);
}

/* hostwide: verbose plus the host-wide bit, only where a rule says so; no level and no default has it */
static void hostwide_only_when_named(void **state) {
    (void)state;
    ctx_policy *p = parse_ok("rule ops when tenant == provider then hostwide\n"
                             "rule deep when tenant == acme and severity <= crit then debug hostwide\n"
                             "rule rest then debug\n");
    ctx_policy_result r = eval(p, mk(6, 1, "provider", NULL, NULL, NULL, NULL));
    assert_int_equal(r.groups, CTX_POLICY_LEVEL_VERBOSE | CTX_POLICY_G_HOSTWIDE);
    r = eval(p, mk(2, 1, "acme", NULL, NULL, NULL, NULL));
    assert_int_equal(r.groups, CTX_POLICY_LEVEL_DEBUG | CTX_POLICY_G_HOSTWIDE);
    r = eval(p, mk(3, 1, "acme", NULL, NULL, NULL, NULL));
    assert_int_equal(r.groups, CTX_POLICY_LEVEL_DEBUG);
    ctx_policy_free(p);
    for (int sev = 0; sev < 8; sev++) assert_int_equal(ctx_policy_default_groups(sev) & CTX_POLICY_G_HOSTWIDE, 0);
    assert_int_equal(CTX_POLICY_LEVEL_DEBUG & CTX_POLICY_G_HOSTWIDE, 0);
    assert_string_equal(ctx_policy_group_name(CTX_POLICY_G_HOSTWIDE), "hostwide");
    expect_err("rule a then hostwide drop\n", "t.rules:1: no drop next to other actions (drop takes no other action), "
                                                "got \"drop\"");
    expect_err("rule a then drop hostwide\n", "t.rules:1: nothing after drop (drop takes no other action), "
                                                "got \"hostwide\"");
}

static void lexing_details(void **state) {
    (void)state;
    /* comments, CRLF, continuation lines, a backslash in a regex, '#' inside a word */
    ctx_policy *p = parse_ok(
        "# head\r\n"
        "rule a when app == web#1 then minimal # trailing\r\n"
        "rule b when msg =~ \"^\\d+ items\" \\\n"
        "   and severity <= info \\\r\n"
        "   then verbose\n"
        "rule c then tag k=\"a\\\\b\" tag q=\"x\\\"y\" standard");
    assert_int_equal(ctx_policy_nrules(p), 3);
    assert_int_equal(ctx_policy_rule_line(p, 0), 2);
    assert_int_equal(ctx_policy_rule_line(p, 1), 3);
    assert_int_equal(ctx_policy_rule_line(p, 2), 6);
    assert_int_equal(eval(p, mk(6, 1, NULL, NULL, NULL, "web#1", NULL)).rule, 0);
    assert_int_equal(eval(p, mk(6, 1, NULL, NULL, NULL, NULL, "42 items")).rule, 1);
    assert_int_equal(eval(p, mk(7, 1, NULL, NULL, NULL, NULL, "42 items")).rule, 2);
    ctx_policy_result r = eval(p, mk(6, 1, NULL, NULL, NULL, NULL, "d items"));
    assert_int_equal(r.rule, 2);
    assert_string_equal(r.tags[0].value, "a\\\\b"); /* only \" is an escape */
    assert_string_equal(r.tags[1].value, "x\"y");
    ctx_policy_free(p);
}

static void error_messages(void **state) {
    (void)state;
    expect_err("rules x then minimal\n", "t.rules:1: \"rule\" at the start of a line, got \"rules\"");
    expect_err("\n\nrule\n", "t.rules:3: a rule name (letters, digits, '_', '-', '.', at most 64), got end of line");
    expect_err("rule a/b then minimal\n",
               "t.rules:1: a rule name (letters, digits, '_', '-', '.', at most 64), got \"a/b\"");
    expect_err("rule x then minimal\n# c\nrule x then debug\n",
               "t.rules:3: a rule name not used before (line 1), got \"x\"");
    expect_err("rule x severity <= err then verbose\n", "t.rules:1: \"when\" or \"then\", got \"severity\"");
    expect_err("rule x when sev <= err then verbose\n",
               "t.rules:1: a field (severity, facility, tenant, vm, uuid, app, msg), got \"sev\"");
    expect_err("rule x when severity =~ err then verbose\n",
               "t.rules:1: an operator for severity (==, !=, <, <=, >, >=), got \"=~\"");
    expect_err("rule x when severity !like err then verbose\n",
               "t.rules:1: an operator for severity (==, !=, <, <=, >, >=), got \"!like\"");
    expect_err("rule x when facility < auth then verbose\n", "t.rules:1: an operator for facility (==, !=), got \"<\"");
    expect_err("rule x when msg == foo then verbose\n", "t.rules:1: an operator for msg (=~, !~), got \"==\"");
    expect_err("rule x when tenant <= foo then verbose\n",
               "t.rules:1: an operator for a name (==, !=, like, !like, =~, !~), got \"<=\"");
    expect_err("rule x when vm ! like foo then verbose\n",
               "t.rules:1: an operator for a name (==, !=, like, !like, =~, !~), got \"!\"");
    expect_err("rule x when severity <= high then verbose\n",
               "t.rules:1: a severity (emerg, alert, crit, err, warning, notice, info, debug or 0-7), got \"high\"");
    expect_err("rule x when severity == 8 then verbose\n",
               "t.rules:1: a severity (emerg, alert, crit, err, warning, notice, info, debug or 0-7), got \"8\"");
    expect_err("rule x when facility == local8 then verbose\n",
               "t.rules:1: a facility (kern, user, mail, daemon, auth, syslog, lpr, news, uucp, cron, authpriv, ftp, "
               "ntp, audit, alert, clock, local0-local7 or 0-23), got \"local8\"");
    expect_err("rule x when tenant ==\n", "t.rules:1: a value (a word or a \"quoted string\"), got end of line");
    expect_err("rule x when tenant == a, then verbose\n", "t.rules:1: \"and\" or \"then\", got \"verbose\"");
    expect_err("rule x when msg =~ \"(abc\" then verbose\n",
               "t.rules:1: a regular expression that compiles (missing closing parenthesis at offset 4), got \"(abc\"");
    expect_err("rule x when severity <= err,warning then verbose\n", "t.rules:1: \"and\" or \"then\", got \",\"");
    expect_err("rule x when severity <= err verbose\n", "t.rules:1: \"and\" or \"then\", got \"verbose\"");
    expect_err("rule x then verbos\n",
               "t.rules:1: an action (minimal, standard, verbose, debug, hostwide, tag, drop, continue), got \"verbos\"");
    expect_err("rule x then\n",
               "t.rules:1: an action (minimal, standard, verbose, debug, hostwide, tag, drop, continue), got end of line");
    expect_err("rule x then tag Team=a\n",
               "t.rules:1: a tag key (a-z, 0-9, '_', starting with a letter, at most 63), got \"Team\"");
    expect_err("rule x then tag team payments\n", "t.rules:1: \"=\" after the tag key, got \"payments\"");
    expect_err("rule x then tag team==a\n", "t.rules:1: \"=\" after the tag key, got \"==\"");
    expect_err("rule x then tag team=\n",
               "t.rules:1: a tag value (a word or a \"quoted string\", at most 1024 bytes), got end of line");
    expect_err("rule x then tag team=a tag team=b\n", "t.rules:1: a tag key not set before in this rule, got \"team\"");
    expect_err("rule x then drop verbose\n",
               "t.rules:1: nothing after drop (drop takes no other action), got \"verbose\"");
    expect_err("rule x then continue drop\n",
               "t.rules:1: no drop next to other actions (drop takes no other action), got \"drop\"");
    expect_err("rule x when app == \"abc then minimal\n", "t.rules:1: a closing '\"', got end of line");
    expect_err("rule x when app == \"a\x01\" then minimal\n", "t.rules:1: printable text, got \"\\x01\"");
    expect_err("rule x then minimal\x7f\n", "t.rules:1: printable text, got \"\\x7f\"");
    expect_err("rule x when severity <=",
               "t.rules:1: a severity (emerg, alert, crit, err, warning, notice, info, "
               "debug or 0-7), got end of file");
    /* the line of a token after continuation lines */
    expect_err("rule x when app == a \\\n  and vm == b \\\n  then bogus\n",
               "t.rules:3: an action (minimal, standard, verbose, debug, hostwide, tag, drop, continue), got \"bogus\"");
    /* long tokens are cut at 48 bytes */
    expect_err("rule x then aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n",
               "t.rules:1: an action (minimal, standard, verbose, debug, hostwide, tag, drop, continue), got "
               "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...\"");
}

static void too_many_rules_and_long_values(void **state) {
    (void)state;
    size_t cap = (CTX_POLICY_MAX_RULES + 1) * 32;
    char *text = malloc(cap), *o = text;
    for (int i = 0; i <= CTX_POLICY_MAX_RULES; i++) o += sprintf(o, "rule r%d then minimal\n", i);
    expect_err(text, "t.rules:10001: at most 10000 rules, got \"rule\"");
    text[strlen(text) - strlen("rule r10000 then minimal\n")] = '\0';
    ctx_policy *p = parse_ok(text);
    assert_int_equal(ctx_policy_nrules(p), CTX_POLICY_MAX_RULES);
    assert_string_equal(ctx_policy_rule_name(p, 9999), "r9999");
    ctx_policy_free(p);
    free(text);
    char vs[1026], big[1200];
    memset(vs, 'v', 1025);
    vs[1025] = '\0';
    snprintf(big, sizeof big, "rule x then tag k=%s\n", vs);
    expect_err(big,
               "t.rules:1: a tag value (a word or a \"quoted string\", at most 1024 bytes), got "
               "\"vvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvv...\"");
}

static void load_files(void **state) {
    (void)state;
    char err[CTX_ERRLEN];
    ctx_policy *p = NULL;
    assert_int_equal(ctx_policy_load(CTX_SRCDIR "/conf-examples/policy.rules", &p, err, sizeof err), 0);
    assert_string_equal(err, "");
    const char *names[] = {"lb-healthcheck", "dhcp-renew", "acme-tag", "guest-oops", "auth-fail",
                           "build-farm",     "watch-vm",   "errors",   "debugging",  "rest"};
    assert_int_equal(ctx_policy_nrules(p), 10);
    for (size_t i = 0; i < 10; i++) assert_string_equal(ctx_policy_rule_name(p, i), names[i]);
    assert_int_equal(ctx_policy_rule_line(p, 0), 10);
    assert_int_equal(ctx_policy_rule_line(p, 4), 22);
    assert_int_equal(ctx_policy_rule_line(p, 5), 26);
    /* what the example promises */
    ctx_policy_result r =
        eval(p, mk(6, 3, "acme", "web-1", NULL, "nginx", "10.0.0.9 - - \"GET /healthz HTTP/1.1\" 200"));
    assert_int_equal(r.drop, 1);
    r = eval(p, mk(6, 4, "acme", "web-1", NULL, "sshd", "Failed password for root from 10.1.1.1"));
    assert_int_equal(r.rule, 4);
    assert_int_equal(r.groups, CTX_POLICY_LEVEL_VERBOSE);
    assert_int_equal(r.ntags, 3);
    assert_string_equal(r.tags[1].key, "cost_center");
    assert_string_equal(r.tags[1].value, "CC 4711");
    assert_string_equal(r.tags[2].value, "auth-failure");
    r = eval(p, mk(4, 1, "x", "ci-runner-17", NULL, "make", "warning: unused"));
    assert_int_equal(r.groups, CTX_POLICY_LEVEL_MINIMAL);
    r = eval(p, mk(2, 1, "x", "ci-runner-17", NULL, "make", "oom"));
    assert_int_equal(r.rule, 7);
    r = eval(p, mk(6, 0, "x", "vm", NULL, "kernel", "BUG: kernel panic - not syncing"));
    assert_int_equal(r.groups, CTX_POLICY_LEVEL_DEBUG);
    r = eval(p, mk(6, 1, "x", "vm", "6f1c2f0e-3b7a-4c55-9d1e-0a8b7c6d5e4f", "app", "hello"));
    assert_int_equal(r.rule, 6);
    assert_string_equal(ctx_policy_source(p), CTX_SRCDIR "/conf-examples/policy.rules");
    ctx_policy_free(p);

    assert_int_equal(ctx_policy_load(DATA "bad-line7.rules", &p, err, sizeof err), CTX_EPARSE);
    assert_null(p);
    assert_string_equal(err, DATA
                        "bad-line7.rules:7: a severity (emerg, alert, crit, err, warning, notice, info, "
                        "debug or 0-7), got \"critical\"");
    assert_int_equal(ctx_policy_load(DATA "does-not-exist.rules", &p, err, sizeof err), CTX_EIO);
    assert_string_equal(err, DATA "does-not-exist.rules: cannot read: No such file or directory");
    assert_int_equal(ctx_policy_load(DATA, &p, err, sizeof err), CTX_EIO);
    assert_string_equal(err, DATA ": cannot read: not a regular file");
    assert_int_equal(ctx_policy_load(NULL, &p, err, sizeof err), CTX_EINVAL);
}

static void too_big_file(void **state) {
    (void)state;
    char path[] = "/tmp/test_policy_XXXXXX", err[CTX_ERRLEN], want[CTX_ERRLEN];
    int fd = mkstemp(path);
    ASSERT_GE(fd, 0);
    FILE *f = fdopen(fd, "w");
    for (int i = 0; i <= CTX_POLICY_MAX_FILE / 64; i++) fprintf(f, "%63s\n", "# padding");
    fclose(f);
    ctx_policy *p = NULL;
    assert_int_equal(ctx_policy_load(path, &p, err, sizeof err), CTX_EFULL);
    snprintf(want, sizeof want, "%s: larger than 1048576 bytes, the most a policy file may be", path);
    assert_string_equal(err, want);
    unlink(path);
}

static void regex_limits_count_errors(void **state) {
    (void)state;
    ctx_policy *p = parse_ok(
        "rule slow when msg =~ \"^(a+)+$\" then debug\n"
        "rule slow2 when msg !~ \"^(a+)+$\" then verbose\n");
    char buf[64]; /* 20 a's and a b: ~2^20 backtracking steps, past our limit, within PCRE2's default */
    memset(buf, 'a', 20);
    strcpy(buf + 20, "b");
    ctx_policy_result r = eval(p, mk(6, 1, NULL, NULL, NULL, NULL, buf));
    /* the match limit stops both patterns; neither condition holds */
    assert_int_equal(r.rule, -1);
    assert_int_equal(r.defaulted, 1);
    assert_int_equal(ctx_policy_regex_errors(p), 2);
    assert_int_equal(eval(p, mk(6, 1, NULL, NULL, NULL, NULL, "aaaa")).rule, 0);
    assert_int_equal(ctx_policy_regex_errors(p), 2);
    ctx_policy_free(p);
}

static void eval_without_scratch_and_bad_args(void **state) {
    (void)state;
    ctx_policy *p = parse_ok("rule r when msg =~ x then debug\n");
    ctx_policy_msg m = mk(6, 1, NULL, NULL, NULL, NULL, "xyz");
    ctx_policy_result r;
    assert_int_equal(ctx_policy_eval(p, &m, NULL, &r), 0);
    assert_int_equal(r.rule, 0);
    assert_int_equal(ctx_policy_eval(NULL, &m, NULL, &r), CTX_EINVAL);
    assert_int_equal(r.groups, 0);
    assert_int_equal(ctx_policy_eval(p, NULL, NULL, &r), CTX_EINVAL);
    assert_int_equal(ctx_policy_eval(p, &m, NULL, NULL), CTX_EINVAL);
    ctx_policy_free(p);
    ctx_policy_free(NULL);
    ctx_policy_scratch_free(NULL);
    assert_int_equal(ctx_policy_nrules(NULL), 0);
    assert_null(ctx_policy_rule_name(NULL, 0));
}

static void refcount_and_carry(void **state) {
    (void)state;
    ctx_policy *old = parse_ok("rule a then minimal\nrule b when app == x then drop\n");
    eval(old, mk(6, 1, NULL, NULL, NULL, "y", NULL));
    eval(old, mk(6, 1, NULL, NULL, NULL, "y", NULL));
    assert_ptr_equal(ctx_policy_hold(old), old);
    ctx_policy_free(old); /* still held once */
    assert_int_equal(ctx_policy_rule_hits(old, 0), 2);
    ctx_policy *fresh = parse_ok("rule c then verbose\nrule a then minimal\n");
    ctx_policy_carry_counters(fresh, old);
    assert_int_equal(ctx_policy_rule_hits(fresh, 0), 0);
    assert_int_equal(ctx_policy_rule_hits(fresh, 1), 2);
    ctx_policy_carry_counters(fresh, NULL);
    ctx_policy_free(old);
    ctx_policy_free(fresh);
}

#define NTHREADS 4
#define NEVALS 20000

struct worker {
    ctx_policy *p;
    int id;
    unsigned bad;
};

static void *worker_main(void *arg) {
    struct worker *w = arg;
    ctx_policy_scratch *s = ctx_policy_scratch_new();
    char text[64];
    for (int i = 0; i < NEVALS; i++) {
        int sev = i % 8;
        snprintf(text, sizeof text, "worker %d message %d %s", w->id, i, i % 3 == 0 ? "segfault" : "fine");
        ctx_policy_msg m = mk(sev, 1, "t", "vm", NULL, "app", text);
        ctx_policy_result r;
        ctx_policy_eval(w->p, &m, s, &r);
        int want = i % 3 == 0 ? 0 : (sev <= 3 ? 1 : -1);
        if (r.rule != want) w->bad++;
    }
    ctx_policy_scratch_free(s);
    return NULL;
}

static void concurrent_evaluation(void **state) {
    (void)state;
    ctx_policy *p = parse_ok(
        "rule seg when msg =~ \"segfault$\" then debug\n"
        "rule err when severity <= err then verbose\n");
    pthread_t th[NTHREADS];
    struct worker w[NTHREADS];
    for (int i = 0; i < NTHREADS; i++) {
        w[i] = (struct worker){p, i, 0};
        assert_int_equal(pthread_create(&th[i], NULL, worker_main, &w[i]), 0);
    }
    for (int i = 0; i < NTHREADS; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(w[i].bad, 0);
    }
    uint64_t seg = 0, err = 0;
    for (int i = 0; i < NEVALS; i++) {
        if (i % 3 == 0)
            seg++;
        else if (i % 8 <= 3)
            err++;
    }
    assert_int_equal(ctx_policy_rule_hits(p, 0), seg * NTHREADS);
    assert_int_equal(ctx_policy_rule_hits(p, 1), err * NTHREADS);
    assert_int_equal(ctx_policy_defaulted(p), (NEVALS - seg - err) * NTHREADS);
    ctx_policy_free(p);
}

struct replay_count {
    int n, ok;
};

static void load_file(const char *path, void *arg) {
    struct replay_count *c = arg;
    char err[CTX_ERRLEN];
    ctx_policy *p = NULL;
    int rc = ctx_policy_load(path, &p, err, sizeof err);
    if (rc != 0 && rc != CTX_EPARSE) fail_msg("%s: rc %d (%s)", path, rc, err);
    if (rc == CTX_EPARSE && strstr(err, strrchr(path, '/') + 1) == NULL)
        fail_msg("%s: error without the file's name: %s", path, err);
    if (rc == 0) eval(p, mk(3, 1, "t", "v", "u", "a", "m"));
    c->ok += rc == 0;
    c->n++;
    ctx_policy_free(p);
}

/* Inputs the fuzzer found (tests/fuzz/corpus/policy/): each must parse or fail cleanly. */
static void fuzz_corpus_replay(void **state) {
    (void)state;
    struct replay_count c = {0, 0};
    corpus_each("policy", load_file, &c);
    ASSERT_GE(c.n, 4);  /* the seeds at least */
    ASSERT_GE(c.ok, 1); /* the example parses */
}

CTX_TEST_MAIN(NULL, NULL,
    cmocka_unit_test(severity_comparisons),
    cmocka_unit_test(facility_lists),
    cmocka_unit_test(string_matches),
    cmocka_unit_test(msg_regex_uses_length),
    cmocka_unit_test(first_match_continue_tags_drop),
    cmocka_unit_test(defaults_and_empty),
    cmocka_unit_test(hostwide_only_when_named),
    cmocka_unit_test(lexing_details),
    cmocka_unit_test(error_messages),
    cmocka_unit_test(too_many_rules_and_long_values),
    cmocka_unit_test(load_files),
    cmocka_unit_test(too_big_file),
    cmocka_unit_test(regex_limits_count_errors),
    cmocka_unit_test(eval_without_scratch_and_bad_args),
    cmocka_unit_test(refcount_and_carry),
    cmocka_unit_test(concurrent_evaluation),
    cmocka_unit_test(fuzz_corpus_replay))
