/* fuzz_redact: arbitrary bytes through the redaction engine: text, STRUCTURED-DATA and JSON.
 * Must not crash, and every output must be valid UTF-8 (invalid_utf8 = replace, the default), and
 * a redacted JSON tree must still serialize to JSON that parses.
 * The first input byte picks the entry point (text, SD, JSON, cut text) and the view; the rest is
 * the message.
 */
#include <json.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctxlog_common.h"
#include "redact.h"

static ctx_redact_rules *rules;
static ctx_redact_ctx *ctx;

static const char rules_text[] =
    "enable = email, ipv4, ipv6\n"
    "replace.card = mask:4\n"
    "replace.jwt = hash\n"
    "secret_keys += pin\n"
    "[rule digits]\npattern = (?<!\\d)(\\d{3})-(\\d{4})\ngroup = any\nreplace = mask:1\n"
    "[rule luhn]\npattern = \\b\\d{8,19}\\b\nvalidator = luhn\ntenants = t1\n"
    "[rule cut]\npattern = \\xA9|\\xE2\\x82\ntenants = t1\n"
    "[tenant t1]\nenable = luhn, cut\ndisable = kv-secret\n";

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc;
    (void)argv;
    char key[] = "/tmp/fuzz_redact_keyXXXXXX", err[CTX_ERRLEN];
    int fd = mkstemp(key);
    if (fd < 0 || write(fd, "fuzz-key-0123456789abcdef", 25) != 25) abort();
    close(fd);
    if (ctx_redact_rules_load_string(&rules, rules_text, sizeof rules_text - 1, "fuzz", key, err, sizeof err) < 0) {
        fprintf(stderr, "%s\n", err);
        abort();
    }
    unlink(key);
    ctx = ctx_redact_ctx_new(rules);
    if (ctx == NULL) abort();
    return 0;
}

static void check(int rc, const char *out, size_t outlen) {
    if (rc < 0 || out == NULL || !ctx_redact_utf8_valid(out, outlen)) abort();
}

static void fuzz_json(const ctx_redact_set *set, const char *s, size_t n) {
    struct fjson_tokener *tok = fjson_tokener_new();
    struct fjson_object *o = fjson_tokener_parse_ex(tok, s, (int)n);
    fjson_tokener_free(tok);
    if (o == NULL) return;
    if (ctx_redact_json(ctx, set, o) >= 0) {
        const char *js = fjson_object_to_json_string_ext(o, FJSON_TO_STRING_PLAIN);
        struct fjson_object *back = fjson_tokener_parse(js);
        if (back == NULL && fjson_object_get_type(o) != fjson_type_null) abort();
        fjson_object_put(back);
    }
    fjson_object_put(o);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size == 0) return 0;
    const ctx_redact_set *set = ctx_redact_for_tenant(rules, (data[0] & 4) ? "t1" : NULL);
    const char *s = (const char *)data + 1, *out = NULL;
    size_t n = size - 1, outlen = 0;
    switch (data[0] & 3) {
        case 0:
            check(ctx_redact_apply(ctx, set, s, n, &out, &outlen), out, outlen);
            break;
        case 3:
            check(ctx_redact_apply_cut(ctx, set, s, n, &out, &outlen), out, outlen);
            break;
        case 1:
            check(ctx_redact_sd(ctx, set, s, n, &out, &outlen), out, outlen);
            break;
        default:
            fuzz_json(set, s, n);
    }
    ctx_redact_ctx_take_counters(ctx, NULL);
    return 0;
}
