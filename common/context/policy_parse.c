/* policy_parse.c: the policy rulebase language (docs/policy.md): names, lexer, error
 * messages, conditions, actions and rules, and ctx_policy_parse(), which builds a policy
 * from a text. Concurrency: one thread builds a policy; nothing here is shared.
 */
#include "policy_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ctxlog_common.h"
#include "grow.h"

/* ------------------------------------------------------------------ names */

static const struct {
    const char *name;
    int val;
} sev_names[] = {{"emerg", 0},   {"panic", 0}, {"alert", 1},  {"crit", 2}, {"err", 3},   {"error", 3},
                 {"warning", 4}, {"warn", 4},  {"notice", 5}, {"info", 6}, {"debug", 7}, {NULL, 0}};

static const struct {
    const char *name;
    int val;
} fac_names[] = {{"kern", 0},    {"user", 1},    {"mail", 2},    {"daemon", 3},  {"auth", 4},    {"security", 4},
                 {"syslog", 5},  {"lpr", 6},     {"news", 7},    {"uucp", 8},    {"cron", 9},    {"authpriv", 10},
                 {"ftp", 11},    {"ntp", 12},    {"audit", 13},  {"alert", 14},  {"clock", 15},  {"local0", 16},
                 {"local1", 17}, {"local2", 18}, {"local3", 19}, {"local4", 20}, {"local5", 21}, {"local6", 22},
                 {"local7", 23}, {NULL, 0}};

static const char *const field_names[] = {"severity", "facility", "tenant", "vm", "uuid", "app", "msg", NULL};

static const char *const group_names[] = {"minimal", "standard", "verbose", "debug"};
static const unsigned group_levels[] = {CTX_POLICY_LEVEL_MINIMAL, CTX_POLICY_LEVEL_STANDARD, CTX_POLICY_LEVEL_VERBOSE,
                                        CTX_POLICY_LEVEL_DEBUG};

const char *ctx_policy_group_name(unsigned bit) {
    for (unsigned i = 0; i < 4; i++)
        if (bit == (1u << i)) return group_names[i];
    return bit == CTX_POLICY_G_HOSTWIDE ? "hostwide" : NULL;
}

unsigned ctx_policy_default_groups(int severity) {
    if (severity >= 0 && severity <= 3) return CTX_POLICY_LEVEL_VERBOSE;
    if (severity == 7) return CTX_POLICY_LEVEL_DEBUG;
    return CTX_POLICY_LEVEL_STANDARD;
}

/* ------------------------------------------------------------------ lexer */

enum tok_kind { T_EOF, T_EOL, T_WORD, T_STRING, T_OP, T_COMMA, T_BAD, T_UNTERM };

struct tok {
    int kind;      /* enum tok_kind */
    const char *p; /* T_WORD/T_OP/T_BAD: the text; T_STRING: between the quotes (escapes not undone) */
    size_t len;
    int line;
};

struct parser {
    const char *s, *end; /* input */
    int line;            /* line of the next character */
    struct tok t;        /* current token */
    const char *fname;
    char *err;
    size_t errlen;
    ctx_policy *pol;
};

static int is_op_char(unsigned char c) { return c != '\0' && strchr("=!<>~", c) != NULL; }

static int is_ctl(unsigned char c) { return (c < 0x20 && c != '\t') || c == 0x7f; }

static int is_word_char(unsigned char c) { return c > 0x20 && c != 0x7f && c != '"' && c != ',' && !is_op_char(c); }

/* Skips blanks, comments and backslash-newline continuations. */
static void lex_skip(struct parser *ps) {
    while (ps->s < ps->end) {
        char c = *ps->s;
        if (c == ' ' || c == '\t' || c == '\r') {
            ps->s++;
        } else if (c == '\\' && ps->s + 1 < ps->end && ps->s[1] == '\n') {
            ps->s += 2;
            ps->line++;
        } else if (c == '\\' && ps->s + 2 < ps->end && ps->s[1] == '\r' && ps->s[2] == '\n') {
            ps->s += 3;
            ps->line++;
        } else if (c == '#') {
            while (ps->s < ps->end && *ps->s != '\n') ps->s++;
        } else {
            return;
        }
    }
}

/* A "quoted string" ends at the next unescaped quote on the same line. */
static void lex_string(struct parser *ps) {
    struct tok *t = &ps->t;
    const char *q = ps->s + 1;
    while (q < ps->end && *q != '"' && *q != '\n' && *q != '\r') {
        if (is_ctl((unsigned char)*q)) { /* a control byte inside the string */
            t->kind = T_BAD;
            t->p = q;
            t->len = 1;
            ps->s = q + 1;
            return;
        }
        if (*q == '\\' && q + 1 < ps->end && q[1] == '"') q++;
        q++;
    }
    t->p = ps->s + 1;
    t->len = (size_t)(q - t->p);
    t->kind = (q < ps->end && *q == '"') ? T_STRING : T_UNTERM;
    ps->s = t->kind == T_STRING ? q + 1 : q;
}

static void lex_run(struct parser *ps, int kind, int (*pred)(unsigned char)) {
    ps->t.kind = kind;
    while (ps->s < ps->end && pred((unsigned char)*ps->s)) ps->s++;
    ps->t.len = (size_t)(ps->s - ps->t.p);
}

static void lex_next(struct parser *ps) {
    struct tok *t = &ps->t;
    lex_skip(ps);
    t->line = ps->line;
    t->p = ps->s;
    t->len = 1;
    if (ps->s >= ps->end) {
        t->kind = T_EOF;
        t->len = 0;
        return;
    }
    unsigned char c = (unsigned char)*ps->s;
    if (c == '\n') {
        t->kind = T_EOL;
        ps->s++;
        ps->line++;
    } else if (c == '"') {
        lex_string(ps);
    } else if (c == ',') {
        t->kind = T_COMMA;
        ps->s++;
    } else if (is_op_char(c)) {
        lex_run(ps, T_OP, is_op_char);
    } else if (is_word_char(c)) {
        lex_run(ps, T_WORD, is_word_char);
    } else { /* a control byte */
        t->kind = T_BAD;
        ps->s++;
    }
}

static int tok_is(const struct tok *t, int kind, const char *text) {
    return t->kind == kind && strlen(text) == t->len && memcmp(t->p, text, t->len) == 0;
}

static int tok_is_word(const struct tok *t, const char *text) { return tok_is(t, T_WORD, text); }

/* ------------------------------------------------------------------ errors */

/* Quotes at most 48 bytes of s for an error message: controls and non-ASCII as \xNN. */
static void quote_token(char *buf, size_t buflen, const char *s, size_t len) {
    size_t o = 0;
    size_t lim = len > 48 ? 48 : len;
    for (size_t i = 0; i < lim && o + 8 < buflen; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\')
            o += (size_t)snprintf(buf + o, buflen - o, "\\%c", c);
        else if (c < 0x20 || c >= 0x7f)
            o += (size_t)snprintf(buf + o, buflen - o, "\\x%02x", c);
        else
            buf[o++] = (char)c;
    }
    if (lim < len && o + 4 < buflen) o += (size_t)snprintf(buf + o, buflen - o, "...");
    buf[o] = '\0';
}

/* "<file>:<line>: <expected>, got "<token>"" for the current token. A bad token (control byte,
 * unterminated string) is reported as such whatever the parser expected. Returns CTX_EPARSE. */
static int perr(struct parser *ps, const char *expected) {
    const struct tok *t = &ps->t;
    char q[256];
    if (ps->err == NULL || ps->errlen == 0) return CTX_EPARSE;
    if (t->kind == T_BAD) expected = "printable text";
    if (t->kind == T_UNTERM) {
        snprintf(ps->err, ps->errlen, "%s:%d: a closing '\"', got end of line", ps->fname, t->line);
    } else if (t->kind == T_EOL) {
        snprintf(ps->err, ps->errlen, "%s:%d: %s, got end of line", ps->fname, t->line, expected);
    } else if (t->kind == T_EOF) {
        snprintf(ps->err, ps->errlen, "%s:%d: %s, got end of file", ps->fname, t->line, expected);
    } else {
        quote_token(q, sizeof q, t->p, t->len);
        snprintf(ps->err, ps->errlen, "%s:%d: %s, got \"%s\"", ps->fname, t->line, expected, q);
    }
    return CTX_EPARSE;
}

/* ------------------------------------------------------------------ values */

/* Copies a word or string token; in strings `\"` becomes `"`, every other byte stays. */
static char *tok_dup(const struct tok *t) {
    char *v = malloc(t->len + 1);
    if (v == NULL) return NULL;
    size_t o = 0;
    for (size_t i = 0; i < t->len; i++) {
        if (t->kind == T_STRING && t->p[i] == '\\' && i + 1 < t->len && t->p[i + 1] == '"') i++;
        v[o++] = t->p[i];
    }
    v[o] = '\0';
    return v;
}

static int lookup_num(const struct tok *t, int max) {
    if (t->kind != T_WORD || t->len == 0 || t->len > 2) return -1;
    int v = 0;
    for (size_t i = 0; i < t->len; i++) {
        if (t->p[i] < '0' || t->p[i] > '9') return -1;
        v = v * 10 + (t->p[i] - '0');
    }
    return v <= max ? v : -1;
}

static int lookup_severity(const struct tok *t) {
    int n = lookup_num(t, 7);
    if (n >= 0 || t->kind != T_WORD) return n;
    for (int i = 0; sev_names[i].name != NULL; i++)
        if (strlen(sev_names[i].name) == t->len && strncasecmp(sev_names[i].name, t->p, t->len) == 0)
            return sev_names[i].val;
    return -1;
}

static int lookup_facility(const struct tok *t) {
    int n = lookup_num(t, 23);
    if (n >= 0 || t->kind != T_WORD) return n;
    for (int i = 0; fac_names[i].name != NULL; i++)
        if (strlen(fac_names[i].name) == t->len && strncasecmp(fac_names[i].name, t->p, t->len) == 0)
            return fac_names[i].val;
    return -1;
}

/* ------------------------------------------------------------------ conditions */

static const char *ops_expected(int field) {
    switch (field) {
        case F_SEVERITY:
            return "an operator for severity (==, !=, <, <=, >, >=)";
        case F_FACILITY:
            return "an operator for facility (==, !=)";
        case F_MSG:
            return "an operator for msg (=~, !~)";
        default:
            return "an operator for a name (==, !=, like, !like, =~, !~)";
    }
}

static int op_allowed(int field, int op) {
    if (field == F_SEVERITY) return op <= OP_GE;
    if (field == F_FACILITY) return op == OP_EQ || op == OP_NE;
    if (field == F_MSG) return op == OP_RE || op == OP_NRE;
    return op == OP_EQ || op == OP_NE || op >= OP_LIKE;
}

/* Reads an operator; `!like` arrives as the tokens "!" and "like". Returns enum op or -1. */
static int parse_op(struct parser *ps) {
    static const char *const ops[] = {"==", "!=", "<", "<=", ">", ">=", NULL, NULL, "=~", "!~"};
    struct tok *t = &ps->t;
    if (tok_is_word(t, "like")) return OP_LIKE;
    if (t->kind != T_OP) return -1;
    if (t->len == 1 && t->p[0] == '!' && ps->s < ps->end && ps->end - ps->s >= 4 && memcmp(ps->s, "like", 4) == 0 &&
        (ps->end - ps->s == 4 || !is_word_char((unsigned char)ps->s[4]))) {
        lex_next(ps);
        return OP_NLIKE;
    }
    for (int i = 0; i < 10; i++)
        if (ops[i] != NULL && tok_is(t, T_OP, ops[i])) return i;
    return -1;
}

static uint32_t order_mask(int op, int v) {
    uint32_t below = (1u << v) - 1; /* values < v */
    switch (op) {
        case OP_LT:
            return below;
        case OP_LE:
            return below | (1u << v);
        case OP_GT:
            return 0xffu & ~(below | (1u << v));
        default:
            return 0xffu & ~below; /* OP_GE */
    }
}

/* severity / facility values: one value, or a comma list for == and != */
static int parse_num_values(struct parser *ps, struct cond *c) {
    int sev = c->field == F_SEVERITY;
    const char *what = sev ? "a severity (emerg, alert, crit, err, warning, notice, info, debug or 0-7)"
                           : "a facility (kern, user, mail, daemon, auth, syslog, lpr, news, uucp, cron, authpriv, "
                             "ftp, ntp, audit, alert, clock, local0-local7 or 0-23)";
    uint32_t all = sev ? 0xffu : 0xffffffu;
    uint32_t set = 0;
    for (;;) {
        int v = sev ? lookup_severity(&ps->t) : lookup_facility(&ps->t);
        if (v < 0) return perr(ps, what);
        if (c->op == OP_EQ || c->op == OP_NE)
            set |= 1u << v;
        else
            set = order_mask(c->op, v);
        lex_next(ps);
        if (ps->t.kind != T_COMMA || (c->op != OP_EQ && c->op != OP_NE)) break;
        lex_next(ps);
    }
    c->mask = c->op == OP_NE ? (all & ~set) : set;
    return 0;
}

static int add_value(struct cond *c, const struct tok *t) {
    char **nv = realloc(c->vals, (c->nvals + 1) * sizeof *nv);
    if (nv == NULL) return CTX_ENOMEM;
    c->vals = nv;
    if ((c->vals[c->nvals] = tok_dup(t)) == NULL) return CTX_ENOMEM;
    c->nvals++;
    return 0;
}

static int compile_regex(struct parser *ps, struct cond *c) {
    int ecode;
    PCRE2_SIZE eoff;
    char *pat = tok_dup(&ps->t);
    if (pat == NULL) return CTX_ENOMEM;
    c->re = pcre2_compile((PCRE2_SPTR)pat, PCRE2_ZERO_TERMINATED, 0, &ecode, &eoff, NULL);
    free(pat);
    if (c->re == NULL) {
        char emsg[160], what[256];
        pcre2_get_error_message(ecode, (PCRE2_UCHAR *)emsg, sizeof emsg);
        snprintf(what, sizeof what, "a regular expression that compiles (%s at offset %zu)", emsg, (size_t)eoff);
        return perr(ps, what);
    }
    (void)pcre2_jit_compile(c->re, PCRE2_JIT_COMPLETE); /* without JIT, pcre2_match interprets */
    ps->pol->has_regex = 1;
    lex_next(ps);
    return 0;
}

static int parse_str_values(struct parser *ps, struct cond *c) {
    if (ps->t.kind != T_WORD && ps->t.kind != T_STRING) return perr(ps, "a value (a word or a \"quoted string\")");
    if (c->op == OP_RE || c->op == OP_NRE) return compile_regex(ps, c);
    for (;;) {
        if (ps->t.kind != T_WORD && ps->t.kind != T_STRING) return perr(ps, "a value (a word or a \"quoted string\")");
        int rc = add_value(c, &ps->t);
        if (rc < 0) return rc;
        lex_next(ps);
        if (ps->t.kind != T_COMMA) return 0;
        lex_next(ps);
    }
}

static int parse_cond(struct parser *ps, struct cond *c) {
    int f;
    for (f = 0; field_names[f] != NULL; f++)
        if (tok_is_word(&ps->t, field_names[f])) break;
    if (field_names[f] == NULL) return perr(ps, "a field (severity, facility, tenant, vm, uuid, app, msg)");
    c->field = f;
    lex_next(ps);
    const char *opstart = ps->t.p;
    c->op = parse_op(ps);
    if (c->op < 0 || !op_allowed(f, c->op)) {
        if (c->op == OP_NLIKE) { /* show "!like", not "like" */
            ps->t.p = opstart;
            ps->t.len = 5;
        }
        return perr(ps, ops_expected(f));
    }
    lex_next(ps);
    if (f == F_SEVERITY || f == F_FACILITY) return parse_num_values(ps, c);
    return parse_str_values(ps, c);
}

static int parse_conds(struct parser *ps, struct rule *r) {
    for (;;) {
        struct cond *nc = realloc(r->conds, (r->nconds + 1) * sizeof *nc);
        if (nc == NULL) return CTX_ENOMEM;
        r->conds = nc;
        memset(&r->conds[r->nconds], 0, sizeof *nc);
        r->nconds++;
        int rc = parse_cond(ps, &r->conds[r->nconds - 1]);
        if (rc < 0) return rc;
        if (!tok_is_word(&ps->t, "and")) return 0;
        lex_next(ps);
    }
}

/* ------------------------------------------------------------------ actions */

static int valid_ident(const struct tok *t, size_t maxlen, int allow_punct) {
    if (t->kind != T_WORD || t->len == 0 || t->len > maxlen) return 0;
    for (size_t i = 0; i < t->len; i++) {
        char c = t->p[i];
        int ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
                 (allow_punct && ((c >= 'A' && c <= 'Z') || c == '-' || c == '.'));
        if (!ok) return 0;
    }
    return allow_punct || (t->p[0] >= 'a' && t->p[0] <= 'z');
}

static int parse_tag(struct parser *ps, struct rule *r) {
    lex_next(ps);
    if (!valid_ident(&ps->t, 63, 0)) return perr(ps, "a tag key (a-z, 0-9, '_', starting with a letter, at most 63)");
    for (size_t i = 0; i < r->ntags; i++)
        if (strlen(r->tags[i].key) == ps->t.len && memcmp(r->tags[i].key, ps->t.p, ps->t.len) == 0)
            return perr(ps, "a tag key not set before in this rule");
    ctx_policy_tag *nt = realloc(r->tags, (r->ntags + 1) * sizeof *nt);
    if (nt == NULL) return CTX_ENOMEM;
    r->tags = nt;
    ctx_policy_tag *tag = &r->tags[r->ntags];
    tag->value = NULL;
    if ((tag->key = tok_dup(&ps->t)) == NULL) return CTX_ENOMEM;
    r->ntags++;
    lex_next(ps);
    if (!tok_is(&ps->t, T_OP, "=")) return perr(ps, "\"=\" after the tag key");
    lex_next(ps);
    if ((ps->t.kind != T_WORD && ps->t.kind != T_STRING) || ps->t.len > 1024)
        return perr(ps, "a tag value (a word or a \"quoted string\", at most 1024 bytes)");
    if ((tag->value = tok_dup(&ps->t)) == NULL) return CTX_ENOMEM;
    lex_next(ps);
    return 0;
}

/* One action keyword; *nacts counts them so that drop can insist on being alone. */
static int parse_action(struct parser *ps, struct rule *r, int *nacts) {
    if (r->drop) return perr(ps, "nothing after drop (drop takes no other action)");
    for (int g = 0; g < 4; g++) {
        if (tok_is_word(&ps->t, group_names[g])) {
            r->groups |= group_levels[g];
            (*nacts)++;
            lex_next(ps);
            return 0;
        }
    }
    if (tok_is_word(&ps->t, "hostwide")) { /* verbose, plus the host-wide fields (never by default) */
        r->groups |= CTX_POLICY_LEVEL_VERBOSE | CTX_POLICY_G_HOSTWIDE;
    } else if (tok_is_word(&ps->t, "drop")) {
        if (*nacts > 0) return perr(ps, "no drop next to other actions (drop takes no other action)");
        r->drop = 1;
    } else if (tok_is_word(&ps->t, "continue")) {
        r->cont = 1;
    } else if (tok_is_word(&ps->t, "tag")) {
        (*nacts)++;
        return parse_tag(ps, r);
    } else {
        return perr(ps, "an action (minimal, standard, verbose, debug, hostwide, tag, drop, continue)");
    }
    (*nacts)++;
    lex_next(ps);
    return 0;
}

static int parse_actions(struct parser *ps, struct rule *r) {
    int nacts = 0;
    if (!tok_is_word(&ps->t, "then")) {
        return perr(ps, r->nconds > 0 ? "\"and\" or \"then\"" : "\"when\" or \"then\"");
    }
    lex_next(ps);
    do {
        int rc = parse_action(ps, r, &nacts);
        if (rc < 0) return rc;
    } while (ps->t.kind != T_EOL && ps->t.kind != T_EOF);
    return 0;
}

/* ------------------------------------------------------------------ rules */

void pol_free_rule(struct rule *r) {
    free(r->name);
    for (size_t i = 0; i < r->nconds; i++) {
        struct cond *c = &r->conds[i];
        for (size_t j = 0; j < c->nvals; j++) free(c->vals[j]);
        free(c->vals);
        pcre2_code_free(c->re);
    }
    free(r->conds);
    for (size_t i = 0; i < r->ntags; i++) {
        free((char *)r->tags[i].key);
        free((char *)r->tags[i].value);
    }
    free(r->tags);
}

static int parse_name(struct parser *ps, struct rule *r) {
    if (!valid_ident(&ps->t, 64, 1)) return perr(ps, "a rule name (letters, digits, '_', '-', '.', at most 64)");
    for (size_t i = 0; i < ps->pol->nrules; i++) {
        const struct rule *o = &ps->pol->rules[i];
        if (strlen(o->name) == ps->t.len && memcmp(o->name, ps->t.p, ps->t.len) == 0) {
            char what[96];
            snprintf(what, sizeof what, "a rule name not used before (line %d)", o->line);
            return perr(ps, what);
        }
    }
    if ((r->name = tok_dup(&ps->t)) == NULL) return CTX_ENOMEM;
    lex_next(ps);
    return 0;
}

static int parse_rule(struct parser *ps, struct rule *r) {
    r->line = ps->t.line;
    lex_next(ps);
    int rc = parse_name(ps, r);
    if (rc < 0) return rc;
    if (tok_is_word(&ps->t, "when")) {
        lex_next(ps);
        if ((rc = parse_conds(ps, r)) < 0) return rc;
    }
    return parse_actions(ps, r);
}

static int add_rule(struct parser *ps) {
    ctx_policy *p = ps->pol;
    if (p->nrules == CTX_POLICY_MAX_RULES) return perr(ps, "at most 10000 rules");
    if (p->nrules == p->cap) {
        struct rule *nr = ctx_grow(p->rules, &p->cap, sizeof *nr, 16);
        if (nr == NULL) return CTX_ENOMEM;
        p->rules = nr;
    }
    struct rule r;
    memset(&r, 0, sizeof r);
    int rc = parse_rule(ps, &r);
    if (rc < 0) {
        pol_free_rule(&r);
        return rc;
    }
    p->rules[p->nrules++] = r;
    return 0;
}

static int parse_all(struct parser *ps) {
    lex_next(ps);
    for (;;) {
        if (ps->t.kind == T_EOF) return 0;
        if (ps->t.kind == T_EOL) {
            lex_next(ps);
            continue;
        }
        if (!tok_is_word(&ps->t, "rule")) return perr(ps, "\"rule\" at the start of a line");
        int rc = add_rule(ps);
        if (rc < 0) return rc;
    }
}


/* ------------------------------------------------------------------ build */

int ctx_policy_parse(const char *text, size_t len, const char *fname, ctx_policy **out, char *err, size_t errlen) {
    if (err != NULL && errlen > 0) err[0] = '\0';
    if (out == NULL || (text == NULL && len > 0)) return CTX_EINVAL;
    *out = NULL;
    if (fname == NULL) fname = "(policy)";
    ctx_policy *p = pol_alloc(fname);
    if (p == NULL) return CTX_ENOMEM;
    struct parser ps = {
        .s = text, .end = text + len, .line = 1, .fname = fname, .err = err, .errlen = errlen, .pol = p};
    int rc = parse_all(&ps);
    if (rc < 0) {
        if (rc == CTX_ENOMEM && err != NULL && errlen > 0) snprintf(err, errlen, "%s: out of memory", fname);
        ctx_policy_free(p);
        return rc;
    }
    *out = p;
    return 0;
}

