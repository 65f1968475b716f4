/* ctxredact: apply the redaction engine (common/redact/redact.h) to stdin, one message per line, and write
 * the result to stdout, as omtenant would redact it: a tool for operators to try a rules file on
 * their own logs:  ctxredact -r redact.rules -k redact.key < sample.log
 *
 * Concurrency: single-threaded.
 */
#include <json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctxlog_common.h"
#include "redact.h"

static void usage(void) {
    fprintf(stderr,
            "usage: ctxredact [-r RULES] [-k KEYFILE] [-t TENANT] [-m text|json|sd|cut] [-c] [-n]\n"
            "  -r RULES   rules file (default: built-in rules only)\n"
            "  -k KEYFILE HMAC key for replace = hash (overrides key_file)\n"
            "  -t TENANT  use this tenant's view of the rules\n"
            "  -m MODE    each line is text (default), a JSON object, RFC 5424 STRUCTURED-DATA, or text\n"
            "             that was cut (cut: a tail that could start a secret is redacted too)\n"
            "  -c         print the match count of every rule to stderr at the end\n"
            "  -n         only check the rules file, print problems, exit 0 if it is good\n");
}

static int do_json(ctx_redact_ctx *ctx, const ctx_redact_set *set, const char *line, size_t len) {
    struct fjson_tokener *tok = fjson_tokener_new();
    struct fjson_object *o = tok ? fjson_tokener_parse_ex(tok, line, (int)len) : NULL;
    int ok = o != NULL && tok->err == fjson_tokener_success;
    fjson_tokener_free(tok);
    if (!ok) {
        fprintf(stderr, "ctxredact: not a JSON value: %.*s\n", (int)(len > 60 ? 60 : len), line);
        fjson_object_put(o);
        return -1;
    }
    int rc = ctx_redact_json(ctx, set, o);
    if (rc >= 0) printf("%s\n", fjson_object_to_json_string_ext(o, FJSON_TO_STRING_PLAIN));
    fjson_object_put(o);
    return rc;
}

static int do_line(ctx_redact_ctx *ctx, const ctx_redact_set *set, char mode, const char *line, size_t len) {
    const char *out;
    size_t outlen;
    if (mode == 'j') return do_json(ctx, set, line, len);
    int rc = mode == 's'   ? ctx_redact_sd(ctx, set, line, len, &out, &outlen)
             : mode == 'c' ? ctx_redact_apply_cut(ctx, set, line, len, &out, &outlen)
                           : ctx_redact_apply(ctx, set, line, len, &out, &outlen);
    if (rc < 0) return rc;
    fwrite(out, 1, outlen, stdout);
    putchar('\n');
    return 0;
}

static void print_counts(const ctx_redact_rules *rules, ctx_redact_ctx *ctx) {
    int n = ctx_redact_rules_count(rules);
    uint64_t *sum = calloc((size_t)n + 1, sizeof *sum);
    if (sum == NULL) return;
    uint64_t errors = ctx_redact_ctx_take_counters(ctx, sum);
    for (int i = 0; i < n; i++)
        fprintf(stderr, "%s\t%llu\n", ctx_redact_rules_name(rules, i), (unsigned long long)sum[i]);
    fprintf(stderr, "match-errors\t%llu\n", (unsigned long long)errors);
    free(sum);
}

static int run(const ctx_redact_rules *rules, const char *tenant, char mode, int counts) {
    const ctx_redact_set *set = ctx_redact_for_tenant(rules, tenant);
    ctx_redact_ctx *ctx = ctx_redact_ctx_new(rules);
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    int status = 0;
    if (ctx == NULL) return 1;
    while ((n = getline(&line, &cap, stdin)) >= 0) {
        if (n > 0 && line[n - 1] == '\n') n--;
        if (do_line(ctx, set, mode, line, (size_t)n) < 0) status = 1;
    }
    if (counts) print_counts(rules, ctx);
    free(line);
    ctx_redact_ctx_free(ctx);
    return status;
}

int main(int argc, char **argv) {
    const char *rules_path = NULL, *key_path = NULL, *tenant = NULL;
    char mode = 't';
    int counts = 0, check = 0, opt;
    while ((opt = getopt(argc, argv, "r:k:t:m:cnh")) != -1) {
        switch (opt) {
            case 'r':
                rules_path = optarg;
                break;
            case 'k':
                key_path = optarg;
                break;
            case 't':
                tenant = optarg;
                break;
            case 'm':
                mode = optarg[0];
                break;
            case 'c':
                counts = 1;
                break;
            case 'n':
                check = 1;
                break;
            default:
                usage();
                return 2;
        }
    }
    if (optind != argc || (mode != 't' && mode != 'j' && mode != 's' && mode != 'c')) {
        usage();
        return 2;
    }
    char err[CTX_ERRLEN], warn[CTX_ERRLEN];
    ctx_redact_rules *rules = NULL;
    if (ctx_redact_rules_load_file(&rules, rules_path, key_path, err, sizeof err) < 0) {
        fprintf(stderr, "ctxredact: %s\n", err);
        return 1;
    }
    if (ctx_redact_rules_warnings(rules, warn, sizeof warn) != 0) fprintf(stderr, "ctxredact: warning: %s\n", warn);
    int status = check ? 0 : run(rules, tenant, mode, counts);
    ctx_redact_rules_free(rules);
    return status;
}
