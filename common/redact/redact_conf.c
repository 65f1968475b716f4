/* redact_conf.c: parse the redaction rules file (format: docs/redaction.md) into struct rx_conf.
 * Only syntax and single values are checked here; references between rules, tenants and modes are
 * checked when the sets are built (redact_rules.c), with the line numbers kept here.
 *
 * Concurrency: works on the caller's conf only; no global state.
 */
#include "redact_conf.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctxlog_common.h"
#include "redact_int.h"

struct pstate {
    struct rx_conf *conf;
    int line;
    int section;               /* 0 global, 1 rule, 2 tenant */
    struct rx_custom *rule;    /* current [rule] */
    struct rx_section *tenant; /* current [tenant] */
    int seen_keys;             /* secret_keys = was given */
    char *err;
    size_t errlen;
};

static int perr(struct pstate *ps, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int perr(struct pstate *ps, const char *fmt, ...) {
    va_list ap;
    int n = snprintf(ps->err, ps->errlen, "%s:%d: ", ps->conf->file, ps->line);
    if (n >= 0 && (size_t)n < ps->errlen) {
        va_start(ap, fmt);
        vsnprintf(ps->err + n, ps->errlen - (size_t)n, fmt, ap);
        va_end(ap);
    }
    return CTX_EPARSE;
}

int rx_name_ok(const char *s) {
    size_t n = strlen(s);
    if (n == 0 || n > RX_NAME_MAX) return 0;
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && *s != '_' && *s != '-') return 0;
    return 1;
}

int rx_parse_mode(const char *v, int *mode, int *keep) {
    *keep = 4;
    if (strcmp(v, "redact") == 0)
        *mode = RX_REDACT;
    else if (strcmp(v, "hash") == 0)
        *mode = RX_HASH;
    else if (strcmp(v, "mask") == 0)
        *mode = RX_MASK;
    else if (strncmp(v, "mask:", 5) == 0) {
        char *end;
        errno = 0;
        long k = strtol(v + 5, &end, 10);
        if (v[5] == '\0' || *end != '\0' || errno != 0 || k < 0 || k > 32) return -1;
        *mode = RX_MASK;
        *keep = (int)k;
    } else {
        return -1;
    }
    return 0;
}

static int parse_bool(const char *v, int *out) {
    if (strcmp(v, "yes") == 0 || strcmp(v, "true") == 0 || strcmp(v, "on") == 0)
        *out = 1;
    else if (strcmp(v, "no") == 0 || strcmp(v, "false") == 0 || strcmp(v, "off") == 0)
        *out = 0;
    else
        return -1;
    return 0;
}

static int parse_int(const char *v, long lo, long hi, int *out) {
    char *end;
    errno = 0;
    long k = strtol(v, &end, 10);
    if (*v == '\0' || *end != '\0' || errno != 0 || k < lo || k > hi) return -1;
    *out = (int)k;
    return 0;
}

static char *trim(char *s) {
    while (*s == ' ' || *s == '\t') s++;
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r')) s[--n] = '\0';
    return s;
}

/* set *dst to a copy of v, refusing a second assignment in the same section */
static int set_once(struct pstate *ps, char **dst, const char *key, const char *v) {
    if (*dst != NULL) return perr(ps, "duplicate key '%s' in this section", key);
    *dst = strdup(v);
    return *dst ? 0 : CTX_ENOMEM;
}

static int add_setting(struct pstate *ps, struct rx_section *sec, const char *key, const char *v) {
    struct rx_setting *s = realloc(sec->set, (sec->nset + 1) * sizeof *s);
    if (s == NULL) return CTX_ENOMEM;
    sec->set = s;
    s[sec->nset].key = strdup(key);
    s[sec->nset].value = strdup(v);
    s[sec->nset].line = ps->line;
    if (s[sec->nset].key == NULL || s[sec->nset].value == NULL) {
        free(s[sec->nset].key);
        free(s[sec->nset].value);
        return CTX_ENOMEM;
    }
    sec->nset++;
    return 0;
}

/* enable / disable / replace.RULE: shared by [global] and [tenant] */
static int section_setting(struct pstate *ps, struct rx_section *sec, const char *key, const char *v) {
    if (strcmp(key, "enable") == 0 || strcmp(key, "disable") == 0) return add_setting(ps, sec, key, v);
    if (strncmp(key, "replace.", 8) == 0) {
        int mode, keep;
        if (rx_parse_mode(v, &mode, &keep) < 0)
            return perr(ps, "%s: expected redact, hash, mask or mask:N (N 0..32), got '%s'", key, v);
        return add_setting(ps, sec, key, v);
    }
    return -1; /* not a section setting */
}

static void free_keys(struct rx_conf *c) {
    for (size_t i = 0; i < c->nkeys; i++) free(c->keys[i]);
    free(c->keys);
    c->keys = NULL;
    c->nkeys = 0;
}

static int key_name_ok(const char *k) {
    if (*k == '=') k++;
    if (*k == '\0' || strlen(k) > RX_NAME_MAX) return 0;
    for (; *k; k++)
        if (!isalnum((unsigned char)*k) && *k != '_' && *k != '-' && *k != '.') return 0;
    return 1;
}

/* secret_keys = a, b  (replace the list) / secret_keys += c (extend it) */
static int secret_keys(struct pstate *ps, const char *v, int append) {
    struct rx_conf *c = ps->conf;
    if (!append) free_keys(c);
    char *copy = strdup(v), *save = NULL;
    if (copy == NULL) return CTX_ENOMEM;
    int rc = 0;
    for (char *tok = strtok_r(copy, ",", &save); tok && rc == 0; tok = strtok_r(NULL, ",", &save)) {
        tok = trim(tok);
        if (!key_name_ok(tok)) {
            rc = perr(ps,
                      "secret_keys: key name '%s' invalid, expected [A-Za-z0-9_.-], 1..48 characters, "
                      "optionally after '='",
                      tok);
            break;
        }
        char **k = realloc(c->keys, (c->nkeys + 2) * sizeof *k);
        if (k == NULL || (k[c->nkeys] = strdup(tok)) == NULL) rc = CTX_ENOMEM;
        if (k != NULL) c->keys = k;
        if (rc == 0) c->keys[++c->nkeys] = NULL;
    }
    free(copy);
    if (rc == 0 && c->nkeys == 0) rc = perr(ps, "secret_keys: empty list, expected at least one key name");
    return rc;
}

static int global_key(struct pstate *ps, const char *key, const char *v, int append) {
    struct rx_conf *c = ps->conf;
    if (strcmp(key, "secret_keys") == 0) return secret_keys(ps, v, append);
    if (append) return perr(ps, "'+=' is only allowed with secret_keys, got '%s +='", key);
    int rc = section_setting(ps, &c->global, key, v);
    if (rc != -1) return rc;
    if (strcmp(key, "key_file") == 0) {
        c->key_file_line = ps->line;
        return set_once(ps, &c->key_file, key, v);
    }
    if (strcmp(key, "hash_length") == 0) {
        if (parse_int(v, 4, RX_HASH_MAX, &c->hash_len) < 0)
            return perr(ps, "hash_length: expected an integer 4..%d, got '%s'", RX_HASH_MAX, v);
        return 0;
    }
    if (strcmp(key, "invalid_utf8") == 0) {
        if (strcmp(v, "replace") == 0)
            c->utf8_replace = 1;
        else if (strcmp(v, "keep") == 0)
            c->utf8_replace = 0;
        else
            return perr(ps, "invalid_utf8: expected replace or keep, got '%s'", v);
        return 0;
    }
    return perr(ps,
                "unknown key '%s' in [global], expected key_file, hash_length, invalid_utf8, secret_keys, "
                "enable, disable or replace.RULE",
                key);
}

static int rule_validator(struct pstate *ps, struct rx_custom *r, const char *v) {
    static const char *const names[] = {"none", "luhn", "ipv4", "ipv6"};
    for (int i = 0; i < 4; i++)
        if (strcmp(v, names[i]) == 0) {
            r->validator = i;
            return 0;
        }
    return perr(ps, "validator: expected none, luhn, ipv4 or ipv6, got '%s'", v);
}

static int rule_key2(struct pstate *ps, struct rx_custom *r, const char *key, const char *v) {
    if (strcmp(key, "validator") == 0) return rule_validator(ps, r, v);
    if (strcmp(key, "caseless") == 0 || strcmp(key, "enabled") == 0) {
        int *dst = key[0] == 'c' ? &r->caseless : &r->enabled;
        if (parse_bool(v, dst) < 0) return perr(ps, "%s: expected yes or no, got '%s'", key, v);
        return 0;
    }
    if (strcmp(key, "tenants") == 0) {
        r->tenants_line = ps->line;
        return set_once(ps, &r->tenants, key, v);
    }
    if (strcmp(key, "trigger") == 0 || strcmp(key, "trigger_nocase") == 0) {
        r->trig_line = ps->line;
        return set_once(ps, key[7] ? &r->trig_nocase : &r->trig, key, v);
    }
    return perr(ps,
                "unknown key '%s' in [rule %s], expected pattern, group, replace, validator, trigger, "
                "trigger_nocase, caseless, enabled or tenants",
                key, r->name);
}

static int rule_key(struct pstate *ps, const char *key, const char *v, int append) {
    struct rx_custom *r = ps->rule;
    if (append) return perr(ps, "'+=' is only allowed with secret_keys, got '%s +='", key);
    if (strcmp(key, "pattern") == 0) {
        r->pattern_line = ps->line;
        return set_once(ps, &r->pattern, key, v);
    }
    if (strcmp(key, "group") == 0) {
        r->group_line = ps->line;
        if (strcmp(v, "any") == 0)
            r->group = RX_GROUP_ANY;
        else if (parse_int(v, 0, 99, &r->group) < 0)
            return perr(ps, "group: expected a capture group number 0..99 or 'any', got '%s'", v);
        return 0;
    }
    if (strcmp(key, "replace") == 0) {
        int mode, keep;
        if (rx_parse_mode(v, &mode, &keep) < 0)
            return perr(ps, "replace: expected redact, hash, mask or mask:N (N 0..32), got '%s'", v);
        r->replace_line = ps->line;
        return set_once(ps, &r->replace, key, v);
    }
    return rule_key2(ps, r, key, v);
}

static int tenant_key(struct pstate *ps, const char *key, const char *v, int append) {
    if (append) return perr(ps, "'+=' is only allowed with secret_keys, got '%s +='", key);
    int rc = section_setting(ps, ps->tenant, key, v);
    if (rc != -1) return rc;
    return perr(ps, "unknown key '%s' in [tenant %s], expected enable, disable or replace.RULE", key,
                ps->tenant->tenant);
}

static int new_rule(struct pstate *ps, const char *name) {
    struct rx_conf *c = ps->conf;
    for (size_t i = 0; i < c->nrule; i++)
        if (strcmp(c->rule[i].name, name) == 0)
            return perr(ps, "duplicate [rule %s] (first at line %d)", name, c->rule[i].line);
    struct rx_custom *r = realloc(c->rule, (c->nrule + 1) * sizeof *r);
    if (r == NULL) return CTX_ENOMEM;
    c->rule = r;
    r = &c->rule[c->nrule];
    memset(r, 0, sizeof *r);
    r->enabled = 1;
    r->line = ps->line;
    if ((r->name = strdup(name)) == NULL) return CTX_ENOMEM;
    c->nrule++;
    ps->rule = r;
    ps->section = 1;
    return 0;
}

static int new_tenant(struct pstate *ps, const char *name) {
    struct rx_conf *c = ps->conf;
    for (size_t i = 0; i < c->ntenant; i++)
        if (strcmp(c->tenant[i].tenant, name) == 0)
            return perr(ps, "duplicate [tenant %s] (first at line %d)", name, c->tenant[i].line);
    struct rx_section *t = realloc(c->tenant, (c->ntenant + 1) * sizeof *t);
    if (t == NULL) return CTX_ENOMEM;
    c->tenant = t;
    t = &c->tenant[c->ntenant];
    memset(t, 0, sizeof *t);
    t->line = ps->line;
    if ((t->tenant = strdup(name)) == NULL) return CTX_ENOMEM;
    c->ntenant++;
    ps->tenant = t;
    ps->section = 2;
    return 0;
}

static int section_header(struct pstate *ps, char *s) {
    size_t n = strlen(s);
    if (s[n - 1] != ']') return perr(ps, "expected ']' at the end of the section header");
    s[n - 1] = '\0';
    s = trim(s + 1);
    if (strcmp(s, "global") == 0) {
        ps->section = 0;
        return 0;
    }
    int is_rule = strncmp(s, "rule", 4) == 0 && (s[4] == ' ' || s[4] == '\t');
    int is_tenant = strncmp(s, "tenant", 6) == 0 && (s[6] == ' ' || s[6] == '\t');
    if (!is_rule && !is_tenant)
        return perr(ps, "unknown section '[%s]', expected [global], [rule NAME] or [tenant NAME]", s);
    char *name = trim(s + (is_rule ? 4 : 6));
    if (!rx_name_ok(name))
        return perr(ps, "%s name '%s' invalid, expected [A-Za-z0-9_-], 1..%d characters", is_rule ? "rule" : "tenant",
                    name, RX_NAME_MAX);
    return is_rule ? new_rule(ps, name) : new_tenant(ps, name);
}

static int parse_line(struct pstate *ps, char *s) {
    s = trim(s);
    if (*s == '\0' || *s == '#' || *s == ';') return 0;
    if (*s == '[') return section_header(ps, s);
    char *eq = strchr(s, '=');
    if (eq == NULL || eq == s) return perr(ps, "expected 'key = value' or '[section]'");
    int append = eq > s && eq[-1] == '+';
    char *kend = append ? eq - 1 : eq;
    *kend = '\0';
    *eq = '\0';
    char *key = trim(s), *v = trim(eq + 1);
    if (*key == '\0') return perr(ps, "expected 'key = value' or '[section]'");
    if (*v == '\0') return perr(ps, "%s: empty value", key);
    if (ps->section == 1) return rule_key(ps, key, v, append);
    if (ps->section == 2) return tenant_key(ps, key, v, append);
    return global_key(ps, key, v, append);
}

static int default_keys(struct rx_conf *c) {
    const char *const *d = rx_default_keys();
    size_t n = 0;
    while (d[n]) n++;
    c->keys = calloc(n + 1, sizeof *c->keys);
    if (c->keys == NULL) return CTX_ENOMEM;
    for (c->nkeys = 0; c->nkeys < n; c->nkeys++)
        if ((c->keys[c->nkeys] = strdup(d[c->nkeys])) == NULL) return CTX_ENOMEM;
    return 0;
}

int rx_conf_parse(struct rx_conf *conf, const char *text, size_t len, char *err, size_t errlen) {
    struct pstate ps = {.conf = conf, .err = err, .errlen = errlen};
    conf->hash_len = 8;
    conf->utf8_replace = 1;
    int rc = default_keys(conf);
    const char *p = text, *end = text + len;
    while (rc == 0 && p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
        ps.line++;
        if (memchr(p, '\0', n) != NULL) return perr(&ps, "NUL byte in the line, expected text");
        char *line = strndup(p, n);
        if (line == NULL) return CTX_ENOMEM;
        rc = parse_line(&ps, line);
        free(line);
        p += n + 1;
    }
    for (size_t i = 0; rc == 0 && i < conf->nrule; i++)
        if (conf->rule[i].pattern == NULL) {
            ps.line = conf->rule[i].line;
            rc = perr(&ps, "[rule %s] has no pattern, expected 'pattern = REGEX'", conf->rule[i].name);
        }
    if (rc == CTX_ENOMEM) snprintf(err, errlen, "%s: out of memory", conf->file);
    return rc;
}

static void section_clear(struct rx_section *s) {
    for (size_t i = 0; i < s->nset; i++) {
        free(s->set[i].key);
        free(s->set[i].value);
    }
    free(s->set);
    free(s->tenant);
}

void rx_conf_clear(struct rx_conf *c) {
    free_keys(c);
    free(c->key_file);
    free(c->dir);
    section_clear(&c->global);
    for (size_t i = 0; i < c->ntenant; i++) section_clear(&c->tenant[i]);
    free(c->tenant);
    for (size_t i = 0; i < c->nrule; i++) {
        struct rx_custom *r = &c->rule[i];
        free(r->name);
        free(r->pattern);
        free(r->replace);
        free(r->trig);
        free(r->trig_nocase);
        free(r->tenants);
    }
    free(c->rule);
    memset(c, 0, sizeof *c);
}
