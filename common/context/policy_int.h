/* policy_int.h: what policy.c (building, loading, evaluating, counters) and policy_parse.c
 * (the rulebase language: names, lexer, errors, conditions, actions, rules) share.
 * Internal: use policy.h. */
#ifndef CTXLOG_POLICY_INT_H
#define CTXLOG_POLICY_INT_H

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "policy.h"

enum field { F_SEVERITY, F_FACILITY, F_TENANT, F_VM, F_UUID, F_APP, F_MSG };
enum op { OP_EQ, OP_NE, OP_LT, OP_LE, OP_GT, OP_GE, OP_LIKE, OP_NLIKE, OP_RE, OP_NRE };

/* One test of a rule. Severity and facility tests are compiled to a bit set of accepted values;
 * string tests keep their value list (==, !=, like, !like) or one compiled regex (=~, !~). */
struct cond {
    int field;     /* enum field */
    int op;        /* enum op */
    uint32_t mask; /* F_SEVERITY / F_FACILITY: bit n set = value n matches */
    char **vals;   /* string values (owned), nvals of them */
    size_t nvals;
    pcre2_code *re; /* OP_RE / OP_NRE (owned) */
};

struct rule {
    char *name;         /* owned, unique within the policy */
    int line;           /* line of the `rule` keyword; 0 for built-in rules */
    struct cond *conds; /* all must hold (AND); none = always */
    size_t nconds;
    unsigned groups;      /* CTX_POLICY_G_* */
    int drop;             /* final: discard */
    int cont;             /* continue after a match */
    ctx_policy_tag *tags; /* keys and values owned */
    size_t ntags;
    uint64_t hits; /* atomic */
};

struct counters {
    uint64_t drops;
    uint64_t defaulted;
    uint64_t regex_errors;
};

struct ctx_policy {
    struct rule *rules; /* read-only after build, except rules[i].hits */
    size_t nrules;
    size_t cap;
    char *source;         /* owned */
    int has_regex;        /* some condition needs match data */
    struct counters *ctr; /* separate so a const policy can count */
    int refs;             /* atomic */
};

struct ctx_policy_scratch {
    pcre2_match_data *md;
    pcre2_match_context *mctx;
};

/* policy.c: an empty policy with one reference, named fname (copied); NULL: out of memory */
ctx_policy *pol_alloc(const char *fname);
/* policy_parse.c: frees what a rule owns, not the rule itself */
void pol_free_rule(struct rule *r);

#endif
