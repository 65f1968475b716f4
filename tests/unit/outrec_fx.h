/* outrec_fx.h: the fixture of the outgoing-record tests (test_outrec.c, test_outrec_view.c):
 * the built-in redaction rules, a redaction context, the rules' set for a tenant without its
 * own, and two record builders: b (plain) and memo (with the $!ctx memo, 64 slots).
 * cmocka_run_group_tests(tests, outrec_fx_setup, outrec_fx_teardown); tests get it in *state.
 * Include after cmocka.h, outrec.h and redact.h. */
#ifndef CTXLOG_TESTS_OUTREC_FX_H
#define CTXLOG_TESTS_OUTREC_FX_H

typedef struct {
    ctx_redact_rules *rules;
    ctx_redact_ctx *rx;
    const ctx_redact_set *set;
    ctx_outrec_t *b, *memo;
} fx_t;

static int outrec_fx_setup(void **state) {
    static fx_t fx;
    char err[CTX_ERRLEN];
    if (ctx_redact_rules_new(&fx.rules, err, sizeof err) != 0) return -1;
    fx.rx = ctx_redact_ctx_new(fx.rules);
    fx.set = ctx_redact_for_tenant(fx.rules, NULL);
    if (fx.rx == NULL || ctx_outrec_new(&fx.b) != 0 || ctx_outrec_new(&fx.memo) != 0) return -1;
    if (ctx_outrec_memo_set(fx.memo, 64, ctx_redact_rules_count(fx.rules)) != 0) return -1;
    *state = &fx;
    return 0;
}

static int outrec_fx_teardown(void **state) {
    fx_t *fx = *state;
    ctx_outrec_free(fx->b);
    ctx_outrec_free(fx->memo);
    ctx_redact_ctx_free(fx->rx);
    ctx_redact_rules_free(fx->rules);
    return 0;
}

#endif
