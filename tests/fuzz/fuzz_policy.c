/* fuzz_policy.c: libFuzzer target for the policy rulebase parser and matcher.
 * The input is a rulebase; when it parses, a few messages derived from it are evaluated.
 * Crashers go to tests/fuzz/corpus/policy/ and are replayed by tests/unit/test_policy.c. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "ctxlog_common.h"
#include "policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static ctx_policy_scratch *scratch;
    char err[CTX_ERRLEN];
    ctx_policy *p = NULL;
    if (scratch == NULL) scratch = ctx_policy_scratch_new();
    if (ctx_policy_parse((const char *)data, size, "fuzz.rules", &p, err, sizeof err) != 0) {
        if (strlen(err) == 0 || strchr(err, '\n') != NULL) __builtin_trap(); /* one line, always */
        return 0;
    }
    char words[4][16] = {"acme", "web-1", "6f1c2f0e", "sshd"};
    for (size_t i = 0; i < 4 && i * 8 < size; i++)
        memcpy(words[i], data + i * 8, size - i * 8 < 15 ? size - i * 8 : 15);
    for (int sev = -1; sev <= 8; sev++) {
        ctx_policy_msg m = {sev, (sev * 5) & 31, words[0], words[1], words[2], words[3], (const char *)data, size};
        ctx_policy_result r;
        ctx_policy_eval(p, &m, scratch, &r);
        if (r.ntags > CTX_POLICY_MAX_TAGS || (r.drop && r.groups != 0)) __builtin_trap();
    }
    ctx_policy_free(p);
    return 0;
}
