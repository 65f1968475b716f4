/* policy.c: loading, evaluating and counting a policy rulebase (format: docs/policy.md; the
 * language and its parser: policy_parse.c).
 *
 * Concurrency: a ctx_policy is built by one thread and never modified afterwards, except for its
 * counters (rule hits, drops, defaulted, regex errors), which are plain uint64_t cells changed
 * only with __atomic_fetch_add (relaxed) so that rsyslog's statsobj can read them. Any number of
 * threads may call ctx_policy_eval() on one policy at the same time. Compiled PCRE2 patterns are
 * shared read-only; the per-call mutable state (match data, match limits) lives in a
 * ctx_policy_scratch owned by one worker. The reference count is atomic.
 */
#include "policy_int.h"

#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cfgfile.h"
#include "ctxlog_common.h"

/* ------------------------------------------------------------------ build / free */

ctx_policy *pol_alloc(const char *fname) {
    ctx_policy *p = calloc(1, sizeof *p);
    if (p == NULL) return NULL;
    p->ctr = calloc(1, sizeof *p->ctr);
    p->source = strdup(fname);
    p->refs = 1;
    if (p->ctr == NULL || p->source == NULL) {
        ctx_policy_free(p);
        return NULL;
    }
    return p;
}

static int parse_file(const char *buf, size_t len, const char *name, void *out, char *err, size_t errlen) {
    return ctx_policy_parse(buf, len, name, out, err, errlen);
}

int ctx_policy_load(const char *path, ctx_policy **out, char *err, size_t errlen) {
    if (err != NULL && errlen > 0) err[0] = '\0';
    if (out == NULL || path == NULL) return CTX_EINVAL;
    *out = NULL;
    return ctx_cfg_load(path, "policy file", CTX_POLICY_MAX_FILE, parse_file, out, err, errlen);
}

int ctx_policy_default(ctx_policy **out) {
    static const char text[] =
        "rule default-err when severity <= err then verbose\n"
        "rule default-debug when severity == debug then debug\n"
        "rule default-rest then standard\n";
    char err[CTX_ERRLEN];
    int rc = ctx_policy_parse(text, sizeof text - 1, "(built-in)", out, err, sizeof err);
    if (rc < 0) return rc == CTX_ENOMEM ? rc : CTX_EINVAL; /* the text above always parses */
    for (size_t i = 0; i < (*out)->nrules; i++) (*out)->rules[i].line = 0;
    return 0;
}

ctx_policy *ctx_policy_hold(ctx_policy *p) {
    if (p != NULL) __atomic_fetch_add(&p->refs, 1, __ATOMIC_RELAXED);
    return p;
}

void ctx_policy_free(ctx_policy *p) {
    if (p == NULL) return;
    if (__atomic_sub_fetch(&p->refs, 1, __ATOMIC_ACQ_REL) > 0) return;
    for (size_t i = 0; i < p->nrules; i++) pol_free_rule(&p->rules[i]);
    free(p->rules);
    free(p->source);
    free(p->ctr);
    free(p);
}

ctx_policy_scratch *ctx_policy_scratch_new(void) {
    ctx_policy_scratch *s = calloc(1, sizeof *s);
    if (s == NULL) return NULL;
    s->md = pcre2_match_data_create(1, NULL); /* match / no match is all we need */
    s->mctx = pcre2_match_context_create(NULL);
    if (s->md == NULL || s->mctx == NULL) {
        ctx_policy_scratch_free(s);
        return NULL;
    }
    pcre2_set_match_limit(s->mctx, CTX_POLICY_MATCH_LIMIT);
    pcre2_set_depth_limit(s->mctx, CTX_POLICY_MATCH_LIMIT);
    return s;
}

void ctx_policy_scratch_free(ctx_policy_scratch *s) {
    if (s == NULL) return;
    pcre2_match_data_free(s->md);
    pcre2_match_context_free(s->mctx);
    free(s);
}

/* ------------------------------------------------------------------ evaluation */

static int regex_test(const ctx_policy *p, const struct cond *c, const char *v, size_t len, ctx_policy_scratch *s) {
    int rc = pcre2_match(c->re, (PCRE2_SPTR)v, len, 0, 0, s->md, s->mctx);
    if (rc >= 0) return c->op == OP_RE;
    if (rc == PCRE2_ERROR_NOMATCH) return c->op == OP_NRE;
    __atomic_fetch_add(&p->ctr->regex_errors, 1, __ATOMIC_RELAXED);
    return 0;
}

static int str_test(const struct cond *c, const char *v, int casefold) {
    int like = c->op == OP_LIKE || c->op == OP_NLIKE;
    int any = 0;
    for (size_t i = 0; i < c->nvals && !any; i++) {
        if (like)
            any = fnmatch(c->vals[i], v, casefold ? FNM_CASEFOLD : 0) == 0;
        else
            any = (casefold ? strcasecmp(c->vals[i], v) : strcmp(c->vals[i], v)) == 0;
    }
    return (c->op == OP_EQ || c->op == OP_LIKE) ? any : !any;
}

static int cond_test(const ctx_policy *p, const struct cond *c, const ctx_policy_msg *m, ctx_policy_scratch *s) {
    const char *v = NULL;
    switch (c->field) {
        case F_SEVERITY:
            return m->severity >= 0 && m->severity <= 7 && ((c->mask >> m->severity) & 1u);
        case F_FACILITY:
            return m->facility >= 0 && m->facility <= 23 && ((c->mask >> m->facility) & 1u);
        case F_MSG:
            return regex_test(p, c, m->msg != NULL ? m->msg : "", m->msg != NULL ? m->msglen : 0, s);
        case F_TENANT:
            v = m->tenant;
            break;
        case F_VM:
            v = m->vm_name;
            break;
        case F_UUID:
            v = m->vm_uuid;
            break;
        default:
            v = m->app;
            break;
    }
    if (v == NULL) v = "";
    if (c->re != NULL) return regex_test(p, c, v, strlen(v), s);
    return str_test(c, v, c->field == F_UUID);
}

static void add_tags(ctx_policy_result *r, const struct rule *rule) {
    for (size_t i = 0; i < rule->ntags && r->ntags < CTX_POLICY_MAX_TAGS; i++) {
        size_t j;
        for (j = 0; j < r->ntags; j++)
            if (strcmp(r->tags[j].key, rule->tags[i].key) == 0) break;
        if (j == r->ntags) r->tags[r->ntags++] = rule->tags[i];
    }
}

static void eval_rules(const ctx_policy *p, const ctx_policy_msg *m, ctx_policy_scratch *s, ctx_policy_result *r) {
    for (size_t i = 0; i < p->nrules; i++) {
        struct rule *rule = &p->rules[i];
        size_t k;
        for (k = 0; k < rule->nconds; k++)
            if (!cond_test(p, &rule->conds[k], m, s)) break;
        if (k < rule->nconds) continue;
        __atomic_fetch_add(&rule->hits, 1, __ATOMIC_RELAXED);
        r->nmatched++;
        if (rule->drop) {
            r->drop = 1;
            r->groups = 0;
            r->ntags = 0;
            r->rule = (int)i;
            __atomic_fetch_add(&p->ctr->drops, 1, __ATOMIC_RELAXED);
            return;
        }
        r->groups |= rule->groups;
        add_tags(r, rule);
        if (!rule->cont) {
            r->rule = (int)i;
            break;
        }
    }
    if (r->groups == 0) {
        r->groups = ctx_policy_default_groups(m->severity);
        r->defaulted = 1;
        __atomic_fetch_add(&p->ctr->defaulted, 1, __ATOMIC_RELAXED);
    }
}

int ctx_policy_eval(const ctx_policy *p, const ctx_policy_msg *m, ctx_policy_scratch *s, ctx_policy_result *r) {
    if (r == NULL) return CTX_EINVAL;
    r->groups = 0;
    r->drop = 0;
    r->rule = -1;
    r->defaulted = 0;
    r->nmatched = 0;
    r->ntags = 0;
    if (p == NULL || m == NULL) return CTX_EINVAL;
    ctx_policy_scratch *own = NULL;
    if (s == NULL && p->has_regex) {
        if ((own = s = ctx_policy_scratch_new()) == NULL) {
            r->groups = ctx_policy_default_groups(m->severity);
            r->defaulted = 1;
            return CTX_ENOMEM;
        }
    }
    eval_rules(p, m, s, r);
    ctx_policy_scratch_free(own);
    return 0;
}

/* ------------------------------------------------------------------ enumeration and counters */

size_t ctx_policy_nrules(const ctx_policy *p) { return p != NULL ? p->nrules : 0; }

const char *ctx_policy_rule_name(const ctx_policy *p, size_t i) {
    return (p != NULL && i < p->nrules) ? p->rules[i].name : NULL;
}

int ctx_policy_rule_line(const ctx_policy *p, size_t i) { return (p != NULL && i < p->nrules) ? p->rules[i].line : -1; }

const char *ctx_policy_source(const ctx_policy *p) { return p != NULL ? p->source : NULL; }

uint64_t ctx_policy_rule_hits(const ctx_policy *p, size_t i) {
    return (p != NULL && i < p->nrules) ? __atomic_load_n(&p->rules[i].hits, __ATOMIC_RELAXED) : 0;
}

uint64_t ctx_policy_drops(const ctx_policy *p) {
    return p != NULL ? __atomic_load_n(&p->ctr->drops, __ATOMIC_RELAXED) : 0;
}

uint64_t ctx_policy_defaulted(const ctx_policy *p) {
    return p != NULL ? __atomic_load_n(&p->ctr->defaulted, __ATOMIC_RELAXED) : 0;
}

uint64_t ctx_policy_regex_errors(const ctx_policy *p) {
    return p != NULL ? __atomic_load_n(&p->ctr->regex_errors, __ATOMIC_RELAXED) : 0;
}

uint64_t *ctx_policy_rule_hits_ctr(ctx_policy *p, size_t i) {
    return (p != NULL && i < p->nrules) ? &p->rules[i].hits : NULL;
}

uint64_t *ctx_policy_drops_ctr(ctx_policy *p) { return p != NULL ? &p->ctr->drops : NULL; }

uint64_t *ctx_policy_defaulted_ctr(ctx_policy *p) { return p != NULL ? &p->ctr->defaulted : NULL; }

uint64_t *ctx_policy_regex_errors_ctr(ctx_policy *p) { return p != NULL ? &p->ctr->regex_errors : NULL; }

void ctx_policy_carry_counters(ctx_policy *fresh, const ctx_policy *old) {
    if (fresh == NULL || old == NULL) return;
    for (size_t i = 0; i < fresh->nrules; i++)
        for (size_t j = 0; j < old->nrules; j++)
            if (strcmp(fresh->rules[i].name, old->rules[j].name) == 0)
                fresh->rules[i].hits = ctx_policy_rule_hits(old, j);
    fresh->ctr->drops = ctx_policy_drops(old);
    fresh->ctr->defaulted = ctx_policy_defaulted(old);
    fresh->ctr->regex_errors = ctx_policy_regex_errors(old);
}
