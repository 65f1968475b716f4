/* redact_compile.c: turn one rule (built-in or a [rule] of the file) into compiled PCRE2 code.
 * Patterns are compiled in byte mode (PCRE2_NEVER_UTF): matching never fails on invalid UTF-8,
 * and spans are moved to character boundaries afterwards (redact_output.c). A validator is run as
 * callout 1 at the end of the pattern, so a failed check makes PCRE2 backtrack to shorter candidates.
 *
 * Concurrency: writes only the rule it is given; the compiled code is read-only afterwards and
 * shared by all threads (PCRE2 code and JIT code are thread-safe for matching).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctxlog_common.h"
#include "redact_conf.h"
#include "redact_int.h"

static void where(char *buf, size_t len, const struct rx_rule *r, const char *file, int line) {
    if (file == NULL)
        snprintf(buf, len, "built-in rule %s", r->name);
    else
        snprintf(buf, len, "%s:%d: [rule %s]", file, line, r->name);
}

static pcre2_code *compile(const char *pat, int caseless, const char *at, char *err, size_t errlen) {
    int ec;
    PCRE2_SIZE eoff;
    uint32_t opts = PCRE2_NEVER_UTF | (caseless ? PCRE2_CASELESS : 0);
    pcre2_code *code = pcre2_compile((PCRE2_SPTR)pat, PCRE2_ZERO_TERMINATED, opts, &ec, &eoff, NULL);
    if (code == NULL) {
        PCRE2_UCHAR msg[256];
        pcre2_get_error_message(ec, msg, sizeof msg);
        snprintf(err, errlen, "%s pattern: PCRE2 error at offset %zu: %s", at, (size_t)eoff, (char *)msg);
    }
    return code;
}

int rx_rule_compile(struct rx_rule *r, int caseless, const char *file, int line, char *err, size_t errlen) {
    char at[RX_NAME_MAX + 512];
    where(at, sizeof at, r, file, line);
    /* the operator's pattern alone first, so that an error offset points into it */
    r->code = compile(r->pattern, caseless, at, err, errlen);
    if (r->code == NULL) return CTX_EPARSE;
    uint32_t ncap = 0;
    pcre2_pattern_info(r->code, PCRE2_INFO_CAPTURECOUNT, &ncap);
    if (r->group > 0 && (uint32_t)r->group > ncap) {
        snprintf(err, errlen, "%s group: %d, but the pattern has only %u capture group(s)", at, r->group, ncap);
        return CTX_EPARSE;
    }
    if (r->validator != RX_V_NONE) {
        size_t n = strlen(r->pattern) + 16;
        char *wrapped = malloc(n);
        if (wrapped == NULL) return CTX_ENOMEM;
        snprintf(wrapped, n, "(?:%s)(?C1)", r->pattern);
        pcre2_code_free(r->code);
        r->code = compile(wrapped, caseless, at, err, errlen);
        free(wrapped);
        if (r->code == NULL) return CTX_EPARSE;
    }
    r->jit = pcre2_jit_compile(r->code, PCRE2_JIT_COMPLETE) == 0;
    if (r->pattern2 == NULL) return 0;
    if ((r->code2 = compile(r->pattern2, caseless, at, err, errlen)) == NULL) return CTX_EPARSE;
    r->jit2 = pcre2_jit_compile(r->code2, PCRE2_JIT_COMPLETE) == 0;
    return 0;
}

/* split "a, b ,c" into a NULL-terminated list; NULL if out of memory */
static char **split_list(const char *v) {
    size_t n = 1;
    for (const char *c = v; *c; c++) n += (*c == ',');
    char **out = calloc(n + 1, sizeof *out), *copy = strdup(v), *save = NULL;
    size_t i = 0;
    if (out == NULL || copy == NULL) {
        free(out);
        free(copy);
        return NULL;
    }
    for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        while (*t == ' ' || *t == '\t') t++;
        size_t l = strlen(t);
        while (l > 0 && (t[l - 1] == ' ' || t[l - 1] == '\t')) t[--l] = '\0';
        if (l > 0 && (out[i++] = strdup(t)) == NULL) {
            for (size_t j = 0; j < i; j++) free(out[j]);
            free(out);
            free(copy);
            return NULL;
        }
    }
    free(copy);
    return out;
}

static int custom_triggers(struct rx_rule *r, const struct rx_custom *c, const char *file, char *err, size_t errlen) {
    char **cs = c->trig ? split_list(c->trig) : calloc(1, sizeof(char *));
    char **ci = c->trig_nocase ? split_list(c->trig_nocase) : calloc(1, sizeof(char *));
    size_t ncs = 0, nci = 0;
    int rc = 0;
    if (cs == NULL || ci == NULL) rc = CTX_ENOMEM;
    while (rc == 0 && cs[ncs]) ncs++;
    while (rc == 0 && ci[nci]) nci++;
    if (rc == 0 && ncs + nci > 0) {
        r->trig = calloc(ncs + nci + 1, sizeof *r->trig);
        r->trig_nocase = calloc(ncs + nci + 1, 1);
        if (r->trig == NULL || r->trig_nocase == NULL) rc = CTX_ENOMEM;
        for (size_t i = 0; rc == 0 && i < ncs + nci; i++) {
            r->trig[i] = i < ncs ? cs[i] : ci[i - ncs];
            r->trig_nocase[i] = i >= ncs || c->caseless; /* a caseless pattern has caseless triggers */
        }
        for (size_t i = 0; rc == 0 && i < ncs + nci; i++)
            if (strlen(r->trig[i]) < 3) {
                snprintf(err, errlen, "%s:%d: [rule %s] trigger '%s' too short, expected at least 3 bytes", file,
                         c->trig_line, c->name, r->trig[i]);
                rc = CTX_EPARSE;
            }
    }
    if (rc == CTX_ENOMEM || r->trig == NULL) {
        for (size_t i = 0; cs && cs[i]; i++) free(cs[i]);
        for (size_t i = 0; ci && ci[i]; i++) free(ci[i]);
    }
    free(cs);
    free(ci);
    return rc;
}

int rx_custom_fill(struct rx_rule *r, const struct rx_custom *c, const char *file, char *err, size_t errlen) {
    memset(r, 0, sizeof *r);
    r->name = strdup(c->name);
    r->pattern = strdup(c->pattern);
    if (r->name == NULL || r->pattern == NULL) return CTX_ENOMEM;
    r->group = c->group;
    r->validator = c->validator;
    r->on = c->enabled;
    r->mode = RX_REDACT;
    r->mask_keep = 4;
    if (c->replace != NULL) rx_parse_mode(c->replace, &r->mode, &r->mask_keep);
    if (c->tenants != NULL) {
        if ((r->tenants = split_list(c->tenants)) == NULL) return CTX_ENOMEM;
        for (char **t = r->tenants; *t; t++)
            if (!rx_name_ok(*t)) {
                snprintf(err, errlen,
                         "%s:%d: [rule %s] tenants: tenant name '%s' invalid, expected "
                         "[A-Za-z0-9_-], 1..%d characters",
                         file, c->tenants_line, c->name, *t, RX_NAME_MAX);
                return CTX_EPARSE;
            }
        if (r->tenants[0] == NULL) {
            snprintf(err, errlen, "%s:%d: [rule %s] tenants: empty list, expected tenant names", file, c->tenants_line,
                     c->name);
            return CTX_EPARSE;
        }
    }
    int rc = custom_triggers(r, c, file, err, errlen);
    if (rc < 0) return rc;
    return rx_rule_compile(r, c->caseless, file, c->pattern_line, err, errlen);
}

void rx_rule_clear(struct rx_rule *r) {
    free(r->name);
    free(r->pattern);
    pcre2_code_free(r->code);
    free(r->pattern2);
    pcre2_code_free(r->code2);
    for (char **t = r->trig; t && *t; t++) free(*t);
    free(r->trig);
    free(r->trig_nocase);
    for (char **t = r->tenants; t && *t; t++) free(*t);
    free(r->tenants);
}
