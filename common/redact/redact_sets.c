/* redact_sets.c: build the views (global and one per tenant) of a rules object: which rules are on
 * and the replacement mode of each, after the [global] and [tenant] settings. Checks every rule
 * name a setting refers to, and that a hash mode has a key.
 *
 * Concurrency: runs while loading only; the sets are read-only afterwards.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctxlog_common.h"
#include "redact_conf.h"
#include "redact_int.h"

struct builder {
    struct ctx_redact_rules *rules;
    const struct rx_conf *conf;
    int *mode_line; /* per rule: line that set the mode (0 = rule default) */
    char *err;
    size_t errlen;
};

static int scoped_to(const struct rx_rule *r, const char *tenant) {
    if (r->tenants == NULL) return 1;
    if (tenant == NULL) return 0;
    for (char **t = r->tenants; *t; t++)
        if (strcmp(*t, tenant) == 0) return 1;
    return 0;
}

static struct ctx_redact_set *set_alloc(const struct ctx_redact_rules *rules, const char *tenant) {
    struct ctx_redact_set *s = calloc(1, sizeof *s);
    size_t n = (size_t)rules->nrules;
    if (s == NULL) return NULL;
    s->rules = rules;
    s->on = calloc(n, 1);
    s->mode = calloc(n, 1);
    s->mask_keep = calloc(n, 1);
    s->tenant = tenant ? strdup(tenant) : NULL;
    if (s->on == NULL || s->mode == NULL || s->mask_keep == NULL || (tenant && s->tenant == NULL)) {
        rx_set_free(s);
        return NULL;
    }
    return s;
}

void rx_set_free(struct ctx_redact_set *s) {
    if (s == NULL) return;
    free(s->on);
    free(s->mode);
    free(s->mask_keep);
    free(s->tenant);
    free(s->active);
    free(s->always);
    free(s->need_at);
    free(s->trig);
    free(s);
}

static int serr(struct builder *b, int line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int serr(struct builder *b, int line, const char *fmt, ...) {
    va_list ap;
    int n = snprintf(b->err, b->errlen, "%s:%d: ", b->conf->file, line);
    if (n >= 0 && (size_t)n < b->errlen) {
        va_start(ap, fmt);
        vsnprintf(b->err + n, b->errlen - (size_t)n, fmt, ap);
        va_end(ap);
    }
    return CTX_EPARSE;
}

/* enable = a, b / disable = a, b */
static int apply_switch(struct builder *b, struct ctx_redact_set *s, const struct rx_setting *st) {
    int on = st->key[0] == 'e';
    char *copy = strdup(st->value), *save = NULL;
    int rc = copy ? 0 : CTX_ENOMEM;
    for (char *t = copy ? strtok_r(copy, ",", &save) : NULL; t && rc == 0; t = strtok_r(NULL, ",", &save)) {
        while (*t == ' ' || *t == '\t') t++;
        size_t l = strlen(t);
        while (l > 0 && (t[l - 1] == ' ' || t[l - 1] == '\t')) t[--l] = '\0';
        if (l == 0) continue;
        int i = ctx_redact_rules_find(b->rules, t);
        if (i < 0)
            rc = serr(b, st->line, "%s: unknown rule '%s', expected a built-in rule or a [rule] name", st->key, t);
        else if (on && !scoped_to(&b->rules->rule[i], s->tenant))
            rc = serr(b, st->line, "enable: rule '%s' is limited by its tenants key, not on for %s", t,
                      s->tenant ? s->tenant : "the global view");
        else
            s->on[i] = (uint8_t)on;
    }
    free(copy);
    return rc;
}

static int apply_section(struct builder *b, struct ctx_redact_set *s, const struct rx_section *sec) {
    for (size_t i = 0; i < sec->nset; i++) {
        const struct rx_setting *st = &sec->set[i];
        if (st->key[0] != 'r') {
            int rc = apply_switch(b, s, st);
            if (rc < 0) return rc;
            continue;
        }
        int r = ctx_redact_rules_find(b->rules, st->key + 8);
        if (r < 0)
            return serr(b, st->line, "%s: unknown rule '%s', expected a built-in rule or a [rule] name", st->key,
                        st->key + 8);
        int mode, keep;
        rx_parse_mode(st->value, &mode, &keep);
        s->mode[r] = (uint8_t)mode;
        s->mask_keep[r] = (uint8_t)keep;
        b->mode_line[r] = st->line;
    }
    return 0;
}

/* active / always lists and prefilter; a hash mode needs the key */
static int set_finish(struct builder *b, struct ctx_redact_set *s) {
    const struct ctx_redact_rules *rules = b->rules;
    s->active = calloc((size_t)rules->nrules + 1, sizeof *s->active);
    if (s->active == NULL) return CTX_ENOMEM;
    for (int i = 0; i < rules->nrules; i++) {
        if (!s->on[i]) continue;
        s->active[s->nactive++] = (uint32_t)i;
        if (s->mode[i] == RX_HASH && rules->key == NULL) {
            int line = b->mode_line[i];
            if (line == 0) {
                const struct rx_custom *c = &b->conf->rule[i - rx_builtin_count()];
                line = c->replace_line;
            }
            return serr(b, line, "rule '%s' uses replace = hash but no key is set, expected key_file = PATH%s",
                        rules->rule[i].name, " (or the key file parameter)");
        }
    }
    return rx_set_prefilter(s);
}

static int set_build(struct builder *b, const char *tenant, struct ctx_redact_set **out) {
    struct ctx_redact_rules *rules = b->rules;
    struct ctx_redact_set *s = set_alloc(rules, tenant);
    if (s == NULL) return CTX_ENOMEM;
    *out = s;
    for (int i = 0; i < rules->nrules; i++) {
        const struct rx_rule *r = &rules->rule[i];
        s->on[i] = (uint8_t)(r->on && scoped_to(r, NULL));
        s->mode[i] = (uint8_t)r->mode;
        s->mask_keep[i] = (uint8_t)r->mask_keep;
        b->mode_line[i] = 0;
    }
    int rc = apply_section(b, s, &b->conf->global);
    if (rc < 0 || tenant == NULL) return rc < 0 ? rc : set_finish(b, s);
    for (int i = 0; i < rules->nrules; i++)
        if (rules->rule[i].tenants != NULL && scoped_to(&rules->rule[i], tenant)) s->on[i] = (uint8_t)rules->rule[i].on;
    for (size_t i = 0; i < b->conf->ntenant; i++)
        if (strcmp(b->conf->tenant[i].tenant, tenant) == 0 && (rc = apply_section(b, s, &b->conf->tenant[i])) < 0)
            return rc;
    return set_finish(b, s);
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* every tenant the file names, sorted and unique (NULL-terminated array of borrowed strings) */
static const char **tenant_names(const struct ctx_redact_rules *rules, const struct rx_conf *conf, size_t *n) {
    size_t cap = conf->ntenant + 1;
    for (int i = 0; i < rules->nrules; i++)
        for (char **t = rules->rule[i].tenants; t && *t; t++) cap++;
    const char **names = calloc(cap, sizeof *names);
    if (names == NULL) return NULL;
    *n = 0;
    for (size_t i = 0; i < conf->ntenant; i++) names[(*n)++] = conf->tenant[i].tenant;
    for (int i = 0; i < rules->nrules; i++)
        for (char **t = rules->rule[i].tenants; t && *t; t++) names[(*n)++] = *t;
    qsort(names, *n, sizeof *names, cmp_str);
    size_t u = 0;
    for (size_t i = 0; i < *n; i++)
        if (u == 0 || strcmp(names[u - 1], names[i]) != 0) names[u++] = names[i];
    *n = u;
    return names;
}

int rx_sets_build(struct ctx_redact_rules *rules, const struct rx_conf *conf, char *err, size_t errlen) {
    struct builder b = {rules, conf, calloc((size_t)rules->nrules + 1, sizeof(int)), err, errlen};
    size_t nt = 0;
    const char **names = b.mode_line ? tenant_names(rules, conf, &nt) : NULL;
    int rc = names ? set_build(&b, NULL, &rules->global) : CTX_ENOMEM;
    if (rc == 0 && nt > 0 && (rules->tenant_sets = calloc(nt, sizeof *rules->tenant_sets)) == NULL) rc = CTX_ENOMEM;
    for (size_t i = 0; rc == 0 && i < nt; i++) {
        rc = set_build(&b, names[i], &rules->tenant_sets[i]);
        rules->ntenant_sets = i + 1;
    }
    free(names);
    free(b.mode_line);
    return rc;
}

static int cmp_set(const void *key, const void *elem) {
    return strcmp((const char *)key, (*(struct ctx_redact_set *const *)elem)->tenant);
}

const ctx_redact_set *ctx_redact_for_tenant(const ctx_redact_rules *rules, const char *tenant) {
    if (rules == NULL) return NULL;
    if (tenant == NULL || rules->ntenant_sets == 0) return rules->global;
    struct ctx_redact_set **s = bsearch(tenant, rules->tenant_sets, rules->ntenant_sets, sizeof *s, cmp_set);
    return s ? *s : rules->global;
}

int ctx_redact_has_view(const ctx_redact_rules *rules, const char *tenant) {
    if (rules == NULL || tenant == NULL || rules->ntenant_sets == 0) return 0;
    return bsearch(tenant, rules->tenant_sets, rules->ntenant_sets, sizeof *rules->tenant_sets, cmp_set) != NULL;
}

int ctx_redact_set_enabled(const ctx_redact_set *set, int i) {
    if (set == NULL || i < 0 || i >= set->rules->nrules) return 0;
    return set->on[i];
}
