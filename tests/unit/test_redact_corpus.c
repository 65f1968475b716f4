/* test_redact_corpus.c: the two corpora under tests/corpus/redact/ and the fuzzer's saved inputs.
 *  secrets.tsv: every planted secret of every built-in kind must be gone (recall 100 %), with the
 *               rule the row names among those that matched;
 *  bypass.tsv:  the same for every bypass class of issue 16 (make_bypass.py), mode "cut" through
 *               ctx_redact_apply_cut;
 *  clean.txt:   ordinary lines must come out byte for byte unchanged (0 false positives);
 *  benign.txt:  20,000+ lines in the formats of 16 real systems (make_benign.py): at most 0.01 % of
 *               them may change with the default rules (the precision target of issue 16).
 * Every figure is printed and asserted. tests/fuzz/corpus/redact/ inputs replay through apply and sd.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "check.h"
#include <dirent.h>
#include <json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctxlog_common.h"
#include "redact.h"
#include "redact_int.h" /* rx_scan_use_simd(): run the corpora through both scans */

static char *path_of(const char *rel) {
    const char *top = getenv("top_srcdir");
    static char buf[4096];
    snprintf(buf, sizeof buf, "%s/%s", top ? top : ".", rel);
    return buf;
}

static ctx_redact_rules *load(const char *text) {
    ctx_redact_rules *r = NULL;
    char err[CTX_ERRLEN];
    if (ctx_redact_rules_load_string(&r, text, strlen(text), "t.rules", NULL, err, sizeof err) != 0)
        fail_msg("load: %s", err);
    return r;
}

/* the text the row's line becomes, NUL-terminated (malloc'd), in its mode */
static char *run_row(ctx_redact_ctx *c, const ctx_redact_set *set, const char *mode, const char *line) {
    const char *out = NULL;
    size_t outlen = 0;
    if (strcmp(mode, "json") == 0) {
        struct fjson_object *o = fjson_tokener_parse(line);
        if (o == NULL) fail_msg("not JSON: %s", line);
        ASSERT_GE(ctx_redact_json(c, set, o), 0);
        char *s = strdup(fjson_object_to_json_string_ext(o, FJSON_TO_STRING_PLAIN));
        fjson_object_put(o);
        return s;
    }
    int rc = strcmp(mode, "sd") == 0    ? ctx_redact_sd(c, set, line, strlen(line), &out, &outlen)
             : strcmp(mode, "cut") == 0 ? ctx_redact_apply_cut(c, set, line, strlen(line), &out, &outlen)
                                        : ctx_redact_apply(c, set, line, strlen(line), &out, &outlen);
    ASSERT_GE(rc, 0);
    return strndup(out, outlen);
}

/* the secret, also in the form libfastjson writes it ("/" as "\/") */
static int leaks(const char *out, const char *secret) {
    char esc[1024];
    size_t n = 0;
    for (const char *s = secret; *s && n + 2 < sizeof esc; s++) {
        if (*s == '/') esc[n++] = '\\';
        esc[n++] = *s;
    }
    esc[n] = '\0';
    return strstr(out, secret) != NULL || strstr(out, esc) != NULL;
}

/* every row of a secrets TSV (RULE MODE SECRET LINE) redacted, with all rules and the default ones;
 * returns the number of rows */
static size_t recall(const char *rel) {
    ctx_redact_rules *all = load("enable = email, ipv4, ipv6\n"), *def = load("");
    ctx_redact_ctx *ca = ctx_redact_ctx_new(all), *cd = ctx_redact_ctx_new(def);
    FILE *f = fopen(path_of(rel), "r");
    assert_non_null(f);
    char *line = NULL;
    size_t cap = 0, rows = 0, found = 0, rows_def = 0, found_def = 0;
    ssize_t n;
    while ((n = getline(&line, &cap, f)) > 0) {
        if (line[0] == '#') continue;
        line[n - 1] = '\0';
        char *rule = strtok(line, "\t"), *mode = strtok(NULL, "\t"), *secret = strtok(NULL, "\t");
        char *text = strtok(NULL, "");
        assert_non_null(text);
        int id = ctx_redact_rules_find(all, rule);
        ASSERT_GE(id, 0);
        uint64_t before = ctx_redact_ctx_counters(ca)[id];
        char *out = run_row(ca, ctx_redact_for_tenant(all, NULL), mode, text);
        int ok = !leaks(out, secret) && ctx_redact_ctx_counters(ca)[id] > before;
        if (!ok) print_message("MISSED %s (%s): %s\n  -> %s\n", rule, mode, text, out);
        rows++;
        found += ok;
        free(out);
        if (ctx_redact_set_enabled(ctx_redact_for_tenant(def, NULL), id)) {
            out = run_row(cd, ctx_redact_for_tenant(def, NULL), mode, text);
            rows_def++;
            found_def += !leaks(out, secret);
            free(out);
        }
    }
    print_message("%s: recall %zu/%zu (all rules), %zu/%zu (default rules)\n", rel, found, rows, found_def, rows_def);
    assert_int_equal(found, rows);
    assert_int_equal(found_def, rows_def);
    free(line);
    fclose(f);
    ctx_redact_ctx_free(ca);
    ctx_redact_ctx_free(cd);
    ctx_redact_rules_free(all);
    ctx_redact_rules_free(def);
    return rows;
}

static void secrets_all_redacted(void **state) {
    (void)state;
    ASSERT_GE(recall("tests/corpus/redact/secrets.tsv"), 150);
}

/* every bypass class of issue 16 (make_bypass.py) */
static void bypasses_all_redacted(void **state) {
    (void)state;
    ASSERT_GE(recall("tests/corpus/redact/bypass.tsv"), 50);
}

/* the lines of a corpus of ordinary text through the default rules: *rows read, returns lines changed */
static size_t changed_lines(const char *rel, size_t *rows, uint64_t *matches) {
    ctx_redact_rules *r = load("");
    ctx_redact_ctx *c = ctx_redact_ctx_new(r);
    const ctx_redact_set *g = ctx_redact_for_tenant(r, NULL);
    FILE *f = fopen(path_of(rel), "r");
    assert_non_null(f);
    char *line = NULL;
    size_t cap = 0, changed = 0;
    ssize_t n;
    *rows = 0;
    while ((n = getline(&line, &cap, f)) > 0) {
        const char *out;
        size_t outlen;
        int rc = ctx_redact_apply(c, g, line, (size_t)n - 1, &out, &outlen);
        ASSERT_GE(rc, 0);
        if (rc != 0) print_message("CHANGED: %.*s\n  -> %.*s\n", (int)n - 1, line, (int)outlen, out);
        (*rows)++;
        changed += rc != 0;
    }
    *matches = 0;
    for (int i = 0; i < ctx_redact_rules_count(r); i++) *matches += ctx_redact_ctx_counters(c)[i];
    free(line);
    fclose(f);
    ctx_redact_ctx_free(c);
    ctx_redact_rules_free(r);
    return changed;
}

static void clean_unchanged(void **state) {
    (void)state;
    size_t rows;
    uint64_t matches;
    size_t changed = changed_lines("tests/corpus/redact/clean.txt", &rows, &matches);
    print_message("clean corpus: %zu false positives in %zu lines\n", changed, rows);
    ASSERT_GE(rows, 50);
    assert_int_equal(changed, 0);
    assert_int_equal(matches, 0);
}

/* precision on realistic logs of 16 systems: at most 0.01 % of the lines change (issue 16) */
static void benign_precision(void **state) {
    (void)state;
    size_t rows;
    uint64_t matches;
    size_t changed = changed_lines("tests/corpus/redact/benign.txt", &rows, &matches);
    print_message("benign corpus: %zu of %zu lines changed (%.4f %%, limit 0.01 %%), %llu matches\n", changed, rows,
                  rows ? 100.0 * (double)changed / (double)rows : 0.0, (unsigned long long)matches);
    ASSERT_GE(rows, 20000);
    ASSERT_LE(changed * 10000, rows);
}

/* the fuzzer's saved inputs (tests/fuzz/corpus/redact/) through text, SD and cut text: no crash,
 * valid UTF-8 out */
static void fuzz_inputs_replay(void **state) {
    (void)state;
    ctx_redact_rules *r = load("enable = email, ipv4, ipv6\n");
    ctx_redact_ctx *c = ctx_redact_ctx_new(r);
    DIR *d = opendir(path_of("tests/fuzz/corpus/redact"));
    size_t files = 0;
    assert_non_null(d);
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        if (e->d_name[0] == '.') continue;
        char rel[512];
        snprintf(rel, sizeof rel, "tests/fuzz/corpus/redact/%s", e->d_name);
        FILE *f = fopen(path_of(rel), "rb");
        assert_non_null(f);
        static char buf[1 << 16];
        size_t n = fread(buf, 1, sizeof buf, f);
        fclose(f);
        const char *out;
        size_t outlen;
        ASSERT_GE(ctx_redact_apply(c, ctx_redact_for_tenant(r, NULL), buf, n, &out, &outlen), 0);
        assert_true(ctx_redact_utf8_valid(out, outlen));
        ASSERT_GE(ctx_redact_sd(c, ctx_redact_for_tenant(r, NULL), buf, n, &out, &outlen), 0);
        assert_true(ctx_redact_utf8_valid(out, outlen));
        ASSERT_GE(ctx_redact_apply_cut(c, ctx_redact_for_tenant(r, NULL), buf, n, &out, &outlen), 0);
        assert_true(ctx_redact_utf8_valid(out, outlen));
        files++;
    }
    closedir(d);
    print_message("fuzz corpus: %zu inputs replayed\n", files);
    ASSERT_GT(files, 0);
    ctx_redact_ctx_free(c);
    ctx_redact_rules_free(r);
}

/* the same corpora through the scalar scan (the path of short messages, message tails and CPUs
 * without SSSE3) */
static void scalar_scan_same_results(void **state) {
    assert_int_equal(rx_scan_use_simd(0), 0);
    print_message("scan: scalar\n");
    secrets_all_redacted(state);
    bypasses_all_redacted(state);
    clean_unchanged(state);
    benign_precision(state);
    print_message("scan: %s\n", rx_scan_use_simd(1) ? "SIMD again" : "scalar (no SSSE3 on this CPU)");
}

int main(void) {
    print_message("scan: %s\n", rx_scan_use_simd(1) ? "SIMD (SSSE3)" : "scalar (no SSSE3 on this CPU)");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(secrets_all_redacted),
        cmocka_unit_test(bypasses_all_redacted),
        cmocka_unit_test(clean_unchanged),
        cmocka_unit_test(benign_precision),
        cmocka_unit_test(fuzz_inputs_replay),
        cmocka_unit_test(scalar_scan_same_results),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
