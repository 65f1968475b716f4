/* policy.h: the mmctxenrich policy rulebase (which context a message carries, what is dropped).
 *
 * A rulebase is an ordered list of rules read from a line-oriented text file (format in
 * docs/policy.md). Each message is evaluated against the rules in order; the first rule that
 * matches decides, unless it says `continue`, in which case its groups and tags are kept and
 * evaluation goes on. A rule may drop the message. When no matching rule names a context
 * group, the built-in defaults decide by severity: err and worse -> verbose, debug -> debug,
 * everything else -> standard.
 *
 * Lifetime and threads: a compiled ctx_policy is immutable (only its counters change, with
 * atomic increments) and may be evaluated from any number of threads at once. A HUP builds a
 * new policy with ctx_policy_load() and swaps a pointer; ctx_policy_hold()/ctx_policy_free()
 * keep an old one alive while workers still use it. Each worker owns one ctx_policy_scratch
 * (regex match data), so that evaluation allocates nothing.
 */
#ifndef CTXLOG_POLICY_H
#define CTXLOG_POLICY_H

#include <stddef.h>
#include <stdint.h>

/* Context groups (bits of ctx_policy_result.groups). The rule keywords are cumulative:
 * `minimal` = MINIMAL, `standard` = MINIMAL|STANDARD, `verbose` = MINIMAL|STANDARD|VERBOSE,
 * `debug` = all four. Which $!ctx fields each bit implies is listed in docs/policy.md. */
#define CTX_POLICY_G_MINIMAL 0x1u  /* $!ctx!vm identity: name, uuid, tenant, user */
#define CTX_POLICY_G_STANDARD 0x2u /* + $!ctx!vm ip, mac, vnic; $!ctx!cm host_ip, guest_os, status, fetched_at */
#define CTX_POLICY_G_VERBOSE 0x4u  /* + $!ctx!host (the VM's own figures); $!ctx!cm dynamic part */
#define CTX_POLICY_G_DEBUG 0x8u    /* + $!ctx!vm!process {app, pid}; $!ctx!capture */
/* Host-wide fields (host CPU, memory, load, disks; the compute manager's host part): never
 * part of a level; only a rule's `hostwide` action (= verbose + this bit) attaches them, so a
 * tenant sees its neighbours' load only where the operator wrote so (docs/threat-model.md). */
#define CTX_POLICY_G_HOSTWIDE 0x10u
#define CTX_POLICY_LEVEL_MINIMAL (CTX_POLICY_G_MINIMAL)
#define CTX_POLICY_LEVEL_STANDARD (CTX_POLICY_LEVEL_MINIMAL | CTX_POLICY_G_STANDARD)
#define CTX_POLICY_LEVEL_VERBOSE (CTX_POLICY_LEVEL_STANDARD | CTX_POLICY_G_VERBOSE)
#define CTX_POLICY_LEVEL_DEBUG (CTX_POLICY_LEVEL_VERBOSE | CTX_POLICY_G_DEBUG)

#define CTX_POLICY_MAX_RULES 10000    /* rules per file */
#define CTX_POLICY_MAX_TAGS 32        /* tags in one result (more are ignored, first kept) */
#define CTX_POLICY_MAX_FILE (1 << 20) /* bytes per rulebase file */
#define CTX_POLICY_MATCH_LIMIT 100000 /* PCRE2 match limit per regex and message */

typedef struct ctx_policy ctx_policy;                 /* opaque, immutable once built */
typedef struct ctx_policy_scratch ctx_policy_scratch; /* opaque, one per worker thread */

/* What the matcher looks at. All pointers are borrowed for the duration of the call; a NULL
 * string is treated as "" (so `tenant == ""` matches a message without tenant). */
typedef struct ctx_policy_msg {
    int severity;        /* 0 (emerg) .. 7 (debug); out of range never matches a severity test */
    int facility;        /* 0 .. 23; out of range never matches a facility test */
    const char *tenant;  /* NUL-terminated or NULL */
    const char *vm_name; /* NUL-terminated or NULL */
    const char *vm_uuid; /* NUL-terminated or NULL; compared case-insensitively */
    const char *app;     /* syslog APP-NAME / TAG without pid, NUL-terminated or NULL */
    const char *msg;     /* message text, need not be NUL-terminated; NULL = "" */
    size_t msglen;       /* bytes of msg */
} ctx_policy_msg;

/* A static field a rule adds (`tag key=value`), to be written as $!ctx!tags!<key> = "<value>".
 * Both strings belong to the policy and stay valid as long as the policy is held. */
typedef struct ctx_policy_tag {
    const char *key;
    const char *value;
} ctx_policy_tag;

typedef struct ctx_policy_result {
    unsigned groups;   /* CTX_POLICY_G_* bits to attach; 0 when dropped */
    int drop;          /* 1: discard the message */
    int rule;          /* index of the rule that ended evaluation (a non-continue match or a
                        * drop), -1 when evaluation fell through all rules */
    int defaulted;     /* 1: no matching rule named a group; groups come from the defaults */
    unsigned nmatched; /* rules that matched (continue rules included) */
    size_t ntags;      /* tags to add, in rule order; a key set by an earlier rule is kept */
    ctx_policy_tag tags[CTX_POLICY_MAX_TAGS];
} ctx_policy_result;

/* Parse and compile a rulebase file. On success *out is a new policy (refcount 1) and 0 is
 * returned. On error *out is NULL, err holds ONE line "<path>:<line>: <what was expected>, got
 * "<token>"" (or "<path>: <strerror>" for I/O) and CTX_EPARSE / CTX_EIO / CTX_ENOMEM is returned.
 * Thread-safe (touches no shared state). */
int ctx_policy_load(const char *path, ctx_policy **out, char *err, size_t errlen);

/* The same from memory: text need not be NUL-terminated; fname (borrowed) names the source in
 * error messages. */
int ctx_policy_parse(const char *text, size_t len, const char *fname, ctx_policy **out, char *err, size_t errlen);

/* The built-in rulebase used without a file: three rules named "default-err" (severity <= err
 * -> verbose), "default-debug" (severity == debug -> debug), "default-rest" (-> standard).
 * Returns 0 or CTX_ENOMEM. */
int ctx_policy_default(ctx_policy **out);

/* Reference counting for HUP swaps: hold() adds a reference and returns p; free() drops one and
 * releases the policy with the last. Both are atomic; ctx_policy_free(NULL) is a no-op. */
ctx_policy *ctx_policy_hold(ctx_policy *p);
void ctx_policy_free(ctx_policy *p);

/* Per-thread scratch: regex match data and limits, independent of any policy (it survives a
 * reload). Returns NULL on allocation failure. Never share one scratch between threads. */
ctx_policy_scratch *ctx_policy_scratch_new(void);
void ctx_policy_scratch_free(ctx_policy_scratch *s);

/* Evaluate message m. s may be NULL (then match data is allocated and freed in the call).
 * Fills *r completely and returns 0; CTX_EINVAL if p, m or r is NULL; CTX_ENOMEM if s is NULL and
 * allocation fails (then *r holds the defaults for m's severity). Never allocates when s is
 * given. Thread-safe: counters are updated atomically. A regex that fails to run (match limit,
 * ...) counts in ctx_policy_regex_errors() and its condition is false. */
int ctx_policy_eval(const ctx_policy *p, const ctx_policy_msg *m, ctx_policy_scratch *s, ctx_policy_result *r);

/* Groups the built-in defaults give a message of this severity. */
unsigned ctx_policy_default_groups(int severity);

/* Enumeration, for one impstats counter per rule. i must be < ctx_policy_nrules(p). */
size_t ctx_policy_nrules(const ctx_policy *p);
const char *ctx_policy_rule_name(const ctx_policy *p, size_t i); /* borrowed from p */
int ctx_policy_rule_line(const ctx_policy *p, size_t i);         /* 1-based line in the file, 0 for defaults */
const char *ctx_policy_source(const ctx_policy *p);              /* file name given at load, "(built-in)" */

/* Counters. *_value() read atomically. The pointers address plain uint64_t cells that are only
 * ever incremented with atomic builtins: they can be handed to rsyslog's statsobj AddCounter
 * (ctrType_IntCtr) and stay valid until the last reference to p is freed. */
uint64_t ctx_policy_rule_hits(const ctx_policy *p, size_t i); /* matches of rule i */
uint64_t ctx_policy_drops(const ctx_policy *p);               /* messages dropped */
uint64_t ctx_policy_defaulted(const ctx_policy *p);           /* results decided by the defaults */
uint64_t ctx_policy_regex_errors(const ctx_policy *p);        /* regex runs that failed */
uint64_t *ctx_policy_rule_hits_ctr(ctx_policy *p, size_t i);
uint64_t *ctx_policy_drops_ctr(ctx_policy *p);
uint64_t *ctx_policy_defaulted_ctr(ctx_policy *p);
uint64_t *ctx_policy_regex_errors_ctr(ctx_policy *p);

/* After a reload: copy the hit counts of rules with the same name, and the drop / default /
 * regex-error counts, from old into fresh, so counters do not restart. Call before fresh is
 * published (not thread-safe on fresh). Either may be NULL (no-op). */
void ctx_policy_carry_counters(ctx_policy *fresh, const ctx_policy *old);

/* Names: "minimal", "standard", "verbose", "debug", "hostwide" for one G_* bit; NULL otherwise. */
const char *ctx_policy_group_name(unsigned bit);

#endif
